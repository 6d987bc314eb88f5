-- SPDX-License-Identifier: MIT
-- 11-restart_spec.lua: restart registrations (rm.register_restart,
-- rm.restart_registration, s:register{ processes = { { restart = } } })
-- and the reasons a restart failed (s:restart's failures, s:list's
-- restart field).
local helper = require "helper"
local rm = require "restartmgr"

local raises, fails = helper.raises, helper.fails

describe("rm.register_restart{}", function()
  after_each(function() rm.register_restart{ argv = { "/bin/true" } } end)

  it("raises on misuse", function()
    raises("field 'argv' is required", function() rm.register_restart{} end)
    raises("invalid option 'args'",
           function() rm.register_restart{ args = {} } end)
    raises("string expected for field 'argv'[1], got number",
           function() rm.register_restart{ argv = { 1 } } end)
    raises("field 'argv' must be an array of strings",
           function() rm.register_restart{ argv = { x = "/bin/true" } } end)
    raises("string expected for field 'cwd', got boolean",
           function()
             rm.register_restart{ argv = { "/bin/true" }, cwd = true }
           end)
  end)

  it("refuses bad commands and stores nothing", function()
    local me = helper.self_pid()
    rm.register_restart{ argv = { "/bin/true" } }
    fails("ERROR_BAD_ARGUMENTS", "register_restart",
          rm.register_restart{ argv = {} })
    fails("ERROR_BAD_ARGUMENTS", "register_restart",
          rm.register_restart{ argv = { "bin/sleep" } })
    fails("ERROR_BAD_ARGUMENTS", "register_restart",
          rm.register_restart{ argv = { "/bin/sl\255eep" } })
    fails("ERROR_BAD_ARGUMENTS", "register_restart",
          rm.register_restart{ argv = { "/bin/sleep", "a\0b" } })
    fails("ERROR_BAD_ARGUMENTS", "register_restart",
          rm.register_restart{ argv = { "/" .. ("a"):rep(5000) } })
    fails("ERROR_BAD_ARGUMENTS", "register_restart",
          rm.register_restart{ argv = { "/bin/sleep" }, cwd = "tmp" })
    -- The earlier registration is untouched.
    assert.same({ "/bin/true" }, assert(rm.restart_registration(me)).argv)
  end)

  it("registers the calling process, and rm.restart_registration reads it",
     function()
    local me = helper.self_pid()
    assert.is_true(rm.register_restart{ argv = { "/bin/sleep", "10 s" },
                                        cwd = "/tmp" })
    local r = assert(rm.restart_registration(me))
    assert.same({ pid = me, start_time = helper.start_time(me),
                  argv = { "/bin/sleep", "10 s" }, cwd = "/tmp", flags = 0 },
                r)
    fails("ERROR_FILE_NOT_FOUND", "restart_registration",
          rm.restart_registration(1))
  end)
end)

