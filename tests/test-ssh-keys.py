#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# tessera-cli ssh-keys against ssh-keygen, byte for byte, on SoftHSM and on
# opencryptoki's software token: RSA 1024/2048/4096 and a non-default
# exponent, EC P-256/P-384/P-521, labels with spaces, non-ASCII text and
# none, a certificate-only key with several RDNs; fingerprints against
# ssh-keygen -l; Ed25519 against pkcs11-tool --read-object.

import base64
import os
import shutil
import subprocess
import sys
import tempfile

CLI = os.environ["TESSERA_CLI"]
SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"
OPENCRYPTOKI = "/usr/lib/x86_64-linux-gnu/pkcs11/libopencryptoki.so"

results = []


def check(name, condition, detail=""):
    results.append((name, "ok" if condition else "not ok", detail))


def skip(name, why):
    results.append((name, "skip", why))


def run(argv, env, check_ok=True):
    proc = subprocess.run(argv, env=env, capture_output=True, stdin=subprocess.DEVNULL)
    if check_ok and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.decode(errors='replace')}")
    return proc


def make_certificate(tmp, env, name, subject_lines, key_type="rsa"):
    key = os.path.join(tmp, f"{name}.key")
    cfg = os.path.join(tmp, f"{name}.cfg")
    der = os.path.join(tmp, f"{name}.der")
    with open(cfg, "w") as f:
        f.write(subject_lines + "serial = 99\nexpiration_days = 30\nsigning_key\n")
    run(["certtool", "--generate-privkey", "--key-type", key_type, "--outfile", key], env)
    run(["certtool", "--generate-self-signed", "--load-privkey", key, "--template", cfg,
         "--outder", "--outfile", der], env)
    return der


def fill_token(tmp, env, module, token_args, pin, ed25519=True, rsa4096=True, ec=True):
    def tool(*args):
        run(["pkcs11-tool", "--module", module, *token_args, "--login", "--pin", pin, *args], env)

    tool("--keypairgen", "--key-type", "rsa:1024", "--id", "01", "--label", "rsa 1024")
    tool("--keypairgen", "--key-type", "rsa:2048", "--id", "02", "--label", "SSH key with spaces")
    if rsa4096:
        tool("--keypairgen", "--key-type", "rsa:4096", "--id", "03", "--label", "rsa 4096")
    if ec:
        tool("--keypairgen", "--key-type", "EC:prime256v1", "--id", "04", "--label", "Clé née à Zürich")
        tool("--keypairgen", "--key-type", "EC:secp384r1", "--id", "05", "--label", "")
        tool("--keypairgen", "--key-type", "EC:secp521r1", "--id", "06", "--label", "p521")
    else:
        tool("--keypairgen", "--key-type", "rsa:2048", "--id", "04", "--label", "Clé née à Zürich")
        tool("--keypairgen", "--key-type", "rsa:2048", "--id", "05", "--label", "")
    # RSA with public exponent 3, made by openssl and written to the token
    pem = os.path.join(tmp, "e3.pem")
    run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
         "-pkeyopt", "rsa_keygen_pubexp:3", "-out", pem], env)
    run(["openssl", "pkey", "-in", pem, "-pubout", "-outform", "DER", "-out", pem + ".pub.der"], env)
    tool("--write-object", pem + ".pub.der", "--type", "pubkey", "--id", "07", "--label", "exponent 3")
    # a certificate-only key whose subject has several RDNs
    der = make_certificate(tmp, env, "multi", 'country = "US"\norganization = "Acme Inc"\n'
                           'unit = "Ops, West"\ncn = "SSH key"\n')
    tool("--write-object", der, "--type", "cert", "--id", "08", "--label", "certificate only")
    if ed25519:
        tool("--keypairgen", "--key-type", "EC:edwards25519", "--id", "09", "--label", "ed25519")


