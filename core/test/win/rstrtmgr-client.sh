#!/bin/sh
# SPDX-License-Identifier: MIT
# rstrtmgr-client.sh: the wine.rstrtmgr test.  Installs the drop-in
# rstrtmgr.dll into the test prefix's system32 with the shipped script,
# runs rm_rstrtmgr_client with it (WINEDLLOVERRIDES=rstrtmgr=n,b), then
# against Wine's stub (rstrtmgr=b), and uninstalls it, also on failure.
#
#   rstrtmgr-client.sh WINE-RUN PREFIX WINE CLIENT.exe RSTRTMGR.dll WINE-PREFIX.sh 64|32 [wow64 OTHER-BIN]
#
# 32: the 32-bit build (needs wine32), whose DLL goes into syswow64 of a
# 64-bit prefix.  "wow64 OTHER-BIN" (the wine.rstrtmgr_wow64 test) runs
# only the client's wow64 part instead, against the apps of the other
# width in OTHER-BIN, with the drop-in installed the same way and the
# other width's (OTHER-BIN/rstrtmgr.dll) beside it.
#
# Other tests share the prefix meanwhile: wine-run.sh gives every program
# Wine's builtin rstrtmgr unless RM_WINE_RSTRTMGR says otherwise, so the
# file in system32 changes nothing for them.
set -eu
run=$1 prefix=$2 wine=$3 client=$4 dll=$5 installer=$6 bits=$7
part=${8:-} other=${9:-}

# Initialises the prefix if nothing has yet (the client prints its usage).
sh "$run" "$prefix" "$wine" "$client" >/dev/null 2>&1 || true
trap 'sh "$installer" uninstall --prefix "$prefix" >/dev/null' EXIT
trap 'exit 1' INT TERM
system32=$prefix/drive_c/windows/system32
width=--dll64
if [ "$bits" = 32 ]; then
  width=--dll32
  [ ! -d "$prefix/drive_c/windows/syswow64" ] || system32=$prefix/drive_c/windows/syswow64
fi
before=$(cksum <"$system32/rstrtmgr.dll")
# Anything but the drop-in is refused.
if sh "$installer" install --prefix "$prefix" $width "$client" 2>/dev/null; then
  echo "FAIL: wine-prefix.sh installed $client" >&2
  exit 1
fi
sh "$installer" install --prefix "$prefix" $width "$dll"
if [ "$part" = wow64 ]; then
  # The other width's drop-in too, for its secondary installer.
  other_width=--dll32
  [ "$bits" = 64 ] || other_width=--dll64
  sh "$installer" install --prefix "$prefix" $other_width "$other/rstrtmgr.dll"
  echo "== rm_rstrtmgr_client wow64: the drop-in, apps of the other width"
  RM_WINE_RSTRTMGR=n,b RM_TEST_OTHER_BIN=$other \
    sh "$run" "$prefix" "$wine" "$client" wow64
  exit 0                  # the trap uninstalls it
fi
# Twice: the original is kept once, not overwritten by the drop-in.
sh "$installer" install --prefix "$prefix" $width "$dll" >/dev/null
cmp -s "$dll" "$system32/rstrtmgr.dll"

echo "== rm_rstrtmgr_client dropin: the drop-in, WINEDLLOVERRIDES=rstrtmgr=n,b"
# Native mode asked for: the drop-in must ignore it (it would forward to
# itself).
RM_WINE_RSTRTMGR=n,b RESTARTMGR_BACKEND=native RESTARTMGR_NATIVE_ON_WINE=1 \
  sh "$run" "$prefix" "$wine" "$client" dropin

# A console app started from the Unix shell, as a user would start one:
# it is on a console no other process can attach to, where Ctrl-C through
# the console never arrives (docs/windows.md, Console applications under
# Wine).  RmShutdown without force must still stop it within a second.
echo "== rm_rstrtmgr_client console: a console app started from the shell"
held=$RM_TEST_BIN/rstrtmgr-console-held.txt
out=$RM_TEST_BIN/rstrtmgr-console-holder.out
echo held >"$held"
: >"$out"
# Straight from this shell, not through wine-run.sh, which shows a
# program's output only when it exits.
WINEPREFIX=$prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d" \
  "$wine" "$RM_TEST_BIN/rm_winapp.exe" --hold "Z:$(printf '%s' "$held" | tr / '\\')" \
  </dev/null >"$out" 2>&1 &
holder=$!
tries=0
until grep -q '^ready' "$out" || [ $tries -ge 600 ]; do sleep 0.1; tries=$((tries + 1)); done
pid=$(sed -n 's/^ready \([0-9]*\).*/\1/p' "$out")
status=0
RM_WINE_RSTRTMGR=n,b sh "$run" "$prefix" "$wine" "$client" console \
  "Z:$(printf '%s' "$held" | tr / '\\')" "${pid:-0}" || status=$?
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
rm -f "$held" "$out"
[ "$status" = 0 ]

echo "== rm_rstrtmgr_client stub: Wine's own rstrtmgr, WINEDLLOVERRIDES=rstrtmgr=b"
RM_WINE_RSTRTMGR=b sh "$run" "$prefix" "$wine" "$client" stub

sh "$installer" uninstall --prefix "$prefix"
sh "$installer" status --prefix "$prefix"
sh "$installer" status --prefix "$prefix" | grep -q "($system32): wine-builtin"
# Wine's file is back, byte for byte, and no backup is left behind.
[ "$(cksum <"$system32/rstrtmgr.dll")" = "$before" ]
[ ! -e "$system32/rstrtmgr.dll.restartmgr-orig" ]
echo "uninstalled: Wine's rstrtmgr.dll restored byte for byte"
