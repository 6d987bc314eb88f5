-- SPDX-License-Identifier: MIT
-- restartmgr.cli.stale: `restartmgr stale [--restart [--dry-run]] ...`,
-- which processes still run replaced or deleted files after an upgrade,
-- and restarting them (docs/command.md).
--
-- The stale processes come from rm.stale(), which finds them by the
-- identity of each deleted mapping; the names are only shown, escaped
-- (docs/linux.md, Stale processes).

local rm = require "restartmgr"
local output = require "restartmgr.cli.output"
local json = require "restartmgr.cli.json"
local args = require "restartmgr.cli.args"
local proc = require "restartmgr.cli.proc"
local apps_ = require "restartmgr.cli.apps"
local leftovers = require "restartmgr.cli.leftovers"

local printf, die = output.printf, output.die
local EXIT_FAILURE = output.EXIT_FAILURE
local array, NULL, print_json = json.array, json.NULL, json.print
local parse, absolute, check_timeout = args.parse, args.absolute,
                                       args.check_timeout
local self_pid = proc.self_pid
local user_name, process_uid = proc.user_name, proc.process_uid
local start_session, app_json = apps_.start_session, apps_.app_json
local reason_words, cycle = apps_.reason_words, apps_.cycle
local register_plan = apps_.register_plan

local M = {}