def compare_with_ssh_keygen(tmp, env, backend, module, uri):
    ours = run([CLI, "ssh-keys", "--module", module] + ([uri] if uri else []), env).stdout
    theirs = run(["ssh-keygen", "-D", module], env).stdout
    their_lines = theirs.splitlines()
    our_lines = ours.splitlines()
    check(f"{backend}: ssh-keygen -D printed keys", len(their_lines) >= 7, len(their_lines))
    # The module lists objects in an order of its own, which differs from
    # process to process (SoftHSM), so the lines are compared as a set.
    check(f"{backend}: ssh-keys prints the lines ssh-keygen -D prints, no more, no fewer",
          sorted(our_lines) == sorted(their_lines),
          f"ours:\n{ours.decode(errors='replace')}\ntheirs:\n{theirs.decode(errors='replace')}")
    missing = [l for l in their_lines if l not in our_lines]
    check(f"{backend}: every ssh-keygen -D line is byte-identical in ours", not missing, missing)

    # fingerprints: each line alone through ssh-keygen -l
    for hash_name in ("sha256", "md5"):
        ours_fp = run([CLI, "ssh-keys", "--module", module, "--fingerprints", "-E", hash_name] +
                      ([uri] if uri else []), env).stdout.splitlines()
        theirs_fp = []
        for i, line in enumerate(their_lines):
            path = os.path.join(tmp, f"line{i}.pub")
            with open(path, "wb") as f:
                f.write(line + b"\n")
            theirs_fp.append(run(["ssh-keygen", "-l", "-E", hash_name, "-f", path], env).stdout.strip())
        check(f"{backend}: --fingerprints -E {hash_name} equals ssh-keygen -l -E {hash_name}",
              sorted(ours_fp) == sorted(theirs_fp) and len(ours_fp) == len(our_lines),
              f"ours={ours_fp}\ntheirs={theirs_fp}")
    return our_lines


def softhsm(tmp):
    os.makedirs(os.path.join(tmp, "tokens"))
    conf = os.path.join(tmp, "softhsm2.conf")
    with open(conf, "w") as f:
        f.write(f"directories.tokendir = {tmp}/tokens\n")
    env = dict(os.environ, SOFTHSM2_CONF=conf)
    run(["softhsm2-util", "--init-token", "--free", "--label", "SSH", "--so-pin", "12345678",
         "--pin", "123456"], env)
    fill_token(tmp, env, SOFTHSM, ["--token-label", "SSH"], "123456")
    compare_with_ssh_keygen(tmp, env, "SoftHSM", SOFTHSM, None)

    # Ed25519: OpenSSH 9.2 skips it; --all prints it, ssh-keygen parses it,
    # and its key is the one pkcs11-tool reads.
    all_lines = run([CLI, "ssh-keys", "--module", SOFTHSM, "--all"], env).stdout.splitlines()
    ed = [l for l in all_lines if l.startswith(b"ssh-ed25519 ")]
    plain = run([CLI, "ssh-keys", "--module", SOFTHSM], env).stdout.splitlines()
    check("SoftHSM: Ed25519 listed only with --all", len(ed) == 1 and not any(
        l.startswith(b"ssh-ed25519") for l in plain), all_lines)
    if ed:
        path = os.path.join(tmp, "ed.pub")
        with open(path, "wb") as f:
            f.write(ed[0] + b"\n")
        proc = run(["ssh-keygen", "-l", "-f", path], env, check_ok=False)
        check("SoftHSM: ssh-keygen -l parses the Ed25519 line",
              proc.returncode == 0 and proc.stdout.strip().endswith(b"(ED25519)"), proc.stdout + proc.stderr)
        der = os.path.join(tmp, "ed.der")
        run(["pkcs11-tool", "--module", SOFTHSM, "--token-label", "SSH", "--read-object",
             "--type", "pubkey", "--id", "09", "--output-file", der], env)
        with open(der, "rb") as f:
            spki = f.read()
        if spki.startswith(b"-----BEGIN"):  # pkcs11-tool writes public keys as PEM
            spki = base64.b64decode(b"".join(spki.splitlines()[1:-1]))
        blob = base64.b64decode(ed[0].split()[1])
        check("SoftHSM: the Ed25519 key equals pkcs11-tool --read-object's",
              len(blob) == 51 and spki.endswith(blob[-32:]), (spki.hex(), blob.hex()))


