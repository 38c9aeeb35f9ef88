#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# tessera-cli against the reference tools, on real SoftHSM tokens:
# the objects, labels, IDs and usages it lists agree with
# `pkcs11-tool -O --login`, and its errors are clear and non-zero.

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
CLI = os.environ["TESSERA_CLI"]
SO_PIN, PIN = "12345678", "123456"

results = []


def check(name, condition, detail=""):
    results.append((name, bool(condition), detail))


def run(argv, env, check_ok=True, stdin=subprocess.DEVNULL):
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, stdin=stdin)
    if check_ok and proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({proc.returncode}): {proc.stderr}")
    return proc


def make_token(tmp, label):
    os.makedirs(os.path.join(tmp, "tokens"))
    conf = os.path.join(tmp, "softhsm2.conf")
    with open(conf, "w") as f:
        f.write(f"directories.tokendir = {tmp}/tokens\n")
    env = dict(os.environ, SOFTHSM2_CONF=conf)
    run(["softhsm2-util", "--init-token", "--free", "--label", label,
         "--so-pin", SO_PIN, "--pin", PIN], env)
    return env


def tool(env, label, *args):
    return run(["pkcs11-tool", "--module", MODULE, "--token-label", label,
                "--login", "--pin", PIN, *args], env)


def pkcs11_tool_objects(env, label):
    """Parses `pkcs11-tool -O --login` into (kind, label, id, usage) tuples."""
    out = tool(env, label, "-O").stdout
    objects = []
    current = None
    kinds = {"Private Key Object": "private-key", "Public Key Object": "public-key",
             "Certificate Object": "certificate", "Data object": "data"}
    for line in out.splitlines():
        header = re.match(r"^(Private Key Object|Public Key Object|Certificate Object|Data object)", line)
        if header:
            current = {"kind": kinds[header.group(1)], "label": "", "id": "", "usage": None}
            objects.append(current)
            continue
        field = re.match(r"^\s+(label|ID|Usage):\s*(.*)$", line)
        if field and current is not None:
            key = {"label": "label", "ID": "id", "Usage": "usage"}[field.group(1)]
            value = field.group(2).strip()
            if key == "label" and current["kind"] == "data":
                value = value.strip("'")  # pkcs11-tool quotes data object labels
            if key == "usage":
                value = sorted(u.strip() for u in value.split(",") if u.strip() and u.strip() != "none")
            current[key] = value
    return objects


