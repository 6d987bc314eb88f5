-- SPDX-License-Identifier: MIT
-- restartmgr.cli.restart: `restartmgr restart [options] [FILE...|-]
-- [-p PID]... [-s NAME]...` (docs/command.md); the work is in
-- restartmgr.cli.control.
--
--   local m = require "restartmgr.cli.restart"
--   local code = m.run{ "/usr/lib/x/libfoo.so" }

local control = require "restartmgr.cli.control"

local M = {}

-- Runs the subcommand on its arguments (after "restart"); returns the exit
-- code.
function M.run(argv) return control.run("restart", argv) end

M.help = control.help

return M
