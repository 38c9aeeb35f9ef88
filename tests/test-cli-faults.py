#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# A crashing, a hanging and a lying module, each beside a healthy SoftHSM
# token: tessera-cli lists SoftHSM's tokens, names the bad module and why,
# exits non-zero because a module it was given failed, and the hung one is
# reported within its deadline.  Every module runs in its own
# tessera-module-host, so the CLI itself survives.  The bad module is the
# test module (it forwards to SoftHSM) with a fault switched on.

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tessera_fixtures import SOFTHSM, check, pkcs11_tool, run, run_cases, softhsm_token

CLI = os.environ["TESSERA_CLI"]
TESTMOD = os.environ["TESSERA_TESTMOD"]
GOOD_URI = "pkcs11:token=Healthy;model=SoftHSM%20v2"

# What the host allows slot and token information, in seconds
QUICK_DEADLINE = 5


def with_fault(tmp, env, fault):
    control = os.path.join(tmp, "control")
    with open(control, "w") as f:
        f.write(fault + "\n")
    return dict(env, TESSERA_TESTMOD_CONTROL=control)


def tokens(env):
    start = time.monotonic()
    proc = run([CLI, "tokens", "--module", TESTMOD, "--module", SOFTHSM], env, check_ok=False, timeout=90)
    return proc, time.monotonic() - start


def healthy_listed(proc):
    blocks = proc.stdout.split("Module: ")
    softhsm = [b for b in blocks if b.startswith("libsofthsm2")]
    return bool(softhsm) and "Token: Healthy" in softhsm[0]


def crash(tmp):
    env = softhsm_token(tmp, "Healthy")
    bad = with_fault(tmp, env, "crash_in=C_GetSlotList")
    proc, _ = tokens(bad)
    check("crash in C_GetSlotList: SoftHSM's token is still listed", healthy_listed(proc), proc.stdout)
    check("crash in C_GetSlotList: exit status 1, not the CLI's own death",
          proc.returncode == 1, f"exit {proc.returncode}\n{proc.stderr}")
    check("crash in C_GetSlotList: stderr names the module and the crash",
          TESTMOD in proc.stderr and "stopped working" in proc.stderr and "Segmentation fault" in proc.stderr
          and "C_GetSlotList" in proc.stderr, proc.stderr)
    check("crash in C_GetSlotList: the listing shows the module's error",
          re.search(r"Module: tessera-testmod\n  Path: .*\n  Error: .*stopped working", proc.stdout), proc.stdout)

    # A crash while reading objects: the command names the module and why.
    bad = with_fault(tmp, env, "crash_in=C_FindObjectsInit")
    proc = run([CLI, "objects", "--module", TESTMOD, "pkcs11:token=Healthy"], bad, check_ok=False)
    check("crash in C_FindObjectsInit: objects fails, naming the module and the crash",
          proc.returncode != 0 and "“tessera-testmod” stopped working" in proc.stderr
          and "C_FindObjectsInit" in proc.stderr, proc.stderr)


def crash_while_writing(tmp):
    env = softhsm_token(tmp, "Healthy")
    pin = os.path.join(tmp, "pin")
    with open(pin, "w") as f:
        f.write("123456\n")
    bad = with_fault(tmp, env, "crash_in=C_GenerateKeyPair")
    # EC goes through p11-kit's RPC, Ed25519 through the host's extension channel
    for key_type in ("ec:p256", "ed25519"):
        proc = run([CLI, "generate", "--module", TESTMOD, "pkcs11:token=Healthy", "--type", key_type,
                    "--label", "never", "--pin-file", pin], bad, check_ok=False)
        check(f"crash in C_GenerateKeyPair ({key_type}): the error says what was being done, "
              "which module stopped and where",
              proc.returncode != 0 and "could not make the key" in proc.stderr
              and "“tessera-testmod” stopped working" in proc.stderr and "C_GenerateKeyPair" in proc.stderr,
              proc.stderr)
    listing = pkcs11_tool(env, SOFTHSM, ["--token-label", "Healthy"], "123456", "-O").stdout
    check("crash in C_GenerateKeyPair: nothing was written to the token", "never" not in listing, listing)


