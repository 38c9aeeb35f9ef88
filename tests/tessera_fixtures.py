# tessera_fixtures.py: what the Python tests share
#
# TAP results, running programs, and the real components the end-to-end
# tests stand up: a SoftHSM token of their own, ssh-agent, and sshd on
# 127.0.0.1.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"
OPENCRYPTOKI = "/usr/lib/x86_64-linux-gnu/pkcs11/libopencryptoki.so"

results = []


def check(name, condition, detail=""):
    """Records a TAP result; returns whether it passed."""
    results.append((name, "ok" if condition else "not ok", detail))
    return bool(condition)


def skip(name, why):
    results.append((name, "skip", why))


def run(argv, env, check_ok=True, timeout=120):
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=timeout)
    if check_ok and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr}")
    return proc


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Agent:
    def __init__(self, tmp, env):
        self.sock = os.path.join(tmp, "agent.sock")
        self.proc = subprocess.Popen(["ssh-agent", "-D", "-a", self.sock], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if os.path.exists(self.sock):
                break
            time.sleep(0.05)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


class Sshd:
    def __init__(self, tmp, env, authorized_keys):
        self.dir = os.path.join(tmp, "sshd")
        os.makedirs(self.dir)
        self.port = free_port()
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(self.dir, "host_key")], env)
        with open(os.path.join(self.dir, "authorized_keys"), "w") as f:
            f.write(authorized_keys)
        config = os.path.join(self.dir, "sshd_config")
        with open(config, "w") as f:
            f.write(f"""Port {self.port}
ListenAddress 127.0.0.1
HostKey {self.dir}/host_key
AuthorizedKeysFile {self.dir}/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PidFile {self.dir}/sshd.pid
""")
        os.makedirs("/run/sshd", exist_ok=True)
        run(["/usr/sbin/sshd", "-f", config, "-E", os.path.join(self.dir, "sshd.log")], env)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)

    def login(self, env):
        return run(["ssh", "-p", str(self.port), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                    "-o", "UserKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=no",
                    "-o", "IdentityFile=/dev/null", "-o", "LogLevel=ERROR",
                    "127.0.0.1", "true"], env, check_ok=False, timeout=60).returncode

    def stop(self):
        try:
            with open(os.path.join(self.dir, "sshd.pid")) as f:
                os.kill(int(f.read()), signal.SIGTERM)
        except (OSError, ValueError):
            pass


def softhsm_token(tmp, label, pin="123456"):
    os.makedirs(os.path.join(tmp, "tokens"))
    conf = os.path.join(tmp, "softhsm2.conf")
    with open(conf, "w") as f:
        f.write(f"directories.tokendir = {tmp}/tokens\n")
    env = dict(os.environ, SOFTHSM2_CONF=conf, HOME=tmp)
    env.pop("SSH_AUTH_SOCK", None)
    run(["softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", "12345678",
         "--pin", pin], env)
    return env


def pkcs11_tool(env, module, token_args, pin, *args, check_ok=True):
    return run(["pkcs11-tool", "--module", module, *token_args, "--login", "--pin", pin, *args], env,
               check_ok=check_ok)


def list_objects(env, module, token_args, pin):
    """(class, label, id) of every object, as pkcs11-tool sees them."""
    listing = pkcs11_tool(env, module, token_args, pin, "-O").stdout
    objects = []
    for block in re.split(r"\n(?=\S)", listing):
        kind = block.split(";")[0].split(" Object")[0].strip()
        if "Object" not in block.split("\n")[0]:
            continue
        label = re.search(r"label:\s+(.*)", block)
        key_id = re.search(r"ID:\s+([0-9a-f]+)", block)
        objects.append((kind, label.group(1) if label else "", key_id.group(1) if key_id else ""))
    return sorted(objects)


def report():
    """Prints the TAP plan and results; returns the exit status."""
    print(f"1..{len(results)}")
    failed = 0
    for i, (name, status, detail) in enumerate(results, 1):
        if status == "skip":
            print(f"ok {i} - {name} # SKIP {detail}")
        else:
            print(f"{status} {i} - {name}")
            if status != "ok":
                failed += 1
                for line in str(detail).splitlines():
                    print(f"# {line}")
    return 1 if failed else 0


def run_cases(cases, prefix):
    """Runs each case in a fresh temporary directory, reports, and returns
    the exit status.  A case that raises is one failed result."""
    for case in cases:
        tmp = tempfile.mkdtemp(prefix=prefix)
        try:
            case(tmp)
        except Exception as e:
            check(f"{case.__name__}: ran without error", False, repr(e))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return report()