def hostile_labels(tmp):
    """A label is data any program may write: one that holds a line break
    and a forged key, or a terminal escape, must not become a second
    authorized_keys line or drive the terminal.  ssh-keygen -D prints them
    raw; Tessera leaves the comment out and says why."""
    os.makedirs(os.path.join(tmp, "tokens"))
    conf = os.path.join(tmp, "softhsm2.conf")
    with open(conf, "w") as f:
        f.write(f"directories.tokendir = {tmp}/tokens\n")
    env = dict(os.environ, SOFTHSM2_CONF=conf)
    run(["softhsm2-util", "--init-token", "--free", "--label", "Labels", "--so-pin", "12345678",
         "--pin", "123456"], env)
    forged = "evil\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFORGEDFORGEDFORGEDFORGEDFORGEDFORGEDFORGED attacker"
    labels = {"01": forged, "02": "red \x1b[31mtext\x1b[0m", "03": "plain label"}
    for key_id, label in labels.items():
        run(["pkcs11-tool", "--module", SOFTHSM, "--token-label", "Labels", "--login", "--pin", "123456",
             "--keypairgen", "--key-type", "EC:prime256v1", "--id", key_id, "--label", label], env)

    ours = run([CLI, "ssh-keys", "--module", SOFTHSM], env).stdout.decode()
    theirs = run(["ssh-keygen", "-D", SOFTHSM], env).stdout.decode()
    our_lines = ours.splitlines()
    check("hostile labels: ssh-keygen -D itself prints the forged line (the hazard is real)",
          "\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFORGED" in theirs, theirs)
    check("hostile labels: one line per key, no forged line",
          len(our_lines) == 3 and not any("FORGED" in l for l in our_lines), ours)
    check("hostile labels: no escape character reaches the output", "\x1b" not in ours, repr(ours))
    keys_theirs = sorted(" ".join(l.split()[:2]) for l in theirs.splitlines() if l.startswith("ecdsa-"))
    keys_ours = sorted(" ".join(l.split()[:2]) for l in our_lines)
    check("hostile labels: the keys themselves equal ssh-keygen -D's", keys_ours == keys_theirs,
          (keys_ours, keys_theirs))
    check("hostile labels: an ordinary label is still the comment, byte for byte",
          any(l.endswith(" plain label") for l in our_lines) and
          [l for l in our_lines if l.endswith(" plain label")][0] in theirs.splitlines(), ours)
    bare = [l for l in our_lines if not l.endswith(" plain label")]
    check("hostile labels: a label with control characters leaves the line without a comment",
          len(bare) == 2 and all(len(l.split()) == 2 for l in bare), bare)

    listing = run([CLI, "objects", "--module", SOFTHSM, "pkcs11:token=Labels"], env).stdout.decode()
    check("hostile labels: objects shows them escaped, on one line",
          "evil\\x0assh-ed25519" in listing and "red \\x1b[31mtext" in listing and "\x1b" not in listing,
          listing)
    reasons = run([CLI, "objects", "--module", SOFTHSM, "pkcs11:token=Labels", "--json"], env).stdout.decode()
    check("hostile labels: the readiness sentence says why the comment is missing",
          reasons.count("control characters") == 2, reasons)


def opencryptoki(tmp):
    # The token is machine-global: back to how the package leaves it.
    reset = os.path.join(os.environ["G_TEST_SRCDIR"], "opencryptoki-reset.sh")
    if subprocess.run([reset], capture_output=True).returncode != 0:
        skip("opencryptoki: byte equality with ssh-keygen -D", "pkcsslotd cannot run here")
        return
    env = dict(os.environ)
    so_pin, pin = "87654321", "12345678"
    token = ["--slot", "3"]
    # re-initialise: the token is machine-global state
    run(["pkcs11-tool", "--module", OPENCRYPTOKI, *token, "--init-token", "--so-pin", so_pin,
         "--label", "tessera-ssh"], env)
    run(["pkcs11-tool", "--module", OPENCRYPTOKI, *token, "--login", "--login-type", "so",
         "--so-pin", so_pin, "--init-pin", "--pin", pin], env)
    # opencryptoki 3.8.1's soft token generates neither EC nor Ed25519 keys
    # (pkcs11-tool: "Generate EC key mechanism 1040 not supported")
    mechanisms = run(["pkcs11-tool", "--module", OPENCRYPTOKI, *token, "-M"], env).stdout
    ec = b"ECDSA-KEY-PAIR-GEN" in mechanisms or b"EC-KEY-PAIR-GEN" in mechanisms
    if not ec:
        skip("opencryptoki: EC keys", "its soft token has no EC key generation")
    fill_token(tmp, env, OPENCRYPTOKI, token, pin, ed25519=False, rsa4096=True, ec=ec)
    compare_with_ssh_keygen(tmp, env, "opencryptoki", OPENCRYPTOKI, None)


def main():
    for backend in (softhsm, hostile_labels, opencryptoki):
        tmp = tempfile.mkdtemp(prefix="tessera-ssh-test-")
        try:
            backend(tmp)
        except Exception as e:  # a backend that breaks is a failure, not a skip
            check(f"{backend.__name__}: ran without error", False, repr(e))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

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


if __name__ == "__main__":
    sys.exit(main())
