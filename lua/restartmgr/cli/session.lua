-- SPDX-License-Identifier: MIT
-- restartmgr.cli.session: `restartmgr session [--json] [--verbose]`, the
-- live sessions of the caller's session store (docs/sessions.md).  It
-- starts no session.

local rm = require "restartmgr"
local output = require "restartmgr.cli.output"
local json = require "restartmgr.cli.json"
local args = require "restartmgr.cli.args"
local proc = require "restartmgr.cli.proc"

local printf, die, isatty = output.printf, output.die, output.isatty
local EXIT_FAILURE = output.EXIT_FAILURE
local array, print_json = json.array, json.print
local parse = args.parse
local read_all = proc.read_all

local M = {}

local SESSION_HELP = [[
usage: restartmgr session [--json] [--verbose]

Shows the live restartmgr sessions of the caller's session store
($RESTARTMGR_STATE_DIR, else $XDG_RUNTIME_DIR/restartmgr, ...): key,
owner process, whether a shutdown ran, and what is registered, for
debugging installers made of several processes.  Sessions whose owner
died are not shown.  This command starts no session.

  --verbose  every registered file, process and service
  --json     one JSON object: { "sessions": [ { key, slot, owner_pid,
             owner_start_time, shutdown_called, files, processes,
             services, filters, acted } ] }

Exit status: 0 at least one session, 1 none, 2 bad usage, 3 the store
cannot be read.
]]

local function session(argv)
  local opts, words, bad = parse(argv, {
    json = "flag", verbose = "flag", help = SESSION_HELP,
    alias = { ["-v"] = "verbose" } }, SESSION_HELP)
  if #words > 0 then bad("session takes no arguments") end
  local list, msg = rm.sessions()
  if not list then die(EXIT_FAILURE, "%s", msg) end
  if opts.json then
    local out = array()
    for _, x in ipairs(list) do
      local procs = array()
      for _, p in ipairs(x.processes) do
        procs[#procs + 1] = { pid = p.pid, start_time = p.start_time }
      end
      out[#out + 1] = { key = x.key, slot = x.slot, owner_pid = x.owner.pid,
                        owner_start_time = x.owner.start_time,
                        shutdown_called = x.shutdown_called,
                        files = array(x.files), services = array(x.services),
                        processes = procs, filters = x.filters,
                        acted = x.acted }
    end
    print_json{ sessions = out }
  elseif #list == 0 then
    if isatty(1) then printf("No live session in this store.\n") end
  else
    local row = "%-32s %-8s %-9s %6s %6s %9s %s\n"
    printf(row, "KEY", "OWNER", "SHUTDOWN", "FILES", "PROCS", "SERVICES",
           "OWNER NAME")
    for _, x in ipairs(list) do
      local comm = read_all("/proc/" .. x.owner.pid .. "/comm")
      printf(row, x.key, x.owner.pid, x.shutdown_called and "yes" or "no",
             #x.files, #x.processes, #x.services,
             comm and comm:gsub("\n$", "") or "?")
      if opts.verbose then
        for _, f in ipairs(x.files) do printf("    file     %s\n", f) end
        for _, p in ipairs(x.processes) do
          printf("    process  %d (start %d)\n", p.pid, p.start_time)
        end
        for _, v in ipairs(x.services) do printf("    service  %s\n", v) end
      end
    end
  end
  return #list > 0 and 0 or 1
end


-- Runs the subcommand on its arguments (after "session"); returns the
-- exit code.
function M.run(argv) return output.returning(session, argv) end

M.help = SESSION_HELP

return M
