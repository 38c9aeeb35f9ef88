#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# tessera-cli in the Flatpak stood in for by bubblewrap
# (tests/sandbox/flatpak_sandbox.py says how it is laid out): the host's
# token through the host's p11-kit server, ssh-keys against ssh-keygen -D,
# login, generate, doctor, agent add to the host's agent with a host path
# and an sshd login, Copy SSH Config; and without the server, the hint.
# ssh-agent, sshd and ssh-keygen run outside, on the "host".
#
# Usage: test-flatpak-sandbox.py COPY-SSH-CONFIG-PROGRAM P11-MODULE-PATH SOURCE-ROOT BUILD-ROOT

import os
import shutil
import socket
import sys
import json
import tempfile

from tessera_fixtures import SOFTHSM, Sshd, check, report, run

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "sandbox"))
from flatpak_sandbox import MODULE_NAME, START_SERVER, Host, bwrap_works  # noqa: E402

CLI = os.environ["TESSERA_CLI"]
MODULE_HOST = os.environ["TESSERA_MODULE_HOST"]
COPY_SSH_CONFIG, P11_MODULE_PATH, SOURCE_ROOT, BUILD_ROOT = sys.argv[1:5]
CLIENT = os.path.join(P11_MODULE_PATH, "p11-kit-client.so")


def keygen_lines(host):
    return run(["ssh-keygen", "-D", SOFTHSM], host.softhsm_env).stdout


def same_lines(ours, theirs):
    """The same lines, each byte for byte; the order is the module's
    object order, which two sessions need not share."""
    return sorted(ours.splitlines(True)) == sorted(theirs.splitlines(True))