describe("session:register{} with restart =", function()
  it("registers a holder's restart command with its process", function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("held.txt", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = path }
    local s <close> = assert(rm.start_session())
    local id = h:identity()
    raises("table expected for processes[1].restart, got string",
           function() s:register{ processes = { { pid = id.pid,
             start_time = id.start_time, restart = "/bin/true" } } } end)
    raises("processes[1].cwd needs processes[1].restart",
           function() s:register{ processes = { { pid = id.pid,
             start_time = id.start_time, cwd = "/" } } } end)
    -- A bad command registers nothing: neither it nor the process.
    local ok, msg, code = s:register{ processes = { { pid = id.pid,
      start_time = id.start_time, restart = { "relative" } } } }
    assert.is_nil(ok)
    assert.equal("ERROR_BAD_ARGUMENTS", code)
    assert.truthy(msg:find("restart of process " .. id.pid, 1, true), msg)
    assert.same({}, (assert(s:list())))
    fails("ERROR_FILE_NOT_FOUND", "restart_registration",
          rm.restart_registration(id.pid))

    assert.is_true(s:register{ processes = { { pid = id.pid,
      start_time = id.start_time, restart = { "/bin/true", "x" },
      cwd = dir.path } } })
    assert.same({ pid = id.pid, start_time = id.start_time,
                  argv = { "/bin/true", "x" }, cwd = dir.path, flags = 0 },
                assert(rm.restart_registration(id.pid)))
    local apps = assert(s:list())
    assert.equal(1, #apps)
    assert.is_true(apps[1].restartable)
    assert.is_nil(apps[1].restart)      -- no restart tried yet
  end)

  it("refuses another user's process (pid 1) with ERROR_ACCESS_DENIED",
     function()
    local out, ok = helper.lua_child([[
      local rm = require "restartmgr"
      local s <close> = assert(rm.start_session())
      local _, _, code = s:register{ processes = { { pid = 1,
        start_time = rm.process(1).start_time, restart = { "/bin/true" } } } }
      io.write(tostring(code))
    ]])
    assert.is_true(ok, out)
    if helper.sh("id -u"):match("^0") then
      assert.equal("nil", out)           -- root may register for anyone
    else
      assert.equal("ERROR_ACCESS_DENIED", out)
    end
  end)
end)

-- Root relaunching root drops the loader's and interpreters' variables,
-- and the specs always run with LUA_PATH_5_4 and LUA_CPATH_5_4 set
-- (spec/busted-lua.sh): as root, every relaunch here notes it.
local sanitized = helper.sh("id -u"):match("^0%s") and true or nil

describe("session:restart() failures", function()
  it("say why each entry could not be restarted", function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("held.txt", "x")
    local lua = dir:copy(helper.sh("command -v " .. helper.lua):gsub("\n$", ""),
                         "lua-copy")
    local h <close> = helper.spawn_holder{ dir = dir, path = path, exe = lua }
    local s <close> = assert(rm.start_session())
    assert(s:register{ files = { path } })
    assert.is_true(assert(s:list())[1].restartable)
    assert.is_true(s:shutdown{ timeout = 10 })
    assert.is_true(helper.wait_gone(h.pid))
    h:reap()
    os.remove(lua)                       -- its program is gone
    local ok, msg, code, failures = s:restart()
    assert.is_nil(ok)
    assert.equal("ERROR_FAIL_RESTART", code)
    assert.equal(1, #failures)
    assert.same({ pid = h.pid, start_time = failures[1].start_time,
                  name = "lua-copy", failure = "no_executable", error = 2,
                  message = "no executable to start (No such file or "
                            .. "directory)" },
                failures[1])
    assert.truthy(msg:find("^restart: "), msg)
    assert.truthy(msg:find("lua-copy (pid " .. h.pid .. ") no executable "
                           .. "to start (No such file or directory)", 1,
                           true), msg)
    local apps = assert(s:list())
    assert.same({ stopped = true, error_on_restart = true }, apps[1].status)
    assert.same({ failure = "no_executable", error = 2,
                  notes = { env_sanitized = sanitized } }, apps[1].restart)
  end)

  it("report what a successful restart noticed", function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("held.txt", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = path }
    local s <close> = assert(rm.start_session())
    local id = h:identity()
    local argv = { helper.sh("command -v " .. helper.lua):gsub("\n$", ""),
                   helper.holder_script, "open", path,
                   dir.path .. "/again.fifo" }
    assert(helper.sh("mkfifo " .. helper.quote(argv[5])))
    assert.is_true(s:register{ files = { path }, processes = { {
      pid = id.pid, start_time = id.start_time, restart = argv } } })
    assert.is_true(s:shutdown{ timeout = 10 })
    h:reap()
    assert.is_true(s:restart())
    local new
    for _, a in ipairs(assert(s:list())) do
      if a.status.restarted then new = a end
    end
    finally(function() helper.kill(new.pid) end)
    assert.is_true(new.status.running)
    assert.same({ error = 0, notes = { registered = true,
                                       env_sanitized = sanitized } },
                new.restart)
    -- The relaunched process carries the registration on.
    assert.same(argv, assert(rm.restart_registration(new.pid)).argv)
  end)
end)
