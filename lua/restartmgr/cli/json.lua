-- SPDX-License-Identifier: MIT
-- restartmgr.cli.json: the JSON the command prints (docs/command.md):
-- objects with sorted keys, arrays marked explicitly (M.array), null as
-- M.NULL.  Valid JSON for any input: a string is bytes (a path, a process
-- name), and each byte that is not part of valid UTF-8 is written as the
-- lone low surrogate \udcXX (XX the byte, 80 to ff), Python's
-- "surrogateescape": lossless, and unambiguous, since valid UTF-8 never
-- decodes to a lone surrogate (docs/command.md, "JSON strings").
-- Numbers that JSON cannot hold (NaN, infinities) are null.

local output = require "restartmgr.cli.output"

local M = {}

local ARRAY = {}
local NULL = setmetatable({}, { __name = "null" })
local function array(t) return setmetatable(t or {}, ARRAY) end

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b",
                  ["\f"] = "\\f", ["\n"] = "\\n", ["\r"] = "\\r",
                  ["\t"] = "\\t" }

-- The escaped text of a run of valid UTF-8.
local function plain(s)
  return (s:gsub('[%c"\\]', function(c)
    return escapes[c] or ("\\u%04x"):format(c:byte())
  end))
end

-- A string as a JSON string: valid UTF-8 runs escaped, every other byte
-- \udcXX.  utf8.len (strict in Lua 5.4: no surrogates, nothing above
-- U+10FFFF, no overlong forms) finds the first byte that is not.
local function string_json(s)
  local parts, pos = { '"' }, 1
  while pos <= #s do
    local ok, bad = utf8.len(s, pos)
    if ok then
      parts[#parts + 1] = plain(s:sub(pos))
      break
    end
    parts[#parts + 1] = plain(s:sub(pos, bad - 1))
    parts[#parts + 1] = ("\\udc%02x"):format(s:byte(bad))
    pos = bad + 1
  end
  parts[#parts + 1] = '"'
  return table.concat(parts)
end

local function encode(v, out)
  local t = type(v)
  if v == nil or v == NULL then
    out[#out + 1] = "null"
  elseif t == "boolean" then
    out[#out + 1] = tostring(v)
  elseif t == "number" then
    if math.type(v) == "integer" then
      out[#out + 1] = ("%d"):format(v)
    elseif v ~= v or v == math.huge or v == -math.huge then
      out[#out + 1] = "null"
    else
      out[#out + 1] = ("%.17g"):format(v)
    end
  elseif t == "string" then
    out[#out + 1] = string_json(v)
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

M.NULL = NULL
M.array = array

-- v as JSON text.
function M.encode(v) return table.concat(encode(v, {})) end

-- v as JSON text and a newline, on standard output.
function M.print(v) output.write(1, M.encode(v) .. "\n") end

return M
