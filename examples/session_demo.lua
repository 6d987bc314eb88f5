-- SPDX-License-Identifier: MIT
-- session_demo.lua: two installer processes sharing one restartmgr session.
--
--   lua5.4 examples/session_demo.lua
--
-- What it shows, as the Windows Restart Manager does it:
--   1. The primary installer starts a session and gets its key.
--   2. It starts a secondary installer, a second process, giving it the key
--      (the script runs itself with --secondary KEY FILE).  The two talk
--      over the secondary's stdin and stdout: it says READY when its part is
--      done, and the primary answers on its stdin when it may finish.
--   3. The secondary joins the session by key and registers a file; here it
--      also keeps that file open, so that somebody is using it.
--   4. The primary, which never registered anything itself, asks the
--      session who uses the registered resources: it sees the secondary's
--      registration, and the secondary's process holding the file.
--   5. The secondary closes its handle: that only detaches it.  The
--      primary ends the session, which removes it for everyone.
-- Nothing is shut down: see installer.lua for that.
--
-- Run from the repository root with the module on LUA_CPATH, e.g.
--   LUA_CPATH='build/dev/lua/?.so;;' lua5.4 examples/session_demo.lua
-- Exit status 0 when every step behaved as described, 1 otherwise.

local rm = require "restartmgr"

-- {===== Small helpers

local function say(who, fmt, ...)
  local tag = who == "" and "" or "[" .. who .. "]"
  io.stdout:write(("%-11s %s\n"):format(tag, fmt:format(...)))
  io.stdout:flush()
end

local function quote(s)
  return "'" .. tostring(s):gsub("'", [['\'']]) .. "'"
end

local function check(ok, msg, ...)
  if not ok then
    io.stderr:write("session_demo: ", tostring(msg), "\n")
    os.exit(1)
  end
  return ok, msg, ...
end

-- }=====
-- {===== The secondary installer (a second process)

-- session_demo.lua --secondary KEY FILE
local function secondary(key, file)
  local s <close> = check(rm.join_session(key))
  say("secondary", "joined session %s (primary = %s)", s.key, s.primary)
  local held <close> = check(io.open(file, "rb"))
  check(s:register{ files = { file } })
  say("secondary", "registered %s and keeps it open", file)
  io.stdout:write("READY\n")          -- the primary waits for this line
  io.stdout:flush()
  -- Wait until the primary says we are done (a line on stdin, or its end
  -- if the primary went away).
  io.stdin:read("l")
  check(s:close())
  say("secondary", "closed its handle: it detached, the session lives on")
end

-- }=====
-- {===== The primary installer

local function describe_app(a)
  local how = {}
  for _, f in ipairs(a.files) do
    local kinds = {}
    for k in pairs(f.how) do kinds[#kinds + 1] = k end
    table.sort(kinds)
    how[#how + 1] = f.path .. " (" .. table.concat(kinds, ", ") .. ")"
  end
  return ("pid %d %-8s type %-11s restartable %-5s holds %s"):format(
    a.pid, a.name, a.type, tostring(a.restartable),
    #how > 0 and table.concat(how, "; ") or "(registered process)")
end

local function primary()
  local script = arg[0]
  local lua = arg[-1] or "lua5.4"
  local tmp = check(io.popen("mktemp -d")):read("l")
  local file = tmp .. "/app.conf"
  local out = tmp .. "/secondary.out"  -- a fifo: the secondary's stdout
  local f = check(io.open(file, "w"))
  f:write("version = 1\n")
  f:close()
  os.execute("mkfifo " .. quote(out))

  print("restartmgr session demo: two installer processes, one session")
  print()
  local s <close> = check(rm.start_session())
  say("primary", "started a session: key %s, handle %d", s.key, s.handle)
  say("primary", "starting a secondary installer with the key...")

  -- The shell opens the fifo before the secondary runs, so its output ends
  -- (EOF) whenever it exits, even if it fails before saying READY.
  local cmd = table.concat({ "exec", quote(lua), quote(script), "--secondary",
                             s.key, quote(file), ">" .. quote(out) }, " ")
  local child = check(io.popen(cmd, "w"))
  local child_out = check(io.open(out, "rb"))
  local ready = false
  for line in child_out:lines() do
    if line == "READY" then ready = true break end
    io.stdout:write(line, "\n")
  end
  if not ready then
    child_out:close()
    child:close()
    check(nil, "the secondary installer failed")
  end

  local apps, reboot = check(s:list())
  say("primary", "who uses what the session has registered (%d found):",
      #apps)
  local found = false
  for _, a in ipairs(apps) do
    say("", "  %s", describe_app(a))
    for _, u in ipairs(a.files) do found = found or u.path == file end
  end
  local reasons = {}
  for r in pairs(reboot) do reasons[#reasons + 1] = r end
  say("primary", "reboot needed: %s", #reasons > 0 and
      table.concat(reasons, ", ") or "no")

  say("primary", "telling the secondary it is done")
  child:write("done\n")
  child:flush()
  for line in child_out:lines() do io.stdout:write(line, "\n") end
  child_out:close()
  local child_ok = child:close()

  check(s:register{ files = { file } })  -- the session is still alive
  say("primary", "the session still works after the secondary left")
  local key = s.key
  check(s:close())
  local _, _, code = rm.join_session(key)
  say("primary", "ended the session; joining it now gives %s", code)
  os.execute("rm -rf " .. quote(tmp))

  if not (found and child_ok) then
    check(nil, found and "the secondary installer failed"
                     or "the secondary's registration was not visible")
  end
  print()
  print("ok: the primary saw the secondary's registration and its process")
end

-- }=====

if arg[1] == "--secondary" then
  secondary(arg[2], arg[3])
else
  primary()
end
