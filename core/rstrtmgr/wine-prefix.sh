#!/bin/sh
# SPDX-License-Identifier: MIT
# wine-prefix.sh: installs restartmgr's drop-in rstrtmgr.dll into a Wine
# prefix in place of Wine's stub, and takes it out again.
#
#   wine-prefix.sh install   [--prefix DIR] [--dll64 FILE] [--dll32 FILE]
#   wine-prefix.sh uninstall [--prefix DIR]
#   wine-prefix.sh status    [--prefix DIR]
#
# DIR defaults to $WINEPREFIX, else ~/.wine.  The 64-bit DLL goes into
# drive_c/windows/system32 (a 64-bit prefix) and the 32-bit one into
# drive_c/windows/syswow64 (where Windows, and Wine, keep the 32-bit system
# DLLs of a 64-bit system; a 32-bit prefix has no syswow64 and takes the
# 32-bit DLL in system32).  Each file it replaces is kept once as
# rstrtmgr.dll.restartmgr-orig beside it, and "uninstall" puts it back.
# Without --dll64/--dll32 the DLLs are taken from beside this script
# (rstrtmgr.dll, rstrtmgr32.dll).
#
# Load order: Wine 8.0 loads a native rstrtmgr.dll found in system32
# before its builtin, but a DllOverrides entry (or a Wine whose default
# is builtin first) can change that, so run programs with
#
#   WINEDLLOVERRIDES=rstrtmgr=n,b
#
# ("native, then builtin"), or make it the prefix's default with
#   wine reg add 'HKCU\Software\Wine\DllOverrides' /v rstrtmgr /d native,builtin /f
# WINEDLLOVERRIDES=rstrtmgr=b gives Wine's stub back for one program.
# A Wine upgrade that refreshes the prefix (wineboot -u) may put the stub
# back: "status" says which one is there.
set -eu

usage() {
  sed -n '4,6p' "$0" | sed 's/^# *//' >&2
  exit 2
}

[ $# -ge 1 ] || usage
action=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
prefix=${WINEPREFIX:-$HOME/.wine}
dll64=""
dll32=""
while [ $# -gt 0 ]; do
  case $1 in
    --prefix) prefix=$2; shift 2 ;;
    --dll64) dll64=$2; shift 2 ;;
    --dll32) dll32=$2; shift 2 ;;
    *) usage ;;
  esac
done
case $action in install|uninstall|status) ;; *) usage ;; esac

windows=$prefix/drive_c/windows
if [ ! -d "$windows/system32" ]; then
  echo "wine-prefix: $prefix is not an initialised Wine prefix (run wineboot)" >&2
  exit 1
fi
if [ -d "$windows/syswow64" ]; then
  dir64=$windows/system32
  dir32=$windows/syswow64
else
  dir64=""
  dir32=$windows/system32
fi

# What a system directory's rstrtmgr.dll is: Wine marks its own DLLs.
kind() {
  if [ ! -f "$1/rstrtmgr.dll" ]; then echo "none"
  elif grep -q "restartmgr drop-in" "$1/rstrtmgr.dll"; then echo "restartmgr"
  elif grep -q "Wine builtin DLL\|Wine placeholder DLL" "$1/rstrtmgr.dll"; then
    echo "wine-builtin"
  else echo "other"
  fi
}

put() {   # put DIR FILE
  if [ ! -f "$2" ]; then
    echo "wine-prefix: $2: no such DLL" >&2
    exit 1
  fi
  if ! grep -q "restartmgr drop-in" "$2"; then
    echo "wine-prefix: $2 is not restartmgr's drop-in rstrtmgr.dll" >&2
    exit 1
  fi
  if [ -f "$1/rstrtmgr.dll" ] && [ ! -f "$1/rstrtmgr.dll.restartmgr-orig" ] &&
     [ "$(kind "$1")" != restartmgr ]; then
    cp -p "$1/rstrtmgr.dll" "$1/rstrtmgr.dll.restartmgr-orig"
  fi
  # Copy then rename, so a running program never sees half a file.
  cp "$2" "$1/rstrtmgr.dll.restartmgr-new"
  mv -f "$1/rstrtmgr.dll.restartmgr-new" "$1/rstrtmgr.dll"
  echo "wine-prefix: installed $1/rstrtmgr.dll"
}

restore() {   # restore DIR
  if [ -f "$1/rstrtmgr.dll.restartmgr-orig" ]; then
    mv -f "$1/rstrtmgr.dll.restartmgr-orig" "$1/rstrtmgr.dll"
    echo "wine-prefix: restored $1/rstrtmgr.dll"
  elif [ "$(kind "$1")" = restartmgr ]; then
    rm -f "$1/rstrtmgr.dll"
    echo "wine-prefix: removed $1/rstrtmgr.dll (there was none before)"
  fi
}

case $action in
  install)
    [ -n "$dll64" ] || { [ -f "$here/rstrtmgr.dll" ] && dll64=$here/rstrtmgr.dll; } || true
    [ -n "$dll32" ] || { [ -f "$here/rstrtmgr32.dll" ] && dll32=$here/rstrtmgr32.dll; } || true
    if [ -z "$dll64" ] && [ -z "$dll32" ]; then
      echo "wine-prefix: no DLL given and none beside $0" >&2
      exit 1
    fi
    if [ -n "$dll64" ]; then
      if [ -z "$dir64" ]; then
        echo "wine-prefix: $prefix is a 32-bit prefix: no place for a 64-bit DLL" >&2
        exit 1
      fi
      put "$dir64" "$dll64"
    fi
    [ -z "$dll32" ] || put "$dir32" "$dll32"
    echo "wine-prefix: run programs with WINEDLLOVERRIDES=rstrtmgr=n,b"
    ;;
  uninstall)
    [ -z "$dir64" ] || restore "$dir64"
    restore "$dir32"
    ;;
  status)
    [ -z "$dir64" ] || echo "64-bit ($dir64): $(kind "$dir64")"
    echo "32-bit ($dir32): $(kind "$dir32")"
    ;;
esac
