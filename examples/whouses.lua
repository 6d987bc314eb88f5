-- SPDX-License-Identifier: MIT
-- whouses.lua: replaced by the restartmgr command; this runs it.
--
--   lua5.4 examples/whouses.lua [--json] FILE...
-- is
--   lua/cli/restartmgr who [--json] FILE...
--
-- with fuser's exit codes (0 when a file is in use, 1 when none is), a
-- USER and a REASON column, paths from stdin with "-", and missing paths
-- and directories reported by name.  See restartmgr(1) (lua/cli/restartmgr.1).

local here = arg[0]:match("^(.*)/[^/]*$") or "."
-- The command's modules (restartmgr.cli.*) of this checkout come first.
package.path = here .. "/../lua/?.lua;" .. package.path
io.stderr:write("whouses.lua is now `restartmgr who` (lua/cli/restartmgr)\n")
arg = { [0] = here .. "/../lua/cli/restartmgr", "who", table.unpack(arg) }
dofile(arg[0])