def cases(host):
    uri = "pkcs11:token=Host"

    # What the host's server serves, seen on the host
    served = run(["pkcs11-tool", "--module", CLIENT, "-L"],
                 dict(host.env, P11_KIT_SERVER_ADDRESS=f"unix:path={host.server_socket}")).stdout
    check("the host's server serves the SoftHSM token and p11-kit-trust's",
          "token label        : Host" in served and "p11-kit-trust" in served, served)

    # What the sandbox looks like from inside
    proc = host.sandbox(["sh", "-c", "test -e /.flatpak-info && test -S \"$XDG_RUNTIME_DIR/p11-kit/pkcs11\" && "
                         f"test ! -s {os.path.realpath(SOFTHSM)} && ! ls /usr/share/p11-kit/modules/*.module"])
    check("inside: /.flatpak-info, the host's server socket; no SoftHSM, no registered module",
          proc.returncode == 0, proc.stdout + proc.stderr)

    # Listing
    proc = host.sandbox([CLI, "tokens", "--json"])
    check("tokens --json succeeds", proc.returncode == 0, proc.stderr)
    try:
        listing = json.loads(proc.stdout)
    except ValueError as e:
        listing = {"modules": []}
        check("tokens --json is JSON", False, f"{e}: {proc.stdout}")
    served = [m for m in listing["modules"] if m["name"] == MODULE_NAME]
    check(f"one module is named “{MODULE_NAME}”", len(served) == 1, proc.stdout)
    check("it is the only module: nothing registered is loaded in the sandbox",
          len(listing["modules"]) == 1, proc.stdout)
    if served:
        labels = [t["label"] for t in served[0]["tokens"]]
        check("it lists the host's SoftHSM token, and not the trust module's", labels == ["Host"], proc.stdout)
        check("the module loaded without error", served[0]["error"] is None, proc.stdout)
        check("the module is p11-kit's client", served[0]["path"] == CLIENT, proc.stdout)
    check("no hint about starting the server when it runs", START_SERVER not in proc.stderr, proc.stderr)

    proc = host.sandbox([CLI, "tokens"])
    check(f"tokens prints “Module: {MODULE_NAME}” and the token",
          f"Module: {MODULE_NAME}\n" in proc.stdout and "Token: Host" in proc.stdout, proc.stdout + proc.stderr)

    # Read: ssh-keys, byte for byte as the host's ssh-keygen -D
    reference = keygen_lines(host)
    proc = host.sandbox([CLI, "ssh-keys", uri])
    check("ssh-keys prints the lines of the host's ssh-keygen -D, each byte for byte",
          proc.returncode == 0 and same_lines(proc.stdout, reference) and reference.count("\n") == 2,
          f"tessera-cli:\n{proc.stdout}{proc.stderr}\nssh-keygen -D:\n{reference}")

    proc = host.sandbox([CLI, "ssh-keys", uri], env=[("TESSERA_IN_PROCESS_MODULES", "1")])
    check("the same with TESSERA_IN_PROCESS_MODULES=1", proc.returncode == 0 and same_lines(proc.stdout, reference),
          proc.stdout + proc.stderr)

    # Log in, and read the private objects
    proc = host.sandbox([CLI, "objects", uri, "--login", "--pin-file", "/tmp/pin"])
    check("objects --login lists the private keys", proc.returncode == 0 and
          proc.stdout.count("private") >= 2, proc.stdout + proc.stderr)
    proc = host.sandbox([CLI, "objects", uri, "--login", "--pin-file", "/tmp/bad-pin"])
    check("a wrong PIN is refused by the token, in words", proc.returncode != 0 and
          "wrong pin" in proc.stderr.lower(), proc.stdout + proc.stderr)

    # Generate a key with its certificate, through the host's server
    proc = host.sandbox([CLI, "generate", uri, "--type", "ec:p384", "--label", "made in the sandbox",
                         "--certificate", "--subject", "Sandbox key", "--pin-file", "/tmp/pin"])
    check("generate --certificate makes a P-384 key on the host's token", proc.returncode == 0,
          proc.stdout + proc.stderr)
    reference = keygen_lines(host)
    proc = host.sandbox([CLI, "ssh-keys", uri])
    check("after generate: ssh-keys still equals ssh-keygen -D, with the new key",
          proc.returncode == 0 and same_lines(proc.stdout, reference) and "ecdsa-sha2-nistp384" in reference,
          f"tessera-cli:\n{proc.stdout}{proc.stderr}\nssh-keygen -D:\n{reference}")

    # The doctor
    proc = host.sandbox([CLI, "doctor", uri, "--pin-file", "/tmp/pin"])
    check("doctor finds the token clean (exit 0)", proc.returncode == 0, proc.stdout + proc.stderr)

    # The host's agent, with a host path, and a login on sshd
    sshd = Sshd(host.tmp, host.env, reference)
    try:
        check("no ssh login before the token is in the agent", sshd.login(host.agent_env) != 0)
        proc = host.sandbox([CLI, "agent", "add", uri, "--pin-file", "/tmp/pin"])
        check("agent add from the sandbox succeeds, with all keys", proc.returncode == 0 and
              proc.stdout == "all\n", proc.stdout + proc.stderr)
        listed = run(["ssh-add", "-l"], host.agent_env, check_ok=False).stdout
        check("the host's ssh-add -l lists the token's keys", listed.count("\n") == reference.count("\n"),
              listed)
        check("ssh -p PORT 127.0.0.1 true, on the host, logs in with the token",
              sshd.login(host.agent_env) == 0)
        proc = host.sandbox([CLI, "agent", "status", uri])
        check("agent status from the sandbox says all", proc.stdout == "all\n", proc.stdout + proc.stderr)
        # ssh-add -e removes a provider by the path the agent was given:
        # this is what names it.
        proc = run(["ssh-add", "-e", CLIENT], host.agent_env, check_ok=False)
        check(f"the agent holds the host path {CLIENT} (ssh-add -e of it succeeds)", proc.returncode == 0,
              proc.stdout + proc.stderr)
        check("no ssh login once that provider is removed", sshd.login(host.agent_env) != 0)
    finally:
        sshd.stop()

    # Copy SSH Config, made by the window's own code
    proc = host.sandbox([COPY_SSH_CONFIG, uri])
    expected = f"Host server.example.com\n    PKCS11Provider {CLIENT}\n"
    check("Copy SSH Config names the host's path of the module", proc.returncode == 0 and
          proc.stdout == expected, f"{proc.stdout}{proc.stderr}\nexpected:\n{expected}")
    check("P11_KIT_SERVER_ADDRESS is still Flatpak's trust server after loading",
          "P11_KIT_SERVER_ADDRESS=unix:path=/run/flatpak/p11-kit/pkcs11\n" in proc.stderr, proc.stderr)
    check("a new p11-kit client still reaches the trust server, and only it",
          "trust server serves: p11-kit-trust\n" in proc.stderr, proc.stderr)

    # No server on the host: the sandbox has no socket there
    proc = host.sandbox([CLI, "tokens"], with_server=False)
    check("without the host's server, tokens still succeeds", proc.returncode == 0, proc.stderr)
    check(f"and says how to start it ({START_SERVER})", START_SERVER in proc.stderr, proc.stderr)
    check("and lists no host module", MODULE_NAME not in proc.stdout, proc.stdout)

    # Flatpak as flatpak-run.c sets it up today: its trust server reached
    # through the default path, P11_KIT_SERVER_ADDRESS unset
    proc = host.sandbox([CLI, "tokens"], with_server=False, linked=True)
    check("linked layout, no host server: Flatpak's trust server is not taken for the computer's",
          proc.returncode == 0 and MODULE_NAME not in proc.stdout and START_SERVER in proc.stderr,
          proc.stdout + proc.stderr)
    proc = host.sandbox([CLI, "ssh-keys", uri], linked=True)
    check("linked layout, host server bound at the default path: ssh-keys as ssh-keygen -D",
          proc.returncode == 0 and same_lines(proc.stdout, reference), proc.stdout + proc.stderr)

    # A socket left behind by a server that has gone: nothing listens
    stale = os.path.join(host.tmp, "stale.sock")
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(stale)
    proc = host.sandbox([CLI, "tokens"], server_socket=stale)
    check("with a stale socket, the module is listed with an error that says to restart the server",
          proc.returncode == 0 and f"Module: {MODULE_NAME}\n" in proc.stdout and
          "does not answer" in proc.stdout and "systemctl --user restart p11-kit-server.socket" in proc.stdout,
          proc.stdout + proc.stderr)


def main():
    why = bwrap_works()
    if why is not None:
        print(f"1..0 # SKIP bwrap cannot make the sandbox's namespaces here: {why}")
        return 77

    tmp = tempfile.mkdtemp(prefix="tessera-flatpak-")
    host = None
    try:
        host = Host(tmp, MODULE_HOST, [SOURCE_ROOT, BUILD_ROOT], P11_MODULE_PATH)
        host.start_server()
        host.start_trust_server()
        host.start_agent()
        cases(host)
    except Exception as e:
        check("the sandbox test ran without error", False, repr(e))
    finally:
        if host is not None:
            host.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return report()


if __name__ == "__main__":
    sys.exit(main())
