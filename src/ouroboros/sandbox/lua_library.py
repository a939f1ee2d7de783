"""The wrapped standard library of the Lua sandbox: C calls priced by their size, strings capped.

Runs inside the host prelude (``lua_api.HOST_LUA``), after the budgets (``charge``, ``die``) and
the concatenation guard (``CAP``, ``cat_len``), and defines ``SAFE_STRING``, ``SAFE_TABLE``,
``SAFE_UTF8`` and ``safe_tostring`` for ``new_env``. What it promises:

- C library calls whose cost grows with their arguments (``string.rep/upper/lower/reverse/byte/
  sub/unpack``, pattern matching, ``utf8.*``, ``table.concat/insert/remove/move/sort/unpack``,
  ``tonumber``) are charged to the instruction budget by size before they run, never a negative
  amount, and the ones that could run unbounded inside one C call (a backtracking pattern, a
  quadratic plain search, a huge or wrapping ``string.rep``, a ``table.*`` loop over a table
  whose ``__len``/``__index``/``__newindex`` would run in C) are refused before they start.
- Every function that makes a string (``rep``, ``format``, ``gsub``, ``pack``, ``char``,
  ``utf8.char``, ``table.concat``) makes none over ``max_script_string_bytes``: a ``memory``
  fault instead. (``upper``, ``lower``, ``reverse``, ``sub`` and captures are no longer than what
  they were given.)
- ``tostring`` and ``string.format`` show no addresses.
"""

from __future__ import annotations

