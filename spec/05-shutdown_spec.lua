-- SPDX-License-Identifier: MIT
-- 05-shutdown_spec.lua: session:shutdown{}, :restart{}, :cancel() and the
-- progress callback contract.
local helper = require "helper"
local rm = require "restartmgr"

local raises, fails = helper.raises, helper.fails

-- A session with one real holder registered: the work a shutdown does.
-- Returns a to-be-closed context { s =, h =, dir =, path = } that ends the
-- session, the holder and the temp dir, in that order.
local Context = { __close = function(t)
  getmetatable(t.s).__close(t.s)
  t.h:__close()
  t.dir:__close()
end }

local function session_with_holder()
  local dir = helper.tmpdir()
  local path = dir:file("held.txt", "x")
  local h = helper.spawn_holder{ dir = dir, path = path }
  local s = assert(rm.start_session())
  assert(s:register{ files = { path } })
  return setmetatable({ s = s, h = h, dir = dir, path = path }, Context)
end

describe("session:shutdown{} options", function()
  it("raises on an unknown key, such as 'forced'", function()
    local s <close> = assert(rm.start_session())
    raises("bad argument #1 to 'shutdown' (invalid option 'forced'; valid: "
           .. "force, only_registered, services_in_place, timeout, progress)",
           function() s:shutdown{ forced = true } end)
    raises("invalid option 'progess'",
           function() s:shutdown{ progess = function() end } end)
  end)

  it("raises on options of the wrong type", function()
    local s <close> = assert(rm.start_session())
    raises("bad argument #1 to 'shutdown' (table expected, got string)",
           function() s:shutdown("force") end)
    raises("boolean expected for field 'force', got number",
           function() s:shutdown{ force = 1 } end)
    raises("boolean expected for field 'only_registered', got string",
           function() s:shutdown{ only_registered = "yes" } end)
    raises("number expected for field 'timeout', got string",
           function() s:shutdown{ timeout = "30" } end)
    raises("function expected for field 'progress', got number",
           function() s:shutdown{ progress = 1 } end)
  end)

  it("raises on a timeout that is not a positive number of seconds",
     function()
    local s <close> = assert(rm.start_session())
    for _, t in ipairs{ 0, -1, 0 / 0, math.huge, 1e12 } do
      raises("field 'timeout' must be a positive number of seconds",
             function() s:shutdown{ timeout = t } end)
    end
  end)

  it("checks every option before doing anything", function()
    local t <close> = session_with_holder()
    local s, h = t.s, t.h
    raises("invalid option 'forced'", function()
      s:shutdown{ progress = function() end, timeout = 1, forced = true }
    end)
    assert.is_false(helper.gone(h.pid))
  end)

  it("accepts no options, nil, and any callable as progress", function()
    local s <close> = assert(rm.start_session())
    assert.is_true(s:shutdown())
    assert.is_true(s:shutdown(nil))
    local called = setmetatable({}, { __call = function() end })
    assert.is_true(s:shutdown{ progress = called, timeout = 0.5,
                               force = false, only_registered = false })
  end)

  it("returns fail, msg, code through a secondary", function()
    local s <close> = assert(rm.start_session())
    local j <close> = assert(rm.join_session(s.key))
    fails("ERROR_SESSION_CREDENTIAL_CONFLICT", "shutdown", j:shutdown())
    fails("ERROR_SESSION_CREDENTIAL_CONFLICT", "restart", j:restart())
    fails("ERROR_SESSION_CREDENTIAL_CONFLICT", "cancel", j:cancel())
  end)
end)

describe("session:restart{}", function()
  it("returns fail, msg, 'ERROR_REQUEST_OUT_OF_SEQUENCE' before any "
     .. "shutdown", function()
    local s <close> = assert(rm.start_session())
    fails("ERROR_REQUEST_OUT_OF_SEQUENCE", "restart", s:restart())
    fails("ERROR_REQUEST_OUT_OF_SEQUENCE", "restart",
          s:restart{ progress = function() end })
  end)

  it("raises on unknown options", function()
    local s <close> = assert(rm.start_session())
    raises("bad argument #1 to 'restart' (invalid option 'force'; valid: "
           .. "progress)",
           function() s:restart{ force = true } end)
    raises("function expected for field 'progress', got boolean",
           function() s:restart{ progress = true } end)
  end)
end)

