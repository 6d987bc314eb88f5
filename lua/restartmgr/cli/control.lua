-- SPDX-License-Identifier: MIT
-- restartmgr.cli.control: what `restartmgr shutdown` and `restartmgr
-- restart` share (docs/command.md): stop every process that uses the
-- FILEs, the --pid processes and the --service services, and with
-- `restart` start again what was stopped.  The subcommand modules
-- restartmgr.cli.shutdown and restartmgr.cli.restart call M.run.

local output = require "restartmgr.cli.output"
local json = require "restartmgr.cli.json"
local args = require "restartmgr.cli.args"
local apps_ = require "restartmgr.cli.apps"

local printf = output.printf
local sorted_keys = output.sorted_keys
local array, NULL, print_json = json.array, json.NULL, json.print
local parse, file_args, check_timeout = args.parse, args.file_args,
                                        args.check_timeout
local start_session, register_files = apps_.start_session,
                                      apps_.register_files
local list_others, app_json, cycle = apps_.list_others, apps_.app_json,
                                     apps_.cycle

local M = {}

local CONTROL_HELP = [[
usage: restartmgr shutdown [options] [FILE...|-] [-p PID]... [-s NAME]...
       restartmgr restart  [options] [FILE...|-] [-p PID]... [-s NAME]...

shutdown stops every process that uses the FILEs, the processes given
by --pid and the services given by --service, the Restart Manager way:
windowed and ordinary programs first, then console programs (SIGINT,
then SIGTERM), then services through their service manager.  restart
does the same, then starts again what it stopped, in reverse order
(console programs cannot be restarted).  Nothing is stopped when a
reboot would be needed (a critical process, another user's process, the
caller itself uses a file).

  --force            kill (SIGKILL) what does not stop within the timeout
  --only-registered  stop nothing unless everything affected can be
                     restarted
  --timeout SECONDS  per program and service (default 30 and 20)
  -p, --pid PID      also a process (repeatable)
  -s, --service NAME also a service (repeatable)
  --json             the outcome as one JSON object (fields: restartmgr(1))

Progress goes to stderr: a bar on a terminal, plain lines otherwise.

Exit status: 0 everything was stopped (and restarted), 1 something could
not be, 2 bad usage, 3 the session failed.
]]

local function control(name, argv, again)
  local opts, words, bad = parse(argv, {
    force = "flag", ["only-registered"] = "flag", timeout = "value",
    pid = "list", service = "list", json = "flag", help = CONTROL_HELP,
    alias = { ["-p"] = "pid", ["-s"] = "service" },
  }, CONTROL_HELP)
  check_timeout(opts, bad)
  local pids = {}
  for _, p in ipairs(opts.pid or {}) do
    pids[#pids + 1] = args.check_pid(p, bad)
  end
  local files = file_args(words)
  if #files + #pids + #(opts.service or {}) == 0 then
    bad("nothing to %s: give FILEs, --pid or --service", name)
  end
  local s <close> = start_session()
  local registered, skipped = register_files(s, files,
    { processes = pids, services = opts.service })
  local before, reboot = list_others(s)
  opts.only_registered = opts["only-registered"] == true
  local ok, msg, code = cycle(s, opts, again)
  local after = list_others(s)
  if opts.json then
    local procs = array()
    for _, a in ipairs(after) do procs[#procs + 1] = app_json(a) end
    print_json{ files = array(registered), skipped = array(skipped),
                processes = procs, reboot = array(sorted_keys(reboot)),
                ok = ok == true,
                error = ok and NULL or { message = msg, code = code } }
  else
    if #before == 0 then printf("Nothing uses them.\n") end
    local row = "%-7s %-11s %-14s %-16s %s\n"
    if #after > 0 then printf(row, "PID", "TYPE", "SERVICE", "NAME",
                              "STATUS") end
    for _, a in ipairs(after) do
      local st = sorted_keys(a.status)
      printf(row, a.pid, a.type, a.service or "-", a.name,
             #st > 0 and table.concat(st, ",") or "-")
    end
    if not ok then printf("%s (%s)\n", msg, code) end
    local reasons = sorted_keys(reboot)
    if #reasons > 0 then
      printf("A reboot would be needed to replace them: %s\n",
             table.concat(reasons, ", "))
    end
  end
  return ok and 0 or 1
end


-- Runs `restartmgr <name>` ("shutdown" or "restart") on its arguments
-- (after the name); returns the exit code.
function M.run(name, argv)
  return output.returning(control, name, argv, name == "restart")
end

M.help = CONTROL_HELP

return M
