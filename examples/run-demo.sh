#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs the installer demo against a build tree (default build/dev).
set -eu
cd "$(dirname "$0")/.."
build=${1:-build/dev}
export LUA_CPATH="$build/lua/?.so;;" LUA_PATH="lua/?.lua;;"
if [ -f examples/installer.lua ]; then
  exec lua5.4 examples/installer.lua --demo
fi
exec lua5.4 examples/session_demo.lua
