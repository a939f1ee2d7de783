"""The Lua side of the sandbox: the host prelude that builds a script's world and guards it.

``HOST_LUA`` runs once in every fresh Lua state, with the full standard library, *before* any
script. It captures what the guard needs (``debug.sethook``, the raw library functions) in local
variables, wipes the dangerous globals of that state, and returns a small ``host`` table that
only Python holds. A script never sees the state's globals: it runs in an environment built by
``new_env`` from safe, wrapped copies of the base library plus the capability API.

What the prelude promises:

- Budgets hold across ``pcall``, ``xpcall``, coroutines and ``load``: a count hook is set on
  the calling thread and on every coroutine the script creates; once a budget is exhausted every
  later hook call raises again, and every error-catching wrapper re-raises, so a script cannot
  swallow its own fault. The verdict is read from a host variable after the call, not from what
  the script returned.
- C library calls whose cost grows with their arguments are charged by size or refused before
  they start (``lua_library``, spliced in here).
- No string a script can reach is longer than ``max_script_string_bytes``: ``..`` goes through a
  priced metamethod (``lua_concat``), every library function that makes a string checks what it
  made, error messages a script catches are cut back, and events from the host are checked. So
  what one VM instruction does to a string (``<`` between strings of NULs is ``strcoll`` per
  byte, ``==``, ``tonumber``) is bounded, and the wall clock holds between two count hooks.
- Results are bounded by the bytes of their strings, each reference counted, not by items.
- A C call or a concatenation that copies megabytes is one instruction to the count hook; the
  collector's sentinel re-arms the hook for the next instruction once the deadline has passed, so
  such a loop stops soon after its deadline rather than a thousand copies later.
- No finalizers (``__gc``), no binary chunks, no string metatable, no addresses in
  ``tostring``/``string.format``: nothing runs outside a budget and nothing depends on memory
  layout.
- Data leaves through ``host`` functions that copy it with raw access only (no metamethod runs
  unbudgeted on the host side) into plain tables or packed ``int64`` strings; a trait's intent
  arrays may instead be read in place by the host (``lua_arrays``: raw slots, integers only),
  by an address ``tostring`` gave when the host made the table, before any script held it.
"""

from __future__ import annotations

from ouroboros.sandbox.lua_concat import CONCAT_GUARD_LUA
from ouroboros.sandbox.lua_library import LIBRARY_GUARDS_LUA

