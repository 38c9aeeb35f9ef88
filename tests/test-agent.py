#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# tessera-cli agent against a real ssh-agent and a real sshd on 127.0.0.1:
# add, remove, constraints, and one distinct message and exit status for
# each refusal. SoftHSM always; opencryptoki's software token where
# pkcsslotd runs.

import os
import shutil
import socket
import subprocess
import sys
import threading
import time

from tessera_fixtures import OPENCRYPTOKI, SOFTHSM, Agent, Sshd, check, run, run_cases, skip, softhsm_token

CLI = os.environ["TESSERA_CLI"]


def keygen(env, module, token_args, pin, key_type, key_id, label):
    run(["pkcs11-tool", "--module", module, *token_args, "--login", "--pin", pin,
         "--keypairgen", "--key-type", key_type, "--id", key_id, "--label", label], env)


def end_to_end(tmp, env, backend, module, uri, pin):
    pin_file = os.path.join(tmp, "pin")
    with open(pin_file, "w") as f:
        f.write(pin + "\n")
    lines = run([CLI, "ssh-keys", "--module", module, uri], env).stdout
    check(f"{backend}: the token has SSH keys", lines.count("\n") >= 2, lines)
    agent = Agent(tmp, env)
    sshd = Sshd(tmp, env, lines)
    env = dict(env, SSH_AUTH_SOCK=agent.sock)
    try:
        check(f"{backend}: no login before the card is added", sshd.login(env) != 0)

        proc = run([CLI, "agent", "status", "--module", module, uri], env, check_ok=False)
        check(f"{backend}: status says none at first", proc.returncode == 0 and proc.stdout == "none\n",
              proc.stdout + proc.stderr)

        proc = run([CLI, "agent", "add", "--module", module, uri, "--pin-file", pin_file], env, check_ok=False)
        check(f"{backend}: agent add succeeds and reports all keys", proc.returncode == 0 and
              proc.stdout == "all\n", proc.stdout + proc.stderr)
        listed = run(["ssh-add", "-l"], env, check_ok=False).stdout
        check(f"{backend}: ssh-add -l lists the card's keys", listed.count("\n") == lines.count("\n"), listed)
        check(f"{backend}: ssh -p PORT 127.0.0.1 true exits 0 with the card", sshd.login(env) == 0)

        # opencryptoki 3.8.1's module dies in ssh-pkcs11-helper after the first
        # use, and the agent then can neither remove nor re-add it (its own
        # log: "write to helper failed"); so this is checked on SoftHSM.
        if backend == "SoftHSM":
            proc = run([CLI, "agent", "add", "--module", module, uri, "--pin-file", pin_file], env,
                       check_ok=False)
            check(f"{backend}: adding again works (remove, then add)", proc.returncode == 0, proc.stderr)

        proc = run([CLI, "agent", "remove", "--module", module, uri], env, check_ok=False)
        check(f"{backend}: agent remove succeeds", proc.returncode == 0 and proc.stdout == "none\n",
              proc.stdout + proc.stderr)
        check(f"{backend}: ssh fails once the card is removed", sshd.login(env) != 0)
    finally:
        sshd.stop()
        agent.stop()


