-- SPDX-License-Identifier: MIT
-- restartmgr.cli.proc: what the command reads from /proc and
-- /etc/passwd that the module does not report (the user owning a
-- process, the start time of a pid).
--
-- /proc is read as untrusted text: every value is parsed by pattern and
-- checked, and a process that vanishes or changes identity between two
-- reads is skipped (docs/linux.md, Process identity).

local M = {}

local function read_all(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

local clk_tck
-- The start time of pid in the module's units (100 ns since boot), from
-- /proc/PID/stat field 22 (after the last ")": comm may hold anything).
local function start_time(pid)
  local stat = read_all("/proc/" .. pid .. "/stat")
  local rest = stat and stat:match(".*%)(.*)$")
  if not rest then return nil end
  local fields = {}
  for f in rest:gmatch("%S+") do fields[#fields + 1] = f end
  local ticks = math.tointeger(tonumber(fields[20]))
  if not ticks then return nil end
  if not clk_tck then
    local p = io.popen("getconf CLK_TCK 2>/dev/null")
    clk_tck = math.tointeger(tonumber(p and p:read("l"))) or 100
    if p then p:close() end
  end
  return ticks * (10000000 // clk_tck)
end

local users
-- The user name of uid from /etc/passwd, else the number.
local function user_name(uid)
  if not users then
    users = {}
    for line in (read_all("/etc/passwd") or ""):gmatch("[^\n]+") do
      local name, id = line:match("^([^:]*):[^:]*:(%d+):")
      if name and not users[tonumber(id)] then users[tonumber(id)] = name end
    end
  end
  return users[uid] or tostring(uid)
end

-- The real uid of the process with this identity, or nil when it is gone
-- or is not the process the module listed any more.
local function process_uid(pid, start)
  local status = read_all("/proc/" .. pid .. "/status")
  local uid = status and tonumber(status:match("\nUid:%s+(%d+)"))
  if not uid or (start and start_time(pid) ~= start) then return nil end
  return uid
end

local self_pid = tonumber(read_all("/proc/self/stat"):match("^(%d+)"))

M.read_all, M.start_time, M.user_name = read_all, start_time, user_name
M.process_uid, M.self_pid = process_uid, self_pid

return M
