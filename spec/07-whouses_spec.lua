-- 07-whouses_spec.lua: the fuser-like tool examples/whouses.lua.
local helper = require "helper"

-- Runs whouses with these arguments; returns stdout and the exit code.
local function whouses(...)
  local args = {}
  for i, a in ipairs{ ... } do args[i] = helper.quote(a) end
  local out, _, code = helper.sh(table.concat({ "exec",
    helper.quote(helper.lua), "examples/whouses.lua", table.unpack(args) },
    " ") .. " 2>&1")
  return out, code
end

describe("examples/whouses.lua", function()
  it("says nobody uses a free file, and exits 0", function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("free.txt", "x")
    local out, code = whouses(path)
    assert.equal(0, code)
    assert.equal("No process uses " .. path .. "\n", out)
  end)

  it("prints a table of the holder, and exits 1", function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("held.txt", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = path }
    local out, code = whouses(path)
    assert.equal(1, code)
    local lines = {}
    for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.equal(2, #lines)
    assert.truthy(lines[1]:match("^PID%s+TYPE%s+RESTART%s+NAME%s+HOW%s+FILE$"))
    local pid, type, restart, name, how, file =
      lines[2]:match("^(%d+)%s+(%S+)%s+(%S+)%s+(%S+)%s+(%S+)%s+(%S+)$")
    assert.equal(h.pid, tonumber(pid))
    assert.equal("yes", restart)
    assert.truthy(name:find("lua", 1, true))
    assert.equal("open_file", how)
    assert.equal(path, file)
    assert.truthy(type)
  end)

  it("prints JSON with --json", function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("held.txt", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = path }
    local out, code = whouses("--json", path)
    assert.equal(1, code)
    assert.truthy(out:match('^{"files":%["' .. path:gsub("%p", "%%%0")
                            .. '"%],"in_use":true,"processes":%[{'))
    assert.truthy(out:find('"pid":' .. h.pid .. ',', 1, true))
    assert.truthy(out:find('"start_time":' .. helper.start_time(h.pid) .. ',',
                           1, true))
    assert.truthy(out:find('"files":[{"how":["open_file"],"path":"' .. path
                           .. '"}]', 1, true))
    assert.truthy(out:find('"status":["running"]', 1, true))
    assert.truthy(out:find('"service":null', 1, true))
    assert.truthy(out:match('"reboot":%[%]}\n$'))
  end)

  it("prints JSON for a free file, and exits 0", function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("a \"quoted\" name.txt", "x")
    local out, code = whouses("--json", path)
    assert.equal(0, code)
    assert.equal('{"files":["' .. path:gsub('"', '\\"')
                 .. '"],"in_use":false,"processes":[],"reboot":[]}\n', out)
  end)

  it("resolves relative paths from the current directory", function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("held.txt", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = path }
    local out, _, code = helper.sh(table.concat({ "cd", helper.quote(dir.path),
      "&& exec", helper.quote(helper.lua),
      helper.quote(helper.cwd .. "/examples/whouses.lua"), "held.txt" }, " "))
    assert.equal(1, code)
    assert.truthy(out:find(tostring(h.pid), 1, true))
    assert.truthy(out:find(path, 1, true))
  end)

  it("leaves itself out", function()
    local out, code = whouses(helper.sh("command -v " .. helper.lua)
                                :gsub("\n$", ""))
    assert.is_nil(out:find("critical", 1, true))
    assert.truthy(code == 0 or code == 1)   -- other interpreters may run
  end)

  it("exits 2 on errors and bad usage", function()
    local dir <close> = helper.tmpdir()
    local out, code = whouses(dir.path)
    assert.equal(2, code)
    assert.equal("whouses: list: ", out:sub(1, 15))
    out, code = whouses()
    assert.equal(2, code)
    assert.equal("usage: whouses.lua [--json] FILE...\n", out)
    out, code = whouses("--bogus", "/x")
    assert.equal(2, code)
    assert.equal("whouses: unknown option --bogus\n", out:match("^[^\n]*\n"))
  end)
end)
