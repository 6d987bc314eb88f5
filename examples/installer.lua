-- installer.lua: upgrade files that running programs use, the Restart
-- Manager way: find who uses them, stop those, replace the files, start
-- again what was stopped.
--
--   lua5.4 examples/installer.lua --demo [--dry-run]
--   lua5.4 examples/installer.lua [options] FILE...
--
-- --demo installs "demoapp 1.0" (examples/demo/) into a temp directory,
-- starts it, and upgrades it to 2.0 with the sequence below, then shows
-- 2.0 running, and removes everything it made.
--
-- On a real target the FILEs (absolute or relative paths) are what the
-- upgrade replaces:
--
--   --from DIR         the new files: each FILE is replaced by DIR/<its
--                      basename> when that exists (copied next to the
--                      target, then renamed over it, as package managers do)
--   --run CMD          a shell command that does the installation work
--                      instead (or as well), e.g. "dpkg -i new.deb"
--   --service NAME     also register a service (runit or systemd)
--   --force            kill what does not stop within the timeout
--   --only-registered  stop nothing unless everything can be restarted
--   --timeout SECONDS  per application (default 30, services 20)
--   --dry-run          only list who uses the files; stop nothing
--
-- The sequence (one session, ended by <close> whatever happens):
--   start session → register the files → list who uses them →
--   shutdown (progress bar) → replace the files → restart (progress
--   bar) → list again (what was stopped and restarted) → end the session.
-- When a reboot would be needed (a critical process, the installer itself,
-- another user's process uses a file) nothing is stopped or replaced.
--
-- Exit status: 0 when everything went as planned, 1 when something could
-- not be stopped, replaced or restarted, 2 on bad usage.  Run from the
-- repository root with the module on LUA_CPATH, e.g.
--   LUA_CPATH='build/dev/lua/?.so;;' lua5.4 examples/installer.lua --demo

local rm = require "restartmgr"

local USAGE = [[
usage: installer.lua --demo [--dry-run]
       installer.lua [--from DIR] [--run CMD] [--service NAME]... [--force]
                     [--only-registered] [--timeout SECONDS] [--dry-run] FILE...
]]

-- {===== Small helpers

local function say(fmt, ...)
  io.stdout:write(fmt:format(...), "\n")
  io.stdout:flush()
end

local function fail(msg)
  io.stderr:write("installer: ", msg, "\n")
  os.exit(1, true)
end

-- A word for sh, quoted.
local function q(s)
  return "'" .. tostring(s):gsub("'", [['\'']]) .. "'"
end

-- Runs a shell command; true when it exits 0.
local function sh(cmd)
  return os.execute(cmd) == true
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

local function absolute(path)
  if path:sub(1, 1) == "/" then return path end
  local pwd = os.getenv("PWD")
  if not pwd then
    local p = io.popen("pwd")
    pwd = p:read("l")
    p:close()
  end
  return pwd .. "/" .. path
end

-- A progress bar that redraws itself on one line: the callback, and a
-- function that ends the line if the bar stopped short of 100%.
local function progress_bar(label)
  local last
  local function draw(percent)
    local width = 30
    local done = percent * width // 100
    last = percent
    io.stdout:write(("\r  %-11s [%s%s] %3d%%"):format(
      label, ("#"):rep(done), ("."):rep(width - done), percent))
    if percent == 100 then io.stdout:write("\n") end
    io.stdout:flush()
  end
  local function close()
    if last and last < 100 then io.stdout:write("\n") end
  end
  return draw, close
end

-- }=====
-- {===== Showing the list

local function set_words(set)
  local words = {}
  for k in pairs(set) do words[#words + 1] = k end
  table.sort(words)
  return table.concat(words, ",")
end

local STATUS_ORDER = { "running", "stopped", "stopped_other", "restarted",
                       "error_on_stop", "error_on_restart", "shutdown_masked",
                       "restart_masked" }

local function status_words(status)
  local words = {}
  for _, w in ipairs(STATUS_ORDER) do
    if status[w] then words[#words + 1] = w end
  end
  return table.concat(words, ",")
end

local function show_apps(apps, reboot)
  if #apps == 0 then
    say("  nobody uses them")
  else
    say("  %-7s %-12s %-12s %-8s %-26s %s", "PID", "NAME", "TYPE",
        "RESTART", "STATUS", "USES")
    for _, a in ipairs(apps) do
      local uses = {}
      for _, f in ipairs(a.files) do
        uses[#uses + 1] = ("%s (%s)"):format(f.path:match("[^/]*$"),
                                             set_words(f.how))
      end
      if a.service then uses[#uses + 1] = "service " .. a.service end
      say("  %-7d %-12s %-12s %-8s %-26s %s", a.pid, a.name, a.type,
          a.restartable and "yes" or "no", status_words(a.status),
          table.concat(uses, ", "))
    end
  end
  if next(reboot) then
    say("  a reboot would be needed to replace them: %s", set_words(reboot))
  end
end

-- }=====
-- {===== Replacing files

-- Replaces target with source: a copy beside the target, renamed over it,
-- so that a process still holding the old file keeps the old inode.
local function replace(source, target)
  local tmp = target .. ".rm-new"
  return sh(("cp -pL %s %s && mv -f %s %s"):format(q(source), q(tmp),
                                                    q(tmp), q(target)))
end

local function install_new_files(opts)
  local ok = true
  if opts.from then
    for _, file in ipairs(opts.files) do
      local source = opts.from .. "/" .. file:match("[^/]*$")
      if read_file(source) then
        if replace(source, file) then
          say("  replaced %s", file)
        else
          say("  could not replace %s", file)
          ok = false
        end
      else
        say("  %s: no new version in %s", file, opts.from)
      end
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

-- }=====
-- {===== The upgrade: one Restart Manager session

-- Returns true when everything went as planned.
local function upgrade(opts)
  local s <close> = assert(rm.start_session())
  say("Session %s started.", s.key)

  assert(s:register{ files = opts.files, services = opts.services })
  say("Registered %d file(s)%s.", #opts.files,
      #opts.services > 0 and (" and %d service(s)"):format(#opts.services)
      or "")

  say("Who uses them:")
  local apps, reboot = assert(s:list())
  show_apps(apps, reboot)
  if opts.dry_run then
    say("Dry run: nothing stopped, nothing replaced.")
    return true
  end

  say("Shutting them down:")
  local bar, bar_end = progress_bar("stopping")
  local ok, err, code = s:shutdown{ force = opts.force, timeout = opts.timeout,
                                    only_registered = opts.only_registered,
                                    progress = bar }
  bar_end()
  local all_well = ok == true
  if not ok then
    say("  %s (%s)", err, code)
    if code == "ERROR_FAIL_NOACTION_REBOOT"
       or (code == "ERROR_FAIL_SHUTDOWN" and opts.only_registered) then
      say("Nothing was stopped, so nothing is replaced.")
      return false
    end
    if code ~= "ERROR_FAIL_SHUTDOWN" then error(err) end
    say("  Some could not be stopped; they keep the old files until they"
        .. " restart.")
  end

  say("Installing the new files:")
  if not install_new_files(opts) then all_well = false end

  say("Restarting what was stopped:")
  bar, bar_end = progress_bar("restarting")
  ok, err, code = s:restart{ progress = bar }
  bar_end()
  if not ok then
    say("  %s (%s)", err, code)
    all_well = false
  end

  say("Afterwards:")
  apps, reboot = assert(s:list())
  show_apps(apps, reboot)
  assert(s:close())
  say("Session ended.")
  return all_well, apps
end

-- }=====
-- {===== The demo: demoapp 1.0 → 2.0

local here = (arg[0]:match("^(.*)/[^/]*$") or ".")
local demo_src = here .. "/demo"

-- The Lua interpreter running us, as an absolute path.
local function interpreter()
  local i, exe = -1, nil
  while arg[i] do exe = arg[i]; i = i - 1 end
  if exe:find("/", 1, true) then return absolute(exe) end
  for dir in (os.getenv("PATH") or "/usr/bin:/bin"):gmatch("[^:]+") do
    if read_file(dir .. "/" .. exe) then return dir .. "/" .. exe end
  end
  fail("cannot find the Lua interpreter " .. exe)
end

local function sleep(seconds) sh(("sleep %s"):format(seconds)) end

-- Waits until ROOT/run/status says VERSION from a pid other than not_pid.
local function wait_status(root, version, not_pid)
  for _ = 1, 100 do
    local text = read_file(root .. "/run/status")
    local v, pid = (text or ""):match("^demoapp (%S+) pid (%d+)")
    if v == version and tonumber(pid) ~= not_pid then return tonumber(pid) end
    sleep(0.1)
  end
  fail(("demoapp %s did not report running"):format(version))
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

-- Puts the files of demoapp VERSION side by side in dir: what --from
-- takes (each target is replaced by the file with its basename).
local function download(dir, version)
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
  if not top then fail("mktemp failed") end
  local root, new = top .. "/demoapp", top .. "/staging"
  local app_pid
  local function cleanup()
    if app_pid then sh(("kill %d 2>/dev/null"):format(app_pid)) end
    sh(("rm -rf %s"):format(q(top)))
  end

  say("== restartmgr installer demo ==")
  say("Installing demoapp 1.0 into %s", root)
  if not install(root, "1.0") then
    cleanup()
    fail("could not install demoapp 1.0")
  end
  -- Started in its own session, without a terminal, like a desktop app.
  sh(("cd %s && setsid -f %s/bin/demoapp %s/lib/demoapp.lua %s"
      .. " </dev/null >/dev/null 2>&1"):format(q(root), q(root), q(root),
                                               q(root)))
  app_pid = wait_status(root, "1.0", nil)
  say("demoapp 1.0 is running (pid %d).", app_pid)
  say("Downloading demoapp 2.0 into %s", new)
  if not download(new, "2.0") then
    cleanup()
    fail("could not stage demoapp 2.0")
  end
  say("")

  local files = { root .. "/bin/demoapp", root .. "/lib/demoapp.lua",
                  root .. "/share/demoapp/version.txt" }
  local ok, result = pcall(upgrade, { files = files, services = {},
                                      from = new, dry_run = dry_run,
                                      timeout = 10 })
  if ok and result and not dry_run then
    app_pid = wait_status(root, "2.0", app_pid)
    say("")
    say("demoapp 2.0 is running (pid %d), from the new files.", app_pid)
  end
  cleanup()
  if not ok then error(result, 0) end
  if not result then os.exit(1) end
  say("Demo finished; everything it made is removed.")
end

-- }=====
-- {===== Command line

local function parse(argv)
  local opts = { files = {}, services = {} }
  local i = 1
  local function value(name)
    i = i + 1
    if argv[i] == nil then
      io.stderr:write(name, " needs a value\n", USAGE)
      os.exit(2)
    end
    return argv[i]
  end
  while argv[i] do
    local a = argv[i]
    if a == "--demo" then opts.demo = true
    elseif a == "--dry-run" then opts.dry_run = true
    elseif a == "--force" then opts.force = true
    elseif a == "--only-registered" then opts.only_registered = true
    elseif a == "--from" then opts.from = absolute(value(a))
    elseif a == "--run" then opts.run = value(a)
    elseif a == "--service" then opts.services[#opts.services + 1] = value(a)
    elseif a == "--timeout" then
      opts.timeout = tonumber(value(a))
      if not opts.timeout or opts.timeout <= 0 then
        io.stderr:write("--timeout needs a positive number\n", USAGE)
        os.exit(2)
      end
    elseif a == "-h" or a == "--help" then
      io.stdout:write(USAGE)
      os.exit(0)
    elseif a:sub(1, 2) == "--" then
      io.stderr:write("unknown option ", a, "\n", USAGE)
      os.exit(2)
    else
      opts.files[#opts.files + 1] = absolute(a)
    end
    i = i + 1
  end
  if not opts.demo and #opts.files == 0 and #opts.services == 0 then
    io.stderr:write(USAGE)
    os.exit(2)
  end
  return opts
end

local opts = parse(arg)
if opts.demo then
  demo(opts.dry_run)
else
  os.exit(upgrade(opts) and 0 or 1, true)
end

-- }=====
