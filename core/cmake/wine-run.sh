#!/bin/sh
# SPDX-License-Identifier: MIT
# wine-run.sh: runs one Windows program under Wine, headless, in a private
# prefix.  It is the CMAKE_CROSSCOMPILING_EMULATOR of the mingw-w64 build
# (core/cmake/mingw-w64-x86_64.cmake), so ctest runs cross-built tests
# through it:
#
#   wine-run.sh PREFIX WINE program.exe [args...]
#
# PREFIX is a Wine prefix inside the build tree, created on first use with
# `wineboot -i`; an flock keeps parallel ctest jobs from initialising it
# twice.  The prefix uses Wine's null graphics driver, so windows exist
# (windowed test programs get their messages) without any X display; no
# Mono or Gecko installer is offered, and no debugger is started when a
# program crashes.
#
# Wine's own rstrtmgr.dll (a stub) is what every program gets, even when a
# test has put restartmgr's drop-in into the prefix's system32
# (core/rstrtmgr/wine-prefix.sh), unless RM_WINE_RSTRTMGR gives another
# load order for it (RM_WINE_RSTRTMGR=n,b: the native file, the drop-in).
set -eu

prefix=$1
wine=$2
shift 2

export WINEPREFIX="$prefix"
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d;rstrtmgr=${RM_WINE_RSTRTMGR:-b}"
unset DISPLAY WAYLAND_DISPLAY || true

if [ ! -f "$prefix/.restartmgr-ready" ]; then
  mkdir -p "$(dirname "$prefix")"
  exec 9>"$prefix.lock"
  flock 9
  if [ ! -f "$prefix/.restartmgr-ready" ]; then
    rm -rf "$prefix"
    "$wine" wineboot -i >/dev/null 2>&1 </dev/null
    "$wine" reg add 'HKCU\Software\Wine\Drivers' /v Graphics /d null /f \
      >/dev/null 2>&1 </dev/null
    # A crashing test just dies: no winedbg waiting for a terminal.
    "$wine" reg add 'HKLM\Software\Microsoft\Windows NT\CurrentVersion\AeDebug' \
      /v Debugger /d '' /f >/dev/null 2>&1 </dev/null
    # Let wineserver write the registry before others use the prefix.
    wineserver=$(dirname "$wine")/wineserver
    if [ -x "$wineserver" ]; then "$wineserver" -w || true; fi
    touch "$prefix/.restartmgr-ready"
  fi
  exec 9>&-
fi

# The program's output goes to a file, shown when it exits.  Wine starts
# its own long-lived processes (services.exe, explorer.exe, ...) from
# whichever program needs them first, and they inherit that program's
# file descriptors: were those ctest's pipes, ctest would wait for them
# until the last Wine process in the prefix is gone.
out=$(mktemp "${TMPDIR:-/tmp}/wine-run.XXXXXX")
trap 'rm -f "$out"' EXIT
trap 'exit 1' INT TERM
status=0
"$wine" "$@" >"$out" 2>&1 </dev/null || status=$?
cat "$out"
exit "$status"
