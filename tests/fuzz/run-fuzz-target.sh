#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Runs one libFuzzer target over its seed corpus for a fixed number of
# inputs: run-fuzz-target.sh TARGET CORPUS RUNS [libFuzzer options].
# New inputs go to a scratch directory, never into the checked-in corpus;
# a crashing input is kept beside the target, as crash-<sha1>, and its
# path printed.  FUZZ_SEED picks the random seed (1 by default, so that a
# run can be repeated; 0 for a new one each time).

set -eu

target=$1 corpus=$2 runs=$3
shift 3

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# GLib's slice allocator would hide overflows and leaks from ASan.
export G_SLICE=always-malloc
export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
unset LSAN_OPTIONS

exec "$target" -runs="$runs" -seed="${FUZZ_SEED:-1}" -timeout=10 -error_exitcode=1 \
  -print_final_stats=1 -artifact_prefix="$(dirname "$target")/" "$@" "$scratch" "$corpus"
