-- SPDX-License-Identifier: MIT
-- restartmgr.cli.who: `restartmgr who [--json] FILE...|-`, which
-- processes use these files, like fuser (docs/command.md).
--
--   local who = require "restartmgr.cli.who"
--   local code = who.run{ "--json", "/usr/lib/x/libfoo.so" }

local output = require "restartmgr.cli.output"
local json = require "restartmgr.cli.json"
local args = require "restartmgr.cli.args"
local proc = require "restartmgr.cli.proc"
local apps_ = require "restartmgr.cli.apps"

local printf, warn, isatty = output.printf, output.warn, output.isatty
local sorted_keys = output.sorted_keys
local array, print_json = json.array, json.print
local parse, file_args = args.parse, args.file_args
local user_name = proc.user_name
local missing, start_session = apps_.missing, apps_.start_session
local register_files, list_others = apps_.register_files, apps_.list_others
local app_json, how_words = apps_.app_json, apps_.how_words
local reason_words = apps_.reason_words

local M = {}

local WHO_HELP = [[
usage: restartmgr who [--json] FILE...
       restartmgr who [--json] -        (newline-separated paths on stdin)
       restartmgr who [--json] --tree DIR [FILE...]

Lists the processes that use the files: one line per process and file,
with PID, USER, TYPE, SERVICE, NAME, HOW and, for critical entries, the
REASON a reboot would be needed, then the FILE:

  HOW     open         an open file descriptor
          mapped       a memory mapping (shared library, mapped data)
          exe          the process's executable
          older-inode  an older copy of the path: replaced by rename or
                       deleted since it was opened (what upgrades leave)
  TYPE    unknown (an ordinary program: no window, no terminal, no
          service), console (has a terminal), main_window, service,
          critical (never stopped: see REASON)

A missing path or a directory is reported on stderr and the others are
still checked (a missing path may still be held as an older copy).
Relative paths are taken from the current directory.  restartmgr leaves
itself out.

  --tree DIR  every file under DIR (repeatable): who uses anything under
              it (an extension; the files are those there now)
  --json   one JSON object (fields: restartmgr(1))

Exit status (as fuser's): 0 at least one file is in use, 1 none is,
2 bad usage, 3 the session failed.
]]

local function who(argv)
  local opts, words, bad = parse(argv, { json = "flag", tree = "list",
                                         help = WHO_HELP }, WHO_HELP)
  local trees = {}
  for _, d in ipairs(opts.tree or {}) do
    d = args.absolute(d)
    if missing(d) then warn("%s: No such file or directory", d)
    else trees[#trees + 1] = d end
  end
  if #words == 0 and not opts.tree then
    bad("who needs at least one FILE (or -, or --tree DIR)")
  end
  local files = file_args(words)
  local missing_files = {}
  for _, f in ipairs(files) do
    if missing(f) then
      warn("%s: No such file or directory", f)
      missing_files[#missing_files + 1] = f
    end
  end
  local s <close> = start_session()
  local registered, skipped = register_files(s, files,
                                             #trees > 0 and { trees = trees }
                                             or nil)
  local apps, reboot = {}, {}
  if #registered + #trees > 0 then apps, reboot = list_others(s) end

  if opts.json then
    local procs = array()
    for _, a in ipairs(apps) do procs[#procs + 1] = app_json(a) end
    local sk = array()
    for _, x in ipairs(skipped) do sk[#sk + 1] = x end
    print_json{ files = array(registered), trees = array(trees),
                missing = array(missing_files),
                skipped = sk, in_use = #apps > 0, processes = procs,
                reboot = array(sorted_keys(reboot)) }
  elseif #apps > 0 then
    local row = "%-7s %-10s %-11s %-14s %-16s %-12s %-17s %s\n"
    printf(row, "PID", "USER", "TYPE", "SERVICE", "NAME", "HOW", "REASON",
           "FILE")
    for _, a in ipairs(apps) do
      local user = a.uid and user_name(a.uid) or "?"
      local files = #a.files > 0 and a.files or { { path = "-", how = {} } }
      for _, f in ipairs(files) do
        printf(row, a.pid, user, a.type, a.service or "-", a.name,
               how_words(f.how), reason_words(a), f.path)
      end
    end
  elseif isatty(1) then
    printf("No process uses %s.\n", #registered == 1 and registered[1]
                                    or "these files")
  end
  return #apps > 0 and 0 or 1
end

-- Runs the subcommand on its arguments (after "who"); returns the exit
-- code.
function M.run(argv) return output.returning(who, argv) end

M.help = WHO_HELP

return M