def softhsm_cases(tmp):
    env = softhsm_token(tmp, "Agent")
    keygen(env, SOFTHSM, ["--token-label", "Agent"], "123456", "rsa:2048", "01", "rsa key")
    keygen(env, SOFTHSM, ["--token-label", "Agent"], "123456", "EC:prime256v1", "02", "ec key")
    end_to_end(tmp, env, "SoftHSM", SOFTHSM, "pkcs11:token=Agent", "123456")

    pin_file = os.path.join(tmp, "pin")
    bad_pin = os.path.join(tmp, "bad")
    with open(bad_pin, "w") as f:
        f.write("000000\n")
    agent = Agent(tmp, env)
    aenv = dict(env, SSH_AUTH_SOCK=agent.sock)
    try:
        # constraints
        proc = run([CLI, "agent", "add", "--module", SOFTHSM, "pkcs11:token=Agent", "--pin-file", pin_file,
                    "--lifetime", "2"], aenv, check_ok=False)
        before = run(["ssh-add", "-l"], aenv, check_ok=False).stdout.count("\n")
        time.sleep(3.5)
        after = run(["ssh-add", "-l"], aenv, check_ok=False)
        check("lifetime 2: keys listed, then gone after the lifetime",
              proc.returncode == 0 and before == 2 and after.returncode == 1, (before, after.stdout))

        proc = run([CLI, "agent", "add", "--module", SOFTHSM, "pkcs11:token=Agent", "--pin-file", pin_file,
                    "--confirm"], aenv, check_ok=False)
        listed = run(["ssh-add", "-l"], aenv, check_ok=False).stdout
        lines = run([CLI, "ssh-keys", "--module", SOFTHSM, "pkcs11:token=Agent"], env).stdout
        sshd = Sshd(os.path.join(tmp, "confirm"), env, lines) if os.makedirs(os.path.join(tmp, "confirm")) is None else None
        try:
            # Without an askpass program the agent cannot ask, so a key that
            # must be confirmed is refused: proof the constraint was sent.
            login = sshd.login(dict(aenv, SSH_ASKPASS="/bin/false", DISPLAY=""))
        finally:
            sshd.stop()
        check("confirm: ssh-add -l lists the keys, and each use needs a confirmation",
              proc.returncode == 0 and listed.count("\n") == 2 and login != 0, (proc.stderr, listed, login))
        run([CLI, "agent", "remove", "--module", SOFTHSM, "pkcs11:token=Agent"], aenv, check_ok=False)

        # refusals, each with its message and status
        proc = run([CLI, "agent", "add", "--module", SOFTHSM, "pkcs11:token=Agent", "--pin-file", bad_pin],
                   aenv, check_ok=False)
        check("wrong PIN: exit 5 and the tries left", proc.returncode == 5 and "Wrong PIN" in proc.stderr,
              (proc.returncode, proc.stderr))
        check("wrong PIN: nothing reached the agent",
              run(["ssh-add", "-l"], aenv, check_ok=False).returncode == 1)
        # a good login clears the count-low flag for the cases below
        run([CLI, "objects", "--module", SOFTHSM, "pkcs11:token=Agent", "--login", "--pin-file", pin_file],
            env)

        noenv = dict(env)
        noenv.pop("SSH_AUTH_SOCK", None)
        proc = run([CLI, "agent", "add", "--module", SOFTHSM, "pkcs11:token=Agent", "--pin-file", pin_file],
                   noenv, check_ok=False)
        check("no agent (SSH_AUTH_SOCK unset): exit 3", proc.returncode == 3 and "SSH_AUTH_SOCK" in proc.stderr,
              (proc.returncode, proc.stderr))

        dead = os.path.join(tmp, "dead.sock")
        s = socket.socket(socket.AF_UNIX)
        s.bind(dead)
        s.close()
        proc = run([CLI, "agent", "status", "--module", SOFTHSM, "pkcs11:token=Agent"],
                   dict(env, SSH_AUTH_SOCK=dead), check_ok=False)
        check("a dead socket: exit 3, naming the socket", proc.returncode == 3 and dead in proc.stderr,
              (proc.returncode, proc.stderr))

        mute = os.path.join(tmp, "mute.sock")
        server = socket.socket(socket.AF_UNIX)
        server.bind(mute)
        server.listen(5)
        held = []
        threading.Thread(target=lambda: [held.append(server.accept()) for _ in range(5)], daemon=True).start()
        start = time.monotonic()
        proc = run([CLI, "agent", "status", "--module", SOFTHSM, "pkcs11:token=Agent"],
                   dict(env, SSH_AUTH_SOCK=mute), check_ok=False, timeout=60)
        waited = time.monotonic() - start
        check(f"a socket that never answers: exit 4 after the timeout ({waited:.1f} s)",
              proc.returncode == 4 and "did not answer" in proc.stderr, (proc.returncode, proc.stderr))
        server.close()

        outside = os.path.join(tmp, "modules")
        os.makedirs(outside)
        shutil.copy(SOFTHSM, outside)
        copy = os.path.join(outside, "libsofthsm2.so")
        proc = run([CLI, "agent", "add", "--module", copy, "pkcs11:token=Agent", "--pin-file", pin_file],
                   aenv, check_ok=False)
        check("a module outside ssh-agent's allowlist: exit 7 and the -P fix",
              proc.returncode == 7 and "ssh-agent -P" in proc.stderr and copy in proc.stderr,
              (proc.returncode, proc.stderr))
    finally:
        agent.stop()


