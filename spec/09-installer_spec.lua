-- SPDX-License-Identifier: MIT
-- 09-installer_spec.lua: examples/installer.lua, a short script on the
-- transaction API, with real holders: an upgrade, a staging failure that
-- stops nothing, a program that will not stop (nothing replaced), and
-- names printed escaped.
local helper = require "helper"
local rm = require "restartmgr"

local function installer(args, opts)
  local argv = { helper.lua, "examples/installer.lua" }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  return helper.run(argv, opts)
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local t = f:read("a")
  f:close()
  return t
end

-- A target file held by a holder, and a --from directory with its new
-- version.
local function setup(dir)
  local target = dir:file("app.conf", "version 1\n")
  local from = dir.path .. "/new"
  assert(os.execute("mkdir " .. helper.quote(from)))
  local f = assert(io.open(from .. "/app.conf", "wb"))
  f:write("version 2\n")
  f:close()
  return target, from
end

-- Holders of path that the core sees now (pid -> entry), through the
-- module: how a test finds a holder that rm_restart relaunched.
local function holders(path)
  local s <close> = assert(rm.start_session())
  assert(s:register{ files = { path } })
  local by_pid = {}
  for _, a in ipairs(assert(s:list())) do by_pid[a.pid] = a end
  return by_pid
end

describe("examples/installer.lua", function()
  it("upgrades a held file and restarts its holder", function()
    local dir <close> = helper.tmpdir()
    local target, from = setup(dir)
    local h <close> = helper.spawn_holder{ dir = dir, path = target }
    local out, err, code = installer{ "--timeout", "10", "--from", from,
                                      target }
    local now = holders(target)             -- the relaunched holder
    finally(function()
      for pid in pairs(now) do helper.kill(pid) end
    end)
    assert.equal(0, code, out .. err)
    assert.equal("", err)
    assert.equal("version 2\n", read(target))
    assert.same({ nil, "signal", 15 }, { h:reap() })
    assert.truthy(out:find("upgrading 0%\n", 1, true))
    assert.truthy(out:find("\nupgrading 100%\n", 1, true))
    assert.truthy(out:find("  replace  new     " .. target, 1, true))
    local pid, a = next(now)
    assert.are_not.equal(h.pid, pid)
    assert.equal("lua5.4", a.name)
    assert.equal("", helper.sh("find " .. helper.quote(dir.path)
                               .. " -name '*.rmtx-*'"))
  end)

  it("stops nothing when a new file is missing, exits 2", function()
    local dir <close> = helper.tmpdir()
    local target, from = setup(dir)
    local other = dir:file("other.conf", "other 1\n")
    local h <close> = helper.spawn_holder{ dir = dir, path = target }
    local out, _, code = installer{ "--from", from, target, other }
    assert.equal(2, code)
    assert.truthy(out:find("^Nothing was stopped: replace: "))
    assert.truthy(out:find(from .. "/other.conf", 1, true))
    assert.is_false(helper.gone(h.pid))
    assert.equal("version 1\n", read(target))
    assert.equal("", helper.sh("find " .. helper.quote(dir.path)
                               .. " -name '*.rmtx-*'"))
  end)

  it("replaces nothing when a program will not stop, exits 1", function()
    local dir <close> = helper.tmpdir()
    local target, from = setup(dir)
    local good <close> = helper.spawn_holder{ dir = dir, path = target }
    local stubborn <close> = helper.spawn_holder{ dir = dir, path = target,
                                                  mode = "stubborn" }
    local out, _, code = installer{ "--timeout", "0.5", "--from", from,
                                    target }
    local now = holders(target)
    finally(function()
      for pid in pairs(now) do
        if pid ~= stubborn.pid then helper.kill(pid) end
      end
    end)
    assert.equal(1, code)
    assert.truthy(out:find("(ERROR_FAIL_SHUTDOWN)", 1, true))
    assert.equal("version 1\n", read(target))
    assert.same({ nil, "signal", 15 }, { good:reap() })
    assert.is_false(helper.gone(stubborn.pid))
    local relaunched
    for pid in pairs(now) do
      if pid ~= stubborn.pid then relaunched = pid end
    end
    assert.truthy(relaunched, "the stopped holder was not restarted")
  end)

  it("prints names escaped", function()
    local dir <close> = helper.tmpdir()
    local name = "evil\027]0;title\007.conf"
    local target = dir:file(name, "version 1\n")
    assert(os.execute("mkdir " .. helper.quote(dir.path .. "/new")))
    local f = assert(io.open(dir.path .. "/new/" .. name, "wb"))
    f:write("version 2\n")
    f:close()
    local out, err, code = installer{ "--from", dir.path .. "/new", target }
    assert.equal(0, code, err)
    assert.equal("version 2\n", read(target))
    assert.is_nil(out:find("\027", 1, true))
    assert.is_nil(out:find("\007", 1, true))
  end)
end)
