-- SPDX-License-Identifier: MIT
-- restartmgr.cli.args: reading the command line.
--
-- M.parse(args, spec, usage) reads --long, --long=VALUE, --long VALUE,
-- the short aliases in spec, "--" and positional words.  spec maps option
-- names to "flag", "value" or "list"; spec.alias maps "-x" to a name;
-- spec.help is printed for --help (exit 0).  A usage error prints the
-- message and usage on standard error and ends the subcommand with 2.

local output = require "restartmgr.cli.output"

local M = {}

-- Returns opts, words, bad: bad(fmt, ...) is the usage error.
function M.parse(args, spec, usage)
  local opts, words, i, options = {}, {}, 1, true
  local function bad(fmt, ...)
    output.write(2, "restartmgr: " .. fmt:format(...) .. "\n" .. usage)
    output.exit(output.EXIT_USAGE)
  end
  while args[i] do
    local a = args[i]
    if options and a == "--" then
      options = false
    elseif options and a:sub(1, 1) == "-" and a ~= "-" then
      local name, value = a:match("^%-%-([^=]+)=(.*)$")
      name = name or (spec.alias and spec.alias[a]) or a:match("^%-%-(.+)$")
      local kind = name and spec[name]
      if name == "help" or a == "-h" then
        output.write(1, spec.help)
        output.exit(0)
      elseif not kind then
        bad("unknown option %s", a)
      elseif kind == "flag" then
        if value then bad("%s takes no value", a) end
        opts[name] = true
      else
        if not value then
          i = i + 1
          value = args[i]
          if value == nil then bad("%s needs a value", a) end
        end
        if kind == "list" then
          opts[name] = opts[name] or {}
          table.insert(opts[name], value)
        else
          opts[name] = value
        end
      end
    else
      words[#words + 1] = a
    end
    i = i + 1
  end
  return opts, words, bad
end

local cwd
-- path made absolute against the current directory (read once).
function M.absolute(path)
  if path:sub(1, 1) == "/" then return path end
  if not cwd then
    local p = assert(io.popen("pwd"))
    cwd = p:read("l")
    p:close()
  end
  return cwd .. "/" .. path
end

-- The FILE arguments: "-" reads newline-separated paths from stdin.
-- Each path is kept once, in the order given.
function M.file_args(words)
  local files, seen = {}, {}
  local function add(path)
    path = M.absolute(path)
    if not seen[path] then
      seen[path] = true
      files[#files + 1] = path
    end
  end
  for _, w in ipairs(words) do
    if w == "-" then
      for line in io.stdin:lines() do
        if line ~= "" then add(line) end
      end
    else
      add(w)
    end
  end
  return files
end

-- The longest --timeout: the library counts milliseconds in 32 bits.
M.MAX_TIMEOUT = (0xFFFFFFFF - 1) // 1000

-- --timeout, when given, must be a positive number of seconds, at most
-- M.MAX_TIMEOUT (a usage error, not the module's argument error).
function M.check_timeout(opts, bad)
  if opts.timeout then
    local t = tonumber(opts.timeout)
    if not t or not (t > 0) or not (t <= M.MAX_TIMEOUT) then
      bad("--timeout needs a positive number of seconds up to %d, not %s",
          M.MAX_TIMEOUT, opts.timeout)
    end
  end
end

-- A --pid value: a process id, 1 to 4294967295 (a usage error else).
function M.check_pid(p, bad)
  local n = p:match("^%d+$") and math.tointeger(tonumber(p))
  if not n or n <= 0 or n > 0xFFFFFFFF then
    bad("--pid needs a process id (1 to 4294967295), not %s", p)
  end
  return n
end

return M
