#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# `ssh -V` runs only when a verdict needs OpenSSH's version (an Ed25519
# key), once, and is then cached per ssh binary (path, size, mtime).  The
# real ssh is behind a wrapper that counts its runs, as pkcs11-spy counts
# calls.

import os
import shutil

from tessera_fixtures import SOFTHSM, check, run, run_cases, softhsm_token

CLI = os.environ["TESSERA_CLI"]


def counting_ssh(tmp, env):
    """A directory with an `ssh` that logs each run and execs the real one."""
    real = shutil.which("ssh")
    bindir = os.path.join(tmp, "bin")
    os.makedirs(bindir)
    log = os.path.join(tmp, "ssh-runs.log")
    wrapper = os.path.join(bindir, "ssh")
    with open(wrapper, "w") as f:
        f.write(f"#!/bin/sh\necho \"$*\" >> '{log}'\nexec '{real}' \"$@\"\n")
    os.chmod(wrapper, 0o755)
    env = dict(env, PATH=bindir + os.pathsep + env.get("PATH", "/usr/bin:/bin"),
               XDG_CACHE_HOME=os.path.join(tmp, "cache"))
    env.pop("TESSERA_OPENSSH_VERSION", None)
    return env, log, wrapper


def runs(log):
    if not os.path.exists(log):
        return 0
    with open(log) as f:
        count = sum(1 for line in f if line.strip() == "-V")
    os.unlink(log)
    return count


def only_when_needed(tmp):
    env, log, wrapper = counting_ssh(tmp, softhsm_token(tmp, "Version"))
    pin = os.path.join(tmp, "pin")
    with open(pin, "w") as f:
        f.write("123456\n")
    uri = "pkcs11:token=Version"
    run([CLI, "generate", "--module", SOFTHSM, uri, "--pin-file", pin, "--type", "ec:p256"], env)
    runs(log)

    run([CLI, "objects", "--module", SOFTHSM, uri, "--login", "--pin-file", pin], env)
    check("an EC key only: objects runs no ssh -V", runs(log) == 0)

    run([CLI, "generate", "--module", SOFTHSM, uri, "--pin-file", pin, "--type", "ed25519"], env)
    runs(log)
    shutil.rmtree(os.path.join(tmp, "cache"), ignore_errors=True)

    listing = run([CLI, "objects", "--module", SOFTHSM, uri, "--login", "--pin-file", pin], env).stdout
    check("with an Ed25519 key: the first objects runs ssh -V once", runs(log) == 1)
    again = run([CLI, "objects", "--module", SOFTHSM, uri, "--login", "--pin-file", pin], env).stdout
    check("the next run takes the cached version: no ssh -V", runs(log) == 0)
    check("and its verdicts are the same", again == listing, f"{listing}\n---\n{again}")

    os.utime(wrapper, (1, 1))
    run([CLI, "objects", "--module", SOFTHSM, uri, "--login", "--pin-file", pin], env)
    check("a changed ssh binary (mtime) is asked again, once", runs(log) == 1)


if __name__ == "__main__":
    raise SystemExit(run_cases([only_when_needed], "tessera-openssh-version-"))
