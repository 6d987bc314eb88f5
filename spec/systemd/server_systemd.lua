-- SPDX-License-Identifier: MIT
-- server_systemd.lua: `restartmgr stale` on a whole server after a library
-- upgrade.  CTest's lua.systemd_server runs this file with busted inside
-- the container core/test/linux/systemd/run-in-systemd.sh --server boots:
-- the host's / under a tmpfs overlay, systemd 252 as PID 1, Debian's
-- nginx, ssh, redis-server (its own mount namespace), cron and rsyslog
-- (socket-activated through syslog.socket) as units.  Nothing done here
-- reaches the host: users, keys, packages all land in the overlay.
--
-- The server gets, before the upgrade: a user's program started from a
-- real ssh login (its session scope, its stdout appended to a log), a
-- tmux session whose pane runs a job, a root perl script in a scope of
-- its own.  The upgrade: dpkg -i of libssl3, zlib1g, libpam0g and
-- libevent-core (.deb files the runner binds at /run/rmt-debs), and the
-- perl script replaced.  The ground truth is computed here from
-- /proc/*/maps; every check prints what it compared (the per-process
-- table goes to stderr).
local helper = require "helper"
local dkjson = require "dkjson"

local DEBS = "/run/rmt-debs"
local UNITS = { "nginx", "ssh", "redis-server", "cron", "rsyslog" }
local KEY = "/root/.ssh/rmt_key"
local ALICE = "rmt-alice"
local ALICE_HOME = "/home/" .. ALICE
local ALICE_APP = "/usr/bin/python3 -u " .. ALICE_HOME .. "/app.py"
local TMUX = "tmux -L rmt"
local SSH = "ssh -i " .. KEY .. " -o StrictHostKeyChecking=no"
            .. " -o UserKnownHostsFile=/dev/null -o BatchMode=yes"
            .. " -o LogLevel=ERROR -o ConnectTimeout=10"
local STATE = assert(os.getenv("RESTARTMGR_STATE_DIR"))
local q = helper.quote

-- {===== Small tools

local function sh(cmd)
  local out, ok = helper.sh(cmd .. " 2>&1")
  return out, ok
end

local function must(cmd)
  local out, ok = sh(cmd)
  assert(ok, cmd .. " failed: " .. out)
  return out
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

local function write(path, text, mode)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  if mode then must("chmod " .. mode .. " " .. q(path)) end
end

local function prop(unit, name)
  local v = (helper.sh("systemctl show --value -p " .. name .. " " .. unit
                       .. ".service")):gsub("\n$", "")
  return v
end

local function decode(text)
  local v, _, err = dkjson.decode(text, 1, dkjson.null)
  assert(v, (err or "") .. " in: " .. text)
  return v
end

-- The command line with the environment a login shell would not have:
-- the module path and the store (a `restartmgr` from any login or tmux).
local function cli_words(args)
  local words = { "env", "LUA_CPATH_5_4=" .. q(os.getenv("LUA_CPATH_5_4")),
                  "LUA_PATH_5_4=" .. q(os.getenv("LUA_PATH_5_4")),
                  "RESTARTMGR_STATE_DIR=" .. q(STATE), q(helper.lua),
                  q(helper.cli_script) }
  for _, a in ipairs(args) do words[#words + 1] = q(a) end
  return table.concat(words, " ")
end

local function pids()
  local out = {}
  local p = assert(io.popen("ls -U /proc"))
  for name in p:lines() do
    if name:match("^%d+$") then out[#out + 1] = tonumber(name) end
  end
  p:close()
  table.sort(out)
  return out
end

local function comm(pid)
  return ((read("/proc/" .. pid .. "/comm") or "?"):gsub("\n$", ""))
end

local function start_time(pid)
  local ok, t = pcall(helper.start_time, pid)
  return ok and t or nil
end

-- The systemd cgroup path of a process (the 0:: line of a pure cgroup2
-- container) and the unit it names by systemd's rule: the first
-- component after the slices.
local function cgroup_of(pid)
  local text = read("/proc/" .. pid .. "/cgroup") or ""
  return text:match("0::([^\n]*)") or ""
end

local function unit_of_cgroup(cg)
  for part in cg:gmatch("[^/]+") do
    if not part:match("%.slice$") then return part end
  end
  return nil
end

-- Executable mappings /proc/PID/maps marks "(deleted)", as restartmgr's
-- `stale` defines stale (memfd, SysV shm and devices left out).
local NOT_FILES = { "^/memfd:", "^/SYSV", "^/dev/", "^/%[", "^/anon_hugepage" }
local function deleted_maps(pid)
  local text = read("/proc/" .. pid .. "/maps")
  local files, seen = {}, {}
  for line in (text or ""):gmatch("[^\n]+") do
    local perms, path = line:match("^%S+ (%S+) %S+ %S+ %S+ +(/.-) %(deleted%)$")
    if perms and perms:find("x", 1, true) and not seen[path] then
      local skip = false
      for _, pat in ipairs(NOT_FILES) do
        if path:find(pat) then skip = true end
      end
      if not skip then
        seen[path] = true
        files[#files + 1] = path
      end
    end
  end
  table.sort(files)
  return files
end

-- Ground truth: pid -> { comm, unit, cgroup, files, start } for every
-- process mapping a deleted file, this process excepted.
local function ground_truth()
  local gt, me = {}, helper.self_pid()
  for _, pid in ipairs(pids()) do
    local files = pid ~= me and deleted_maps(pid) or {}
    if #files > 0 then
      local cg = cgroup_of(pid)
      gt[pid] = { comm = comm(pid), cgroup = cg, unit = unit_of_cgroup(cg),
                  files = files, start = start_time(pid) }
    end
  end
  return gt
end

-- Only what was there before and after a run (with the same identity):
-- what started or ended meanwhile (the command's own children) is not
-- comparable.
local function stable(before, after)
  local out = {}
  for pid, p in pairs(before) do
    if after[pid] and after[pid].start == p.start then out[pid] = p end
  end
  return out
end

-- Every entry of `stale --json`, by pid, with the group it was in.
local function reported(j)
  local by_pid, services = {}, {}
  for _, g in ipairs(j.services) do
    services[g.name] = g
    for _, a in ipairs(g.processes) do
      a.group = "services"
      by_pid[a.pid] = a
    end
  end
  for _, a in ipairs(j.programs) do
    a.group = "programs"
    by_pid[a.pid] = a
  end
  for _, a in ipairs(j.not_restartable) do
    a.group = "not_restartable"
    by_pid[a.pid] = a
    if a.service ~= dkjson.null and a.service then
      services[a.service] = services[a.service] or { name = a.service }
    end
  end
  return by_pid, services
end

-- A system .service unit restartmgr lists as a service (a user's manager
-- user@UID.service holds that user's programs).
local function system_service(p)
  return p.unit and p.unit:match("%.service$") and not p.unit:match("^user@")
         and p.unit:gsub("%.service$", "")
end

-- The per-process table of `stale --json` against the ground truth, on
-- stderr; returns the processes stale did not report.
local function compare(gt, j, title)
  local by_pid, services = reported(j)
  local missed, rows = {}, {}
  for pid, p in pairs(gt) do rows[#rows + 1] = pid end
  table.sort(rows)
  io.stderr:write(("\n%s\n%-7s %-16s %-28s %-16s %-18s %s\n"):format(title,
    "PID", "COMM", "UNIT (cgroup)", "STALE SAYS", "AS", "DELETED FILES"))
  for _, pid in ipairs(rows) do
    local p, says = gt[pid], nil
    local svc = system_service(p)
    local a = by_pid[pid]
    if a then
      says = a.group .. (a.service and a.service ~= dkjson.null
                         and (":" .. a.service) or "")
    elseif svc and services[svc] then
      says = "service:" .. svc .. " (folded)"
    end
    if not says or (svc and not services[svc]) then
      missed[#missed + 1] = ("%d %s (%s)"):format(pid, p.comm, p.unit or "?")
    end
    io.stderr:write(("%-7d %-16s %-28s %-16s %-18s %s\n"):format(pid,
      p.comm, p.unit or "-", says and "listed" or "MISSING",
      says or "-", table.concat(p.files, " ")))
  end
  return missed
end

-- The pid of the process whose command line starts with cmd (anchored:
-- the shell running pgrep names the pattern too), of user if given.
local function pid_of(cmd, user)
  return tonumber((helper.sh("pgrep " .. (user and "-u " .. user .. " " or "")
                             .. "-f " .. q("^" .. cmd))))
end

local function wait_for(what, fn, seconds)
  local ok = helper.eventually(fn, seconds or 20)
  assert(ok, "timed out waiting for " .. what .. "; processes:\n"
             .. (sh("ps -eo pid,user,cgroup:60,args --ppid 2 -N")))
end

local function answers()
  local out = {}
  out.nginx = (helper.sh("curl -s -o /dev/null -m 5 -w '%{http_code}' "
                         .. "http://127.0.0.1/")) == "200"
  out["redis-server"] = (helper.sh("redis-cli -h 127.0.0.1 ping 2>/dev/null"))
                        == "PONG\n"
  out.ssh = (helper.sh("ssh-keyscan -T 5 127.0.0.1 2>/dev/null")):find(
              "ssh-", 1, true) ~= nil
  return out
end

-- }=====
-- {===== The server

local S = {}            -- what the setup made: pids, paths

local function setup_server()
  for _, u in ipairs(UNITS) do
    wait_for(u .. " active", function()
      return prop(u, "ActiveState") == "active"
    end, 30)
  end
  must("mkdir -p -m 700 " .. q(STATE))
  -- Keys for root and alice, logins through the real sshd.
  must("mkdir -p -m 700 /root/.ssh && rm -f " .. KEY .. " " .. KEY .. ".pub"
       .. " && ssh-keygen -q -t ed25519 -N '' -f " .. KEY)
  must("cat " .. KEY .. ".pub >> /root/.ssh/authorized_keys")
  must("useradd -m -s /bin/bash " .. ALICE)
  must("mkdir -m 700 " .. ALICE_HOME .. "/.ssh && cp " .. KEY .. ".pub "
       .. ALICE_HOME .. "/.ssh/authorized_keys && chown -R " .. ALICE .. ": "
       .. ALICE_HOME .. "/.ssh")
  S.alice_uid = tonumber((must("id -u " .. ALICE)))
  -- Alice's program (python3 maps zlib), started from her ssh login, its
  -- stdout appended to her log.
  write(ALICE_HOME .. "/app.py", "import os, time, zlib\n"
        .. "while True:\n    print(os.getpid(), time.time(), flush=True)\n"
        .. "    time.sleep(0.2)\n", "644")
  must(SSH .. " " .. ALICE .. "@127.0.0.1 "
       .. q("cd && setsid -f /usr/bin/python3 -u " .. ALICE_HOME
            .. "/app.py >>" .. ALICE_HOME .. "/app.log 2>&1 </dev/null"))
  wait_for("alice's program", function()
    S.alice_pid = pid_of(ALICE_APP, ALICE)
    return S.alice_pid ~= nil
  end)
  S.alice_scope = cgroup_of(S.alice_pid)
  assert.truthy(S.alice_scope:match("/session%-%d+%.scope$"), S.alice_scope)
  -- tmux: a session whose pane's shell runs a job (python3: zlib).
  write("/root/job.py", "import os, time, zlib\n"
        .. "while True:\n    print(os.getpid(), time.time(), flush=True)\n"
        .. "    time.sleep(0.2)\n")
  must("systemd-run --scope -q --unit=rmt-tmux -- " .. TMUX
       .. " new-session -d -s rmt -x 200 -y 50")
  must(TMUX .. " send-keys -t rmt " .. q("/usr/bin/python3 -u /root/job.py"
       .. " >/root/job.log") .. " Enter")
  wait_for("the tmux job", function()
    S.job_pid = pid_of("/usr/bin/python3 -u /root/job.py")
    return S.job_pid ~= nil
  end)
  S.tmux_pid = tonumber((must(TMUX .. " display -p '#{pid}'")))
  S.shell_pid = tonumber((must(TMUX .. " list-panes -t rmt -F '#{pane_pid}'")))
  -- A root perl script in a scope of its own.
  write("/root/loop.pl", "$| = 1;\nwhile (1) { sleep 1 }\n")
  must("systemd-run --scope -q --unit=rmt-perl -- setsid -f /usr/bin/perl "
       .. "/root/loop.pl </dev/null >/dev/null 2>&1")
  wait_for("the perl script", function()
    S.perl_pid = pid_of("/usr/bin/perl /root/loop.pl")
    return S.perl_pid ~= nil
  end)
  S.main = {}
  for _, u in ipairs(UNITS) do S.main[u] = tonumber(prop(u, "MainPID")) end
  for u, ok in pairs(answers()) do assert(ok, u .. " does not answer") end
end

-- The upgrade: the libraries reinstalled from their .deb (dpkg renames
-- the new files over the old ones), and the perl script replaced.
local function upgrade()
  must("ls " .. DEBS .. "/*.deb")
  must("DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 dpkg -i "
       .. DEBS .. "/*.deb")
  write("/root/loop.pl.new", "$| = 1;\n# replaced\nwhile (1) { sleep 1 }\n")
  must("mv /root/loop.pl.new /root/loop.pl")
end

-- }=====

describe("restartmgr stale on a server after an upgrade", function()
  setup(function()
    setup_server()
    upgrade()
  end)

  it("runs in the overlay server, as root under systemd", function()
    assert.equal("systemd\n", read("/proc/1/comm"))
    assert.truthy((must("stat -f -c %T /")):match("^overlay"))
    for _, u in ipairs(UNITS) do
      assert.equal("active", prop(u, "ActiveState"))
      -- Each of them maps a replaced library (cron: libpam; the others
      -- libssl, libcrypto or zlib), the ground truth of what follows.
      assert.is_true(#deleted_maps(S.main[u]) > 0, u)
    end
  end)

  it("lists every process that maps a deleted file, with its unit", function()
    local before = ground_truth()
    local out, err, code = helper.cli{ "stale", "--json" }
    local after = ground_truth()
    assert.equal(1, code)
    local j = decode(out)
    local missed = compare(stable(before, after), j,
                           "stale --json against /proc/*/maps:")
    assert.same({}, missed)
    assert.equal("", err)
    -- Every unit by name, restartable, and the others not as services.
    local _, services = reported(j)
    for _, u in ipairs(UNITS) do
      assert.truthy(services[u], u)
      assert.is_true(services[u].restartable, u)
    end
    -- The text form names the same services.
    out = helper.cli{ "stale" }
    for _, u in ipairs(UNITS) do
      assert.truthy(out:find("\n" .. u .. " ", 1, true), u)
    end
  end)

  it("asks systemd once per listing (one systemctl show)", function()
    -- systemctl wrapped for this test only, in the overlay: each call
    -- logged, then the real one run.
    local real, log = "/usr/bin/systemctl.rmt-real", "/run/rmt-systemctl.log"
    must("mv /usr/bin/systemctl " .. real)
    finally(function() must("mv " .. real .. " /usr/bin/systemctl") end)
    write("/usr/bin/systemctl", "#!/bin/sh\necho \"$*\" >>" .. log
          .. "\nexec " .. real .. " \"$@\"\n", "755")
    os.remove(log)
    local out, _, code = helper.cli{ "stale", "--json" }
    assert.equal(1, code)
    assert.truthy(#decode(out).services >= 4)
    local calls = helper.lines(read(log) or "")
    io.stderr:write("\nsystemctl calls of one `stale --json`:\n  "
                    .. table.concat(calls, "\n  ") .. "\n")
    assert.equal(1, #calls)
    assert.truthy(calls[1]:match("^%-%-system show "))
  end)

  it("lists the replaced perl script", function()
    local out = helper.cli{ "stale", "--json" }
    local by_pid = reported(decode(out))
    assert.truthy(by_pid[S.perl_pid], "perl " .. S.perl_pid .. " not listed")
  end)

  it("gives the same answer from an ssh login as from outside", function()
    local function entries(text)
      local by_pid = reported(decode(text))
      local out = {}
      for pid, a in pairs(by_pid) do
        local reasons = {}
        for _, r in ipairs(a.reasons or {}) do reasons[#reasons + 1] = r end
        table.sort(reasons)
        out[pid] = { service = a.service, type = a.type,
                     restartable = a.restartable,
                     reasons = table.concat(reasons, ","),
                     start = start_time(pid) }
      end
      return out
    end
    local outside = entries((helper.cli{ "stale", "--json" }))
    local text = helper.sh(SSH .. " root@127.0.0.1 "
                           .. q(cli_words{ "stale", "--json" }
                                .. " 2>/dev/null"))
    local inside = entries(text)
    local compared = 0
    for pid, a in pairs(outside) do
      local b = inside[pid]
      if b and a.start and a.start == b.start then
        compared = compared + 1
        a.start, b.start = nil, nil
        assert.same(a, b, "pid " .. pid)
      end
    end
    assert.is_true(compared >= #UNITS)
  end)

  it("--restart --services-only restarts every service in place", function()
    local t0 = os.time()
    local out, err, code = helper.cli{ "stale", "--restart",
                                       "--services-only", "--json" }
    local took = os.time() - t0
    local j = decode(out)
    assert.equal(dkjson.null, j.error, err)
    local results = {}
    for _, g in ipairs(j.services) do results[g.name] = g.result end
    -- Well under one service timeout (20 s), whatever syslog.socket did.
    io.stderr:write(("\nstale --restart --services-only: %d s, exit %d\n")
                    :format(took, code))
    assert.is_true(took < 15, "took " .. took .. " s")
    local problems = {}
    for _, u in ipairs(UNITS) do
      local now = tonumber(prop(u, "MainPID"))
      local state = prop(u, "ActiveState")
      local left = now and deleted_maps(now) or {}
      io.stderr:write(("%-14s result %-10s %s MainPID %s -> %s%s\n"):format(
        u, tostring(results[u]), state, S.main[u], now,
        #left > 0 and " still maps " .. table.concat(left, " ") or ""))
      if results[u] ~= "restarted" or state ~= "active" or not now or
         now == 0 or now == S.main[u] or #left > 0 then
        problems[#problems + 1] = u
      end
    end
    -- No process of those units maps a deleted file any more.
    for pid, p in pairs(ground_truth()) do
      local svc = system_service(p)
      for _, u in ipairs(UNITS) do
        if u == svc then
          problems[#problems + 1] = ("pid %d %s (%s) still maps %s"):format(
            pid, p.comm, u, table.concat(p.files, " "))
        end
      end
    end
    -- They answer, and programs were not touched.
    if not helper.eventually(function()
      for _, ok in pairs(answers()) do if not ok then return false end end
      return true
    end, 10) then
      for u, ok in pairs(answers()) do
        if not ok then problems[#problems + 1] = u .. " does not answer" end
      end
    end
    for what, pid in pairs{ alice = S.alice_pid, tmux = S.tmux_pid,
                            job = S.job_pid } do
      if helper.gone(pid) then problems[#problems + 1] = what .. " stopped" end
    end
    assert.same({}, problems)
    assert.equal(1, code)            -- programs stay stale
  end)

  it("stops a socket-activated unit when its old process has exited",
     function()
    -- syslog.socket starts rsyslog again right after its stop (journald
    -- forwards the stop's own messages): the unit is active again before
    -- it was ever seen inactive.  Stopped means the old rsyslogd exited.
    local old = tonumber(prop("rsyslog", "MainPID"))
    local t0 = os.time()
    local out, err, code = helper.cli{ "restart", "-s", "rsyslog" }
    local took = os.time() - t0
    io.stderr:write(("\nrestart -s rsyslog: %d s, exit %d\n%s%s"):format(
      took, code, out, err))
    assert.equal(0, code)
    assert.is_true(took < 10, "took " .. took .. " s")
    assert.is_true(helper.gone(old))
    assert.equal("active", prop("rsyslog", "ActiveState"))
    local now = tonumber(prop("rsyslog", "MainPID"))
    assert.are_not.equal(old, now)
    assert.are_not.equal(0, now)
    S.main.rsyslog = now
  end)

  it("a full --restart run inside tmux spares its session", function()
    must(TMUX .. " send-keys -t rmt C-c")
    wait_for("the job to stop", function() return helper.gone(S.job_pid) end)
    must(TMUX .. " send-keys -t rmt "
         .. q(cli_words{ "stale", "--restart" } .. " >/root/inside.out 2>&1;"
              .. " echo $? >/root/inside.rc; /usr/bin/python3 -u /root/job.py"
              .. " >/root/job.log") .. " Enter")
    local done = helper.eventually(function()
      return read("/root/inside.rc") ~= nil
    end, 30)
    io.stderr:write(read("/root/inside.out") or "(no output)\n")
    assert(done, "the run inside tmux did not finish")
    assert.is_false(helper.gone(S.tmux_pid), read("/root/inside.out"))
    assert.is_false(helper.gone(S.shell_pid), read("/root/inside.out"))
    wait_for("the job again", function()
      S.job_pid = pid_of("/usr/bin/python3 -u /root/job.py")
      return S.job_pid ~= nil
    end)
  end)

  it("a full --restart spares the tmux pane and keeps the user's program "
     .. "in its scope, still logging", function()
    local log_before = #(read(ALICE_HOME .. "/app.log") or "")
    local out, err = helper.cli{ "stale", "--restart" }
    -- tmux, the pane's shell and its job: the same processes.
    assert.is_false(helper.gone(S.tmux_pid), out .. err)
    assert.is_false(helper.gone(S.shell_pid), out .. err)
    assert.is_false(helper.gone(S.job_pid), out .. err)
    local size = #(read("/root/job.log") or "")
    wait_for("the job to write", function()
      return #(read("/root/job.log") or "") > size
    end, 5)
    -- Alice's program.  Everything inside the container, her ssh login
    -- included, runs under systemd-nspawn's seccomp filter, which this
    -- command (entered with nsenter) does not have: a relaunch would run
    -- her program with less confinement than it had, so it is not
    -- restartable and must be left exactly as it was, in her scope,
    -- logging (docs/linux.md, Relaunch context).  Without a filter it is
    -- relaunched into her scope (c.systemd_*,
    -- user_program_relaunched_into_its_scope).
    local status = read("/proc/" .. S.alice_pid .. "/status") or ""
    if not status:match("\nSeccomp:%s*0\n") then
      assert.matches("not restartable %(seccomp filter%)", out)
      assert.is_false(helper.gone(S.alice_pid), out .. err)
      assert.equal(S.alice_scope, cgroup_of(S.alice_pid))
      wait_for("alice's log to grow", function()
        return #(read(ALICE_HOME .. "/app.log") or "") > log_before
      end, 5)
      return
    end
    -- Without one: a new process of hers, in her session's scope,
    -- appending to the same log.
    local now
    wait_for("alice's program", function()
      now = pid_of(ALICE_APP, ALICE)
      return now ~= nil
    end)
    assert.are_not.equal(S.alice_pid, now, out .. err)
    assert.equal(S.alice_scope, cgroup_of(now))
    wait_for("alice's log to grow from the new process", function()
      local text = read(ALICE_HOME .. "/app.log") or ""
      return #text > log_before and text:find("\n" .. now .. " ", 1, true)
    end, 5)
  end)
end)
