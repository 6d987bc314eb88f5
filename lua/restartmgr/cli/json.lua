-- SPDX-License-Identifier: MIT
-- restartmgr.cli.json: the JSON the command prints (docs/command.md):
-- objects with sorted keys, arrays marked explicitly (M.array), null as
-- M.NULL.  Strings that are not UTF-8 (a path is bytes) are written with
-- their bytes >= 0x80 as \u00XX.

local output = require "restartmgr.cli.output"

local M = {}

local ARRAY = {}
local NULL = setmetatable({}, { __name = "null" })
local function array(t) return setmetatable(t or {}, ARRAY) end

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b",
                  ["\f"] = "\\f", ["\n"] = "\\n", ["\r"] = "\\r",
                  ["\t"] = "\\t" }

local function encode(v, out)
  local t = type(v)
  if v == nil or v == NULL then
    out[#out + 1] = "null"
  elseif t == "boolean" then
    out[#out + 1] = tostring(v)
  elseif t == "number" then
    out[#out + 1] = math.type(v) == "integer" and ("%d"):format(v)
                    or ("%.17g"):format(v)
  elseif t == "string" then
    -- JSON text is UTF-8: a string that is not (a skipped path) has its
    -- bytes >= 0x80 as \u00XX, as if it were Latin-1.
    if not utf8.len(v) then
      v = v:gsub("[\128-\255]", function(c)
        return ("\\u%04x"):format(c:byte())
      end)
      out[#out + 1] = '"' .. v:gsub('[%c"]', function(c)
        return escapes[c] or ("\\u%04x"):format(c:byte())
      end) .. '"'
      return out
    end
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

M.NULL = NULL
M.array = array

-- v as JSON text.
function M.encode(v) return table.concat(encode(v, {})) end

-- v as JSON text and a newline, on standard output.
function M.print(v) output.write(1, M.encode(v) .. "\n") end

return M
