-- SPDX-License-Identifier: MIT
-- restartmgr.cli.output: what the command prints, and how it ends.
--
-- Everything the command writes goes through two writers, one per
-- stream, which a caller may replace (M.redirect): the specs run a
-- subcommand in-process and read exactly what it printed.  Whether a
-- stream is a terminal (a bar or plain lines, a "nothing found" line)
-- is asked through M.isatty, which a redirect answers too.
--
-- A subcommand ends by returning its exit code.  Deep inside, M.exit and
-- M.die end it early by raising an exit object that M.returning turns
-- back into the code (to-be-closed sessions are closed on the way);
-- only the installed script calls os.exit.  Calls run one way: cli.lua
-- -> the subcommands -> the helpers, and this module requires nothing.

local M = {}

M.EXIT_USAGE, M.EXIT_FAILURE = 2, 3

-- {===== Writers

local function default_write(fd, s)
  local f = fd == 2 and io.stderr or io.stdout
  f:write(s)
end

local write = default_write
local tty_answer           -- nil: ask the real descriptor; else a boolean

-- Writes s to fd 1 (standard output) or 2 (standard error).
function M.write(fd, s) write(fd, s) end

-- Flushes fd when it is a real stream (progress lines show at once).
function M.flush(fd)
  if write == default_write then
    (fd == 2 and io.stderr or io.stdout):flush()
  end
end

-- Sends the output to t.stdout and t.stderr (functions taking a string;
-- a missing one drops that stream) and makes M.isatty answer t.tty
-- (default false) until the returned function is called, which restores
-- what was there before.
function M.redirect(t)
  local saved_write, saved_tty = write, tty_answer
  write = function(fd, s)
    local w = fd == 2 and t.stderr or t.stdout
    if w then w(s) end
  end
  tty_answer = t.tty == true
  return function() write, tty_answer = saved_write, saved_tty end
end

local tty_cache = {}
-- True when file descriptor fd (0, 1 or 2) is a terminal.  Lua has no
-- isatty: the shell's test(1) sees the same descriptors we pass it.
function M.isatty(fd)
  if tty_answer ~= nil then return tty_answer end
  if tty_cache[fd] == nil then
    tty_cache[fd] = os.execute(("test -t %d"):format(fd)) == true
  end
  return tty_cache[fd]
end

-- }=====
-- {===== Escaping

-- Text from /proc, paths and names can hold anything, including terminal
-- escape sequences: every string printed in a table or message shows
-- control characters (C0, DEL, C1) and bytes of invalid UTF-8 as \xNN.
function M.shown(v)
  if type(v) ~= "string" then return v end
  local function hex(c)
    return (c:gsub(".", function(b) return ("\\x%02x"):format(b:byte()) end))
  end
  v = v:gsub("[%c\127]", hex):gsub("\194[\128-\159]", hex)
  if not utf8.len(v) then v = v:gsub("[\128-\255]", hex) end
  return v
end

local function shown_all(...)
  local t = table.pack(...)
  for i = 1, t.n do t[i] = M.shown(t[i]) end
  return table.unpack(t, 1, t.n)
end

-- s quoted for sh(1): one word whatever it holds.
function M.shell_quote(s)
  return "'" .. tostring(s):gsub("'", [['\'']]) .. "'"
end

-- }=====
-- {===== Printing and ending

-- fmt formatted with every argument shown, on standard output.
function M.printf(fmt, ...) write(1, fmt:format(shown_all(...))) end

-- "restartmgr: " and the message, on standard error.
function M.warn(fmt, ...)
  write(2, "restartmgr: " .. fmt:format(shown_all(...)) .. "\n")
end

local EXIT = { __name = "restartmgr.cli.exit" }

-- Ends the running subcommand with code.
function M.exit(code) error(setmetatable({ code = code }, EXIT), 0) end

-- Ends it with code after a message on standard error.
function M.die(code, fmt, ...)
  M.warn(fmt, ...)
  M.exit(code)
end

-- Calls fn(...) and returns its exit code (the value it returns, or the
-- one M.exit raised); any other error is raised again.
function M.returning(fn, ...)
  local ok, code = pcall(fn, ...)
  if ok then return code end
  if getmetatable(code) == EXIT then return code.code end
  error(code, 0)
end

-- }=====
-- {===== Small things the subcommands share

-- The keys of a set { k = true } whose value is true, sorted.
function M.sorted_keys(set)
  local keys = {}
  for k, v in pairs(set or {}) do if v then keys[#keys + 1] = k end end
  table.sort(keys)
  return keys
end

-- A progress callback for s:shutdown / s:restart: a bar redrawn in place
-- when fd is a terminal, else one plain line per step (logs and pipes get
-- no "\r"); and a function that ends a bar that stopped short of 100%.
-- o.fd (default 2), o.indent (default "") and o.width (of the label,
-- default 10) shape it.
function M.progress(label, o)
  o = o or {}
  local fd, indent, width = o.fd or 2, o.indent or "", o.width or 10
  local last
  local tty = M.isatty(fd)
  local function draw(percent)
    last = percent
    if tty then
      local done = percent * 30 // 100
      write(fd, ("\r%s%-" .. width .. "s [%s%s] %3d%%"):format(indent, label,
        ("#"):rep(done), ("."):rep(30 - done), percent))
      if percent == 100 then write(fd, "\n") end
    else
      write(fd, ("%s%s %d%%\n"):format(indent, label, percent))
    end
    M.flush(fd)
  end
  local function finish()
    if tty and last and last < 100 then write(fd, "\n") end
  end
  return draw, finish
end

-- }=====

return M
