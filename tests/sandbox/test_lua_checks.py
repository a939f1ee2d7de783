"""Static checks of Lua scripts (``check_script("lua", ...)``) and the versioned registry."""

from __future__ import annotations

import pytest

from ouroboros.errors import RejectedError, SandboxError
from ouroboros.sandbox import KEEP_VERSIONS, SEEK_FOOD_LUA, FaultCode, ScriptRegistry, check_script
from ouroboros.sandbox.lua_check import MAX_SOURCE_BYTES


def codes(source: str) -> list[FaultCode]:
    return [f.code for f in check_script("lua", source, script_id="s", version="1")]


def test_a_well_behaved_script_passes() -> None:
    assert codes(SEEK_FOOD_LUA) == []
    assert codes("function on_enter(e) log('os and io are only words here') end -- os.exit()") == []


@pytest.mark.parametrize(
    ("source", "code"),
    [
        ("\x1bLuaT\x00\x19\x93", FaultCode.BINARY_CHUNK),
        ("function act(ctx) return load('\\27LuaT') end", FaultCode.BINARY_CHUNK),
        ("function act(ctx) return (", FaultCode.SYNTAX),
        ("-- " + "x" * MAX_SOURCE_BYTES, FaultCode.SOURCE_TOO_LARGE),
        ("function act(ctx) os.exit() end", FaultCode.FORBIDDEN_NAME),
        ("function act(ctx) local f = string.dump(act) end", FaultCode.FORBIDDEN_NAME),
        ("function act(ctx) return math.random() end", FaultCode.FORBIDDEN_NAME),
        ("function act(ctx) return require('socket') end", FaultCode.FORBIDDEN_NAME),
        ("function act(ctx) return load('x', 'n', 'b') end", FaultCode.FORBIDDEN_NAME),
        ("local x = 1", FaultCode.CONTRACT),
    ],
)
def test_refusals_name_their_reason(source: str, code: FaultCode) -> None:
    found = check_script("lua", source, script_id="s", version="1")
    assert found and found[0].code == code
    assert found[0].script_id == "s" and found[0].script_version == "1"


def test_the_syntax_check_never_runs_the_script() -> None:
    # A top level that would never end compiles fine and is not run by the check.
    assert codes("while true do end\nfunction act(ctx) end") == []


def test_an_unknown_language_is_refused_not_skipped() -> None:
    assert [f.code for f in check_script("cobol", "x")] == [FaultCode.CONTRACT]


def test_register_activate_and_roll_back_one_step() -> None:
    reg = ScriptRegistry()
    for v in ("1", "2"):
        reg.register("seek", v, "lua", SEEK_FOOD_LUA + f"\n-- v{v}\n")
    reg.activate("seek", "1")
    reg.activate("seek", "2")
    assert reg.active("seek").version == "2"
    assert reg.rollback("seek").version == "1"
    assert reg.active("seek").version == "1"
    with pytest.raises(SandboxError):
        reg.rollback("seek")


def test_a_refused_or_duplicate_script_leaves_the_registry_unchanged() -> None:
    reg = ScriptRegistry()
    reg.register("seek", "1", "lua", SEEK_FOOD_LUA)
    with pytest.raises(RejectedError) as dup:
        reg.register("other", "1", "lua", SEEK_FOOD_LUA)
    assert dup.value.reasons[0].code == "duplicate"
    with pytest.raises(RejectedError) as bad:
        reg.register("seek", "2", "lua", "function act(ctx) os.exit() end")
    assert bad.value.reasons[0].code == "forbidden_name" and bad.value.reasons[0].stage == "static"
    assert reg.versions("seek") == ["1"] and reg.script_ids() == ["seek"]


def test_only_the_last_versions_are_kept_but_never_the_active_one() -> None:
    reg = ScriptRegistry()
    reg.register("seek", "0", "lua", SEEK_FOOD_LUA)
    reg.activate("seek", "0")
    for v in range(1, 6):
        reg.register("seek", str(v), "lua", SEEK_FOOD_LUA + f"\n-- v{v}\n")
    kept = reg.versions("seek")
    assert len(kept) == KEEP_VERSIONS and "0" in kept and kept[-1] == "5"
    assert reg.active("seek").version == "0"
    # A dropped version's source may be registered again.
    reg.register("seek", "1b", "lua", SEEK_FOOD_LUA + "\n-- v1\n")
