-- SPDX-License-Identifier: MIT
-- 08-stale_spec.lua: `restartmgr stale` and the apt hook, with real
-- libraries replaced by rename, real holders and real runit services.
-- Every run is limited with --path to the test's own directory, so that
-- nothing else on the machine is listed or restarted.
local helper = require "helper"
local dkjson = require "dkjson"

local cli = helper.cli

local function decode(text)
  local v, _, err = dkjson.decode(text, 1, dkjson.null)
  assert(v, err)
  return v
end

local function cols(line)
  local t = {}
  for w in line:gmatch("%S+") do t[#t + 1] = w end
  return t
end

-- The row of pid in a stale table, as columns.
local function row_of(out, pid)
  for _, line in ipairs(helper.lines(out)) do
    local c = cols(line)
    if c[2] == tostring(pid) then return c end
  end
end

-- A service's run command: a holder mapping lib and waiting on a fifo
-- (made here; without it the holder would exit at once).
local function holder_command(lib, fifo)
  assert(os.execute("mkfifo " .. helper.quote(fifo)))
  return table.concat({ helper.quote(helper.lua),
                        helper.quote(helper.holder_script), "map",
                        helper.quote(lib), helper.quote(fifo) }, " ")
end

describe("restartmgr stale", function()
  it("finds a process that maps a library replaced by rename", function()
    local dir <close> = helper.tmpdir()
    local lib = helper.library(dir, "libstale.so")
    local h <close> = helper.spawn_holder{ dir = dir, path = lib, mode = "map" }
    local out, _, code = cli{ "stale", "--path", dir.path }
    assert.equal(0, code)
    assert.equal("No process runs replaced or deleted files.",
                 helper.lines(out)[1])

    helper.replace(lib)
    out, _, code = cli{ "stale", "--path", dir.path }
    assert.equal(1, code)
    assert.same({ "SERVICE", "PID", "USER", "NAME", "RESTART", "REASON",
                  "FILES" }, cols(helper.lines(out)[1]))
    local c = row_of(out, h.pid)
    assert.same({ "-", tostring(h.pid), (helper.sh("id -un"):gsub("\n", "")),
                  "lua5.4", "yes", "-", lib }, c)

    out, _, code = cli{ "stale", "--json", "--path", dir.path }
    assert.equal(1, code)
    local j = decode(out)
    assert.same({ lib }, j.deleted_files)
    assert.same({}, j.services)
    assert.same({}, j.not_restartable)
    assert.is_false(j.restart)
    assert.equal(1, #j.programs)
    local p = j.programs[1]
    assert.equal(h.pid, p.pid)
    assert.equal(helper.start_time(h.pid), p.start_time)
    assert.same({ lib }, p.stale_files)
    assert.is_true(p.restartable)
    assert.equal(dkjson.null, p.result)
    assert.same({ { path = lib, how = { "mapping", "older_inode" } } },
                p.files)
  end)

  it("finds a process whose executable was replaced", function()
    local dir <close> = helper.tmpdir()
    local exe = dir:copy(helper.sh("command -v " .. helper.lua):gsub("\n$", ""),
                         "rm-stale-exe")
    local h <close> = helper.spawn_holder{ dir = dir, path = exe, mode = "exec",
                                           exe = exe }
    helper.replace(exe)
    local out, _, code = cli{ "stale", "--path", dir.path }
    assert.equal(1, code)
    local c = row_of(out, h.pid)
    assert.equal("rm-stale-exe", c[4])
    assert.equal(exe, c[7])
  end)

  it("--restart --dry-run shows the plan and changes nothing", function()
    local dir <close> = helper.tmpdir()
    local lib = helper.library(dir, "libstale.so")
    local h <close> = helper.spawn_holder{ dir = dir, path = lib, mode = "map" }
    helper.replace(lib)
    local out, err, code = cli{ "stale", "--restart", "--dry-run", "--path",
                                dir.path }
    assert.equal(1, code)
    assert.equal("", err)                 -- no progress: nothing ran
    assert.truthy(out:find(("Would restart lua5.4 (pid %d): planned\n")
                           :format(h.pid), 1, true))
    assert.is_false(helper.gone(h.pid))
    assert.equal(helper.start_time(h.pid), h:identity().start_time)
    out, _, code = cli{ "stale", "--path", dir.path }
    assert.equal(1, code)
    assert.truthy(row_of(out, h.pid))
    -- --dry-run alone is a usage error.
    _, _, code = cli{ "stale", "--dry-run" }
    assert.equal(2, code)
  end)

  it("--restart restarts a stale program, which then maps the new file",
     function()
    local dir <close> = helper.tmpdir()
    local lib = helper.library(dir, "libstale.so")
    local h <close> = helper.spawn_holder{ dir = dir, path = lib, mode = "map" }
    helper.replace(lib)
    local out, _, code = cli{ "stale", "--restart", "--json", "--path",
                              dir.path }
    assert.equal(0, code)
    assert.same({ nil, "signal", 15 }, { h:reap() })
    local p = decode(out).programs[1]
    assert.equal(h.pid, p.pid)
    assert.equal("restarted", p.result)
    local new = p.new_pid
    finally(function() helper.kill(new) end)
    assert.are_not.equal(h.pid, new)
    assert.is_false(helper.gone(new))
    out, _, code = cli{ "stale", "--path", dir.path }
    assert.equal(0, code)
  end)

  it("--restart restarts a runit service through its manager", function()
    local dir <close> = helper.tmpdir()
    local lib = helper.library(dir, "libsvc.so")
    local svc <close> = helper.runit_service(dir, "rm-stale-svc",
      holder_command(lib, dir.path .. "/svc.fifo"))
    local env = { SVDIR = svc.svdir }
    helper.replace(lib)
    local out, _, code = cli({ "stale", "--path", dir.path }, { env = env })
    assert.equal(1, code)
    local c = row_of(out, svc.first_pid)
    assert.equal("rm-stale-svc", c[1])
    assert.equal("yes", c[5])

    out, _, code = cli({ "stale", "--restart", "--json", "--path", dir.path },
                       { env = env })
    assert.equal(0, code)
    local j = decode(out)
    assert.equal(1, #j.services)
    local g = j.services[1]
    assert.equal("rm-stale-svc", g.name)
    assert.is_true(g.restartable)
    assert.equal("restarted", g.result)
    assert.equal(svc.first_pid, g.processes[1].pid)
    assert.equal("service", g.processes[1].type)
    assert.same({ lib }, g.processes[1].stale_files)
    assert.same({}, j.programs)
    assert.equal(dkjson.null, j.error)
    local now = svc:wait_up(svc.first_pid)
    assert.are_not.equal(svc.first_pid, now)
    assert.is_true(helper.gone(svc.first_pid))
    out, _, code = cli({ "stale", "--path", dir.path }, { env = env })
    assert.equal(0, code)
  end)

  it("leaves a program under a seccomp filter alone, and says why",
     function()
    local dir <close> = helper.tmpdir()
    local lib = helper.library(dir, "libseccomp.so")
    -- python3 maps the library (r-x, as the loader would), then installs
    -- a seccomp filter (one that allows everything: a relaunch still
    -- could not give it back).
    local script = dir:file("confined.py", [[
import ctypes, mmap, os, sys, time
f = open(sys.argv[1], "rb")
m = mmap.mmap(f.fileno(), 0, flags=mmap.MAP_PRIVATE,
              prot=mmap.PROT_READ | mmap.PROT_EXEC)    # like a library
f.close()
class Insn(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte),
                ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]
class Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(Insn))]
allow = (Insn * 1)(Insn(0x06, 0, 0, 0x7fff0000))
prog = Prog(1, allow)
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(38, 1, 0, 0, 0) == 0                 # no_new_privs
assert libc.prctl(22, 2, ctypes.byref(prog), 0, 0) == 0  # the filter
print(os.getpid(), flush=True)
time.sleep(1000)
]])
    local pipe = assert(io.popen(("exec setsid python3 %s %s </dev/null")
      :format(helper.quote(script), helper.quote(lib)), "r"))
    local pid = assert(tonumber(pipe:read("l")))
    local j
    finally(function()                  -- (busted keeps one finally)
      for _, p in ipairs(j and j.programs or {}) do   -- had it relaunched
        if p.new_pid ~= dkjson.null then helper.kill(p.new_pid) end
      end
      helper.kill(pid)
      pipe:close()
    end)
    helper.replace(lib)
    local out, _, code = cli{ "stale", "--restart", "--json", "--path",
                              dir.path }
    j = decode(out)
    assert.equal(1, code)
    assert.same({}, j.programs)
    assert.equal(1, #j.not_restartable)
    assert.equal(pid, j.not_restartable[1].pid)
    assert.equal("not restartable (seccomp filter)", j.not_restartable[1].why)
    assert.is_false(helper.gone(pid))
    out, _, code = cli{ "stale", "--path", dir.path }
    assert.equal(1, code)
    assert.truthy(out:find("not restartable (seccomp filter)", 1, true), out)
  end)

  it("never restarts a critical service, nor programs with --services-only",
     function()
    local dir <close> = helper.tmpdir()
    local lib = helper.library(dir, "libcrit.so")
    local svc <close> = helper.runit_service(dir, "rm-crit-svc",
      holder_command(lib, dir.path .. "/svc.fifo"))
    local h <close> = helper.spawn_holder{ dir = dir, path = lib, mode = "map" }
    local env = { SVDIR = svc.svdir,
                  RESTARTMGR_CRITICAL_SERVICES = "rm-crit-*" }
    helper.replace(lib)
    local out, _, code = cli({ "stale", "--restart", "--services-only",
                               "--json", "--path", dir.path }, { env = env })
    assert.equal(1, code)
    local j = decode(out)
    assert.same({}, j.services)
    assert.same({}, j.programs)
    local why = {}
    for _, a in ipairs(j.not_restartable) do why[a.pid] = a.why end
    assert.equal("critical_service", why[svc.first_pid])
    assert.equal("not a service", why[h.pid])
    assert.equal(svc.first_pid, svc:pid())
    assert.is_false(helper.gone(svc.first_pid))
    assert.is_false(helper.gone(h.pid))
  end)

  it("exits 2 on bad usage", function()
    local _, err, code = cli{ "stale", "/some/file" }
    assert.equal(2, code)
    assert.equal("restartmgr: stale takes no FILE arguments\n",
                 err:match("^[^\n]*\n"))
    _, _, code = cli{ "stale", "--restart", "--timeout", "x" }
    assert.equal(2, code)
    for _, bad in ipairs{ "0", "-1", "1.5", "x", "86401" } do
      _, err, code = cli{ "stale", "--time-limit", bad }
      assert.equal(2, code)
      assert.equal("restartmgr: --time-limit needs a whole number of seconds"
                   .. " from 1 to 86400\n", err:match("^[^\n]*\n"))
    end
  end)

  it("takes a --time-limit and lists as usual within it", function()
    local dir <close> = helper.tmpdir()
    local lib = helper.library(dir, "liblimit.so")
    local h <close> = helper.spawn_holder{ dir = dir, path = lib, mode = "map" }
    helper.replace(lib)
    local out, _, code = cli{ "stale", "--time-limit", "30", "--path",
                              dir.path }
    assert.equal(1, code)
    assert.truthy(row_of(out, h.pid))
  end)
end)

describe("the apt hook lua/cli/99restartmgr", function()
  -- The command apt would run, read from the snippet by apt itself.
  local function hook_command()
    local out, ok = helper.sh("apt-config -c lua/cli/99restartmgr dump")
    assert(ok, "apt-config cannot read the snippet")
    for line in out:gmatch("[^\n]+") do
      local cmd = line:match('^DPkg::Post%-Invoke:: "(.*restartmgr stale.*)";$')
      if cmd then return cmd end
    end
    error("no restartmgr command in the snippet")
  end

  -- Runs the hook with restartmgr on PATH, limited to dir (a wrapper
  -- that adds --path, so that the real command runs).
  local function run_hook(dir, env)
    local bin = dir.path .. "/bin"
    assert(os.execute("mkdir -p " .. helper.quote(bin)))
    local w = assert(io.open(bin .. "/restartmgr", "w"))
    w:write("#!/bin/sh\nexec ", helper.quote(helper.lua), " ",
            helper.quote(helper.cli_script), ' "$@" --path ',
            helper.quote(dir.path), "\n")
    w:close()
    assert(os.execute("chmod 755 " .. helper.quote(bin .. "/restartmgr")))
    env.PATH = bin .. ":" .. os.getenv("PATH")
    return helper.run({ "sh", "-c", hook_command() }, { env = env })
  end

  it("lists stale services by default and restarts them only when asked",
     function()
    local dir <close> = helper.tmpdir()
    local lib = helper.library(dir, "libhook.so")
    local svc <close> = helper.runit_service(dir, "rm-hook-svc",
      holder_command(lib, dir.path .. "/svc.fifo"))
    helper.replace(lib)
    local none = dir:file("apt-none.conf", "")
    local out, _, code = run_hook(dir, { SVDIR = svc.svdir,
                                         APT_CONFIG = none })
    assert.equal(0, code)                 -- never makes dpkg fail
    assert.equal("rm-hook-svc", row_of(out, svc.first_pid)[1])
    assert.is_nil(out:find("Restarted", 1, true))
    assert.equal(svc.first_pid, svc:pid())

    local conf = dir:file("apt-restart.conf",
                          'RestartMgr::Restart "services";\n')
    out, _, code = run_hook(dir, { SVDIR = svc.svdir, APT_CONFIG = conf })
    assert.equal(0, code)
    assert.truthy(out:find("Restarted service rm-hook-svc: restarted\n", 1,
                           true))
    assert.are_not.equal(svc.first_pid, svc:wait_up(svc.first_pid))
  end)

  -- A restartmgr that hangs where its own limit cannot end it (fault
  -- injection: `exec sleep`): timeout ends it 10 s after
  -- RestartMgr::TimeLimit, and dpkg goes on with exit 0.
  it("holds dpkg for a bounded time and never fails it", function()
    local dir <close> = helper.tmpdir()
    local bin = dir.path .. "/bin"
    assert(os.execute("mkdir -p " .. helper.quote(bin)))
    local w = assert(io.open(bin .. "/restartmgr", "w"))
    w:write("#!/bin/sh\nexec sleep 600\n")
    w:close()
    assert(os.execute("chmod 755 " .. helper.quote(bin .. "/restartmgr")))
    local conf = dir:file("apt-limit.conf", 'RestartMgr::TimeLimit "1";\n')
    local t0 = os.time()
    local _, _, code = helper.run({ "timeout", "60", "sh", "-c",
                                    hook_command() },
                                  { env = { APT_CONFIG = conf,
                                            PATH = bin .. ":"
                                                   .. os.getenv("PATH") } })
    local took = os.time() - t0
    assert.equal(0, code)
    assert.is_true(took >= 10 and took <= 20, "took " .. took .. " s")
  end)
end)