LIBRARY_GUARDS_LUA = r"""
-- -- C calls that grow with their arguments ---------------------------------------------------
local function checked_len(s, what)
  if type(s) ~= "string" then
    if type(s) == "number" then return #tostring(s) end
    error("bad argument to '" .. what .. "' (string expected)", 3)
  end
  return #s
end

local function quantifiers(p)
  local body = s_gsub(p, "%%[bf]", "*")   -- %b and %f scan too
  body = s_gsub(body, "%%.", "x")         -- escapes are literals
  body = s_gsub(body, "%[%^?%]?[^%]]*%]", "x")  -- a set is one item
  local q = select(2, s_gsub(body, "[%*%+%-%?]", ""))
  if q > 0 and s_find(body, "[%*%+%-%?]%$?$") then q = q - 1 end  -- a trailing one never backtracks
  return q
end

local function pattern_work(s, p, plain)
  local n, m = checked_len(s, "pattern") + 1, checked_len(p, "pattern") + 1
  charge(n // 16 + m)
  if plain or not s_find(p, "[%^%$%*%+%?%.%(%)%[%]%%%-]") then
    if n * m > L.max_c_work then
      die("wall_clock", "plain search of " .. m .. " in " .. n .. " bytes is too costly")
    end
    return
  end
  local q = quantifiers(p)
  local work = q == 0 and n * m or n ^ (q + 1)
  if work > L.max_c_work then
    die("wall_clock", "pattern with " .. q .. " backtracking items over " .. n .. " bytes is too costly")
  end
end

local raw = {find = string.find, match = string.match, gmatch = string.gmatch, gsub = string.gsub}
local SAFE_STRING = {}
for k, v in next, string do SAFE_STRING[k] = v end
SAFE_STRING.dump = nil
SAFE_STRING.find = function(s, p, init, plain)
  pattern_work(s, p, plain)
  return raw.find(s, p, init, plain)
end
SAFE_STRING.match = function(s, p, init) pattern_work(s, p); return raw.match(s, p, init) end
SAFE_STRING.gmatch = function(s, p, init) pattern_work(s, p); return raw.gmatch(s, p, init) end
SAFE_STRING.rep = function(s, n, sep)
  local unit = checked_len(s, "rep") + (sep and checked_len(sep, "rep") or 0)
  local count = math_max(0, tonumber(n) or 0)
  -- Compare the count before multiplying: unit * count could wrap around (1 << 62), and an empty
  -- unit repeated 2^40 times is a C loop of 2^40 steps that makes nothing.
  if count > CAP // math_max(unit, 1) then
    die("memory", "string.rep of " .. count .. " times " .. unit .. " bytes is over the limit")
  end
  charge((unit * count) // 16 + 1)
  return s_rep(s, n, sep)
end
-- Every string a script makes is at most CAP bytes: made here, checked here.
local function made(r, what)
  if type(r) == "string" and #r > CAP then
    die("memory", what .. " made " .. #r .. " bytes, over the limit of " .. CAP .. " bytes")
  end
  return r
end
local function made_all(what, r, ...)
  made(r, what)
  return r, ...
end
SAFE_STRING.gsub = function(s, p, r, n)
  pattern_work(s, p)
  -- A match and a replacement at every byte, in one C loop (~15 ns a byte, 1 ms at the cap).
  charge(checked_len(s, "gsub") // 4 + (type(r) == "string" and #r // 16 or 0))
  return made_all("string.gsub", raw.gsub(s, p, r, n))
end
SAFE_STRING.char = function(...)
  local n = select("#", ...)
  if n > CAP then die("memory", "string.char of " .. n .. " bytes is over the limit") end
  charge(n // 16)
  return s_char(...)
end
SAFE_STRING.pack = function(fmt, ...)
  charge(checked_len(fmt, "pack") // 16 + select("#", ...))
  for size in s_gmatch(fmt, "%d+") do  -- "c<size>" pads in a C loop: no size over the cap
    if #size > 9 or tonumber(size) > CAP then
      die("memory", "string.pack size " .. size .. " is over the limit")
    end
  end
  return made(s_pack(fmt, ...), "string.pack")
end
SAFE_STRING.unpack = function(fmt, s, ...)
  charge((checked_len(fmt, "unpack") + checked_len(s, "unpack")) // 16)
  return s_unpack(fmt, s, ...)
end
-- Linear in the length of their argument: paid for by size like string.rep.
for _, name in ipairs({"upper", "lower", "reverse", "byte", "sub"}) do
  local f = string[name]
  local per = name == "byte" and 4 or 16  -- byte pushes a value a byte
  SAFE_STRING[name] = function(s, ...)
    charge(checked_len(s, name) // per)
    return f(s, ...)
  end
end

local function safe_tostring(v)
  local t = type(v)
  if t == "table" then
    local mt = dgetmetatable(v)
    if mt and rawget(mt, "__tostring") then return tostring(v) end
    return "table"
  elseif t == "function" or t == "thread" or t == "userdata" then
    return t
  end
  return tostring(v)
end

SAFE_STRING.format = function(fmt, ...)
  local bare = s_gsub(tostring(fmt), "%%%%", "")
  if s_find(bare, "%%[-+ #0]*%d*%.?%d*p") then error("format '%p' is not available", 2) end
  local args = t_pack(...)
  for i = 1, args.n do
    local t = type(args[i])
    if t ~= "string" and t ~= "number" then args[i] = safe_tostring(args[i]) end
  end
  local r = s_format(fmt, t_unpack(args, 1, args.n))
  charge(#r // 16)
  return made(r, "string.format")
end

local function span(i, j) return math_max(0, (tonumber(j) or 0) - (tonumber(i) or 1) + 1) end

-- The C loops of table.* read the length through __len and the items through __index and
-- __newindex, and no count hook runs between their steps (a __len that lies, or an __index chain
-- two thousand tables deep, would make one C call unbounded). They take plain tables only, and
-- every length they use is the raw one, read once here and passed on as an explicit bound where
-- the C function accepts one.
local function plain_len(t, what)
  if type(t) ~= "table" then error("bad argument #1 to '" .. what .. "' (table expected)", 3) end
  local mt = dgetmetatable(t)
  if mt ~= nil and (rawget(mt, "__len") ~= nil or rawget(mt, "__index") ~= nil
                    or rawget(mt, "__newindex") ~= nil) then
    die("wall_clock", "table." .. what .. " of a table with __len, __index or __newindex: "
                      .. "its C loop cannot be budgeted")
  end
  return rawlen(t)
end

local function log2(n) local k = 1; while n > 1 do n = n // 2; k = k + 1 end; return k end

local SAFE_TABLE = {}
for k, v in next, table do SAFE_TABLE[k] = v end
SAFE_TABLE.concat = function(t, sep, i, j)
  i = i or 1
  if j ~= nil then charge(span(i, j)) end  -- paid for before anything else is looked at
  local n = plain_len(t, "concat")
  if j == nil then j = n; charge(span(i, j)) end
  local total = (type(sep) == "string" and #sep or 0) * math_max(0, span(i, j) - 1)
  for k = i, j do
    total = total + cat_len(rawget(t, k))
    if total > CAP then die("memory", "table.concat would make over " .. CAP .. " bytes") end
  end
  return t_concat(t, sep, i, j)
end
SAFE_TABLE.unpack = function(t, i, j)
  i = i or 1
  if j ~= nil then charge(span(i, j)) end
  local n = plain_len(t, "unpack")
  if j == nil then j = n; charge(span(i, j)) end
  return t_unpack(t, i, j)
end
SAFE_TABLE.move = function(a1, f, e, t, a2)
  charge(span(f, e))
  plain_len(a1, "move")
  if a2 ~= nil then plain_len(a2, "move") end
  return t_move(a1, f, e, t, a2)
end
SAFE_TABLE.insert = function(t, ...)
  local n = plain_len(t, "insert")
  if select("#", ...) >= 2 then charge(span((...), n)) else charge(1) end  -- items shifted up
  return t_insert(t, ...)
end
SAFE_TABLE.remove = function(t, ...)
  local n = plain_len(t, "remove")
  if select("#", ...) >= 1 then charge(span((...), n)) else charge(1) end  -- items shifted down
  return t_remove(t, ...)
end
SAFE_TABLE.sort = function(t, cmp)
  local n = plain_len(t, "sort")
  if n > L.max_sort then die("wall_clock", "table.sort of " .. n .. " items is over the limit") end
  -- Comparing two strings reads them (no hook runs inside the C sort when cmp is nil or a C
  -- function): strcoll on every NUL-separated piece, a few nanoseconds a byte, so the longest one
  -- prices every comparison at a quarter of an instruction a byte.
  local longest = 0
  for k = 1, n do
    local v = rawget(t, k)
    if type(v) == "string" and #v > longest then longest = #v end
  end
  charge(n * 20 + n * log2(n) * (longest // 4 + 1))
  return t_sort(t, cmp)
end

local SAFE_UTF8 = {}
for k, v in next, utf8 do SAFE_UTF8[k] = v end
for _, name in ipairs({"len", "codepoint", "offset", "codes"}) do
  local f = utf8[name]
  SAFE_UTF8[name] = function(s, ...)
    charge(checked_len(s, name) // 16)
    return f(s, ...)
  end
end

SAFE_UTF8.char = function(...)
  local n = select("#", ...)
  if n > CAP // 8 then die("memory", "utf8.char of " .. n .. " characters is over the limit") end
  charge(n // 16)
  return made(u_char(...), "utf8.char")
end
"""

__all__ = ["LIBRARY_GUARDS_LUA"]
