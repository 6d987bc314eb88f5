-- SPDX-License-Identifier: MIT
-- LuaRocks: `luarocks --lua-version 5.4 make` in a checkout builds the
-- module with the project's CMake and installs it (and the restartmgr
-- command, when lua/cli/ has it: CMake installs the script into the
-- rock's bin, which LuaRocks wraps like any install.bin script, and its
-- Lua modules restartmgr.cli.* into the rock's lua directory, $(LUADIR));
-- `luarocks --lua-version 5.4 test` runs the busted specs (.busted).
rockspec_format = "3.0"
package = "restartmgr"
version = "0.1.0-1"

source = {
  -- `luarocks make` builds the checkout it runs in and never fetches
  -- source.url.  There is no public release yet, so the URL names the
  -- checkout itself (the current directory); `luarocks pack`/`install`
  -- of this rockspec from elsewhere fails instead of fetching something
  -- unrelated.  A release replaces it with the published archive, e.g.
  --   url = "https://<host>/restartmgr/archive/v0.1.0.tar.gz",
  --   dir = "restartmgr-0.1.0",
  -- and sets `tag` or `md5` to match.
  url = "file://./",
}

description = {
  summary = "The Windows Restart Manager's semantics for installers, in C with Lua 5.4 bindings",
  detailed = [[
An installer (or a person at a Lua REPL, or a busted spec) opens a session,
registers the files, processes and services it is about to replace, asks
which applications and services use them, shuts those down, replaces the
files and restarts what it stopped, while secondary installers in other
processes join the same session by key.  Linux (/proc, pidfds, runit,
systemd) and Windows.]],
  license = "MIT",
  labels = { "installer", "processes", "services", "restart" },
}

supported_platforms = { "linux" }

dependencies = {
  "lua >= 5.4, < 5.5",
}

build = {
  -- The project's own CMake build (needs cmake and a C compiler, no
  -- network), installing only the Lua module and the command.
  type = "cmake",
  variables = {
    CMAKE_BUILD_TYPE = "Release",
    CMAKE_INSTALL_PREFIX = "$(PREFIX)",
    CMAKE_INSTALL_BINDIR = "$(BINDIR)",
    LUA_INCLUDE_DIR = "$(LUA_INCDIR)",
    RM_BUILD_TESTS = "OFF",
    RM_INSTALL = "ON",
    RM_INSTALL_LUA_ONLY = "ON",
    RM_INSTALL_LUA_CMODDIR = "$(LIBDIR)",
    RM_INSTALL_LUA_MODDIR = "$(LUADIR)",
  },
  -- The documentation (docs/*.md) goes into the rock's own directory,
  -- <tree>/lib/luarocks/rocks-5.4/restartmgr/0.1.0-1/docs, which
  -- `luarocks doc restartmgr --list` lists.
  copy_directories = { "docs" },
}

test = {
  -- Debian's busted (the lua-busted package), found on PATH: LuaRocks'
  -- "busted" test type would install the busted rock from the network.
  -- .busted runs the specs under lua5.4 with the module built by `luarocks
  -- make` (build.luarocks/) or build/dev, or the one LUA_CPATH_5_4 names,
  -- and the command's modules from lua/ unless LUA_PATH_5_4 names others.
  type = "command",
  command = "busted",
}
