-- SPDX-License-Identifier: MIT
-- 14-stale_scripts_spec.lua: `restartmgr stale` on what an upgrade leaves
-- behind beyond mapped files (docs/linux.md, Replaced scripts and The
-- kernel): real perl and python3 processes whose scripts are replaced by
-- rename or written in place, restarted from the new script; a hostile
-- user (uid 65533, as root) flipping a symlink in a loop, who never makes
-- root list or restart root's processes; the kernel against a tree of
-- real-looking kernel file names (fault injection: this machine cannot be
-- given a newer installed kernel, and may have no /boot at all).  Script
-- runs are limited with --path to the test's own directories.
local helper = require "helper"
local dkjson = require "dkjson"

local cli, quote = helper.cli, helper.quote

local function decode(text)
  local v, _, err = dkjson.decode(text, 1, dkjson.null)
  assert(v, err)
  return v
end

local function cols(line)
  local t = {}
  for w in line:gmatch("%S+") do t[#t + 1] = w end
  return t
end

local function row_of(out, pid)
  for _, line in ipairs(helper.lines(out)) do
    local c = cols(line)
    if c[2] == tostring(pid) then return c end
  end
end

local function is_root() return helper.sh("id -u"):gsub("\n", "") == "0" end

-- {===== Interpreter processes (our children, through popen)

local Interp = {}
Interp.__index = Interp

function Interp:__close()
  if self.pipe then
    os.execute("kill -KILL " .. self.pid .. " 2>/dev/null")
    self.pipe:close()
    self.pipe = nil
  end
end
Interp.__gc = Interp.__close

-- Reaps it once something else ended it (a restart).
function Interp:reap()
  local r = table.pack(self.pipe:close())
  self.pipe = nil
  return table.unpack(r, 1, r.n)
end

local PERL = '$| = 1; print "$$\\n"; sleep 1 while 1;\n'
local PYTHON = 'import os, time\nprint(os.getpid(), flush=True)\n' ..
               'while True: time.sleep(1)\n'

-- Starts exe on script (without a terminal, so it is restartable), as
-- prefix (a command such as setpriv, or nil), and waits for its pid.
local function interp(exe, script, prefix)
  local cmd = ("exec setsid %s%s %s"):format(prefix and prefix .. " " or "",
                                             quote(exe), quote(script))
  local pipe = assert(io.popen(cmd, "r"))
  local line = pipe:read("l")
  assert(line, "no pid from " .. cmd)
  os.execute("sleep 0.05")       -- past the tick the start time is cut to
  return setmetatable({ pid = assert(tonumber(line)), pipe = pipe }, Interp)
end

local function write(path, text, mode)
  local f = assert(io.open(path, mode or "wb"))
  f:write(text)
  f:close()
end

-- Replaces path by rename: a new inode, as dpkg does.
local function replace(path, text)
  write(path .. ".new", text)
  assert(os.rename(path .. ".new", path))
end

-- }=====

describe("restartmgr stale on replaced scripts", function()
  it("lists perl and python3 whose script was replaced or written, " ..
     "never an untouched one", function()
    local dir <close> = helper.tmpdir()
    local renamed_pl = dir:file("renamed.pl", PERL)
    local written_pl = dir:file("written.pl", PERL)
    local renamed_py = dir:file("renamed.py", PYTHON)
    local written_py = dir:file("written.py", PYTHON)
    local untouched = dir:file("untouched.pl", PERL)
    local a <close> = interp("/usr/bin/perl", renamed_pl)
    local b <close> = interp("/usr/bin/perl", written_pl)
    local c <close> = interp("/usr/bin/python3", renamed_py)
    local d <close> = interp("/usr/bin/python3", written_py)
    local e <close> = interp("/usr/bin/perl", untouched)

    local out, _, code = cli{ "stale", "--path", dir.path }
    assert.equal(0, code)
    assert.equal("No process runs replaced or deleted files.",
                 helper.lines(out)[1])

    replace(renamed_pl, PERL)
    write(written_pl, "# changed\n", "ab")
    replace(renamed_py, PYTHON)
    write(written_py, "# changed\n", "ab")
    out, _, code = cli{ "stale", "--path", dir.path }
    assert.equal(1, code)
    local user = helper.sh("id -un"):gsub("\n", "")
    -- The name is the executable's: python3 is a link to python3.X.
    local py = helper.sh("readlink -f /usr/bin/python3"):match("([^/\n]+)\n")
    for _, x in ipairs{ { a, "perl", renamed_pl }, { b, "perl", written_pl },
                        { c, py, renamed_py }, { d, py, written_py } } do
      local row = row_of(out, x[1].pid)
      assert.same({ "-", tostring(x[1].pid), user, x[2], "yes", "script",
                    "replaced", x[3] }, row)
    end
    assert.is_nil(row_of(out, e.pid))

    out, _, code = cli{ "stale", "--json", "--path", dir.path }
    assert.equal(1, code)
    local j = decode(out)
    assert.same({}, j.deleted_files)
    assert.same({ renamed_pl, renamed_py, written_pl, written_py },
                j.replaced_scripts)
    local by = {}
    for _, p in ipairs(j.programs) do by[p.pid] = p end
    assert.equal(4, #j.programs)
    local p = by[a.pid]
    assert.equal(helper.start_time(a.pid), p.start_time)
    assert.same({ renamed_pl }, p.stale_files)
    assert.same({ path = renamed_pl, interpreter = "perl", why = "changed" },
                p.script)
    assert.is_true(p.restartable)
    assert.same({ path = written_py, interpreter = "python",
                  why = "changed" }, by[d.pid].script)
    assert.is_nil(by[e.pid])
  end)

  it("--restart relaunches a replaced script program, which then is " ..
     "not stale", function()
    local dir <close> = helper.tmpdir()
    local script = dir:file("loop.pl", PERL)
    local old <close> = interp("/usr/bin/perl", script)
    replace(script, PERL .. "# version 2\n")
    local out, _, code = cli{ "stale", "--restart", "--json", "--path",
                              dir.path }
    assert.equal(0, code)
    assert.same({ nil, "signal", 15 }, { old:reap() })
    local p = decode(out).programs[1]
    assert.equal(old.pid, p.pid)
    assert.equal("restarted", p.result)
    local new = p.new_pid
    finally(function() helper.kill(new) end)
    assert.are_not.equal(old.pid, new)
    assert.is_false(helper.gone(new))
    local f = assert(io.open("/proc/" .. new .. "/cmdline", "rb"))
    assert.equal("/usr/bin/perl\0" .. script .. "\0", f:read("a"))
    f:close()
    out, _, code = cli{ "stale", "--path", dir.path }
    assert.equal(0, code)
    assert.equal("No process runs replaced or deleted files.",
                 helper.lines(out)[1])
  end)

  it("never restarts the edited shell script that runs it", function()
    -- A deploy script that updates itself, then runs stale --restart
    -- without a terminal: it is its caller's parent, listed as
    -- detected_self and left running (else it would be stopped, and
    -- started again to run stale once more).
    local dir <close> = helper.tmpdir()
    local out = dir.path .. "/out.json"
    local script = dir:file("deploy.sh", table.concat({
      "sleep 0.1",
      "echo '# pulled' >> \"$0\"",
      ("%s %s stale --restart --json --path %s > %s"):format(
        quote(helper.lua), quote(helper.cli_script), quote(dir.path),
        quote(out)),
      "echo $? > " .. quote(dir.path .. "/code"),
      "echo $$",
      "exec sleep 30",         -- alive (same pid) until killed below
    }, "\n") .. "\n")
    local sh <close> = setmetatable({ pipe = assert(io.popen(
      "exec setsid sh " .. quote(script), "r")) }, { __index = Interp,
      __close = Interp.__close })
    sh.pid = assert(tonumber(sh.pipe:read("l")))
    local shell_pid = sh.pid
    local f = assert(io.open(dir.path .. "/code"))
    assert.equal("1", f:read("l"))
    f:close()
    f = assert(io.open(out))
    local j = decode(f:read("a"))
    f:close()
    assert.same({}, j.programs)
    assert.equal(1, #j.not_restartable)
    local p = j.not_restartable[1]
    assert.equal(shell_pid, p.pid)
    assert.equal("detected_self", p.why)
    assert.same({ path = script, interpreter = "shell", why = "changed" },
                p.script)
    assert.is_false(helper.gone(shell_pid))
  end)

  it("never lists or restarts root's processes for a hostile user's " ..
     "flipping symlink", function()
    if not is_root() then
      pending("needs root (a second user)")
      return
    end
    local dir <close> = helper.tmpdir()
    local evil <close> = helper.tmpdir()
    assert(os.execute("chmod 755 " .. quote(dir.path)))
    local roots = dir:file("root.pl", PERL)
    local mine = evil:file("mine.pl", PERL)
    local other = evil:file("other.pl", PERL)
    local link = evil.path .. "/link.pl"
    assert(os.execute(("ln -s %s %s && chown -h 65533:65533 %s %s %s %s && "
                       .. "chmod 755 %s"):format(quote(mine), quote(link),
      quote(link), quote(mine), quote(other), quote(evil.path),
      quote(evil.path))))
    local unrelated <close> = interp("/usr/bin/perl", roots)
    local through <close> = interp("/usr/bin/perl", link)
    local as_her = "setpriv --reuid=65533 --regid=65533 --clear-groups"
    local hers <close> = interp("/usr/bin/perl", link, as_her)
    local flip = ("while :; do ln -sfn %s %s; ln -sfn %s %s; echo x >> %s; "
                  .. "ln -sfn %s %s; done"):format(quote(roots), quote(link),
                  quote(other), quote(link), quote(other), quote(mine),
                  quote(link))
    local flipper = assert(io.popen(("exec %s sh -c %s & echo $!")
                                    :format(as_her, quote(flip))))
    local flipper_pid = assert(tonumber(flipper:read("l")))
    flipper:close()
    finally(function() helper.kill(flipper_pid) end)
    local before = { unrelated = helper.start_time(unrelated.pid),
                     through = helper.start_time(through.pid) }
    local restarted = {}
    for round = 1, 8 do
      local args = { "stale", "--json", "--path", dir.path, "--path",
                     evil.path }
      if round % 2 == 0 then table.insert(args, 2, "--restart") end
      local out = cli(args)
      local j = decode(out)
      for _, group in ipairs{ j.programs, j.not_restartable } do
        for _, p in ipairs(group) do
          assert.are_not.equal(unrelated.pid, p.pid)
          assert.are_not.equal(through.pid, p.pid)
          if p.new_pid and p.new_pid ~= dkjson.null then
            restarted[#restarted + 1] = p.new_pid
          end
        end
      end
    end
    helper.kill(flipper_pid)
    for _, pid in ipairs(restarted) do helper.kill(pid) end
    assert.equal(before.unrelated, helper.start_time(unrelated.pid))
    assert.equal(before.through, helper.start_time(through.pid))
    assert.is_false(helper.gone(unrelated.pid))
    assert.is_false(helper.gone(through.pid))
  end)
end)

describe("restartmgr stale and the kernel", function()
  local running = helper.sh("uname -r"):gsub("\n", "")

  -- A tree with boot/vmlinuz-NAME for each name, and lib/modules/NAME
  -- (with modules.dep) for each module name.
  local function tree(dir, images, modules)
    assert(os.execute("mkdir -p " .. quote(dir.path .. "/boot") .. " "
                      .. quote(dir.path .. "/lib/modules")))
    for _, n in ipairs(images) do
      write(dir.path .. "/boot/vmlinuz-" .. n, "image\n")
      write(dir.path .. "/boot/config-" .. n, "config\n")
    end
    for _, n in ipairs(modules or {}) do
      local m = dir.path .. "/lib/modules/" .. n
      assert(os.execute("mkdir -p " .. quote(m)))
      write(dir.path .. "/lib/modules/" .. n .. "/modules.dep", "")
    end
  end

  it("reports a reboot when a newer kernel of its flavour is installed",
     function()
    local dir <close> = helper.tmpdir()
    local newer = "999." .. running
    tree(dir, { running, "6.1.0-28-amd64", "6.1.0-29-cloud-amd64" },
         { running, newer })
    -- --path an empty directory: nothing else on the machine is looked at.
    local env = { env = { RESTARTMGR_KERNEL_ROOT = dir.path } }
    local out, _, code = cli({ "stale", "--path", dir.path }, env)
    assert.equal(1, code)
    local lines = helper.lines(out)
    assert.equal(("Reboot required (kernel): running %s, newest installed "
                  .. "%s."):format(running, newer), lines[#lines])
    out, _, code = cli({ "stale", "--json", "--path", dir.path }, env)
    assert.equal(1, code)
    assert.same({ running = running, newest = newer, reboot_required = true },
                decode(out).kernel)
  end)

  it("reports none when the running kernel is the newest", function()
    local dir <close> = helper.tmpdir()
    tree(dir, { running, "2.6.32-5-amd64" }, { running })
    local env = { env = { RESTARTMGR_KERNEL_ROOT = dir.path } }
    local out, _, code = cli({ "stale", "--path", dir.path }, env)
    assert.equal(0, code)
    assert.equal("No process runs replaced or deleted files.",
                 helper.lines(out)[1])
    assert.is_nil(out:find("Reboot required", 1, true))
    out, _, code = cli({ "stale", "--json", "--path", dir.path }, env)
    assert.equal(0, code)
    assert.same({ running = running, newest = running,
                  reboot_required = false }, decode(out).kernel)
    -- Nothing installed at all (as on this machine's firecracker VM).
    local empty <close> = helper.tmpdir()
    out, _, code = cli({ "stale", "--json", "--path", empty.path },
                       { env = { RESTARTMGR_KERNEL_ROOT = empty.path } })
    assert.equal(0, code)
    assert.same({ running = running, newest = dkjson.null,
                  reboot_required = false }, decode(out).kernel)
    -- --path limits the report to files: no kernel (without the test
    -- variable).
    out, _, code = cli({ "stale", "--json", "--path", empty.path })
    assert.equal(0, code)
    assert.equal(dkjson.null, decode(out).kernel)
  end)

  it("compares versions in Debian's order", function()
    local rm = require "restartmgr"
    assert.equal(-1, rm.compare_versions("1.0~rc1", "1.0"))
    assert.equal(1, rm.compare_versions("1:0.1", "9.9"))
    assert.equal(0, rm.compare_versions("1.0", "1.0-0"))
    assert.equal(-1, rm.compare_versions("6.1.0-9-amd64", "6.1.0-10-amd64"))
    assert.equal(1, rm.compare_versions("1.0a", "1.0"))
    assert.equal(-1, rm.compare_versions("1.0a", "1.0.1"))
    helper.raises("string contains zeros", function()
      rm.compare_versions("1\0", "1")
    end)
    helper.raises("absolute path expected", function() rm.kernel("boot") end)
    local ok, msg, code = rm.kernel("/nonexistent-rmtest")
    assert.is_nil(ok)
    assert.equal("kernel: /nonexistent-rmtest: not a directory", msg)
    assert.equal("ERROR_FILE_NOT_FOUND", code)
  end)
end)
