"""The concatenation guard: every ``..`` a script runs goes through a priced, capped metamethod.

Lua's ``..`` on two strings is one VM instruction that copies both; no library wrapper sees it, so
a script could double a string to the memory limit, and then a single ``<`` between two such
strings (``strcoll`` on every NUL-separated piece) or a ``tonumber`` holds the host for seconds
inside one instruction, where neither the count hook nor the collector's sentinel looks at the
clock. The cure is a cap on the length of every string a script can make
(``LuaLimits.max_script_string_bytes``), and ``..`` is the one creation path that no wrapper can
reach. So the source is rewritten before it is compiled:

- ``a .. b`` becomes ``a .. CAT .. b``, where ``CAT`` is a host table whose ``__concat``
  metamethod does the real concatenation after checking the length. Inserting a primary
  expression between two operators of one precedence level and one associativity keeps the parse
  exactly as it was; ``luaV_concat`` meets ``CAT`` (a table) at every step and calls the
  metamethod, so no two script strings are ever joined natively.
- ``CAT`` is bound as a local of a wrapper chunk (``local CAT = ... return function(...) BODY
  end``) that the host calls once with the real object; the body never sees it through ``...``.
  Its name is reserved: a source that contains it is refused. Every ``..`` token in the body is
  rewritten, so even a body that closes the wrapper early only reaches ``CAT``.
- The rewrite runs on the script at load and on every chunk a script gives to ``load``. Its lexer
  follows ``llex.c`` token by token (long brackets, short strings with every escape, ``--``
  comments, numerals with exponents, ``...``), so it finds exactly the ``..`` tokens Lua will.
- The rewrite is checked, not trusted: the source is compiled as written and as rewritten, and
  the rewritten bytecode must hold exactly twice the ``..`` operators (``OP_CONCAT``, read from
  ``string.dump``) of the original, or the source is refused (``syntax``). A lexer that missed
  one ``..`` would leave one native concatenation, and the counts would differ.
- All of it runs under the wall clock of the run that loads the chunk; at load, its instructions
  are the host's (a 64 KiB source costs ~0.7 million), inside ``load`` the script's.

What a script notices: ``..`` works as before, with a ``memory`` fault past the cap; a table
whose own ``__concat`` metamethod meets a string on its right receives ``CAT`` instead (user
``__concat`` on the left operand is the one behaviour that changes).
"""

from __future__ import annotations

CAT_NAME = "__sandbox_cat"