def mismatch_case(tmp):
    env = softhsm_token(tmp, "Mismatch")
    keygen(env, SOFTHSM, ["--token-label", "Mismatch"], "123456", "rsa:2048", "03", "card key")
    cfg = os.path.join(tmp, "c.cfg")
    der = os.path.join(tmp, "c.der")
    with open(cfg, "w") as f:
        f.write('cn = "SSH key"\nserial = 3\nexpiration_days = 30\nsigning_key\n')
    run(["certtool", "--generate-self-signed", "--load-privkey", "pkcs11:token=Mismatch;id=%03;type=private",
         "--load-pubkey", "pkcs11:token=Mismatch;id=%03;type=public", "--template", cfg,
         "--outder", "--outfile", der], dict(env, GNUTLS_PIN="123456"))
    tool = ["pkcs11-tool", "--module", SOFTHSM, "--token-label", "Mismatch", "--login", "--pin", "123456"]
    run(tool + ["--write-object", der, "--type", "cert", "--id", "33", "--label", "card cert"], env)
    run(tool + ["--delete-object", "--type", "pubkey", "--id", "03"], env)
    pin_file = os.path.join(tmp, "pin")
    with open(pin_file, "w") as f:
        f.write("123456\n")
    agent = Agent(tmp, env)
    try:
        proc = run([CLI, "agent", "add", "--module", SOFTHSM, "pkcs11:token=Mismatch", "--pin-file", pin_file],
                   dict(env, SSH_AUTH_SOCK=agent.sock), check_ok=False)
        check("a mismatched certificate ID: exit 8, saying the ID differs",
              proc.returncode == 8 and "different ID" in proc.stderr, (proc.returncode, proc.stderr))
    finally:
        agent.stop()


def remote_module_case(tmp):
    """A module p11-kit runs through a "remote:" line has no file for the
    agent: a clear refusal, never a CRITICAL or "(null)".  p11-kit reads
    only the system's module configs as root, so bubblewrap shows it one of
    ours over an empty /usr/share/p11-kit/modules."""
    if shutil.which("bwrap") is None:
        skip("a p11-kit remote: module", "bubblewrap is not installed")
        return
    env = softhsm_token(tmp, "Remote")
    keygen(env, SOFTHSM, ["--token-label", "Remote"], "123456", "EC:prime256v1", "01", "remote key")
    modules = os.path.join(tmp, "modules")
    os.makedirs(modules)
    with open(os.path.join(modules, "remote-softhsm.module"), "w") as f:
        f.write(f"remote: |p11-kit remote {SOFTHSM}\n")
    pin_file = os.path.join(tmp, "pin")
    with open(pin_file, "w") as f:
        f.write("123456\n")
    agent = Agent(tmp, env)
    env = dict(env, SSH_AUTH_SOCK=agent.sock)
    sandbox = ["bwrap", "--bind", "/", "/", "--tmpfs", "/usr/share/p11-kit/modules",
               "--ro-bind", modules, "/etc/pkcs11/modules", "--dev", "/dev", "--proc", "/proc",
               "--die-with-parent"]
    try:
        proc = run(sandbox + [CLI, "tokens"], env, check_ok=False)
        check("remote: module: listed with its token, and no \"(null)\" path",
              "remote-softhsm" in proc.stdout and "Token: Remote" in proc.stdout and
              "(null)" not in proc.stdout and "remote:" in proc.stdout, proc.stdout + proc.stderr)
        proc = run(sandbox + [CLI, "agent", "add", "pkcs11:token=Remote", "--pin-file", pin_file], env,
                   check_ok=False)
        check("remote: module: agent add refuses with exit 7, naming the remote: setting",
              proc.returncode == 7 and "“remote:”" in proc.stderr and "(null)" not in proc.stderr and
              "CRITICAL" not in proc.stderr, (proc.returncode, proc.stderr))
    finally:
        agent.stop()


