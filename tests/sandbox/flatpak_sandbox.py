# flatpak_sandbox.py: a Flatpak stood in for by bubblewrap, for the tests
#
# Laid out as Flatpak lays one out: the host's /usr at /run/host/usr,
# /.flatpak-info, no registered p11-kit modules and no SoftHSM library
# inside, Flatpak's trust-only p11-kit server at /run/flatpak/p11-kit/pkcs11,
# the host's own p11-kit server (SoftHSM, a key pair and a certificate) at
# $XDG_RUNTIME_DIR/p11-kit/pkcs11, the host's ssh-agent at
# /run/flatpak/ssh-auth, and pcscd's socket where there is one.  Used by
# tests/test-flatpak-sandbox.py (tessera-cli) and
# tests/ui/test_flatpak_window.py (the window).
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from tessera_fixtures import SOFTHSM, run  # noqa: E402

UID = os.getuid()
RUNTIME = f"/run/user/{UID}"
PIN = "123456"
MODULE_NAME = "Your computer’s tokens"
START_SERVER = "systemctl --user enable --now p11-kit-server.socket"


def p11_module_path():
    return subprocess.run(["pkg-config", "--variable", "p11_module_path", "p11-kit-1"],
                          capture_output=True, text=True, check=True).stdout.strip()


def bwrap_works():
    """None, unless bwrap cannot make the namespaces the sandbox uses: then
    why (bwrap's own words).  Any other failure is left for the test to
    meet, and fail on."""
    proc = subprocess.run(["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"],
                          capture_output=True, text=True)
    why = proc.stderr.strip()
    if proc.returncode != 0 and ("namespace" in why or "uid map" in why):
        return why
    return None


def wait_for_socket(path, proc, what):
    for _ in range(200):
        if os.path.exists(path):
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(path)
                return
            except OSError:
                pass
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited {proc.returncode}")
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {path}")


