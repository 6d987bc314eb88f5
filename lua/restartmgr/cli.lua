-- SPDX-License-Identifier: MIT
-- restartmgr.cli: the `restartmgr` command as a Lua module
-- (docs/command.md).  The installed script is
--
--   os.exit(require("restartmgr.cli").main(arg), true)
--
-- main(argv) dispatches argv[1] to the subcommand module
-- restartmgr.cli.<name> and returns its exit code; nothing here or below
-- calls os.exit.  Calls run one way: this module -> the subcommand
-- modules (who, stale, shutdown, restart, install, recover, session) -> the helpers
-- (control, apps, args, json, proc, output); a subcommand never requires
-- another one.
--
--   lua/restartmgr/cli.lua        this dispatcher
--   lua/restartmgr/cli/<name>.lua one subcommand each: M.run(args) -> code
--   lua/restartmgr/cli/control.lua  shutdown and restart
--   lua/restartmgr/cli/apps.lua   sessions: register, list, JSON entries
--   lua/restartmgr/cli/args.lua   options, FILE arguments
--   lua/restartmgr/cli/json.lua   JSON output
--   lua/restartmgr/cli/proc.lua   /proc and /etc/passwd readers
--   lua/restartmgr/cli/output.lua writers, escaping, isatty, progress, exit
--
-- The version is the module's (require "restartmgr".version).

local rm = require "restartmgr"
local output = require "restartmgr.cli.output"

local M = {}

M.version = rm.version

-- The subcommands, in the order the help lists them.
M.commands = { "who", "stale", "shutdown", "restart", "install", "recover",
               "session" }

M.help = [[
usage: restartmgr COMMAND [options] [arguments]

  who FILE...|-        which processes use these files (like fuser)
  stale                which processes still run replaced or deleted
                       files after an upgrade; --restart restarts them
  shutdown FILE...     stop the processes and services that use them
  restart FILE...      stop them, then start them again
  install --from DIR TARGET... | --tree SRC DEST
                       replace files as one transaction: stage, stop,
                       swap, restart; all or nothing
  recover              finish or undo the transactions of dead installers
  session              the sessions of this user's session store

restartmgr COMMAND --help explains each; man restartmgr has it all.
  --version            the version of the command and of the module
]]

local known = {}
for _, name in ipairs(M.commands) do known[name] = true end

-- Runs the command line argv (argv[1] is the subcommand, as the script's
-- arg) and returns the exit code.
function M.main(argv)
  local first = argv[1]
  if first == "--version" or first == "-V" then
    output.printf("restartmgr %s (%s)\n", M.version, rm._VERSION)
    return 0
  elseif first == "--help" or first == "-h" or first == "help" then
    output.write(1, M.help)
    return 0
  elseif not first then
    output.write(2, M.help)
    return output.EXIT_USAGE
  elseif not known[first] then
    output.write(2, "restartmgr: unknown command " .. first .. "\n" .. M.help)
    return output.EXIT_USAGE
  end
  return require("restartmgr.cli." .. first).run(table.move(argv, 2, #argv,
                                                            1, {}))
end

return M
