-- SPDX-License-Identifier: MIT
-- restartmgr.cli.recover: `restartmgr recover [--json]`
-- (docs/command.md): finishes or undoes the transactions of installers
-- that died (docs/transaction.md, "Recovery").
--
--   local m = require "restartmgr.cli.recover"
--   local code = m.run{}

local rm = require "restartmgr"
local output = require "restartmgr.cli.output"
local json = require "restartmgr.cli.json"
local args = require "restartmgr.cli.args"

local printf, warn, isatty = output.printf, output.warn, output.isatty
local array, NULL, print_json = json.array, json.NULL, json.print

local M = {}

local RECOVER_HELP = [[
usage: restartmgr recover [--json]

Finishes or undoes every upgrade transaction (restartmgr install, the Lua
tx:commit) whose installer died: before its last swap every old file is
put back, after it the new files stay.  Then the programs it had stopped
are started again, and its staged and backup files and its journal are
removed.  Transactions of installers still running are left alone.

  --json   one JSON object: { recovered = [ { key, pid, decision, files,
           removed, restarted, restart_failed, reboot_cleared, message }
           ], error }

Exit status: 0 nothing to do or everything recovered, 1 a file could not
be put back (the journal is kept: run it again) or a program did not
start, 2 bad usage, 3 the store failed.
]]

local function recover(argv)
  local opts, words, bad = args.parse(argv, { json = "flag",
                                              help = RECOVER_HELP },
                                      RECOVER_HELP)
  if #words > 0 then bad("recover takes no arguments") end
  local list, msg, code, partial = rm.recover()
  local done = list
  if not list then done = partial or {} end
  if opts.json then
    local out = array()
    for _, r in ipairs(done) do out[#out + 1] = r end
    print_json{ recovered = out,
                error = list and NULL or { message = msg, code = code } }
  else
    for _, r in ipairs(done) do printf("%s\n", r.message) end
    if #done == 0 and list and isatty(1) then
      printf("No unfinished transaction.\n")
    end
    if not list then warn("%s (%s)", msg, code) end
  end
  if list then return 0 end
  return (code == "ERROR_WRITE_FAULT" or code == "ERROR_SEM_TIMEOUT")
         and output.EXIT_FAILURE or 1
end

-- Runs the subcommand on its arguments (after "recover"); returns the
-- exit code.
function M.run(argv) return output.returning(recover, argv) end

M.help = RECOVER_HELP

return M
