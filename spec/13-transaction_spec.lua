-- SPDX-License-Identifier: MIT
-- 12-transaction_spec.lua: s:transaction(), tx:replace/write/add/remove/
-- tree, tx:commit{} and its report, rollback on close, rm.recover(), with
-- real holders that are stopped and relaunched.
local helper = require "helper"
local rm = require "restartmgr"

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local t = f:read("a")
  f:close()
  return t
end

-- Names the transaction left behind under dir.
local function temporaries(dir)
  local out = helper.sh("find " .. helper.quote(dir) .. " -name '*.rmtx-*'")
  return out
end

-- Kills the processes a commit relaunched (not our children).
local function kill_restarted(report)
  for _, app in ipairs(report and report.apps or {}) do
    if app.status.restarted and not helper.gone(app.pid) then
      helper.kill(app.pid)
      helper.wait_gone(app.pid, 5)
    end
  end
end

describe("s:transaction()", function()
  it("replaces held files, restarts the holder and reports it", function()
    local dir <close> = helper.tmpdir()
    local target = dir:file("app.conf", "version 1\n")
    local other = dir:file("other.conf", "other 1\n")
    local src <close> = helper.tmpdir()
    local new = src:file("app.conf", "version 2\n")
    assert(os.execute("mkdir " .. helper.quote(src.path .. "/tree")))
    src:file("tree/other.conf", "other 2\n")
    src:file("tree/added.conf", "added\n")
    local h <close> = helper.spawn_holder{ dir = dir, path = target }
    local s <close> = assert(rm.start_session())
    local tx <close> = assert(s:transaction())
    assert.equal("restartmgr.transaction (open)", tostring(tx))
    assert.is_true(tx:replace(target, new))
    assert.equal(2, tx:tree(dir.path, src.path .. "/tree"))
    local seen = {}
    local ok, msg, code, report = tx:commit{
      timeout = 5, progress = function(p) seen[#seen + 1] = p end }
    kill_restarted(report)
    assert.is_true(ok, msg)
    assert.equal("ERROR_SUCCESS", code)
    assert.equal("", msg)
    assert.equal(0, seen[1])
    assert.equal(100, seen[#seen])
    assert.equal("version 2\n", read(target))
    assert.equal("other 2\n", read(other))
    assert.equal("added\n", read(dir.path .. "/added.conf"))
    assert.equal("", temporaries(dir.path))
    -- The report.
    assert.equal("ERROR_SUCCESS", report.result)
    assert.is_true(report.committed)
    assert.is_false(report.rolled_back)
    assert.same({}, report.reboot)
    assert.equal(3, #report.files)
    local by_target = {}
    for _, f in ipairs(report.files) do by_target[f.target] = f end
    assert.same({ target = target, action = "replace", outcome = "new" },
                by_target[target])
    assert.same({ target = dir.path .. "/added.conf", action = "add",
                  outcome = "new" }, by_target[dir.path .. "/added.conf"])
    local app
    for _, a in ipairs(report.apps) do
      if a.status.stopped then app = a end
    end
    assert.is_not_nil(app)
    assert.is_true(app.status.restarted)
    assert.is_not.equal(h.pid, app.pid)
    h:reap()
  end)

  it("writes a file from a string, and adds and removes files", function()
    local dir <close> = helper.tmpdir()
    local target = dir:file("a", "old")
    local gone = dir:file("gone", "x")
    local src = dir:file("src", "added")
    local s <close> = assert(rm.start_session())
    local tx <close> = assert(s:transaction())
    assert.is_true(tx:write(target, "new\0bytes"))
    assert.is_true(tx:add(dir.path .. "/b", src))
    assert.is_true(tx:remove(gone))
    local ok, msg = tx:commit()
    assert.is_true(ok, msg)
    assert.equal("new\0bytes", read(target))
    assert.equal("added", read(dir.path .. "/b"))
    assert.is_nil(read(gone))
    assert.equal("", temporaries(dir.path))
  end)

  it("rolls back what is staged when closed uncommitted", function()
    local dir <close> = helper.tmpdir()
    local target = dir:file("a", "old")
    local src = dir:file("src", "new")
    local s <close> = assert(rm.start_session())
    do
      local tx <close> = assert(s:transaction())
      assert.is_true(tx:replace(target, src))
      assert.is_not.equal("", temporaries(dir.path))
    end
    assert.equal("", temporaries(dir.path))
    assert.equal("old", read(target))
    local tx = assert(s:transaction())
    assert.is_true(tx:replace(target, src))
    assert.is_true(tx:close())
    assert.is_true(tx:close())               -- idempotent
    assert.equal("restartmgr.transaction (closed)", tostring(tx))
    helper.raises("closed transaction", function() tx:commit() end)
    assert.equal("", temporaries(dir.path))
    assert.same({}, rm.recover())
  end)

  it("returns nil, msg, code, report and puts nothing in place when an app "
     .. "will not stop", function()
    local dir <close> = helper.tmpdir()
    local target = dir:file("a", "old")
    local src = dir:file("src", "new")
    local h <close> = helper.spawn_holder{ dir = dir, path = target,
                                           mode = "stubborn" }
    local s <close> = assert(rm.start_session())
    local tx <close> = assert(s:transaction())
    assert.is_true(tx:replace(target, src))
    local ok, msg, code, report = tx:commit{ timeout = 0.3 }
    kill_restarted(report)
    helper.fails("ERROR_FAIL_SHUTDOWN", "commit", ok, msg, code)
    assert.is_false(report.committed)
    assert.equal("staged", report.files[1].outcome)
    assert.equal("old", read(target))
    assert.is_false(helper.gone(h.pid))
    assert.equal("", temporaries(dir.path))
  end)

  it("names the culprit of a failed staging", function()
    local dir <close> = helper.tmpdir()
    local s <close> = assert(rm.start_session())
    local tx <close> = assert(s:transaction())
    local ok, msg, code = tx:replace(dir.path .. "/missing", dir.path .. "/x")
    helper.fails("ERROR_FILE_NOT_FOUND", "replace", ok, msg, code)
    assert.truthy(msg:find(dir.path .. "/x", 1, true))
    ok, msg, code = tx:replace(dir:file("t", ""), dir.path)
    helper.fails("ERROR_ACCESS_DENIED", "replace", ok, msg, code)
  end)

  it("re-raises a progress callback's error after putting files back",
     function()
    local dir <close> = helper.tmpdir()
    local target = dir:file("a", "old")
    local src = dir:file("src", "new")
    local h <close> = helper.spawn_holder{ dir = dir, path = target }
    local s <close> = assert(rm.start_session())
    local tx <close> = assert(s:transaction())
    assert.is_true(tx:replace(target, src))
    local err = setmetatable({}, { __tostring = function() return "mine" end })
    local ok, e = pcall(tx.commit, tx, { progress = function() error(err) end })
    assert.is_false(ok)
    assert.equal(err, e)
    assert.equal("old", read(target))
    assert.is_false(helper.gone(h.pid))      -- cancelled at 0: not stopped
    assert.equal("", temporaries(dir.path))
  end)

  it("raises on misuse", function()
    local s <close> = assert(rm.start_session())
    helper.raises("invalid option 'dryrun'",
                  function() s:transaction{ dryrun = true } end)
    local tx <close> = assert(s:transaction{ dry_run = true })
    helper.raises("string expected", function() tx:replace(1, {}) end)
    helper.raises("zero byte", function() tx:replace("/a\0b", "/c") end)
    helper.raises("invalid option 'forced'",
                  function() tx:commit{ forced = true } end)
    helper.raises("invalid option 'remove'",
                  function() tx:tree("/a", "/b", { remove = true }) end)
    helper.raises("field 'timeout'", function() tx:commit{ timeout = -1 } end)
  end)
end)

describe("s:register{ trees = }", function()
  it("finds who uses anything under a directory; the Win32 rule stays",
     function()
    local dir <close> = helper.tmpdir()
    assert(os.execute("mkdir -p " .. helper.quote(dir.path .. "/a/b")))
    local deep = dir:file("a/b/deep.conf", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = deep }
    local s <close> = assert(rm.start_session())
    helper.fails("ERROR_ACCESS_DENIED", "register",
                 s:register{ files = { dir.path .. "/a" } })
    assert.is_true(s:register{ trees = { dir.path .. "/a" } })
    local apps = assert(s:list())
    local found
    for _, a in ipairs(apps) do
      if a.pid == h.pid then found = a end
    end
    assert.is_not_nil(found)
    assert.equal(deep, found.files[1].path)
    local ok, msg, code = s:register{ trees = { dir.path .. "/missing" } }
    helper.fails("ERROR_FILE_NOT_FOUND", "register", ok, msg, code)
    helper.raises("string expected for trees[1]",
                  function() s:register{ trees = { 1 } } end)
  end)
end)

describe("rm.recover()", function()
  it("returns an empty list when no installer died", function()
    assert.same({}, rm.recover())
  end)
end)
