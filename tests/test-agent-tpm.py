#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Adding one token to ssh-agent never costs another token a PIN try.
#
# A software TPM 2.0 (swtpm, tpm2-abrmd, tpm2-pkcs11) holds two tokens with
# different PINs.  ssh-agent's helper logs in to every token of a provider
# with the one PIN; the TPM counts each failure towards its lockout.  The
# judge is the TPM's own lockout counter.  Also against SoftHSM with two
# tokens (the same promise, another module), a real ssh-agent and a real
# sshd on 127.0.0.1.

import glob
import os
import subprocess

from tessera_fixtures import (SOFTHSM, TPM2_PKCS11, Agent, Sshd, Tpm, check, run, run_cases,
                              softhsm_token)

CLI = os.environ["TESSERA_CLI"]


def write_pin(tmp, name, pin):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(pin + "\n")
    return path


def agent_keys(env):
    proc = run(["ssh-add", "-L"], env, check_ok=False)
    return sorted(line.rsplit(" ", 1)[0] for line in proc.stdout.splitlines() if line.startswith(("ssh-", "ecdsa-")))


def token_keys(env, module, uri):
    lines = run([CLI, "ssh-keys", "--module", module, uri], env).stdout
    return sorted(" ".join(line.split(" ")[:2]) for line in lines.splitlines())


def choice_files(env):
    runtime = env.get("XDG_RUNTIME_DIR") or os.path.join(env["HOME"], ".cache")
    return sorted(glob.glob(os.path.join(runtime, "tessera", "agent-token-*")))


def tpm_two_tokens(tmp):
    tpm = Tpm(tmp)
    env = dict(tpm.env, XDG_RUNTIME_DIR=os.path.join(tmp, "run"))
    os.makedirs(env["XDG_RUNTIME_DIR"], mode=0o700)
    pin_a = write_pin(tmp, "pin-a", "111111")
    pin_b = write_pin(tmp, "pin-b", "222222")
    uri_a, uri_b = "pkcs11:token=tpmA", "pkcs11:token=tpmB"
    agent = None
    sshd = None
    try:
        for uri, pin in ((uri_a, pin_a), (uri_b, pin_b)):
            run([CLI, "generate", "--module", TPM2_PKCS11, uri, "--pin-file", pin, "--type", "ec:p256",
                 "--label", "ssh"], env)
        keys_a = token_keys(env, TPM2_PKCS11, uri_a)
        keys_b = token_keys(env, TPM2_PKCS11, uri_b)
        check("TPM: each token has its own key", len(keys_a) == 1 and len(keys_b) == 1 and keys_a != keys_b,
              f"{keys_a} {keys_b}")
        check("TPM: the lockout counter starts at 0", tpm.lockout_counter() == 0)

        # The agent's helper gets the agent's environment: the TPM's too.
        agent = Agent(tmp, env)
        env["SSH_AUTH_SOCK"] = agent.sock

        for i in range(1, 4):
            proc = run([CLI, "agent", "add", "--module", TPM2_PKCS11, uri_a, "--pin-file", pin_a], env,
                       check_ok=False)
            check(f"TPM: adding tpmA, time {i}, succeeds", proc.returncode == 0 and proc.stdout == "all\n",
                  proc.stdout + proc.stderr)
            counter = tpm.lockout_counter()
            check(f"TPM: after adding tpmA {i} times the lockout counter is still 0", counter == 0,
                  f"counter {counter}")
        check("TPM: the agent holds tpmA's key and not tpmB's", agent_keys(env) == keys_a,
              f"{agent_keys(env)} vs {keys_a}")
        check("TPM: one choice file, for copy 1 of the provider", [os.path.basename(p) for p in choice_files(env)]
              == ["agent-token-1"], choice_files(env))

        proc = run([CLI, "agent", "add", "--module", TPM2_PKCS11, uri_b, "--pin-file", pin_b], env,
                   check_ok=False)
        check("TPM: adding tpmB as well succeeds", proc.returncode == 0, proc.stdout + proc.stderr)
        check("TPM: the agent holds both tokens' keys", agent_keys(env) == sorted(keys_a + keys_b),
              agent_keys(env))
        check("TPM: and the lockout counter is 0", tpm.lockout_counter() == 0)

        sshd = Sshd(tmp, env, "\n".join(keys_b) + "\n")
        check("TPM: ssh to 127.0.0.1 logs in with tpmB's key from the agent", sshd.login(env) == 0)

        proc = run([CLI, "agent", "remove", "--module", TPM2_PKCS11, uri_a], env, check_ok=False)
        check("TPM: removing tpmA takes out its keys only", proc.returncode == 0 and agent_keys(env) == keys_b,
              proc.stdout + proc.stderr + str(agent_keys(env)))
        check("TPM: tpmA's copy of the provider is free again",
              [os.path.basename(p) for p in choice_files(env)] == ["agent-token-2"], choice_files(env))
        check("TPM: ssh still logs in with tpmB's key", sshd.login(env) == 0)
        proc = run([CLI, "agent", "remove", "--module", TPM2_PKCS11, uri_b], env, check_ok=False)
        check("TPM: removing tpmB empties the agent", proc.returncode == 0 and agent_keys(env) == [],
              proc.stdout + proc.stderr)

        # Where no one-token provider can be had, refuse before anything,
        # naming the token at risk; nothing reaches the TPM.
        no_provider = dict(env, TESSERA_AGENT_PROVIDER_DIR=os.path.join(tmp, "nowhere"))
        proc = run([CLI, "agent", "add", "--module", TPM2_PKCS11, uri_a, "--pin-file", pin_a], no_provider,
                   check_ok=False)
        check("TPM: without the provider, adding tpmA is refused and names tpmB",
              proc.returncode != 0 and "“tpmB”" in proc.stderr and "try this PIN" in proc.stderr,
              proc.stdout + proc.stderr)
        check("TPM: the refusal left the agent empty and the counter at 0",
              agent_keys(env) == [] and tpm.lockout_counter() == 0)

        # The judge can fail: ssh-add -s with tpmA's PIN costs tpmB a try.
        askpass = os.path.join(tmp, "askpass")
        with open(askpass, "w") as f:
            f.write("#!/bin/sh\ncat '%s'\n" % pin_a)
        os.chmod(askpass, 0o700)
        proc = subprocess.run(["ssh-add", "-s", TPM2_PKCS11], env=dict(env, SSH_ASKPASS=askpass,
                              SSH_ASKPASS_REQUIRE="force", DISPLAY=":0"), capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=120)
        counter = tpm.lockout_counter()
        check("TPM: for comparison, ssh-add -s with tpmA's PIN costs tpmB a try", counter == 1,
              f"counter {counter}; ssh-add: {proc.stdout}{proc.stderr}")
    finally:
        if sshd is not None:
            sshd.stop()
        if agent is not None:
            agent.stop()
        tpm.stop()


