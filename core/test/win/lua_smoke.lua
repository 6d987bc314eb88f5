-- SPDX-License-Identifier: MIT
-- lua_smoke.lua: the restartmgr module under the Windows lua.exe (built
-- from Debian's Lua source with mingw-w64), run through Wine by ctest as
-- test lua.win_smoke.  Plain asserts: busted does not run there.
--
-- Environment (set by core/test/win/CMakeLists.txt):
--   LUA_CPATH_5_4          where restartmgr.dll is
--   RESTARTMGR_STATE_DIR   a private session store
--   RM_WINAPP              the rm_winapp.exe test helper

local rm = require "restartmgr"

local function check(cond, ...)
  if not cond then error(table.concat({ "check failed:", ... }, " "), 2) end
  return cond
end

-- The module and its tables.
check(type(rm) == "table")
check(rm.errors.ERROR_MORE_DATA == 234, "errors by name")
check(rm.errors[234] == "ERROR_MORE_DATA", "errors by code")

-- A session, its key and its string form.
local s <close> = assert(rm.start_session())
check(#s.key == 32 and s.key:match("^[0-9a-f]+$") ~= nil, "key", s.key)
check(s.primary == true, "primary")
check(tostring(s) == "restartmgr.session (" .. s.key .. ")", tostring(s))

-- Misuse raises.
check(not pcall(s.register, s, { filez = {} }), "unknown option")

-- A file this interpreter holds: the caller itself, a reboot reason.
local temp = assert(os.getenv("TEMP"), "TEMP")
local path = temp .. "\\rm-lua-smoke-" .. s.key .. ".txt"
local f = assert(io.open(path, "w"))
f:write("held by lua.exe\n")
f:flush()
assert(s:register{ files = { path } })
local apps, reboot = assert(s:list())
check(#apps == 1, "one app, got", #apps)
check(apps[1].type == "critical", apps[1].type)
check(reboot.detected_self == true, "detected_self")
check(apps[1].files[1].path == path, apps[1].files[1].path)
check(apps[1].files[1].how.open_file == true, "open_file")
local ok, msg, code = s:shutdown{}
check(ok == nil and code == "ERROR_FAIL_NOACTION_REBOOT", tostring(code), msg)
f:close()

-- A real Windows child holding the file: listed, then forced down.
local winapp = assert(os.getenv("RM_WINAPP"), "RM_WINAPP")
-- cmd /c drops the outer pair of quotes: the whole line is quoted once more.
local child = assert(io.popen('""' .. winapp .. '" --hold "' .. path .. '""'))
local line = assert(child:read("l"))
local pid = tonumber(line:match("^ready (%d+)$"))
check(pid ~= nil, "child said", line)
local t <close> = assert(rm.start_session())
assert(t:register{ files = { path } })
apps, reboot = assert(t:list())
check(#apps == 1 and apps[1].pid == pid, "the child, got", #apps)
check(next(reboot) == nil, "no reboot reason")
check(apps[1].name == "rm_winapp.exe", apps[1].name)
check(apps[1].status.running == true, "running")
check(apps[1].start_time == rm.process(pid).start_time, "identity")
-- A console program (it shares cmd's console): Ctrl-C stops it without
-- force, under Wine too (docs/windows.md, Console applications under
-- Wine).
ok, msg, code = t:shutdown{ timeout = 5 }
check(ok == true, tostring(code), msg)
apps = assert(t:list())
check(#apps == 1 and apps[1].status.stopped == true, "stopped")
check(rm.process(pid) == nil, "the child is gone")
child:close()
assert(t:close())
assert(t:close())                      -- idempotent

assert(s:close())
check(tostring(s) == "restartmgr.session (closed)", tostring(s))
os.remove(path)
print("lua.win_smoke: ok")
