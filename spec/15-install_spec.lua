-- SPDX-License-Identifier: MIT
-- 14-install_spec.lua: `restartmgr install` and `restartmgr recover` on a
-- running demo app of several files (a Lua script that keeps them open
-- and reports the version it started with), as real processes.
local helper = require "helper"

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local t = f:read("a")
  f:close()
  return t
end

-- The demo app: keeps share/version, share/data and lib/libdemo open,
-- writes "PID VERSION" to its report, then waits on its fifo.
local APP = [[
local dir, report, fifo = arg[1], arg[2], arg[3]
local held = {}
for _, f in ipairs{ "share/version", "share/data", "lib/libdemo" } do
  held[#held + 1] = assert(io.open(dir .. "/" .. f, "rb"))
end
local version = held[1]:read("l")
local pid = assert(io.open("/proc/self/stat")):read("l"):match("^(%d+)")
local tmp = report .. ".tmp"
local r = assert(io.open(tmp, "wb"))
r:write(pid, " ", version, "\n")
r:close()
assert(os.rename(tmp, report))
io.stdout:write(pid, "\n")
io.stdout:flush()
local w = io.open(fifo, "rb")
if w then w:read("a") end
]]

local function make_version(root, name, v, extra)
  local d = root .. "/" .. name
  assert(os.execute("mkdir -p " .. helper.quote(d .. "/share") .. " "
                    .. helper.quote(d .. "/lib")))
  local files = { ["app.lua"] = APP, ["share/version"] = v .. "\n",
                  ["share/data"] = "data " .. v, ["lib/libdemo"] = "lib " .. v }
  for k, c in pairs(extra or {}) do files[k] = c end
  for rel, content in pairs(files) do
    local f = assert(io.open(d .. "/" .. rel, "wb"))
    f:write(content)
    f:close()
  end
  return d
end

-- Starts the installed app; returns { pid =, pipe = } (closed: killed).
local App = {}
App.__index = App
function App:__close()
  if self.pipe then
    if not helper.gone(self.pid) then helper.kill(self.pid) end
    self.pipe:close()
    self.pipe = nil
  end
end

local function start_app(dir, report, fifo)
  assert(os.execute("mkfifo " .. helper.quote(fifo)))
  local pipe = assert(io.popen(table.concat({ "exec setsid",
    helper.quote(helper.lua), helper.quote(dir .. "/app.lua"),
    helper.quote(dir), helper.quote(report), helper.quote(fifo) }, " "), "r"))
  return setmetatable({ pid = assert(tonumber(pipe:read("l"))), pipe = pipe },
                      App)
end

-- The running app's report, once it names a live process.
local function running_report(report)
  local pid, version
  helper.eventually(function()
    local t = read(report) or ""
    pid, version = t:match("^(%d+) (%S+)")
    return pid and not helper.gone(tonumber(pid))
  end, 5)
  return tonumber(pid), version
end

local function version_of(dir)
  local v = read(dir .. "/share/version")
  local d, l = read(dir .. "/share/data"), read(dir .. "/lib/libdemo")
  if v == "1\n" and d == "data 1" and l == "lib 1" and
     read(dir .. "/share/new") == nil then return 1 end
  if v == "2\n" and d == "data 2" and l == "lib 2" and
     read(dir .. "/share/new") == "new" then return 2 end
  return 0
end

describe("restartmgr install", function()
  it("upgrades a running app as one transaction, and --dry-run changes "
     .. "nothing", function()
    local root <close> = helper.tmpdir()
    local app = make_version(root.path, "app", "1")
    local rel = make_version(root.path, "release", "2",
                             { ["share/new"] = "new" })
    local report = root.path .. "/report"
    local a <close> = start_app(app, report, root.path .. "/fifo")

    local out, err, code = helper.cli({ "install", "--tree", "--dry-run",
                                        "--json", rel, app })
    assert.equal(0, code, err)
    assert.truthy(out:find('"dry_run":true', 1, true))
    assert.truthy(out:find('"committed":false', 1, true))
    assert.truthy(out:find('"pid":' .. a.pid, 1, true))
    assert.equal(1, version_of(app))
    assert.is_false(helper.gone(a.pid))

    out, err, code = helper.cli({ "install", "--tree", "--timeout", "5",
                                  rel, app })
    local pid, version = running_report(report)
    if pid ~= a.pid then helper.kill(pid) end
    assert.equal(0, code, out .. err)
    assert.equal(2, version_of(app))
    assert.equal("2", version)
    assert.is_not.equal(a.pid, pid)
    assert.truthy(out:find("replace  new        " .. app .. "/share/data", 1,
                           true))
    assert.truthy(out:find("add      new        " .. app .. "/share/new", 1,
                           true))
    assert.equal("", helper.sh("find " .. helper.quote(app)
                               .. " -name '*.rmtx-*'"))
  end)

  it("replaces TARGETs from --from DIR and escapes what it prints", function()
    local root <close> = helper.tmpdir()
    local name = "odd\027[31mname"
    local target = root:file(name, "old")
    assert(os.execute("mkdir " .. helper.quote(root.path .. "/new")))
    local f = assert(io.open(root.path .. "/new/" .. name, "wb"))
    f:write("new")
    f:close()
    local out, err, code = helper.cli({ "install", "--from",
                                        root.path .. "/new", target })
    assert.equal(0, code, err)
    assert.equal("new", read(target))
    assert.is_nil(out:find("\027", 1, true))
  end)

  it("reports usage errors with exit status 2", function()
    local _, err, code = helper.cli({ "install", "/x" })
    assert.equal(2, code)
    assert.truthy(err:find("--from or --tree", 1, true))
    _, _, code = helper.cli({ "install", "--tree", "/a" })
    assert.equal(2, code)
  end)
end)

describe("restartmgr who --tree", function()
  it("lists who uses anything under a directory", function()
    local root <close> = helper.tmpdir()
    assert(os.execute("mkdir -p " .. helper.quote(root.path .. "/d/e")))
    local f = root:file("d/e/held", "x")
    local h <close> = helper.spawn_holder{ dir = root, path = f }
    local out, err, code = helper.cli({ "who", "--tree", root.path .. "/d" })
    assert.equal(0, code, err)
    assert.truthy(out:find("\n" .. h.pid .. " ", 1, true), out)
    assert.truthy(out:find(f, 1, true))
    _, err, code = helper.cli({ "who", root.path .. "/d" })
    assert.equal(1, code)
    assert.truthy(err:find("a directory cannot be registered", 1, true))
  end)
end)

describe("restartmgr recover", function()
  it("says there is nothing to do", function()
    local out, err, code = helper.cli({ "recover", "--json" })
    assert.equal(0, code, err)
    assert.equal('{"error":null,"recovered":[]}\n', out)
  end)

  it("undoes the install of a killed installer and restarts the app",
     function()
    local root <close> = helper.tmpdir()
    local app = make_version(root.path, "app", "1")
    local rel = make_version(root.path, "release", "2",
                             { ["share/new"] = "new" })
    local report = root.path .. "/report"
    local a <close> = start_app(app, report, root.path .. "/fifo")
    -- Journal writes: 1 begin, 2 and 3 staging, 4 the apps captured,
    -- 5 swapping: killed with the app stopped and nothing swapped yet.
    local _, _, code = helper.cli({ "install", "--tree", rel, app },
                                  { env = { RESTARTMGR_TX_KILL_AT = "5" } })
    assert.is_not.equal(0, code)
    assert.is_true(helper.wait_gone(a.pid, 5))
    assert.is_not.equal("", helper.sh("find " .. helper.quote(app)
                                      .. " -name '*.rmtx-*'"))
    local out, err
    out, err, code = helper.cli({ "recover" })
    local pid, version = running_report(report)
    if pid ~= a.pid then helper.kill(pid) end
    assert.equal(0, code, err)
    assert.truthy(out:find("rolled back 4 entries", 1, true), out)
    assert.truthy(out:find("started 1 apps", 1, true), out)
    assert.equal(1, version_of(app))
    assert.equal("1", version)
    assert.equal("", helper.sh("find " .. helper.quote(app)
                               .. " -name '*.rmtx-*'"))
  end)
end)