HOST_LUA = r"""
local clock, L = ...
local HOOK_EVERY = L.hook_every

local sethook, gethook, getinfo = debug.sethook, debug.gethook, debug.getinfo
local dgetmetatable = debug.getmetatable
local MAX_DEPTH = L.max_call_depth
local co_create, co_resume, co_close = coroutine.create, coroutine.resume, coroutine.close
local pcall, xpcall, error, type, next, select = pcall, xpcall, error, type, next, select
local rawget, rawset, rawlen, rawequal = rawget, rawset, rawlen, rawequal
local tostring, tonumber, load = tostring, tonumber, load
local setmetatable, getmetatable = setmetatable, getmetatable
local s_rep, s_find, s_gsub, s_sub, s_byte = string.rep, string.find, string.gsub, string.sub, string.byte
local s_pack, s_unpack, s_format = string.pack, string.unpack, string.format
local s_match, s_gmatch, s_char, u_char = string.match, string.gmatch, string.char, utf8.char
local s_dump = string.dump
local t_concat, t_move, t_unpack, t_pack = table.concat, table.move, table.unpack, table.pack
local t_insert, t_remove, t_sort = table.insert, table.remove, table.sort
local math_type, math_max = math.type, math.max

-- The lupa bridge and everything that reaches outside Lua leave this state's globals.
for _, name in ipairs({"python", "io", "os", "package", "require", "debug", "dofile", "loadfile",
                       "collectgarbage", "load", "print"}) do
  _G[name] = nil
end
local loaded = package and package.loaded
if loaded then for k in next, loaded do loaded[k] = nil end end

local FORBIDDEN = {}
for _, name in ipairs({"python", "io", "os", "package", "require", "debug", "dofile", "loadfile",
                       "collectgarbage", "loadstring", "setfenv", "getfenv", "module", "newproxy",
                       "jit", "ffi", "dump", "getregistry", "gethook", "sethook", "randomseed",
                       "random", "__class__", "__dict__", "__globals__", "__builtins__"}) do
  FORBIDDEN[name] = true
end

-- -- budgets ---------------------------------------------------------------------------------
local FATAL = setmetatable({}, {__metatable = false})
local used, limit, deadline = 0, 0, 0
local fatal, fatal_msg = nil, nil
local objects, output, intents_n = 0, 0, 0
local out_log, out_intents = {}, {}

local function die(code, msg)
  if not fatal then fatal, fatal_msg = code, msg end
  error(FATAL, 0)
end

local function hook()
  used = used + HOOK_EVERY
  if fatal then error(FATAL, 0) end
  if used > limit then die("instructions", "instruction budget of " .. limit .. " exhausted") end
  if clock() > deadline then die("wall_clock", "wall clock budget exhausted") end
  if getinfo(MAX_DEPTH, "") then die("recursion", "call depth over " .. MAX_DEPTH) end
end

-- Installed for a single instruction by the collector's sentinel (below) once the deadline has
-- passed: it stops the run, or, when the deadline has not passed (a coroutine parked with the
-- alarm by an earlier run), puts the ordinary hook back.
local function alarm()
  if fatal then error(FATAL, 0) end
  if clock() > deadline then die("wall_clock", "wall clock budget exhausted") end
  sethook(hook, "", HOOK_EVERY)
end

-- Work done inside one C call, paid for up front. Never negative: a charge that wrapped or is not a
-- number is refused as too large rather than credited.
local function charge(n)
  if not (n >= 0) then die("instructions", "a C call of unbounded size") end
  if n > limit - used then
    die("instructions", "a C call worth " .. n .. " instructions is over the budget of " .. limit)
  end
  used = used + n
end

-- Every ``..`` of a script and every chunk it loads goes through CAT (lua_concat.py).
--{CONCAT_GUARD}

-- The out-of-band part of the watchdog. The count hook fires every HOOK_EVERY VM instructions, and
-- one instruction may be a C call or a concatenation that copies megabytes, so a thousand of them
-- can run far past the deadline before the hook looks at the clock. lupa gives no way to interrupt
-- a Lua state from another thread, but every such copy allocates, and allocation drives the
-- collector: this sentinel's finalizer runs at the end of every collection cycle, on the thread
-- that is running, and if that thread is under a budget whose deadline has passed it arms the
-- alarm for the very next instruction. (Finalizers run with hooks off; scripts may not define any.)
local sentinel_mt = {__metatable = false}
sentinel_mt.__gc = function()
  if gethook() == hook and clock() > deadline then sethook(alarm, "", 1) end
  setmetatable({}, sentinel_mt)
end
setmetatable({}, sentinel_mt)

local function new_object(what)
  objects = objects + 1
  if objects > L.max_objects then
    die("objects", "more than " .. L.max_objects .. " " .. what .. " created")
  end
end

-- An error message grows by its position ("script:3: ") each time it is raised again; what a
-- script catches is cut back to the cap, so no string outgrows it that way.
local function capped(e)
  if type(e) == "string" and #e > CAP then return s_sub(e, 1, CAP) end
  return e
end

local function fatal_error(e)
  if fatal or rawequal(e, FATAL) then return true end
  if type(e) == "string" then
    if e == "not enough memory" then
      fatal, fatal_msg = "memory", "memory budget exhausted"
      return true
    end
    if s_find(e, "stack overflow", 1, true) then
      fatal, fatal_msg = "recursion", s_sub(e, 1, 200)
      return true
    end
  end
  return false
end

-- Re-raise a budget error that a pcall, xpcall or resume caught.
local function pass(ok, ...)
  if fatal or (not ok and fatal_error((...))) then error(FATAL, 0) end
  if not ok then return false, (capped((...))) end
  return ok, ...
end

local function safe_pcall(f, ...) return pass(pcall(f, ...)) end

local function safe_xpcall(f, handler, ...)
  local function guarded(e)
    if fatal_error(e) then return e end
    return handler(capped(e))
  end
  return pass(xpcall(f, guarded, ...))
end

-- -- coroutines: every new one gets the hook, and its creation is paid for -------------------
local function safe_create(f)
  new_object("coroutines")
  charge(HOOK_EVERY)  -- what a coroutine may run before its own hook first fires
  local co = co_create(f)
  sethook(co, hook, "", HOOK_EVERY)
  return co
end

local function safe_resume(co, ...) return pass(co_resume(co, ...)) end

local function unwrap(ok, ...)
  if not ok then error((...), 0) end
  return ...
end

local function safe_wrap(f)
  local co = safe_create(f)
  return function(...) return unwrap(pass(co_resume(co, ...))) end
end

local function safe_close(co) return pass(co_close(co)) end

--{LIBRARY_GUARDS}

local SAFE_MATH = {}
for k, v in next, math do SAFE_MATH[k] = v end
SAFE_MATH.random, SAFE_MATH.randomseed = nil, nil

local SAFE_COROUTINE = {}
for k, v in next, coroutine do SAFE_COROUTINE[k] = v end
SAFE_COROUTINE.create, SAFE_COROUTINE.resume = safe_create, safe_resume
SAFE_COROUTINE.wrap, SAFE_COROUTINE.close = safe_wrap, safe_close

-- Strings' methods (``s:rep(n)``) go to the guarded functions; the metatable itself is hidden.
local string_mt = dgetmetatable("")
local METHODS = {}
for k, v in next, SAFE_STRING do METHODS[k] = v end
string_mt.__index = METHODS
string_mt.__metatable = false

local function safe_setmetatable(t, mt)
  if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
    die("escape", "__gc finalizers are not allowed")
  end
  new_object("metatables")
  return setmetatable(t, mt)
end

local function safe_getmetatable(v)
  if type(v) == "string" then die("escape", "the string metatable is not reachable") end
  return getmetatable(v)
end

local function guard(tbl, what)
  return setmetatable(tbl, {
    __index = function(_, k)
      if FORBIDDEN[k] then die("escape", what .. tostring(k) .. " is not available in the sandbox") end
    end,
    __metatable = false,
  })
end

local function copy(src, what)
  local t = {}
  for k, v in next, src do t[k] = v end
  return guard(t, what)
end

-- -- capabilities ------------------------------------------------------------------------------
local function add_output(bytes)
  output = output + bytes
  if output > L.max_output_bytes then die("output", "output over " .. L.max_output_bytes .. " bytes") end
end

local function log(...)
  local parts = t_pack(...)
  local size = parts.n
  for i = 1, parts.n do
    parts[i] = safe_tostring(parts[i])
    size = size + #parts[i]
    if size > L.max_output_bytes then die("output", "output over " .. L.max_output_bytes .. " bytes") end
  end
  local line = t_concat(parts, " ", 1, parts.n)
  add_output(#line + 1)
  out_log[#out_log + 1] = line
end

local INTENT_KINDS = {move = true, eat = true, reproduce = true, say = true, give_quest = true}

local function emit(kind, fields)
  if not INTENT_KINDS[kind] then error("unknown intent kind " .. safe_tostring(kind), 2) end
  intents_n = intents_n + 1
  if intents_n > L.max_intents then die("output", "more than " .. L.max_intents .. " intents") end
  local rec, size = {kind = kind}, #kind
  if fields ~= nil then
    if type(fields) ~= "table" then error("intent fields must be a table", 2) end
    local count = 0
    for k, v in next, fields do
      count = count + 1
      local tk, tv = type(k), type(v)
      if tk ~= "string" or k == "kind" or count > 16 then
        error("bad intent field " .. safe_tostring(k), 2)
      end
      if tv == "string" then size = size + #v
      elseif not (math_type(v) == "integer" or tv == "boolean") then
        error("intent field " .. k .. " must be an integer, a string or a boolean", 2)
      end
      size = size + #k + 8
      rec[k] = v
    end
  end
  add_output(size)
  out_intents[#out_intents + 1] = rec
end

local intent = {
  move = function(entity, dx, dy) emit("move", {entity = entity, dx = dx, dy = dy}) end,
  eat = function(entity, target) emit("eat", {entity = entity, target = target}) end,
  reproduce = function(entity) emit("reproduce", {entity = entity}) end,
  say = function(entity, text) emit("say", {entity = entity, text = text}) end,
  give_quest = function(entity, quest) emit("give_quest", {entity = entity, quest = quest}) end,
  emit = emit,
}

-- The world's keyed stream, bit for bit: SplitMix64 over key + counter * golden (engine.rng).
local GOLDEN, M1, M2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
local function mix(key, c)
  local z = key + c * GOLDEN
  z = (z ~ (z >> 30)) * M1
  z = (z ~ (z >> 27)) * M2
  return z ~ (z >> 31)
end

local function new_rng(key)
  local lanes = {}
  local function draw(id, salt)
    salt = salt or 0
    local lane = lanes[salt]
    if not lane then lane = mix(key, salt); lanes[salt] = lane end
    return mix(lane, id)
  end
  local function below(id, salt, bound)
    if math_type(bound) ~= "integer" or bound < 1 or bound > 0x100000000 then
      error("bound must be an integer in [1, 2^32]", 2)
    end
    return ((draw(id, salt) >> 32) * bound) >> 32
  end
  return {
    draw = draw,
    below = below,
    signed = function(id, salt, one) return below(id, salt, 2 * one) - one end,
  }
end

local ENV_BASE = {
  "assert", "error", "ipairs", "next", "pairs", "rawequal", "rawget", "rawlen", "rawset",
  "select", "type", "_VERSION",
}
local base = _G

local function new_env()
  local env = {}
  for _, name in ipairs(ENV_BASE) do env[name] = base[name] end
  env.tostring, env.pcall, env.xpcall = safe_tostring, safe_pcall, safe_xpcall
  env.setmetatable, env.getmetatable = safe_setmetatable, safe_getmetatable
  env.load = function(chunk, name, mode, e)
    if type(chunk) ~= "string" then error("load takes source text only", 2) end
    if s_byte(chunk, 1) == 27 or (mode ~= nil and mode ~= "t") then
      die("escape", "binary chunks cannot be loaded")
    end
    new_object("chunks")
    charge(#chunk)
    local make, err = compile_guarded(chunk, name or "=load", e or env)
    if not make then return nil, err end
    return make()
  end
  env.tonumber = function(v, ...)
    if type(v) == "string" then charge(#v // 4) end  -- strtod reads every digit
    return tonumber(v, ...)
  end
  env.string = copy(SAFE_STRING, "string.")
  env.table = copy(SAFE_TABLE, "table.")
  env.math = copy(SAFE_MATH, "math.")
  env.utf8 = copy(SAFE_UTF8, "utf8.")
  env.coroutine = copy(SAFE_COROUTINE, "coroutine.")
  env.log, env.intent = log, guard(intent, "intent.")
  env._G = env
  return guard(env, "")
end

-- -- arrays across the boundary ---------------------------------------------------------------
local CHUNK = 65536
-- A few formats only: a dish's carriers change by a few each tick, and every size kept is a string
-- of its length held for the life of the state (under its memory limit).
local fmt_cache, fmt_cached = {}, 0
local function fmt_of(n)
  local f = fmt_cache[n]
  if not f then
    if fmt_cached >= 8 then fmt_cache, fmt_cached = {}, 0 end
    f = "<" .. s_rep("j", n)
    fmt_cache[n], fmt_cached = f, fmt_cached + 1
  end
  return f
end

local function unpack_array(buf, n)
  if n <= CHUNK then
    local t = {s_unpack(fmt_of(n), buf)}
    t[n + 1] = nil
    return t
  end
  local t, pos, i = {}, 1, 0
  while i < n do
    local k = math.min(CHUNK, n - i)
    local part = {s_unpack(fmt_of(k), buf, pos)}
    pos = part[k + 1]
    t_move(part, 1, k, i + 1, t)
    i = i + k
  end
  return t
end

-- Intent arrays of zeros from a compiled constructor (``return {0,0,...}``): several times faster
-- than unpacking a string of zeros, but an instruction per item, so it only ever runs outside a
-- script's run (below, before the hook is set), never on a script's budget. One constructor per
-- ZERO_STEP sizes, the surplus items cleared again: a dish whose carriers change by a few each
-- tick compiles one again only when it crosses a step.
local ZERO_STEP = 1024
local zero_makers, zero_makers_n = {}, 0
local function zero_table(n)
  local cap = (n + ZERO_STEP - 1) // ZERO_STEP * ZERO_STEP
  local make = zero_makers[cap]
  if not make then
    if zero_makers_n >= 4 then zero_makers, zero_makers_n = {}, 0 end
    make = load("return {" .. s_rep("0,", cap) .. "}", "=zeros", "t", {})
    zero_makers[cap], zero_makers_n = make, zero_makers_n + 1
  end
  local t = make()
  for k = cap, n + 1, -1 do t[k] = nil end
  return t
end

-- Tables of n nils from a compiled constructor (``return {nil,nil,...}``: a LOADNIL and a SETLIST
-- per 50 items, so a few hundred instructions for ten thousand slots), whose array part the host
-- then fills in place (lua_arrays.py: it checks the table's header and that the slots are still
-- nil before it writes, and writes integers only). Made by the host, handed to the host by
-- ``tostring`` (the real one, never a script's value), and only then given to the script.
-- Sizes round up to a step of about an eighth to a sixteenth of n (16 at least), so a table holds
-- at most ~1/8 unused slots and a dish whose carriers change by a few compiles rarely.
local nil_makers, nil_makers_n = {}, 0
local function nil_table(n)
  local step = 16
  while step * 16 < n do step = step * 2 end
  local cap = (n + step - 1) // step * step
  local make = nil_makers[cap]
  if not make then
    if nil_makers_n >= 4 then nil_makers, nil_makers_n = {}, 0 end
    make = load("return {" .. s_rep("nil,", cap) .. "}", "=nils", "t", {})
    nil_makers[cap], nil_makers_n = make, nil_makers_n + 1
  end
  return make()
end

local function pack_array(t, n)
  if n <= CHUNK then return s_pack(fmt_of(n), t_unpack(t, 1, n)) end
  local parts, i = {}, 0
  while i < n do
    local k = math.min(CHUNK, n - i)
    parts[#parts + 1] = s_pack(fmt_of(k), t_unpack(t, i + 1, i + k))
    i = i + k
  end
  return t_concat(parts)
end

-- Copy a result into fresh plain tables with raw access; refuse what cannot cross.
-- Strings are priced by their length every time they are referenced: the host converts every
-- reference into a string of its own, so 600 references to one string are 600 strings there.
local result_bytes = 0
local function result_string(s)
  result_bytes = result_bytes + #s + 16
  if result_bytes > L.max_result_bytes then
    die("bad_result", "result is over " .. L.max_result_bytes .. " bytes")
  end
end

local function plain(v, depth, count)
  local t = type(v)
  if t == "string" then result_string(v); return v, count end
  if t == "nil" or t == "boolean" or math_type(v) == "integer" then return v, count end
  if t == "number" then die("bad_result", "a float cannot cross the boundary (use integers)") end
  if t ~= "table" then die("bad_result", "a " .. t .. " cannot cross the boundary") end
  if depth > L.max_result_depth then die("bad_result", "result nested deeper than " .. L.max_result_depth) end
  local out = {}
  for k, x in next, v do
    count = count + 1
    if count > L.max_result_items then
      die("bad_result", "result has more than " .. L.max_result_items .. " items")
    end
    if type(k) ~= "string" and math_type(k) ~= "integer" then
      die("bad_result", "table keys must be strings or integers")
    end
    if type(k) == "string" then result_string(k) end
    out[k], count = plain(x, depth + 1, count)
  end
  return out, count
end

-- -- running a script under budgets -----------------------------------------------------------
-- The script runs inside ``pcall``, returned as a tail call: once it is done no Lua instruction
-- runs before Python clears the hook with ``host.sethook()`` (a C function, invisible to the
-- count hook). Only then does ``host.verdict`` look at what came back.
local function run(lim, dl, f, ...)
  used, limit, deadline = 0, lim, dl
  fatal, fatal_msg, objects, output, intents_n = nil, nil, 0, 0, 0
  out_log, out_intents = {}, {}
  sethook(hook, "", HOOK_EVERY)
  return pcall(f, ...)
end

local function verdict(ok, ...)
  if fatal then return fatal, fatal_msg end
  if not ok then
    local e = ...
    if fatal_error(e) then return fatal, fatal_msg end
    if type(e) == "string" then return "runtime", s_sub(e, 1, 300) end
    return "runtime", "error object of type " .. type(e)
  end
  return "ok", ...
end

local host = {}
local scripts = {}

host.sethook = sethook
host.verdict = verdict
function host.used() return used end
function host.outputs() return out_log, out_intents end

function host.load(lim, dl, id, source)
  local env = new_env()
  -- Compiled inside the run, under its wall clock: the rewrite's lexer is Lua, linear in the
  -- source, and a source is at most CAP bytes (a source is a string too: its literals would
  -- otherwise be the one way past the cap). Its instructions are the host's, not the script's:
  -- the script's own budget starts when its top level does.
  return run(math_max(lim, 32 * CAP + 100000), dl, function()
    if #source > CAP then
      die("source_too_large", "source of " .. #source .. " bytes is over the limit of " .. CAP)
    end
    local make, err = compile_guarded(source, "=" .. id, env)
    if not make then die("syntax", s_sub(tostring(err), 1, 300)) end
    local main = make()
    scripts[id] = env
    used, limit = 0, lim
    return main()
  end)
end

function host.entry(id, name)
  local env = scripts[id]
  return env ~= nil and type(rawget(env, name)) == "function"
end

function host.call(lim, dl, id, name, event)
  local f = rawget(scripts[id], name)
  return run(lim, dl, function()
    local r = f(event)
    result_bytes = 0
    return (plain(r, 1, 0))
  end)
end

local READABLE = {}
for _, name in ipairs(L.readable) do READABLE[name] = true end
local INTENTS = {"thrust_x", "thrust_y", "energy_gain"}
local IS_INTENT = {thrust_x = true, thrust_y = true, energy_gain = true}

local made_last = {}

-- ``collect`` (a host callable, or nil) is the direct path of lua_arrays.py: ``fetch(k, where)``
-- fills the table of nils at ``where`` in place (the intents with zeros) and answers true, and
-- ``collect(i, where, n)`` copies out an intent array that holds n integers and answers true.
-- Whatever they decline goes the packed way: ``fetch(k)`` bytes unpacked, intents packed.
function host.trait(lim, dl, id, n, temperature, rng_key, fetch, collect)
  local act = rawget(scripts[id], "act")
  local made = {}
  local direct = collect ~= nil and n <= CHUNK
  -- The intents the script asked for last tick are made now, unhooked (see zero_table); the
  -- script still gets each on first use, fresh, and any other as before.
  local premade = {}
  local last = made_last[id]
  if last and n <= CHUNK and not direct then
    for k in next, last do premade[k] = zero_table(n) end
  end
  made_last[id] = not direct and made or nil  -- premade only on the packed path
  -- The address of each intent array, taken when the host made it: a script may give the table
  -- a ``__tostring`` or ``__name`` later, so ``tostring`` is never called on it again.
  local where_made = {}
  local function filled(k)
    if not direct then return nil end
    local arr = nil_table(n)
    local where = tostring(arr)
    local got = fetch(k, where)
    if got == true then return arr, where end
    return nil, got
  end
  local ctx = {n = n, temperature = temperature, rng = new_rng(rng_key)}
  setmetatable(ctx, {
    __index = function(t, k)
      if READABLE[k] then
        local arr, got = filled(k)
        if not arr then arr = unpack_array(got or fetch(k), n) end  -- got: the bytes, if any
        rawset(t, k, arr)
        return arr
      elseif IS_INTENT[k] then
        local arr, where = premade[k], nil
        premade[k] = nil  -- asked for again (after ``ctx.thrust_x = nil``): a fresh one, as on tick 1
        if not arr then arr, where = filled(k) end
        if not arr then arr, where = unpack_array(s_rep("\0", 8 * n), n), nil end
        made[k], where_made[k] = arr, where
        rawset(t, k, arr)
        return arr
      elseif type(k) == "string" and s_sub(k, 1, 2) == "__" then
        die("escape", "ctx." .. k .. " is not available")
      end
    end,
    __metatable = false,
  })
  return run(lim, dl, function()
    act(ctx)
    local out = {}
    for i, name in ipairs(INTENTS) do
      local arr = made[name]
      local where = where_made[name]
      if arr and where and collect(i, where, n) == true then
        out[i] = true
      elseif arr then
        local ok, packed = pcall(pack_array, arr, n)
        if fatal or not ok then
          if fatal_error(packed) then error(FATAL, 0) end
          die("bad_result", "ctx." .. name .. " must hold " .. n .. " integers")
        end
        out[i] = packed
      else
        out[i] = false
      end
    end
    return out[1], out[2], out[3]
  end)
end

return host
"""

HOST_LUA = HOST_LUA.replace("--{CONCAT_GUARD}", CONCAT_GUARD_LUA).replace(
    "--{LIBRARY_GUARDS}", LIBRARY_GUARDS_LUA
)
