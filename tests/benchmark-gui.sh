#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Does the window stall, at any number of keys (issue 13)?  The real
# tessera under Xvfb, on SoftHSM tokens of 3, 100 and 500 EC P-256 key
# pairs with certificates, through the test module at 0 and 20 ms per
# PKCS#11 call (a real card's pace).  A measurement-only preload
# (tests/benchmark/tessera-bench-preload.c) runs a 5 ms main-loop timer
# in the unmodified app and records the stalls, the time to the window and
# to the keys; the login goes through the PIN dialog by AT-SPI; OpenSC's
# pkcs11-spy in front of the test module counts the calls.  Each run has
# its own Xvfb, session bus, AT-SPI bus and home (tests/ui/run-ui-test.sh),
# GSETTINGS_BACKEND=memory, its own SoftHSM config and no ssh-agent.
# A benchmark prints figures; it does not pass or fail on them.
#
#   tests/benchmark-gui.sh [PATH/TO/tessera] [SIZES] [LATENCIES]
#
# SIZES defaults to "3 100 500", LATENCIES (ms per call) to "0 20" (or
# TESSERA_BENCH_GUI_SIZES and TESSERA_BENCH_GUI_LATENCIES, for
# `meson test --benchmark gui-stalls`).  A run
# waits at most TESSERA_BENCH_GUI_TIMEOUT s for each step (default 60 s,
# plus 8 ms per key per ms of latency); a run that hits it is printed as capped.
# TESSERA_BENCH_GUI_KEEP=DIR keeps each run's spy log, app log and JSON.
#
# Needs the build's tessera-bench-preload and bench-fill-token, which
# `meson test --benchmark` builds (or: ninja -C BUILD
# tests/benchmark/tessera-bench-preload.so tests/benchmark/bench-fill-token).

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
exe=${1:-${TESSERA_EXE:-_build/src/ui/tessera}}
sizes=${2:-${TESSERA_BENCH_GUI_SIZES:-3 100 500}}
latencies=${3:-${TESSERA_BENCH_GUI_LATENCIES:-0 20}}
exe=$(cd "$(dirname "$exe")" && pwd)/$(basename "$exe")
build=$(cd "$(dirname "$exe")/../.." && pwd)
preload=${TESSERA_BENCH_PRELOAD:-$build/tests/benchmark/tessera-bench-preload.so}
fill=${TESSERA_BENCH_FILL:-$build/tests/benchmark/bench-fill-token}
bare=${TESSERA_BENCH_BARE:-$build/tests/benchmark/bench-bare-window}
testmod=${TESSERA_TESTMOD:-$build/tests/testmod/tessera-testmod.so}
export TESSERA_MODULE_HOST=${TESSERA_MODULE_HOST:-$build/src/module-host/tessera-module-host}
export TESSERA_SCHEMA_DIR=${TESSERA_SCHEMA_DIR:-$build/data}
export TESSERA_EXE=$exe
softhsm=/usr/lib/softhsm/libsofthsm2.so
spy=/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so

if ! command -v Xvfb >/dev/null 2>&1; then
  echo "Xvfb is not installed: skipping the GUI benchmark" >&2
  exit 77
fi
for f in "$exe" "$preload" "$fill" "$bare" "$testmod" "$spy" "$TESSERA_MODULE_HOST"; do
  if [ ! -e "$f" ]; then
    echo "missing: $f (see the comment at the top of $0)" >&2
    exit 1
  fi
done

# On tmpfs where there is one: SoftHSM syncs each object it writes
dir=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$dir"' EXIT
unset SSH_AUTH_SOCK SSH_AGENT_PID

# One token directory per size, made once and used by every run at that
# size (listing and logging in do not change it).
make_token () {
  local n=$1 tokdir="$dir/token-$1" start end
  mkdir -p "$tokdir/tokens"
  echo "directories.tokendir = $tokdir/tokens" > "$tokdir/softhsm2.conf"
  start=$(date +%s%N)
  SOFTHSM2_CONF="$tokdir/softhsm2.conf" softhsm2-util --init-token --free --label "Bench $n" \
    --so-pin 12345678 --pin 123456 >/dev/null
  SOFTHSM2_CONF="$tokdir/softhsm2.conf" "$fill" "$softhsm" "Bench $n" 123456 "$n"
  end=$(date +%s%N)
  echo "# token of $n key pairs with certificates made in $(( (end - start) / 1000000 )) ms" >&2
}

