-- SPDX-License-Identifier: MIT
-- 12-cli_modules_spec.lua: the restartmgr command as Lua modules
-- (restartmgr.cli.*, docs/command.md), run in this process with the
-- output captured: exact exit codes and exact text, real holder
-- processes.  07-cli_spec.lua and 08-stale_spec.lua run the same code as
-- the installed script does, as a subprocess.
local helper = require "helper"
local dkjson = require "dkjson"
local rm = require "restartmgr"

local cli = require "restartmgr.cli"
local output = require "restartmgr.cli.output"
local json = require "restartmgr.cli.json"
local who = require "restartmgr.cli.who"
local stale = require "restartmgr.cli.stale"
local shutdown = require "restartmgr.cli.shutdown"
local restart = require "restartmgr.cli.restart"
local session = require "restartmgr.cli.session"

-- Runs fn(...) with standard output and error captured (tty: what
-- output.isatty answers) and returns stdout, stderr and fn's results.
local function captured(tty, fn, ...)
  local out, err = {}, {}
  local restore = output.redirect{
    stdout = function(s) out[#out + 1] = s end,
    stderr = function(s) err[#err + 1] = s end,
    tty = tty }
  local r = table.pack(pcall(fn, ...))
  restore()
  if not r[1] then error(r[2], 0) end
  return table.concat(out), table.concat(err), table.unpack(r, 2, r.n)
end

local function run(mod, args) return captured(false, mod.run, args) end

local function whoami()
  return (helper.sh("id -un"):gsub("\n$", ""))
end

-- The sessions of the store that this process owns.
local function my_sessions()
  local mine = {}
  for _, x in ipairs(assert(rm.sessions())) do
    if x.owner.pid == helper.self_pid() then mine[#mine + 1] = x end
  end
  return mine
end

describe("restartmgr.cli modules", function()
  it("find each other next to the C module, and take its version", function()
    assert.equal("string", type(rm.version))
    assert.equal("restartmgr " .. rm.version, rm._VERSION)
    assert.equal(rm.version, cli.version)
    assert.same({ "who", "stale", "shutdown", "restart", "install",
                  "recover", "session" }, cli.commands)
    for _, name in ipairs(cli.commands) do
      local m = require("restartmgr.cli." .. name)
      assert.equal("function", type(m.run))
      assert.truthy(m.help:find("Exit status", 1, true))
    end
  end)

  it("main returns the codes the script exits with", function()
    local out, err, code = captured(false, cli.main, { "--version" })
    assert.same({ ("restartmgr %s (restartmgr %s)\n"):format(rm.version,
                                                             rm.version),
                  "", 0 }, { out, err, code })
    out, err, code = captured(false, cli.main, { "--help" })
    assert.same({ cli.help, "", 0 }, { out, err, code })
    out, err, code = captured(false, cli.main, {})
    assert.same({ "", cli.help, 2 }, { out, err, code })
    out, err, code = captured(false, cli.main, { "frobnicate" })
    assert.same({ "", "restartmgr: unknown command frobnicate\n" .. cli.help,
                  2 }, { out, err, code })
    out, err, code = captured(false, cli.main, { "who", "--help" })
    assert.same({ who.help, "", 0 }, { out, err, code })
  end)

  it("gives every subcommand --help (0) and usage errors (2)", function()
    for _, m in ipairs{ who, stale, shutdown, restart, session } do
      local out, err, code = run(m, { "--help" })
      assert.same({ m.help, "", 0 }, { out, err, code })
      out, err, code = run(m, { "--frobnicate" })
      assert.same({ "", "restartmgr: unknown option --frobnicate\n" .. m.help,
                    2 }, { out, err, code })
    end
    local cases = {
      { who, {}, "who needs at least one FILE (or -, or --tree DIR)" },
      { who, { "--json=yes", "/x" }, "--json=yes takes no value" },
      { stale, { "--dry-run" }, "--dry-run goes with --restart" },
      { stale, { "/x" }, "stale takes no FILE arguments" },
      { stale, { "--timeout" }, "--timeout needs a value" },
      { shutdown, {}, "nothing to shutdown: give FILEs, --pid or --service" },
      { restart, {}, "nothing to restart: give FILEs, --pid or --service" },
      { shutdown, { "--pid", "0" },
        "--pid needs a process id (1 to 4294967295), not 0" },
      { shutdown, { "--pid", "4294967296" },
        "--pid needs a process id (1 to 4294967295), not 4294967296" },
      { shutdown, { "--pid", "99999999999999999999" },
        "--pid needs a process id (1 to 4294967295), not 99999999999999999999" },
      { restart, { "--timeout", "-1", "/x" },
        "--timeout needs a positive number of seconds up to 4294967, not -1" },
      { restart, { "--timeout", "1e300", "/x" },
        "--timeout needs a positive number of seconds up to 4294967, not 1e300" },
      { restart, { "--timeout", "nan", "/x" },
        "--timeout needs a positive number of seconds up to 4294967, not nan" },
      { stale, { "--restart", "--timeout", "4294968" },
        "--timeout needs a positive number of seconds up to 4294967, not 4294968" },
      { session, { "extra" }, "session takes no arguments" },
    }
    for _, c in ipairs(cases) do
      local out, err, code = run(c[1], c[2])
      assert.same({ "", "restartmgr: " .. c[3] .. "\n" .. c[1].help, 2 },
                  { out, err, code })
    end
  end)

  it("who lists a real holder and ends its session", function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("held.txt", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = path }
    local row = "%-7s %-10s %-11s %-14s %-16s %-12s %-17s %s\n"
    local out, err, code = run(who, { path })
    assert.same({ row:format("PID", "USER", "TYPE", "SERVICE", "NAME", "HOW",
                             "REASON", "FILE")
                  .. row:format(h.pid, whoami(), helper.holder_type, "-",
                                "lua5.4", "open", "-", path),
                  "", 0 }, { out, err, code })
    assert.same({}, my_sessions())

    out, err, code = run(who, { "--json", path })
    assert.same({ "", 0 }, { err, code })
    local j = assert(dkjson.decode(out, 1, dkjson.null))
    assert.same({ path }, j.files)
    assert.is_true(j.in_use)
    assert.equal(1, #j.processes)
    assert.equal(h.pid, j.processes[1].pid)
    assert.equal(whoami(), j.processes[1].user)
    assert.same({ { path = path, how = { "open_file" } } },
                j.processes[1].files)
    assert.same({}, my_sessions())
  end)

  it("who on unused and missing files: 1, and the tty line", function()
    local dir <close> = helper.tmpdir()
    local free = dir:file("free.txt", "x")
    local gone = dir.path .. "/gone.txt"
    local out, err, code = run(who, { free })
    assert.same({ "", "", 1 }, { out, err, code })
    out, err, code = captured(true, who.run, { free })
    assert.same({ ("No process uses %s.\n"):format(free), "", 1 },
                { out, err, code })
    out, err, code = run(who, { gone })
    assert.same({ "", ("restartmgr: %s: No such file or directory\n"):format(
                  gone), 1 }, { out, err, code })
    -- A name that would drive a terminal is shown escaped.
    local odd = dir.path .. "/odd\27[31m.txt"
    out, err, code = run(who, { odd })
    assert.same({ "", ("restartmgr: %s/odd\\x1b[31m.txt: No such file or "
                       .. "directory\n"):format(dir.path), 1 },
                { out, err, code })
  end)

  it("shutdown stops a real holder, with progress on the stderr writer",
     function()
    local dir <close> = helper.tmpdir()
    local path = dir:file("held.txt", "x")
    local h <close> = helper.spawn_holder{ dir = dir, path = path }
    local out, err, code = run(shutdown, { "--timeout", "10", path })
    assert.equal(0, code)
    assert.same({ nil, "signal", 15 }, { h:reap() })
    assert.equal("stopping 0%\nstopping 100%\n", err)
    local row = "%-7s %-11s %-14s %-16s %s\n"
    assert.equal(row:format("PID", "TYPE", "SERVICE", "NAME", "STATUS")
                 .. row:format(h.pid, helper.holder_type, "-", "lua5.4",
                               "stopped"), out)
    assert.same({}, my_sessions())
  end)

  it("session lists a live session of this process", function()
    local s <close> = assert(rm.start_session())
    local out, err, code = run(session, { "--json" })
    assert.same({ "", 0 }, { err, code })
    local j = assert(dkjson.decode(out, 1, dkjson.null))
    local found
    for _, x in ipairs(j.sessions) do
      if x.key == s.key then found = x end
    end
    assert.truthy(found, out)
    assert.equal(helper.self_pid(), found.owner_pid)
    assert.is_false(found.shutdown_called)
    s:close()
    out, err, code = run(session, { "--json" })
    assert.equal("", err)
    assert.truthy(code == 0 or code == 1)
    for _, x in ipairs(assert(dkjson.decode(out, 1, dkjson.null)).sessions) do
      assert.not_equal(s.key, x.key)
    end
  end)
end)

describe("restartmgr.cli helpers", function()
  it("exit objects end a subcommand; other errors pass through", function()
    assert.equal(7, output.returning(function() output.exit(7) end))
    assert.equal(4, output.returning(function() return 4 end))
    local out, err, code = captured(false, output.returning, function()
      output.die(3, "bad %s", "thing\n")
    end)
    assert.same({ "", "restartmgr: bad thing\\x0a\n", 3 }, { out, err, code })
    helper.raises("boom", function()
      output.returning(function() error("boom") end)
    end)
  end)

  it("prints JSON with sorted keys, marked arrays and bytes as \\udcXX",
     function()
    assert.equal('{"a":[1,"x",2.5],"b":null,"c":"\\udcff\\n","d":{},'
                 .. '"e":[]}',
                 json.encode{ a = json.array{ 1, "x", 2.5 }, b = json.NULL,
                              c = "\255\n", d = {}, e = json.array() })
    -- a backslash after an invalid byte (the old encoder's bug)
    assert.equal('"\\udcff\\\\x"', json.encode("\255\\x"))
  end)

  it("escapes what a terminal would interpret, and quotes for sh",
     function()
    assert.equal("a\\x1b[31mb\\x7f\\xc2\\x9b",
                 output.shown("a\27[31mb\127\194\155"))
    assert.equal("caf\195\169", output.shown("caf\195\169"))
    assert.equal("\\xff", output.shown("\255"))
    assert.equal(5, output.shown(5))
    assert.equal([['it'\''s']], output.shell_quote("it's"))
  end)

  it("draws progress as lines, or as a bar on a terminal", function()
    local _, err = captured(false, function()
      local draw, finish = output.progress("stopping")
      draw(0) draw(50) finish()
    end)
    assert.equal("stopping 0%\nstopping 50%\n", err)
    local out
    out, err = captured(true, function()
      local draw, finish = output.progress("up", { fd = 1, indent = "  ",
                                                   width = 4 })
      draw(50) finish()
    end)
    assert.equal("", err)
    assert.equal("\r  up   [" .. ("#"):rep(15) .. ("."):rep(15) .. "]  50%\n",
                 out)
  end)
end)
