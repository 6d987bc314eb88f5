-- SPDX-License-Identifier: MIT
-- 13-stale-views_spec.lua: `restartmgr stale` finds stale processes by the
-- identity of what they map, in every mount namespace, whatever their
-- files are called, and never stops what the caller stands on (a real
-- tmux server, its shell and job, run from inside that tmux).  Every run
-- is limited with --path to the test's own directory.  The cases that
-- need root (mount namespaces, another user) say so and pass as pending.
local helper = require "helper"
local dkjson = require "dkjson"

local cli = helper.cli
local q = helper.quote
local is_root = helper.sh("id -u"):gsub("\n", "") == "0"
local USER_UID = "65531"

local function decode(text)
  local v, _, err = dkjson.decode(text, 1, dkjson.null)
  assert(v, err)
  return v
end

-- Every entry of a `stale --json` object, services' processes included.
local function entries(j)
  local all = {}
  for _, g in ipairs(j.services) do
    for _, a in ipairs(g.processes) do all[#all + 1] = a end
  end
  for _, a in ipairs(j.programs) do all[#all + 1] = a end
  for _, a in ipairs(j.not_restartable) do all[#all + 1] = a end
  return all
end

local function entry(j, pid)
  for _, a in ipairs(entries(j)) do
    if a.pid == pid then return a end
  end
end

local function alive(pid) return not helper.gone(pid) end

-- Reads a whole small file, or nil.
local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- Waits until path exists (at most seconds); its contents.
local function wait_file(path, seconds)
  local text
  helper.eventually(function()
    text = slurp(path)
    return text ~= nil and text:find("\n") ~= nil
  end, seconds)
  return text
end

describe("restartmgr stale, by identity", function()
  it("finds a stale process in a mount namespace of its own", function()
    if not is_root then
      pending("needs root (unshare --mount)")
      return
    end
    local dir <close> = helper.tmpdir()
    local lib = helper.library(dir, "libns.so")
    local fifo = dir.path .. "/ns.fifo"
    assert(os.execute("mkfifo " .. q(fifo)))
    -- unshare execs the holder: the pid it prints is the sandboxed one.
    local pipe = assert(io.popen(table.concat({
      "exec setsid unshare --mount --propagation private", q(helper.lua),
      q(helper.holder_script), "map", q(lib), q(fifo) }, " ")))
    local pid = assert(tonumber(pipe:read("l")))
    local ok, err = pcall(function()
      assert.are_not.equal(helper.sh("readlink /proc/self/ns/mnt"),
                           helper.sh("readlink /proc/" .. pid .. "/ns/mnt"))
      helper.replace(lib)
      local out, _, code = cli{ "stale", "--json", "--path", dir.path }
      assert.equal(1, code)
      local a = entry(decode(out), pid)
      assert.is_table(a, "the sandboxed process is not listed")
      assert.same({ lib }, a.stale_files)
      assert.is_false(a.restartable)
      assert.equal("sandboxed (own mount namespace)", a.why)
    end)
    os.execute("kill -KILL " .. pid)
    pipe:close()
    assert(ok, err)
  end)

  it("shows hostile names escaped, and registers none of them", function()
    local bin = os.getenv("RM_TEST_BIN")
    if not bin then
      -- luarocks test: the rock builds no C test helpers (lua.spec runs
      -- this through ctest, which names them).
      pending("needs the C test helpers (RM_TEST_BIN)")
      return
    end
    local dir <close> = helper.tmpdir()
    local holder = bin .. "/rm_holder"
    local names = { dir.path .. "/a\nb.so", dir.path .. "/ (deleted)",
                    dir.path .. "/\xff\x1b[31m.so" }
    for _, n in ipairs(names) do dir:copy(holder, n:match("[^/]*$")) end
    -- rm_holder maps each executable and deletes it, then says "ready".
    local argv = { q(holder) }
    for _, n in ipairs(names) do
      argv[#argv + 1] = "map-exec " .. q(n)
      argv[#argv + 1] = "unlink " .. q(n)
    end
    local ready = dir.path .. "/ready"
    local pid = assert(tonumber((helper.sh(table.concat(argv, " ") .. " >"
                                           .. q(ready) .. " 2>&1 & echo $!"))))
    local ok, err = pcall(function()
      assert.equal("ready\n", wait_file(ready, 10))
      local out, errtext, code = cli{ "stale", "--json", "--path", dir.path }
      assert.equal(1, code)
      assert.equal("", errtext)               -- nothing "cannot be registered"
      local a = entry(decode(out), pid)
      assert.is_table(a)
      local shown = {}
      for _, f in ipairs(a.stale_files) do shown[f] = true end
      assert.is_true(shown[dir.path .. "/a\\x0ab.so"])
      assert.is_true(shown[dir.path .. "/ (deleted)"])
      assert.is_true(shown[dir.path .. "/\\xff\\x1b[31m.so"])
      out, errtext, code = cli{ "stale", "--path", dir.path }
      assert.equal(1, code)
      assert.equal("", errtext)
      assert.is_nil(out:find("\27", 1, true))  -- no raw escape reaches a tty
    end)
    os.execute("kill -KILL " .. pid)
    assert(ok, err)
  end)

  it("is never steered by a user flipping a deleted name to libc",
     function()
    if not is_root then
      pending("needs root (a process of another user)")
      return
    end
    local dir <close> = helper.tmpdir()
    assert(os.execute("chmod 0777 " .. q(dir.path)))
    local lib = helper.library(dir, "libflip.so")
    local script = dir:copy(helper.holder_script, "holder.lua")
    local fifo = dir.path .. "/user.fifo"
    assert(os.execute(("mkfifo -m 0666 %s && chown %s %s %s"):format(
      q(fifo), USER_UID, q(lib), q(script))))
    local drop = "setpriv --reuid=" .. USER_UID .. " --regid=" .. USER_UID
                 .. " --clear-groups"
    local user = assert(io.popen(table.concat({ "exec setsid", drop,
      q(helper.lua), q(script), "map", q(lib), q(fifo) }, " ")))
    local user_pid = assert(tonumber(user:read("l")))
    local bystander <close> = helper.spawn_holder{ dir = dir, path = lib,
                                                     mode = "none" }
    -- The C library the bystander (and this process) maps now.
    local libc = (helper.sh("grep -o '/[^ ]*/libc\\.so[^ ]*' /proc/"
                            .. bystander.pid .. "/maps | head -1"))
                       :gsub("\n", "")
    assert.truthy(libc:find("libc", 1, true))
    -- The user deletes the mapped file and flips its name, in a loop (at
    -- the lowest priority and for a minute at most, so that a loaded
    -- machine still runs the lists).
    local flipper = assert(io.popen(table.concat({ "exec setsid",
      "timeout -s KILL 60 nice -n 19", drop,
      "sh -c", q('rm -f "$1"; echo $$; while :; do ln -s "$2" "$1"; '
                 .. 'rm -f "$1"; done'), "sh", q(lib), q(libc) }, " ")))
    local flipper_pid = assert(tonumber(flipper:read("l")))
    local ok, err = pcall(function()
      for _ = 1, 20 do
        local out, _, code = cli{ "stale", "--json", "--path", dir.path }
        assert.equal(1, code)
        local j = decode(out)
        assert.is_table(entry(j, user_pid), "the user's process is stale")
        assert.is_nil(entry(j, bystander.pid),
                      "a process mapping the current libc was reported")
        assert.is_nil(entry(j, helper.self_pid()))
        for _, a in ipairs(entries(j)) do
          assert.equal(a.pid, user_pid)
        end
      end
    end)
    os.execute("kill -KILL " .. flipper_pid .. " " .. user_pid)
    flipper:close()
    user:close()
    assert(ok, err)
  end)
end)

describe("restartmgr stale and terminals", function()
  local tmux = io.open("/usr/bin/tmux") and true
  local cpath = os.getenv("LUA_CPATH_5_4") or ""
  local lpath = os.getenv("LUA_PATH_5_4") or ""
  local store = os.getenv("RESTARTMGR_STATE_DIR") or ""

  it("never stops the tmux it runs in: server, shell, job and itself live",
     function()
    if not tmux then
      pending("tmux is not installed (.ci/bootstrap installs it)")
      return
    end
    local dir <close> = helper.tmpdir()
    local sock = dir.path .. "/sock"
    local t = dir:copy("/usr/bin/tmux", "tmux")
    local sh = dir:copy(helper.sh("readlink -f /bin/sh"):gsub("\n", ""), "sh")
    local lib = helper.library(dir, "libjob.so")
    local lib2 = helper.library(dir, "libprog.so")
    local function tmux_do(args)
      return (helper.sh(q(t) .. " -S " .. q(sock) .. " " .. args))
    end
    local job, relaunched              -- ended whatever happens below
    local ok, err = pcall(function()
      tmux_do("-f /dev/null new-session -d -s rm -x 200 -y 50 "
              .. q("exec " .. q(sh)))
      local server = assert(tonumber(tmux_do("display-message -p '#{pid}'")))
      local shell = assert(tonumber(tmux_do(
        "display-message -p '#{pane_pid}'")))
      -- A job of the pane's shell, mapping lib, on the pane's terminal.
      local jobfifo = dir.path .. "/job.fifo"
      assert(os.execute("mkfifo " .. q(jobfifo)))
      tmux_do("send-keys -t rm " .. q(table.concat({ q(helper.lua),
        q(helper.holder_script), "map", q(lib), q(jobfifo), ">",
        q(dir.path .. "/job.pid"), "&" }, " ")) .. " Enter")
      job = assert(tonumber(wait_file(dir.path .. "/job.pid", 10)))
      -- A plain program elsewhere: the one thing to restart.
      local prog <close> = helper.spawn_holder{ dir = dir, path = lib2,
                                                  mode = "map" }
      helper.replace(t)
      helper.replace(sh)
      helper.replace(lib)
      helper.replace(lib2)

      -- From inside the pane: --restart.
      local done = dir.path .. "/done"
      tmux_do("send-keys -t rm " .. q(table.concat({ "env",
        q("LUA_CPATH_5_4=" .. cpath), q("LUA_PATH_5_4=" .. lpath),
        q("RESTARTMGR_STATE_DIR=" .. store),
        q(helper.lua), q(helper.cli_script), "stale --restart --json",
        "--path", q(dir.path), ">", q(dir.path .. "/out"), "2>&1;",
        "echo $? >", q(done) }, " ")) .. " Enter")
      local status = wait_file(done, 60)
      local text = slurp(dir.path .. "/out") or ""
      assert.is_true(alive(server), "the tmux server was stopped")
      assert.is_true(alive(shell), "the pane's shell was stopped")
      assert.is_true(alive(job), "the job was stopped")
      assert.equal("1\n", status, text)       -- the console ones remain
      local j = decode(text:match("^[^{]*({.*)$") or text)
      assert.equal(server, tonumber(tmux_do("display-message -p '#{pid}'")))
      local s = entry(j, server)
      assert.same({ "detected_self" }, s.reasons)
      assert.equal("detected_self", s.why)
      assert.equal("detected_self", entry(j, shell).why)
      assert.equal("console (has a terminal)", entry(j, job).why)
      assert.equal(1, #j.programs)
      assert.equal(prog.pid, j.programs[1].pid)
      relaunched = j.programs[1].new_pid
      assert.equal("restarted", j.programs[1].result)

      -- From outside: the server is a terminal host, not restartable.
      local out, _, code = cli{ "stale", "--json", "--path", dir.path }
      assert.equal(1, code)
      j = decode(out)
      assert.equal("terminal host", entry(j, server).why)
      assert.is_false(entry(j, server).restartable)
      assert.same({ "terminal_host" }, entry(j, server).traits)
      assert.equal("console (has a terminal)", entry(j, shell).why)
      assert.equal("console (has a terminal)", entry(j, job).why)
    end)
    if job then os.execute("kill -KILL " .. job .. " 2>/dev/null") end
    if type(relaunched) == "number" then helper.kill(relaunched) end
    tmux_do("kill-server 2>/dev/null")
    assert(ok, err)
  end)
end)
