#!/bin/sh
# SPDX-License-Identifier: MIT
# The interpreter plain `busted` runs the specs under (.busted, key "lua"):
# lua5.4 with the module path and a private session store in the
# environment, so that the spec process and every child process it starts
# (lua5.4 -e ..., holders) find the same module and the same store.
#
#   LUA_CPATH_5_4         kept when set (CTest, or a path you chose); else
#                         the module built in $RM_BUILD_DIR, build/dev or
#                         build.luarocks (luarocks make), the first that has
#                         one; else Lua's default path: an installed module
#   LUA_PATH_5_4          kept when set; else lua/?.lua of this checkout
#                         first (the command's modules, restartmgr.cli.*),
#                         then Lua's default path
#   RESTARTMGR_STATE_DIR  kept when set; else a fresh private (0700) temp
#                         directory, removed when the run ends
#   RM_LUA                the interpreter, lua5.4 unless set
#
# busted calls this as: busted-lua.sh <busted script> --ignore-lua <args>.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
: "${RM_LUA:=lua5.4}"
export RM_LUA

if [ -z "${LUA_CPATH_5_4:-}" ]; then
  for dir in ${RM_BUILD_DIR:+"$RM_BUILD_DIR"} "$root/build/dev" "$root/build.luarocks"; do
    if [ -f "$dir/lua/restartmgr.so" ]; then
      LUA_CPATH_5_4="$(cd "$dir/lua" && pwd)/?.so;;"
      export LUA_CPATH_5_4
      break
    fi
  done
fi

if [ -z "${LUA_PATH_5_4:-}" ]; then
  LUA_PATH_5_4="$root/lua/?.lua;;"
  export LUA_PATH_5_4
fi

store=""
if [ -z "${RESTARTMGR_STATE_DIR:-}" ]; then
  store=$(mktemp -d "${TMPDIR:-/tmp}/restartmgr-spec.XXXXXX") || exit 2
  RESTARTMGR_STATE_DIR=$store
  export RESTARTMGR_STATE_DIR
  trap 'rm -rf "$store"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
fi

# Say which modules this run tests (the first on the paths the specs get).
"$RM_LUA" -e 'io.stderr:write("spec: restartmgr from ",
  package.searchpath("restartmgr", package.cpath) or "(not found)",
  ", restartmgr.cli from ",
  package.searchpath("restartmgr.cli", package.path) or "(not found)", "\n")'
"$RM_LUA" "$@"
