#!/bin/sh
# run-ui-test.sh: run one UI test in a private X server, session bus and home
#
# Usage: run-ui-test.sh TEST.py [ARGS...]
#        run-ui-test.sh COMMAND [ARGS...]
#
# A .py test runs with Debian's /usr/bin/python3, which has dogtail.
#
# The environment names the app under test and where its pieces are:
#   TESSERA_EXE          the built tessera executable
#   TESSERA_SCHEMA_DIR   the directory with the build's gschemas.compiled
#   TESSERA_UI_LOG_DIR   where the test leaves screenshots (created)
#
# A test that cannot run because Xvfb is missing exits 77 (skipped).
#
# SPDX-License-Identifier: GPL-3.0-or-later

set -u

if [ $# -lt 1 ]; then
  echo "usage: $0 TEST.py|COMMAND [ARGS...]" >&2
  exit 2
fi

case "$1" in
  *.py) set -- /usr/bin/python3 "$@" ;;
esac

if ! command -v Xvfb >/dev/null 2>&1; then
  echo "Xvfb is not installed: skipping the UI test" >&2
  exit 77
fi

for tool in dbus-run-session /usr/libexec/at-spi-bus-launcher /usr/bin/python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$tool is missing: the UI tests need it (see build-aux/debian-packages.txt)" >&2
    exit 1
  fi
done

: "${TESSERA_EXE:?TESSERA_EXE must name the built tessera}"
: "${TESSERA_SCHEMA_DIR:?TESSERA_SCHEMA_DIR must name the compiled schemas}"
: "${TESSERA_UI_LOG_DIR:=$(pwd)/ui-logs}"
mkdir -p "$TESSERA_UI_LOG_DIR"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tessera-ui.XXXXXX") || exit 1
xvfb_pid=

cleanup () {
  if [ -n "$xvfb_pid" ]; then
    kill "$xvfb_pid" 2>/dev/null
    wait "$xvfb_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Xvfb picks a free display itself and writes its number to fd 3
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp \
  3>"$tmp/display" >"$tmp/xvfb.log" 2>&1 &
xvfb_pid=$!

display=
for _ in $(seq 100); do
  display=$(cat "$tmp/display" 2>/dev/null)
  [ -n "$display" ] && break
  if ! kill -0 "$xvfb_pid" 2>/dev/null; then
    echo "Xvfb did not start:" >&2
    cat "$tmp/xvfb.log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$display" ]; then
  echo "Xvfb did not report a display" >&2
  exit 1
fi

mkdir -p "$tmp/home/.cache" "$tmp/home/.config" "$tmp/home/.local/share" "$tmp/runtime"
chmod 700 "$tmp/runtime"

export DISPLAY=":$display"
export HOME="$tmp/home"
export XDG_RUNTIME_DIR="$tmp/runtime"
export XDG_CACHE_HOME="$HOME/.cache"
export XDG_CONFIG_HOME="$HOME/.config"
export XDG_DATA_HOME="$HOME/.local/share"
export GSETTINGS_SCHEMA_DIR="$TESSERA_SCHEMA_DIR"
export TESSERA_EXE TESSERA_UI_LOG_DIR
export GDK_BACKEND=x11
export GTK_A11Y=atspi
export NO_AT_BRIDGE=0
export LC_ALL=C.UTF-8
unset WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS AT_SPI_BUS_ADDRESS SESSION_MANAGER
unset GSETTINGS_BACKEND G_DEBUG

echo "Running $* on display :$display"

dbus-run-session -- sh -c '
  gsettings set org.gnome.desktop.interface toolkit-accessibility true
  /usr/libexec/at-spi-bus-launcher --launch-immediately &
  launcher=$!
  sleep 1
  "$@"
  rc=$?
  kill $launcher 2>/dev/null
  exit $rc
' sh "$@"
