#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# What making keys and certificates, and running the pairing doctor, cost
# in PKCS#11 calls and time: tessera-cli beside pkcs11-tool and certtool,
# in one run, on SoftHSM, counted with OpenSC's pkcs11-spy.  A benchmark
# prints figures; it does not pass or fail on them.
#
#   tests/benchmark-keys.sh [PATH/TO/tessera-cli] [N_PAIRS]

set -euo pipefail

cli=${1:-${TESSERA_CLI:-_build/src/cli/tessera-cli}}
pairs=${2:-50}
module=/usr/lib/softhsm/libsofthsm2.so
spy=/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/tokens"
echo "directories.tokendir = $dir/tokens" > "$dir/softhsm2.conf"
export SOFTHSM2_CONF="$dir/softhsm2.conf"
for label in Gen Doctor; do
  softhsm2-util --init-token --free --label "$label" --so-pin 12345678 --pin 123456 >/dev/null
done
printf '123456\n' > "$dir/pin"
chmod 600 "$dir/pin"
printf 'cn = "SSH key"\nexpiration_days = 365\nsigning_key\n' > "$dir/template"

# count LABEL COMMAND...: a table row with the calls, C_Sign calls and time.
count () {
  local label=$1; shift
  local log="$dir/spy.log" start end
  rm -f "$log"
  start=$(date +%s%N)
  PKCS11SPY="$module" PKCS11SPY_OUTPUT="$log" "$@" >"$dir/out" 2>&1 || true
  end=$(date +%s%N)
  printf '| %-52s | %6d | %6d | %7d |\n' "$label" \
    "$(grep -cE '^[0-9]+: C_' "$log")" \
    "$(grep -cE '^[0-9]+: C_Sign$' "$log")" \
    "$(( (end - start) / 1000000 ))"
}

echo "Making keys and certificates on SoftHSM (pkcs11-spy):"
echo
echo "| command                                              |  calls | C_Sign | time ms |"
echo "|------------------------------------------------------|-------:|-------:|--------:|"
n=0
for type in rsa:2048 rsa:3072 ec:p256 ec:p384; do
  n=$((n + 1))
  count "tessera-cli generate --type $type" "$cli" generate --module "$spy" "pkcs11:token=Gen" \
    --type "$type" --label "t$n" --pin-file "$dir/pin"
  tool_type=${type/ec:p/EC:secp}; tool_type=${tool_type/secp256/prime256v1}; tool_type=${tool_type/secp384/secp384r1}
  count "pkcs11-tool --keypairgen --key-type $tool_type" pkcs11-tool --module "$spy" --token-label Gen \
    --login --pin 123456 --keypairgen --key-type "$tool_type" --id "f$n" --label "p$n"
done
id=$("$cli" generate --module "$module" "pkcs11:token=Gen" --type ec:p256 --label cert --pin-file "$dir/pin")
count "tessera-cli certificate create (EC P-256)" "$cli" certificate create --module "$spy" "pkcs11:token=Gen" \
  --id "$id" --pin-file "$dir/pin"
GNUTLS_PIN=123456 count "certtool --generate-self-signed (EC P-256, on the token)" certtool --provider "$spy" \
  --generate-self-signed --load-privkey "pkcs11:token=Gen;id=%f3;type=private" \
  --load-pubkey "pkcs11:token=Gen;id=%f3;type=public" --template "$dir/template" --outfile "$dir/c.pem"
echo

for i in $(seq 1 "$pairs"); do
  pkcs11-tool --module "$module" --token-label Doctor --login --pin 123456 \
    --keypairgen --key-type EC:prime256v1 --id "$(printf '%04x' "$i")" --label "key $i" >/dev/null 2>&1
done
echo "The doctor on a token with $pairs EC P-256 key pairs:"
echo
echo "| command                                              |  calls | C_Sign | time ms |"
echo "|------------------------------------------------------|-------:|-------:|--------:|"
count "tessera-cli doctor (clean)" "$cli" doctor --module "$spy" "pkcs11:token=Doctor" --pin-file "$dir/pin"
count "pkcs11-tool -O --login (for scale)" pkcs11-tool --module "$spy" --token-label Doctor -O --login --pin 123456

# One certificate under a wrong ID, whose key hides its public part: the
# doctor pairs it by test signatures, one per candidate EC key at most.
GNUTLS_PIN=123456 certtool --provider "$module" --generate-self-signed \
  --load-privkey "pkcs11:token=Doctor;id=%00%01;type=private" --load-pubkey "pkcs11:token=Doctor;id=%00%01;type=public" \
  --template "$dir/template" --outder --outfile "$dir/c.der" 2>/dev/null
pkcs11-tool --module "$module" --token-label Doctor --login --pin 123456 --delete-object --type pubkey --id 0001 >/dev/null 2>&1
pkcs11-tool --module "$module" --token-label Doctor --login --pin 123456 --write-object "$dir/c.der" --type cert --id 99 \
  --label wrong >/dev/null 2>&1
count "tessera-cli doctor (1 mismatch, test-signed)" "$cli" doctor --module "$spy" "pkcs11:token=Doctor" --pin-file "$dir/pin"
count "tessera-cli doctor --fix" "$cli" doctor --module "$spy" "pkcs11:token=Doctor" --fix --pin-file "$dir/pin"
grep -q "No problems found." "$dir/out" && echo && echo "(the fix left the token clean)"