def p11_kit_client_case(tmp):
    """Through p11-kit-client.so the agent's helper needs the server's
    address in the *agent's* environment: the refusal says that, not that
    the agent is old."""
    client = "/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so"
    env = softhsm_token(tmp, "Served")
    keygen(env, SOFTHSM, ["--token-label", "Served"], "123456", "EC:prime256v1", "01", "served key")
    sock = os.path.join(tmp, "p11-kit-server.sock")
    server = subprocess.Popen(["p11-kit", "server", "-f", "-n", sock, "--provider", SOFTHSM, "pkcs11:token=Served"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(sock):
            break
        time.sleep(0.05)
    pin_file = os.path.join(tmp, "pin")
    with open(pin_file, "w") as f:
        f.write("123456\n")
    agent = Agent(tmp, env)  # started without P11_KIT_SERVER_ADDRESS
    try:
        proc = run([CLI, "agent", "add", "--module", client, "pkcs11:token=Served", "--pin-file", pin_file],
                   dict(env, SSH_AUTH_SOCK=agent.sock, P11_KIT_SERVER_ADDRESS=f"unix:path={sock}"), check_ok=False)
        check("p11-kit-client.so: the refusal names the agent's missing P11_KIT_SERVER_ADDRESS",
              proc.returncode == 9 and "P11_KIT_SERVER_ADDRESS" in proc.stderr and "old one" not in proc.stderr,
              (proc.returncode, proc.stderr))
    finally:
        agent.stop()
        server.terminate()
        server.wait()


def sandbox_case(tmp):
    """Tessera in a sandbox (a Flatpak) loads its own copy of a module; the
    host's agent must be sent the host's. TESSERA_HOST_ROOT stands in for
    /run/host, here a view of this machine's /usr."""
    env = softhsm_token(tmp, "Sandbox")
    keygen(env, SOFTHSM, ["--token-label", "Sandbox"], "123456", "EC:prime256v1", "05", "sandboxed key")
    pin_file = os.path.join(tmp, "pin")
    with open(pin_file, "w") as f:
        f.write("123456\n")
    host = os.path.join(tmp, "host")
    os.makedirs(host)
    os.symlink("/usr", os.path.join(host, "usr"))
    bundled = os.path.join(tmp, "app", "lib")
    os.makedirs(bundled)
    own_copy = os.path.join(bundled, "libsofthsm2.so")
    shutil.copy(SOFTHSM, own_copy)
    stranger = os.path.join(bundled, "libtessera-bundled.so")
    shutil.copy(SOFTHSM, stranger)

    line = run(["ssh-keygen", "-D", SOFTHSM], env).stdout
    sshd = Sshd(tmp, env, line)
    agent = Agent(tmp, env)
    senv = dict(env, SSH_AUTH_SOCK=agent.sock, TESSERA_HOST_ROOT=host)
    try:
        proc = run([CLI, "agent", "add", "--module", own_copy, "pkcs11:token=Sandbox", "--pin-file", pin_file],
                   senv, check_ok=False)
        listed = run(["ssh-add", "-l"], senv, check_ok=False).stdout
        check("in a sandbox, the agent is sent the host's copy of the module, and takes it",
              proc.returncode == 0 and "sandboxed key" in listed, (proc.returncode, proc.stderr, listed))
        check("... and ssh -p PORT 127.0.0.1 true logs in through it", sshd.login(senv) == 0)
        proc = run([CLI, "agent", "remove", "--module", own_copy, "pkcs11:token=Sandbox"], senv, check_ok=False)
        listed = run(["ssh-add", "-l"], senv, check_ok=False).stdout
        check("... and agent remove takes the host's module out",
              proc.returncode == 0 and "sandboxed key" not in listed, (proc.returncode, proc.stderr, listed))

        proc = run([CLI, "agent", "add", "--module", stranger, "pkcs11:token=Sandbox", "--pin-file", pin_file],
                   senv, check_ok=False)
        check("a module the host does not have: exit 7, naming it and saying to install it",
              proc.returncode == 7 and "libtessera-bundled.so" in proc.stderr and "Install" in proc.stderr,
              (proc.returncode, proc.stderr))
    finally:
        agent.stop()
        sshd.stop()


def opencryptoki_case(tmp):
    # The token is machine-global: back to how the package leaves it.
    reset = os.path.join(os.environ["G_TEST_SRCDIR"], "opencryptoki-reset.sh")
    if subprocess.run([reset], capture_output=True).returncode != 0:
        skip("opencryptoki: end to end", "pkcsslotd cannot run here")
        return
    env = dict(os.environ, HOME=tmp)
    env.pop("SSH_AUTH_SOCK", None)
    token = ["--slot", "3"]
    run(["pkcs11-tool", "--module", OPENCRYPTOKI, *token, "--init-token", "--so-pin", "87654321",
         "--label", "tessera-agent"], env)
    run(["pkcs11-tool", "--module", OPENCRYPTOKI, *token, "--login", "--login-type", "so", "--so-pin",
         "87654321", "--init-pin", "--pin", "12345678"], env)
    keygen(env, OPENCRYPTOKI, token, "12345678", "rsa:2048", "01", "rsa key")
    keygen(env, OPENCRYPTOKI, token, "12345678", "rsa:3072", "02", "rsa 3072")
    end_to_end(tmp, env, "opencryptoki", OPENCRYPTOKI, "pkcs11:token=tessera-agent", "12345678")


def main():
    return run_cases((softhsm_cases, mismatch_case, remote_module_case, p11_kit_client_case, sandbox_case,
                      opencryptoki_case),
                     "tessera-agent-test-")


if __name__ == "__main__":
    sys.exit(main())
