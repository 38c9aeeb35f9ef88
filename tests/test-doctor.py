#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The pairing doctor on the classic smart-card-for-SSH guide's mistake,
# with a real ssh-agent and a real sshd on 127.0.0.1: a key pair made with
# pkcs11-tool, a self-signed certificate made by certtool on the token and
# written with pkcs11-tool under a different ID, the public-key object
# deleted.  SSH cannot log in; `tessera-cli doctor --fix` repairs it; SSH
# logs in.  RSA is paired by key material, EC by a test signature.
# SoftHSM always; opencryptoki's software token (RSA: its soft token makes
# no EC keys) where pkcsslotd runs.  Then the other problems the doctor
# reports, and what it leaves alone.

import os
import re
import subprocess
import sys

from tessera_fixtures import (OPENCRYPTOKI, SOFTHSM, Agent, Sshd, check, list_objects, pkcs11_tool, run, run_cases,
                              skip, softhsm_token)

CLI = os.environ["TESSERA_CLI"]
EXIT_PROBLEMS = 11


def guide_mistake(tmp, env, module, token_args, token_uri, pin, key_type, provider_uri):
    """Does what the guide does, wrongly: returns the ID the certificate got."""
    pkcs11_tool(env, module, token_args, pin, "--keypairgen", "--key-type", key_type, "--id", "01",
                "--label", "guide key")
    template = os.path.join(tmp, "template")
    with open(template, "w") as f:
        f.write('cn = "guide"\nexpiration_days = 365\nsigning_key\n')
    pem = os.path.join(tmp, "guide.pem")
    der = os.path.join(tmp, "guide.der")
    run(["certtool", "--provider", module, "--generate-self-signed",
         "--load-privkey", f"{provider_uri};id=%01;type=private",
         "--load-pubkey", f"{provider_uri};id=%01;type=public",
         "--template", template, "--outfile", pem], dict(env, GNUTLS_PIN=pin))
    run(["openssl", "x509", "-in", pem, "-outform", "der", "-out", der], env)
    pkcs11_tool(env, module, token_args, pin, "--write-object", der, "--type", "cert", "--id", "99",
                "--label", "guide cert")
    pkcs11_tool(env, module, token_args, pin, "--delete-object", "--type", "pubkey", "--id", "01")
    return pem


def add_card(env, agent, module, pin_file):
    askpass = os.path.join(os.path.dirname(pin_file), "askpass")
    with open(askpass, "w") as f:
        f.write(f"#!/bin/sh\ncat {pin_file}\n")
    os.chmod(askpass, 0o700)
    return run(["ssh-add", "-s", module], dict(env, SSH_AUTH_SOCK=agent.sock, SSH_ASKPASS=askpass,
                                               SSH_ASKPASS_REQUIRE="force"), check_ok=False)


def login(env, sshd, agent):
    return run(["ssh", "-p", str(sshd.port), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "IdentityFile=/dev/null",
                "127.0.0.1", "true"], dict(env, SSH_AUTH_SOCK=agent.sock), check_ok=False, timeout=60)


