#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# How many PKCS#11 calls does it take to list a token of 200 objects
# (100 EC P-256 key pairs)?  tessera-cli beside the reference tools, in
# one run, on one SoftHSM token, counted with OpenSC's pkcs11-spy.
# A benchmark prints figures; it does not pass or fail on them.
#
#   tests/benchmark-enumerate.sh [PATH/TO/tessera-cli] [N_PAIRS]

set -euo pipefail

cli=${1:-${TESSERA_CLI:-_build/src/cli/tessera-cli}}
pairs=${2:-100}
module=/usr/lib/softhsm/libsofthsm2.so
spy=/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/tokens"
echo "directories.tokendir = $dir/tokens" > "$dir/softhsm2.conf"
export SOFTHSM2_CONF="$dir/softhsm2.conf"
softhsm2-util --init-token --free --label Bench --so-pin 12345678 --pin 123456 >/dev/null
for i in $(seq 1 "$pairs"); do
  pkcs11-tool --module "$module" --token-label Bench --login --pin 123456 \
    --keypairgen --key-type EC:prime256v1 --id "$(printf '%04x' "$i")" --label "key $i" >/dev/null 2>&1
done
printf '123456\n' > "$dir/pin"
chmod 600 "$dir/pin"

objects=$(pkcs11-tool --module "$module" --token-label Bench --login --pin 123456 -O 2>/dev/null |
          grep -cE '^(Private|Public) Key Object')

# count LABEL COMMAND...: runs COMMAND with the spy in front of SoftHSM and
# prints a table row: calls, C_GetAttributeValue calls, wall time.
count () {
  local label=$1; shift
  local log="$dir/spy.log" start end
  rm -f "$log"
  start=$(date +%s%N)
  PKCS11SPY="$module" PKCS11SPY_OUTPUT="$log" "$@" >/dev/null 2>&1
  end=$(date +%s%N)
  printf '| %-44s | %6d | %8d | %7d |\n' "$label" \
    "$(grep -cE '^[0-9]+: C_' "$log")" \
    "$(grep -cE '^[0-9]+: C_GetAttributeValue' "$log")" \
    "$(( (end - start) / 1000000 ))"
}

echo "SoftHSM token with $objects objects ($pairs EC P-256 key pairs), pkcs11-spy call counts:"
echo
echo "| command                                      |  calls | GetAttr. | time ms |"
echo "|----------------------------------------------|-------:|---------:|--------:|"
count "tessera-cli objects --login" "$cli" objects --module "$spy" "pkcs11:token=Bench" --login --pin-file "$dir/pin"
count "tessera-cli objects (public only)" "$cli" objects --module "$spy" "pkcs11:token=Bench"
count "tessera-cli tokens" "$cli" tokens --module "$spy"
count "ssh-keygen -D" ssh-keygen -D "$spy"
count "pkcs11-tool -O" pkcs11-tool --module "$spy" --token-label Bench -O
count "pkcs11-tool -O --login" pkcs11-tool --module "$spy" --token-label Bench -O --login --pin 123456
count "p11tool --list-all" p11tool --provider "$spy" --list-all "pkcs11:token=Bench"
GNUTLS_PIN=123456 count "p11tool --login --list-all" p11tool --provider "$spy" --login --list-all "pkcs11:token=Bench"
echo
echo "Budget for tessera-cli objects --login: N + 16 = $(( objects + 16 )) calls."
