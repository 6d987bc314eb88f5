-- SPDX-License-Identifier: MIT
-- restartmgr.cli.leftovers: what `restartmgr stale` reports beyond
-- deleted mappings (docs/command.md, restartmgr stale): interpreter
-- processes whose script was replaced (rm.stale_scripts), and a running
-- kernel older than the newest installed one (rm.kernel).  The module
-- finds both; this file only filters, words and shapes them.

local rm = require "restartmgr"
local json = require "restartmgr.cli.json"
local output = require "restartmgr.cli.output"
local apps_ = require "restartmgr.cli.apps"
local proc = require "restartmgr.cli.proc"

local NULL = json.NULL

local M = {}

M.REASON = "script replaced"

-- Whether path is under one of the prefixes (all paths when none).
local function under(path, prefixes)
  if #prefixes == 0 then return true end
  for _, p in ipairs(prefixes) do
    p = p:gsub("/+$", "")
    if path == p or path:sub(1, #p + 1) == p .. "/" then return true end
  end
  return false
end

-- The interpreter processes running a replaced script whose path is
-- under one of the prefixes, but self_pid: a list of { pid =,
-- start_time =, interpreter =, path =, why = }, and a map from pid to
-- its entry.  A failure of the module is a warning, not the end of the
-- run: the deleted mappings are still worth reporting.
local function stale_scripts(prefixes, self_pid)
  local list, byp = {}, {}
  local all, msg = rm.stale_scripts()
  if not all then
    output.warn("%s", msg)
    return list, byp
  end
  for _, s in ipairs(all) do
    if s.pid ~= self_pid and under(s.path, prefixes) then
      list[#list + 1] = s
      byp[s.pid] = s
    end
  end
  return list, byp
end

-- The scripts' paths, sorted, each once.
function M.paths(scripts)
  local out, seen = {}, {}
  for _, s in ipairs(scripts) do
    if not seen[s.path] then
      seen[s.path] = true
      out[#out + 1] = s.path
    end
  end
  table.sort(out)
  return out
end

-- The pids of this process's ancestors: { [pid] = true }.  The parent is
-- field 4 of /proc/PID/stat, after the last ")" (comm may hold anything).
local function ancestors()
  local set, pid = {}, proc.self_pid
  for _ = 1, 4096 do
    local stat = proc.read_all("/proc/" .. pid .. "/stat")
    local ppid = stat and tonumber(stat:match(".*%)%s+%S+%s+(%d+)"))
    if not ppid or ppid == 0 then break end
    set[ppid] = true
    pid = ppid
  end
  return set
end

-- The script entry of an app of the list, when it is the process the
-- script scan saw (same pid and start time).
local function script_of(a, byp)
  local s = byp[a.pid]
  if s and s.start_time == a.start_time then return s end
  return nil
end

-- Adds to apps (the stale entries found so far) the interpreter processes
-- on a replaced script under the prefixes, each with a.script set: an
-- entry already there gets its script; the others are registered by
-- identity in a session of their own (one call each: a process that has
-- exited since is refused and left out, it runs nothing any more) and
-- listed, so they are classified and restarted like any program.  What
-- this command stands on is never restarted: a shell script that runs
-- it and was edited meanwhile (a deploy script that pulls itself) is
-- shown as critical, detected_self, as the caller itself would be.
-- Returns the scripts found.
function M.add_scripts(apps, prefixes)
  local scripts, byp = stale_scripts(prefixes, proc.self_pid)
  if #scripts == 0 then return scripts end
  local have, above = {}, ancestors()
  for _, a in ipairs(apps) do have[a.pid] = a end
  local s <close> = apps_.start_session()
  for _, x in ipairs(scripts) do
    s:register{ processes = { { pid = x.pid, start_time = x.start_time } } }
  end
  for _, a in ipairs((apps_.list_others(s))) do
    local found = script_of(a, byp)
    local old = have[a.pid]
    if found and old and old.start_time == a.start_time then
      old.script = found
    elseif found then
      a.script = found
      apps[#apps + 1] = a
    end
    if found and above[a.pid] then
      local e = have[a.pid] or a
      e.type, e.restartable = "critical", false
      e.reasons = e.reasons or {}
      e.reasons.detected_self = true
    end
  end
  return scripts
end

-- The script as JSON (docs/command.md).
function M.script_json(s)
  if not s then return NULL end
  return { path = s.path, interpreter = s.interpreter, why = s.why }
end

-- The running and newest installed kernels, or nil when not asked:
-- --path limits the report to files under a directory, which the kernel
-- is not.  RESTARTMGR_KERNEL_ROOT names another tree than "/" to look
-- for installed kernels in, and asks for the kernel even with --path (so
-- that a test of it never scans the whole machine); it is for tests (a
-- state the machine running them cannot be put in), documented in
-- restartmgr(1).
function M.kernel(prefixes)
  local root = os.getenv("RESTARTMGR_KERNEL_ROOT")
  if root == "" then root = nil end
  if #prefixes > 0 and not root then return nil end
  if root and root:sub(1, 1) ~= "/" then
    output.warn("RESTARTMGR_KERNEL_ROOT=%s: not an absolute path", root)
    return nil
  end
  local k, msg = rm.kernel(root)
  if not k then
    output.warn("%s", msg)
    return nil
  end
  return k
end

function M.kernel_json(k)
  if not k then return NULL end
  return { running = k.running, newest = k.newest or NULL,
           reboot_required = k.reboot_required }
end

-- The line the text output ends with when a reboot is pending.
function M.kernel_text(k)
  if not (k and k.reboot_required) then return nil end
  return ("Reboot required (kernel): running %s, newest installed %s.")
         :format(k.running, k.newest)
end

return M
