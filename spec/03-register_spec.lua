-- SPDX-License-Identifier: MIT
-- 03-register_spec.lua: session:register{ files =, processes =, services = }.
local helper = require "helper"
local rm = require "restartmgr"

local raises, fails = helper.raises, helper.fails

describe("session:register{}", function()
  it("accepts files, processes and services, and returns true", function()
    local s <close> = assert(rm.start_session())
    local me = helper.self_pid()
    assert.is_true(s:register{
      files = { "/etc/hostname", "/usr/bin/env" },
      processes = { me, rm.process(me) },
      services = { "cron", "ssh" },
    })
  end)

  it("accepts an empty table and empty arrays (a no-op)", function()
    local s <close> = assert(rm.start_session())
    assert.is_true(s:register{})
    assert.is_true(s:register{ files = {}, processes = {}, services = {} })
  end)

  it("accepts the same resources again (duplicates are harmless)",
     function()
    local s <close> = assert(rm.start_session())
    assert.is_true(s:register{ files = { "/a", "/a" } })
    assert.is_true(s:register{ files = { "/a" } })
  end)

  it("raises on an unknown option key", function()
    local s <close> = assert(rm.start_session())
    raises("bad argument #1 to 'register' (invalid option 'file'; valid: "
           .. "files, processes, services, trees)",
           function() s:register{ file = { "/a" } } end)
    raises("invalid option key (a number)",
           function() s:register{ "/a" } end)
  end)

  it("raises when the argument is not a table", function()
    local s <close> = assert(rm.start_session())
    raises("bad argument #1 to 'register' (table expected, got no value)",
           function() s:register() end)
    raises("table expected, got string",
           function() s:register("/a") end)
  end)

  it("raises on fields of the wrong type", function()
    local s <close> = assert(rm.start_session())
    raises("table expected for field 'files', got string",
           function() s:register{ files = "/a" } end)
    raises("string expected for files[2], got number",
           function() s:register{ files = { "/a", 2 } } end)
    raises("string expected for services[1], got boolean",
           function() s:register{ services = { true } } end)
    raises("field 'files' must be an array",
           function() s:register{ files = { "/a", nil, "/c" } } end)
    raises("field 'services' must be an array",
           function() s:register{ services = { x = "cron" } } end)
  end)

  it("raises on malformed processes", function()
    local s <close> = assert(rm.start_session())
    raises("pid or { pid =, start_time = } expected for processes[1], got "
           .. "string",
           function() s:register{ processes = { "1" } } end)
    raises("integer expected for the pid of processes[1], got number",
           function() s:register{ processes = { 1.5 } } end)
    raises("the pid of processes[2] out of range",
           function() s:register{ processes = { 1, -1 } } end)
    raises("integer expected for processes[1].start_time, got nil",
           function() s:register{ processes = { { pid = 1 } } } end)
    raises("integer expected for processes[1].pid, got nil",
           function() s:register{ processes = { { start_time = 1 } } } end)
    raises("processes[1].start_time out of range",
           function()
             s:register{ processes = { { pid = 1, start_time = -5 } } }
           end)
    raises("invalid option 'name' in processes[1]",
           function()
             s:register{ processes = { { pid = 1, start_time = 1,
                                         name = "x" } } }
           end)
  end)

  it("validates everything before registering anything", function()
    local s <close> = assert(rm.start_session())
    -- The bad element comes last; the error is raised all the same.
    raises("string expected for files[3], got table",
           function() s:register{ files = { "/a", "/b", {} } } end)
  end)

  it("returns fail, msg, 'ERROR_BAD_ARGUMENTS' for a relative path",
     function()
    local s <close> = assert(rm.start_session())
    fails("ERROR_BAD_ARGUMENTS", "register",
          s:register{ files = { "relative/path" } })
    fails("ERROR_BAD_ARGUMENTS", "register", s:register{ files = { "" } })
  end)

  it("returns fail, msg, 'ERROR_BAD_ARGUMENTS' for an embedded zero",
     function()
    local s <close> = assert(rm.start_session())
    fails("ERROR_BAD_ARGUMENTS", "register",
          s:register{ files = { "/a\0b" } })
    fails("ERROR_BAD_ARGUMENTS", "register",
          s:register{ services = { "cr\0n" } })
  end)

  it("returns fail, msg, 'ERROR_BAD_ARGUMENTS' for invalid UTF-8 and bad "
     .. "service names", function()
    local s <close> = assert(rm.start_session())
    fails("ERROR_BAD_ARGUMENTS", "register", s:register{ files = { "/\xff" } })
    fails("ERROR_BAD_ARGUMENTS", "register",
          s:register{ services = { "a/b" } })
    fails("ERROR_BAD_ARGUMENTS", "register",
          s:register{ services = { ("s"):rep(64) } })
    assert.is_true(s:register{ services = { ("s"):rep(63) } })
  end)

  it("returns fail, msg, 'ERROR_FILE_NOT_FOUND' for the pid of a dead "
     .. "process", function()
    local s <close> = assert(rm.start_session())
    local pid = assert(tonumber((helper.sh("echo $$"))))
    local ok, msg, code = s:register{ processes = { pid } }
    assert.is_nil(ok)
    assert.equal("ERROR_FILE_NOT_FOUND", code)
    assert.equal(("register: processes[1]: pid %d is not running"):format(pid),
                 msg)
  end)

  it("accepts an identity whose process is gone (it matches nothing)",
     function()
    local s <close> = assert(rm.start_session())
    assert.is_true(s:register{ processes = { { pid = 1, start_time = 0 } } })
  end)

  it("registers nothing of a call that fails", function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("held.txt", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = path }
    local s <close> = assert(rm.start_session())
    fails("ERROR_BAD_ARGUMENTS", "register",
          s:register{ files = { path, "relative" } })
    assert.same({}, (assert(s:list())))
    assert.is_true(s:register{ files = { path } })
    assert.equal(1, #assert(s:list()))
  end)

  it("works through a secondary session", function()
    local s <close> = assert(rm.start_session())
    local j <close> = assert(rm.join_session(s.key))
    assert.is_true(j:register{ files = { "/etc/hostname" } })
  end)
end)
