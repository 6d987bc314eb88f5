-- SPDX-License-Identifier: MIT
-- helper.lua: processes, temp dirs and /proc readers for the specs.
--
-- busted loads this file before the specs (.busted: helper), and each spec
-- file takes the functions with `local helper = require "helper"`.  It sets
-- no globals.
--
-- Everything a spec starts is a to-be-closed object, so a failing
-- assertion cannot leak a process or a directory:
--
--   local dir <close> = helper.tmpdir()
--   local path = dir:file("held.txt", "hello")
--   local h <close> = helper.spawn_holder{ dir = dir, path = path }
--   -- h.pid is a real child process holding path open
--
-- Holders are started through io.popen, so they are this process's
-- children: closing one kills it by pid (safe: an unreaped child's pid
-- cannot be reused) and pclose reaps it.  They run under setsid, with no
-- controlling terminal, so the core sees ordinary restartable apps.
--
-- The session store comes from the environment (RESTARTMGR_STATE_DIR, a
-- fresh directory per run), and so do the module paths (LUA_CPATH_5_4 for
-- the module, LUA_PATH_5_4 for the command's restartmgr.cli.*), so that
-- child processes find them all: CTest sets them, and for plain `busted`
-- spec/busted-lua.sh does.

local M = {}

M.lua = os.getenv("RM_LUA") or "lua5.4"

-- {===== Assertions the API specs share

-- busted's own assert (the luassert module it exports to the specs).
local luassert = require "luassert"

-- Asserts that fn raises an error whose message contains text.
function M.raises(text, fn)
  luassert.error_matches(fn, text, 1, true)
end

-- Asserts the fail triple of a core-reported failure: nil, a message
-- starting "what: ", the code name.
function M.fails(code, what, ok, msg, got)
  luassert.is_nil(ok)
  luassert.equal(code, got)
  luassert.equal(what .. ": ", msg:sub(1, #what + 2))
end

-- }=====

-- {===== Shell and /proc

-- Quotes s for sh.
function M.quote(s)
  return "'" .. tostring(s):gsub("'", [['\'']]) .. "'"
end

-- Runs a shell command; returns its stdout and how it ended (ok, code).
function M.sh(cmd)
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok, code
end

-- Runs `lua5.4 -e code` (with this environment, plus the variables in
-- the optional table env) the same way.
function M.lua_child(code, env)
  local vars = {}
  for k, v in pairs(env or {}) do vars[#vars + 1] = k .. "=" .. M.quote(v) end
  return M.sh("exec env " .. table.concat(vars, " ") .. " " .. M.quote(M.lua)
              .. " -e " .. M.quote(code))
end

M.cwd = M.sh("pwd"):gsub("\n$", "")

-- What the core calls a holder: setsid leaves it without a terminal, so
-- it is a main window in a graphical session, else unknown.
local function set(name) return (os.getenv(name) or "") ~= "" end
M.holder_type = (set("DISPLAY") or set("WAYLAND_DISPLAY"))
                and "main_window" or "unknown"
M.holder_script = M.cwd .. "/spec/holder.lua"

-- The fields of /proc/PID/stat after the command name (which may hold
-- spaces and parentheses): t[1] is the state (field 3), t[20] the start
-- time in clock ticks (field 22).  nil when the process is gone.
function M.stat(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  if not f then return nil end
  local line = f:read("l")
  f:close()
  if not line then return nil end
  local t = {}
  for field in line:match(".*%)(.*)$"):gmatch("%S+") do t[#t + 1] = field end
  return t
end

-- This process's pid.
function M.self_pid()
  local f = assert(io.open("/proc/self/stat"))
  local pid = tonumber(f:read("l"):match("^(%d+)"))
  f:close()
  return pid
end

local clk_tck = tonumber((M.sh("getconf CLK_TCK"))) or 100

-- A process's start time as docs/linux.md (Process identity) defines it:
-- ticks since boot in 100 ns units, computed here independently of the
-- core.
function M.start_time(pid)
  local t = M.stat(pid)
  return t and math.tointeger(tonumber(t[20]) * (10000000 // clk_tck))
end

-- The login session of this process, as the core reports it (nil when
-- unset, which is 4294967295 in /proc/self/sessionid).
function M.session_id()
  local f = io.open("/proc/self/sessionid")
  if not f then return nil end
  local id = tonumber(f:read("l"))
  f:close()
  if id == nil or id == 4294967295 then return nil end
  return id
end

-- True when the process has ended: no /proc entry, or a zombie (here
-- PID 1 may never reap orphans, so a dead orphan stays a zombie).
function M.gone(pid)
  local t = M.stat(pid)
  return t == nil or t[1] == "Z" or t[1] == "X"
end

-- Waits until the process has ended, at most seconds (default 10).
function M.wait_gone(pid, seconds)
  local deadline = os.time() + (seconds or 10)
  while not M.gone(pid) do
    if os.time() > deadline then return false end
    os.execute("sleep 0.02")
  end
  return true
end

-- Kills a process that is not our child (for example one rm_restart
-- started) and waits until it has ended.
function M.kill(pid)
  if not M.gone(pid) then os.execute("kill -KILL " .. pid .. " 2>/dev/null") end
  return M.wait_gone(pid)
end

-- Polls fn() every 20 ms until it returns a true value, at most seconds.
function M.eventually(fn, seconds)
  local deadline = os.time() + (seconds or 10)
  repeat
    local v = fn()
    if v then return v end
    os.execute("sleep 0.02")
  until os.time() > deadline
  return nil
end

-- }=====
-- {===== Temp dirs

local Dir = {}
Dir.__index = Dir

-- Writes a file in the directory and returns its absolute path.
function Dir:file(name, content)
  local path = self.path .. "/" .. name
  local f = assert(io.open(path, "wb"))
  f:write(content or "")
  f:close()
  return path
end

-- Copies a file into the directory (keeping its mode) and returns the path.
function Dir:copy(from, name)
  local path = self.path .. "/" .. name
  local _, ok = M.sh("cp -p " .. M.quote(from) .. " " .. M.quote(path))
  assert(ok, "cannot copy " .. from)
  return path
end

function Dir:__close()
  if self.path then
    os.execute("rm -rf " .. M.quote(self.path))
    self.path = nil
  end
end
Dir.__gc = Dir.__close

-- A fresh private directory, removed when the object is closed.
function M.tmpdir()
  local out, ok = M.sh("mktemp -d")
  assert(ok, "mktemp -d failed")
  return setmetatable({ path = out:gsub("\n$", "") }, Dir)
end

-- }=====
-- {===== Holder processes

local Holder = {}
Holder.__index = Holder

-- Lets the holder end by itself (as if asked to quit), then reaps it.
-- Returns pclose's results: true, or nil, "signal"/"exit", code.
-- The holder prints its pid before it opens the fifo, so a knock (an open
-- and close) can come before that open and be missed, leaving the open
-- waiting for a writer forever: knock until the holder has ended.  One
-- that has not ended after 10 s is killed, which the result shows.
function Holder:finish()
  if not self.pipe then return self.result end
  local deadline = os.time() + 10
  repeat
    local f = io.open(self.fifo, "r+b")   -- read-write: never blocks
    if f then f:close() end
    if M.gone(self.pid) then break end
    os.execute("sleep 0.02")
  until os.time() > deadline
  if not M.gone(self.pid) then
    os.execute("kill -KILL " .. self.pid .. " 2>/dev/null")
  end
  return self:reap()
end

-- Reaps the holder once it has ended (for example after a shutdown).
function Holder:reap()
  if self.pipe then
    self.result = table.pack(self.pipe:close())
    self.pipe = nil
  end
  return table.unpack(self.result)
end

-- Kills the holder by pid and reaps it.  Safe: until pclose reaps our
-- child, its pid cannot belong to anyone else.
function Holder:__close()
  if self.pipe then
    os.execute("kill -KILL " .. self.pid .. " 2>/dev/null")
    self:reap()
  end
end
Holder.__gc = Holder.__close

-- The identity the core should report for the holder.
function Holder:identity()
  return { pid = self.pid, start_time = M.start_time(self.pid) }
end

local fifo_count = 0

-- A shell that ignores SIGTERM and SIGINT while it holds $1 open, then
-- waits on the fifo $2 like holder.lua does.
local STUBBORN = [[trap '' TERM INT; exec 3<"$1"; echo $$; read x <"$2"]]

-- Starts a holder process (spec/holder.lua) and returns once it holds the
-- file.  opts: dir (a tmpdir, for its fifo), path (the file), mode ("open"
-- by default, "map", "exec", "none", or "stubborn": a shell that holds the
-- file open and ignores SIGTERM), exe (the interpreter to run, default
-- lua5.4; with mode "exec" a copy of it is the registered file).
function M.spawn_holder(opts)
  fifo_count = fifo_count + 1
  local fifo = opts.dir.path .. "/holder" .. fifo_count .. ".fifo"
  local _, ok = M.sh("mkfifo " .. M.quote(fifo))
  assert(ok, "mkfifo failed")
  local cmd = table.concat({ "exec setsid", M.quote(opts.exe or M.lua),
    M.quote(M.holder_script), opts.mode or "open", M.quote(opts.path),
    M.quote(fifo) }, " ")
  if opts.mode == "stubborn" then
    cmd = table.concat({ "exec setsid sh -c", M.quote(STUBBORN), "sh",
                         M.quote(opts.path), M.quote(fifo) }, " ")
  end
  local pipe = assert(io.popen(cmd, "r"))
  local line = pipe:read("l")
  if not line then
    pipe:close()
    error("holder did not start: " .. cmd, 2)
  end
  return setmetatable({ pid = assert(tonumber(line)), pipe = pipe,
                        fifo = fifo }, Holder)
end

-- }=====
-- {===== Command lines with stdout and stderr apart

local run_count = 0

-- Runs argv (a list of words, quoted here) and returns stdout, stderr and
-- the exit code.  opts: env (a table of variables to set), stdin (a
-- string; default /dev/null), cwd.
function M.run(argv, opts)
  opts = opts or {}
  run_count = run_count + 1
  local tmp = os.tmpname()
  local err = tmp .. ".err"
  local input = "/dev/null"
  if opts.stdin then
    input = tmp .. ".in"
    local f = assert(io.open(input, "wb"))
    f:write(opts.stdin)
    f:close()
  end
  local words = {}
  for i, w in ipairs(argv) do words[i] = M.quote(w) end
  local vars = {}
  for k, v in pairs(opts.env or {}) do
    vars[#vars + 1] = k .. "=" .. M.quote(v)
  end
  local cmd = (opts.cwd and "cd " .. M.quote(opts.cwd) .. " && " or "")
              .. "exec env " .. table.concat(vars, " ") .. " "
              .. table.concat(words, " ") .. " <" .. M.quote(input)
              .. " 2>" .. M.quote(err)
  local out, _, code = M.sh(cmd)
  local f = io.open(err, "rb")
  local errtext = f and f:read("a") or ""
  if f then f:close() end
  os.remove(err)
  os.remove(tmp)
  if opts.stdin then os.remove(input) end
  return out, errtext, code
end

-- The command-line tool, run by this interpreter (not through PATH).
M.cli_script = M.cwd .. "/lua/cli/restartmgr"
function M.cli(args, opts)
  local argv = { M.lua, M.cli_script }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  return M.run(argv, opts)
end

-- The lines of a text, without the newlines.
function M.lines(text)
  local t = {}
  for line in text:gmatch("[^\n]+") do t[#t + 1] = line end
  return t
end

-- A copy of a real shared library in dir (this module's own .so): what
-- holders in mode "map" dlopen, and what a test replaces by rename.
function M.library(dir, name)
  local so = assert(package.searchpath("restartmgr", package.cpath))
  return dir:copy(so, name)
end

-- Replaces path by a copy of itself, renamed over it, as package managers
-- do: the old inode stays with whoever holds it.
function M.replace(path)
  local _, ok = M.sh(("cp -p %s %s.new && mv -f %s.new %s"):format(
    M.quote(path), M.quote(path), M.quote(path), M.quote(path)))
  assert(ok, "cannot replace " .. path)
end

-- }=====
-- {===== runit services started by the test

local Service = {}
Service.__index = Service

local function read_first_line(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local line = f:read("l")
  f:close()
  return line
end

-- The pid runsv reports for the service (nil while down).
function Service:pid()
  return tonumber(read_first_line(self.dir .. "/supervise/pid") or "")
end

-- Waits (bounded) until the service runs with a pid other than not_pid,
-- and has run for over a second (runsv holds back a restart for a second
-- after a child that ran less); returns the pid.
function Service:wait_up(not_pid)
  local pid = M.eventually(function()
    local p = self:pid()
    local stat = read_first_line(self.dir .. "/supervise/stat")
    return p and p ~= not_pid and stat == "run" and p
  end, 15)
  assert(pid, "service " .. self.name .. " did not come up")
  os.execute("sleep 1.2")
  return pid
end

-- Ends runsvdir, then the service and runsv.  They are init's children
-- (see M.runit_service): ended by pid and waited for, init reaps them.
function Service:__close()
  if self.runsvdir then
    local pid = self:pid()
    os.execute("kill -TERM " .. self.runsvdir .. " 2>/dev/null")
    M.wait_gone(self.runsvdir, 10)
    self.runsvdir = nil
    os.execute("sv -w 5 force-shutdown " .. M.quote(self.dir)
               .. " >/dev/null 2>&1")
    if self.runsv and not M.wait_gone(self.runsv, 10) then
      M.kill(self.runsv)
    end
    if pid then M.kill(pid) end
  end
end
Service.__gc = Service.__close

-- Creates service NAME under DIR/service (the $SVDIR of the test) whose
-- run script is `exec COMMAND`, starts the system's runsvdir on DIR/service
-- and waits until the service is up.  .svdir is the value for SVDIR.
-- Only runit of the system counts (docs/security.md, "Services"): a root
-- runsvdir whose parent is init, on directories root's and not writable
-- by others; so it is started in the background of a shell that exits,
-- which re-parents it to init.  The tests run as root.
function M.runit_service(dir, name, command)
  local svdir = dir.path .. "/service"
  local sdir = svdir .. "/" .. name
  local _, ok = M.sh("mkdir -p " .. M.quote(sdir) .. " && chmod 755 "
                     .. M.quote(svdir) .. " " .. M.quote(sdir))
  assert(ok)
  local run = assert(io.open(sdir .. "/run", "w"))
  run:write("#!/bin/sh\nexec 2>&1\nexec ", command, "\n")
  run:close()
  assert(os.execute("chmod 755 " .. M.quote(sdir .. "/run")))
  local out = M.sh("setsid sh -c 'runsvdir \"$1\" </dev/null >/dev/null 2>&1 &"
                   .. " echo $!' sh " .. M.quote(svdir))
  local svc = setmetatable({ name = name, dir = sdir, svdir = svdir,
                             runsvdir = assert(tonumber(out)) }, Service)
  svc.runsv = M.eventually(function()
    local children = read_first_line(("/proc/%d/task/%d/children")
                                     :format(svc.runsvdir, svc.runsvdir))
    return children and tonumber(children:match("%d+"))
  end, 10)
  assert(svc.runsv, "runsvdir started no runsv for " .. name)
  svc.first_pid = svc:wait_up()
  return svc
end

-- }=====

return M
