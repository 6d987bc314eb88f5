-- SPDX-License-Identifier: MIT
-- installer.lua: upgrade files that running programs use, the Restart
-- Manager way: find who uses them, stop those, replace the files, start
-- again what was stopped.  Safe to run for real: everything that can be
-- checked is checked before anything is stopped.
--
--   lua5.4 examples/installer.lua --demo [--dry-run]
--   lua5.4 examples/installer.lua [options] FILE...
--
-- Run from the repository root with the module on LUA_CPATH, e.g.
--   LUA_CPATH='build/dev/lua/?.so;;' lua5.4 examples/installer.lua --help
--
-- The small helpers (isatty, absolute paths, progress bars, quoting for
-- the shell and for the terminal) are the restartmgr command's own
-- (restartmgr.cli.output and restartmgr.cli.args, docs/command.md): from
-- a checkout they are found in lua/ beside this directory, installed
-- where Lua finds the module's other Lua files.

local here = (arg[0]:match("^(.*)/[^/]*$") or ".")
package.path = here .. "/../lua/?.lua;" .. package.path

local rm = require "restartmgr"
local output = require "restartmgr.cli.output"
local cli_args = require "restartmgr.cli.args"

local HELP = [[
usage: installer.lua --demo [--dry-run]
       installer.lua [options] FILE...

Replaces FILEs that running programs use: finds who uses them (one
restartmgr session), stops those, puts the new files in place, starts
again what it stopped, and shows the list before and after.

  --from DIR         the new files: each FILE is replaced by DIR/<its
                     basename> (copied beside the target first, then
                     renamed over it, as package managers do)
  --run CMD          a shell command that does the installation work
                     instead (or as well), e.g. "dpkg -i new.deb"
  --service NAME     also stop and restart a service (runit or systemd);
                     repeatable
  --stop-console     also stop programs running in a terminal (they are
                     refused otherwise: they cannot be started again)
  --force            kill what does not stop within the timeout
  --only-registered  stop nothing unless everything can be restarted
  --timeout SECONDS  per program and service (default 30 and 20)
  --dry-run          only show who uses the files; stop nothing
  --yes              do not ask for confirmation (for scripts); without
                     it the installer asks on a terminal and refuses to
                     run when standard input is not one
  --demo             upgrade a small demo application, 1.0 to 2.0, in a
                     temporary directory (asks nothing)
  -h, --help         this text

Before anything is stopped: every FILE must be absolute or relative to
the current directory and not a directory; with --from, DIR/<basename>
must be a readable regular file for every FILE, and each new file is
copied beside its target (which proves the directory is writable).  Any
problem: nothing is stopped, exit 2.

When a program cannot be stopped: nothing is replaced, what was stopped
is started again, and the installer exits 1 saying what happened.

Exit status: 0 everything went as planned; 1 refused (a reboot would be
needed, console programs without --stop-console, a declined
confirmation) or something could not be stopped, replaced or restarted;
2 bad usage or a failed check (nothing was stopped).
]]

