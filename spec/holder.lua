-- SPDX-License-Identifier: MIT
-- holder.lua: a process that holds a file, for the specs (see helper.lua).
--
--   lua5.4 spec/holder.lua MODE PATH FIFO
--
-- MODE is how PATH is held:
--   open   an open file handle (an fd), for as long as the holder runs;
--   map    a memory mapping: PATH is a shared library, dlopen'ed through
--          package.loadlib, and no fd stays open;
--   exec   nothing more: PATH is the interpreter running this script;
--   none   nothing at all (a process registered by identity).
-- Once it holds PATH the holder prints its pid on stdout, then blocks
-- opening and reading FIFO: it exits when someone opens FIFO for writing
-- and closes it, or on any signal.  It uses no stdin and starts no
-- children, so a copy relaunched by rm_restart (stdio on /dev/null,
-- same argv, cwd and environment) behaves exactly the same.

local mode, path, fifo = arg[1], arg[2], arg[3]
assert(mode and path and fifo, "usage: holder.lua MODE PATH FIFO")

local held
if mode == "open" then
  held = assert(io.open(path, "rb"))
elseif mode == "map" then
  assert(package.loadlib(path, "*"))
elseif mode ~= "exec" and mode ~= "none" then
  error("unknown mode " .. mode)
end

local self_stat = assert(io.open("/proc/self/stat"))
io.stdout:write(self_stat:read("l"):match("^(%d+)"), "\n")
self_stat:close()
io.stdout:flush()

local wait = io.open(fifo, "rb")    -- blocks until a writer opens it
if wait then wait:read("a") end     -- and until that writer closes it
if held then held:close() end
