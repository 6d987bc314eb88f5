#!/bin/sh
# SPDX-License-Identifier: MIT
# nsis-test.sh: the wine.nsis tests.  Builds installer.nsi with Debian's
# makensis for one target, installs the drop-in rstrtmgr.dll into the
# test prefix (core/rstrtmgr/wine-prefix.sh), starts three programs that
# use the files the installer replaces (a windowed holder, a console
# holder, a DLL user; rm_winapp, started from this shell as a user would
# start them), and runs the installer silently (/S) with the drop-in: it
# must stop them without force, replace the files, restart them and end,
# in a few seconds.  Then the same against Wine's stub, to show the
# difference: its answers and what they leave are checked exactly.  Everything started is ended by pid; the drop-in is
# uninstalled also on failure.
#
#   nsis-test.sh WINE-RUN PREFIX WINE MAKENSIS TARGET WORK TEST-BIN DLL WINE-PREFIX.sh
#
# TARGET: amd64-unicode or x86-unicode (needs 32-bit Wine).
set -eu
run=$1 prefix=$2 wine=$3 makensis=$4 target=$5 work=$6 bin=$7 dll=$8 installer=$9
here=$(cd "$(dirname "$0")" && pwd)

# Each phase's time since the test began, so that where the time goes is
# in the test's output.
test_t0=$(date +%s%N)
phase() { echo "[$(( ($(date +%s%N) - test_t0) / 1000000 )) ms] $*"; }

winpath() { printf 'Z:%s' "$1" | tr / '\\'; }
wineenv() {
  WINEPREFIX=$prefix WINEDEBUG=-all \
    WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d" "$@"
}

