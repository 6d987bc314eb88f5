-- SPDX-License-Identifier: MIT
-- installer.lua: an upgrade as one restartmgr transaction
-- (docs/transaction.md): the new files are staged beside their targets,
-- then the programs that use them are stopped, every target is swapped,
-- and the programs are started again; all or nothing.
--
--   lua5.4 examples/installer.lua [options] --from DIR FILE...
--   lua5.4 examples/installer.lua [options] --tree SRC DEST
--   lua5.4 examples/installer.lua --demo
--
-- Every file is written by the transaction, none by a shell command;
-- everything printed passes through restartmgr.cli.output, which escapes
-- what a terminal would interpret.  From a checkout, with the module on
-- LUA_CPATH: LUA_CPATH='build/dev/lua/?.so;;' lua5.4 examples/installer.lua

local here = (arg[0]:match("^(.*)/[^/]*$") or ".")
package.path = here .. "/../lua/?.lua;" .. package.path

local rm = require "restartmgr"
local output = require "restartmgr.cli.output"
local absolute = require("restartmgr.cli.args").absolute

local printf = output.printf

local HELP = [[
usage: installer.lua [options] --from DIR FILE...
       installer.lua [options] --tree SRC DEST
       installer.lua --demo

  --from DIR        each FILE is replaced by DIR/<its name>
  --tree SRC DEST   DEST becomes SRC (--remove-missing: also remove what
                    SRC lacks)
  --dry-run         show what would change and who would be stopped
  --force           kill what does not stop within the timeout
  --timeout SECONDS per program and service (default 30 and 20)
  --demo            upgrade a running demo app, 1.0 to 2.0, in /tmp

Exit status: 0 the new files are in place and every program runs again;
1 they are not (the old files are back) or a program did not restart;
2 bad usage or a failed staging (nothing was stopped).
]]

local function fail(code, fmt, ...)
  output.warn(fmt, ...)
  os.exit(code, true)
end

-- Stages, commits, prints the report; returns the exit status.
local function upgrade(o)
  local s <close> = assert(rm.start_session())
  local tx <close> = assert(s:transaction{ dry_run = o.dry_run })
  local ok, msg
  if o.tree then
    ok, msg = tx:tree(o.dest, o.src, { remove_missing = o.remove_missing })
  else
    for _, file in ipairs(o.files) do
      ok, msg = tx:replace(file, o.from .. "/" .. file:match("[^/]*$"))
      if not ok then break end
    end
  end
  if not ok then
    printf("Nothing was stopped: %s\n", msg)
    return 2
  end
  local draw, finish = output.progress("upgrading", { fd = 1 })
  local code, report
  ok, msg, code, report = tx:commit{ force = o.force, timeout = o.timeout,
                                     progress = draw }
  finish()
  for _, f in ipairs(report and report.files or {}) do
    printf("  %-8s %-7s %s\n", f.action, o.dry_run and "-" or f.outcome,
           f.target)
  end
  for _, a in ipairs(report and report.apps or {}) do
    local st = output.sorted_keys(a.status)
    printf("  pid %-7d %-16s %s\n", a.pid, a.name, table.concat(st, ","))
  end
  if not ok or code ~= "ERROR_SUCCESS" then
    printf("%s (%s)\n", msg, code)
    return 1
  end
  return 0
end