def classic_scenario(tmp, env, backend, module, token_args, token_uri, pin, key_type, provider_uri):
    name = f"{backend} {key_type}"
    pin_file = os.path.join(tmp, "pin")
    with open(pin_file, "w") as f:
        f.write(pin + "\n")
    cli = [CLI, "--module", module]

    pem = guide_mistake(tmp, env, module, token_args, token_uri, pin, key_type, provider_uri)
    before = list_objects(env, module, token_args, pin)
    check(f"{name}: the guide's mistake is made (private key 01, certificate 99, no public key)",
          [o[0] for o in before] == ["Certificate", "Private Key"] and
          {o[2] for o in before} == {"01", "99"}, before)

    # The certificate's key is what sshd is told to accept.
    pubkey = run(["openssl", "x509", "-in", pem, "-noout", "-pubkey"], env).stdout
    cert_key = subprocess.run(["ssh-keygen", "-i", "-m", "PKCS8", "-f", "/dev/stdin"], input=pubkey,
                              capture_output=True, text=True, env=env).stdout.strip()
    sshd = Sshd(tmp, env, cert_key + "\n")
    os.makedirs(os.path.join(tmp, "a1"))
    agent = Agent(os.path.join(tmp, "a1"), env)
    try:
        added = add_card(env, agent, module, pin_file)
        refused = login(env, sshd, agent)
        check(f"{name}: before the fix, SSH through the agent cannot log in",
              refused.returncode != 0, (added.stderr, refused.stderr))
        check(f"{name}: ... and OpenSSH says why the guides' readers get stuck",
              added.returncode != 0 or "agent refused operation" in refused.stderr or
              "signing failed" in refused.stderr, (added.returncode, added.stderr, refused.stderr))
    finally:
        agent.stop()

    found = run(cli + ["doctor", token_uri, "--pin-file", pin_file], env, check_ok=False)
    check(f"{name}: doctor finds the ID mismatch, exit status {EXIT_PROBLEMS}",
          found.returncode == EXIT_PROBLEMS and found.stdout.startswith("id-mismatch:") and
          "ID is 99" in found.stdout and "key’s is 01" in found.stdout, (found.returncode, found.stdout,
                                                                          found.stderr))
    proof = "proved by a test signature" if key_type.startswith("EC") else "same key material"
    check(f"{name}: paired by key material ({proof})", proof in found.stdout, found.stdout)
    check(f"{name}: doctor without --fix changes nothing",
          list_objects(env, module, token_args, pin) == before)

    fixed = run(cli + ["doctor", token_uri, "--fix", "--pin-file", pin_file], env, check_ok=False)
    check(f"{name}: doctor --fix repairs it, proves the pair and exits 0",
          fixed.returncode == 0 and "a test signature proved the pair" in fixed.stdout and
          "No problems found." in fixed.stdout, (fixed.returncode, fixed.stdout, fixed.stderr))
    after = list_objects(env, module, token_args, pin)
    check(f"{name}: afterwards pkcs11-tool shows the certificate under the key's ID, nothing lost",
          sorted(after) == sorted([("Certificate", "guide cert", "01"), ("Private Key", "guide key", "01")]),
          after)
    original_der = subprocess.run(["openssl", "x509", "-in", pem, "-outform", "der"], capture_output=True).stdout
    read_der = subprocess.run(["pkcs11-tool", "--module", module, *token_args, "--read-object", "--type", "cert",
                               "--id", "01"], env=env, capture_output=True).stdout
    check(f"{name}: the certificate's bytes are unchanged", read_der == original_der and len(read_der) > 0)

    # A fresh agent: opencryptoki's module does not survive a second add in
    # one ssh-pkcs11-helper.
    os.makedirs(os.path.join(tmp, "a2"))
    agent = Agent(os.path.join(tmp, "a2"), env)
    try:
        added = add_card(env, agent, module, pin_file)
        check(f"{name}: after the fix, ssh-add -s succeeds", added.returncode == 0, added.stderr)
        logged_in = login(env, sshd, agent)
        check(f"{name}: after the fix, ssh -p PORT 127.0.0.1 true exits 0 through the agent",
              logged_in.returncode == 0, logged_in.stderr)
    finally:
        agent.stop()
        sshd.stop()


def softhsm_classic(tmp):
    for key_type in ("rsa:2048", "EC:prime256v1"):
        case = os.path.join(tmp, key_type.replace(":", "-"))
        os.makedirs(case)
        env = softhsm_token(case, "guide")
        classic_scenario(case, env, "SoftHSM", SOFTHSM, ["--token-label", "guide"], "pkcs11:token=guide",
                         "123456", key_type, "pkcs11:token=guide")


def opencryptoki_classic(tmp):
    reset = os.path.join(os.environ["G_TEST_SRCDIR"], "opencryptoki-reset.sh")
    if subprocess.run([reset], capture_output=True).returncode != 0:
        skip("opencryptoki: the classic guide's scenario", "pkcsslotd cannot run here")
        return
    env = dict(os.environ, HOME=tmp)
    env.pop("SSH_AUTH_SOCK", None)
    token = ["--slot", "3"]
    run(["pkcs11-tool", "--module", OPENCRYPTOKI, *token, "--init-token", "--so-pin", "87654321",
         "--label", "tessera-doctor"], env)
    run(["pkcs11-tool", "--module", OPENCRYPTOKI, *token, "--login", "--login-type", "so", "--so-pin",
         "87654321", "--init-pin", "--pin", "12345678"], env)
    classic_scenario(tmp, env, "opencryptoki", OPENCRYPTOKI, token, "pkcs11:token=tessera-doctor",
                     "12345678", "rsa:2048", "pkcs11:token=tessera-doctor")
    skip("opencryptoki EC: the classic guide's scenario", "opencryptoki 3.8's soft token makes no EC keys")