def softhsm_two_tokens(tmp):
    env = softhsm_token(tmp, "First")
    env["XDG_RUNTIME_DIR"] = os.path.join(tmp, "run")
    os.makedirs(env["XDG_RUNTIME_DIR"], mode=0o700)
    run(["softhsm2-util", "--init-token", "--free", "--label", "Second", "--so-pin", "12345678",
         "--pin", "654321"], env)
    pin_first = write_pin(tmp, "pin-first", "123456")
    for uri, pin in (("pkcs11:token=First", pin_first), ("pkcs11:token=Second", write_pin(tmp, "p2", "654321"))):
        run([CLI, "generate", "--module", SOFTHSM, uri, "--pin-file", pin, "--type", "ec:p256"], env)
    # pkcs11-spy counts every C_Login the agent's helper makes.
    spy_log = os.path.join(tmp, "spy.log")
    agent_env = dict(env, PKCS11SPY=SOFTHSM, PKCS11SPY_OUTPUT=spy_log)
    spy = "/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so"
    agent = Agent(tmp, agent_env)
    env["SSH_AUTH_SOCK"] = agent.sock
    try:
        proc = run([CLI, "agent", "add", "--module", spy, "pkcs11:token=First", "--pin-file", pin_first],
                   dict(env, PKCS11SPY=SOFTHSM, PKCS11SPY_OUTPUT=os.path.join(tmp, "cli-spy.log")),
                   check_ok=False)
        check("SoftHSM: adding one of two tokens succeeds", proc.returncode == 0, proc.stdout + proc.stderr)
        with open(spy_log) as f:
            log = f.read()
        logins = log.count("C_Login")
        incorrect = log.count("CKR_PIN_INCORRECT")
        check("SoftHSM: the agent's helper logged in once, to the chosen token, and no PIN was wrong",
              logins == 1 and incorrect == 0, f"{logins} C_Login, {incorrect} CKR_PIN_INCORRECT")
        second = token_keys(env, SOFTHSM, "pkcs11:token=Second")
        check("SoftHSM: the other token's key is not in the agent",
              not set(second) & set(agent_keys(env)), agent_keys(env))
    finally:
        agent.stop()


def single_token_module(tmp):
    """A module with one token goes to the agent as itself."""
    env = softhsm_token(tmp, "Only")
    env["XDG_RUNTIME_DIR"] = os.path.join(tmp, "run")
    os.makedirs(env["XDG_RUNTIME_DIR"], mode=0o700)
    pin = write_pin(tmp, "pin", "123456")
    run([CLI, "generate", "--module", SOFTHSM, "pkcs11:token=Only", "--pin-file", pin, "--type", "ec:p256"], env)
    agent = Agent(tmp, env)
    env["SSH_AUTH_SOCK"] = agent.sock
    try:
        proc = run([CLI, "agent", "add", "--module", SOFTHSM, "pkcs11:token=Only", "--pin-file", pin], env,
                   check_ok=False)
        check("one token: added as the module itself, with no choice file",
              proc.returncode == 0 and choice_files(env) == [], proc.stdout + proc.stderr)
        removed = subprocess.run(["ssh-add", "-e", SOFTHSM], env=env, capture_output=True, text=True)
        check("one token: ssh-add -e with the module's path removes it", removed.returncode == 0, removed.stderr)
    finally:
        agent.stop()


if __name__ == "__main__":
    raise SystemExit(run_cases([tpm_two_tokens, softhsm_two_tokens, single_token_module], "tessera-agent-tpm-"))
