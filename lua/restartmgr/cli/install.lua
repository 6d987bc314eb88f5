-- SPDX-License-Identifier: MIT
-- restartmgr.cli.install: `restartmgr install` (docs/command.md), an
-- upgrade as one transaction (docs/transaction.md): the new files are
-- staged beside their targets, then the programs that use the targets are
-- stopped, every target is swapped, and the programs are started again;
-- any failure before the last swap puts every old file back.
--
--   local m = require "restartmgr.cli.install"
--   local code = m.run{ "--from", "/tmp/release", "/opt/app/bin/app" }

local output = require "restartmgr.cli.output"
local json = require "restartmgr.cli.json"
local args = require "restartmgr.cli.args"
local apps_ = require "restartmgr.cli.apps"

local printf, warn, die = output.printf, output.warn, output.die
local sorted_keys = output.sorted_keys
local array, NULL, print_json = json.array, json.NULL, json.print
local parse, absolute, check_timeout = args.parse, args.absolute,
                                       args.check_timeout
local start_session, app_json = apps_.start_session, apps_.app_json
local missing = apps_.missing

local M = {}

local INSTALL_HELP = [[
usage: restartmgr install [options] --from DIR TARGET...
       restartmgr install [options] --tree SRC DEST

Replaces files as one transaction.  With --from, each TARGET is replaced
by the file of the same name in DIR (added when TARGET does not exist
yet).  With --tree, the directory DEST becomes SRC: files and links that
differ are replaced, new ones added (links stay links), and with
--remove-missing what SRC lacks is removed.  The new files are written
beside their targets first (owner, group, mode, ACLs, extended
attributes and file capabilities of the target); only then are the
programs that use the targets stopped, the targets swapped and the
programs started again.  If anything fails before the last swap, every
old file is put back and what was stopped is started again.  If the
installer is killed, `restartmgr recover` finishes or undoes it.

  --dry-run               stage nothing, stop nothing: show what would
                          change and who would be stopped
  --remove-missing        --tree: remove what SRC lacks
  --metadata-from-source  owner, mode and attributes from the new files
  --force                 kill what does not stop within the timeout
  --only-registered       stop nothing unless everything affected can be
                          restarted
  --allow-reboot          replace even when a holder cannot be stopped
                          (it keeps the old file until it restarts)
  --timeout SECONDS       per program and service (default 30 and 20)
  --json                  the report as one JSON object

Exit status: 0 the new files are in place and every program runs again,
1 they are not (the old files are back), or a program did not restart,
or a reboot is needed, 2 bad usage, 3 the session or the store failed.
]]

local ACTION_WORDS = { replace = "replace", add = "add", remove = "remove" }

local function basename(p) return p:match("([^/]+)/*$") or p end

local function install(argv)
  local opts, words, bad = parse(argv, {
    from = "value", tree = "flag", ["dry-run"] = "flag",
    ["remove-missing"] = "flag", ["metadata-from-source"] = "flag",
    force = "flag", ["only-registered"] = "flag", ["allow-reboot"] = "flag",
    timeout = "value", json = "flag", help = INSTALL_HELP,
  }, INSTALL_HELP)
  check_timeout(opts, bad)
  if opts.tree and opts.from then bad("--from and --tree exclude each other") end
  if not opts.tree and not opts.from then bad("install needs --from or --tree") end
  if opts.tree and #words ~= 2 then bad("--tree needs SRC and DEST") end
  if opts.from and #words == 0 then bad("--from needs at least one TARGET") end
  if opts["remove-missing"] and not opts.tree then
    bad("--remove-missing goes with --tree")
  end
  local meta = { metadata_from_source = opts["metadata-from-source"] == true }

  local s <close> = start_session()
  local tx <close>, msg, code = s:transaction{ dry_run = opts["dry-run"] }
  if not tx then die(output.EXIT_FAILURE, "%s", msg) end
  local ok
  if opts.tree then
    meta.remove_missing = opts["remove-missing"] == true
    ok, msg, code = tx:tree(absolute(words[2]), absolute(words[1]), meta)
  else
    local from = absolute(opts.from)
    for _, w in ipairs(words) do
      local target = absolute(w)
      local source = from .. "/" .. basename(target)
      if missing(target) then
        ok, msg, code = tx:add(target, source, meta)
      else
        ok, msg, code = tx:replace(target, source, meta)
      end
      if not ok then break end
    end
  end
  if not ok then
    if opts.json then
      print_json{ ok = false, committed = false, rolled_back = false,
                  dry_run = opts["dry-run"] == true, files = array(),
                  processes = array(), reboot = array(),
                  error = { message = msg, code = code } }
    else
      warn("%s (%s)", msg, code)
    end
    return 1
  end

  local draw, finish = output.progress("installing")
  local report
  ok, msg, code, report = tx:commit{
    force = opts.force == true, only_registered = opts["only-registered"] == true,
    allow_reboot = opts["allow-reboot"] == true,
    timeout = opts.timeout and tonumber(opts.timeout),
    progress = not opts["dry-run"] and not opts.json and draw or nil }
  finish()
  report = report or { files = {}, apps = {}, reboot = {} }
  local success = ok and code == "ERROR_SUCCESS"
  if opts.json then
    local files, procs = array(), array()
    for _, f in ipairs(report.files) do
      files[#files + 1] = { target = f.target, action = f.action,
                            outcome = f.outcome, error = f.error or NULL }
    end
    for _, a in ipairs(report.apps) do procs[#procs + 1] = app_json(a) end
    print_json{ ok = success, committed = report.committed == true,
                rolled_back = report.rolled_back == true,
                dry_run = opts["dry-run"] == true, files = files,
                processes = procs, reboot = array(sorted_keys(report.reboot)),
                error = success and NULL or { message = msg, code = code } }
  else
    local row = "%-8s %-10s %s\n"
    printf(row, "ACTION", opts["dry-run"] and "WOULD" or "OUTCOME", "TARGET")
    for _, f in ipairs(report.files) do
      printf(row, ACTION_WORDS[f.action] or f.action,
             opts["dry-run"] and "change" or f.outcome, f.target)
    end
    if #report.apps > 0 then
      local arow = "%-7s %-11s %-14s %-16s %s\n"
      printf(arow, "PID", "TYPE", "SERVICE", "NAME", "STATUS")
      for _, a in ipairs(report.apps) do
        local st = sorted_keys(a.status)
        printf(arow, a.pid, a.type, a.service or "-", a.name,
               #st > 0 and table.concat(st, ",") or "-")
      end
    end
    if not success then printf("%s (%s)\n", msg, code) end
  end
  return success and 0 or 1
end

-- Runs the subcommand on its arguments (after "install"); returns the
-- exit code.
function M.run(argv) return output.returning(install, argv) end

M.help = INSTALL_HELP

return M
