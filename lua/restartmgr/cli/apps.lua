-- SPDX-License-Identifier: MIT
-- restartmgr.cli.apps: what the subcommands share to drive a session
-- (docs/command.md): start one, register files leaving out (with a
-- warning) each culprit the module names, list what holds them without
-- this process, show the module's sets as words and entries as JSON,
-- and run a shutdown and restart with progress.  Everything goes through
-- the module, never a reimplementation.

local rm = require "restartmgr"
local output = require "restartmgr.cli.output"
local json = require "restartmgr.cli.json"
local proc = require "restartmgr.cli.proc"

local sorted_keys, warn, die = output.sorted_keys, output.warn, output.die
local progress = output.progress
local array, NULL = json.array, json.NULL
local user_name, self_pid = proc.user_name, proc.self_pid
local process_uid = proc.process_uid
local EXIT_FAILURE = output.EXIT_FAILURE

local M = {}

-- {===== Words shown for the module's sets

local HOW_WORDS = { open_file = "open", mapping = "mapped",
                    executable = "exe", older_inode = "older-inode" }
local HOW_ORDER = { "open_file", "mapping", "executable", "older_inode" }

local function how_words(how)
  local w = {}
  for _, k in ipairs(HOW_ORDER) do
    if how[k] then w[#w + 1] = HOW_WORDS[k] end
  end
  return #w > 0 and table.concat(w, ",") or "-"
end

local function reason_words(app)
  local r = sorted_keys(app.reasons)
  return #r > 0 and table.concat(r, ",") or "-"
end

-- An app entry as JSON (the stable fields documented in docs/command.md).
local function app_json(a, extra)
  local files = array()
  for _, f in ipairs(a.files) do
    files[#files + 1] = { path = f.path, how = array(sorted_keys(f.how)) }
  end
  local uid = a.uid
  local o = {
    pid = a.pid, start_time = a.start_time, name = a.name, type = a.type,
    service = a.service or NULL, session_id = a.session_id or NULL,
    restartable = a.restartable, status = array(sorted_keys(a.status)),
    reasons = array(sorted_keys(a.reasons)), files = files,
    traits = array(sorted_keys(a.traits or {})),
    uid = uid or NULL, user = uid and user_name(uid) or NULL,
  }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

-- }=====
-- {===== Sessions: start, register with culprits left out, list

-- Starts a session or exits.
local function start_session()
  local s, msg = rm.start_session()
  if not s then die(EXIT_FAILURE, "%s", msg) end
  return s
end

-- Registers files, leaving out (with a warning) each one the module names
-- as a culprit ("register: files[3] "/tmp": a directory ...").  Returns
-- the files registered and the ones skipped ({ path =, reason = }).
local function register_files(s, files, extra)
  local kept, skipped = {}, {}
  for i, f in ipairs(files) do kept[i] = f end
  while true do
    local req = { files = kept }
    for k, v in pairs(extra or {}) do req[k] = v end
    local ok, msg = s:register(req)
    if ok then return kept, skipped end
    local i = tonumber(msg:match("^register: files%[(%d+)%]"))
    if not i then die(EXIT_FAILURE, "%s", msg) end
    local reason = msg:match("^register: files%[%d+%] .-: ([^:]*)$")
                   or msg
    warn("%s: %s", kept[i], reason)
    skipped[#skipped + 1] = { path = kept[i], reason = reason }
    table.remove(kept, i)
  end
end

-- Registers services and processes, leaving out (with a warning) each
-- one the module refuses (a service name it cannot take, a process gone
-- since it was listed), so that one bad entry never stops the rest.
-- Returns the services and processes registered and a table of what was
-- skipped: skipped.services[name] and skipped.processes[pid] = reason.
local function register_plan(s, services, processes)
  local kept_s, kept_p = table.move(services, 1, #services, 1, {}),
                         table.move(processes, 1, #processes, 1, {})
  local skipped = { services = {}, processes = {} }
  while true do
    local ok, msg = s:register{ services = kept_s, processes = kept_p }
    if ok then return kept_s, kept_p, skipped end
    local i = tonumber(msg:match("^register: services%[(%d+)%]"))
    local k = tonumber(msg:match("^register: processes%[(%d+)%]"))
    local reason = msg:match("^register: %a+%[%d+%][^:]*: (.*)$") or msg
    if i and kept_s[i] then
      warn("service %s: %s; not restarted", kept_s[i], reason)
      skipped.services[kept_s[i]] = reason
      table.remove(kept_s, i)
    elseif k and kept_p[k] then
      warn("process %d: %s; not restarted", kept_p[k].pid, reason)
      skipped.processes[kept_p[k].pid] = reason
      table.remove(kept_p, k)
    else
      die(EXIT_FAILURE, "%s", msg)
    end
  end
end

-- True when the path does not exist.  rename(p, p) is specified to do
-- nothing when p exists, and fails with ENOENT (2) or ENOTDIR (20) when
-- it does not; unlike opening, it never blocks (a FIFO) or reads.
local function missing(path)
  local ok, _, errno = os.rename(path, path)
  return not ok and (errno == 2 or errno == 20)
end

-- s:list() without this process (which maps what it was asked about),
-- each entry with the uid of its process, read right away (nil when it
-- is gone or was stopped).
local function list_others(s)
  local apps, reboot = s:list()
  if not apps then die(EXIT_FAILURE, "%s", reboot) end
  for i = #apps, 1, -1 do
    if apps[i].pid == self_pid then table.remove(apps, i) end
  end
  for _, a in ipairs(apps) do
    if a.status.running then a.uid = process_uid(a.pid, a.start_time) end
  end
  reboot.detected_self = nil
  return apps, reboot
end

-- }=====
-- {===== Shutdown and restart

-- Runs shutdown then (when again) restart on an open session, with
-- progress; returns ok, message, code of the first failure.
local function cycle(s, opts, again)
  local draw, finish = progress("stopping")
  local timeout = opts.timeout and tonumber(opts.timeout)
  local ok, msg, code = s:shutdown{ force = opts.force == true,
                                    only_registered = opts.only_registered,
                                    services_in_place = opts.in_place,
                                    timeout = timeout, progress = draw }
  finish()
  if not ok and code ~= "ERROR_FAIL_SHUTDOWN" then return ok, msg, code end
  local first = { ok, msg, code }
  if again then
    draw, finish = progress("starting")
    local rok, rmsg, rcode = s:restart{ progress = draw }
    finish()
    if not rok and first[1] then first = { rok, rmsg, rcode } end
  end
  return table.unpack(first)
end

-- }=====

M.how_words, M.reason_words, M.app_json = how_words, reason_words, app_json
M.start_session, M.register_files = start_session, register_files
M.register_plan = register_plan
M.missing, M.list_others, M.cycle = missing, list_others, cycle

return M