def other_problems(tmp):
    """No public part, shared and empty IDs: found, and fixed where Tessera can."""
    env = softhsm_token(tmp, "others")
    pin_file = os.path.join(tmp, "pin")
    with open(pin_file, "w") as f:
        f.write("123456\n")
    token = ["--token-label", "others"]
    cli = [CLI, "--module", SOFTHSM]

    clean = run(cli + ["doctor", "pkcs11:token=others", "--pin-file", pin_file], env, check_ok=False)
    check("an empty token is clean: exit 0", clean.returncode == 0 and "No problems found." in clean.stdout,
          (clean.stdout, clean.stderr))

    pkcs11_tool(env, SOFTHSM, token, "123456", "--keypairgen", "--key-type", "rsa:2048", "--id", "0a",
                "--label", "hidden")
    pkcs11_tool(env, SOFTHSM, token, "123456", "--delete-object", "--type", "pubkey", "--id", "0a")
    before_ssh = run(["ssh-keygen", "-D", SOFTHSM], env, check_ok=False).stdout
    found = run(cli + ["doctor", "pkcs11:token=others", "--pin-file", pin_file], env, check_ok=False)
    check("a private key without public part is found",
          found.returncode == EXIT_PROBLEMS and "no-public-part:" in found.stdout, found.stdout)
    check("... and ssh-keygen -D cannot see it", before_ssh.strip() == "", before_ssh)
    fixed = run(cli + ["doctor", "pkcs11:token=others", "--fix", "--pin-file", pin_file], env, check_ok=False)
    objects = list_objects(env, SOFTHSM, token, "123456")
    check("doctor --fix creates its public-key object, with its ID and label",
          fixed.returncode == 0 and ("Public Key", "hidden", "0a") in objects, (fixed.stdout, objects))
    after_ssh = run(["ssh-keygen", "-D", SOFTHSM], env, check_ok=False).stdout
    exported = run(["p11tool", "--provider", SOFTHSM, "--export-pubkey", "pkcs11:token=others;id=%0a;type=public"],
                   dict(env, GNUTLS_PIN="123456"), check_ok=False).stdout
    via_openssl = subprocess.run(["ssh-keygen", "-i", "-m", "PKCS8", "-f", "/dev/stdin"], input=exported,
                                 capture_output=True, text=True).stdout.split()
    check("ssh-keygen -D now lists it, with the key p11tool exports",
          len(via_openssl) >= 2 and f"{via_openssl[0]} {via_openssl[1]} hidden" in after_ssh, after_ssh)

    # The same certificate twice under one ID, and one with no ID.
    template = os.path.join(tmp, "template")
    with open(template, "w") as f:
        f.write('cn = "twice"\nexpiration_days = 30\n')
    run(["certtool", "--generate-privkey", "--outfile", os.path.join(tmp, "k.pem")], env)
    run(["certtool", "--generate-self-signed", "--load-privkey", os.path.join(tmp, "k.pem"),
         "--template", template, "--outder", "--outfile", os.path.join(tmp, "c.der")], env)
    for label, extra in (("first", ["--id", "0b"]), ("second", ["--id", "0b"]), ("no id", [])):
        pkcs11_tool(env, SOFTHSM, token, "123456", "--write-object", os.path.join(tmp, "c.der"), "--type",
                    "cert", "--label", label, *extra)
    before = list_objects(env, SOFTHSM, token, "123456")
    found = run(cli + ["doctor", "pkcs11:token=others", "--fix", "--pin-file", pin_file], env, check_ok=False)
    check("two certificates sharing an ID are reported, not touched",
          re.search(r"shared-id: .*\n.*(“first”, “second”|“second”, “first”)", found.stdout), found.stdout)
    check("a certificate with an empty ID is reported, not touched",
          "empty-id:" in found.stdout and "“no id”" in found.stdout, found.stdout)
    check("doctor exits 11 while they remain, and changed nothing",
          found.returncode == EXIT_PROBLEMS and list_objects(env, SOFTHSM, token, "123456") == before,
          (found.returncode, found.stderr))
    check("a certificate whose key is not on the token is not a problem",
          "id-mismatch" not in found.stdout, found.stdout)


def main():
    return run_cases((softhsm_classic, opencryptoki_classic, other_problems), "tessera-doctor-test-")


if __name__ == "__main__":
    sys.exit(main())