# Runs inside the host prelude (``lua_api.HOST_LUA``) after ``die``/``charge`` are defined; it
# defines ``CAT``, ``compile_guarded`` and ``cat_len``.
CONCAT_GUARD_LUA = r"""
local CAT_NAME = "__sandbox_cat"
local CAP = L.max_script_string_bytes
local CAT_MT = {__metatable = false}
local CAT = setmetatable({}, CAT_MT)
local pending = nil

local function cat_len(v)
  local t = type(v)
  if t == "string" then return #v end
  if t == "number" then return 48 end  -- "%.14g" or an integer: never longer
  return 0                             -- a table's own __concat makes the string; it is checked there
end

CAT_MT.__concat = function(a, b)
  if rawequal(a, CAT) then pending = b; return CAT end
  local p = pending
  pending = nil
  local n = cat_len(a) + cat_len(p)
  if n > CAP then
    die("memory", "a string of " .. n .. " bytes is over the limit of " .. CAP .. " bytes")
  end
  charge(n // 16)
  return a .. p
end

-- -- a lexer that finds the ``..`` tokens exactly as llex.c does -------------------------------
local QUOTED = {[34] = "[\\\r\n\"]", [39] = "[\\\r\n']"}

local function skip_long(src, p)  -- p at "[": end of a long bracket, or nil when there is none
  local eq = s_match(src, "^%[(=*)%[", p)
  if not eq then return nil end
  local _, e = s_find(src, "]" .. eq .. "]", p + #eq + 2, true)
  return (e or #src) + 1
end

local function skip_quoted(src, p)  -- p at the opening quote
  local pat, j = QUOTED[s_byte(src, p)], p + 1
  while true do
    local k = s_find(src, pat, j)
    if not k then return #src + 1 end
    local c = s_byte(src, k)
    if c ~= 92 then return k + 1 end  -- the closing quote, or a newline: unfinished, an error
    local e = s_byte(src, k + 1)
    if e == 10 or e == 13 then  -- an escaped line break: \n, \r, \n\r or \r\n
      local f = s_byte(src, k + 2)
      j = k + 2
      if (f == 10 or f == 13) and f ~= e then j = k + 3 end
    elseif e == 122 then  -- \z skips the white space after it, line breaks included
      local _, w = s_find(src, "^[ \t\n\v\f\r]*", k + 2)
      j = w + 1
    else
      j = k + 2
    end
  end
end

local function skip_numeral(src, p)  -- p at the first digit, or at "." before a digit
  local expo = "^[Ee]"
  if s_find(src, "^0[xX]", p) then expo, p = "^[Pp]", p + 2 end
  while true do
    if s_find(src, expo, p) then
      p = p + 1
      if s_find(src, "^[%+%-]", p) then p = p + 1 end
    elseif s_find(src, "^[0-9A-Fa-f%.]", p) then
      p = p + 1
    else
      return p
    end
  end
end

-- The source with every ``..`` token turned into ``.. CAT ..``.
local function rewrite(src)
  local parts, n, i, from = {}, 0, 1, 1
  while true do
    local p = s_find(src, "[%-%[\"'%.0-9A-Za-z_]", i)
    if not p then break end
    local c = s_byte(src, p)
    if c == 45 then  -- "-": a comment when doubled
      if s_byte(src, p + 1) == 45 then
        i = s_byte(src, p + 2) == 91 and skip_long(src, p + 2) or nil
        if not i then i = (s_find(src, "[\r\n]", p + 2) or #src) + 1 end
      else
        i = p + 1
      end
    elseif c == 91 then  -- "["
      i = skip_long(src, p) or p + 1
    elseif c == 34 or c == 39 then
      i = skip_quoted(src, p)
    elseif c == 46 then  -- "."
      if s_byte(src, p + 1) == 46 then
        if s_byte(src, p + 2) == 46 then
          i = p + 3
        else
          n = n + 1
          parts[n] = s_sub(src, from, p - 1)
          n = n + 1
          parts[n] = " .. " .. CAT_NAME .. " .. "
          from, i = p + 2, p + 2
        end
      elseif s_find(src, "^[0-9]", p + 1) then
        i = skip_numeral(src, p + 1)
      else
        i = p + 1
      end
    elseif c >= 48 and c <= 57 then
      i = skip_numeral(src, p)
    else  -- a name
      local _, e = s_find(src, "^[0-9A-Za-z_]*", p + 1)
      i = e + 1
    end
  end
  n = n + 1
  parts[n] = s_sub(src, from)
  return t_concat(parts)
end

-- The number of ``..`` operators Lua compiled into a function and all its nested functions, read
-- from its stripped bytecode (Lua 5.4's dump format): OP_CONCAT A B joins B values.
local OP_CONCAT = 53
local function concat_operators(f)
  local d, pos = s_dump(f, true), 33  -- a 31-byte header, then the count of upvalues
  local function byte() pos = pos + 1; return s_byte(d, pos - 1) end
  local function varint()
    local x, b = 0, 0
    repeat b = byte(); x = x * 128 + (b & 0x7f) until b >= 0x80
    return x
  end
  local function str() local n = varint(); if n > 0 then pos = pos + n - 1 end end
  local total = 0
  local function fn()
    str(); varint(); varint(); pos = pos + 3  -- source, lines, params, vararg, stack size
    for _ = 1, varint() do
      local i = s_unpack("<I4", d, pos)
      pos = pos + 4
      if i & 0x7f == OP_CONCAT then total = total + ((i >> 16) & 0xff) - 1 end
    end
    for _ = 1, varint() do
      local t = byte()
      if t == 3 or t == 19 then pos = pos + 8 elseif t == 4 or t == 20 then str() end
    end
    local upvalues = varint()  -- (read before pos is: varint moves it)
    pos = pos + 3 * upvalues
    for _ = 1, varint() do fn() end
    local lineinfo = varint()  -- stripped debug information: all counts are zero
    pos = pos + lineinfo
    for _ = 1, varint() do varint(); varint() end
    for _ = 1, varint() do str(); varint(); varint() end
    for _ = 1, varint() do str() end
  end
  fn()
  return total
end

-- Compile a script's source with every ``..`` guarded. Gives a function that, called with no
-- arguments, runs nothing but returns the script's main function (or nil and a message). The
-- rewrite is checked, not trusted: compiled, it must hold exactly twice the ``..`` operators
-- of the source as written (each ``a .. b`` became ``a .. CAT .. b``), or the source is refused.
local WRAP_HEAD = "local " .. CAT_NAME .. " = ... return function(...) "
local function compile_guarded(source, name, env)
  if s_find(source, CAT_NAME, 1, true) then
    return nil, "the name " .. CAT_NAME .. " is reserved"
  end
  local plain, perr = load(source, name, "t", env)
  if not plain then return nil, perr end
  charge(#source // 16)  -- compiled twice (in C), and read back
  local chunk, err = load(WRAP_HEAD .. rewrite(source) .. "\nend", name, "t", env)
  if not chunk then return nil, err end
  if concat_operators(chunk) ~= 2 * concat_operators(plain) then
    return nil, "the concatenation guard cannot read this source"
  end
  return function()
    local main = chunk(CAT)
    if type(main) ~= "function" then error("the script does not compile to one chunk", 0) end
    return main
  end
end
"""

__all__ = ["CAT_NAME", "CONCAT_GUARD_LUA"]