class Host:
    """What the host has: a SoftHSM token with two keys, its p11-kit server
    on the user's runtime directory, Flatpak's trust-only server, an
    ssh-agent and (later) sshd."""

    def __init__(self, tmp, module_host, roots, p11_modules=None):
        """@module_host: the tessera-module-host to run inside; @roots: the
        source and build trees, bound read-only at the same paths."""
        self.tmp = tmp
        self.module_host = module_host
        self.roots = roots
        p11_modules = p11_modules or p11_module_path()
        self.client = os.path.join(p11_modules, "p11-kit-client.so")
        self.trust = os.path.join(p11_modules, "p11-kit-trust.so")
        self.procs = []
        os.makedirs(os.path.join(tmp, "tokens"))
        self.conf = os.path.join(tmp, "softhsm2.conf")
        with open(self.conf, "w") as f:
            f.write(f"directories.tokendir = {tmp}/tokens\n")
        # The host user's runtime directory, and the environment of a
        # session on the host: no P11_KIT_SERVER_ADDRESS in it.
        self.runtime = os.path.join(tmp, "run")
        os.makedirs(os.path.join(self.runtime, "p11-kit"), mode=0o700)
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("SSH_AUTH_SOCK", "P11_KIT_SERVER_ADDRESS", "SOFTHSM2_CONF",
                                 "TESSERA_AGENT_ALLOWLIST", "TESSERA_AGENT_PROVIDER_DIR", "G_DEBUG")}
        self.env.update(HOME=tmp, XDG_RUNTIME_DIR=self.runtime)
        self.softhsm_env = dict(self.env, SOFTHSM2_CONF=self.conf)

        run(["softhsm2-util", "--init-token", "--free", "--label", "Host", "--so-pin", "12345678",
             "--pin", PIN], self.softhsm_env)
        tool = ["pkcs11-tool", "--module", SOFTHSM, "--token-label", "Host", "--login", "--pin", PIN]
        run([*tool, "--keypairgen", "--key-type", "rsa:2048", "--id", "01", "--label", "rsa key"],
            self.softhsm_env)
        # An EC key with a self-signed certificate and no public-key object:
        # its SSH key comes from the certificate.
        key, cert = os.path.join(tmp, "ec.key"), os.path.join(tmp, "ec.crt")
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", key, "-out", cert, "-subj", "/CN=Host EC key", "-days", "30"], self.env)
        run(["openssl", "pkey", "-in", key, "-outform", "DER", "-out", key + ".der"], self.env)
        run(["openssl", "x509", "-in", cert, "-outform", "DER", "-out", cert + ".der"], self.env)
        run([*tool, "--write-object", key + ".der", "--type", "privkey", "--id", "02", "--label", "ec key"],
            self.softhsm_env)
        run([*tool, "--write-object", cert + ".der", "--type", "cert", "--id", "02", "--label", "ec cert"],
            self.softhsm_env)

        self.server_socket = os.path.join(self.runtime, "p11-kit", "pkcs11")
        self.trust_dir = os.path.join(tmp, "flatpak-p11-kit")
        os.makedirs(self.trust_dir)
        self.trust_socket = os.path.join(self.trust_dir, "pkcs11")
        self.agent_socket = os.path.join(tmp, "agent.sock")
        self.info = os.path.join(tmp, "flatpak-info")
        with open(self.info, "w") as f:
            f.write("[Application]\nname=app.tessera.Tessera\nruntime=runtime/org.gnome.Platform/x86_64/47\n")
        self.pin_file = os.path.join(tmp, "pin")
        with open(self.pin_file, "w") as f:
            f.write(PIN + "\n")
        os.chmod(self.pin_file, 0o600)
        self.bad_pin_file = os.path.join(tmp, "bad-pin")
        with open(self.bad_pin_file, "w") as f:
            f.write("654321\n")

    def start(self, argv, env, ready_socket, what):
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        self.procs.append(proc)
        wait_for_socket(ready_socket, proc, what)
        return proc

    def start_server(self):
        """The host's p11-kit server, as p11-kit-server.service runs one:
        through the host's registered modules, and like its "pkcs11:" it
        serves p11-kit-trust's token beside the SoftHSM one."""
        self.server = self.start(["p11-kit", "server", "-f", "-n", self.server_socket,
                                  "pkcs11:token=Host", "pkcs11:model=p11-kit-trust"],
                                 self.softhsm_env, self.server_socket, "the host's p11-kit server")

    def start_trust_server(self):
        """The one Flatpak starts for every app: p11-kit-trust only."""
        self.start(["p11-kit", "server", "-f", "-n", self.trust_socket, "--provider", self.trust,
                    "pkcs11:model=p11-kit-trust?write-protected=yes"], self.env, self.trust_socket,
                   "Flatpak's trust server")

    def start_agent(self):
        """The session's ssh-agent, with its default allowlist.  It does not
        know SOFTHSM2_CONF: a provider that loaded SoftHSM itself would not
        find the token."""
        self.start(["ssh-agent", "-D", "-a", self.agent_socket], self.env, self.agent_socket, "ssh-agent")
        self.agent_env = dict(self.env, SSH_AUTH_SOCK=self.agent_socket)

    def stop(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    def sandbox(self, argv, **options):
        """Runs argv in the sandbox (options as for sandbox_argv()); returns
        the CompletedProcess."""
        return subprocess.run(self.sandbox_argv(argv, **options), capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=120)

    def sandbox_argv(self, argv, with_server=True, server_socket=None, env=(), linked=False,
                     binds=()):
        """bwrap's command line for argv in the sandbox.  Flatpak's
        trust server is at /run/flatpak/p11-kit/pkcs11, and named in
        P11_KIT_SERVER_ADDRESS; or, @linked, as flatpak-run.c does it today:
        no P11_KIT_SERVER_ADDRESS, and $XDG_RUNTIME_DIR/p11-kit a link to
        /run/flatpak/p11-kit unless the host's socket is bound there.  @env:
        more (name, value) pairs; @binds: more (source, dest) pairs."""
        args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session",
                "--tmpfs", "/",
                "--ro-bind", "/usr", "/usr",
                "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
                "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
                "--ro-bind", "/etc", "/etc",
                # The sandbox has no registered modules, and no SoftHSM
                "--tmpfs", "/usr/share/p11-kit/modules",
                "--tmpfs", "/etc/pkcs11",
                "--ro-bind", "/dev/null", os.path.realpath(SOFTHSM),
                # --filesystem=host-os:ro
                "--ro-bind", "/usr", "/run/host/usr",
                "--ro-bind", self.info, "/.flatpak-info",
                "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
                *[a for root in self.roots for a in ("--ro-bind", root, root)],
                "--ro-bind", self.pin_file, "/tmp/pin",
                "--ro-bind", self.bad_pin_file, "/tmp/bad-pin",
                "--dir", RUNTIME, "--chmod", "0700", RUNTIME,
                # Flatpak's trust forwarding, and --socket=ssh-auth
                "--bind", self.trust_dir, "/run/flatpak/p11-kit",
                "--bind", self.agent_socket, "/run/flatpak/ssh-auth"]
        if with_server:
            # --filesystem=xdg-run/p11-kit/pkcs11
            args += ["--bind", server_socket or self.server_socket, f"{RUNTIME}/p11-kit/pkcs11"]
        elif linked:
            args += ["--symlink", "../../flatpak/p11-kit", f"{RUNTIME}/p11-kit"]
        if os.path.exists("/run/pcscd/pcscd.comm"):
            # --socket=pcsc
            args += ["--bind", "/run/pcscd/pcscd.comm", "/run/pcscd/pcscd.comm"]
        args += ["--clearenv",
                 "--setenv", "PATH", "/usr/bin:/bin",
                 "--setenv", "HOME", "/tmp",
                 "--setenv", "XDG_RUNTIME_DIR", RUNTIME,
                 "--setenv", "SSH_AUTH_SOCK", "/run/flatpak/ssh-auth",
                 "--setenv", "LC_ALL", "C.UTF-8",
                 "--setenv", "G_DEBUG", "fatal-warnings",
                 "--setenv", "TESSERA_MODULE_HOST", self.module_host]
        if not linked:
            args += ["--setenv", "P11_KIT_SERVER_ADDRESS", "unix:path=/run/flatpak/p11-kit/pkcs11"]
        # Under build-aux/run-sanitizer-tests: its options, and its report
        # directory writable (the build tree is bound read-only)
        for name in ("ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS", "G_SLICE"):
            if name in os.environ:
                args += ["--setenv", name, os.environ[name]]
            for option in os.environ.get(name, "").split(":"):
                if option.startswith("log_path="):
                    logs = os.path.dirname(option[len("log_path="):])
                    args += ["--bind", logs, logs]
        for name, value in env:
            args += ["--setenv", name, value]
        for source, dest in binds:
            args += ["--bind", source, dest]
        return args + list(argv)


