#!/bin/sh
# SPDX-License-Identifier: MIT
# check-exports.sh: the drop-in rstrtmgr.dll exports exactly the names of
# Windows' Rstrtmgr.dll (undecorated, also on x86) and imports nothing but
# Windows' own DLLs.
#
#   check-exports.sh OBJDUMP rstrtmgr.dll rstrtmgr-x64.def|rstrtmgr-x86.def
#
# The expected names are the .def file's export names; a leaked rm_*
# function, a decorated _RmX@N name or a missing export fails the test.
set -eu
objdump=$1
dll=$2
def=$3

dump=$("$objdump" -p "$dll")
format=$(printf '%s\n' "$dump" | sed -n 's/.*file format \(pei-[a-z0-9-]*\).*/\1/p' | head -n 1)
echo "format: $format"

# Names in the export table: the lines after "[Ordinal/Name Pointer] Table".
exported=$(printf '%s\n' "$dump" | awk '
  /\[Ordinal\/Name Pointer\] Table/ { on = 1; next }
  on && /^[[:space:]]*\[/ { print $NF; next }
  on { on = 0 }' | sort)
expected=$(awk '
  /^[[:space:]]*EXPORTS/ { on = 1; next }
  on && NF && $1 !~ /^;/ { print $1 }' "$def" | sort)

echo "exports:" $exported
if [ "$exported" != "$expected" ]; then
  echo "FAIL: expected exactly:" $expected >&2
  exit 1
fi

# Imports: Windows' own DLLs only (no libgcc, no restartmgr.dll).
imports=$(printf '%s\n' "$dump" | sed -n 's/^[[:space:]]*DLL Name: //p' | sort -u)
echo "imports:" $imports
for d in $imports; do
  case $(printf '%s' "$d" | tr 'A-Z' 'a-z') in
    kernel32.dll|advapi32.dll|user32.dll|bcrypt.dll|psapi.dll|shell32.dll|\
    msvcrt.dll|ntdll.dll|version.dll|api-ms-win-*) ;;
    *) echo "FAIL: imports $d" >&2; exit 1 ;;
  esac
done
echo "ok: $(printf '%s\n' "$exported" | wc -l) exports, as Windows' Rstrtmgr.dll"
