-- SPDX-License-Identifier: MIT
-- 10-messages_spec.lua: messages that name the culprit, entries that
-- print readably, discoverable names, and a progress callback that can
-- cancel before anything is stopped.
local helper = require "helper"
local rm = require "restartmgr"

-- Asserts the exact fail triple.
local function fails(code, msg, ok, got_msg, got_code)
  assert.is_nil(ok)
  assert.equal(msg, got_msg)
  assert.equal(code, got_code)
end

describe("messages that name the culprit", function()
  it("name the file, its index and why, and register nothing", function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("held.txt", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = path }
    local s <close> = assert(rm.start_session())
    local bad = "/opt/app/cafe\xc3\xa9/\xffbin"     -- byte 17 is \xff
    fails("ERROR_ACCESS_DENIED",
          'register: files[3] "/tmp": a directory cannot be registered',
          s:register{ files = { path, "/etc/hostname", "/tmp" } })
    fails("ERROR_BAD_ARGUMENTS",
          'register: files[2] "etc/app.conf": not an absolute path',
          s:register{ files = { path, "etc/app.conf" } })
    fails("ERROR_BAD_ARGUMENTS",
          'register: files[1] "/opt/app/cafe\xc3\xa9/\\xffbin": not valid '
          .. "UTF-8 at byte 17", s:register{ files = { bad } })
    fails("ERROR_BAD_ARGUMENTS",
          'register: files[1] "/a\\x00b": contains a zero byte at byte 3',
          s:register{ files = { "/a\0b" } })
    fails("ERROR_BAD_ARGUMENTS", 'register: files[1] "": an empty path',
          s:register{ files = { "" } })
    fails("ERROR_BAD_ARGUMENTS",
          'register: files[1] "/' .. ("a"):rep(79) .. '"...(5000 bytes): '
          .. "longer than 4096 bytes",
          s:register{ files = { "/" .. ("a"):rep(4999) } })
    -- Nothing of those calls was registered.
    assert.same({}, (assert(s:list())))
    assert.is_true(s:register{ files = { path } })
    assert.equal(h.pid, assert(s:list())[1].pid)
  end)

  it("name the service and why", function()
    local s <close> = assert(rm.start_session())
    fails("ERROR_BAD_ARGUMENTS",
          'register: services[2] "": an empty service name',
          s:register{ services = { "cron", "" } })
    fails("ERROR_BAD_ARGUMENTS",
          'register: services[1] "a/b": a service name cannot contain \'/\' '
          .. "(byte 2)", s:register{ services = { "a/b" } })
    fails("ERROR_BAD_ARGUMENTS",
          'register: services[1] "x\\x0a": a service name cannot contain '
          .. "control characters (byte 2)",
          s:register{ services = { "x\n" } })
    fails("ERROR_BAD_ARGUMENTS",
          'register: services[1] "' .. ("s"):rep(64) .. '": longer than 63 '
          .. "bytes", s:register{ services = { ("s"):rep(64) } })
    fails("ERROR_BAD_ARGUMENTS",
          'register: services[1] "\\xc3": not valid UTF-8 at byte 1',
          s:register{ services = { "\xc3" } })
  end)

  it("name a process that is not running", function()
    local s <close> = assert(rm.start_session())
    local dead = assert(tonumber((helper.sh("echo $$"))))
    fails("ERROR_FILE_NOT_FOUND",
          ("register: processes[2]: pid %d is not running"):format(dead),
          s:register{ processes = { helper.self_pid(), dead } })
    fails("ERROR_FILE_NOT_FOUND",
          ("process: pid %d is not running"):format(dead), rm.process(dead))
    fails("ERROR_FILE_NOT_FOUND",
          ("add_filter: process: pid %d is not running"):format(dead),
          s:add_filter{ process = dead, action = "no_restart" })
  end)

  it("name a filter's file or service", function()
    local s <close> = assert(rm.start_session())
    fails("ERROR_BAD_ARGUMENTS",
          'add_filter: file "bin/app": not an absolute path',
          s:add_filter{ file = "bin/app", action = "no_restart" })
    fails("ERROR_BAD_ARGUMENTS",
          'remove_filter: service "a\\\\b": a service name cannot contain '
          .. "'\\' (byte 2)", s:remove_filter{ service = "a\\b" })
  end)

  it("say which path is a directory when the list finds one", function()
    local dir <close> = helper.tmpdir()
    local later = dir.path .. "/later"
    local s <close> = assert(rm.start_session())
    assert(s:register{ files = { later } })
    assert(os.execute("mkdir " .. helper.quote(later)))
    local ok, msg, code = s:list()
    assert.is_nil(ok)
    assert.equal("ERROR_ACCESS_DENIED", code)
    assert.equal("list: a registered path is a directory: ", msg:sub(1, 40))
  end)
end)