def hang(tmp):
    env = softhsm_token(tmp, "Healthy")
    bad = with_fault(tmp, env, "hang_in=C_GetTokenInfo")
    proc, seconds = tokens(bad)
    check("hang in C_GetTokenInfo: SoftHSM's token is still listed", healthy_listed(proc), proc.stdout)
    check("hang in C_GetTokenInfo: reported as not responding, naming the call and the deadline",
          proc.returncode == 1 and "not responding" in proc.stderr and "C_GetTokenInfo" in proc.stderr
          and f"within {QUICK_DEADLINE} seconds" in proc.stderr, f"exit {proc.returncode}\n{proc.stderr}")
    print(f"# hung module reported after {seconds:.2f} s (deadline {QUICK_DEADLINE} s)")
    check("hang in C_GetTokenInfo: reported within its deadline (and a margin to start up)",
          seconds < QUICK_DEADLINE + 3, f"{seconds:.2f} s")


def lies(tmp):
    env = softhsm_token(tmp, "Healthy")
    pkcs11_tool(env, SOFTHSM, ["--token-label", "Healthy"], "123456", "--keypairgen", "--key-type",
                "EC:prime256v1", "--id", "01", "--label", "key")

    bad = with_fault(tmp, env, "lie_slot_count=1")
    proc, _ = tokens(bad)
    check("lying slot count: SoftHSM's token is still listed", healthy_listed(proc), proc.stdout)
    check("lying slot count: reported as an answer that cannot be right",
          proc.returncode == 1 and "cannot be right" in proc.stderr, proc.stderr)

    bad = with_fault(tmp, env, "lie_length=1")
    proc = run([CLI, "objects", "--module", TESTMOD, "pkcs11:token=Healthy"], bad, check_ok=False)
    check("lying attribute length: objects ends with a clear error, no crash",
          proc.returncode in (0, 1) and ("cannot be right" in proc.stderr + proc.stdout
                                         or "could not be read" in proc.stderr + proc.stdout),
          f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")

    bad = with_fault(tmp, env, "lie_find_count=1")
    proc = run([CLI, "objects", "--module", TESTMOD, "pkcs11:token=Healthy"], bad, check_ok=False)
    check("lying object count: objects fails with a clear error, no crash",
          proc.returncode == 1 and "cannot be right" in proc.stderr, f"exit {proc.returncode}\n{proc.stderr}")

    bad = with_fault(tmp, env, "garbage_strings=1")
    proc, _ = tokens(bad)
    check("garbage token strings: the listing is valid text with no control characters",
          proc.returncode == 0 and "\x1b" not in proc.stdout and "\x00" not in proc.stdout, repr(proc.stdout))


def uris(tmp):
    env = softhsm_token(tmp, "Healthy")
    proc = run([CLI, "objects", "--module", SOFTHSM, "token=Healthy"], env, check_ok=False)
    check("malformed URI: reported as not a PKCS#11 URI",
          proc.returncode != 0 and "not a PKCS#11 URI: token=Healthy" in proc.stderr, proc.stderr)

    bad = with_fault(tmp, env, "crash_in=C_GetSlotList")
    proc = run([CLI, "objects", "--module", TESTMOD, "pkcs11:token=Healthy"], bad, check_ok=False)
    check("token of a crashed module: the error names the module and why",
          proc.returncode != 0 and "No token matches" in proc.stderr and "tessera-testmod" in proc.stderr
          and "stopped working" in proc.stderr, proc.stderr)

    proc = run([CLI, "tokens", "--module", "/nonexistent/libnothing.so", "--module", SOFTHSM], env,
               check_ok=False)
    check("missing module file: exit 1, named on stderr, SoftHSM listed",
          proc.returncode == 1 and "/nonexistent/libnothing.so" in proc.stderr and healthy_listed(proc),
          proc.stderr)


def ambiguous(tmp):
    """Two tokens of one SoftHSM, each with a key of ID 07: a URI that names
    only the manufacturer matches both, and nothing may act on either."""
    env = softhsm_token(tmp, "First")
    run(["softhsm2-util", "--init-token", "--free", "--label", "Second", "--so-pin", "12345678",
         "--pin", "123456"], env)
    for label in ("First", "Second"):
        pkcs11_tool(env, SOFTHSM, ["--token-label", label], "123456", "--keypairgen", "--key-type",
                    "EC:prime256v1", "--id", "07", "--label", f"key of {label}")
    pin = os.path.join(tmp, "pin")
    with open(pin, "w") as f:
        f.write("123456\n")

    loose = "pkcs11:manufacturer=SoftHSM%20project;model=SoftHSM%20v2"
    proc = run([CLI, "delete", "--module", SOFTHSM, loose, "--id", "07", "--yes", "--pin-file", pin], env,
               check_ok=False)
    check("ambiguous URI: delete refuses, naming every match",
          proc.returncode != 0 and "matches 3 tokens" in proc.stderr and "token=First" in proc.stderr
          and "token=Second" in proc.stderr, proc.stderr)
    for label in ("First", "Second"):
        listing = pkcs11_tool(env, SOFTHSM, ["--token-label", label], "123456", "-O").stdout
        check(f"ambiguous URI: {label}'s key is still there (pkcs11-tool)", f"key of {label}" in listing, listing)

    for argv in (["objects", loose], ["ssh-keys", loose], ["init", loose, "--label", "X", "--yes"]):
        proc = run([CLI, argv[0], "--module", SOFTHSM, *argv[1:]], env, check_ok=False)
        check(f"ambiguous URI: {argv[0]} refuses", proc.returncode != 0 and "matches 3 tokens" in proc.stderr,
              proc.stderr)

    proc = run([CLI, "delete", "--module", SOFTHSM, "pkcs11:token=Second", "--id", "07", "--yes",
                "--pin-file", pin], env, check_ok=False)
    first = pkcs11_tool(env, SOFTHSM, ["--token-label", "First"], "123456", "-O").stdout
    second = pkcs11_tool(env, SOFTHSM, ["--token-label", "Second"], "123456", "-O").stdout
    check("a URI that names one token: delete acts on that token only",
          proc.returncode == 0 and "key of First" in first and "key of Second" not in second,
          proc.stderr + first + second)


def texts(tmp):
    """PINs and labels are text: a PIN with control characters or bytes
    that are not UTF-8 is refused before any C_Login (counted by
    pkcs11-spy), and a label with control characters is never written."""
    env = softhsm_token(tmp, "Texts")
    pkcs11_tool(env, SOFTHSM, ["--token-label", "Texts"], "123456", "--keypairgen", "--key-type",
                "EC:prime256v1", "--id", "07", "--label", "key")
    spy = "/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so"
    log = os.path.join(tmp, "spy.log")
    spy_env = dict(env, PKCS11SPY=SOFTHSM, PKCS11SPY_OUTPUT=log)

    for name, content in (("random bytes", b"\x9c\x01\xff\x00\x1b[31m12\n"),
                          ("a NUL inside", b"1234\x0056\n"),
                          ("an escape", b"12\x1b3456\n")):
        pin = os.path.join(tmp, "pin")
        with open(pin, "wb") as f:
            f.write(content)
        if os.path.exists(log):
            os.unlink(log)
        proc = run([CLI, "objects", "--module", spy, "pkcs11:token=Texts", "--login", "--pin-file", pin],
                   spy_env, check_ok=False)
        logins = open(log).read().count("C_Login") if os.path.exists(log) else 0
        check(f"PIN file with {name}: refused before any C_Login",
              proc.returncode != 0 and "control characters" in proc.stderr and logins == 0,
              f"exit {proc.returncode}, {logins} C_Login\n{proc.stderr}")

    good = os.path.join(tmp, "good")
    with open(good, "w") as f:
        f.write("123456\n")
    for argv in (["rename", "pkcs11:token=Texts", "--id", "07", "--label", "two\nlines"],
                 ["generate", "pkcs11:token=Texts", "--type", "ec:p256", "--label", "red \x1b[31m",
                  "--pin-file", good]):
        proc = run([CLI, argv[0], "--module", SOFTHSM, *argv[1:]], env, check_ok=False)
        check(f"{argv[0]} with a control character in the label: refused",
              proc.returncode != 0 and "A label cannot have control characters" in proc.stderr, proc.stderr)
    listing = pkcs11_tool(env, SOFTHSM, ["--token-label", "Texts"], "123456", "-O").stdout
    check("labels with control characters: nothing was written", "two" not in listing and "red" not in listing
          and listing.count("label:") == 2, listing)


def blank_slot(tmp):
    """SoftHSM's empty slot reports its SO PIN as locked and to be changed:
    for a blank token that is no problem to show, only that it needs
    initialising; --json keeps every flag."""
    env = softhsm_token(tmp, "Healthy")
    text = run([CLI, "tokens", "--module", SOFTHSM], env).stdout
    blank = text.split("Token: Uninitialized token")[1]
    states = blank.split("State: ")[1].splitlines()
    check("blank slot: the text says only that it is not initialized",
          states[0] == "Not initialized" and [l.strip() for l in states[1:] if l.strip()] ==
          ["The token is not initialized."], blank)
    data = __import__("json").loads(run([CLI, "tokens", "--module", SOFTHSM, "--json"], env).stdout)
    flags = [t["states"] for m in data["modules"] for t in m["tokens"] if t["label"] == ""][0]
    check("blank slot: --json keeps every flag the token reports",
          "not-initialized" in flags and "so-pin-locked" in flags, flags)


def counted_hosts(tmp, env):
    """env that starts every host through a script recording its pid, and
    its own runtime folder (where the hosts' sockets go)."""
    log = os.path.join(tmp, "hosts.log")
    wrapper = os.path.join(tmp, "host-wrapper")
    runtime = os.path.join(tmp, "runtime")
    os.makedirs(runtime, mode=0o700, exist_ok=True)
    with open(wrapper, "w") as f:
        f.write(f'#!/bin/sh\necho "$$ $1" >> {log}\nexec {os.environ["TESSERA_MODULE_HOST"]} "$@"\n')
    os.chmod(wrapper, 0o755)
    return dict(env, TESSERA_MODULE_HOST=wrapper, XDG_RUNTIME_DIR=runtime), log, runtime


def hosts_started(log):
    if not os.path.exists(log):
        return []
    with open(log) as f:
        started = [line.split(" ", 1) for line in f.read().splitlines()]
    os.unlink(log)
    return [(int(pid), path) for pid, path in started]


def all_gone(started):
    """Whether every host has quit (within a second of the CLI)."""
    for _ in range(100):
        alive = []
        for pid, _ in started:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().split(") ")[-1][0] != "Z":
                        alive.append(pid)
            except FileNotFoundError:
                pass
        if not alive:
            return True
        time.sleep(0.01)
    return False


def early_hosts(tmp):
    """tessera-cli's launcher starts the hosts of --module before the CLI
    loads: each module gets exactly one host, which the CLI then uses, and
    one the CLI does not use quits and leaves nothing behind."""
    env = softhsm_token(tmp, "Healthy")
    env, log, runtime = counted_hosts(tmp, env)

    for form in (["--module", SOFTHSM], [f"--module={SOFTHSM}"], ["-m", SOFTHSM]):
        proc = run([CLI, "tokens", *form], env, check_ok=False)
        started = hosts_started(log)
        check(f"{' '.join(form)}: one host, started early and used",
              proc.returncode == 0 and "Token: Healthy" in proc.stdout and
              [path for _, path in started] == [SOFTHSM], f"{started}\n{proc.stderr}")
        check(f"{' '.join(form)}: the hosts quit and the runtime folder is left empty",
              all_gone(started) and os.listdir(runtime) == [], os.listdir(runtime))

    # A path the core refuses before it would start a host: the early one
    # quits unused; the next module still gets its own.
    missing = os.path.join(tmp, "no-such-module.so")
    proc = run([CLI, "tokens", "--module", missing, "--module", SOFTHSM], env, check_ok=False)
    started = hosts_started(log)
    check("a missing module beside SoftHSM: the missing one is named, SoftHSM listed, exit 1",
          proc.returncode == 1 and "does not exist" in proc.stderr and healthy_listed(proc),
          f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    check("a missing module beside SoftHSM: one early host each, and no other",
          sorted(path for _, path in started) == sorted([missing, SOFTHSM]), started)
    check("a missing module beside SoftHSM: every host quit, the runtime folder is empty",
          all_gone(started) and os.listdir(runtime) == [], os.listdir(runtime))

    # The host initializes its module before Tessera asks: a crash there is
    # still reported as one in C_Initialize.
    bad = with_fault(tmp, env, "crash_in=C_Initialize")
    proc, _ = tokens(bad)
    hosts_started(log)
    check("crash in C_Initialize, now done as soon as the host has loaded the module: "
          "reported as before, SoftHSM still listed",
          proc.returncode == 1 and healthy_listed(proc) and "crashed (Segmentation fault) in C_Initialize"
          in proc.stderr, proc.stderr)

    proc = run([CLI, "tokens", "--module", SOFTHSM], dict(env, TESSERA_IN_PROCESS_MODULES="1"), check_ok=False)
    check("TESSERA_IN_PROCESS_MODULES=1: no host at all",
          proc.returncode == 0 and hosts_started(log) == [], proc.stderr)


def main():
    return run_cases((crash, crash_while_writing, hang, lies, uris, ambiguous, texts, blank_slot, early_hosts),
                     "tessera-faults-test-")


if __name__ == "__main__":
    sys.exit(main())
