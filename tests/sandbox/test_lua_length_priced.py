"""Work priced by a string's length: no string a script can reach outgrows the cap, so nothing one
VM instruction does to a string holds the host, whatever the script does; results crossing the
boundary are bounded by their bytes; and the same hostile scripts as neon npc handlers leave the
city ticking."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import lupa.lua54 as lupa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ouroboros.errors import SandboxError
from ouroboros.sandbox import FaultCode, LuaLimits, LuaScript, lua_runtime
from ouroboros.worlds.neon import scripting
from ouroboros.worlds.neon.city import state
from ouroboros.worlds.neon.gameplay import effective
from tests.worlds.neon.neon_harness import City

CORPUS = Path(__file__).parent / "corpus" / "lua"
HANDLERS = sorted(p for p in CORPUS.glob("*.lua") if "function on_event" in p.read_text())


def neon_expectation(path: Path) -> FaultCode:
    """The fault neon records for a corpus script: its ``-- neon: <code>`` line where neon's
    smaller budgets (200,000 instructions, 8 MiB) stop it another way, else what the runtime
    expects (``-- runtime:``, ``-- expect:``)."""
    text = path.read_text()
    neon = re.search(r"^-- neon: (\w+)", text, re.M)
    runtime = re.search(r"^-- runtime: (\w+)", text, re.M)
    head = re.match(r"^-- expect: (\w+)", text)
    assert head
    return FaultCode((neon or runtime or head).group(1))


COSTLY_FOR_EVER = {
    "compare NULs": "local a, b = N, N .. '' while true do local _ = a < b; local _ = b >= a end",
    "equal distinct": "local a, b = N .. 'a', N .. 'b' while true do local _ = a == b end",
    "coerce digits": "local d = string.rep('7', 60000) while true do local _ = d + 0; local _ = -d end",
    "gsub every byte": "local t = {} while true do local _ = N:gsub('.', t) end",
    "format %q": "local q = N:sub(1, 16000) while true do local _ = string.format('%q', q) end",
    "byte all": "while true do local _ = {N:byte(1, -1)} end",
    "sort in C": "local t = {} for i = 1, 64 do t[i] = N end while true do table.sort(t) end",
    "concat parts": "local t = {N:sub(30001), N:sub(30001)} while true do local _ = table.concat(t) end",
}


@pytest.mark.parametrize("loop", list(COSTLY_FOR_EVER), ids=list(COSTLY_FOR_EVER))
def test_the_wall_clock_holds_within_twice_its_budget_whatever_the_loop(loop: str) -> None:
    # A generous budget and no instruction budget to speak of: only the clock can stop it, and
    # between two count hooks a thousand of the costliest instructions at the cap must fit.
    budget_ms = 1_000
    source = f"function on_go(e) local N = string.rep('\\0', 60000) {COSTLY_FOR_EVER[loop]} end"
    unlimited = 1 << 50
    limits = LuaLimits(
        max_wall_ms_per_call=budget_ms,
        max_instructions_per_call=unlimited,
        max_instructions_per_tick=unlimited,
    )
    s = LuaScript("s", "1", source, limits)
    started = time.perf_counter()
    _, fault = s.call("on_go")
    elapsed = time.perf_counter() - started
    assert fault is not None and fault.code is FaultCode.WALL_CLOCK, fault
    assert elapsed < 2 * budget_ms / 1000 + 0.25, elapsed


@pytest.mark.parametrize(
    "make",
    [
        "local s = 'ab' for i = 1, 20 do s = s .. s end",
        "local s = ('a'):rep(40000) local t = s .. s",
        "local s = ('a'):rep(40000) local t = s .. 1 .. s",
        "local s = ('a'):rep(1 << 20)",
        "local s = table.concat({('a'):rep(40000), ('a'):rep(40000)})",
        "local s = string.format('%s%s', ('a'):rep(40000), ('a'):rep(40000))",
        "local s = ('a'):rep(40000):gsub('a', 'aa')",
        "local s = string.pack('c70000', '')",
        "local s = load('return ...')(('a'):rep(40000)) .. ('b'):rep(40000)",
    ],
)
def test_every_way_of_making_a_string_stops_at_the_cap(make: str) -> None:
    s = LuaScript("s", "1", f"function on_go(e) {make} end", LuaLimits(max_script_string_bytes=65536))
    _, fault = s.call("on_go")
    assert fault is not None and fault.code is FaultCode.MEMORY, fault


def test_strings_up_to_the_cap_work_and_the_cap_is_a_setting() -> None:
    source = "function on_go(e) local s = ('ab'):rep(e.n // 2) return #(s .. s) end"
    s = LuaScript("s", "1", source, LuaLimits(max_script_string_bytes=1000))
    assert s.call("on_go", {"n": 500})[0]["value"] == 1000  # type: ignore[index]
    assert s.call("on_go", {"n": 502})[1].code is FaultCode.MEMORY  # type: ignore[union-attr]


def test_a_caught_error_message_never_outgrows_the_cap() -> None:
    s = LuaScript(
        "s",
        "1",
        """
        function on_go(e)
          local m = string.rep("x", 1000)
          for i = 1, 50 do
            local ok, err = pcall(function() error(m) end)
            m = err
            local ok2, err2 = xpcall(function() error(m) end, function(x) return x end)
            m = err2
          end
          return #m
        end
        """,
        LuaLimits(max_script_string_bytes=1000),
    )
    result, fault = s.call("on_go")
    assert fault is None and result is not None and result["value"] == 1000


def test_an_event_string_over_the_cap_is_refused_by_the_host() -> None:
    s = LuaScript("s", "1", "function on_go(e) end", LuaLimits(max_script_string_bytes=100))
    with pytest.raises(SandboxError):
        s.call("on_go", {"text": "x" * 101})


def test_six_hundred_references_to_one_string_are_priced_as_six_hundred_strings() -> None:
    s = LuaScript(
        "s",
        "1",
        "function on_go(e) local s, t = ('z'):rep(60000), {} for i = 1, 600 do t[i] = s end return t end",
    )
    started = time.perf_counter()
    result, fault = s.call("on_go")
    assert result is None and fault is not None and fault.code is FaultCode.BAD_RESULT
    assert "bytes" in fault.message
    assert time.perf_counter() - started < 1.0
    # Under the byte bound, the same shape crosses.
    ok = LuaScript("s", "1", "function on_go(e) local t = {} for i = 1, 600 do t[i] = 'ab' end return t end")
    assert ok.call("on_go")[0]["value"] == ["ab"] * 600  # type: ignore[index]


def test_anything_raised_while_a_result_crosses_is_a_clean_fault(monkeypatch: pytest.MonkeyPatch) -> None:
    def exhausted(value: Any, depth: int, room: list[int]) -> Any:
        raise MemoryError

    s = LuaScript("s", "1", "function on_go(e) return {1, 2} end")
    monkeypatch.setattr(lua_runtime, "_from_lua", exhausted)
    result, fault = s.call("on_go")
    assert result is None and fault is not None and fault.code is FaultCode.BAD_RESULT
    monkeypatch.undo()
    assert s.call("on_go")[0]["value"] == [1, 2]  # type: ignore[index]


# -- the lexer behind the concatenation guard finds exactly the .. tokens Lua finds --------------
_PLAIN = st.sampled_from(list("ab.-[]= "))
_ESCAPES = st.sampled_from(["\\\\", '\\"', "\\'", "\\n", "\\z\n  ", "\\\n", "\\\r\n", "\\65", "\\x41"])


@st.composite
def _operand(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["dq", "sq", "long", "num", "name", "call"]))
    if kind in ("dq", "sq"):
        q = '"' if kind == "dq" else "'"
        return q + "".join(draw(st.lists(st.one_of(_PLAIN, _ESCAPES), max_size=6))) + q
    if kind == "long":
        level = "=" * draw(st.integers(0, 2))
        inner = draw(st.text(alphabet=st.sampled_from(list("a.]=[-'\"\n")), max_size=10))
        while "]" + level + "]" in inner:
            inner = inner.replace("]" + level + "]", "")
        return f"[{level}[{inner}]{level}]"
    if kind == "num":
        return draw(st.sampled_from(["1", "0x1e", "1e2", ".5", "3.0", "0x1p4", "2E-1"]))
    if kind == "name":
        return "v"
    return "(...)"


_GAPS = st.sampled_from([" ", "", "\n", " --[[ .. ]] ", " --[==[ ]] .. ]==] ", " -- ..\n"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_operand(), _GAPS, _GAPS), min_size=1, max_size=6))
def test_guarded_concatenation_gives_what_lua_gives(chain: list[tuple[str, str, str]]) -> None:
    expr = "".join(
        (f"{a}{operand}{b}" if i == 0 else f"..{a}{operand}{b}") for i, (operand, a, b) in enumerate(chain)
    )
    body = f"local v = 'V'\nreturn \"\" .. {expr}\n"
    plain = lupa.LuaRuntime(encoding=None, register_eval=False)
    try:
        expected = plain.execute(body, b"...")
    except lupa.LuaError:
        return  # not valid Lua: nothing to compare
    source = f"function on_go(e)\n  return (function(...)\n{body}end)('...')\nend\n"
    s = LuaScript("s", "1", source)
    assert s.fault is None, (source, s.fault)
    result, fault = s.call("on_go")
    assert fault is None and result is not None, (source, fault)
    assert result["value"] == expected.decode(), source


# -- the same scripts as neon npc handlers -----------------------------------------------------
def _scripted(source: str) -> dict[str, Any]:
    content = effective({})
    content["scripts"] = [
        {
            "id": "neon.script.sam",
            "version": "1.0.0",
            "language": "lua",
            "entry": "on_event",
            "source": source,
        }
    ]
    content["npc_behaviors"] = [
        *content["npc_behaviors"],
        {"id": "neon.behavior.scripted", "version": "1.0.0", "initial": "talk",
         "states": {"talk": {"action": "script", "script": "neon.script.sam"}}},
    ]  # fmt: skip
    content["npcs"] = [
        dict(n, behavior="neon.behavior.scripted") if n["id"] == "neon.npc.vendor_skewer_sam" else n
        for n in content["npcs"]
    ]
    return content


@pytest.mark.parametrize("path", HANDLERS, ids=[p.stem for p in HANDLERS])
def test_a_hostile_npc_handler_never_holds_the_city(path: Path) -> None:
    expected = neon_expectation(path)
    budget_s = scripting.LIMITS.max_wall_ms_per_call / 1000
    city = City()
    city.enter("Alice")
    city.world.submit("gameplay.activate", {"patch_id": "p-hostile", "content": _scripted(path.read_text())})
    slowest = 0.0
    for line in ("n", "talk sam", "look", "talk sam"):
        started = time.perf_counter()
        city.do("Alice", line)
        slowest = max(slowest, time.perf_counter() - started)
    faults = state(city.world).get("script_faults", [])
    assert faults and faults[0]["script"] == "neon.script.sam", faults
    assert faults[0]["code"] == str(expected), faults[0]
    assert len(faults) == 1  # stopped for that npc: not run again
    assert slowest < 2 * budget_s + 0.25, slowest  # measured: no tick held past twice the budget
    assert "You buy" in city.do("Alice", "buy neon soda")  # and the city goes on


def test_a_source_is_a_string_too_its_literals_cannot_pass_the_cap() -> None:
    literal = "\\0" * 70_000
    s = LuaScript("s", "1", f'local a = "{literal}"\nfunction on_go(e) return a < a end')
    assert s.fault is not None and s.fault.code is FaultCode.SOURCE_TOO_LARGE


def test_the_concatenation_lexer_runs_under_the_wall_clock_and_on_the_hosts_instructions() -> None:
    line = "x = 'a' .. 0x1p-1 .. [[b]] .. \"\\z  c\" .. 1 - -1 -- d\n"
    source = "function on_go(e)\n" + line * (60_000 // len(line)) + "end\n"
    started = time.perf_counter()
    s = LuaScript("s", "1", source, scripting.LIMITS)  # neon's small instruction budget
    assert s.fault is None, s.fault
    assert time.perf_counter() - started < 1.0
    # The lexing counts against the clock: a budget of a millisecond stops it.
    tiny = LuaScript("s", "1", source, LuaLimits(max_wall_ms_per_call=1))
    assert tiny.fault is not None and tiny.fault.code is FaultCode.WALL_CLOCK
    # The script's own top level still has only its own budget.
    busy = LuaScript("s", "1", "for i = 1, 1e9 do end", LuaLimits(max_instructions_per_call=5_000))
    assert busy.fault is not None and busy.fault.code is FaultCode.INSTRUCTIONS
    assert busy.fault.budget_used["instructions"] <= 5_000 + 1_000


@pytest.mark.parametrize(
    "source",
    [
        "s = 'x' -- c\rwhile true do s = s .. s end",
        "s = 'x' --[==[ ]] ]=] ]==] while true do s = s .. s end",
        "s = 'x' local q = \"\\\\\" while true do s = s .. s end",
        "s = 'x' local q = \"a\\z\n   'b\" while true do s = s .. s end",
        "s = 'x' local q = 'a\\\r\nb' while true do s = s .. s end",
        "s = 'x' local n = 0x1p+4 while true do s = s .. s end",
        "s = 'x' local n = 0x1e+1 while true do s = s..s end",
        "s = 'x' local t = {[ [[k]] ] = 1} while true do s = s .. s end",
        "s = 'x' local t = {b = s} while true do t.b = t.b..t.b end",
        "s = 'x' local function f(...) return ... .. ... end while true do s = f(s) end",
        "s = 'x' while true do s = '--' .. s .. [[--]] .. s end",
        "s = 'x' while true do s = s .. [==[]]]=]]==] .. s end",
        "s = 'x' while true do s = load('local a = ... return a .. a')(s) end",
    ],
)
def test_no_way_of_writing_dot_dot_escapes_the_guard(source: str) -> None:
    s = LuaScript("s", "1", f"function on_go(e)\n{source}\nend")
    assert s.fault is None, s.fault
    _, fault = s.call("on_go")
    assert fault is not None and fault.code is FaultCode.MEMORY, fault
    assert "over the limit" in fault.message


def test_the_rewrite_is_checked_against_the_compiled_code_not_trusted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A lexer that misses a `..` (here: one that misses them all) leaves a native concatenation
    # in the bytecode; the count of OP_CONCAT operators gives it away and the source is refused.
    blind = lua_runtime.HOST_LUA.replace("load(WRAP_HEAD .. rewrite(source)", "load(WRAP_HEAD .. (source)")
    assert blind != lua_runtime.HOST_LUA
    monkeypatch.setattr(lua_runtime, "HOST_LUA", blind)
    s = LuaScript("s", "1", "function on_go(e) return 'a' .. e.x end")
    assert s.fault is not None and s.fault.code is FaultCode.SYNTAX
    assert "cannot read" in s.fault.message
    assert LuaScript("s", "1", "function on_go(e) return e.x end").fault is None


def test_the_hosts_conversion_pays_for_each_string_as_it_reads_it() -> None:
    # The backstop behind the prelude's own count: converting 4,000 references to one 2 MiB
    # string stops after the first few, not after 8 GB.
    lua = lupa.LuaRuntime(encoding=None)
    refs = lua.eval(
        "function() local s, t = ('z'):rep(2 << 20), {} for i = 1, 4000 do t[i] = s end return t end"
    )()
    started = time.perf_counter()
    with pytest.raises(lua_runtime._BadResult):
        lua_runtime._from_lua(refs, 0, [256 << 10])
    assert time.perf_counter() - started < 0.5
