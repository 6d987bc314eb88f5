-- SPDX-License-Identifier: MIT
-- stale_systemd.lua: `restartmgr stale --restart` on systemd units, under
-- a real systemd.  CTest's lua.systemd_stale_unified and _hybrid run this
-- file with busted inside the container that
-- core/test/linux/systemd/run-in-systemd.sh boots (systemd 252 as PID 1,
-- this process in a scope of its own).  It is not a *_spec.lua file, so
-- lua.spec (on the host, where PID 1 need not be systemd) skips it.
--
-- The units' daemon is rm_unitd ($RM_TEST_BIN): it maps a copy of a real
-- shared library (r-x, as a loaded library is) from the test's directory,
-- or is itself a copy there, and logs who sends it SIGTERM.  The file is
-- replaced by rename, as dpkg does.  The real CLI must name the unit as a
-- stale service and restart it through systemd: stopped by PID 1 (the log
-- says who sent SIGTERM), started again as the unit's processes with the
-- new inode, nothing relaunched outside systemd, a bystander left alone,
-- then nothing stale (exit 0).  Every run is limited with --path to the
-- test's own directory, so nothing else in the container is touched.
local helper = require "helper"
local dkjson = require "dkjson"

local cli = helper.cli
local UNIT = "rmt-stale"
local SYSTEMCTL = "/usr/bin/systemctl"
local unitd = assert(os.getenv("RM_TEST_BIN"), "RM_TEST_BIN is not set")
              .. "/rm_unitd"

local function decode(text)
  local v, _, err = dkjson.decode(text, 1, dkjson.null)
  assert(v, err)
  return v
end

