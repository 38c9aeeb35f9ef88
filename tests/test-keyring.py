#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Remembered PINs against a real Secret Service: gnome-keyring in its own
# D-Bus session. A PIN is stored only when asked, under the token's
# identity; a remembered PIN the token refuses costs exactly one login
# (counted with pkcs11-spy) and is forgotten.

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tessera_fixtures import TPM2_PKCS11, Tpm, agent_allowlist_args, reference_env  # noqa: E402

CLI = os.environ["TESSERA_CLI"]
SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"
SPY = "/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so"

results = []


def check(name, condition, detail=""):
    results.append((name, condition, detail))


def run(argv, env, check_ok=True, input=None):
    proc = subprocess.run(argv, env=reference_env(argv, env), capture_output=True, text=True, input=input,
                          stdin=None if input is not None else subprocess.DEVNULL, timeout=120)
    if check_ok and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr}")
    return proc


def inner(tmp):
    env = dict(os.environ)
    # In the foreground, so that it is ours to stop. The password must not
    # be empty, or the keyring asks through a prompter that cannot run here.
    keyring = subprocess.Popen(["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
                               env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    keyring.stdin.write(b"testpass")
    keyring.stdin.close()
    time.sleep(0.5)

    os.makedirs(os.path.join(tmp, "tokens"))
    conf = os.path.join(tmp, "softhsm2.conf")
    with open(conf, "w") as f:
        f.write(f"directories.tokendir = {tmp}/tokens\n")
    env["SOFTHSM2_CONF"] = conf
    run(["softhsm2-util", "--init-token", "--free", "--label", "Keyring", "--so-pin", "12345678",
         "--pin", "123456"], env)
    run(["pkcs11-tool", "--module", SOFTHSM, "--token-label", "Keyring", "--login", "--pin", "123456",
         "--keypairgen", "--key-type", "EC:prime256v1", "--id", "01", "--label", "key"], env)
    serial = [t for m in __import__("json").loads(run([CLI, "tokens", "--module", SOFTHSM, "--json"], env).stdout)["modules"]
              for t in m["tokens"] if t["label"] == "Keyring"][0]["serial"]
    lookup = ["secret-tool", "lookup", "manufacturer", "SoftHSM project", "model", "SoftHSM v2", "serial", serial]

    pin_file = os.path.join(tmp, "pin")
    with open(pin_file, "w") as f:
        f.write("123456\n")
    spy_log = os.path.join(tmp, "spy.log")
    agent_sock = os.path.join(tmp, "agent.sock")
    env.update(PKCS11SPY=SOFTHSM, PKCS11SPY_OUTPUT=spy_log)
    agent = subprocess.Popen(["ssh-agent", "-D", *agent_allowlist_args(), "-a", agent_sock], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env["SSH_AUTH_SOCK"] = agent_sock
    try:
        for _ in range(100):
            if os.path.exists(agent_sock):
                break
            time.sleep(0.05)

        proc = run([CLI, "agent", "add", "--module", SPY, "pkcs11:token=Keyring", "--pin-file", pin_file], env,
                   check_ok=False)
        check("without --remember-pin nothing is stored",
              proc.returncode == 0 and run(lookup, env, check_ok=False).stdout == "", proc.stderr)

        proc = run([CLI, "agent", "add", "--module", SPY, "pkcs11:token=Keyring", "--pin-file", pin_file,
                    "--remember-pin"], env, check_ok=False)
        check("--remember-pin stores the PIN under the token's identity",
              proc.returncode == 0 and run(lookup, env, check_ok=False).stdout == "123456", proc.stderr)
        found = run(["secret-tool", "search", "--all", "serial", serial], env, check_ok=False)
        attributes = found.stdout + found.stderr  # secret-tool prints attributes on stderr
        check("the PIN is the secret, never an attribute",
              "attribute.serial = " + serial in attributes and
              not re.search(r"attribute\.\w+ = 123456", attributes), attributes)
        # A TPM gives all its tokens one serial: the label is part of the
        # identity, so another token with this serial finds no PIN.
        check("the token's label is part of its identity in the keyring",
              "attribute.label = Keyring" in attributes and
              run(lookup + ["label", "Other"], env, check_ok=False).stdout == "", attributes)

        proc = run([CLI, "agent", "add", "--module", SPY, "pkcs11:token=Keyring"], env, check_ok=False)
        check("a remembered PIN is used when no PIN is given",
              proc.returncode == 0 and "remembered" in proc.stderr, proc.stderr)

        # The PIN changes behind Tessera's back: the remembered one is wrong.
        run(["pkcs11-tool", "--module", SOFTHSM, "--token-label", "Keyring", "--login", "--pin", "123456",
             "--change-pin", "--new-pin", "654321"], dict(env, PKCS11SPY_OUTPUT="/dev/null"))
        if os.path.exists(spy_log):
            os.unlink(spy_log)
        proc = run([CLI, "agent", "add", "--module", SPY, "pkcs11:token=Keyring"], env, check_ok=False)
        with open(spy_log) as f:
            log = f.read()
        logins = re.findall(r"^[0-9]+: C_Login\n(?:.*\n)*?Returned:\s+\d+ (\w+)", log, re.M)
        check("a wrong remembered PIN costs exactly one failed login",
              logins == ["CKR_PIN_INCORRECT"], logins)
        check("a wrong remembered PIN is forgotten, and the user is asked",
              proc.returncode != 0 and "forgot" in proc.stderr and "--pin-file" in proc.stderr and
              run(lookup, env, check_ok=False).stdout == "", proc.stderr)
    finally:
        agent.terminate()
        agent.wait()

    try:
        tpm_tokens(tmp, env)
    finally:
        keyring.terminate()
        keyring.wait()


def tpm_tokens(tmp, env):
    """Two tokens of one TPM share the serial 0000000000000000: tpmA's
    remembered PIN is never tried on tpmB, and still works for tpmA."""
    tpm_dir = os.path.join(tmp, "tpm-home")
    os.makedirs(tpm_dir)
    tpm = Tpm(tpm_dir, own_bus=False)
    env = dict(tpm.env, HOME=env["HOME"])
    pin_a = os.path.join(tmp, "pin-a")
    with open(pin_a, "w") as f:
        f.write("111111\n")
    pin_b = os.path.join(tmp, "pin-b")
    with open(pin_b, "w") as f:
        f.write("222222\n")
    agent_sock = os.path.join(tmp, "tpm-agent.sock")
    agent = None
    try:
        for token, pin in (("tpmA", pin_a), ("tpmB", pin_b)):
            run([CLI, "generate", "--module", TPM2_PKCS11, f"pkcs11:token={token}", "--pin-file", pin,
                 "--type", "ec:p256"], env)
        agent = subprocess.Popen(["ssh-agent", "-D", *agent_allowlist_args(), "-a", agent_sock], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env["SSH_AUTH_SOCK"] = agent_sock
        for _ in range(100):
            if os.path.exists(agent_sock):
                break
            time.sleep(0.05)

        proc = run([CLI, "agent", "add", "--module", TPM2_PKCS11, "pkcs11:token=tpmA", "--pin-file", pin_a,
                    "--remember-pin"], env, check_ok=False)
        check("TPM: tpmA added, its PIN remembered", proc.returncode == 0, proc.stderr)
        proc = run([CLI, "agent", "add", "--module", TPM2_PKCS11, "pkcs11:token=tpmB"], env, check_ok=False)
        check("TPM: tpmB, with the same serial, finds no remembered PIN and asks for one",
              proc.returncode != 0 and "--pin-file" in proc.stderr and "remembered" not in proc.stderr,
              proc.stderr)
        check("TPM: tpmA's PIN was never tried on tpmB: the lockout counter is 0", tpm.lockout_counter() == 0,
              tpm.lockout_counter())
        proc = run([CLI, "agent", "add", "--module", TPM2_PKCS11, "pkcs11:token=tpmA"], env, check_ok=False)
        check("TPM: tpmA's remembered PIN still works for tpmA",
              proc.returncode == 0 and "remembered" in proc.stderr and tpm.lockout_counter() == 0, proc.stderr)
    finally:
        if agent is not None:
            agent.terminate()
            agent.wait()
        tpm.stop()


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--inner":
        tmp = sys.argv[2]
        try:
            inner(tmp)
        except Exception as e:
            check("ran without error", False, repr(e))
        print(f"1..{len(results)}")
        failed = 0
        for i, (name, ok, detail) in enumerate(results, 1):
            print(f"{'ok' if ok else 'not ok'} {i} - {name}")
            if not ok:
                failed += 1
                for line in str(detail).splitlines():
                    print(f"# {line}")
        return 1 if failed else 0

    # A private home and runtime directory, and a D-Bus session of our own.
    tmp = tempfile.mkdtemp(prefix="tessera-keyring-test-")
    try:
        home = os.path.join(tmp, "home")
        runtime = os.path.join(tmp, "runtime")
        os.makedirs(os.path.join(home, ".cache"))
        os.makedirs(runtime, mode=0o700)
        env = dict(os.environ, HOME=home, XDG_RUNTIME_DIR=runtime,
                   XDG_DATA_HOME=os.path.join(home, ".local", "share"))
        for var in ("DBUS_SESSION_BUS_ADDRESS", "SSH_AUTH_SOCK", "GNOME_KEYRING_CONTROL"):
            env.pop(var, None)
        proc = subprocess.run(["dbus-run-session", "--", sys.executable, __file__, "--inner", tmp],
                              env=env, capture_output=True, text=True, timeout=300)
        sys.stdout.write(proc.stdout)
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr)
        return proc.returncode
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
