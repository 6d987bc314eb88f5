-- SPDX-License-Identifier: MIT
-- 01-module_spec.lua: the module table, rm.errors, rm.process, manners.
local helper = require "helper"
local rm = require "restartmgr"

-- Every code of the C API (docs/lua.md, Results and errors) with its Win32
-- value.
local codes = {
  ERROR_SUCCESS = 0,
  ERROR_FILE_NOT_FOUND = 2,
  ERROR_ACCESS_DENIED = 5,
  ERROR_INVALID_HANDLE = 6,
  ERROR_OUTOFMEMORY = 14,
  ERROR_WRITE_FAULT = 29,
  ERROR_SEM_TIMEOUT = 121,
  ERROR_BAD_ARGUMENTS = 160,
  ERROR_MORE_DATA = 234,
  ERROR_FAIL_NOACTION_REBOOT = 350,
  ERROR_FAIL_SHUTDOWN = 351,
  ERROR_FAIL_RESTART = 352,
  ERROR_MAX_SESSIONS_REACHED = 353,
  ERROR_REQUEST_OUT_OF_SEQUENCE = 776,
  ERROR_SESSION_CREDENTIAL_CONFLICT = 1219,
  ERROR_CANCELLED = 1223,
  ERROR_SUCCESS_REBOOT_REQUIRED = 3010,   -- the transaction's (an extension)
}

describe("require 'restartmgr'", function()
  it("returns the module table with _VERSION", function()
    assert.equal("table", type(rm))
    assert.equal("restartmgr 0.1.0", rm._VERSION)
  end)

  it("has exactly the documented functions", function()
    local names = {}
    for k, v in pairs(rm) do
      if type(v) == "function" then names[#names + 1] = k end
    end
    table.sort(names)
    assert.same({ "compare_versions", "exit_after", "join_session", "kernel",
                  "process", "recover", "register_restart",
                  "restart_registration",
                  "sessions", "stale", "stale_scripts", "start_session",
                  "store_path" },
                names)
  end)

  it("sets no globals", function()
    local before = {}
    for k in pairs(_G) do before[k] = true end
    package.loaded.restartmgr = nil
    local again = require "restartmgr"
    assert.equal("restartmgr 0.1.0", again._VERSION)
    local s <close> = assert(again.start_session())
    for k in pairs(_G) do
      assert.is_true(before[k], "new global: " .. tostring(k))
    end
    for k in pairs(before) do
      assert.is_not_nil(rawget(_G, k), "global removed: " .. tostring(k))
    end
  end)
end)

describe("rm.errors", function()
  it("maps every name to its Win32 number", function()
    for name, num in pairs(codes) do
      assert.equal(num, rm.errors[name], name)
    end
  end)

  it("maps every number back to its name", function()
    for name, num in pairs(codes) do
      assert.equal(name, rm.errors[num], tostring(num))
    end
  end)

  it("has nothing else", function()
    local n = 0
    for k, v in pairs(rm.errors) do
      n = n + 1
      if type(k) == "string" then
        assert.equal(codes[k], v)
      else
        assert.equal(k, codes[v])
      end
    end
    assert.equal(34, n)
  end)
end)

describe("rm.process(pid)", function()
  it("gives this process's identity", function()
    local pid = helper.self_pid()
    local p = assert(rm.process(pid))
    assert.same({ pid = pid, start_time = helper.start_time(pid) }, p)
    assert.equal("integer", math.type(p.start_time))
  end)

  it("gives the same identity on every call", function()
    local pid = helper.self_pid()
    assert.same(rm.process(pid), rm.process(pid))
  end)

  it("gives a child's identity, in 100 ns units since boot", function()
    local dir <close> = helper.tmpdir()
    local h <close> = helper.spawn_holder{ dir = dir, mode = "none",
                                           path = dir.path }
    local p = assert(rm.process(h.pid))
    assert.same(h:identity(), p)
    assert.is_true(p.start_time > 0)
  end)

  it("returns fail, msg, 'ERROR_FILE_NOT_FOUND' for a dead pid", function()
    local out = helper.sh("echo $$")        -- a shell that is gone and reaped
    local pid = assert(tonumber(out))
    local p, msg, code = rm.process(pid)
    assert.is_nil(p)
    assert.equal("ERROR_FILE_NOT_FOUND", code)
    assert.equal(("process: pid %d is not running"):format(pid), msg)
  end)

  it("raises on a pid that is not an integer or out of range", function()
    assert.error_matches(function() rm.process("x") end,
      "bad argument #1 to 'process' (number expected, got string)", 1, true)
    assert.error_matches(function() rm.process(1.5) end,
                         "number has no integer representation", 1, true)
    assert.error_matches(function() rm.process(-1) end,
                         "pid out of range", 1, true)
    assert.error_matches(function() rm.process(1 << 32) end,
                         "pid out of range", 1, true)
    assert.error_matches(function() rm.process() end,
                         "number expected, got no value", 1, true)
  end)
end)

describe("rm.store_path", function()
  it("names the store in use and what it skipped", function()
    local path, skipped = rm.store_path()
    assert.equal(os.getenv("RESTARTMGR_STATE_DIR"), path)
    assert.same({}, skipped)
  end)

  it("returns fail, msg, 'ERROR_WRITE_FAULT', skipped for an unusable dir", function()
    local out = helper.lua_child([[
      local rm = require "restartmgr"
      local ok, msg, code, skipped = rm.store_path()
      io.write(tostring(ok), "|", msg, "|", code, "|", #skipped)
    ]], { RESTARTMGR_STATE_DIR = "relative/store" })
    assert.matches("^nil|store_path: .+|ERROR_WRITE_FAULT|0$", out)
  end)
end)
