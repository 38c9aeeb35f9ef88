#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Puts opencryptoki's software token back as it comes from the package:
# not initialised, default SO PIN 87654321. The token is machine-global
# state, so every test that uses it starts here (and runs alone). Exits 77
# when pkcsslotd cannot run.

set -u
swtok=/var/lib/opencryptoki/swtok

pkill -x pkcsslotd 2>/dev/null
for _ in 1 2 3 4 5 6 7 8 9 10; do
  pgrep -x pkcsslotd >/dev/null || break
  sleep 0.2
done
[ -d "$swtok" ] || { echo "opencryptoki-reset: no $swtok" >&2; exit 77; }
rm -rf "$swtok/MK_SO" "$swtok/MK_USER" "$swtok/NVTOK.DAT" "$swtok/TOK_OBJ"
mkdir -p "$swtok/TOK_OBJ"
chgrp pkcs11 "$swtok/TOK_OBJ" 2>/dev/null
chmod 770 "$swtok/TOK_OBJ"
rm -f /dev/shm/var.lib.opencryptoki* 2>/dev/null
pkcsslotd >/dev/null 2>&1
pgrep -x pkcsslotd >/dev/null || { echo "opencryptoki-reset: pkcsslotd cannot run" >&2; exit 77; }
exit 0
