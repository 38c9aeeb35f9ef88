#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Certificates and object edits with tessera-cli on SoftHSM, judged by
# openssl, certtool, p11tool and pkcs11-tool: self-signed certificates
# signed on the token, import by key material (each certificate of a
# file, skipping and naming the ones already there, for no key on the
# token or unreadable), export, rename, delete.
# Then "nothing lost": the doctor's fix on a test module that refuses
# C_SetAttributeValue, C_CopyObject, C_CreateObject or the delete of one
# object leaves every original object in place.

import os
import re
import subprocess
import sys
from datetime import datetime

from tessera_fixtures import SOFTHSM, check, list_objects, pkcs11_tool, run, run_cases, softhsm_token

CLI = os.environ["TESSERA_CLI"]
TESTMOD = os.environ["TESSERA_TESTMOD"]
PIN = "123456"
TOKEN = ["--token-label", "Certs"]
URI = "pkcs11:token=Certs"


def der_of_pem_pubkey(pem, env):
    return subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pem.encode(),
                          capture_output=True, env=env).stdout


def read_cert(env, key_id):
    return subprocess.run(["pkcs11-tool", "--module", SOFTHSM, *TOKEN, "--read-object", "--type", "cert",
                           "--id", key_id], env=env, capture_output=True).stdout


def setup(tmp, label="Certs"):
    env = softhsm_token(tmp, label)
    pin_file = os.path.join(tmp, "pin")
    with open(pin_file, "w") as f:
        f.write(PIN + "\n")
    return env, pin_file


def self_signed(tmp):
    env, pin_file = setup(tmp)
    cli = [CLI, "--module", SOFTHSM]
    for key_type in ("rsa:2048", "ec:p256", "ec:p384", "ec:p521", "ed25519"):
        name = f"self-signed {key_type}"
        made = run(cli + ["generate", URI, "--type", key_type, "--label", f"key {key_type}", "--pin-file",
                          pin_file, "--certificate", "--subject", f"Test {key_type}", "--days", "30"], env,
                   check_ok=False)
        key_id = made.stdout.strip()
        if not check(f"{name}: generated with its certificate", made.returncode == 0, made.stderr):
            continue
        der = read_cert(env, key_id)
        pem_path = os.path.join(tmp, f"{key_id}.pem")
        with open(pem_path, "wb") as f:
            f.write(subprocess.run(["openssl", "x509", "-inform", "der"], input=der, capture_output=True).stdout)

        verified = run(["openssl", "verify", "-check_ss_sig", "-CAfile", pem_path, pem_path], env, check_ok=False)
        check(f"{name}: openssl verify -check_ss_sig accepts the signature made on the token",
              verified.returncode == 0 and verified.stdout.strip().endswith(": OK"), verified.stdout + verified.stderr)

        cert_pubkey = run(["openssl", "x509", "-in", pem_path, "-noout", "-pubkey"], env).stdout
        token_pubkey = run(["p11tool", "--provider", SOFTHSM, "--export-pubkey",
                            f"{URI};id=%{'%'.join(re.findall('..', key_id))};type=public"],
                           dict(env, GNUTLS_PIN=PIN), check_ok=False).stdout
        check(f"{name}: the certificate's public key equals the token's (p11tool --export-pubkey)",
              der_of_pem_pubkey(cert_pubkey, env) == der_of_pem_pubkey(token_pubkey, env) and
              len(der_of_pem_pubkey(cert_pubkey, env)) > 0)

        objects = [o for o in list_objects(env, SOFTHSM, TOKEN, PIN) if o[2] == key_id]
        check(f"{name}: written with the private key's CKA_ID and label",
              ("Certificate", f"key {key_type}", key_id) in objects and
              ("Private Key", f"key {key_type}", key_id) in objects, objects)

        text = run(["openssl", "x509", "-in", pem_path, "-noout", "-text"], env).stdout
        ski = ":".join(re.findall("..", key_id.upper()))
        serial = re.search(r"Serial Number:\s*\n?\s*([-0-9a-f:() x]+)", text)
        check(f"{name}: X.509 v3, subject CN, key usage digitalSignature, subject key identifier",
              "Version: 3 (0x2)" in text and f"Subject: CN = Test {key_type}" in text and
              f"Issuer: CN = Test {key_type}" in text and "Digital Signature" in text and ski in text, text[:1500])
        check(f"{name}: a positive serial", serial is not None and "-" not in serial.group(1) and
              "(Negative)" not in text, serial and serial.group(1))

        dates = run(["openssl", "x509", "-in", pem_path, "-noout", "-startdate", "-enddate"], env).stdout
        start, end = [datetime.strptime(line.split("=", 1)[1].strip(), "%b %d %H:%M:%S %Y %Z")
                      for line in dates.splitlines()]
        check(f"{name}: valid for the 30 days asked", (end - start).days == 30, dates)

        info = run(["certtool", "-i", "--infile", pem_path], env).stdout
        check(f"{name}: certtool reads it and computes the token's key ID", f"sha1:{key_id}" in info, info[:800])

    ca = run(cli + ["generate", URI, "--type", "rsa:2048", "--label", "defaults", "--pin-file", pin_file,
                    "--certificate"], env, check_ok=False)
    der = read_cert(env, ca.stdout.strip())
    text = subprocess.run(["openssl", "x509", "-inform", "der", "-noout", "-subject", "-startdate", "-enddate"],
                          input=der, capture_output=True, text=False).stdout.decode()
    fields = dict(line.split("=", 1) for line in text.splitlines())
    start, end = [datetime.strptime(fields[k].strip(), "%b %d %H:%M:%S %Y %Z") for k in ("notBefore", "notAfter")]
    check("by default the subject is CN = SSH key and it is valid for 365 days",
          fields.get("subject", "").strip() == "CN = SSH key" and (end - start).days == 365, text)


