"""Lua scripts under budgets: plain values in and out, capabilities, faults as data, and the
boundary holding against the host's own objects."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ouroboros.engine import Stream
from ouroboros.errors import SandboxError
from ouroboros.sandbox import FaultCode, LuaLimits, LuaScript


def script(source: str, **limits: int) -> LuaScript:
    s = LuaScript("s", "1", source, LuaLimits(**limits))
    assert s.fault is None, s.fault
    return s


def test_a_handler_gets_plain_values_and_gives_back_value_intents_and_log() -> None:
    s = script(
        """
        function on_enter(e)
          log("entered", e.room, #e.items)
          intent.say(e.who, "welcome to " .. e.room)
          intent.give_quest(e.who, "find-the-cat")
          return {greeted = true, count = #e.items + 1, tags = {"a", "b"}}
        end
        """
    )
    result, fault = s.call("on_enter", {"room": "bar", "who": 7, "items": [1, 2, 3]})
    assert fault is None
    assert result == {
        "value": {"count": 4, "greeted": True, "tags": ["a", "b"]},
        "intents": [
            {"kind": "say", "entity": 7, "text": "welcome to bar"},
            {"kind": "give_quest", "entity": 7, "quest": "find-the-cat"},
        ],
        "log": ["entered bar 3"],
    }


def test_state_kept_in_globals_lives_from_call_to_call() -> None:
    s = script("count = 0\nfunction on_tick(e) count = count + e.by return count end")
    assert [s.call("on_tick", {"by": 2})[0]["value"] for _ in range(3)] == [2, 4, 6]  # type: ignore[index]


@pytest.mark.parametrize(
    ("returned", "why"),
    [
        ("1.5", "float"),
        ("function() end", "function"),
        ("coroutine.create(function() end)", "thread"),
        ("{[{}] = 1}", "keys"),
        ("{1, 2, x = 3}", "keys 1..n"),
        ("(function() local t = {} t.self = t return t end)()", "deeper"),
        ("'\\255\\254'", "UTF-8"),
    ],
)
def test_what_cannot_cross_the_boundary_is_a_bad_result(returned: str, why: str) -> None:
    s = script(f"function on_x(e) return {returned} end")
    result, fault = s.call("on_x")
    assert result is None and fault is not None
    assert fault.code == FaultCode.BAD_RESULT and why in fault.message


def test_a_host_event_that_is_not_plain_data_is_a_host_error() -> None:
    s = script("function on_x(e) return e end")
    with pytest.raises(SandboxError):
        s.call("on_x", {"f": object()})
    with pytest.raises(SandboxError):
        s.call("on_x", {"big": 1 << 70})


def test_a_missing_handler_is_a_contract_fault() -> None:
    s = script("function on_x(e) end")
    _, fault = s.call("on_y")
    assert fault is not None and fault.code == FaultCode.CONTRACT


def test_a_fault_names_the_script_the_entity_and_the_budget_used() -> None:
    s = script("function on_x(e) while true do end end", max_instructions_per_call=100_000)
    _, fault = s.call("on_x", {}, entity=42)
    assert fault is not None
    assert (fault.code, fault.script_id, fault.script_version, fault.entity) == (
        FaultCode.INSTRUCTIONS,
        "s",
        "1",
        42,
    )
    assert 100_000 <= fault.budget_used["instructions"] <= 102_000


def test_a_faulted_entity_is_not_run_again_but_others_are() -> None:
    s = script("function on_x(e) if e.bad then error('boom') end return e.n end")
    assert s.call("on_x", {"bad": True}, entity=1)[1].code == FaultCode.RUNTIME  # type: ignore[union-attr]
    assert s.call("on_x", {"n": 5}, entity=1)[1].code == FaultCode.DISABLED  # type: ignore[union-attr]
    assert s.call("on_x", {"n": 5}, entity=2) == ({"value": 5, "intents": [], "log": []}, None)


def test_after_repeated_faults_the_script_is_disabled_everywhere() -> None:
    s = script("function on_x(e) error('boom') end", max_faults=2)
    for entity in (1, 2):
        assert s.call("on_x", {}, entity=entity)[1].code == FaultCode.RUNTIME  # type: ignore[union-attr]
    assert s.disabled
    assert s.call("on_x", {}, entity=3)[1].code == FaultCode.DISABLED  # type: ignore[union-attr]


def test_the_tick_budget_is_shared_by_all_calls_of_a_tick() -> None:
    s = script(
        "function on_x(e) local s = 0 for i = 1, 30000 do s = s + i end return s end",
        max_instructions_per_call=1_000_000,
        max_instructions_per_tick=150_000,
        max_faults=100,
    )
    s.begin_tick()
    codes = [s.call("on_x")[1] for _ in range(3)]
    assert codes[0] is None and codes[1] is None
    assert codes[2] is not None and codes[2].code == FaultCode.INSTRUCTIONS
    s.begin_tick()
    assert s.call("on_x")[1] is None


def test_the_top_level_runs_under_budgets_at_load() -> None:
    s = LuaScript("s", "1", "while true do end", LuaLimits(max_instructions_per_call=50_000))
    assert s.fault is not None and s.fault.code == FaultCode.INSTRUCTIONS
    assert s.call("on_x")[1].code == FaultCode.DISABLED  # type: ignore[union-attr]


def test_a_syntax_error_is_found_at_load() -> None:
    s = LuaScript("s", "1", "function (")
    assert s.fault is not None and s.fault.code == FaultCode.SYNTAX


def test_no_python_object_and_no_dangerous_library_is_reachable() -> None:
    s = script(
        """
        function on_x(e)
          local seen = {}
          for _, name in ipairs({"python", "io", "os", "debug", "package", "require", "dofile",
                                 "loadfile", "collectgarbage", "print"}) do
            if rawget(_G, name) ~= nil then seen[#seen + 1] = name end
          end
          if rawget(string, "dump") then seen[#seen + 1] = "string.dump" end
          if rawget(math, "random") then seen[#seen + 1] = "math.random" end
          return seen
        end
        """
    )
    result, fault = s.call("on_x")
    assert fault is None and result is not None
    assert result["value"] == {}  # an empty table: nothing was reachable


def test_string_methods_stay_guarded_and_addresses_stay_hidden() -> None:
    s = script(
        """
        function on_x(e)
          string.rep = function() return "poisoned" end   -- only this script's copy
          return {("ab"):rep(2), tostring({}), tostring(on_x)}
        end
        """
    )
    result, fault = s.call("on_x")
    assert fault is None and result is not None
    assert result["value"] == ["abab", "table", "function"]


def test_keyed_random_draws_match_the_engine_stream_bit_for_bit() -> None:
    key = Stream.for_tick(99, "trait:x", 5).key
    ids = np.arange(0, 40_000, 37, dtype=np.int64)
    trait = script(
        """
        function act(ctx)
          local rng, ids = ctx.rng, ctx.ids
          for i = 1, ctx.n do
            ctx.energy_gain[i] = rng.below(ids[i], 3, 1000)
            ctx.thrust_x[i] = rng.signed(ids[i], 1, 65536)
          end
        end
        """
    )
    packed, fault = trait.run_trait(
        ids.size, 20, key, lambda name: ids.astype("<i8").tobytes() if name == b"ids" else b""
    )
    assert fault is None and packed is not None
    stream = Stream(key)
    assert (
        np.frombuffer(packed[2], dtype="<i8").tolist()
        == Stream.below(stream.for_ids(ids, salt=3), 1000).tolist()
    )
    assert (
        np.frombuffer(packed[0], dtype="<i8").tolist()
        == stream.signed_fp(ids.size, 65536, ids=ids, salt=1).tolist()
    )


LEAVES = st.booleans() | st.integers(-(1 << 63), (1 << 63) - 1) | st.text(max_size=8)
PLAIN = st.recursive(
    LEAVES,
    lambda kids: (
        st.lists(kids, min_size=1, max_size=4)
        | st.dictionaries(st.text(min_size=1, max_size=4), kids, min_size=1, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=25, deadline=None)
@given(PLAIN)
def test_plain_values_round_trip_unchanged(value: object) -> None:
    # (None inside a table is a hole in Lua, and {} has no list-or-dict shape: both excluded.)
    s = script("function on_x(e) return e.v end")
    result, fault = s.call("on_x", {"v": value})
    assert fault is None and result is not None
    assert result["value"] == value


def test_table_functions_pay_for_what_they_shift_not_for_the_whole_table() -> None:
    # A stack of 20,000 pushed and popped: each push and pop moves nothing, so it costs 1. (Charged
    # by the table's length, as before, the pops alone would cost 2 * 10^8, ten budgets.)
    s = script(
        """
        function on_go(e)
          local stack = setmetatable({}, {__tostring = function() return "stack" end})
          for i = 1, 20000 do table.insert(stack, i) end
          local sum = 0
          while #stack > 0 do sum = sum + table.remove(stack) end
          local t = {5, 3, 9}
          table.insert(t, 1, 7)
          table.sort(t, function(a, b) return a > b end)
          return {sum = sum, joined = table.concat(t, ","), n = select("#", table.unpack(t))}
        end
        """
    )
    result, fault = s.call("on_go")
    assert fault is None, fault
    assert result is not None and result["value"] == {"sum": 200010000, "joined": "9,7,5,3", "n": 4}


@pytest.mark.parametrize("field", ["__len", "__index", "__newindex"])
@pytest.mark.parametrize(
    "call",
    [
        "table.insert(t, 1, 0)",
        "table.remove(t, 1)",
        "table.sort(t)",
        "table.concat(t)",
        "table.unpack(t)",
        "table.move(t, 1, 2, 1)",
        "table.move({1, 2}, 1, 2, 1, t)",
    ],
)
def test_table_functions_refuse_tables_whose_metamethods_their_c_loop_would_run(
    call: str, field: str
) -> None:
    proxy = f"setmetatable({{1, 2}}, {{{field} = function() return 1 end}})"
    s = script(f"function on_go(e) local t = {proxy} {call} end")
    _, fault = s.call("on_go")
    assert fault is not None and fault.code is FaultCode.WALL_CLOCK, fault
    assert "cannot be budgeted" in fault.message


def test_a_charge_never_credits_the_budget() -> None:
    # 2 * 2^62 bytes wraps to a negative size: refused before the multiplication, never credited.
    s = script("function on_go(e) pcall(string.rep, 'ab', 1 << 62) while true do end end")
    _, fault = s.call("on_go")
    assert fault is not None and fault.code is FaultCode.MEMORY
    assert 0 <= fault.budget_used["instructions"] <= s.limits.max_instructions_per_call
    # An unbounded span is refused as a whole, not added: what was used stays within the budget.
    s = script("function on_go(e) table.move({}, 1, 1e300, 1) end")
    _, fault = s.call("on_go")
    assert fault is not None and fault.code is FaultCode.INSTRUCTIONS
    assert 0 <= fault.budget_used["instructions"] <= s.limits.max_instructions_per_call


def test_the_collector_stops_costly_copies_soon_after_the_deadline() -> None:
    # Each `s .. "y"` is three instructions and a 48 MB copy in C: a thousand of them (seconds)
    # run between two count hooks. Every copy allocates, so the collector's sentinel sees the
    # deadline pass and arms the hook for the next instruction. (Without it: 10 s and more here.)
    s = script(
        """
        function on_go(e)
          local s = string.rep("x", 4 << 20)
          s = s .. s .. s .. s
          s = s .. s .. s
          while true do local t = s .. "y" end
        end
        """,
        max_wall_ms_per_call=200,
        max_memory_bytes=256 << 20,
        max_script_string_bytes=64 << 20,  # an operator's choice; the default cap forbids this
        # copies are charged by length too: lift the instruction budgets so the clock is what stops it
        max_instructions_per_call=1 << 62,
        max_instructions_per_tick=1 << 62,
    )
    started = time.perf_counter()
    _, fault = s.call("on_go")
    assert fault is not None and fault.code is FaultCode.WALL_CLOCK
    assert time.perf_counter() - started < 3.0
