#!/bin/sh
# SPDX-License-Identifier: MIT
# core/fuzz/run.sh BUILD_DIR [SECONDS]: runs each libFuzzer target for
# SECONDS (default 60) from the committed seed corpus, in a private store,
# and prints how many inputs each executed.  A finding (crash, leak,
# undocumented return code) makes it fail and leaves the input as
# crash-*/leak-* in the current directory.  For a longer hunt:
#   sh core/fuzz/run.sh build/fuzz 3600
# or run one target by hand with a corpus directory that grows:
#   mkdir -p /tmp/corpus && cp core/fuzz/corpus/store/* /tmp/corpus/
#   build/fuzz/core/fuzz/rm_fuzz_store_parse -max_total_time=3600 /tmp/corpus
set -eu
build=$1
seconds=${2:-60}
src=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/rm-fuzz-XXXXXX")
# The API target writes the store with fsync on every call: on tmpfs
# (/dev/shm) that costs nothing, so it runs many more inputs.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  stores=$(mktemp -d /dev/shm/rm-fuzz-XXXXXX)
else
  stores=$work
fi
trap 'rm -rf "$work" "$stores"' EXIT INT TERM
status=0
for target in store_parse api leftovers; do
  corpus=$work/corpus-$target
  mkdir -p "$corpus" "$stores/store-$target"
  case $target in
    store_parse) seeds=$src/corpus/store ;;
    leftovers) seeds=$src/corpus/leftovers ;;
    *) seeds=$src/corpus/api ;;
  esac
  cp "$seeds"/* "$corpus"/
  log=$work/$target.log
  if RESTARTMGR_STATE_DIR=$stores/store-$target/s \
     ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     "$build/core/fuzz/rm_fuzz_$target" -max_total_time="$seconds" \
       -timeout=30 -rss_limit_mb=1024 -print_final_stats=1 \
       "$corpus" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz $target: ${runs:-?} inputs in ${seconds} s, no finding"
  else
    tail -40 "$log"
    echo "fuzz $target: FINDING (see above)"
    status=1
  fi
done
exit $status