local STALE_HELP = [[
usage: restartmgr stale [--json] [--services-only] [--path DIR]...
                        [--time-limit SECONDS]
       restartmgr stale --restart [--dry-run] [--services-only]
                        [--force] [--timeout SECONDS] [--path DIR]... [--json]
                        [--time-limit SECONDS]

Lists every process that still runs a replaced or deleted executable or
shared library, or an interpreter (perl, python, ruby, node, lua, sh)
whose script was replaced ("script replaced"): what a package upgrade
leaves behind, like needrestart and dnf needs-restarting.  Grouped by
service, with whether each can be restarted.  Ends with "Reboot
required (kernel)" when a newer kernel is installed than the one
running (not with --path).  Critical processes (PID 1, dbus, logind,
gettys, display managers, the list in restartmgr(1), systemd units with
RefuseManualStop) are shown but never restarted; neither are console
programs (they have a terminal), terminal hosts (tmux, screen, sshd
sessions), sandboxed programs nor, unless run as root, other users'
processes.  What this command stands on (itself, its parents, its
terminal's session leader and host) is skipped as detected_self, and
the rest goes ahead.

  --restart        shut down and start again every restartable one, in
                   one session: services restarted in place through
                   their service manager (all in one step), other
                   programs relaunched with their argv, cwd and
                   environment
  --services-only  only services (what the apt hook restarts)
  --path DIR       only replaced or deleted files under DIR (repeatable),
                   e.g. --path /opt/myapp
  --dry-run        with --restart: show what would be restarted, do
                   nothing
  --force          kill what does not stop within the timeout
  --timeout SECS   per program and service (default 30 and 20)
  --time-limit SECS  give up (exit 3) when finding what is stale takes
                   longer (default 60, at most 86400); it ends before
                   anything is stopped, never during a restart
  --json           one JSON object (fields: restartmgr(1))

Exit status: 0 nothing runs replaced files (or --restart restarted all
of them), 1 something still does (listed, not restartable, or a restart
failed) or a reboot is required, 2 bad usage, 3 the session failed or
the time limit passed.
]]

-- The time limit of finding what is stale (docs/security.md, Nothing
-- blocks): a read of another process's /proc files can wait as long as
-- that process's owner likes, so the limit ends the whole command, which
-- only it can do; it is lifted before anything is stopped.
local DEFAULT_TIME_LIMIT = 60

-- Only files under one of the prefixes count, when prefixes are given
-- (the text shown for a file decides only what is shown, never what is
-- stale: see stale_apps).
local function under(path, prefixes)
  if #prefixes == 0 then return true end
  for _, p in ipairs(prefixes) do
    p = p:gsub("/+$", "")
    if path == p or path:sub(1, #p + 1) == p .. "/" then return true end
  end
  return false
end

-- The processes that map or run a deleted or replaced executable file,
-- from rm.stale(): found by the (device, inode) each mapping has, in
-- every mount namespace, so no name is ever registered or resolved again
-- (a user flipping a deleted name to a symlink changes nothing;
-- docs/linux.md, Stale processes).  The files' paths are the escaped
-- text the kernel showed.  Returns the entries (each with its uid, files
-- under the prefixes only; never this process), the distinct file texts,
-- and how many processes could not be read.
local function stale_apps(prefixes)
  local apps, reboot, unreadable = rm.stale()
  if not apps then die(EXIT_FAILURE, "%s", reboot) end
  local out, names, seen = {}, {}, {}
  for _, a in ipairs(apps) do
    local kept = {}
    for _, f in ipairs(a.files) do
      if under(f.path, prefixes) then
        kept[#kept + 1] = f
        if not seen[f.path] then
          seen[f.path] = true
          names[#names + 1] = f.path
        end
      end
    end
    if #kept > 0 and a.pid ~= self_pid then
      a.files = kept
      a.uid = process_uid(a.pid, a.start_time)
      out[#out + 1] = a
    end
  end
  table.sort(names)
  return out, names, unreadable
end

-- An entry is stale when it holds an older copy of a registered path (a
-- path that exists again under the same name holds the new file, which
-- the module reports as an ordinary mapping: that alone is not stale).
local function stale_files(a)
  local out = {}
  for _, f in ipairs(a.files) do
    if f.how.older_inode then out[#out + 1] = f.path end
  end
  if a.script then out[#out + 1] = a.script.path end
  return out
end

-- Groups the stale entries: services by name (sorted), then programs,
-- then what cannot be restarted.  Each group = { service =, apps = {} }.
local function group_stale(apps)
  local by_service, services, programs, fixed = {}, {}, {}, {}
  for _, a in ipairs(apps) do
    if a.type ~= "critical" and a.service then
      local g = by_service[a.service]
      if not g then
        g = { service = a.service, apps = {}, restartable = true }
        by_service[a.service] = g
        services[#services + 1] = g
      end
      g.apps[#g.apps + 1] = a
      g.restartable = g.restartable and a.restartable
    elseif a.restartable then
      programs[#programs + 1] = a
    else
      fixed[#fixed + 1] = a
    end
  end
  table.sort(services, function(x, y) return x.service < y.service end)
  return services, programs, fixed
end

local function stale_reason(a)
  local traits = a.traits or {}
  if a.type == "critical" then return reason_words(a) end
  if a.only_services then return "not a service" end
  if traits.terminal_host then return "terminal host" end
  if a.type == "console" then return "console (has a terminal)" end
  -- A confinement a relaunch cannot reproduce (docs/linux.md, "Relaunch
  -- context").
  local nr = a.not_restartable or {}
  if nr.seccomp then return "not restartable (seccomp filter)" end
  if nr.lsm_label then return "not restartable (LSM label)" end
  if a.restartable then return a.script and leftovers.REASON or "-" end
  if traits.own_mount_ns then return "sandboxed (own mount namespace)" end
  if traits.leader_exited then return "main thread exited" end
  return "not restartable"
end

local function stale(argv)
  local opts, words, bad = parse(argv, {
    json = "flag", restart = "flag", ["dry-run"] = "flag", force = "flag",
    ["services-only"] = "flag", timeout = "value", path = "list",
    ["time-limit"] = "value", help = STALE_HELP,
  }, STALE_HELP)
  if #words > 0 then bad("stale takes no FILE arguments") end
  if opts["dry-run"] and not opts.restart then
    bad("--dry-run goes with --restart")
  end
  check_timeout(opts, bad)
  local limit = DEFAULT_TIME_LIMIT
  if opts["time-limit"] then
    limit = math.tointeger(tonumber(opts["time-limit"]))
    if not limit or limit < 1 or limit > 86400 then
      bad("--time-limit needs a whole number of seconds from 1 to 86400")
    end
  end
  assert(rm.exit_after(limit, ("restartmgr: stale: gave up after %d s "
    .. "(--time-limit); nothing was stopped"):format(limit), 3))

  local prefixes = {}
  for i, p in ipairs(opts.path or {}) do prefixes[i] = absolute(p) end
  local apps, paths, unreadable = stale_apps(prefixes)
  local scripts = leftovers.add_scripts(apps, prefixes)
  local kernel = leftovers.kernel(prefixes)
  local services, programs, fixed = group_stale(apps)
  if opts["services-only"] then
    for _, a in ipairs(programs) do
      a.only_services = true
      fixed[#fixed + 1] = a
    end
    programs = {}
  end

  -- The plan: what --restart would act on.
  local plan_services, plan_pids = {}, {}
  for _, g in ipairs(services) do
    if g.restartable then plan_services[#plan_services + 1] = g.service
    else for _, a in ipairs(g.apps) do fixed[#fixed + 1] = a end end
  end
  for _, a in ipairs(programs) do
    plan_pids[#plan_pids + 1] = { pid = a.pid, start_time = a.start_time }
  end

  local outcome, failure = {}, nil
  rm.exit_after(0)                      -- never ends a restart half-way
  local skipped = { services = {}, processes = {} }
  if opts.restart and not opts["dry-run"]
     and #plan_services + #plan_pids > 0 then
    local s <close> = start_session()
    -- One entry the module refuses (a service name it cannot take, a
    -- process gone since the list) is reported and left out; the rest
    -- goes ahead.
    local kept_s, kept_p
    kept_s, kept_p, skipped = register_plan(s, plan_services, plan_pids)
    opts.only_registered = true        -- never stop what cannot come back
    opts.in_place = true               -- the files are already replaced:
                                       -- services restart in one step
    local rok, rmsg, rcode = true, nil, nil
    if #kept_s + #kept_p > 0 then rok, rmsg, rcode = cycle(s, opts, true) end
    if not rok then failure = { message = rmsg, code = rcode } end
    -- A restarted program's entry takes the new process's identity, so
    -- programs are matched by name, in order; services by name.
    local taken = {}
    for _, a in ipairs((s:list()) or {}) do
      if a.service then
        outcome[a.service] = a
      else
        for _, p in ipairs(programs) do
          if not taken[p] and p.name == a.name then
            taken[p] = true
            outcome[p.pid] = a
            break
          end
        end
      end
    end
  end

  local function state_of(key)
    local a = outcome[key]
    if skipped.services[key] or skipped.processes[key] then
      return "skipped"
    end
    if not a then return nil end
    if a.status.restarted then return "restarted" end
    if a.status.error_on_restart then return "restart failed" end
    if a.status.error_on_stop then return "stop failed" end
    if a.status.stopped then return "stopped" end
    return "not stopped"
  end

  local left = #fixed
  for _, g in ipairs(services) do
    if g.restartable and state_of(g.service) ~= "restarted" then
      left = left + 1
    end
  end
  for _, a in ipairs(programs) do
    if state_of(a.pid) ~= "restarted" then left = left + 1 end
  end
  if opts["dry-run"] then left = #apps end
  if kernel and kernel.reboot_required then left = left + 1 end

  if opts.json then
    local js, jp, jf = array(), array(), array()
    for _, g in ipairs(services) do
      local procs = array()
      for _, a in ipairs(g.apps) do
        procs[#procs + 1] = app_json(a, {
          stale_files = array(stale_files(a)),
          script = leftovers.script_json(a.script) })
      end
      js[#js + 1] = { name = g.service, restartable = g.restartable,
                      processes = procs,
                      result = state_of(g.service) or NULL }
    end
    for _, a in ipairs(programs) do
      local now = outcome[a.pid]
      jp[#jp + 1] = app_json(a, { stale_files = array(stale_files(a)),
                                  script = leftovers.script_json(a.script),
                                  result = state_of(a.pid) or NULL,
                                  new_pid = now and now.pid or NULL })
    end
    for _, a in ipairs(fixed) do
      jf[#jf + 1] = app_json(a, { stale_files = array(stale_files(a)),
                                  script = leftovers.script_json(a.script),
                                  why = stale_reason(a) })
    end
    print_json{ services = js, programs = jp, not_restartable = jf,
                deleted_files = array(paths), unreadable = unreadable,
                replaced_scripts = array(leftovers.paths(scripts)),
                kernel = leftovers.kernel_json(kernel),
                dry_run = opts["dry-run"] == true,
                restart = opts.restart == true,
                error = failure and { message = failure.message,
                                      code = failure.code } or NULL }
  else
    if #apps == 0 then
      printf("No process runs replaced or deleted files.\n")
    else
      local row = "%-14s %-7s %-10s %-16s %-8s %-22s %s\n"
      printf(row, "SERVICE", "PID", "USER", "NAME", "RESTART", "REASON",
             "FILES")
      local function line(a, restart, why)
        printf(row, a.service or "-", a.pid, a.uid and user_name(a.uid) or "?",
               a.name, restart, why, table.concat(stale_files(a), " "))
      end
      for _, g in ipairs(services) do
        for _, a in ipairs(g.apps) do
          line(a, g.restartable and "yes" or "no",
               g.restartable and stale_reason(a) or "not restartable")
        end
      end
      for _, a in ipairs(programs) do line(a, "yes", stale_reason(a)) end
      for _, a in ipairs(fixed) do line(a, "no", stale_reason(a)) end
    end
    if unreadable > 0 then
      printf("%d process%s could not be inspected (permission denied%s).\n",
             unreadable, unreadable == 1 and "" or "es",
             process_uid("self") == 0 and "" or "; run as root to see all")
    end
    if opts.restart then
      local verb = opts["dry-run"] and "Would restart" or "Restarted"
      if #plan_services + #plan_pids == 0 then
        printf("Nothing that can be restarted.\n")
      end
      for _, name in ipairs(plan_services) do
        printf("%s service %s: %s\n", verb, name,
               opts["dry-run"] and "planned" or state_of(name) or "not found")
      end
      for _, a in ipairs(programs) do
        local now = outcome[a.pid]
        printf("%s %s (pid %d%s): %s\n", verb, a.name, a.pid,
               now and now.pid ~= a.pid and (", now %d"):format(now.pid) or "",
               opts["dry-run"] and "planned" or state_of(a.pid)
               or "not found")
      end
      if failure then printf("%s (%s)\n", failure.message, failure.code) end
    end
    local reboot = leftovers.kernel_text(kernel)
    if reboot then printf("%s\n", reboot) end
  end
  return left > 0 and 1 or 0
end


-- Runs the subcommand on its arguments (after "stale"); returns the exit
-- code.  The time limit is lifted on every way out, so that a program
-- that runs the command as a module lives on.
function M.run(argv)
  local ok, code = pcall(output.returning, stale, argv)
  rm.exit_after(0)
  if not ok then error(code, 0) end
  return code
end

M.help = STALE_HELP

return M
