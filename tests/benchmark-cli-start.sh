#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# A small command, whole process (issue 13): `tessera-cli objects` on a
# SoftHSM token of 10 EC key pairs, without login, beside `pkcs11-tool -O`
# on the same token, and what merely loading the CLI's libraries costs.
# Run in turn (A B C D A B C D …) so that a machine that speeds up or slows
# down during the run moves them alike:
#
#   tessera-cli           the module in its tessera-module-host (the default:
#                         the launcher starts the host before the CLI's
#                         libraries load, and the host initializes the
#                         module meanwhile)
#   in-process            TESSERA_IN_PROCESS_MODULES=1, no host at all
#   registered modules    no --module: every module p11-kit registers
#                         (on Debian SoftHSM, OpenSC, tpm2-pkcs11), whose
#                         hosts the core starts when the registry loads;
#                         for what a user without --module sees, not a
#                         like-for-like comparison
#   tessera-cli --help    no module at all: starting the program and its
#                         libraries (GLib, GIO, GnuTLS, libsecret)
#   pkcs11-tool -O        the reference (its libraries: OpenSSL)
#   pkcs11-tool --help    its start-up alone
#
# Each command is started with fork() and exec(), as a shell starts it;
# started with posix_spawn() (farm-bench, Python's subprocess) tessera-cli
# comes out 0.1× lower against pkcs11-tool (README, HACKING).
#
# Prints each one's median and minimum wall time and the median of the
# paired ratios against pkcs11-tool.  A benchmark prints figures; it does
# not pass or fail on them.
#
#   tests/benchmark-cli-start.sh [PATH/TO/tessera-cli] [RUNS]

set -euo pipefail

cli=${1:-${TESSERA_CLI:-_build/src/cli/tessera-cli}}
runs=${2:-41}
softhsm=/usr/lib/softhsm/libsofthsm2.so

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/tokens" "$dir/runtime"
chmod 700 "$dir/runtime"
echo "directories.tokendir = $dir/tokens" > "$dir/softhsm2.conf"
export SOFTHSM2_CONF="$dir/softhsm2.conf" XDG_RUNTIME_DIR="$dir/runtime"
softhsm2-util --init-token --free --label Ten --so-pin 12345678 --pin 123456 >/dev/null
for i in $(seq 1 10); do
  pkcs11-tool --module "$softhsm" --token-label Ten --login --pin 123456 \
    --keypairgen --key-type EC:prime256v1 --id "$(printf '%02x' "$i")" --label "key $i" >/dev/null 2>&1
done

echo "tessera-cli objects vs pkcs11-tool -O, SoftHSM token of 10 EC key pairs, $runs runs each, $(nproc) cores"
python3 - "$runs" "$cli" "$softhsm" "$(command -v pkcs11-tool)" <<'EOF'
import ctypes, os, statistics, sys, time

runs, cli, module, pkcs11_tool = int(sys.argv[1]), *sys.argv[2:]
uri = "pkcs11:token=Ten"
ways = [
    ("tessera-cli", [cli, "--module", module, "objects", uri], {}),
    ("in-process", [cli, "--module", module, "objects", uri], {"TESSERA_IN_PROCESS_MODULES": "1"}),
    ("registered modules", [cli, "objects", uri], {}),
    ("tessera-cli --help", [cli, "--help"], {}),
    ("pkcs11-tool -O", [pkcs11_tool, "--module", module, "--token-label", "Ten", "-O"], {}),
    ("pkcs11-tool --help", [pkcs11_tool, "--help"], {}),
]
null = os.open(os.devnull, os.O_WRONLY)
times = {name: [] for name, _, _ in ways}

# A command's time ends when it exits.  What it leaves behind (the
# module hosts, which quit once tessera-cli has gone) must not run into the
# next command's time: as a subreaper this script inherits them, and waits
# for them before it starts the next command.
PR_SET_CHILD_SUBREAPER = 36
ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)

def reap_leftovers():
    while True:
        try:
            os.wait()
        except ChildProcessError:
            return

for i in range(runs + 1):
    for name, argv, extra in ways:
        env = dict(os.environ, **extra)
        start = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os.dup2(null, 1)
            os.dup2(null, 2)
            os.execve(argv[0], argv, env)
        _, status = os.waitpid(pid, 0)
        end = time.perf_counter()
        if status != 0 and "--help" not in argv:
            sys.exit(f"{name} failed (status {status})")
        if i > 0:   # the first round warms the caches
            times[name].append((end - start) * 1000)
        reap_leftovers()

reference = times["pkcs11-tool -O"]
print(f"{'':18} {'median ms':>10} {'min ms':>8} {'vs pkcs11-tool':>15}")
for name, _, _ in ways:
    ratio = statistics.median(a / b for a, b in zip(times[name], reference))
    print(f"{name:18} {statistics.median(times[name]):10.1f} {min(times[name]):8.1f} {ratio:14.2f}×")
print("Issue 13's goal: tessera-cli within 1.1× of pkcs11-tool -O (1.5-2× when the issue was filed)")
EOF
