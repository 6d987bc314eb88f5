-- SPDX-License-Identifier: MIT
-- 13-json_spec.lua: the command's JSON is valid for any bytes, and
-- lossless (docs/command.md, "JSON strings").  A property test: random
-- byte strings, biased toward what breaks encoders (backslashes, quotes,
-- control bytes, stray and truncated UTF-8, encoded surrogates, valid
-- multibyte characters), encoded by restartmgr.cli.json and read back by
-- strict parsers: Python's json.loads, whose surrogateescape encoding must
-- give back the exact bytes, and dkjson, which must accept every line.
local helper = require "helper"
local dkjson = require "dkjson"
local json = require "restartmgr.cli.json"

-- Pieces random strings are made of.
local pieces = {
  "\\", '"', "/", "\n", "\t", "\0", "\27", "\127", "a", " ", "\\u",
  "\128", "\191", "\192", "\193", "\194", "\195\169", "\226\130\172",
  "\240\159\152\128", "\237\160\128", "\239\191\191", "\244\143\191\191",
  "\244\144\128\128", "\248\136\128\128\128", "\255", "\254", "\224\128",
  "\226\130", "\240\159\152",
}

local function random_string(rng_len)
  local parts = {}
  for i = 1, math.random(0, rng_len) do
    if math.random() < 0.5 then
      parts[i] = pieces[math.random(#pieces)]
    else
      parts[i] = string.char(math.random(0, 255))
    end
  end
  return table.concat(parts)
end

local function hex(s)
  return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

-- Checks each line {"hex": HEX, "s": STRING, "a": [STRING]} strictly.
local CHECKER = [[
import json, sys
bad = 0
for n, line in enumerate(open(sys.argv[1], "rb"), 1):
    text = line.decode("utf-8")            # the output is UTF-8 text
    obj = json.loads(text)                 # strict: no raw control chars
    want = bytes.fromhex(obj["hex"])
    for got in (obj["s"], obj["a"][0]):
        if got.encode("utf-8", "surrogateescape") != want:
            bad += 1
            print("line %d: %r != %r" % (n, got, want))
print("checked %d, bad %d" % (n, bad))
sys.exit(1 if bad else 0)
]]

describe("the command's JSON", function()
  it("is valid and lossless for random byte strings (python3, dkjson)",
     function()
    local dir <close> = helper.tmpdir()
    local lines = dir.path .. "/lines.json"
    local checker = dir.path .. "/check.py"
    local f = assert(io.open(lines, "wb"))
    local n = 5000
    math.randomseed(os.time())
    for i = 1, n do
      local s = random_string(i % 10 == 0 and 200 or 24)
      local line = json.encode{ hex = hex(s), s = s, a = json.array{ s } }
      local v, _, err = dkjson.decode(line, 1, dkjson.null)
      assert(v, ("dkjson refused %q: %s"):format(line, tostring(err)))
      f:write(line, "\n")
    end
    f:close()
    f = assert(io.open(checker, "wb"))
    f:write(CHECKER)
    f:close()
    local out, err, code = helper.run{ "python3", checker, lines }
    assert.equal("", err)
    assert.equal(("checked %d, bad 0\n"):format(n), out)
    assert.equal(0, code)
  end)

  it("writes non-finite numbers as null", function()
    assert.equal('[null,null,null,1.5,-3]',
                 json.encode(json.array{ 0 / 0, math.huge, -math.huge, 1.5,
                                         -3 }))
  end)
end)
