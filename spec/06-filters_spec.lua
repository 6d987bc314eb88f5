-- SPDX-License-Identifier: MIT
-- 06-filters_spec.lua: session:add_filter{}, :remove_filter{}, :filters().
local helper = require "helper"
local rm = require "restartmgr"

local raises, fails = helper.raises, helper.fails

describe("session filters", function()
  it("start empty", function()
    local s <close> = assert(rm.start_session())
    assert.same({}, assert(s:filters()))
  end)

  it("round-trip every selector, in the order added", function()
    local s <close> = assert(rm.start_session())
    local me = rm.process(helper.self_pid())
    assert.is_true(s:add_filter{ file = "/usr/bin/app", action = "no_restart" })
    assert.is_true(s:add_filter{ process = me, action = "no_shutdown" })
    assert.is_true(s:add_filter{ service = "cron", action = "no_restart" })
    assert.is_true(s:add_filter{ process = { pid = 1, start_time = 7 },
                                 action = "no_restart" })
    assert.same({
      { action = "no_restart", file = "/usr/bin/app" },
      { action = "no_shutdown", process = me },
      { action = "no_restart", service = "cron" },
      { action = "no_restart", process = { pid = 1, start_time = 7 } },
    }, assert(s:filters()))

    assert.is_true(s:remove_filter{ process = me })
    assert.is_true(s:remove_filter{ file = "/usr/bin/app" })
    assert.same({
      { action = "no_restart", service = "cron" },
      { action = "no_restart", process = { pid = 1, start_time = 7 } },
    }, assert(s:filters()))
    assert.is_true(s:remove_filter{ service = "CRON" })  -- any ASCII case
    assert.is_true(s:remove_filter{ process = { pid = 1, start_time = 7 } })
    assert.same({}, assert(s:filters()))
  end)

  it("takes a bare pid as that process's identity", function()
    local s <close> = assert(rm.start_session())
    local me = helper.self_pid()
    assert.is_true(s:add_filter{ process = me, action = "no_shutdown" })
    assert.same({ { action = "no_shutdown", process = rm.process(me) } },
                assert(s:filters()))
    assert.is_true(s:remove_filter{ process = me })
  end)

  it("keeps one filter per target: the last call wins", function()
    local s <close> = assert(rm.start_session())
    assert(s:add_filter{ file = "/a", action = "no_restart" })
    assert(s:add_filter{ file = "/b", action = "no_restart" })
    assert(s:add_filter{ file = "/a", action = "no_shutdown" })
    assert.same({ { action = "no_shutdown", file = "/a" },
                  { action = "no_restart", file = "/b" } },
                assert(s:filters()))
  end)

  it("hold many filters with long names", function()
    local s <close> = assert(rm.start_session())
    local want = {}
    for i = 1, 50 do
      local path = "/" .. ("d"):rep(200) .. "/" .. i
      assert(s:add_filter{ file = path, action = "no_restart" })
      want[i] = { action = "no_restart", file = path }
    end
    assert.same(want, assert(s:filters()))
  end)

  it("returns fail, msg, 'ERROR_FILE_NOT_FOUND' removing a missing filter",
     function()
    local s <close> = assert(rm.start_session())
    fails("ERROR_FILE_NOT_FOUND", "remove_filter",
          s:remove_filter{ file = "/nothing" })
    fails("ERROR_FILE_NOT_FOUND", "remove_filter",
          s:remove_filter{ service = "nothing" })
  end)

  it("returns fail, msg, 'ERROR_BAD_ARGUMENTS' for invalid names", function()
    local s <close> = assert(rm.start_session())
    fails("ERROR_BAD_ARGUMENTS", "add_filter",
          s:add_filter{ file = "relative", action = "no_restart" })
    fails("ERROR_BAD_ARGUMENTS", "add_filter",
          s:add_filter{ service = "a/b", action = "no_restart" })
    fails("ERROR_BAD_ARGUMENTS", "add_filter",
          s:add_filter{ file = "/a\0b", action = "no_restart" })
    fails("ERROR_BAD_ARGUMENTS", "remove_filter",
          s:remove_filter{ file = "" })
  end)

  it("returns fail, msg, 'ERROR_FILE_NOT_FOUND' for a dead pid", function()
    local s <close> = assert(rm.start_session())
    local pid = assert(tonumber((helper.sh("echo $$"))))
    fails("ERROR_FILE_NOT_FOUND", "add_filter",
          s:add_filter{ process = pid, action = "no_restart" })
  end)

  it("raise on misuse", function()
    local s <close> = assert(rm.start_session())
    raises("bad argument #1 to 'add_filter' (exactly one of 'file', "
           .. "'process' or 'service' expected)",
           function() s:add_filter{ action = "no_restart" } end)
    raises("exactly one of 'file', 'process' or 'service' expected",
           function()
             s:add_filter{ file = "/a", service = "b", action = "no_restart" }
           end)
    raises("invalid action 'no_stop' (expected 'no_restart' or 'no_shutdown')",
           function() s:add_filter{ file = "/a", action = "no_stop" } end)
    raises("string expected for field 'action', got nil",
           function() s:add_filter{ file = "/a" } end)
    raises("string expected for field 'action', got number",
           function() s:add_filter{ file = "/a", action = 1 } end)
    raises("invalid option 'files'",
           function() s:add_filter{ files = "/a", action = "no_restart" } end)
    raises("bad argument #1 to 'remove_filter' (invalid option 'action'; "
           .. "valid: file, process, service)",
           function() s:remove_filter{ file = "/a", action = "no_restart" } end)
    raises("table expected, got no value", function() s:add_filter() end)
    raises("string expected for field 'file', got table",
           function() s:add_filter{ file = {}, action = "no_restart" } end)
    raises("pid or { pid =, start_time = } expected for process, got boolean",
           function() s:remove_filter{ process = true } end)
    raises("integer expected for process.start_time, got nil",
           function() s:remove_filter{ process = { pid = 1 } } end)
  end)

  it("return fail, msg, 'ERROR_SESSION_CREDENTIAL_CONFLICT' through a "
     .. "secondary", function()
    local s <close> = assert(rm.start_session())
    local j <close> = assert(rm.join_session(s.key))
    local conflict = "ERROR_SESSION_CREDENTIAL_CONFLICT"
    fails(conflict, "add_filter",
          j:add_filter{ file = "/a", action = "no_restart" })
    fails(conflict, "remove_filter", j:remove_filter{ file = "/a" })
    fails(conflict, "filters", j:filters())
  end)

  it("mask a holder from shutdown (no_shutdown)", function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("held.txt", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = path }
    local s <close> = assert(rm.start_session())
    assert(s:register{ files = { path } })
    assert(s:add_filter{ process = h.pid, action = "no_shutdown" })
    assert.is_true(s:shutdown())
    assert.is_false(helper.gone(h.pid))
    local apps = assert(s:list())
    assert.equal(1, #apps)
    assert.same({ running = true, shutdown_masked = true }, apps[1].status)
  end)
end)