-- {===== Small helpers

local function say(fmt, ...)
  io.stdout:write(fmt:format(...), "\n")
  io.stdout:flush()
end

local function usage_error(fmt, ...)
  io.stderr:write("installer: ", fmt:format(...), "\n")
  os.exit(2, true)
end

local q, shown = output.shell_quote, output.shown
local isatty, absolute = output.isatty, cli_args.absolute
local function sh(cmd) return os.execute(cmd) == true end

local function basename(path) return path:match("[^/]*$") end
local function dirname(path) return path:match("^(.*)/[^/]*$") or "/" end

-- A progress callback on standard output, indented under the step it
-- belongs to: a bar on a terminal, else plain lines; and a function that
-- ends a bar that stopped short of 100%.
local function progress(label)
  return output.progress(label, { fd = 1, indent = "  ", width = 11 })
end

-- }=====
-- {===== Showing the list

local function words(set)
  local w = {}
  for k, v in pairs(set) do if v then w[#w + 1] = k end end
  table.sort(w)
  return table.concat(w, ",")
end

local LEGEND = [[
  TYPE unknown = an ordinary program (no window, no terminal, not a
  service); console = runs in a terminal; critical = never stopped.
  RESTART yes = restartmgr can start it again after the upgrade.
  STATUS is the history of this session: running; stopped (by it);
  restarted; stopped_other (ended by itself); error_on_stop and
  error_on_restart (that step failed).  "restarted,running,stopped" is
  a program that was stopped and is running again.]]

local function show_apps(apps, reboot)
  if #apps == 0 then
    say("  nobody uses them")
  else
    say("  %-7s %-12s %-9s %-8s %-26s %s", "PID", "NAME", "TYPE", "RESTART",
        "STATUS", "USES")
    for _, a in ipairs(apps) do
      local uses = {}
      for _, f in ipairs(a.files) do
        uses[#uses + 1] = ("%s (%s)"):format(shown(basename(f.path)),
                                             words(f.how))
      end
      if a.service then uses[#uses + 1] = "service " .. shown(a.service) end
      -- Names and paths come from other processes: shown escapes what a
      -- terminal would interpret (docs/command.md, Output).
      say("  %-7d %-12s %-9s %-8s %-26s %s", a.pid, shown(a.name), a.type,
          a.restartable and "yes" or "no", words(a.status),
          table.concat(uses, ", "))
    end
  end
  if next(reboot) then
    say("  a reboot would be needed to replace them: %s", words(reboot))
  end
end

-- }=====
-- {===== Checks before anything is stopped, and replacing

-- Copies every new file beside its target (TARGET.rm-new).  Returns the
-- staged list { { from =, to =, tmp = } }, or nil and the problems (then
-- nothing is left behind).
local function stage(opts)
  local staged, problems = {}, {}
  if not opts.from then return staged end
  if not sh(("test -d %s && test -r %s && test -x %s"):format(
              q(opts.from), q(opts.from), q(opts.from))) then
    return nil, { ("--from %s: not a readable directory"):format(opts.from) }
  end
  for _, file in ipairs(opts.files) do
    local from = opts.from .. "/" .. basename(file)
    local tmp = file .. ".rm-new"
    if not sh(("test -f %s && test -r %s"):format(q(from), q(from))) then
      problems[#problems + 1] = ("%s: no readable new version %s"):format(
        file, from)
    elseif sh(("test -d %s"):format(q(file))) then
      problems[#problems + 1] = ("%s: is a directory"):format(file)
    elseif not sh(("test -d %s && test -w %s"):format(q(dirname(file)),
                                                       q(dirname(file)))) then
      problems[#problems + 1] = ("%s: directory %s is not writable"):format(
        file, dirname(file))
    elseif not sh(("cp -pL %s %s 2>/dev/null"):format(q(from), q(tmp))) then
      problems[#problems + 1] = ("%s: cannot copy %s beside it"):format(
        file, from)
    else
      staged[#staged + 1] = { from = from, to = file, tmp = tmp }
    end
  end
  if #problems > 0 then
    for _, s in ipairs(staged) do os.remove(s.tmp) end
    return nil, problems
  end
  return staged
end

local function unstage(staged)
  for _, s in ipairs(staged or {}) do os.remove(s.tmp) end
end

-- Renames the staged files over their targets, then runs --run.
local function install_new_files(opts, staged)
  local ok = true
  for _, s in ipairs(staged) do
    local renamed, err = os.rename(s.tmp, s.to)
    if renamed then
      say("  replaced %s", s.to)
    else
      say("  could not replace %s: %s", s.to, err)
      os.remove(s.tmp)
      ok = false
    end
  end
  if opts.run then
    say("  running: %s", opts.run)
    if not sh(opts.run) then
      say("  the installation command failed")
      ok = false
    end
  end
  if not opts.from and not opts.run then
    say("  (nothing to install: no --from and no --run)")
  end
  return ok
end

-- Asks "question [y/N]" on a terminal.  Without a terminal the answer is
-- no, unless --yes: a script must say what it wants.
local function confirm(opts, question)
  if opts.yes then return true end
  if not isatty(0) then
    say("Not asking: standard input is not a terminal.  Pass --yes to "
        .. "proceed without confirmation.")
    return false, 2
  end
  io.stdout:write(question, " [y/N] ")
  io.stdout:flush()
  local answer = io.stdin:read("l") or ""
  return answer:match("^[yY]") ~= nil, 1
end

-- }=====
-- {===== The upgrade: one Restart Manager session

-- Returns the exit status.
local function upgrade(opts)
  local staged, problems = stage(opts)
  if not staged then
    say("Nothing was stopped; these must be fixed first:")
    for _, p in ipairs(problems) do say("  %s", p) end
    return 2
  end
  -- Whatever happens from here, staged copies that were not renamed go.
  local cleanup <close> = setmetatable({}, { __close = function()
    unstage(staged)
  end })

  local s <close>, err = rm.start_session()
  if not s then say("%s", err) return 1 end
  local ok, msg = s:register{ files = opts.files, services = opts.services }
  if not ok then
    say("Nothing was stopped: %s", msg)
    return 2
  end
  say("Session %s: %d file(s)%s registered.", s.key, #opts.files,
      #opts.services > 0 and (" and %d service(s)"):format(#opts.services)
      or "")

  say("Who uses them:")
  local apps, reboot = s:list()
  if not apps then say("  %s", reboot) return 1 end
  show_apps(apps, reboot)
  if #apps > 0 then say("%s", LEGEND) end
  if opts.dry_run then
    say("Dry run: nothing stopped, nothing replaced.")
    return 0
  end
  if next(reboot) then
    say("A reboot would be needed: nothing is stopped or replaced.")
    return 1
  end
  local console, lost = {}, {}
  for _, a in ipairs(apps) do
    if a.type == "console" then console[#console + 1] = a
    elseif not a.restartable then lost[#lost + 1] = a end
  end
  if #console > 0 and not opts.stop_console then
    say("These run in a terminal; stopping them would end them for good "
        .. "(they cannot be restarted):")
    for _, a in ipairs(console) do say("  pid %d %s", a.pid, a.name) end
    say("Close them, or pass --stop-console.  Nothing was stopped.")
    return 1
  end
  for _, a in ipairs(lost) do
    say("Note: pid %d %s cannot be restarted afterwards.", a.pid, a.name)
  end
  local yes, code = confirm(opts, ("Stop %d program(s), install the new "
                                   .. "files and restart them?"):format(#apps))
  if not yes then
    say("Nothing was stopped.")
    return code
  end

  say("Shutting them down:")
  local draw, finish = progress("stopping")
  ok, msg, code = s:shutdown{ force = opts.force, timeout = opts.timeout,
                              only_registered = opts.only_registered,
                              progress = draw }
  finish()
  local status = 0
  if not ok then
    say("  %s (%s)", msg, code)
    say("Nothing was replaced.")
    status = 1
  else
    say("Installing the new files:")
    if not install_new_files(opts, staged) then status = 1 end
  end

  say("Restarting what was stopped:")
  draw, finish = progress("restarting")
  local rok, rmsg, rcode = s:restart{ progress = draw }
  finish()
  if not rok then
    say("  %s (%s)", rmsg, rcode)
    status = 1
  end

  say("Afterwards:")
  apps, reboot = assert(s:list())
  show_apps(apps, reboot)
  if status ~= 0 then
    for _, a in ipairs(apps) do
      if a.status.error_on_stop then
        say("pid %d %s did not stop within the timeout.", a.pid, a.name)
      end
    end
  end
  assert(s:close())
  say("Session ended.")
  return status
end

-- }=====
-- {===== The demo: demoapp 1.0 → 2.0

local demo_src = here .. "/demo"

-- The Lua interpreter running us, as an absolute path.
local function interpreter()
  local i, exe = -1, nil
  while arg[i] do exe = arg[i]; i = i - 1 end
  if exe:find("/", 1, true) then return absolute(exe) end
  for dir in (os.getenv("PATH") or "/usr/bin:/bin"):gmatch("[^:]+") do
    if sh(("test -x %s"):format(q(dir .. "/" .. exe))) then
      return dir .. "/" .. exe
    end
  end
  usage_error("cannot find the Lua interpreter %s", exe)
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

-- Waits until ROOT/run/status says VERSION from a pid other than not_pid.
local function wait_status(root, version, not_pid)
  for _ = 1, 100 do
    local v, pid = (read_file(root .. "/run/status") or ""):match(
      "^demoapp (%S+) pid (%d+)")
    if v == version and tonumber(pid) ~= not_pid then return tonumber(pid) end
    sh("sleep 0.1")
  end
  return nil
end

-- Installs demoapp VERSION under dir (bin/, lib/, share/demoapp/, run/).
local function install(dir, version)
  return sh(("mkdir -p %s/bin %s/lib %s/share/demoapp %s/run"):format(
              q(dir), q(dir), q(dir), q(dir)))
     and sh(("cp -pL %s %s/bin/demoapp"):format(q(interpreter()), q(dir)))
     and sh(("cp %s %s/lib/demoapp.lua"):format(q(demo_src .. "/demoapp.lua"),
                                               q(dir)))
     and sh(("cp %s %s/share/demoapp/version.txt"):format(
              q(demo_src .. "/" .. version .. "/version.txt"), q(dir)))
     and sh(("mkfifo %s/run/wait"):format(q(dir)))
end

-- Puts the files of demoapp VERSION side by side in dir, what --from
-- takes: a local copy standing in for a download.
local function stage_release(dir, version)
  return sh(("mkdir -p %s"):format(q(dir)))
     and sh(("cp -pL %s %s/demoapp"):format(q(interpreter()), q(dir)))
     and sh(("cp %s %s/"):format(q(demo_src .. "/demoapp.lua"), q(dir)))
     and sh(("cp %s %s/"):format(
              q(demo_src .. "/" .. version .. "/version.txt"), q(dir)))
end

local function demo(dry_run)
  local p = io.popen("mktemp -d /tmp/restartmgr-demo.XXXXXX")
  local top = p:read("l")
  p:close()
  if not top then usage_error("mktemp failed") end
  local root, new = top .. "/demoapp", top .. "/release-2.0"
  local app_pid
  local cleanup <close> = setmetatable({}, { __close = function()
    if app_pid then sh(("kill %d 2>/dev/null"):format(app_pid)) end
    sh(("rm -rf %s"):format(q(top)))
  end })

  say("== restartmgr installer demo ==")
  say("Installing demoapp 1.0 into %s", root)
  if not install(root, "1.0") then usage_error("could not install 1.0") end
  -- Started in its own session, without a terminal, like a desktop app.
  sh(("cd %s && setsid -f %s/bin/demoapp %s/lib/demoapp.lua %s"
      .. " </dev/null >/dev/null 2>&1"):format(q(root), q(root), q(root),
                                               q(root)))
  app_pid = wait_status(root, "1.0", nil)
  if not app_pid then usage_error("demoapp 1.0 did not start") end
  say("demoapp 1.0 is running (pid %d).", app_pid)
  say("Copying the demoapp 2.0 release (a local copy, standing in for a "
      .. "download) to %s", new)
  if not stage_release(new, "2.0") then usage_error("could not copy 2.0") end
  say("")

  local status = upgrade{
    files = { root .. "/bin/demoapp", root .. "/lib/demoapp.lua",
              root .. "/share/demoapp/version.txt" },
    services = {}, from = new, dry_run = dry_run, timeout = 10, yes = true }
  if status == 0 and not dry_run then
    local pid = wait_status(root, "2.0", app_pid)
    if not pid then
      say("demoapp 2.0 did not report running.")
      status = 1
    else
      app_pid = pid
      say("")
      say("demoapp 2.0 is running (pid %d), from the new files.", app_pid)
    end
  end
  if status == 0 then say("Demo finished; everything it made is removed.") end
  return status
end

-- }=====
-- {===== Command line

local function parse(argv)
  local opts = { files = {}, services = {} }
  local i = 1
  local function value(name)
    i = i + 1
    if argv[i] == nil then
      usage_error("%s needs a value (see --help)", name)
    end
    return argv[i]
  end
  local flags = { ["--demo"] = "demo", ["--dry-run"] = "dry_run",
                  ["--force"] = "force", ["--yes"] = "yes",
                  ["--only-registered"] = "only_registered",
                  ["--stop-console"] = "stop_console" }
  while argv[i] do
    local a = argv[i]
    if flags[a] then opts[flags[a]] = true
    elseif a == "--from" then opts.from = absolute(value(a))
    elseif a == "--run" then opts.run = value(a)
    elseif a == "--service" then opts.services[#opts.services + 1] = value(a)
    elseif a == "--timeout" then
      opts.timeout = tonumber(value(a))
      if not opts.timeout or opts.timeout <= 0 then
        usage_error("--timeout needs a positive number of seconds")
      end
    elseif a == "-h" or a == "--help" then
      io.stdout:write(HELP)
      os.exit(0)
    elseif a:sub(1, 1) == "-" then
      usage_error("unknown option %s (see --help)", a)
    else
      opts.files[#opts.files + 1] = absolute(a)
    end
    i = i + 1
  end
  if not opts.demo and #opts.files == 0 and #opts.services == 0 then
    usage_error("nothing to upgrade: give FILEs or --service (see --help)")
  end
  if opts.from and #opts.files == 0 then
    usage_error("--from needs FILEs to replace")
  end
  return opts
end

local opts = parse(arg)
if opts.demo then
  os.exit(demo(opts.dry_run), true)
else
  os.exit(upgrade(opts), true)
end

-- }=====
