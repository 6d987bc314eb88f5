-- SPDX-License-Identifier: MIT
-- 07-cli_spec.lua: the restartmgr command (lua/cli/restartmgr), with real
-- processes: who, shutdown, restart, session, help and version.  stale and
-- the apt hook are in 08-stale_spec.lua.
local helper = require "helper"
local dkjson = require "dkjson"

-- JSON as the command prints it, parsed by an independent decoder (null
-- stays distinct from absent; integers stay integers).
local json = { null = dkjson.null }
function json.decode(text)
  local v, _, err = dkjson.decode(text, 1, dkjson.null)
  assert(v, err)
  return v
end

local cli = helper.cli

-- Splits a table row on runs of spaces.
local function cols(line)
  local t = {}
  for w in line:gmatch("%S+") do t[#t + 1] = w end
  return t
end

local function whoami()
  return (helper.sh("id -un"):gsub("\n$", ""))
end

describe("restartmgr who", function()
  it("exits 0 and prints one row per process and file when in use",
     function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("held.txt", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = path }
    local out, err, code = cli{ "who", path }
    assert.equal(0, code)
    assert.equal("", err)
    local lines = helper.lines(out)
    assert.equal(2, #lines)
    assert.same({ "PID", "USER", "TYPE", "SERVICE", "NAME", "HOW", "REASON",
                  "FILE" }, cols(lines[1]))
    assert.same({ tostring(h.pid), whoami(), helper.holder_type, "-",
                  "lua5.4", "open", "-", path }, cols(lines[2]))
  end)

  it("exits 1 and prints nothing when no process uses the files",
     function()
    local dir <close> = helper.tmpdir()
    local out, err, code = cli{ "who", dir:file("free.txt", "x") }
    assert.same({ "", "", 1 }, { out, err, code })
  end)

  it("reports mapped libraries, executables and older copies", function()
    local dir <close> = helper.tmpdir()
    local lib = helper.library(dir, "libheld.so")
    local m <close> = helper.spawn_holder{ dir = dir, path = lib, mode = "map" }
    local exe = dir:copy(helper.sh("command -v " .. helper.lua):gsub("\n$", ""),
                         "rm-exe-app")
    local x <close> = helper.spawn_holder{ dir = dir, path = exe, mode = "exec",
                                           exe = exe }
    local old = dir:file("replaced.txt", "old")
    local o <close> = helper.spawn_holder{ dir = dir, path = old }
    helper.replace(old)
    local out, _, code = cli{ "who", lib, exe, old }
    assert.equal(0, code)
    local how = {}
    for _, line in ipairs(helper.lines(out)) do
      local c = cols(line)
      how[tonumber(c[1]) or 0] = c[6]
    end
    assert.equal("mapped", how[m.pid])
    assert.equal("exe", how[x.pid])
    assert.equal("open,older-inode", how[o.pid])
  end)

  it("names the REASON of a critical entry", function()
    local dir <close> = helper.tmpdir()
    local exe = dir:copy(helper.sh("command -v " .. helper.lua):gsub("\n$", ""),
                         "rmcritapp")
    local path = dir:file("held.txt", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = path, exe = exe }
    local env = { RESTARTMGR_CRITICAL_PROCESSES = "rmcritapp" }
    local out, _, code = cli({ "who", path }, { env = env })
    assert.equal(0, code)
    local c = cols(helper.lines(out)[2])
    assert.equal(tostring(h.pid), c[1])
    assert.equal("critical", c[3])
    assert.equal("critical_process", c[7])
  end)

  it("reads newline-separated paths from stdin with -, 30,000 of them",
     function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("held.txt", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = path }
    local input = { path }
    for i = 2, 30000 do                    -- distinct files nobody holds
      input[i] = dir.path .. "/free" .. i
      assert(io.open(input[i], "w")):close()
    end
    local out, err, code = cli({ "who", "-" },
                               { stdin = table.concat(input, "\n") .. "\n" })
    assert.equal(0, code)
    assert.equal("", err)
    assert.equal(2, #helper.lines(out))
    assert.equal(tostring(h.pid), cols(helper.lines(out)[2])[1])
  end)

  it("reports a missing path and a directory by name, and checks the rest",
     function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("held.txt", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = path }
    local gone = dir.path .. "/no-such-file"
    local out, err, code = cli{ "who", gone, dir.path, path }
    assert.equal(0, code)
    assert.equal("restartmgr: " .. gone .. ": No such file or directory\n"
                 .. "restartmgr: " .. dir.path
                 .. ": a directory cannot be registered\n", err)
    assert.equal(tostring(h.pid), cols(helper.lines(out)[2])[1])
    -- Only a missing path: reported, and nothing in use (fuser's 1).
    out, err, code = cli{ "who", gone }
    assert.same({ "", "restartmgr: " .. gone .. ": No such file or directory\n",
                  1 }, { out, err, code })
  end)

  it("shows control characters in names as \\xNN, never raw", function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("evil\27[31mred", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = path }
    local out, _, code = cli{ "who", path }
    assert.equal(0, code)
    assert.is_nil(out:find("\27", 1, true))
    assert.equal(dir.path .. "/evil\\x1b[31mred",
                 cols(helper.lines(out)[2])[8])
    out = cli{ "who", "--json", path }
    assert.equal(path, json.decode(out).processes[1].files[1].path)
  end)

  it("resolves relative paths from the current directory", function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("held.txt", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = path }
    local out, _, code = cli({ "who", "held.txt" }, { cwd = dir.path })
    assert.equal(0, code)
    assert.equal(path, cols(helper.lines(out)[2])[8])
  end)

  it("prints JSON with the documented fields", function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("held.txt", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = path }
    local gone = dir.path .. "/gone"
    local out, _, code = cli{ "who", "--json", path, gone, dir.path }
    assert.equal(0, code)
    local j = json.decode(out)
    assert.same({ path, gone }, j.files)
    assert.same({ gone }, j.missing)
    assert.same({ { path = dir.path,
                    reason = "a directory cannot be registered" } }, j.skipped)
    assert.is_true(j.in_use)
    assert.same({}, j.reboot)
    assert.equal(1, #j.processes)
    local p = j.processes[1]
    assert.equal(h.pid, p.pid)
    assert.equal(helper.start_time(h.pid), p.start_time)
    assert.equal("lua5.4", p.name)
    assert.equal(helper.holder_type, p.type)
    assert.equal(json.null, p.service)
    assert.is_true(p.restartable)
    assert.same({ "running" }, p.status)
    assert.same({}, p.reasons)
    assert.equal(whoami(), p.user)
    assert.equal(tonumber((helper.sh("id -u"))), p.uid)
    assert.same({ { path = path, how = { "open_file" } } }, p.files)
    -- Nothing in use: in_use false, exit 1.
    out, _, code = cli{ "who", "--json", dir:file("free", "") }
    assert.equal(1, code)
    assert.is_false(json.decode(out).in_use)
  end)

  it("exits 2 on bad usage", function()
    local out, err, code = cli{ "who" }
    assert.equal(2, code)
    assert.equal("", out)
    assert.equal("restartmgr: who needs at least one FILE (or -, or --tree DIR)\n",
                 err:match("^[^\n]*\n"))
    out, err, code = cli{ "who", "--bogus", "/x" }
    assert.equal(2, code)
    assert.equal("restartmgr: unknown option --bogus\n", err:match("^[^\n]*\n"))
  end)
end)

describe("restartmgr shutdown and restart", function()
  it("shutdown stops the holder, with plain progress lines off a terminal",
     function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("held.txt", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = path }
    local out, err, code = cli{ "shutdown", "--timeout", "10", path }
    assert.equal(0, code)
    assert.same({ nil, "signal", 15 }, { h:reap() })
    assert.equal("stopping 0%\nstopping 100%\n", err)
    local lines = helper.lines(out)
    assert.same({ "PID", "TYPE", "SERVICE", "NAME", "STATUS" }, cols(lines[1]))
    assert.same({ tostring(h.pid), helper.holder_type, "-", "lua5.4",
                  "stopped" }, cols(lines[2]))
  end)

  it("draws a progress bar on a terminal", function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("held.txt", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = path }
    -- script(1) gives the command a pseudo-terminal (stdout and stderr).
    local inner = table.concat({ "exec", helper.quote(helper.lua),
      helper.quote(helper.cli_script), "shutdown", helper.quote(path) }, " ")
    local out, _, code = helper.run{ "script", "-qec", inner, "/dev/null" }
    assert.equal(0, code)
    assert.same({ nil, "signal", 15 }, { h:reap() })
    assert.truthy(out:find("\rstopping   [" .. ("."):rep(30) .. "]   0%", 1,
                           true))
    assert.truthy(out:find("\rstopping   [" .. ("#"):rep(30) .. "] 100%", 1,
                           true))
  end)

  it("restart stops and starts again, and reports it as JSON", function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("held.txt", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = path }
    local out, err, code = cli{ "restart", "--json", path }
    assert.equal(0, code)
    assert.equal("stopping 0%\nstopping 100%\nstarting 0%\nstarting 100%\n",
                 err)
    assert.same({ nil, "signal", 15 }, { h:reap() })
    local j = json.decode(out)
    assert.is_true(j.ok)
    assert.equal(json.null, j.error)
    assert.equal(1, #j.processes)
    local p = j.processes[1]
    finally(function() helper.kill(p.pid) end)
    assert.same({ "restarted", "running", "stopped" }, p.status)
    assert.are_not.equal(h.pid, p.pid)         -- the relaunched holder
    assert.is_false(helper.gone(p.pid))
  end)

  it("takes processes by --pid and exits 1 when one does not stop",
     function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("held.txt", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = path,
                                           mode = "stubborn" }
    local out, _, code = cli{ "shutdown", "--json", "--timeout", "0.3",
                              "--pid", tostring(h.pid) }
    assert.equal(1, code)
    local j = json.decode(out)
    assert.is_false(j.ok)
    assert.equal("ERROR_FAIL_SHUTDOWN", j.error.code)
    assert.same({ "error_on_stop", "running" }, j.processes[1].status)
    assert.is_false(helper.gone(h.pid))
    out, _, code = cli{ "shutdown", "--force", "--timeout", "0.3", "-p",
                        tostring(h.pid) }
    assert.equal(0, code)
    assert.same({ nil, "signal", 9 }, { h:reap() })
  end)

  it("restarts a runit service given by --service, through sv", function()
    local dir <close> = helper.tmpdir()
    local fifo = dir.path .. "/svc.fifo"
    assert(os.execute("mkfifo " .. helper.quote(fifo)))
    local svc <close> = helper.runit_service(dir, "rm-cli-svc",
      table.concat({ helper.quote(helper.lua),
                     helper.quote(helper.holder_script), "none", "/",
                     helper.quote(fifo) }, " "))
    local out, _, code = cli({ "restart", "--json", "-s", "rm-cli-svc" },
                             { env = { SVDIR = svc.svdir } })
    assert.equal(0, code)
    local p = json.decode(out).processes[1]
    assert.equal("rm-cli-svc", p.service)
    assert.equal("service", p.type)
    assert.same({ "restarted", "running", "stopped" }, p.status)
    local now = svc:wait_up(svc.first_pid)
    assert.are_not.equal(svc.first_pid, now)
    assert.is_true(helper.gone(svc.first_pid))
  end)

  it("names a dead pid, and exits 2 on bad usage", function()
    local pid = assert(tonumber((helper.sh("echo $$"))))
    local out, err, code = cli{ "shutdown", "--pid", tostring(pid) }
    assert.same({ "", ("restartmgr: register: processes[1]: pid %d is not "
                       .. "running\n"):format(pid), 3 }, { out, err, code })
    _, err, code = cli{ "restart" }
    assert.equal(2, code)
    assert.equal("restartmgr: nothing to restart: give FILEs, --pid or "
                 .. "--service\n", err:match("^[^\n]*\n"))
    _, err, code = cli{ "shutdown", "--timeout", "-1", "/x" }
    assert.equal(2, code)
    assert.equal("restartmgr: --timeout needs a positive number of seconds "
                 .. "up to 4294967, not -1\n", err:match("^[^\n]*\n"))
    -- Out of the library's range: a usage error, not a traceback.
    local out2
    out2, err, code = cli{ "shutdown", "--timeout", "1e300", "/x" }
    assert.same({ "", 2 }, { out2, code })
    assert.equal("restartmgr: --timeout needs a positive number of seconds "
                 .. "up to 4294967, not 1e300\n", err:match("^[^\n]*\n"))
    out2, err, code = cli{ "shutdown", "--pid", "99999999999", "/x" }
    assert.same({ "", 2 }, { out2, code })
    assert.equal("restartmgr: --pid needs a process id (1 to 4294967295), "
                 .. "not 99999999999\n", err:match("^[^\n]*\n"))
  end)
end)

describe("restartmgr session", function()
  it("shows the live sessions of the store, and exits 1 with none",
     function()
    local dir <close> = helper.tmpdir()
    local store = dir.path .. "/store"
    assert(os.execute("mkdir -m 700 " .. helper.quote(store)))
    local env = { RESTARTMGR_STATE_DIR = store }
    local out, _, code = cli({ "session" }, { env = env })
    assert.same({ "", 1 }, { out, code })

    -- A second process starts a session, registers, and waits.
    local fifo = dir.path .. "/wait"
    assert(os.execute("mkfifo " .. helper.quote(fifo)))
    local held = dir.path .. "/registered file"
    local code_text = ([[
      local rm = require "restartmgr"
      local s = assert(rm.start_session())
      assert(s:register{ files = { %q }, services = { "websvc" } })
      local f = io.open("/proc/self/stat"); local pid = f:read("n"); f:close()
      print(s.key .. " " .. pid); io.stdout:flush()
      io.open(%q):read("a")]]):format(held, fifo)
    local child = assert(io.popen("exec env RESTARTMGR_STATE_DIR="
      .. helper.quote(store) .. " " .. helper.quote(helper.lua) .. " -e "
      .. helper.quote(code_text)))
    local key, pid = child:read("l"):match("^(%x+) (%d+)$")
    pid = tonumber(pid)
    finally(function()                 -- our child: its pid is ours
      os.execute("kill " .. pid)
      child:close()
    end)

    out, _, code = cli({ "session" }, { env = env })
    assert.equal(0, code)
    local lines = helper.lines(out)
    assert.same({ "KEY", "OWNER", "SHUTDOWN", "FILES", "PROCS", "SERVICES",
                  "OWNER", "NAME" }, cols(lines[1]))
    assert.same({ key, tostring(pid), "no", "1", "0", "1", "lua5.4" },
                cols(lines[2]))

    out, _, code = cli({ "session", "--verbose" }, { env = env })
    assert.equal(0, code)
    assert.truthy(out:find("    file     " .. held .. "\n", 1, true))
    assert.truthy(out:find("    service  websvc\n", 1, true))

    out, _, code = cli({ "session", "--json" }, { env = env })
    assert.equal(0, code)
    local j = json.decode(out)
    assert.equal(1, #j.sessions)
    local x = j.sessions[1]
    assert.equal(key, x.key)
    assert.equal(pid, x.owner_pid)
    assert.equal(helper.start_time(pid), x.owner_start_time)
    assert.same({ held }, x.files)
    assert.same({ "websvc" }, x.services)
    assert.same({}, x.processes)
    assert.is_false(x.shutdown_called)
    assert.equal(0, x.filters)
    assert.equal(0, x.acted)
  end)
end)

describe("restartmgr help and version", function()
  it("has --help for every command, and --version", function()
    for _, c in ipairs{ "who", "stale", "shutdown", "restart", "session" } do
      local out, err, code = cli{ c, "--help" }
      assert.equal(0, code)
      assert.equal("", err)
      assert.truthy(out:find("^usage: restartmgr " .. c)
                    or out:find("\n       restartmgr " .. c .. " ", 1, true))
      assert.truthy(out:find("Exit status", 1, true))
    end
    local out, _, code = cli{ "--help" }
    assert.equal(0, code)
    assert.truthy(out:find("^usage: restartmgr COMMAND"))
    out, _, code = cli{ "--version" }
    assert.same({ "restartmgr 0.1.0 (restartmgr 0.1.0)\n", 0 }, { out, code })
    local _, err
    _, err, code = cli{}
    assert.equal(2, code)
    assert.truthy(err:find("^usage: restartmgr COMMAND"))
    _, err, code = cli{ "frobnicate" }
    assert.equal(2, code)
    assert.equal("restartmgr: unknown command frobnicate\n",
                 err:match("^[^\n]*\n"))
  end)

  it("examples/whouses.lua points to restartmgr who", function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("held.txt", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = path }
    local out, err, code = helper.run{ helper.lua, "examples/whouses.lua",
                                       path }
    assert.equal(0, code)
    assert.equal("whouses.lua is now `restartmgr who` (lua/cli/restartmgr)\n",
                 err)
    assert.equal(tostring(h.pid), cols(helper.lines(out)[2])[1])
  end)
end)