describe("session:cancel()", function()
  it("returns true with nothing running, and leaves no cancel behind",
     function()
    local t <close> = session_with_holder()
    local s, h = t.s, t.h
    assert.is_true(s:cancel())
    assert.is_true(s:shutdown())
    assert.is_true(helper.wait_gone(h.pid))
  end)
end)

describe("the progress callback", function()
  it("gets strictly increasing percentages ending at 100", function()
    local t <close> = session_with_holder()
    local s, h = t.s, t.h
    local seen = {}
    assert.is_true(s:shutdown{ progress = function(p) seen[#seen + 1] = p end })
    assert.same({ 0, 100 }, seen)          -- 0 before the first stop
    for i = 2, #seen do assert.is_true(seen[i] > seen[i - 1]) end
    assert.equal(100, seen[#seen])
    for _, p in ipairs(seen) do assert.equal("integer", math.type(p)) end
  end)

  it("cancels by returning false: fail, msg, 'ERROR_CANCELLED'", function()
    local t <close> = session_with_holder()
    local s, h = t.s, t.h
    local calls = 0
    fails("ERROR_CANCELLED", "shutdown", s:shutdown{ progress = function()
      calls = calls + 1
      return false
    end })
    assert.equal(1, calls)                 -- not called again once cancelled
    assert.is_true(s:list() ~= nil)        -- the session is usable again
  end)

  it("does not cancel by returning nil or true", function()
    local t <close> = session_with_holder()
    local s, h = t.s, t.h
    local n = 0
    assert.is_true(s:shutdown{ progress = function()
      n = n + 1
      return n % 2 == 0 or nil
    end })
  end)

  it("cancels on error, and the error object is re-raised unchanged",
     function()
    local t <close> = session_with_holder()
    local s, h = t.s, t.h
    local err = setmetatable({ reason = "disk full" }, {
      __tostring = function() return "custom error object" end })
    local calls = 0
    local ok, e = pcall(s.shutdown, s, { progress = function()
      calls = calls + 1
      error(err)
    end })
    assert.is_false(ok)
    assert.is_true(rawequal(err, e))
    assert.equal(1, calls)
    -- The session is no longer busy: it can be used and closed.
    assert.is_true(s:list() ~= nil)
    assert.is_true(s:close())
  end)

  it("re-raises a string error as it was (no position added)", function()
    local t <close> = session_with_holder()
    local s, h = t.s, t.h
    local ok, e = pcall(s.shutdown, s, { progress = function()
      error("stop here", 0)
    end })
    assert.is_false(ok)
    assert.equal("stop here", e)
  end)

  it("cannot re-enter its own session (raises), except s:cancel()",
     function()
    local t <close> = session_with_holder()
    local s, h = t.s, t.h
    for _, use in ipairs{
      function() s:list() end,
      function() s:register{} end,
      function() s:shutdown() end,
      function() s:restart() end,
      function() s:filters() end,
      function() s:close() end,
    } do
      local ok, e = pcall(s.shutdown, s, { progress = use })
      assert.is_false(ok)
      assert.truthy(tostring(e):find("attempt to re-enter a session from "
                                     .. "its own progress callback", 1, true))
    end
    assert.is_true(s:close())              -- no longer busy
  end)

  it("can read the session's fields", function()
    local t <close> = session_with_holder()
    local s, h = t.s, t.h
    local key
    assert(s:shutdown{ progress = function() key = s.key end })
    assert.equal(s.key, key)
  end)

  it("can cancel through s:cancel()", function()
    local t <close> = session_with_holder()
    local s, h = t.s, t.h
    fails("ERROR_CANCELLED", "shutdown", s:shutdown{ progress = function()
      assert(s:cancel())
    end })
  end)

  it("may use other sessions", function()
    local t <close> = session_with_holder()
    local s, h = t.s, t.h
    local j <close> = assert(rm.join_session(s.key))
    local listed
    assert.is_true(s:shutdown{ progress = function()
      listed = listed or j:list()
    end })
    assert.equal("table", type(listed))
  end)

  it("runs on the calling coroutine and cannot yield", function()
    local t <close> = session_with_holder()
    local s, h = t.s, t.h
    local co = coroutine.wrap(function()
      return pcall(s.shutdown, s, { progress = function()
        coroutine.yield("yielded")
      end })
    end)
    local ok, e = co()
    assert.is_false(ok)
    assert.truthy(tostring(e):find("yield across", 1, true))
  end)

  it("does not close the session through a <close> variable", function()
    local t <close> = session_with_holder()
    local s, h = t.s, t.h
    assert(s:shutdown{ progress = function()
      local alias <close> = s
    end })
    assert.equal(32, #s.key)               -- still open
  end)
end)

describe("session:shutdown() and :restart() with a real holder", function()
  it("stops a cooperative holder and starts it again", function()
    local t <close> = session_with_holder()
    local s, h, path = t.s, t.h, t.path
    local old = h:identity()
    assert.is_true(s:shutdown{ timeout = 10 })
    assert.is_true(helper.wait_gone(h.pid))
    local ok, how, sig = h:reap()
    assert.same({ nil, "signal", 15 }, { ok, how, sig })  -- SIGTERM

    local apps = assert(s:list())
    assert.equal(1, #apps)
    assert.equal(old.pid, apps[1].pid)
    assert.same({ stopped = true }, apps[1].status)

    local seen = {}
    assert.is_true(s:restart{ progress = function(p) seen[#seen + 1] = p end })
    assert.same({ 0, 100 }, seen)
    local new = helper.eventually(function()
      for _, a in ipairs(assert(s:list())) do
        if a.pid ~= old.pid and a.files[1] then return a end
      end
    end)
    assert.truthy(new, "the holder was not started again")
    finally(function() helper.kill(new.pid) end)
    assert.same({ { path = path, how = { open_file = true } } }, new.files)
    for _, a in ipairs(assert(s:list())) do
      if a.pid == old.pid then assert.is_true(a.status.restarted) end
    end
  end)

  it("honours timeout and force", function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("held.txt", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = path,
                                           mode = "stubborn" }
    local s <close> = assert(rm.start_session())
    assert(s:register{ files = { path } })
    local t0 = os.time()
    fails("ERROR_FAIL_SHUTDOWN", "shutdown", s:shutdown{ timeout = 0.3 })
    assert.is_true(os.time() - t0 < 10)    -- not the 30 s default
    assert.is_false(helper.gone(h.pid))
    local apps = assert(s:list())
    assert.equal(1, #apps)
    assert.same({ running = true, error_on_stop = true }, apps[1].status)

    assert.is_true(s:shutdown{ timeout = 0.3, force = true })
    assert.is_true(helper.wait_gone(h.pid))
    local ok, how, sig = h:reap()
    assert.same({ nil, "signal", 9 }, { ok, how, sig })    -- SIGKILL
  end)

  it("restores the default timeouts after a call with timeout", function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("held.txt", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = path,
                                           mode = "stubborn" }
    -- A child whose default app timeout is 1.5 s: the second call, without
    -- timeout, must wait that long again, not the 0.2 s of the first.
    local out, ok = helper.lua_child(([[
      local rm = require "restartmgr"
      local function now()
        return tonumber(io.popen("date +%%s%%N"):read("l")) // 1000000
      end
      local s <close> = assert(rm.start_session())
      assert(s:register{ files = { %q } })
      local _, _, code1 = s:shutdown{ timeout = 0.2 }
      local t = now()
      local _, _, code2 = s:shutdown()
      io.write(code1, " ", code2, " ", now() - t)
    ]]):format(path), { RESTARTMGR_APP_TIMEOUT_MS = "1500" })
    assert.is_true(ok, out)
    local code1, code2, ms = out:match("^(%S+) (%S+) (%d+)$")
    assert.equal("ERROR_FAIL_SHUTDOWN", code1)
    assert.equal("ERROR_FAIL_SHUTDOWN", code2)
    assert.is_true(tonumber(ms) >= 1400, out)
    assert.is_false(helper.gone(h.pid))
  end)
end)
