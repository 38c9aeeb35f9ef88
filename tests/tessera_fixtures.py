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


def reference_env(argv, env):
    """G_DEBUG=fatal-warnings is for Tessera's programs.  A reference tool
    that loads every registered module (certtool, p11tool) would die of a
    module's GLib CRITICAL, such as tpm2-pkcs11's when no TPM answers."""
    if env is None or "G_DEBUG" not in env or os.path.basename(argv[0]).startswith("tessera"):
        return env
    env = dict(env)
    del env["G_DEBUG"]
    return env


def run(argv, env, check_ok=True, timeout=120):
    proc = subprocess.run(argv, env=reference_env(argv, env), capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=timeout)
    if check_ok and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr}")
    return proc


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def agent_allowlist_args():
    """ssh-agent's -P for the list Tessera is told in TESSERA_AGENT_ALLOWLIST:
    the default one plus the build's one-token providers."""
    allowlist = os.environ.get("TESSERA_AGENT_ALLOWLIST")
    return ["-P", allowlist] if allowlist else []


class Agent:
    def __init__(self, tmp, env):
        self.sock = os.path.join(tmp, "agent.sock")
        self.proc = subprocess.Popen(["ssh-agent", "-D", *agent_allowlist_args(), "-a", self.sock], env=env,
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


TPM2_PKCS11 = "/usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so"


class Tpm:
    """A software TPM 2.0 with tokens of its own: swtpm, tpm2-abrmd on a
    private D-Bus, and tpm2-pkcs11 with its store in tmp.  self.env holds
    what the module, the tools and an ssh-agent that loads the module need.
    Every token shares the serial 0000000000000000, as on a real TPM."""

    def __init__(self, tmp, tokens=(("tpmA", "111111"), ("tpmB", "222222")), own_bus=True):
        """own_bus=False puts tpm2-abrmd on the session bus already in the
        environment (one that also runs gnome-keyring, say)."""
        self.dir = os.path.join(tmp, "tpm")
        os.makedirs(os.path.join(self.dir, "state"))
        os.makedirs(os.path.join(self.dir, "store"))
        self.procs = []
        # the swtpm TCTI finds the control channel on the next port
        port = free_port_pair()
        ctrl = port + 1
        env = dict(os.environ, HOME=tmp)
        env.pop("SSH_AUTH_SOCK", None)
        self.procs.append(subprocess.Popen(
            ["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={self.dir}/state",
             "--server", f"type=tcp,port={port}", "--ctrl", f"type=tcp,port={ctrl}",
             "--flags", "not-need-init,startup-clear"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        if own_bus:
            bus = os.path.join(self.dir, "bus")
            self.procs.append(subprocess.Popen(
                ["dbus-daemon", "--session", "--nofork", f"--address=unix:path={bus}"],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            _wait_for(lambda: os.path.exists(bus), "D-Bus")
            env["DBUS_SESSION_BUS_ADDRESS"] = f"unix:path={bus}"
        _wait_for(lambda: _port_open(port), "swtpm")
        env.update(TPM2_PKCS11_TCTI="tabrmd:bus_type=session",
                   TPM2TOOLS_TCTI="tabrmd:bus_type=session",
                   TPM2_PKCS11_STORE=os.path.join(self.dir, "store"))
        self.procs.append(subprocess.Popen(
            ["tpm2-abrmd", "--session", "--allow-root", f"--tcti=swtpm:host=127.0.0.1,port={port}",
             "--flush-all"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        self.env = env
        _wait_for(lambda: subprocess.run(["tpm2_getcap", "properties-variable"], env=env,
                                         capture_output=True).returncode == 0, "tpm2-abrmd")
        run(["tpm2_ptool", "init"], env)
        for label, pin in tokens:
            run(["tpm2_ptool", "addtoken", "--pid=1", f"--label={label}", f"--userpin={pin}",
                 "--sopin=87654321"], env)

    def lockout_counter(self):
        """How many failed authorisations the TPM has counted."""
        out = run(["tpm2_getcap", "properties-variable"], self.env).stdout
        return int(re.search(r"TPM2_PT_LOCKOUT_COUNTER:\s*(0x[0-9a-fA-F]+|\d+)", out).group(1), 0)

    def stop(self):
        for proc in reversed(self.procs):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def free_port_pair():
    """A free port whose successor is free too."""
    for _ in range(100):
        port = free_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                continue
    raise RuntimeError("no two free ports in a row")


def _port_open(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait_for(ready, what, seconds=20):
    for _ in range(seconds * 20):
        if ready():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start within {seconds} s")
