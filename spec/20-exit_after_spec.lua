-- SPDX-License-Identifier: MIT
-- 20-exit_after_spec.lua: rm.exit_after, the watchdog behind `stale
-- --time-limit` (docs/security.md, Nothing blocks): it ends a process
-- that is blocked in the kernel (here opening a FIFO nobody writes), with
-- its message and exit code, and disarmed it ends nothing.
local helper = require "helper"

describe("rm.exit_after", function()
  it("ends a process blocked in the kernel, with message and code",
     function()
    local dir <close> = helper.tmpdir()
    local fifo = dir.path .. "/fifo"
    assert(os.execute("mkfifo " .. helper.quote(fifo)))
    local t0 = os.time()
    -- The child is bounded by timeout itself: a hang fails, not hangs.
    local out, err, code = helper.run({ "timeout", "30", helper.lua, "-e", [[
      local rm = require "restartmgr"
      assert(rm.exit_after(1, "gave up", 7))
      io.open(os.getenv("RM_FIFO"), "r")  -- blocks: no writer, ever
      print("not reached")]] }, { env = { RM_FIFO = fifo } })
    local took = os.time() - t0
    assert.equal(7, code)
    assert.equal("", out)
    assert.equal("gave up\n", err)
    assert.is_true(took <= 5, "took " .. took .. " s")
  end)

  it("disarmed with 0, ends nothing", function()
    local out, _, code = helper.run({ "timeout", "30", helper.lua, "-e", [[
      local rm = require "restartmgr"
      assert(rm.exit_after(1, "gave up", 7))
      assert(rm.exit_after(0))
      os.execute("sleep 1.5")
      print("lived")]] })
    assert.equal(0, code)
    assert.equal("lived\n", out)
  end)

  it("checks its arguments", function()
    local rm = require "restartmgr"
    assert.has_error(function() rm.exit_after(-1) end)
    assert.has_error(function() rm.exit_after("x") end)
    assert.has_error(function() rm.exit_after(1, "m", 256) end)
  end)
end)