def make_certificate(tmp, env, key_id, name):
    """A certificate for the token key with key_id, made by certtool on the token."""
    template = os.path.join(tmp, "template")
    with open(template, "w") as f:
        f.write(f'cn = "{name}"\nexpiration_days = 30\nsigning_key\n')
    pem = os.path.join(tmp, f"{name}.pem")
    uri_id = "".join("%" + byte for byte in re.findall("..", key_id))
    run(["certtool", "--provider", SOFTHSM, "--generate-self-signed",
         "--load-privkey", f"{URI};id={uri_id};type=private", "--load-pubkey", f"{URI};id={uri_id};type=public",
         "--template", template, "--outfile", pem], dict(env, GNUTLS_PIN=PIN))
    return pem


def make_stranger_certificate(tmp, env, name):
    """A self-signed certificate, and its key file, for a key on no token."""
    key = os.path.join(tmp, f"{name}.key")
    template = os.path.join(tmp, f"{name}.tmpl")
    pem = os.path.join(tmp, f"{name}.pem")
    run(["certtool", "--generate-privkey", "--outfile", key], env)
    with open(template, "w") as f:
        f.write(f'cn = "{name}"\nexpiration_days = 30\n')
    run(["certtool", "--generate-self-signed", "--load-privkey", key, "--template", template, "--outfile", pem], env)
    return pem, key


def pem_block(path, kind):
    """The first PEM block of this kind in the file, with its markers."""
    with open(path) as f:
        text = f.read()
    return re.search(rf"-----BEGIN {kind}-----\n.*?-----END {kind}-----\n", text, re.S).group(0)