def main():
    tmp = tempfile.mkdtemp(prefix="tessera-cli-test-")
    try:
        env = make_token(tmp, "Agree")
        tool(env, "Agree", "--keypairgen", "--key-type", "rsa:2048", "--id", "01", "--label", "SSH key")
        tool(env, "Agree", "--keypairgen", "--key-type", "EC:prime256v1", "--id", "a1b2", "--label", "Clé EC")
        tool(env, "Agree", "--keypairgen", "--key-type", "EC:secp384r1", "--id", "03", "--label", "")
        tool(env, "Agree", "--keypairgen", "--key-type", "EC:edwards25519", "--id", "05", "--label", "ed")
        key = os.path.join(tmp, "k.pem")
        cfg = os.path.join(tmp, "c.cfg")
        pem = os.path.join(tmp, "c.pem")
        der = os.path.join(tmp, "c.der")
        with open(cfg, "w") as f:
            f.write('cn = "SSH key"\nserial = 7\nexpiration_days = 30\nsigning_key\n')
        run(["certtool", "--generate-privkey", "--key-type", "ecdsa", "--outfile", key], env)
        run(["certtool", "--generate-self-signed", "--load-privkey", key, "--template", cfg,
             "--outfile", pem], env)
        run(["certtool", "--certificate-info", "--infile", pem, "--outder", "--outfile", der], env)
        tool(env, "Agree", "--write-object", der, "--type", "cert", "--id", "01", "--label", "SSH cert")
        data = os.path.join(tmp, "data.bin")
        with open(data, "wb") as f:
            f.write(b"hello")
        tool(env, "Agree", "--write-object", data, "--type", "data", "--label", "note")

        pin_file = os.path.join(tmp, "pin")
        with open(pin_file, "w") as f:
            f.write(PIN + "\n")
        os.chmod(pin_file, 0o600)

        # tokens: the token and the blank slot, as JSON
        tokens = json.loads(run([CLI, "tokens", "--module", MODULE, "--json"], env).stdout)
        labels = [t["label"] for m in tokens["modules"] for t in m["tokens"]]
        check("tokens lists the token and the blank slot", sorted(labels) == ["", "Agree"], labels)
        agree = [t for m in tokens["modules"] for t in m["tokens"] if t["label"] == "Agree"][0]
        check("token states decoded", "login-required" in agree["states"] and
              "not-initialized" not in agree["states"], agree["states"])
        check("token URI names the token", agree["uri"].startswith("pkcs11:") and "token=Agree" in agree["uri"],
              agree["uri"])

        # objects after login agree with pkcs11-tool -O --login
        ours = json.loads(run([CLI, "objects", "--module", MODULE, agree["uri"], "--login",
                               "--pin-file", pin_file, "--json"], env).stdout)
        theirs = pkcs11_tool_objects(env, "Agree")

        def key_of(o):
            return (o["kind"], o["label"], o["id"])

        our_set = sorted(key_of(o) for o in ours["objects"])
        their_set = sorted(key_of(o) for o in theirs)
        check("same objects, labels and IDs as pkcs11-tool -O --login", our_set == their_set,
              f"ours={our_set} theirs={their_set}")
        check("ten objects seen", len(our_set) == 10, our_set)

        their_usage = {key_of(o): o["usage"] for o in theirs if o["usage"] is not None}
        mismatched = []
        for o in ours["objects"]:
            if key_of(o) in their_usage and "usage" in o:
                mine = sorted(u.strip().lower() for u in o["usage"].split(",") if o["usage"] != "None")
                if mine != their_usage[key_of(o)]:
                    mismatched.append((key_of(o), mine, their_usage[key_of(o)]))
        check("key usages agree with pkcs11-tool", not mismatched, mismatched)

        keys = {k["id"]: k for k in ours["keys"]}
        check("keys grouped by ID", sorted(keys) == ["01", "03", "05", "a1b2"], sorted(keys))
        check("key 01 has private key, public key and certificate",
              all(keys["01"][p] for p in ("private_key", "public_key", "certificate")), keys.get("01"))
        cert = [o for o in ours["objects"] if o["kind"] == "certificate"][0]
        fp = run(["openssl", "x509", "-inform", "DER", "-in", der, "-noout", "-fingerprint", "-sha256"],
                 env).stdout.strip().split("=", 1)[1]
        check("certificate fingerprint equals openssl's", cert["fingerprint_sha256"] == fp,
              (cert["fingerprint_sha256"], fp))
        check("certificate subject parsed", cert["subject"] == "CN=SSH key", cert["subject"])

        # the call budget: N objects after login cost at most N + 16 calls,
        # process start to exit, counted by OpenSC's pkcs11-spy
        spy_log = os.path.join(tmp, "spy.log")
        spy_env = dict(env, PKCS11SPY=MODULE, PKCS11SPY_OUTPUT=spy_log)
        run([CLI, "objects", "--module", "/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so",
             "pkcs11:token=Agree", "--login", "--pin-file", pin_file, "--json"], spy_env)
        with open(spy_log) as f:
            calls = [line.split()[1] for line in f if re.match(r"^[0-9]+: C_", line)]
        n_objects = len(ours["objects"])
        check(f"{len(calls)} PKCS#11 calls for {n_objects} objects, within N + 16",
              len(calls) <= n_objects + 16, calls)
        check("one C_GetAttributeValue per object",
              calls.count("C_GetAttributeValue") == n_objects, calls.count("C_GetAttributeValue"))
        check("exactly one login", calls.count("C_Login") == 1, calls.count("C_Login"))

        # without login: only the public objects, as pkcs11-tool -O without login
        public = json.loads(run([CLI, "objects", "--module", MODULE, "pkcs11:token=Agree", "--json"],
                                env).stdout)
        their_public = run(["pkcs11-tool", "--module", MODULE, "--token-label", "Agree", "-O"], env).stdout
        n_theirs = len(re.findall(r"^(Public Key|Certificate|Data) [Oo]bject", their_public, re.M))
        check("public objects without login agree with pkcs11-tool -O",
              len(public["objects"]) == n_theirs and not public["logged_in"],
              (len(public["objects"]), n_theirs))

        # errors: wrong PIN, missing module, unknown token, no PIN source
        bad = os.path.join(tmp, "bad")
        with open(bad, "w") as f:
            f.write("999999\n")
        proc = run([CLI, "objects", "--module", MODULE, "pkcs11:token=Agree", "--login",
                    "--pin-file", bad], env, check_ok=False)
        check("wrong PIN exits non-zero with a clear message",
              proc.returncode == 1 and proc.stderr.startswith("tessera-cli: Wrong PIN."), proc.stderr)
        check("no PIN on stdout or stderr", "999999" not in proc.stdout + proc.stderr)

        proc = run([CLI, "tokens", "--module", "/nonexistent/module.so", "--module", MODULE],
                   env, check_ok=False)
        check("missing module reported (exit 1, named on stderr), others still listed",
              proc.returncode == 1 and "does not exist" in proc.stdout and "Agree" in proc.stdout
              and "/nonexistent/module.so" in proc.stderr, proc.stdout + proc.stderr)

        proc = run([CLI, "objects", "--module", MODULE, "pkcs11:token=Nothing"], env, check_ok=False)
        check("unknown token exits non-zero", proc.returncode == 1 and "No token" in proc.stderr,
              proc.stderr)

        proc = run(["setsid", "-w", CLI, "objects", "--module", MODULE, "pkcs11:token=Agree", "--login"],
                   env, check_ok=False)
        check("login without a terminal or --pin-file fails clearly",
              proc.returncode == 1 and "--pin-file" in proc.stderr, proc.stderr)

        # final try and locked: no C_Login is spent without the user's word,
        # counted by pkcs11-spy in front of the test module
        testmod = os.environ["TESSERA_TESTMOD"]
        control = os.path.join(tmp, "control")
        spy = "/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so"
        guard_env = dict(env, PKCS11SPY=testmod, PKCS11SPY_OUTPUT=spy_log,
                         TESSERA_TESTMOD_CONTROL=control)

        def logins(*extra):
            if os.path.exists(spy_log):
                os.unlink(spy_log)
            proc = run([CLI, "objects", "--module", spy, "pkcs11:token=Agree", "--login",
                        "--pin-file", pin_file, *extra], guard_env, check_ok=False)
            with open(spy_log) as f:
                return proc, sum(1 for line in f if re.match(r"^[0-9]+: C_Login", line))

        with open(control, "w") as f:
            f.write("pin_final_try=1\n")
        proc, n = logins()
        check("final try: refused without --final-try, no C_Login",
              proc.returncode == 1 and "--final-try" in proc.stderr and n == 0, (proc.stderr, n))
        proc, n = logins("--final-try")
        check("final try: --final-try logs in once", proc.returncode == 0 and n == 1, (proc.stderr, n))

        with open(control, "w") as f:
            f.write("pin_locked=1\n")
        proc, n = logins("--final-try")
        check("locked PIN: refused with no C_Login at all",
              proc.returncode == 1 and "locked" in proc.stderr and n == 0, (proc.stderr, n))

        short = os.path.join(tmp, "short")
        with open(short, "w") as f:
            f.write("12\n")
        os.unlink(control)
        proc = run([CLI, "objects", "--module", spy, "pkcs11:token=Agree", "--login",
                    "--pin-file", short], guard_env, check_ok=False)
        with open(spy_log) as f:
            n = sum(1 for line in f if re.match(r"^[0-9]+: C_Login", line))
        check("a PIN shorter than the token's minimum is refused before any C_Login",
              proc.returncode == 1 and "4 to 255" in proc.stderr and n == 0, (proc.stderr, n))

        proc = run([CLI, "tokens", "--module", "/tmp/\udcff\x01.so", "--json"], env, check_ok=False)
        try:
            json.loads(proc.stdout)
            valid = True
        except ValueError:
            valid = False
        check("JSON stays valid with a non-UTF-8 path", valid, proc.stdout)

        proc = run([CLI, "frobnicate"], env, check_ok=False)
        check("unknown command is a usage error", proc.returncode == 2, proc.returncode)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"1..{len(results)}")
    failed = 0
    for i, (name, ok, detail) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {name}")
        if not ok:
            failed += 1
            print(f"# {detail}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