-- systemctl --system ARGS...; its stdout (without the last newline) and
-- exit code.
local function systemctl(...)
  local words = { SYSTEMCTL, "--system" }
  for _, a in ipairs({ ... }) do words[#words + 1] = helper.quote(a) end
  local out, _, code = helper.sh(table.concat(words, " ") .. " 2>/dev/null")
  return (out:gsub("\n$", "")), code
end

local function prop(name)
  local v, code = systemctl("show", "--value", "--property=" .. name, UNIT)
  assert.equal(0, code)
  return v
end

local function inode(path)
  local out, ok = helper.sh("stat -c %i " .. helper.quote(path))
  assert(ok, "cannot stat " .. path)
  return assert(tonumber(out))
end

-- The inodes pid maps path with, and whether as "(deleted)".
local function mappings(pid, path)
  local f = assert(io.open("/proc/" .. pid .. "/maps", "rb"))
  local text = f:read("a")
  f:close()
  local found = {}
  for line in text:gmatch("[^\n]+") do
    local perms, ino, rest = line:match("^%S+ (%S+) %S+ %S+ (%d+) +(/.*)$")
    if rest == path or rest == path .. " (deleted)" then
      found[#found + 1] = { perms = perms, inode = tonumber(ino),
                            deleted = rest ~= path }
    end
  end
  return found
end

-- The pids of the processes whose command line mentions text.
local function pids_mentioning(text)
  local out = {}
  local p = assert(io.popen("ls -U /proc"))
  for name in p:lines() do
    if name:match("^%d+$") and tonumber(name) ~= helper.self_pid() then
      local f = io.open("/proc/" .. name .. "/cmdline", "rb")
      local cmd = f and f:read("a")
      if f then f:close() end
      if cmd and cmd:find(text, 1, true) then out[#out + 1] = tonumber(name) end
    end
  end
  p:close()
  table.sort(out)
  return out
end

-- The pids of the unit's cgroup (cgroup.procs where the layout keeps it),
-- sorted.
local function unit_procs()
  local cg = prop("ControlGroup")
  local f = io.open("/sys/fs/cgroup" .. cg .. "/cgroup.procs", "rb")
            or assert(io.open("/sys/fs/cgroup/systemd" .. cg .. "/cgroup.procs",
                              "rb"))
  local pids = {}
  for v in f:read("a"):gmatch("%d+") do pids[#pids + 1] = tonumber(v) end
  f:close()
  table.sort(pids)
  return pids
end

-- The unit, written to /etc/systemd/system and started; closing it stops
-- it (SIGKILL to whatever is left), forgets a failure and removes it.
local Unit = {}
Unit.__index = Unit
function Unit:__close()
  if not self.path then return end
  systemctl("stop", UNIT)
  systemctl("kill", "--signal=SIGKILL", UNIT)
  systemctl("reset-failed", UNIT)
  os.remove(self.path)
  systemctl("daemon-reload")
  self.path = nil
end

local function start_unit(body)
  local u = setmetatable({ path = "/etc/systemd/system/" .. UNIT .. ".service" },
                         Unit)
  local f = assert(io.open(u.path, "wb"))
  f:write(body)
  f:close()
  assert.equal(0, select(2, systemctl("daemon-reload")))
  assert.equal(0, select(2, systemctl("start", UNIT)))
  return u
end

local ROW = "%-14s %-7s %-10s %-16s %-8s %-22s %s\n"
local HEADER = ROW:format("SERVICE", "PID", "USER", "NAME", "RESTART",
                          "REASON", "FILES")

describe("restartmgr stale under systemd", function()
  it("runs under systemd as PID 1, as root", function()
    local f = assert(io.open("/proc/1/comm", "rb"))
    assert.equal("systemd\n", f:read("a"))
    f:close()
    assert.equal("0\n", (helper.sh("id -u")))
  end)

  it("--restart restarts a unit mapping a replaced library through systemd",
     function()
    local dir <close> = helper.tmpdir()
    local lib = helper.library(dir, "libunit.so")
    local log = dir.path .. "/term.log"
    local unit <close> = start_unit(table.concat({
      "[Unit]", "Description=restartmgr stale test",
      "[Service]", "Type=notify",
      ("ExecStart=%s --map %s --log-term %s"):format(unitd, lib, log), "" },
      "\n"))
    assert.equal("active", prop("ActiveState"))
    assert.equal("running", prop("SubState"))
    local old = assert(tonumber(prop("MainPID")))
    assert.is_false(helper.gone(old))
    local old_ino = inode(lib)
    assert.same({ { perms = "r-xp", inode = old_ino, deleted = false } },
                mappings(old, lib))

    local out, err, code = cli{ "stale", "--path", dir.path }
    assert.equal(0, code)
    assert.equal("No process runs replaced or deleted files.\n", out)
    assert.equal("", err)

    helper.replace(lib)                   -- a new inode at the same path
    local new_ino = inode(lib)
    assert.are_not.equal(old_ino, new_ino)
    assert.same({ { perms = "r-xp", inode = old_ino, deleted = true } },
                mappings(old, lib))
    -- Outside systemd: a program mapping the new library, not stale.
    local bystander <close> = helper.spawn_holder{ dir = dir, path = lib,
                                                   mode = "map" }
    local bystander_start = helper.start_time(bystander.pid)

    out, err, code = cli{ "stale", "--path", dir.path }
    assert.equal(1, code)
    assert.equal("", err)
    assert.equal(HEADER .. ROW:format(UNIT, old, "root", "rm_unitd", "yes", "-",
                                      lib), out)

    out, err, code = cli{ "stale", "--json", "--path", dir.path }
    assert.equal(1, code)
    assert.equal("", err)
    local j = decode(out)
    assert.same({ lib }, j.deleted_files)
    assert.same({}, j.programs)
    assert.same({}, j.not_restartable)
    assert.equal(0, j.unreadable)
    assert.is_false(j.restart)
    assert.is_false(j.dry_run)
    assert.equal(dkjson.null, j.error)
    assert.equal(1, #j.services)
    local g = j.services[1]
    assert.equal(UNIT, g.name)
    assert.is_true(g.restartable)
    assert.equal(dkjson.null, g.result)
    assert.equal(1, #g.processes)
    local p = g.processes[1]
    assert.equal(old, p.pid)
    assert.equal(helper.start_time(old), p.start_time)
    assert.equal("rm_unitd", p.name)
    assert.equal("service", p.type)
    assert.equal(UNIT, p.service)
    assert.is_true(p.restartable)
    assert.equal(0, p.uid)
    assert.equal("root", p.user)
    assert.same({ "running" }, p.status)
    assert.same({}, p.reasons)
    assert.same({ lib }, p.stale_files)
    assert.same({ { path = lib, how = { "mapping", "older_inode" } } },
                p.files)

    out, err, code = cli{ "stale", "--restart", "--json", "--path", dir.path }
    assert.equal(0, code)
    -- Progress: plain lines (stderr is no terminal), 0 before acting.
    assert.equal("stopping 0%\nstopping 100%\nstarting 0%\nstarting 100%\n",
                 err)
    j = decode(out)
    assert.is_true(j.restart)
    assert.equal(dkjson.null, j.error)
    assert.same({}, j.programs)
    assert.same({}, j.not_restartable)
    assert.equal(1, #j.services)
    assert.equal(UNIT, j.services[1].name)
    assert.equal("restarted", j.services[1].result)
    assert.equal(old, j.services[1].processes[1].pid)

    -- Restarted through systemd: active again with a new main process,
    -- the only one of its cgroup, which maps the new inode.
    assert.equal("active", prop("ActiveState"))
    assert.equal("running", prop("SubState"))
    local new = assert(tonumber(prop("MainPID")))
    assert.are_not.equal(0, new)
    assert.are_not.equal(old, new)
    assert.is_true(helper.gone(old))
    assert.is_false(helper.gone(new))
    assert.same({ new }, unit_procs())
    assert.same({ { perms = "r-xp", inode = new_ino, deleted = false } },
                mappings(new, lib))
    -- Stopped by systemd: the old daemon's SIGTERM came from PID 1, and
    -- nothing else signalled it.
    local f = assert(io.open(log, "rb"))
    assert.equal(old .. " SIGTERM from 1\n", f:read("a"))
    f:close()
    -- Nothing killed or relaunched outside systemd: the bystander is the
    -- same process, and the only other process naming the library is the
    -- unit's new one.
    assert.is_false(helper.gone(bystander.pid))
    assert.equal(bystander_start, helper.start_time(bystander.pid))
    local expect = { new, bystander.pid }
    table.sort(expect)
    assert.same(expect, pids_mentioning(lib))

    out, err, code = cli{ "stale", "--path", dir.path }
    assert.equal(0, code)
    assert.equal("No process runs replaced or deleted files.\n", out)
    assert.equal("", err)
    out, _, code = cli{ "stale", "--json", "--path", dir.path }
    assert.equal(0, code)
    j = decode(out)
    assert.same({}, j.services)
    assert.same({}, j.programs)
    assert.same({}, j.deleted_files)
  end)

  it("--restart restarts a unit whose executable was replaced", function()
    local dir <close> = helper.tmpdir()
    local exe = dir:copy(unitd, "rm-stale-daemon")
    local log = dir.path .. "/term.log"
    local unit <close> = start_unit(table.concat({
      "[Service]", "Type=notify",
      ("ExecStart=%s --log-term %s"):format(exe, log), "" }, "\n"))
    local old = assert(tonumber(prop("MainPID")))
    helper.replace(exe)
    local new_ino = inode(exe)

    local out, err, code = cli{ "stale", "--path", dir.path }
    assert.equal(1, code)
    assert.equal("", err)
    assert.equal(HEADER .. ROW:format(UNIT, old, "root", "rm-stale-daemon",
                                      "yes", "-", exe), out)
    out, _, code = cli{ "stale", "--json", "--path", dir.path }
    assert.equal(1, code)
    local p = decode(out).services[1].processes[1]
    assert.equal(old, p.pid)
    assert.same({ exe }, p.stale_files)
    assert.same({ { path = exe, how = { "executable", "older_inode" } } }, p.files)

    out, _, code = cli{ "stale", "--restart", "--path", dir.path }
    assert.equal(0, code)
    assert.equal(HEADER .. ROW:format(UNIT, old, "root", "rm-stale-daemon",
                                      "yes", "-", exe)
                 .. ("Restarted service %s: restarted\n"):format(UNIT), out)
    assert.equal("active", prop("ActiveState"))
    local new = assert(tonumber(prop("MainPID")))
    assert.are_not.equal(old, new)
    assert.is_true(helper.gone(old))
    -- The new main process runs the new executable.
    assert.equal(tostring(new_ino) .. "\n",
                 (helper.sh("stat -L -c %i /proc/" .. new .. "/exe")))
    assert.equal(exe, (helper.sh("readlink /proc/" .. new .. "/exe"):gsub("\n$", "")))
    local f = assert(io.open(log, "rb"))
    assert.equal(old .. " SIGTERM from 1\n", f:read("a"))
    f:close()
    assert.same({ new }, pids_mentioning(exe))
    out, _, code = cli{ "stale", "--path", dir.path }
    assert.equal(0, code)
    assert.equal("No process runs replaced or deleted files.\n", out)
  end)

  -- A service is one entry, its main process, holding what all its
  -- processes hold (docs/linux.md, "Services"): one row, one
  -- restart, and every process of the unit comes back with the new file.
  it("--restart restarts a master and its workers once, as one service",
     function()
    local dir <close> = helper.tmpdir()
    local lib = helper.library(dir, "libworkers.so")
    local log = dir.path .. "/term.log"
    local unit <close> = start_unit(table.concat({
      "[Service]", "Type=notify",
      ("ExecStart=%s --map %s --log-term %s --workers 2"):format(unitd, lib, log),
      "" }, "\n"))
    local master = assert(tonumber(prop("MainPID")))
    local old = pids_mentioning(lib)
    assert.equal(3, #old)
    local old_ino = inode(lib)
    helper.replace(lib)
    local new_ino = inode(lib)
    for _, pid in ipairs(old) do
      assert.same({ { perms = "r-xp", inode = old_ino, deleted = true } },
                  mappings(pid, lib))
    end

    local row = ROW:format(UNIT, master, "root", "rm_unitd", "yes", "-", lib)
    local out, err, code = cli{ "stale", "--path", dir.path }
    assert.equal(1, code)
    assert.equal("", err)
    assert.equal(HEADER .. row, out)
    out, _, code = cli{ "stale", "--json", "--path", dir.path }
    assert.equal(1, code)
    local j = decode(out)
    assert.equal(1, #j.services)
    assert.equal(1, #j.services[1].processes)
    assert.equal(master, j.services[1].processes[1].pid)
    assert.same({ lib }, j.services[1].processes[1].stale_files)
    assert.same({}, j.programs)
    assert.same({}, j.not_restartable)

    out, err, code = cli{ "stale", "--restart", "--path", dir.path }
    assert.equal(0, code)
    assert.equal(HEADER .. row
                 .. ("Restarted service %s: restarted\n"):format(UNIT), out)
    assert.equal("stopping 0%\nstopping 100%\nstarting 0%\nstarting 100%\n",
                 err)
    assert.equal("active", prop("ActiveState"))
    assert.equal("running", prop("SubState"))
    local new_master = assert(tonumber(prop("MainPID")))
    assert.are_not.equal(master, new_master)
    for _, pid in ipairs(old) do assert.is_true(helper.gone(pid)) end
    local new = pids_mentioning(lib)
    assert.equal(3, #new)
    assert.same(new, unit_procs())        -- all started by systemd
    for _, pid in ipairs(new) do
      assert.same({ { perms = "r-xp", inode = new_ino, deleted = false } },
                  mappings(pid, lib))
    end
    -- Each old process got SIGTERM from systemd (PID 1), once.
    local expect = {}
    for i, pid in ipairs(old) do expect[i] = pid .. " SIGTERM from 1" end
    local f = assert(io.open(log, "rb"))
    local got = helper.lines(f:read("a"))
    f:close()
    table.sort(got)
    table.sort(expect)
    assert.same(expect, got)
    out, _, code = cli{ "stale", "--path", dir.path }
    assert.equal(0, code)
    assert.equal("No process runs replaced or deleted files.\n", out)
  end)

  -- Never restarted: a unit systemd itself protects (RefuseManualStop=yes
  -- makes it critical) is listed with its reason and left running.
  it("--restart skips a unit whose name cannot be registered, and goes on",
     function()
    -- systemd-escape gives real units backslashes ("dev-disk-by\\x2duuid"),
    -- which a service name the library takes may not hold.
    local bad = "rmt-bad\\x2dsvc"
    local path = "/etc/systemd/system/" .. bad .. ".service"
    local dir <close> = helper.tmpdir()
    local lib = helper.library(dir, "libbad.so")
    local f = assert(io.open(path, "wb"))
    f:write(table.concat({ "[Service]", "Type=notify",
      ("ExecStart=%s --map %s"):format(unitd, lib), "" }, "\n"))
    f:close()
    local h <close> = helper.spawn_holder{ dir = dir, path = lib, mode = "map" }
    local j
    finally(function()
      for _, p in ipairs(j and j.programs or {}) do
        if p.new_pid ~= dkjson.null then helper.kill(p.new_pid) end
      end
      systemctl("stop", bad)
      os.remove(path)
      systemctl("daemon-reload")
    end)
    assert.equal(0, select(2, systemctl("daemon-reload")))
    assert.equal(0, select(2, systemctl("start", bad)))
    local v = systemctl("show", "--value", "--property=MainPID", bad)
    local pid = assert(tonumber(v))
    helper.replace(lib)
    local out, err, code = cli{ "stale", "--restart", "--json", "--path",
                                dir.path }
    j = decode(out)
    -- The program is restarted; the unit is reported and skipped, so
    -- something is still stale: 1 (not 3 with nothing done).
    assert.equal(1, code)
    assert.truthy(err:find(bad, 1, true), err)
    assert.equal(1, #j.programs)
    assert.equal(h.pid, j.programs[1].pid)
    assert.equal("restarted", j.programs[1].result)
    assert.equal(1, #j.services)
    assert.equal(bad, j.services[1].name)
    assert.equal("skipped", j.services[1].result)
    assert.equal(pid, assert(tonumber((systemctl("show", "--value",
      "--property=MainPID", bad)))))
  end)

  it("--restart leaves a RefuseManualStop unit alone", function()
    local dir <close> = helper.tmpdir()
    local lib = helper.library(dir, "librefuse.so")
    local log = dir.path .. "/term.log"
    local unit <close> = start_unit(table.concat({
      "[Unit]", "RefuseManualStop=yes",
      "[Service]", "Type=notify",
      ("ExecStart=%s --map %s --log-term %s"):format(unitd, lib, log), "" },
      "\n"))
    local pid = assert(tonumber(prop("MainPID")))
    local start = helper.start_time(pid)
    helper.replace(lib)
    local row = ROW:format(UNIT, pid, "root", "rm_unitd", "no",
                           "critical_service", lib)
    local out, err, code = cli{ "stale", "--restart", "--path", dir.path }
    assert.equal(1, code)
    assert.equal("", err)                 -- no progress: nothing ran
    assert.equal(HEADER .. row .. "Nothing that can be restarted.\n", out)
    out, err, code = cli{ "stale", "--restart", "--json", "--path", dir.path }
    assert.equal(1, code)
    assert.equal("", err)
    local j = decode(out)
    assert.same({}, j.services)
    assert.same({}, j.programs)
    assert.equal(dkjson.null, j.error)
    assert.equal(1, #j.not_restartable)
    local a = j.not_restartable[1]
    assert.equal(pid, a.pid)
    assert.equal("critical", a.type)
    assert.equal(UNIT, a.service)
    assert.is_false(a.restartable)
    assert.same({ "critical_service" }, a.reasons)
    assert.equal("critical_service", a.why)
    assert.same({ lib }, a.stale_files)
    -- Untouched: the same process, never signalled.
    assert.equal("active", prop("ActiveState"))
    assert.equal(pid, assert(tonumber(prop("MainPID"))))
    assert.equal(start, helper.start_time(pid))
    local f = assert(io.open(log, "rb"))  -- made empty at its start
    assert.equal("", f:read("a"))
    f:close()
  end)
end)
