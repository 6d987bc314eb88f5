-- whouses.lua: which processes use these files, like fuser(1).
--
--   lua5.4 examples/whouses.lua [--json] FILE...
--
-- Registers the files in a restartmgr session and lists the processes that
-- use them: an open file, a memory mapping (shared libraries), the
-- executable, or an older copy of the file (replaced or deleted since it
-- was opened, as after a package upgrade).  By default it prints a table,
-- one line per process and file:
--
--   PID    TYPE      RESTART  NAME      HOW        FILE
--   4242   console   no       vim       open_file  /etc/app.conf
--
-- With --json it prints one JSON object instead:
--
--   {"files":[...],"in_use":true,"processes":[{"pid":4242,"start_time":..,
--    "name":"vim","type":"console","service":null,"session_id":3,
--    "restartable":false,"status":["running"],
--    "files":[{"path":"/etc/app.conf","how":["open_file"]}]}],"reboot":[]}
--
-- "reboot" lists the reasons a restart of the machine would be needed to
-- replace the files (critical processes, processes it may not inspect).
-- Relative paths are taken from the current directory.  whouses leaves
-- itself out of the list (so a library it maps is not "in use" by it).
-- Exit status: 0 when nothing uses the files, 1 when something does, 2 on
-- error (bad usage, a directory, ...).
--
-- Run from the repository root with the module on LUA_CPATH, e.g.
--   LUA_CPATH='build/dev/lua/?.so;;' lua5.4 examples/whouses.lua /usr/bin/env

local rm = require "restartmgr"

local USAGE = "usage: whouses.lua [--json] FILE...\n"

local function die(msg)
  io.stderr:write("whouses: ", msg, "\n")
  os.exit(2, true)                          -- true: end the session too
end

-- {===== A tiny JSON encoder (objects with sorted keys, explicit arrays)

local ARRAY = {}                            -- metatable marking arrays
local NULL = setmetatable({}, { __name = "null" })

local function array(t) return setmetatable(t, ARRAY) end

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b",
                  ["\f"] = "\\f", ["\n"] = "\\n", ["\r"] = "\\r",
                  ["\t"] = "\\t" }

local function encode(v, out)
  local t = type(v)
  if v == NULL or v == nil then
    out[#out + 1] = "null"
  elseif t == "boolean" then
    out[#out + 1] = tostring(v)
  elseif t == "number" then
    out[#out + 1] = math.type(v) == "integer" and ("%d"):format(v)
                    or ("%.17g"):format(v)
  elseif t == "string" then
    out[#out + 1] = '"' .. v:gsub('[%c"\\]', function(c)
      return escapes[c] or ("\\u%04x"):format(c:byte())
    end) .. '"'
  elseif getmetatable(v) == ARRAY then
    out[#out + 1] = "["
    for i, x in ipairs(v) do
      if i > 1 then out[#out + 1] = "," end
      encode(x, out)
    end
    out[#out + 1] = "]"
  else
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys)
    out[#out + 1] = "{"
    for i, k in ipairs(keys) do
      if i > 1 then out[#out + 1] = "," end
      encode(k, out)
      out[#out + 1] = ":"
      encode(v[k], out)
    end
    out[#out + 1] = "}"
  end
  return out
end

-- }=====
-- {===== Arguments

local json, files = false, {}
do
  local options = true
  for _, a in ipairs(arg) do
    if options and a == "--json" then
      json = true
    elseif options and (a == "-h" or a == "--help") then
      io.stdout:write(USAGE)
      os.exit(0)
    elseif options and a == "--" then
      options = false
    elseif options and a:sub(1, 1) == "-" and a ~= "-" then
      io.stderr:write("whouses: unknown option ", a, "\n", USAGE)
      os.exit(2)
    else
      files[#files + 1] = a
    end
  end
  if #files == 0 then
    io.stderr:write(USAGE)
    os.exit(2)
  end
  local cwd
  for i, f in ipairs(files) do
    if f:sub(1, 1) ~= "/" then
      cwd = cwd or io.popen("pwd"):read("l")
      files[i] = cwd .. "/" .. f
    end
  end
end

-- }=====
-- {===== Ask the session

local function self_pid()
  local f = assert(io.open("/proc/self/stat"))
  local pid = tonumber(f:read("l"):match("^(%d+)"))
  f:close()
  return pid
end

local function sorted_keys(set)
  local keys = {}
  for k in pairs(set) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

local apps, reboot
do
  local s <close>, msg = rm.start_session()
  if not s then die(msg) end
  local ok, err = s:register{ files = files }
  if not ok then die(err) end
  apps, reboot = s:list()
  if not apps then die(reboot) end
end

-- Leave this process out: it only maps what it was asked about.
local me = self_pid()
for i = #apps, 1, -1 do
  if apps[i].pid == me then table.remove(apps, i) end
end
reboot.detected_self = nil                  -- only this process causes it

-- }=====
-- {===== Output

if json then
  local procs = array{}
  for _, a in ipairs(apps) do
    local held = array{}
    for _, f in ipairs(a.files) do
      held[#held + 1] = { path = f.path, how = array(sorted_keys(f.how)) }
    end
    procs[#procs + 1] = {
      pid = a.pid, start_time = a.start_time, name = a.name, type = a.type,
      service = a.service or NULL, session_id = a.session_id or NULL,
      restartable = a.restartable, status = array(sorted_keys(a.status)),
      files = held,
    }
  end
  io.stdout:write(table.concat(encode({
    files = array(files), in_use = #apps > 0, processes = procs,
    reboot = array(sorted_keys(reboot)),
  }, {})), "\n")
else
  if #apps == 0 then
    io.stdout:write("No process uses ", table.concat(files, ", "), "\n")
  else
    local row = "%-8s %-12s %-8s %-16s %-24s %s\n"
    io.stdout:write(row:format("PID", "TYPE", "RESTART", "NAME", "HOW",
                               "FILE"))
    for _, a in ipairs(apps) do
      local name = a.service and a.name .. " (" .. a.service .. ")" or a.name
      local restart = a.restartable and "yes" or "no"
      if #a.files == 0 then
        io.stdout:write(row:format(a.pid, a.type, restart, name, "-", "-"))
      end
      for _, f in ipairs(a.files) do
        io.stdout:write(row:format(a.pid, a.type, restart, name,
                                   table.concat(sorted_keys(f.how), ","),
                                   f.path))
      end
    end
    local reasons = sorted_keys(reboot)
    if #reasons > 0 then
      io.stdout:write("A restart of the machine is needed to replace them: ",
                      table.concat(reasons, ", "), "\n")
    end
  end
end

os.exit(#apps > 0 and 1 or 0)

-- }=====
