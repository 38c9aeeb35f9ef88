#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Runs a test in a D-Bus session of its own, with gnome-keyring unlocked
# as the Secret Service, a private HOME and XDG_RUNTIME_DIR. The user's
# session, keyring and agent are never reached. The test sees
# TESSERA_TEST_KEYRING=1.

tmp=$(mktemp -d)
mkdir -p "$tmp/home/.cache" "$tmp/runtime"
chmod 700 "$tmp/runtime"
export HOME="$tmp/home" XDG_RUNTIME_DIR="$tmp/runtime" TESSERA_TEST_KEYRING=1
unset DBUS_SESSION_BUS_ADDRESS SSH_AUTH_SOCK GNOME_KEYRING_CONTROL

dbus-run-session -- sh -c '
  # In the foreground, so that it is ours to stop, and holds no pipe of
  # the test runner once stopped. The password must not be empty, or the
  # keyring would ask through a prompter that cannot run headless.
  printf testpass | gnome-keyring-daemon --foreground --unlock --components=secrets \
    >/dev/null 2>&1 &
  keyring=$!
  sleep 0.5
  "$@"
  status=$?
  kill "$keyring" 2>/dev/null
  wait "$keyring" 2>/dev/null
  exit $status' sh "$@"
status=$?
rm -rf "$tmp"
exit $status