-- {===== The demo: a running demoapp 1.0 upgraded to 2.0

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local t = f:read("a")
  f:close()
  return t
end

-- The interpreter running this script, as an absolute path.
local function interpreter()
  local i, exe = -1, nil
  while arg[i] do exe = arg[i]; i = i - 1 end
  if exe:find("/", 1, true) then return absolute(exe) end
  for dir in (os.getenv("PATH") or "/usr/bin:/bin"):gmatch("[^:]+") do
    if read(dir .. "/" .. exe) then return dir .. "/" .. exe end
  end
  fail(2, "cannot find the Lua interpreter %s", exe)
end

-- Waits until ROOT/run/status names VERSION and a pid other than not_pid.
local function wait_status(root, version, not_pid)
  for _ = 1, 100 do
    local v, pid = (read(root .. "/run/status") or ""):match(
      "^demoapp (%S+) pid (%d+)")
    if v == version and tonumber(pid) ~= not_pid then return tonumber(pid) end
    os.execute("sleep 0.1")
  end
end

-- Adds files with one transaction; they must not exist yet.
local function add(s, pairs_)
  local tx <close> = assert(s:transaction())
  for _, p in ipairs(pairs_) do assert(tx:add(p[1], p[2])) end
  assert(tx:commit())
end

local function demo()
  local src = absolute(here) .. "/demo"
  -- The scratch directory and the fifo the demo app sleeps on are the
  -- only things made by commands: a transaction stages files, not FIFOs.
  local p = assert(io.popen("mktemp -d /tmp/restartmgr-demo.XXXXXX"))
  local top = p:read("l")
  p:close()
  local root, rel = top .. "/demoapp", top .. "/release"
  local s <close> = assert(rm.start_session())
  local app_pid
  local cleanup <close> = setmetatable({}, { __close = function()
    if app_pid then os.execute(("kill %d 2>/dev/null"):format(app_pid)) end
    local tx <close> = assert(s:transaction())
    if tx:remove(top) then tx:commit() end
  end })

  printf("== restartmgr installer demo ==\nInstalling demoapp 1.0 into %s\n",
         root)
  add(s, { { root, src .. "/1.0" }, { rel, src .. "/2.0" } })
  add(s, { { root .. "/lib", src .. "/lib" },
           { root .. "/demoapp", interpreter() },
           { rel .. "/lib", src .. "/lib" } })
  assert(os.execute("mkdir " .. output.shell_quote(root .. "/run") ..
                    " && mkfifo " .. output.shell_quote(root .. "/run/wait")))
  -- Started in its own session, without a terminal, like a desktop app.
  local q = output.shell_quote
  os.execute(("cd %s && setsid -f %s %s %s </dev/null >/dev/null 2>&1"):format(
    q(root), q(root .. "/demoapp"), q(root .. "/lib/demoapp.lua"), q(root)))
  app_pid = wait_status(root, "1.0")
  if not app_pid then fail(1, "demoapp 1.0 did not start") end
  printf("demoapp 1.0 is running (pid %d); upgrading it to 2.0 from %s\n",
         app_pid, rel)
  local status = upgrade{ tree = true, src = rel, dest = root, timeout = 10 }
  if status == 0 then
    app_pid = wait_status(root, "2.0", app_pid) or app_pid
    printf("demoapp %s is running (pid %d), from the new files.\n",
           read(root .. "/share/demoapp/version.txt"):match("%S+"), app_pid)
  end
  return status
end

-- }=====

local o, i = { files = {} }, 1
while arg[i] do
  local a = arg[i]
  if a == "--from" or a == "--timeout" then
    i = i + 1
    if not arg[i] then fail(2, "%s needs a value", a) end
    if a == "--from" then o.from = absolute(arg[i])
    else o.timeout = tonumber(arg[i]) or fail(2, "--timeout needs a number") end
  elseif a == "--tree" then
    o.tree, o.src, o.dest = true, arg[i + 1], arg[i + 2]
    if not o.dest then fail(2, "--tree needs SRC and DEST") end
    o.src, o.dest = absolute(o.src), absolute(o.dest)
    i = i + 2
  elseif a == "--dry-run" or a == "--force" or a == "--remove-missing"
      or a == "--demo" then
    o[a:sub(3):gsub("-", "_")] = true
  elseif a == "-h" or a == "--help" then
    io.stdout:write(HELP)
    os.exit(0)
  elseif a:sub(1, 1) == "-" then
    fail(2, "unknown option %s (see --help)", a)
  else
    o.files[#o.files + 1] = absolute(a)
  end
  i = i + 1
end
if o.demo then os.exit(demo(), true) end
if not o.tree and not (o.from and #o.files > 0) then
  io.stderr:write(HELP)
  os.exit(2)
end
os.exit(upgrade(o), true)
