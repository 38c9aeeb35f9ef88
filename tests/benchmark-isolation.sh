#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# What running each module in its own process costs (issue 11): listing a
# SoftHSM token of 300 objects (100 EC P-256 key pairs, each with a
# certificate) after login, with the module in Tessera's process
# (TESSERA_IN_PROCESS_MODULES=1) and in a tessera-module-host, at 0 and at
# 20 ms per PKCS#11 call (the test module's latency, as a real card's).
# Calls are counted with OpenSC's pkcs11-spy in front of the test module,
# so both sides count the calls the module itself sees.  A benchmark prints
# figures; it does not pass or fail on them.
#
#   tests/benchmark-isolation.sh [PATH/TO/tessera-cli] [RUNS_AT_0_MS] [RUNS_AT_20_MS]

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cli=${1:-${TESSERA_CLI:-_build/src/cli/tessera-cli}}
runs_fast=${2:-7}
runs_slow=${3:-3}
pairs=100
softhsm=/usr/lib/softhsm/libsofthsm2.so
spy=/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so
testmod=${TESSERA_TESTMOD:-$(dirname "$cli")/../../tests/testmod/tessera-testmod.so}

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/tokens"
echo "directories.tokendir = $dir/tokens" > "$dir/softhsm2.conf"
export SOFTHSM2_CONF="$dir/softhsm2.conf"
softhsm2-util --init-token --free --label Bench --so-pin 12345678 --pin 123456 >/dev/null

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$dir/k.pem" \
  -subj /CN=bench -days 30 -outform der -out "$dir/cert.der" 2>/dev/null
for i in $(seq 1 "$pairs"); do
  id=$(printf '%04x' "$i")
  pkcs11-tool --module "$softhsm" --token-label Bench --login --pin 123456 \
    --keypairgen --key-type EC:prime256v1 --id "$id" --label "key $i" >/dev/null 2>&1
  pkcs11-tool --module "$softhsm" --token-label Bench --login --pin 123456 \
    --write-object "$dir/cert.der" --type cert --id "$id" --label "cert $i" >/dev/null 2>&1
done
printf '123456\n' > "$dir/pin"
chmod 600 "$dir/pin"

# one MODE LATENCY: wall milliseconds of one listing, and its call count
one () {
  local mode=$1 latency=$2 start end
  local -a env=(PKCS11SPY="$testmod" PKCS11SPY_OUTPUT="$dir/spy.log" TESSERA_TESTMOD_LATENCY_MS="$latency")
  [ "$mode" = in-process ] && env+=(TESSERA_IN_PROCESS_MODULES=1)
  rm -f "$dir/spy.log"
  start=$(date +%s%N)
  env "${env[@]}" "$cli" objects --module "$spy" "pkcs11:token=Bench" --login --pin-file "$dir/pin" >/dev/null
  end=$(date +%s%N)
  echo "$(( (end - start) / 1000000 )) $(grep -cE '^[0-9]+: C_' "$dir/spy.log")"
}

median () { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

declare -A ms calls
for latency in 0 20; do
  runs=$([ "$latency" = 0 ] && echo "$runs_fast" || echo "$runs_slow")
  for mode in in-process isolated; do
    : > "$dir/times"
    for _ in $(seq 1 "$runs"); do
      # Turn about, so that a busy moment of the machine hits both modes
      read -r t c < <(one "$mode" "$latency")
      echo "$t" >> "$dir/times"
      calls[$mode,$latency]=$c
    done
    ms[$mode,$latency]=$(median < "$dir/times")
  done
done

echo "Listing a SoftHSM token of $((pairs * 3)) objects ($pairs EC P-256 key pairs with certificates),"
echo "logged in, through the test module; median wall time of $runs_fast runs (0 ms) and $runs_slow runs (20 ms):"
echo
echo "| latency per call | module runs   | PKCS#11 calls | wall time ms | isolated / in-process |"
echo "|-----------------:|---------------|--------------:|-------------:|----------------------:|"
for latency in 0 20; do
  for mode in in-process isolated; do
    ratio=""
    if [ "$mode" = isolated ]; then
      ratio=$(awk -v a="${ms[isolated,$latency]}" -v b="${ms[in-process,$latency]}" 'BEGIN { printf "%.2f×", a / b }')
    fi
    printf '| %13s ms | %-13s | %13s | %12s | %21s |\n' "$latency" "$mode" "${calls[$mode,$latency]}" \
      "${ms[$mode,$latency]}" "$ratio"
  done
done