rm -rf "$work"
mkdir -p "$work/payload" "$work/inst"
holders=""
# Restarted holders are the installer's children: ended by their Windows
# pid, as each reported it (a report's first start is the holder this
# shell started and ends by its Unix pid), all by one taskkill (each Wine
# program started costs a fraction of a second).
kill_reported() {
  pids=$(for r in "$work"/report-*.txt; do
           [ -f "$r" ] && sed -n 's/^start pid=\([0-9]*\).*/\/PID \1/p' "$r" | sed 1d
         done | tr '\n' ' ')
  [ -z "$pids" ] ||
    wineenv "$wine" taskkill /F $pids >/dev/null 2>&1 </dev/null || true
}
cleanup() {
  for p in $holders; do kill "$p" 2>/dev/null || true; done
  for p in $holders; do wait "$p" 2>/dev/null || true; done
  kill_reported
  sh "$installer" uninstall --prefix "$prefix" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The installer, with the new versions of the three files inside.
echo "new doc" >"$work/payload/doc.txt"
echo "new data" >"$work/payload/data.txt"
cp "$bin/rmtestdll.dll" "$work/payload/rmtestdll.dll"
printf 'restartmgr-nsis-new' >>"$work/payload/rmtestdll.dll"   # an overlay
phase "makensis"
"$makensis" -V2 -DTARGET="$target" -DPAYLOAD="$work/payload" \
  -DOUTFILE="$work/setup.exe" "$here/installer.nsi"
echo "makensis: $target installer built ($(wc -c <"$work/setup.exe") bytes)"

phase "prefix"
sh "$run" "$prefix" "$wine" cmd /c exit 0 >/dev/null 2>&1 || true   # initialises the prefix
phase "drop-in install"
width=--dll64
[ "$target" = amd64-unicode ] || width=--dll32
sh "$installer" install --prefix "$prefix" $width "$dll" >/dev/null

# Starts one holder from this shell (wait_ready waits for its "ready"
# line; the three start at once).
start_holder() {
  name=$1
  shift
  : >"$work/$name.out"
  # env execs Wine, so $! is the program's own pid.
  env WINEPREFIX="$prefix" WINEDEBUG=-all \
    WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d" \
    "$wine" "$bin/rm_winapp.exe" "$@" --report "$(winpath "$work/report-$name.txt")" \
    </dev/null >"$work/$name.out" 2>&1 &
  holders="$holders $!"
}
wait_ready() {
  for name in "$@"; do
    tries=0
    until grep -q '^ready' "$work/$name.out"; do
      tries=$((tries + 1))
      if [ $tries -ge 600 ]; then echo "FAIL: $name did not start" >&2; exit 1; fi
      sleep 0.1
    done
  done
}

# One round: old files, three holders, the installer with LOADORDER.
round() {
  label=$1 order=$2
  for p in $holders; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  holders=""
  kill_reported
  rm -f "$work"/report-*.txt "$work/inst/install.log"
  echo "old doc" >"$work/inst/doc.txt"
  echo "old data" >"$work/inst/data.txt"
  cp "$bin/rmtestdll.dll" "$work/inst/rmtestdll.dll"
  phase "$label: holders"
  start_holder window --window ok --hold "$(winpath "$work/inst/doc.txt")"
  start_holder console --hold "$(winpath "$work/inst/data.txt")"
  start_holder dlluser --load "$(winpath "$work/inst/rmtestdll.dll")"
  wait_ready window console dlluser
  phase "$label: installer"
  t0=$(date +%s%N)
  status=0
  RM_WINE_RSTRTMGR=$order sh "$run" "$prefix" "$wine" "$work/setup.exe" /S \
    "/D=$(winpath "$work/inst")" >/dev/null 2>&1 || status=$?
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  phase "$label: installer exited"
  echo "== $label: the installer exited $status after $ms ms; its log:"
  sed 's/^/  /' "$work/inst/install.log" 2>/dev/null | tr -d '\r' || true
}

count() { grep -c '^start pid=' "$1" 2>/dev/null || echo 0; }

round "drop-in (rstrtmgr=n,b)" n,b
fail=0
[ "$status" = 0 ] || { echo "FAIL: installer exit code $status"; fail=1; }
grep -q "\] done" "$work/inst/install.log" || { echo "FAIL: no 'done' in the log"; fail=1; }
[ "$(grep -c 'RmGetList: 3 affected' "$work/inst/install.log")" = 3 ] ||
  { echo "FAIL: not 3 affected in each of the 3 lists"; fail=1; }
[ "$(cat "$work/inst/doc.txt")" = "new doc" ] || { echo "FAIL: doc.txt not replaced"; fail=1; }
[ "$(cat "$work/inst/data.txt")" = "new data" ] || { echo "FAIL: data.txt not replaced"; fail=1; }
cmp -s "$work/payload/rmtestdll.dll" "$work/inst/rmtestdll.dll" || { echo "FAIL: rmtestdll.dll not replaced"; fail=1; }
for h in window console dlluser; do
  n=$(count "$work/report-$h.txt")
  echo "  $h: started $n times (the holder, then its restart)"
  [ "$n" = 2 ] || { echo "FAIL: $h was not restarted once"; fail=1; }
done
# The time is printed (each phase's, and each step's in the log), not
# bounded tightly: speed is compared in docs/performance.md (Listing under
# Wine), and a list takes about 0.3 s on two cores at a load of 6 but
# over a second at 20.  What the old 30 s wait for an unanswered Ctrl-C broke is
# checked above (RmShutdown without force returned 0, the "done" line) and
# below (exit code 0).
[ "$ms" -lt 180000 ] || { echo "FAIL: took $ms ms"; fail=1; }
# The originals stopped without force (not killed: exit code 0).
for p in $holders; do
  if kill -0 "$p" 2>/dev/null; then
    echo "FAIL: a holder still runs"; fail=1
    kill "$p" 2>/dev/null || true
  fi
  code=0
  wait "$p" || code=$?
  [ "$code" = 0 ] || { echo "FAIL: a holder exited $code"; fail=1; }
done
holders=""
dropin_ms=$ms

# Wine's stub, exactly as it answers (docs/windows.md, Use with Wine):
# handle 0xDEADBEEF and an empty key, every call "succeeds", every list is
# empty, so nobody is stopped or restarted; the text files are overwritten
# under the running holders (they share writing), and the DLL, mapped by
# its user, is not replaced (NSIS's File gives up on it silently).
round "Wine's stub (rstrtmgr=b)" b
[ "$status" = 0 ] || { echo "FAIL: the stub's installer exit code $status"; fail=1; }
expected="installing into $(winpath "$work/inst")
RmStartSession: 0
session -559038737, key 
RmRegisterResources: 0
RmGetList: 0
RmGetList: 0 affected, reboot reasons 0, 1 calls
RmShutdown: 0
RmGetList: 0
RmGetList: 0 affected, reboot reasons 0, 1 calls
files replaced
RmRestart: 0
RmGetList: 0
RmGetList: 0 affected, reboot reasons 0, 1 calls
RmEndSession: 0
done"
got=$(tr -d '\r' <"$work/inst/install.log" 2>/dev/null | sed 's/^\[[0-9]* ms\] //')
[ "$got" = "$expected" ] || { echo "FAIL: the stub's log is not the stub's answers"; fail=1; }
for h in window console dlluser; do
  n=$(count "$work/report-$h.txt")
  echo "  $h: started $n times"
  [ "$n" = 1 ] || { echo "FAIL: the stub restarted $h"; fail=1; }
done
for p in $holders; do
  kill -0 "$p" 2>/dev/null || { echo "FAIL: a holder ended under the stub"; fail=1; }
done
echo "  files: doc.txt \"$(cat "$work/inst/doc.txt")\", data.txt \"$(cat "$work/inst/data.txt")\"," \
  "rmtestdll.dll $(cmp -s "$work/payload/rmtestdll.dll" "$work/inst/rmtestdll.dll" && echo replaced || echo "not replaced")"
[ "$(cat "$work/inst/doc.txt")" = "new doc" ] || { echo "FAIL: the stub's doc.txt"; fail=1; }
[ "$(cat "$work/inst/data.txt")" = "new data" ] || { echo "FAIL: the stub's data.txt"; fail=1; }
cmp -s "$bin/rmtestdll.dll" "$work/inst/rmtestdll.dll" || { echo "FAIL: the stub's rmtestdll.dll changed"; fail=1; }
echo "drop-in: $dropin_ms ms; Wine's stub: $ms ms"
[ "$fail" = 0 ] && echo "PASS" || { echo "FAIL"; exit 1; }
