#!/bin/sh
# SPDX-License-Identifier: MIT
# fetch-lua-source.sh: puts Debian's lua5.4 source package, unpacked, where
# the Windows build (core/cmake/lua-windows.cmake) finds it.
#
#   sh core/cmake/fetch-lua-source.sh [DEST]     (DEST: build/lua5.4-source)
#
# The Windows build compiles lua54.dll and lua.exe with mingw-w64 from this
# source, so that the Lua module runs under a real Windows Lua.  Debian ships
# no Windows Lua, but its source package is the same Lua the Linux build
# uses.  Fetching needs the network and, the first time, root: a deb-src
# entry is added next to the system's deb822 sources (same URIs, suites and
# components) and the package lists are updated.  Everything after that
# (configure, build, tests) works offline.  Running it again is a no-op once
# the source is unpacked.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dest=${1:-$root/build/lua5.4-source}
src_list=/etc/apt/sources.list.d/restartmgr-src.sources

# Already there: nothing to do.
for d in "$dest"/lua5.4-*/src; do
  if [ -f "$d/lua.h" ] && [ -f "$d/lapi.c" ]; then
    echo "fetch-lua-source: using $(dirname "$d")"
    exit 0
  fi
done

if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi

# dpkg-source unpacks the package (dpkg-dev).
if ! command -v dpkg-source >/dev/null 2>&1; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
    --no-install-recommends dpkg-dev
fi

# A deb-src entry: copy the deb822 stanzas of the system's Debian sources
# with "Types: deb-src".  Only when no deb-src entry exists yet.
has_src() {
  grep -Eqs '^[[:space:]]*Types:.*deb-src' /etc/apt/sources.list.d/*.sources ||
    grep -Eqs '^[[:space:]]*deb-src[[:space:]]' /etc/apt/sources.list \
      /etc/apt/sources.list.d/*.list
}
if ! has_src; then
  system=/etc/apt/sources.list.d/debian.sources
  tmp=$(mktemp)
  if [ -f "$system" ]; then
    sed -e 's/^Types:.*/Types: deb-src/' "$system" >"$tmp"
  else
    # A classic sources.list system: assume Debian bookworm.
    cat >"$tmp" <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  fi
  echo "fetch-lua-source: adding $src_list"
  $sudo install -m 0644 "$tmp" "$src_list"
  rm -f "$tmp"
  $sudo apt-get update -qq
fi

# Download as the calling user into the cache, then unpack there.
mkdir -p "$dest/download"
cd "$dest/download"
apt-get source --download-only -qq lua5.4
dsc=$(ls -1 lua5.4_*.dsc | sort | tail -n 1)
cd "$dest"
rm -rf "$dest"/lua5.4-*/
dpkg-source -x "download/$dsc" >/dev/null
for d in "$dest"/lua5.4-*/src; do
  if [ -f "$d/lua.h" ]; then
    echo "fetch-lua-source: unpacked $(dirname "$d")"
    exit 0
  fi
done
echo "fetch-lua-source: no Lua source in $dest after unpacking $dsc" >&2
exit 1