describe("the REPL", function()
  it("prints app entries readably", function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("held.txt", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = path }
    local s <close> = assert(rm.start_session())
    assert(s:register{ files = { path }, processes = { helper.self_pid() } })
    local apps = assert(s:list())
    local by_pid = {}
    for _, a in ipairs(apps) do by_pid[a.pid] = a end
    local a = by_pid[h.pid]
    assert.equal(("restartmgr.app (pid %d lua5.4 %s running, "
                  .. "restartable)"):format(h.pid, helper.holder_type),
                 tostring(a))
    assert.equal("restartmgr.app", getmetatable(a).__name)
    local me = by_pid[helper.self_pid()]
    assert.equal(("restartmgr.app (pid %d %s critical detected_self "
                  .. "running)"):format(me.pid, me.name), tostring(me))
    assert.same({ detected_self = true }, me.reasons)
    assert.same({}, a.reasons)
    -- A service entry shows its service; changed fields print as they are.
    a.service, a.status, a.restartable = "nginx", { stopped = true }, false
    assert.equal(("restartmgr.app (pid %d lua5.4 service nginx stopped)")
                 :format(h.pid), tostring(a))
    a.pid = {}
    assert.equal("restartmgr.app (pid ? lua5.4 service nginx stopped)",
                 tostring(a))
  end)

  it("prints filter entries readably", function()
    local s <close> = assert(rm.start_session())
    assert(s:add_filter{ file = "/usr/bin/app", action = "no_restart" })
    assert(s:add_filter{ process = { pid = 42, start_time = 7 },
                         action = "no_shutdown" })
    assert(s:add_filter{ service = "nginx", action = "no_restart" })
    local f = assert(s:filters())
    assert.same({ "restartmgr.filter (no_restart file /usr/bin/app)",
                  "restartmgr.filter (no_shutdown process pid 42)",
                  "restartmgr.filter (no_restart service nginx)" },
                { tostring(f[1]), tostring(f[2]), tostring(f[3]) })
    assert.equal("restartmgr.filter", getmetatable(f[1]).__name)
  end)

  it("lists option names in rm.options and in the errors", function()
    local s <close> = assert(rm.start_session())
    local calls = {
      register = function(o) return s:register(o) end,
      shutdown = function(o) return s:shutdown(o) end,
      restart = function(o) return s:restart(o) end,
      add_filter = function(o) return s:add_filter(o) end,
      remove_filter = function(o) return s:remove_filter(o) end,
      transaction = function(o) return s:transaction(o) end,
      replace = function(o)
        local tx <close> = assert(s:transaction())
        return tx:replace("/nonexistent/a", "/nonexistent/b", o)
      end,
      tree = function(o)
        local tx <close> = assert(s:transaction())
        return tx:tree("/nonexistent/a", "/nonexistent/b", o)
      end,
      commit = function(o)
        local tx <close> = assert(s:transaction())
        return tx:commit(o)
      end,
    }
    local methods = {}
    for name, fn in pairs(calls) do
      methods[#methods + 1] = name
      local ok, e = pcall(fn, { no_such_option = true })
      assert.is_false(ok)
      assert.equal("; valid: " .. table.concat(rm.options[name], ", ") .. ")",
                   e:match("; valid: .*$"), name)
    end
    table.sort(methods)
    local listed = {}
    for k in pairs(rm.options) do listed[#listed + 1] = k end
    table.sort(listed)
    assert.same(methods, listed)
    assert.equal(1223, rm.errors.ERROR_CANCELLED)
    assert.equal("ERROR_CANCELLED", rm.errors[1223])
  end)
end)

describe("a progress callback called with 0 first", function()

  for _, how in ipairs{ "returns false", "calls s:cancel()" } do
    it("cancels at 0 and stops nothing when it " .. how, function()
      local dir <close> = helper.tmpdir()
      local path = dir:file("held.txt", "x")
      local a <close> = helper.spawn_holder{ dir = dir, path = path }
      local b <close> = helper.spawn_holder{ dir = dir, path = path }
      local s <close> = assert(rm.start_session())
      assert(s:register{ files = { path } })
      local seen = {}
      local ok, msg, code = s:shutdown{ timeout = 10, progress = function(p)
        seen[#seen + 1] = p
        if how == "returns false" then return false end
        assert(s:cancel())
      end }
      assert.is_nil(ok)
      assert.equal("ERROR_CANCELLED", code)
      assert.equal("shutdown: ", msg:sub(1, 10))
      assert.same({ 0 }, seen)
      assert.is_false(helper.gone(a.pid))
      assert.is_false(helper.gone(b.pid))
      for _, e in ipairs(assert(s:list())) do
        assert.same({ running = true }, e.status)
      end
    end)
  end

  it("cancels a restart at 0: nothing is started", function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("held.txt", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = path }
    local s <close> = assert(rm.start_session())
    assert(s:register{ files = { path } })
    local seen = {}
    assert.is_true(s:shutdown{ timeout = 10,
                               progress = function(p) seen[#seen + 1] = p end })
    assert.same({ 0, 100 }, seen)
    h:reap()
    seen = {}
    local ok, _, code = s:restart{ progress = function(p)
      seen[#seen + 1] = p
      return false
    end }
    assert.is_nil(ok)
    assert.equal("ERROR_CANCELLED", code)
    assert.same({ 0 }, seen)
    local apps = assert(s:list())
    assert.equal(1, #apps)
    assert.same({ stopped = true }, apps[1].status)
  end)
end)