results=()
for n in $sizes; do
  make_token "$n"
  for latency in $latencies; do
    timeout=${TESSERA_BENCH_GUI_TIMEOUT:-$(( 60 + 8 * n * latency / 1000 ))}
    run="$dir/run-$n-$latency"
    mkdir -p "$run"
    start=$(date +%s%N)
    TESSERA_UI_LOG_DIR="$run" "$here/ui/run-ui-test.sh" "$here/benchmark/gui_bench.py" run \
      --exe "$exe" --preload "$preload" --softhsm-conf "$dir/token-$n/softhsm2.conf" \
      --testmod "$testmod" --keys "$n" --latency "$latency" --timeout "$timeout" \
      --workdir "$run" --out "$run/result.json" >"$run/driver.log" 2>&1 || true
    end=$(date +%s%N)
    echo "# $n keys at $latency ms/call: run took $(( (end - start) / 1000000 )) ms" >&2
    if [ ! -s "$run/result.json" ]; then
      echo "# no result; the driver said:" >&2
      sed 's/^/#   /' "$run/driver.log" >&2
      continue
    fi
    results+=("$run/result.json")
    if [ -n "${TESSERA_BENCH_GUI_KEEP:-}" ]; then
      mkdir -p "$TESSERA_BENCH_GUI_KEEP"
      cp -r "$run" "$TESSERA_BENCH_GUI_KEEP/"
    fi
  done
done

# The yardstick for memory: a bare libadwaita window under the same preload
bare_report="$dir/bare.json"
TESSERA_UI_LOG_DIR="$dir/bare" "$here/ui/run-ui-test.sh" env GSK_RENDERER=cairo GSETTINGS_BACKEND=memory \
  LD_PRELOAD="$preload" TESSERA_BENCH_OUTPUT="$bare_report" TESSERA_BENCH_EVENTS="$dir/bare.events" \
  "$bare" >"$dir/bare.log" 2>&1 || true

echo "tessera under Xvfb on SoftHSM tokens of N EC P-256 key pairs with certificates (3N objects),"
echo "through the test module; stalls of the main loop (a 5 ms timer), times from process start,"
echo "PKCS#11 calls counted by pkcs11-spy (without the monitor's C_WaitForSlotEvent polls):"
echo
if [ ${#results[@]} -gt 0 ]; then
  /usr/bin/python3 "$here/benchmark/gui_bench.py" table "${results[@]}"
fi
echo
if [ -s "$bare_report" ] && [ ${#results[@]} -gt 0 ]; then
  /usr/bin/python3 - "$bare_report" "${results[@]}" <<'PY'
import json, sys
bare = json.load(open(sys.argv[1]))["peak_rss_kib"]
print(f"Peak resident memory (VmHWM), beside a bare libadwaita window of the same size ({bare / 1024:.1f} MiB):")
for path in sys.argv[2:]:
    r = json.load(open(path))
    rss = r.get("peak_rss_kib", 0)
    print(f"  {r['keys']:>4} keys at {r['latency_ms']:>2} ms/call: {rss / 1024:6.1f} MiB, {rss / bare:.2f}x")
PY
else
  echo "# no memory figures: the bare window gave no report (see $dir/bare.log)" >&2
fi
echo
echo "Listing: from the window's first frame until the calls settle (2 s without one)."
echo "Login: from pressing Log In in the PIN dialog until the calls settle after the keys show."
echo "Keys shown: the first frame with a key row; after login, the first with no key"
echo "still saying \"Log in to check…\"."
echo "Goals (issue 13): longest stall after the window ≤ 0.05 s at 100 keys and ≤ 0.10 s at 500,"
echo "at 0 and 20 ms/call; login → keys ≤ 2.5 s at 100 keys and 20 ms/call; calls after login"
echo "≤ N + 10; keys ≤ 0.3 s after the window (demo token); memory ≤ 1.3× the bare window."
