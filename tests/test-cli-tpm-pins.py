#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PIN state that is true for each kind of token.  On a software TPM 2.0
# through tpm2-pkcs11 (tokens tpmA and tpmB, one TPM): a wrong PIN warns
# that the TPM locks out, and the TPM's lockout counter shows the try was
# spent; in the TPM's dictionary-attack lockout (tpm2-pkcs11 answers
# CKR_PIN_LOCKED) the message says the lockout clears by itself and sends
# nobody to an SO PIN, `unblock` does not say only the maker can help, and
# `tokens` stops saying "Ready" until a login gets through again after
# tpm2_dictionarylockout --clear-lockout.  A token that raises no tries-left
# flags (the test module with pin_counters=0) says it does not tell how
# many tries are left; SoftHSM, which raises COUNT_LOW, says "a few".

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tessera_fixtures import SOFTHSM, TPM2_PKCS11, Tpm, check, run, run_cases, skip, softhsm_token

CLI = os.environ["TESSERA_CLI"]
TESTMOD = os.environ["TESSERA_TESTMOD"]
PINS = {"tpmA": "111111", "tpmB": "222222"}
SO_PIN = "87654321"
MAX_TRIES = 3
NO_COUNTERS = "does not say how many tries are left"


def write(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text + "\n")
    return path


def login(env, pin_file, token="tpmA", module=TPM2_PKCS11):
    return run([CLI, "objects", f"pkcs11:token={token}", "--login", "--pin-file", pin_file,
                "--module", module], env, check_ok=False, timeout=120)


def token_block(text, label):
    """The lines `tokens` prints for one token."""
    block = text.split(f"  Token: {label}\n", 1)
    return block[1].split("\n  Token: ", 1)[0] if len(block) == 2 else ""


def state_line(block):
    for line in block.splitlines():
        if line.strip().startswith("State: "):
            return line.strip()[len("State: "):]
    return None


def tokens(env):
    return run([CLI, "tokens", "--module", TPM2_PKCS11], env, check_ok=False).stdout


def json_states(env, label):
    out = run([CLI, "tokens", "--module", TPM2_PKCS11, "--json"], env, check_ok=False).stdout
    for module in json.loads(out)["modules"]:
        for token in module["tokens"]:
            if token["label"] == label:
                return token["states"]
    return None


def tpm(tmp):
    if shutil.which("swtpm") is None or shutil.which("tpm2-abrmd") is None or not os.path.exists(TPM2_PKCS11):
        skip("TPM: PIN state", "swtpm, tpm2-abrmd or tpm2-pkcs11 is not installed")
        return
    tpm = Tpm(tmp)
    try:
        tpm_cases(tmp, tpm)
    finally:
        tpm.stop()


