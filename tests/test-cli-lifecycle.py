#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# tessera-cli init, set-pin and unblock on SoftHSM, each step checked with
# pkcs11-tool: the new PIN logs in, the old one no longer does.

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

CLI = os.environ["TESSERA_CLI"]
SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"
SPY = "/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so"

results = []


def check(name, condition, detail=""):
    results.append((name, bool(condition), detail))


def run(argv, env, check_ok=True):
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          start_new_session=True)
    if check_ok and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr}")
    return proc


def pin_file(tmp, name, pin):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(pin + "\n")
    return path


def logs_in(env, label, pin, so=False):
    args = ["--login", "--login-type", "so", "--so-pin", pin, "--init-pin", "--pin", "2468"] if so else \
        ["--login", "--pin", pin, "-O"]
    return run(["pkcs11-tool", "--module", SOFTHSM, "--token-label", label, *args], env,
               check_ok=False).returncode == 0


def main():
    tmp = tempfile.mkdtemp(prefix="tessera-cli-lifecycle-")
    try:
        os.makedirs(os.path.join(tmp, "tokens"))
        conf = os.path.join(tmp, "softhsm2.conf")
        with open(conf, "w") as f:
            f.write(f"directories.tokendir = {tmp}/tokens\n")
        env = dict(os.environ, SOFTHSM2_CONF=conf)

        tokens = json.loads(run([CLI, "tokens", "--module", SOFTHSM, "--json"], env).stdout)
        blank = tokens["modules"][0]["tokens"][0]
        check("a blank token is listed as not initialized", "not-initialized" in blank["states"], blank)

        so = pin_file(tmp, "so", "87654321")
        user = pin_file(tmp, "user", "1234")
        short = pin_file(tmp, "short", "12")

        log = os.path.join(tmp, "spy.log")
        spy_env = dict(env, PKCS11SPY=SOFTHSM, PKCS11SPY_OUTPUT=log)
        proc = run([CLI, "init", "--module", SPY, blank["uri"], "--label", "Fresh", "--so-pin-file", so,
                    "--new-pin-file", short], spy_env, check_ok=False)
        with open(log) as f:
            calls = [line.split()[1] for line in f if re.match(r"^[0-9]+: C_", line)]
        check("a too-short PIN is refused before any call that changes the token",
              proc.returncode != 0 and "Nothing was sent" in proc.stderr and
              not {"C_InitToken", "C_InitPIN", "C_SetPIN", "C_Login"} & set(calls), (proc.stderr, calls))

        proc = run([CLI, "init", "--module", SOFTHSM, blank["uri"], "--label", "Fresh", "--so-pin-file", so,
                    "--new-pin-file", user], env, check_ok=False)
        check("init a blank token prints its new URI",
              proc.returncode == 0 and "token=Fresh" in proc.stdout, proc.stdout + proc.stderr)
        check("pkcs11-tool logs in with the new user PIN", logs_in(env, "Fresh", "1234"))
        check("... and not with another", not logs_in(env, "Fresh", "9999"))

        new_user = pin_file(tmp, "new-user", "222222")
        proc = run([CLI, "set-pin", "--module", SOFTHSM, "pkcs11:token=Fresh", "--pin-file", user,
                    "--new-pin-file", new_user], env, check_ok=False)
        check("set-pin changes the user PIN",
              proc.returncode == 0 and logs_in(env, "Fresh", "222222") and not logs_in(env, "Fresh", "1234"),
              proc.stderr)

        proc = run([CLI, "set-pin", "--module", SOFTHSM, "pkcs11:token=Fresh", "--pin-file", user,
                    "--new-pin-file", new_user], env, check_ok=False)
        check("set-pin with a wrong old PIN: exit 5, Wrong PIN",
              proc.returncode == 5 and "Wrong PIN" in proc.stderr, (proc.returncode, proc.stderr))

        new_so = pin_file(tmp, "new-so", "11112222")
        proc = run([CLI, "set-pin", "--module", SOFTHSM, "pkcs11:token=Fresh", "--so", "--so-pin-file", so,
                    "--new-pin-file", new_so], env, check_ok=False)
        check("set-pin --so changes the SO PIN",
              proc.returncode == 0 and logs_in(env, "Fresh", "11112222", so=True) and
              not logs_in(env, "Fresh", "87654321", so=True), proc.stderr)

        unblocked = pin_file(tmp, "unblocked", "333333")
        proc = run([CLI, "unblock", "--module", SOFTHSM, "pkcs11:token=Fresh", "--so-pin-file", new_so,
                    "--new-pin-file", unblocked], env, check_ok=False)
        check("unblock sets a new user PIN with the SO PIN",
              proc.returncode == 0 and logs_in(env, "Fresh", "333333"), proc.stderr)

        # A token that holds keys: nothing without a yes, everything named.
        run(["pkcs11-tool", "--module", SOFTHSM, "--token-label", "Fresh", "--login", "--pin", "333333",
             "--keypairgen", "--key-type", "EC:prime256v1", "--id", "01", "--label", "precious key"], env)
        proc = run([CLI, "init", "--module", SOFTHSM, "pkcs11:token=Fresh", "--label", "Again",
                    "--so-pin-file", new_so, "--new-pin-file", user], env, check_ok=False)
        check("init without a yes changes nothing, and names what would be lost",
              proc.returncode != 0 and "precious key" in proc.stderr and "--yes" in proc.stderr and
              logs_in(env, "Fresh", "333333"), proc.stderr)
        proc = run([CLI, "init", "--module", SOFTHSM, "pkcs11:token=Fresh", "--label", "Again",
                    "--so-pin-file", new_so, "--new-pin-file", user, "--yes"], env, check_ok=False)
        objects = run(["pkcs11-tool", "--module", SOFTHSM, "--token-label", "Again", "--login", "--pin", "1234",
                       "-O"], env, check_ok=False)
        check("init --yes erases the token's keys",
              proc.returncode == 0 and objects.returncode == 0 and "precious" not in objects.stdout,
              proc.stderr + objects.stdout)
        # Create Software Token, with a private HOME and no SOFTHSM2_CONF
        home = os.path.join(tmp, "home")
        os.makedirs(home)
        henv = dict(os.environ, HOME=home)
        for var in ("SOFTHSM2_CONF", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
            henv.pop(var, None)
        config = os.path.join(home, ".config", "softhsm2", "softhsm2.conf")
        proc = run([CLI, "create-software-token", "--label", "Mine", "--so-pin-file", so,
                    "--new-pin-file", user], henv, check_ok=False)
        check("create-software-token writes the user's SoftHSM config when it is missing",
              proc.returncode == 0 and "token=Mine" in proc.stdout and os.path.exists(config),
              proc.stdout + proc.stderr)
        with open(config) as f:
            first = f.read()
        check("its tokens live in the user's data directory",
              os.path.join(home, ".local", "share", "softhsm2", "tokens") in first, first)
        stat = os.stat(config)
        slots = run(["softhsm2-util", "--show-slots"], henv).stdout
        check("softhsm2-util --show-slots shows the token", re.search(r"Label:\s+Mine", slots), slots)

        with open(config, "a") as f:
            f.write("# a line of the user's own\n")
        proc = run([CLI, "create-software-token", "--label", "Second", "--so-pin-file", so,
                    "--new-pin-file", user], henv, check_ok=False)
        with open(config) as f:
            second = f.read()
        slots = run(["softhsm2-util", "--show-slots"], henv).stdout
        check("a second run keeps the existing config as it is",
              proc.returncode == 0 and second == first + "# a line of the user's own\n" and
              os.stat(config).st_ino == stat.st_ino, second)
        check("... and both tokens are there",
              re.search(r"Label:\s+Mine", slots) and re.search(r"Label:\s+Second", slots), slots)
        check("the new token takes its user PIN",
              run(["pkcs11-tool", "--module", SOFTHSM, "--token-label", "Second", "--login", "--pin", "1234",
                   "-O"], henv, check_ok=False).returncode == 0)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"1..{len(results)}")
    failed = 0
    for i, (name, ok, detail) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {name}")
        if not ok:
            failed += 1
            for line in str(detail).splitlines():
                print(f"# {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
