#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# tessera-cli generate on SoftHSM, judged by the reference tools: each key
# type makes a sensitive, non-extractable private key and a public key that
# share one CKA_ID, the key ID certtool computes; ssh-keygen -D lists the
# keys the installed OpenSSH can use.

import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

CLI = os.environ["TESSERA_CLI"]
SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"
TYPES = ["rsa:2048", "rsa:3072", "ec:p256", "ec:p384", "ec:p521", "ed25519"]

results = []


def check(name, condition, detail=""):
    results.append((name, bool(condition), detail))


def run(argv, env, check_ok=True, input=None):
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, input=input,
                          stdin=None if input is not None else subprocess.DEVNULL)
    if check_ok and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr}")
    return proc


def main():
    tmp = tempfile.mkdtemp(prefix="tessera-generate-")
    try:
        os.makedirs(os.path.join(tmp, "tokens"))
        conf = os.path.join(tmp, "softhsm2.conf")
        with open(conf, "w") as f:
            f.write(f"directories.tokendir = {tmp}/tokens\n")
        env = dict(os.environ, SOFTHSM2_CONF=conf)
        run(["softhsm2-util", "--init-token", "--free", "--label", "Gen", "--so-pin", "12345678",
             "--pin", "123456"], env)
        pin = os.path.join(tmp, "pin")
        with open(pin, "w") as f:
            f.write("123456\n")

        ids = {}
        # Ed25519 too runs in the module's own process: p11-kit 0.24's RPC
        # cannot carry EdDSA, so the host's extension channel does.
        for key_type in TYPES:
            proc = run([CLI, "generate", "--module", SOFTHSM, "pkcs11:token=Gen", "--type", key_type,
                        "--label", f"made {key_type}", "--pin-file", pin], env, check_ok=False)
            ids[key_type] = proc.stdout.strip()
            check(f"{key_type}: generated, with a 20-byte ID",
                  proc.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", ids[key_type]), proc.stderr)

        listing = run(["pkcs11-tool", "--module", SOFTHSM, "--token-label", "Gen", "-O", "--login",
                       "--pin", "123456"], env).stdout
        blocks = re.split(r"\n(?=\S)", listing)
        ssh = run(["ssh-keygen", "-D", SOFTHSM], env, check_ok=False).stdout
        for key_type in TYPES:
            mine = [b for b in blocks if f"ID:         {ids[key_type]}" in b]
            private = [b for b in mine if b.startswith("Private Key Object")]
            public = [b for b in mine if b.startswith("Public Key Object")]
            check(f"{key_type}: pkcs11-tool sees a private and a public key sharing the ID",
                  len(private) == 1 and len(public) == 1, mine)
            check(f"{key_type}: the private key is sensitive and never extractable, and may sign",
                  private and "sensitive" in private[0] and "never extractable" in private[0] and
                  "sign" in private[0], private)

            label = urllib.parse.quote(f"made {key_type}")
            exported = run(["p11tool", "--provider", SOFTHSM, "--export-pubkey",
                            f"pkcs11:token=Gen;object={label};type=public"],
                           dict(env, GNUTLS_PIN="123456"), check_ok=False).stdout
            info = run(["certtool", "--pubkey-info"], env, check_ok=False, input=exported).stdout
            match = re.search(r"sha1:([0-9a-f]{40})", info)
            check(f"{key_type}: the ID is the key ID certtool computes (GnuTLS convention)",
                  match and match.group(1) == ids[key_type], (info[:300], ids[key_type]))

            listed = f" made {key_type}" in ssh
            if key_type == "ed25519":
                check(f"{key_type}: ssh-keygen -D of OpenSSH 9.2 skips it, as Tessera warns", not listed, ssh)
            else:
                check(f"{key_type}: ssh-keygen -D lists the new key", listed, ssh)

        proc = run([CLI, "generate", "--module", SOFTHSM, "pkcs11:token=Gen", "--type", "dsa:1024",
                    "--pin-file", pin], env, check_ok=False)
        check("an unknown type is a usage error", proc.returncode == 2, proc.stderr)
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
