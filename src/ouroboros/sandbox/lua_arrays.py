"""Integer arrays between numpy and Lua 5.4 tables without ``string.pack``/``unpack``.

A trait's arrays cross the boundary ten thousand values at a time, and Lua's own ways of making
a table from bytes (``{string.unpack(fmt, s)}``) and bytes from a table
(``string.pack(fmt, table.unpack(t))``) parse a format option and push a stack slot per value:
most of what a trait tick cost besides its own loop. This module writes and reads the array
part of a table directly, as numpy strided views over its ``TValue`` slots.

What it promises:

- It only ever touches a table that the host prelude made and handed over by its address
  (``tostring`` of a host-made table, never a value a script chose), and only after checking
  the table's header (its type byte, ``alimit`` covering the ``n`` slots, the array pointer) and,
  before writing, that those slots all hold ``nil`` (the tag a constructor's ``nil`` items get),
  i.e. the table is the fresh one the host just made. Reading checks that every one of the ``n``
  slots holds an integer; anything else (a float, a nil, a table a script resized below ``n``)
  answers ``None`` and the caller takes the old ``string.pack`` path, with its faults.
- ``available()`` is decided once per process by a probe on a throwaway state that checks the
  layout both ways (values written here read back in Lua, values written in Lua read back here)
  before this module writes anywhere else; when the probe fails (another Lua build, another
  layout) every caller keeps the ``pack``/``unpack`` path.
- Lua's collector never moves an object, and no Lua code runs while these functions run (they
  are called from Lua as host callbacks, or with the state idle), so an address checked here stays
  valid for the call.

The layout (``lobject.h``, Lua 5.4.0-5.4.7, 64-bit): ``Table`` is ``next`` (8 bytes), ``tt``,
``marked``, ``flags``, ``lsizenode`` (a byte each), ``alimit`` (4), ``array`` (a pointer at
16); a ``TValue`` is 16 bytes, its value at 0 and its type tag at 8.
"""

from __future__ import annotations

import ctypes
import sys

import numpy as np

_TABLE_TT = 5  # LUA_VTABLE, as the object header stores it
_TAG_NIL, _TAG_INT = 0x00, 0x03  # LUA_VNIL, LUA_VNUMINT
_SLOT = np.dtype({"names": ["v", "t"], "formats": ["<i8", "u1"], "offsets": [0, 8], "itemsize": 16})
_PREFIX = b"table: 0x"
_MAX_SLOTS = 1 << 26

_state: list[bool | None] = [None]


def _address(text: object) -> int:
    if not isinstance(text, bytes) or not text.startswith(_PREFIX) or len(text) > 32:
        return 0
    try:
        return int(text[len(_PREFIX) :], 16)
    except ValueError:
        return 0


def _slots(text: object, n: int) -> np.ndarray | None:
    """The first ``n`` array slots of the host-made table at ``text``, or ``None``."""
    addr = _address(text)
    if addr == 0 or not 0 < n <= _MAX_SLOTS:
        return None
    head = ctypes.string_at(addr, 24)
    alimit = int.from_bytes(head[12:16], "little")
    array = int.from_bytes(head[16:24], "little")
    if head[8] != _TABLE_TT or alimit < n or array == 0:
        return None
    # alimit <= the real array size, whichever way the flags say it is read (luaH_realasize)
    return np.frombuffer(memoryview((ctypes.c_char * (16 * n)).from_address(array)), dtype=_SLOT)


def _fill_unchecked(text: object, values: np.ndarray | None, n: int) -> bool:
    slots = _slots(text, n)
    if slots is None:
        return False
    if slots["t"].max() != _TAG_NIL:
        return False  # not the fresh table of nils the host just made
    slots["v"] = 0 if values is None else values
    slots["t"] = _TAG_INT
    return True


def _read_unchecked(text: object, n: int) -> np.ndarray | None:
    slots = _slots(text, n)
    if slots is None:
        return None
    tags = slots["t"]
    if tags.min() != _TAG_INT or tags.max() != _TAG_INT:
        return None
    return np.array(slots["v"], dtype=np.int64)


def fill(text: object, values: np.ndarray | None, n: int) -> bool:
    """Write ``values`` (``n`` int64, or zeros when ``None``) into the fresh table of ``n`` nils
    whose ``tostring`` is ``text``; ``False`` (nothing written) when that is not possible."""
    return available() and _fill_unchecked(text, values, n)


def read(text: object, n: int) -> np.ndarray | None:
    """A copy of ``t[1..n]`` of the table whose ``tostring`` is ``text`` when all are integers."""
    return _read_unchecked(text, n) if available() else None


_PROBE_LUA = b"""
local n = ...
local fresh = load("return {" .. string.rep("nil,", n) .. "}")()
local mixed = {}
for i = 1, n do mixed[i] = i * 1000003 - 7 end
local floats = {}
for i = 1, n do floats[i] = i + 0.0 end
local function check(tab, first)
  if #tab ~= n then return false end
  for i = 1, n do
    if math.type(tab[i]) ~= "integer" or tab[i] ~= first + i - 1 then return false end
  end
  return tab[n + 1] == nil
end
return tostring(fresh), tostring(mixed), tostring(floats), fresh, mixed, floats, check
"""


def _probe() -> bool:
    """Check the layout on a throwaway state, both ways, before trusting it anywhere."""
    if sys.maxsize < (1 << 62) or sys.byteorder != "little":
        return False
    try:
        import lupa.lua54 as lupa

        lua = lupa.LuaRuntime(encoding=None, register_eval=False, register_builtins=False)
        n = 37
        fresh_s, mixed_s, floats_s, *held, check = lua.execute(_PROBE_LUA, n)  # held: alive till the end
        for text in (fresh_s, mixed_s, floats_s):
            addr = _address(text)
            if addr == 0:
                return False
            head = ctypes.string_at(addr, 24)
            if head[8] != _TABLE_TT or int.from_bytes(head[12:16], "little") < n:
                return False
        expected = np.arange(n, dtype=np.int64) * 1000003 + 1000003 - 7
        got = _read_unchecked(mixed_s, n)
        if got is None or not np.array_equal(got, expected):
            return False
        if _read_unchecked(floats_s, n) is not None:  # floats are not integers
            return False
        if not _fill_unchecked(fresh_s, np.arange(100, 100 + n, dtype=np.int64), n):
            return False
        if not check(held[0], 100):
            return False
        return not _fill_unchecked(mixed_s, None, n)  # a filled table is never written again
    except Exception:
        return False


def available() -> bool:
    """Whether this process's Lua 5.4 has the layout this module reads and writes."""
    if _state[0] is None:
        _state[0] = _probe()
    return bool(_state[0])


__all__ = ["available", "fill", "read"]
