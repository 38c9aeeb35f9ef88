#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# tessera-cli is a launcher of libc alone: it starts the module host of
# each --module before the CLI proper (tessera-cli-main) loads its
# libraries, and the CLI takes the hosts over.  On a real SoftHSM token:
# the hosts are taken (the debug log says so), the output is the same as
# without the launcher, every spelling of --module is read as GOption
# reads it, a host nobody takes leaves no process and no socket behind,
# and a forged hand-over is refused without touching what it names.

import glob
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tessera_fixtures import SOFTHSM, check, pkcs11_tool, run, run_cases, softhsm_token

CLI = os.environ["TESSERA_CLI"]
CLI_MAIN = os.path.join(os.path.dirname(CLI), "tessera-cli-main")
URI = "pkcs11:token=Early"
TAKEN = "started by tessera-cli before it"
NOT_TAKEN = "was not taken"


def setup(tmp):
    env = softhsm_token(tmp, "Early")
    for i in (1, 2):
        pkcs11_tool(env, SOFTHSM, ["--token-label", "Early"], "123456", "--keypairgen", "--key-type",
                    "EC:prime256v1", "--id", f"0{i}", "--label", f"key {i}")
    runtime = os.path.join(tmp, "runtime")
    os.mkdir(runtime, 0o700)
    return dict(env, XDG_RUNTIME_DIR=runtime, G_MESSAGES_DEBUG="Tessera-Core")


def cli(argv, env, check_ok=True):
    """Runs a CLI; GLib writes debug messages to stdout: they go to
    proc.log, and proc.stdout keeps the rest."""
    proc = run(argv, env, check_ok=check_ok)
    lines = proc.stdout.splitlines(keepends=True)
    proc.log = proc.stderr + "".join(line for line in lines if "-DEBUG: " in line)
    proc.stdout = "".join(line for line in lines if "-DEBUG: " not in line)
    return proc


def leftovers(env):
    return glob.glob(os.path.join(env["XDG_RUNTIME_DIR"], "tessera-*"))


def hosts_of(module):
    """The tessera-module-host processes serving @module."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"tessera-module-host") and module.encode() in argv[1:]:
            pids.append(int(entry))
    return pids


def taken(tmp):
    env = setup(tmp)
    proc = cli([CLI, "objects", "--module", SOFTHSM, URI], env)
    check("the host started by the launcher is taken", proc.log.count(TAKEN) == 1, proc.log)
    check("no host was left untaken", NOT_TAKEN not in proc.log, proc.log)

    direct = cli([CLI_MAIN, "objects", "--module", SOFTHSM, URI], env)
    check("without the launcher, the CLI starts its own host", TAKEN not in direct.log, direct.log)
    check("the launcher changes nothing in the output", proc.stdout == direct.stdout and "key 2" in proc.stdout,
          proc.stdout + "\n---\n" + direct.stdout)
    check("nothing is left in the runtime directory", leftovers(env) == [], [(d, os.listdir(d)) for d in leftovers(env)])

    in_process = cli([CLI, "objects", "--module", SOFTHSM, URI], dict(env, TESSERA_IN_PROCESS_MODULES="1"))
    check("TESSERA_IN_PROCESS_MODULES=1: no host is started",
          TAKEN not in in_process.log and in_process.stdout == direct.stdout, in_process.log)


def spellings(tmp):
    env = setup(tmp)
    for argv in (["--module=" + SOFTHSM, "objects", URI],
                 ["-m", SOFTHSM, "objects", URI],
                 ["-fm", SOFTHSM, "objects", URI],
                 ["objects", URI, "--module", SOFTHSM]):
        proc = cli([CLI, *argv], env)
        check(f"{' '.join(argv[:2])}: the host is taken", proc.log.count(TAKEN) == 1 and "key 1" in proc.stdout,
              proc.stderr)

    # The value of another option is not a module, even when it reads like
    # one: GOption gives "-m" to --label here.  (GOption has no -mPATH.)
    proc = cli([CLI, "tokens", "--label", "-m", "--module", SOFTHSM], env)
    check("--label -m: only the real --module gets a host",
          proc.log.count(TAKEN) == 1 and NOT_TAKEN not in proc.log, proc.log)

    # After "--" nothing is an option
    proc = cli([CLI, "--module", SOFTHSM, "--", "objects", "-m"], env, check_ok=False)
    check("after --: no host for what follows", proc.log.count(TAKEN) <= 1 and NOT_TAKEN not in proc.log,
          proc.stderr)


def untaken(tmp):
    env = setup(tmp)
    # A private copy of the module, so that its hosts are told apart from
    # any other test's.
    module = os.path.join(tmp, "libsofthsm2-copy.so")
    with open(SOFTHSM, "rb") as src, open(module, "wb") as dst:
        dst.write(src.read())

    proc = cli([CLI, "--module", module, "no-such-command"], env, check_ok=False)
    check("an unknown command still fails as a usage error", proc.returncode == 2, proc.log)
    deadline = time.monotonic() + 5
    while hosts_of(module) and time.monotonic() < deadline:
        time.sleep(0.05)
    check("the host nobody took has quit", hosts_of(module) == [], hosts_of(module))
    check("and left no socket or folder behind", leftovers(env) == [], leftovers(env))

    proc = cli([CLI, "--module", os.path.join(tmp, "missing.so"), "tokens"], env, check_ok=False)
    check("a module file that does not exist: no early host, the CLI's own error",
          TAKEN not in proc.log and "missing.so" in proc.stderr and proc.returncode == 1, proc.log)


def forged(tmp):
    env = setup(tmp)
    reference = cli([CLI_MAIN, "objects", "--module", SOFTHSM, URI], env).stdout

    # A process that is not the CLI's child, descriptors it does not own
    # (its own stdout among them), a folder that is not private: every line
    # is refused, nothing named is closed, and the command works.
    open_dir = os.path.join(tmp, "open")
    os.mkdir(open_dir, 0o755)
    lines = [open_dir,
             f"{SOFTHSM}\t{open_dir}/early-0.sock\t{os.getpid()}\t1\t2\t1\t2",
             f"{SOFTHSM}\t{open_dir}/early-1.sock\t1\t1\t1\t1\t1",
             "garbage"]
    proc = cli([CLI_MAIN, "objects", "--module", SOFTHSM, URI], dict(env, TESSERA_EARLY_HOSTS="\n".join(lines)),
               check_ok=False)
    check("a forged hand-over: the command works, its output intact",
          proc.returncode == 0 and proc.stdout == reference, proc.stdout + proc.log)
    check("a forged hand-over: nothing of it is taken", TAKEN not in proc.log, proc.log)
    check("a forged hand-over: every line is refused", proc.log.count(NOT_TAKEN) == 3, proc.log)

    # The variable does not reach what the CLI runs: the launcher's own
    # hand-over is consumed, so the CLI's children never see it.
    proc = cli([CLI, "objects", "--module", SOFTHSM, URI],
               dict(env, TESSERA_EARLY_HOSTS=f"{open_dir}\n"))
    check("a launcher run replaces a hand-over already in the environment",
          proc.log.count(TAKEN) == 1 and proc.stdout == reference, proc.log)


sys.exit(run_cases([taken, spellings, untaken, forged], "tessera-early-"))