def import_export(tmp):
    env, pin_file = setup(tmp)
    cli = [CLI, "--module", SOFTHSM]
    pkcs11_tool(env, SOFTHSM, TOKEN, PIN, "--keypairgen", "--key-type", "rsa:2048", "--id", "0c", "--label", "rsa")
    pkcs11_tool(env, SOFTHSM, TOKEN, PIN, "--keypairgen", "--key-type", "EC:prime256v1", "--id", "0d",
                "--label", "ec")
    rsa_pem = make_certificate(tmp, env, "0c", "rsa-cert")
    ec_pem = make_certificate(tmp, env, "0d", "ec-cert")
    ec_der = os.path.join(tmp, "ec-cert.der")
    run(["openssl", "x509", "-in", ec_pem, "-outform", "der", "-out", ec_der], env)
    # The EC key's public part then exists only in the certificate: the
    # import must pair it by a test signature.
    pkcs11_tool(env, SOFTHSM, TOKEN, PIN, "--delete-object", "--type", "pubkey", "--id", "0d")

    imported = run(cli + ["certificate", "import", URI, rsa_pem, "--pin-file", pin_file], env, check_ok=False)
    check("import PEM: the certificate gets the RSA private key's ID (key material)",
          imported.returncode == 0 and imported.stdout.strip() == "0c" and
          ("Certificate", "rsa", "0c") in list_objects(env, SOFTHSM, TOKEN, PIN), (imported.stdout, imported.stderr))
    imported = run(cli + ["certificate", "import", URI, ec_der, "--label", "ec cert", "--pin-file", pin_file], env,
                   check_ok=False)
    check("import DER: the certificate gets the EC private key's ID (test signature)",
          imported.returncode == 0 and imported.stdout.strip() == "0d" and
          ("Certificate", "ec cert", "0d") in list_objects(env, SOFTHSM, TOKEN, PIN), (imported.stdout, imported.stderr))
    with open(rsa_pem) as f:
        original = subprocess.run(["openssl", "x509", "-outform", "der"], stdin=f, capture_output=True).stdout
    check("import: the bytes on the token are the file's", read_cert(env, "0c") == original)

    for attempt in (1, 2):
        again = run(cli + ["certificate", "import", URI, rsa_pem, "--pin-file", pin_file], env, check_ok=False)
        check(f"re-import #{attempt}: reported as already on the token, and not written again",
              again.returncode != 0 and "already on the token" in again.stderr and
              [o for o in list_objects(env, SOFTHSM, TOKEN, PIN) if o[0] == "Certificate" and o[2] == "0c"]
              == [("Certificate", "rsa", "0c")], (again.stderr, list_objects(env, SOFTHSM, TOKEN, PIN)))

    before = list_objects(env, SOFTHSM, TOKEN, PIN)
    other_pem, _ = make_stranger_certificate(tmp, env, "elsewhere")
    refused = run(cli + ["certificate", "import", URI, other_pem, "--pin-file", pin_file], env, check_ok=False)
    check("import of a certificate whose key is not on the token is refused, and says why",
          refused.returncode == 1 and "No private key on the token matches" in refused.stderr and
          list_objects(env, SOFTHSM, TOKEN, PIN) == before, refused.stderr)
    with open(os.path.join(tmp, "garbage.pem"), "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
    refused = run(cli + ["certificate", "import", URI, os.path.join(tmp, "garbage.pem"), "--pin-file", pin_file],
                  env, check_ok=False)
    check("import of a malformed file is refused with a clear message, nothing written",
          refused.returncode == 1 and "not an X.509 certificate" in refused.stderr and
          list_objects(env, SOFTHSM, TOKEN, PIN) == before, refused.stderr)

    exported = run(cli + ["certificate", "export", URI, "--id", "0c"], env, check_ok=False)
    check("export PEM equals openssl's PEM of the token's certificate",
          exported.stdout == subprocess.run(["openssl", "x509", "-inform", "der"], input=read_cert(env, "0c"),
                                            capture_output=True).stdout.decode(), exported.stdout[:200])
    out = os.path.join(tmp, "out.der")
    exported = run(cli + ["certificate", "export", URI, "--id", "0d", "--der", "--output", out], env, check_ok=False)
    with open(out, "rb") as f:
        check("export DER writes the token's bytes", exported.returncode == 0 and f.read() == read_cert(env, "0d"))

    renamed = run(cli + ["rename", URI, "--id", "0c", "--label", "renamed key", "--pin-file", pin_file], env,
                  check_ok=False)
    objects = [o for o in list_objects(env, SOFTHSM, TOKEN, PIN) if o[2] == "0c"]
    check("rename relabels every object of the key",
          renamed.returncode == 0 and objects and all(o[1] == "renamed key" for o in objects) and len(objects) == 3,
          (renamed.stderr, objects))
    renamed = run(cli + ["rename", URI, "--id", "0c", "--kind", "certificate", "--label", "just the cert",
                         "--pin-file", pin_file], env, check_ok=False)
    objects = sorted(o for o in list_objects(env, SOFTHSM, TOKEN, PIN) if o[2] == "0c")
    check("rename --kind certificate relabels only the certificate",
          objects == [("Certificate", "just the cert", "0c"), ("Private Key", "renamed key", "0c"),
                      ("Public Key", "renamed key", "0c")], objects)

    before = list_objects(env, SOFTHSM, TOKEN, PIN)
    unconfirmed = run(cli + ["delete", URI, "--id", "0c", "--pin-file", pin_file], env, check_ok=False)
    check("delete without a terminal or --yes names what it would delete, and deletes nothing",
          unconfirmed.returncode != 0 and "Private key “renamed key” (ID 0c)" in unconfirmed.stderr and
          "Certificate “just the cert” (ID 0c)" in unconfirmed.stderr and "Nothing was deleted" in unconfirmed.stderr
          and list_objects(env, SOFTHSM, TOKEN, PIN) == before, unconfirmed.stderr)
    deleted = run(cli + ["delete", URI, "--id", "0c", "--yes", "--pin-file", pin_file], env, check_ok=False)
    after = list_objects(env, SOFTHSM, TOKEN, PIN)
    check("delete --yes removes the key's three objects and only them",
          deleted.returncode == 0 and after == [o for o in before if o[2] != "0c"], (deleted.stderr, after))
    missing = run(cli + ["delete", URI, "--id", "0c", "--yes", "--pin-file", pin_file], env, check_ok=False)
    check("delete of an ID that is not there says so", missing.returncode == 1 and "No key or certificate" in
          missing.stderr, missing.stderr)


def several_certificates(tmp):
    """A PEM with several certificates: each one for a key on the token is
    imported, the others are named with the reason; a second import adds
    nothing."""
    env, pin_file = setup(tmp)
    cli = [CLI, "--module", SOFTHSM]
    ids = {}
    for name, key_type in (("alice", "rsa:2048"), ("bob", "ec:p256"), ("carol", "ed25519")):
        made = run(cli + ["generate", URI, "--type", key_type, "--label", name, "--pin-file", pin_file], env,
                   check_ok=False)
        ids[name] = made.stdout.strip()
        check(f"several: key {name} generated", made.returncode == 0 and ids[name], made.stderr)
    alice_pem = make_certificate(tmp, env, ids["alice"], "alice")
    bob_pem = make_certificate(tmp, env, ids["bob"], "bob")
    carol_pem = make_certificate(tmp, env, ids["carol"], "carol")
    stranger_pem, stranger_key = make_stranger_certificate(tmp, env, "stranger")
    garbage = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"

    bundle = os.path.join(tmp, "bundle.pem")
    with open(bundle, "w") as f:
        f.write("Certificates for alice and bob\n" + pem_block(alice_pem, "CERTIFICATE") + garbage +
                pem_block(stranger_pem, "CERTIFICATE") + pem_block(bob_pem, "CERTIFICATE"))
    before = list_objects(env, SOFTHSM, TOKEN, PIN)

    imported = run(cli + ["certificate", "import", URI, bundle, "--pin-file", pin_file], env, check_ok=False)
    after = list_objects(env, SOFTHSM, TOKEN, PIN)
    check("several: both certificates whose keys are on the token are imported, exit status 0, their IDs printed",
          imported.returncode == 0 and imported.stdout.split() == [ids["alice"], ids["bob"]],
          (imported.stdout, imported.stderr))
    check("several: pkcs11-tool -O shows each certificate under its key's ID and label, and nothing else new",
          ("Certificate", "alice", ids["alice"]) in after and ("Certificate", "bob", ids["bob"]) in after and
          sorted(before + [("Certificate", "alice", ids["alice"]), ("Certificate", "bob", ids["bob"])]) == after,
          (before, after))
    check("several: the certificate for no key on this token is named on stderr, with the reason",
          "“CN=stranger” (position 3): matches no key on this token" in imported.stderr, imported.stderr)
    check("several: the malformed block in the middle is named by its position, and did not stop the others",
          "Position 2: not a certificate, or malformed" in imported.stderr, imported.stderr)
    check("several: the imported ones are not named as skipped",
          "alice" not in imported.stderr and "bob" not in imported.stderr and
          len(imported.stderr.strip().splitlines()) == 2, imported.stderr)
    with open(bob_pem) as f:
        original = subprocess.run(["openssl", "x509", "-outform", "der"], stdin=f, capture_output=True).stdout
    check("several: the bytes on the token are the file's", read_cert(env, ids["bob"]) == original)

    again = run(cli + ["certificate", "import", URI, bundle, "--pin-file", pin_file], env, check_ok=False)
    check("several, again: nothing added (pkcs11-tool -O as before)", list_objects(env, SOFTHSM, TOKEN, PIN) == after,
          list_objects(env, SOFTHSM, TOKEN, PIN))
    check("several, again: nothing imported is an error, exit status 1, that names each one and why",
          again.returncode == 1 and again.stdout == "" and "Nothing was imported" in again.stderr and
          "“CN=alice” (position 1): already on the token, as “alice”" in again.stderr and
          "“CN=bob” (position 4): already on the token, as “bob”" in again.stderr and
          "(position 3): matches no key on this token" in again.stderr and
          "Position 2: not a certificate, or malformed" in again.stderr, (again.stdout, again.stderr))

    both = os.path.join(tmp, "both.pem")
    with open(both, "w") as f:
        f.write(pem_block(alice_pem, "CERTIFICATE") + pem_block(bob_pem, "CERTIFICATE"))
    again = run(cli + ["certificate", "import", URI, both, "--pin-file", pin_file], env, check_ok=False)
    check("several, all already on the token: the error says so for each, and nothing is added",
          again.returncode == 1 and again.stderr.count("already on the token") == 2 and
          list_objects(env, SOFTHSM, TOKEN, PIN) == after, again.stderr)

    # A bundle as people keep them: a key file's block, a certificate
    # already there, a new one, and the new one once more
    mixed = os.path.join(tmp, "mixed.pem")
    with open(stranger_key) as f:
        key_block = re.search(r"-----BEGIN ([A-Z ]*PRIVATE KEY)-----\n.*?-----END \1-----\n", f.read(), re.S).group(0)
    with open(mixed, "w") as f:
        f.write(key_block + pem_block(alice_pem, "CERTIFICATE") + pem_block(carol_pem, "CERTIFICATE") +
                pem_block(carol_pem, "CERTIFICATE"))
    mixed_run = run(cli + ["certificate", "import", URI, mixed, "--pin-file", pin_file], env, check_ok=False)
    final = list_objects(env, SOFTHSM, TOKEN, PIN)
    check("mixed: the new certificate is imported once, and only it",
          mixed_run.returncode == 0 and mixed_run.stdout.split() == [ids["carol"]] and
          final == sorted(after + [("Certificate", "carol", ids["carol"])]),
          (mixed_run.stdout, mixed_run.stderr, final))
    check("mixed: the key block, the certificate already there and the repeat are each named",
          "Position 1: a “" in mixed_run.stderr and "PRIVATE KEY” block, not a certificate" in mixed_run.stderr and
          "“CN=alice” (position 2): already on the token" in mixed_run.stderr and
          "“CN=carol” (position 4): already on the token: the same as position 3" in mixed_run.stderr,
          mixed_run.stderr)

    help_text = run([CLI, "--help"], env, check_ok=False).stdout
    check("tessera-cli --help gives certificate import's exit status",
          "at least one was imported, 1 when none was" in help_text, help_text[-2000:])


def test_sign(tmp):
    env, pin_file = setup(tmp)
    cli = [CLI, "--module", SOFTHSM]
    for key_id in ("01", "02"):
        pkcs11_tool(env, SOFTHSM, TOKEN, PIN, "--keypairgen", "--key-type", "EC:prime256v1", "--id", key_id,
                    "--label", f"ec {key_id}")
    good = run(cli + ["test-sign", URI, "--id", "01", "--pin-file", pin_file], env, check_ok=False)
    check("test-sign: a key pair made by pkcs11-tool signs and verifies",
          good.returncode == 0 and "verifies" in good.stdout, (good.stdout, good.stderr))

    # Key 01's public-key object replaced by key 02's: OpenSSH would offer
    # a public key the card cannot sign for.
    public = os.path.join(tmp, "02.pub.der")
    pkcs11_tool(env, SOFTHSM, TOKEN, PIN, "--read-object", "--type", "pubkey", "--id", "02", "-o", public)
    pkcs11_tool(env, SOFTHSM, TOKEN, PIN, "--delete-object", "--type", "pubkey", "--id", "01")
    pkcs11_tool(env, SOFTHSM, TOKEN, PIN, "--write-object", public, "--type", "pubkey", "--id", "01",
                "--label", "ec 01")
    bad = run(cli + ["test-sign", URI, "--id", "01", "--pin-file", pin_file], env, check_ok=False)
    check("test-sign: a private key under another key's public key fails, and says they are not a pair",
          bad.returncode == 1 and "not a pair" in bad.stderr, (bad.stdout, bad.stderr))


def nothing_lost(tmp):
    """The doctor's ID fix through a test module that refuses, step by step."""
    cases = [
        ("C_SetAttributeValue refused: fixed by copy, check and delete", "refuse_set_attribute=1\n", True),
        ("C_SetAttributeValue and C_CopyObject refused: fixed by a new object", "refuse_set_attribute=1\nrefuse_copy=1\n",
         True),
        ("the original cannot be deleted: the copy is removed again", "refuse_set_attribute=1\nundestroyable_id=99\n",
         False),
        ("no copy can be written at all", "refuse_set_attribute=1\nrefuse_copy=1\nrefuse_create=1\n", False),
    ]
    for number, (name, control, fixes) in enumerate(cases):
        case = os.path.join(tmp, str(number))
        os.makedirs(case)
        env, pin_file = setup(case)
        pkcs11_tool(env, SOFTHSM, TOKEN, PIN, "--keypairgen", "--key-type", "rsa:2048", "--id", "01", "--label", "key")
        pem = make_certificate(case, env, "01", "cert")
        der = os.path.join(case, "cert.der")
        run(["openssl", "x509", "-in", pem, "-outform", "der", "-out", der], env)
        pkcs11_tool(env, SOFTHSM, TOKEN, PIN, "--write-object", der, "--type", "cert", "--id", "99", "--label", "cert")
        before = list_objects(env, SOFTHSM, TOKEN, PIN)
        with open(der, "rb") as f:
            value = f.read()

        control_file = os.path.join(case, "control")
        with open(control_file, "w") as f:
            f.write(control)
        doctor = run([CLI, "--module", TESTMOD, "doctor", URI, "--fix", "--pin-file", pin_file],
                     dict(env, TESSERA_TESTMOD_CONTROL=control_file), check_ok=False)
        after = list_objects(env, SOFTHSM, TOKEN, PIN)
        if fixes:
            expected = sorted([o if o[0] != "Certificate" else ("Certificate", "cert", "01") for o in before])
            check(f"nothing lost: {name}",
                  doctor.returncode == 0 and after == expected and read_cert(env, "01") == value,
                  (doctor.stdout, doctor.stderr, before, after))
        else:
            check(f"nothing lost: {name}; every object as before",
                  doctor.returncode != 0 and "Nothing was changed" in doctor.stdout and after == before and
                  read_cert(env, "99") == value, (doctor.stdout, doctor.stderr, before, after))


def hidden_key_fallback(tmp):
    """A private key with no public part, on a token that will not store a
    public key: the doctor writes a self-signed certificate instead."""
    env, pin_file = setup(tmp)
    pkcs11_tool(env, SOFTHSM, TOKEN, PIN, "--keypairgen", "--key-type", "rsa:2048", "--id", "0e", "--label", "lonely")
    pkcs11_tool(env, SOFTHSM, TOKEN, PIN, "--delete-object", "--type", "pubkey", "--id", "0e")
    control_file = os.path.join(tmp, "control")
    with open(control_file, "w") as f:
        f.write("refuse_create_public=1\n")
    doctor = run([CLI, "--module", TESTMOD, "doctor", URI, "--fix", "--pin-file", pin_file],
                 dict(env, TESSERA_TESTMOD_CONTROL=control_file), check_ok=False)
    objects = list_objects(env, SOFTHSM, TOKEN, PIN)
    check("no public key allowed: the fix writes a self-signed certificate under the key's ID",
          doctor.returncode == 0 and sorted(objects) == [("Certificate", "lonely", "0e"), ("Private Key", "lonely", "0e")],
          (doctor.stdout, doctor.stderr, objects))
    der = read_cert(env, "0e")
    pem = subprocess.run(["openssl", "x509", "-inform", "der"], input=der, capture_output=True).stdout
    with open(os.path.join(tmp, "c.pem"), "wb") as f:
        f.write(pem)
    verified = run(["openssl", "verify", "-check_ss_sig", "-CAfile", os.path.join(tmp, "c.pem"),
                    os.path.join(tmp, "c.pem")], env, check_ok=False)
    check("... which openssl verifies, and ssh-keygen -D now lists the key",
          verified.returncode == 0 and "ssh-rsa " in run(["ssh-keygen", "-D", SOFTHSM], env, check_ok=False).stdout,
          verified.stdout + verified.stderr)


def main():
    return run_cases((self_signed, import_export, several_certificates, test_sign, nothing_lost, hidden_key_fallback),
                     "tessera-certificates-test-")


if __name__ == "__main__":
    sys.exit(main())
