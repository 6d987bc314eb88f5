-- SPDX-License-Identifier: MIT
-- demoapp.lua: the small application that examples/installer.lua upgrades.
--
--   ROOT/demoapp ROOT/lib/demoapp.lua ROOT
--
-- ROOT/demoapp is the installed program (a copy of the Lua
-- interpreter, so that the process has an executable of its own that the
-- upgrade replaces).  It keeps ROOT/share/demoapp/version.txt open for as
-- long as it runs, the way a program keeps its libraries and data files,
-- announces itself in ROOT/run/status ("demoapp VERSION pid PID"), then
-- sleeps by opening the fifo ROOT/run/wait, which nobody writes, until a
-- signal ends it.  It starts no child process and never polls.

local root = assert(arg[1], "usage: demoapp ROOT")

local data = assert(io.open(root .. "/share/demoapp/version.txt", "r"))
local version = data:read("l")

local stat = assert(io.open("/proc/self/stat", "r"))
local pid = stat:read("n")
stat:close()

local tmp = root .. "/run/status.tmp"
local status = assert(io.open(tmp, "w"))
status:write(("demoapp %s pid %d\n"):format(version, pid))
status:close()
assert(os.rename(tmp, root .. "/run/status"))

while true do
  local wait = io.open(root .. "/run/wait", "r")   -- blocks: no writer
  if not wait then os.exit(1) end
  wait:read("a")
  wait:close()
end
