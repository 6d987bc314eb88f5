-- SPDX-License-Identifier: MIT
-- 21-hostile_runsv_spec.lua: root's `restartmgr stale --restart
-- --services-only` (the apt hook's "services" mode) against a hostile
-- user's runit (docs/security.md, Services and Nothing blocks).  A user
-- made here with useradd runs the real runsv on a directory in their
-- home, named like a service, whose process maps a library replaced by
-- rename.  The directory has a ./check that records who ran it; the user
-- replaces supervise/control by a link to a root file and plants FIFOs as
-- supervise/stat, pid and status.  Root's command ends (it runs under
-- `timeout` itself, so a hang fails rather than hangs), lists the process
-- as that user's plain program, runs nothing of theirs as root and writes
-- nothing through the link.  Root is required (CI runs as root).
local helper = require "helper"
local dkjson = require "dkjson"

local q = helper.quote

local function sh_ok(cmd)
  local out, ok = helper.sh(cmd)
  assert(ok, "failed: " .. cmd .. "\n" .. out)
  return out
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

describe("root's stale against a user's runsv", function()
  it("treats it as the user's plain program: nothing run, written or "
     .. "blocked", function()
    assert.equal("0\n", helper.sh("id -u"))
    local dir <close> = helper.tmpdir()
    sh_ok("chmod 755 " .. q(dir.path))
    local user = ("rmt-st-%d"):format(helper.self_pid())
    sh_ok("useradd -r -U -M -d /nonexistent -s /usr/sbin/nologin " .. q(user))
    local runsv
    finally(function()
      if runsv then
        os.execute("kill -TERM " .. runsv .. " 2>/dev/null")
        if not helper.wait_gone(runsv, 10) then helper.kill(runsv) end
      end
      os.execute("userdel " .. q(user) .. " >/dev/null 2>&1")
      os.execute("groupdel " .. q(user) .. " >/dev/null 2>&1")
    end)

    local home = dir.path .. "/home"
    local name = "rm-hostile-svc"
    local sdir = home .. "/svc/" .. name
    local lib = helper.library(dir, "libhostile.so")
    sh_ok("chmod 644 " .. q(lib))
    sh_ok("mkdir -p " .. q(sdir))
    local holder = home .. "/holder.lua"
    sh_ok("cp " .. q(helper.holder_script) .. " " .. q(holder))
    local fifo = home .. "/svc.fifo"
    sh_ok("mkfifo " .. q(fifo))
    local run = assert(io.open(sdir .. "/run", "w"))
    run:write("#!/bin/sh\nexec 2>&1\nexec ", q(helper.lua), " ", q(holder),
              " map ", q(lib), " ", q(fifo), "\n")
    run:close()
    local check = assert(io.open(sdir .. "/check", "w"))
    check:write("#!/bin/sh\n: > ", q(home), "/check-ran.\"$(id -u)\"\n")
    check:close()
    sh_ok("chmod 755 " .. q(sdir .. "/run") .. " " .. q(sdir .. "/check"))
    sh_ok("chown -R " .. q(user .. ":" .. user) .. " " .. q(home))
    local target = dir:file("root-file", "untouched\n")
    sh_ok("chmod 644 " .. q(target))

    runsv = assert(tonumber(sh_ok(("setsid setpriv --reuid=%s --regid=%s "
      .. "--clear-groups runsv %s </dev/null >/dev/null 2>&1 & echo $!")
      :format(q(user), q(user), q(sdir)))))
    local pid = helper.eventually(function()
      local p = tonumber(read(sdir .. "/supervise/pid") or "")
      return p and (read(sdir .. "/supervise/stat") or ""):match("^run")
             and p
    end, 15)
    assert(pid, "the user's service did not come up")
    os.execute("sleep 1.2")
    -- What the user plants once runsv runs (it holds its control FIFO).
    local sup = sdir .. "/supervise/"
    sh_ok(("mv %s %s && ln -s %s %s && chown -h %s %s"):format(
      q(sup .. "control"), q(sup .. "control.fifo"), q(target),
      q(sup .. "control"), q(user .. ":" .. user), q(sup .. "control")))
    for _, f in ipairs{ "stat", "pid", "status" } do
      sh_ok(("rm -f %s && mkfifo %s && chown %s %s"):format(q(sup .. f),
        q(sup .. f), q(user .. ":" .. user), q(sup .. f)))
    end
    helper.replace(lib)

    local out, err, code = helper.run({ "timeout", "60", helper.lua,
      helper.cli_script, "stale", "--restart", "--services-only", "--json",
      "--path", dir.path }, { env = { SVDIR = home .. "/svc" } })
    assert.equal(1, code, "stderr: " .. err .. " stdout: " .. out)  -- listed, not restarted
    local j = assert(dkjson.decode(out, 1, dkjson.null))
    assert.same({}, j.services)
    assert.same({}, j.programs)
    assert.equal(1, #j.not_restartable)
    assert.equal(pid, j.not_restartable[1].pid)
    assert.equal("not a service", j.not_restartable[1].why)
    assert.is_nil(read(home .. "/check-ran.0"))     -- nothing ran as root
    assert.equal("untouched\n", read(target))       -- nothing written
    assert.is_false(helper.gone(pid))               -- nor stopped
  end)
end)