def tpm_cases(tmp, tpm):
    # Where Tessera notes a lockout: the test's own, never the user's
    env = dict(tpm.env, XDG_STATE_HOME=os.path.join(tmp, "state"))
    bad = write(tmp, "bad", "999999")
    right = write(tmp, "right", PINS["tpmA"])
    so_pin = write(tmp, "so", SO_PIN)
    new_pin = write(tmp, "new", "333333")

    # A known number of tries whatever swtpm's defaults; the lockout
    # authorization of a fresh TPM is empty.
    run(["tpm2_dictionarylockout", "--setup-parameters", f"--max-tries={MAX_TRIES}",
         "--recovery-time=600", "--lockout-recovery-time=600"], env)

    text = tokens(env)
    check("tokens: a TPM token is Ready and says how its lockout works",
          state_line(token_block(text, "tpmA")) == "Ready"
          and "counts wrong PINs for all its tokens together" in token_block(text, "tpmA"), text)

    proc = login(env, bad)
    check("wrong PIN: the command fails, and the message warns that the TPM locks out",
          proc.returncode != 0 and "Wrong PIN" in proc.stderr and "TPM" in proc.stderr
          and "locks out" in proc.stderr, proc.stderr)
    check("wrong PIN: the TPM counted one failure", tpm.lockout_counter() == 1, tpm.lockout_counter())
    check("wrong PIN: no number of tries is made up, nor an SO PIN named",
          "try left" not in proc.stderr and "SO PIN" not in proc.stderr, proc.stderr)

    # The TPM counts for all its tokens together: tpmB's wrong PIN is tpmA's too
    proc = login(env, bad, token="tpmB")
    check("wrong PIN on tpmB: counted by the same TPM", tpm.lockout_counter() == 2, tpm.lockout_counter())
    proc = login(env, bad)
    check(f"{MAX_TRIES} wrong PINs: the TPM counted them all",
          tpm.lockout_counter() == MAX_TRIES, tpm.lockout_counter())

    # Locked out: even the right PIN is refused, unchecked (the counter stays)
    proc = login(env, right)
    check("in lockout: the right PIN is refused", proc.returncode != 0, proc.stdout + proc.stderr)
    check("in lockout: the message says the TPM is locked out and clears by itself after its recovery time",
          "locked out" in proc.stderr and "clears by itself" in proc.stderr
          and "recovery time" in proc.stderr, proc.stderr)
    check("in lockout: the message sends nobody to an SO PIN or an unblock",
          "SO PIN" not in proc.stderr and "unblock" not in proc.stderr.lower(), proc.stderr)
    check("in lockout: a refused PIN is not counted", tpm.lockout_counter() == MAX_TRIES,
          tpm.lockout_counter())

    text = tokens(env)
    for label in ("tpmA", "tpmB"):
        block = token_block(text, label)
        check(f"tokens after the lockout: {label} is no longer Ready, but locked out until it clears",
              state_line(block) not in (None, "Ready") and "locked out" in (state_line(block) or "")
              and "clears by itself" in block, text)
    states = json_states(env, "tpmA")
    check("tokens --json after the lockout: tpmA has the state locked-out",
          states is not None and "locked-out" in states, states)

    proc = run([CLI, "unblock", "pkcs11:token=tpmA", "--so-pin-file", so_pin, "--new-pin-file", new_pin,
                "--module", TPM2_PKCS11], env, check_ok=False)
    check("unblock in lockout: fails as locked (exit 6), saying the TPM's lockout clears by itself",
          proc.returncode == 6 and "clears by itself" in proc.stderr, (proc.returncode, proc.stderr))
    check("unblock in lockout: no claim that only the token's maker can reset it",
          "maker" not in proc.stderr and "SO PIN is locked" not in proc.stderr, proc.stderr)

    run(["tpm2_dictionarylockout", "--clear-lockout"], env)
    check("clear-lockout: the TPM's counter is 0", tpm.lockout_counter() == 0, tpm.lockout_counter())

    proc = login(env, right)
    check("after clear-lockout: the right PIN (not changed by unblock) works again",
          proc.returncode == 0, proc.stderr)
    text = tokens(env)
    check("after a login got through: tpmA and tpmB are Ready again",
          state_line(token_block(text, "tpmA")) == "Ready"
          and state_line(token_block(text, "tpmB")) == "Ready", text)
    check("the lockout counter stayed 0 through the good login", tpm.lockout_counter() == 0,
          tpm.lockout_counter())


def no_counters(tmp):
    env = softhsm_token(tmp, "Plain")
    bad = write(tmp, "bad", "999999")

    proc = login(env, bad, token="Plain", module=SOFTHSM)
    check("SoftHSM, which raises COUNT_LOW: a wrong PIN says only a few tries are left",
          "Wrong PIN" in proc.stderr and "few tries left" in proc.stderr and NO_COUNTERS not in proc.stderr,
          proc.stderr)

    control = write(tmp, "control", "pin_counters=0")
    env = dict(env, TESSERA_TESTMOD_CONTROL=control)
    proc = login(env, bad, token="Plain", module=TESTMOD)
    check("a token without tries-left flags: a wrong PIN says the token does not say how many are left",
          proc.returncode != 0 and proc.stderr.startswith("tessera-cli: Wrong PIN.")
          and NO_COUNTERS in proc.stderr, proc.stderr)
    check("a token without tries-left flags: no TPM lockout is mentioned", "TPM" not in proc.stderr,
          proc.stderr)


def main():
    return run_cases((no_counters, tpm), "tessera-tpm-pins-test-")


if __name__ == "__main__":
    sys.exit(main())
