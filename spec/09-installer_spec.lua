-- SPDX-License-Identifier: MIT
-- 09-installer_spec.lua: examples/installer.lua refuses what is unsafe
-- before it stops anything, with real holders (one in a pseudo-terminal,
-- through script(1), to be a console program).
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

-- A holder with a controlling terminal (a pty from script -q): the core
-- classifies it as a console program.  Closing kills it by pid and reaps
-- script, our child.
local Console = {}
Console.__index = Console
function Console:__close()
  if self.pipe then
    if not helper.gone(self.pid) then os.execute("kill -KILL " .. self.pid) end
    self.pipe:close()
    self.pipe = nil
  end
end

local function spawn_console(dir, path)
  local fifo = dir.path .. "/console.fifo"
  assert(os.execute("mkfifo " .. helper.quote(fifo)))
  local inner = table.concat({ "exec", helper.quote(helper.lua),
    helper.quote(helper.holder_script), "open", helper.quote(path),
    helper.quote(fifo) }, " ")
  local pipe = assert(io.popen("exec script -qec " .. helper.quote(inner)
                               .. " /dev/null </dev/null", "r"))
  local pid = tonumber((pipe:read("l") or ""):match("(%d+)"))
  assert(pid, "the console holder did not start")
  return setmetatable({ pid = pid, pipe = pipe }, Console)
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
  it("upgrades a held file with --yes, with plain progress in a pipe",
     function()
    local dir <close> = helper.tmpdir()
    local target, from = setup(dir)
    local h <close> = helper.spawn_holder{ dir = dir, path = target }
    local out, err, code = installer{ "--yes", "--timeout", "10", "--from",
                                      from, target }
    local now = holders(target)             -- the relaunched holder
    finally(function()
      for pid in pairs(now) do helper.kill(pid) end
    end)
    assert.equal(0, code)
    assert.equal("", err)
    assert.equal("version 2\n", read(target))
    assert.is_nil(read(target .. ".rm-new"))
    assert.same({ nil, "signal", 15 }, { h:reap() })
    assert.truthy(out:find("\n  stopping 0%\n  stopping 100%\n", 1, true))
    assert.truthy(out:find("\n  restarting 0%\n  restarting 100%\n", 1, true))
    assert.is_nil(out:find("\r", 1, true))
    assert.truthy(out:find("TYPE unknown = an ordinary program", 1, true))
    local pid, a = next(now)
    assert.are_not.equal(h.pid, pid)
    assert.equal("lua5.4", a.name)
  end)

  it("stops nothing when --from is not a directory", function()
    local dir <close> = helper.tmpdir()
    local target = setup(dir)
    local h <close> = helper.spawn_holder{ dir = dir, path = target }
    local out, _, code = installer{ "--yes", "--from", dir.path .. "/nope",
                                    target }
    assert.equal(2, code)
    assert.equal("Nothing was stopped; these must be fixed first:\n"
                 .. "  --from " .. dir.path .. "/nope: not a readable "
                 .. "directory\n", out)
    assert.is_false(helper.gone(h.pid))
    assert.equal("version 1\n", read(target))
  end)

  it("stops nothing when a new file or a destination is missing", function()
    local dir <close> = helper.tmpdir()
    local target, from = setup(dir)
    local other = dir:file("other.dat", "x")         -- no new version
    local h <close> = helper.spawn_holder{ dir = dir, path = target }
    local nowhere = dir.path .. "/no-dir/app.conf"   -- new version exists
    local out, _, code = installer{ "--yes", "--from", from, target, other,
                                    nowhere }
    assert.equal(2, code)
    assert.equal("Nothing was stopped; these must be fixed first:\n"
                 .. "  " .. other .. ": no readable new version " .. from
                 .. "/other.dat\n"
                 .. "  " .. nowhere .. ": directory " .. dir.path
                 .. "/no-dir is not writable\n", out)
    assert.is_false(helper.gone(h.pid))
    assert.equal("version 1\n", read(target))
    assert.is_nil(read(target .. ".rm-new"))         -- the staged copy went
  end)

  it("refuses to stop a console program without --stop-console", function()
    local dir <close> = helper.tmpdir()
    local target, from = setup(dir)
    local c <close> = spawn_console(dir, target)
    local out, _, code = installer{ "--yes", "--from", from, target }
    assert.equal(1, code)
    assert.truthy(out:find(("These run in a terminal; stopping them would "
      .. "end them for good (they cannot be restarted):\n  pid %d lua5.4\n"
      .. "Close them, or pass --stop-console.  Nothing was stopped.\n")
      :format(c.pid), 1, true))
    assert.is_false(helper.gone(c.pid))
    assert.equal("version 1\n", read(target))
    assert.is_nil(read(target .. ".rm-new"))

    out, _, code = installer{ "--yes", "--stop-console", "--timeout", "10",
                              "--from", from, target }
    assert.equal(0, code)
    assert.is_true(helper.wait_gone(c.pid))
    assert.equal("version 2\n", read(target))
  end)

  it("replaces nothing when a stop fails, restarts what it stopped, exits 1",
     function()
    local dir <close> = helper.tmpdir()
    local target, from = setup(dir)
    local good <close> = helper.spawn_holder{ dir = dir, path = target }
    local stubborn <close> = helper.spawn_holder{ dir = dir, path = target,
                                                  mode = "stubborn" }
    local out, _, code = installer{ "--yes", "--timeout", "0.5", "--from",
                                    from, target }
    local now = holders(target)
    finally(function()
      for pid in pairs(now) do
        if pid ~= stubborn.pid then helper.kill(pid) end
      end
    end)
    assert.equal(1, code)
    assert.truthy(out:find("ERROR_FAIL_SHUTDOWN", 1, true))
    assert.truthy(out:find("\nNothing was replaced.\n", 1, true))
    assert.truthy(out:find(("\npid %d %%S+ did not stop within the "
                            .. "timeout%%.\n"):format(stubborn.pid)))
    assert.equal("version 1\n", read(target))
    assert.is_nil(read(target .. ".rm-new"))
    assert.same({ nil, "signal", 15 }, { good:reap() })
    assert.is_false(helper.gone(stubborn.pid))
    -- The good holder was started again: a new lua5.4 holds the file.
    local relaunched
    for pid, a in pairs(now) do
      if pid ~= stubborn.pid then relaunched = a end
    end
    assert.truthy(relaunched, "the stopped holder was not restarted")
    assert.are_not.equal(good.pid, relaunched.pid)
    assert.equal("lua5.4", relaunched.name)
  end)

  it("asks nothing and stops nothing without --yes off a terminal",
     function()
    local dir <close> = helper.tmpdir()
    local target, from = setup(dir)
    local h <close> = helper.spawn_holder{ dir = dir, path = target }
    local out, _, code = installer{ "--from", from, target }
    assert.equal(2, code)
    assert.truthy(out:find("Not asking: standard input is not a terminal.  "
                           .. "Pass --yes to proceed without confirmation.\n"
                           .. "Nothing was stopped.\n", 1, true))
    assert.is_false(helper.gone(h.pid))
    assert.equal("version 1\n", read(target))
    assert.is_nil(read(target .. ".rm-new"))
  end)

  it("asks on a terminal, and draws a bar there", function()
    local dir <close> = helper.tmpdir()
    local target, from = setup(dir)
    local h <close> = helper.spawn_holder{ dir = dir, path = target }
    -- script(1) runs the installer on a pseudo-terminal and types ANSWER.
    local function on_terminal(answer)
      local inner = table.concat({ "exec", helper.quote(helper.lua),
        "examples/installer.lua", "--timeout", "10", "--from",
        helper.quote(from), helper.quote(target) }, " ")
      return helper.run({ "script", "-qec", inner, "/dev/null" },
                        { stdin = answer })
    end
    local out, _, code = on_terminal("n\n")
    assert.equal(1, code)
    assert.truthy(out:find("Stop 1 program(s), install the new files and "
                           .. "restart them? [y/N] Nothing was stopped.", 1,
                           true))
    assert.is_false(helper.gone(h.pid))
    assert.equal("version 1\n", read(target))

    out, _, code = on_terminal("y\n")
    local now = holders(target)
    finally(function()
      for pid in pairs(now) do helper.kill(pid) end
    end)
    assert.equal(0, code)
    assert.same({ nil, "signal", 15 }, { h:reap() })
    assert.equal("version 2\n", read(target))
    assert.truthy(out:find("\r  stopping    [##############################]"
                           .. " 100%", 1, true))
  end)

  it("explains its words in the demo and calls the copy a copy", function()
    local out, _, code = installer{ "--demo" }
    assert.equal(0, code)
    assert.truthy(out:find("TYPE unknown = an ordinary program (no window, "
                           .. "no terminal, not a\n  service)", 1, true))
    assert.truthy(out:find("RESTART yes = restartmgr can start it again", 1,
                           true))
    assert.truthy(out:find("STATUS is the history of this session", 1, true))
    assert.truthy(out:find("(a local copy, standing in for a download)", 1,
                           true))
    assert.is_nil(out:find("Downloading", 1, true))
    assert.truthy(out:find("demoapp 2.0 is running", 1, true))
  end)

  it("has a --help that explains every option", function()
    local out, _, code = installer{ "--help" }
    assert.equal(0, code)
    for _, o in ipairs{ "--from DIR", "--run CMD", "--service NAME",
                        "--stop-console", "--force", "--only-registered",
                        "--timeout SECONDS", "--dry-run", "--yes", "--demo",
                        "Exit status" } do
      assert.truthy(out:find("\n  " .. o, 1, true)
                    or out:find("\n" .. o, 1, true), o)
    end
    local _, err
    _, err, code = installer{ "--bogus" }
    assert.equal(2, code)
    assert.equal("installer: unknown option --bogus (see --help)\n", err)
  end)
end)
