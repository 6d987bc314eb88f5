-- SPDX-License-Identifier: MIT
-- 02-session_spec.lua: starting, joining and ending sessions.
local helper = require "helper"
local rm = require "restartmgr"

local CONFLICT = "ERROR_SESSION_CREDENTIAL_CONFLICT"

-- Joins key and returns the results packed.
local function try_join(key)
  return table.pack(rm.join_session(key))
end

describe("rm.start_session()", function()
  it("returns an open primary session with a 32-hex key", function()
    local s <close> = assert(rm.start_session())
    assert.equal("userdata", type(s))
    assert.equal(32, #s.key)
    assert.truthy(s.key:match("^[0-9a-f]+$"))
    assert.equal("integer", math.type(s.handle))
    assert.is_true(s.primary)
  end)

  it("gives every session its own key and handle", function()
    local a <close> = assert(rm.start_session())
    local b <close> = assert(rm.start_session())
    assert.are_not.equal(a.key, b.key)
    assert.are_not.equal(a.handle, b.handle)
  end)

  it("shows the key in tostring, and 'closed' once closed", function()
    local s = assert(rm.start_session())
    assert.equal("restartmgr.session (" .. s.key .. ")", tostring(s))
    assert.is_true(s:close())
    assert.equal("restartmgr.session (closed)", tostring(s))
  end)

  it("has no other fields, and its fields cannot be assigned", function()
    local s <close> = assert(rm.start_session())
    assert.is_nil(s.nonsense)
    assert.is_nil(s[1])
    assert.has_error(function() s.key = "x" end)
  end)
end)

describe("rm.join_session(key)", function()
  it("gives a secondary session of the same key", function()
    local s <close> = assert(rm.start_session())
    local j <close> = assert(rm.join_session(s.key))
    assert.equal(s.key, j.key)
    assert.is_false(j.primary)
    assert.are_not.equal(s.handle, j.handle)
  end)

  it("accepts the key in upper case", function()
    local s <close> = assert(rm.start_session())
    local j <close> = assert(rm.join_session(s.key:upper()))
    assert.equal(s.key, j.key)
  end)

  it("returns fail, msg, code for unknown and malformed keys", function()
    for _, key in ipairs{ "", "zz", ("g"):rep(32), ("0"):rep(32),
                          ("0"):rep(33), ("a"):rep(32) .. "\0" } do
      local r = try_join(key)
      assert.equal(3, r.n)
      assert.is_nil(r[1])
      assert.equal(CONFLICT, r[3])
      assert.equal("join_session: ", r[2]:sub(1, 14))
    end
  end)

  it("raises when the key is not a string", function()
    assert.error_matches(function() rm.join_session() end,
      "bad argument #1 to 'join_session' (string expected, got no value)",
      1, true)
    assert.error_matches(function() rm.join_session({}) end,
                         "string expected, got table", 1, true)
  end)

  it("joins from another process, whose registrations the primary sees",
     function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("shared.txt", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = path }
    local s <close> = assert(rm.start_session())
    local out, ok = helper.lua_child(([[
      local rm = require "restartmgr"
      local j = assert(rm.join_session(%q))
      io.write(tostring(j.primary), " ", j.key, "\n")
      assert(j:register{ files = { %q } })
      assert(j:close())
    ]]):format(s.key, path))
    assert.is_true(ok, out)
    assert.equal("false " .. s.key .. "\n", out)
    local apps = assert(s:list())
    assert.equal(1, #apps)
    assert.equal(h.pid, apps[1].pid)
  end)

  it("fails for a session that was ended", function()
    local s = assert(rm.start_session())
    local key = s.key
    assert.is_true(s:close())
    local r = try_join(key)
    assert.is_nil(r[1])
    assert.equal(CONFLICT, r[3])
  end)

  it("fails for a session whose owner process died", function()
    local out, ok = helper.lua_child([[
      local rm = require "restartmgr"
      local s = assert(rm.start_session())
      io.write(s.key)
      os.exit(0, false)          -- no close, no __gc: the owner just dies
    ]])
    assert.is_true(ok)
    assert.equal(32, #out)
    local r = try_join(out)
    assert.is_nil(r[1])
    assert.equal(CONFLICT, r[3])
  end)
end)

describe("session:close()", function()
  it("returns true, and true again (idempotent)", function()
    local s = assert(rm.start_session())
    assert.is_true(s:close())
    assert.is_true(s:close())
  end)

  it("through the primary ends the session", function()
    local s = assert(rm.start_session())
    local j <close> = assert(rm.join_session(s.key))
    assert.is_true(s:close())
    local ok, msg, code = j:register{ files = { "/x" } }
    assert.is_nil(ok)
    assert.equal("ERROR_INVALID_HANDLE", code)
    assert.equal("register: ", msg:sub(1, 10))
    assert.is_true(j:close())                -- detaching still works
  end)

  it("through a secondary only detaches", function()
    local s <close> = assert(rm.start_session())
    local j = assert(rm.join_session(s.key))
    assert.is_true(j:close())
    assert.is_true(s:register{ files = { "/x" } })
    local again <close> = assert(rm.join_session(s.key))
  end)

  it("makes every later use raise", function()
    local s = assert(rm.start_session())
    s:close()
    local closed = "attempt to use a closed session"
    assert.error_matches(function() return s.key end, closed, 1, true)
    assert.error_matches(function() return s.handle end, closed, 1, true)
    assert.error_matches(function() return s.primary end, closed, 1, true)
    assert.error_matches(function() s:register{} end, closed, 1, true)
    assert.error_matches(function() s:list() end, closed, 1, true)
    assert.error_matches(function() s:shutdown() end, closed, 1, true)
    assert.error_matches(function() s:restart() end, closed, 1, true)
    assert.error_matches(function() s:cancel() end, closed, 1, true)
    assert.error_matches(function() s:filters() end, closed, 1, true)
    assert.error_matches(function()
      s:add_filter{ service = "x", action = "no_restart" }
    end, closed, 1, true)
    assert.error_matches(function() s:remove_filter{ service = "x" } end,
                         closed, 1, true)
  end)

  it("raises when called on something else", function()
    local s <close> = assert(rm.start_session())
    assert.error_matches(function() s.close({}) end,
                         "restartmgr.session expected, got table", 1, true)
    assert.error_matches(function() s.list(io.stdout) end,
                         "restartmgr.session expected, got FILE*", 1, true)
  end)
end)

describe("a <close> session", function()
  it("is ended when its scope exits", function()
    local key
    do
      local s <close> = assert(rm.start_session())
      key = s.key
    end
    assert.equal(CONFLICT, try_join(key)[3])
  end)

  it("is ended when its scope exits by error, and the error goes on",
     function()
    local key
    local err = {}
    local ok, e = pcall(function()
      local s <close> = assert(rm.start_session())
      key = s.key
      error(err)
    end)
    assert.is_false(ok)
    assert.is_true(rawequal(err, e))
    assert.equal(CONFLICT, try_join(key)[3])
  end)

  it("can still be closed explicitly before", function()
    local s <close> = assert(rm.start_session())
    assert.is_true(s:close())
  end)
end)

describe("a collected session", function()
  it("is ended by __gc", function()
    local key
    do
      local s = assert(rm.start_session())
      key = s.key
    end
    collectgarbage()
    collectgarbage()
    assert.equal(CONFLICT, try_join(key)[3])
  end)

  it("frees its slot: 100 sessions in a row never hit the limit", function()
    for _ = 1, 100 do
      local s <close> = assert(rm.start_session())
    end
  end)
end)
