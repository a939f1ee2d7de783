"""Snapshots: the whole state at a tick boundary; decoding trusts nothing and can at worst refuse."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xxhash
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ouroboros.engine import Component, World, describe_snapshot
from ouroboros.engine.errors import SnapshotError

from .toy import POPULATION, SEED, build_world, columns, run_with_pushes, same_columns

PREFIX = struct.Struct("<8sHI")
CHECKSUM = 16
HERE = Path(__file__).resolve().parent


def sign(
    head: bytes, arrays: bytes, *, magic: bytes = b"OUROSNAP", fmt: int = 1, head_len: int | None = None
) -> bytes:
    """Snapshot bytes around ``head`` and ``arrays`` with a valid trailing checksum."""
    body = PREFIX.pack(magic, fmt, len(head) if head_len is None else head_len) + head + arrays
    return body + xxhash.xxh3_128_digest(body)


def split(snap: bytes) -> tuple[dict[str, Any], bytes]:
    """The parsed header and the raw array bytes of a snapshot."""
    _, _, head_len = PREFIX.unpack_from(snap)
    head = snap[PREFIX.size : PREFIX.size + head_len]
    return json.loads(head), snap[PREFIX.size + head_len : -CHECKSUM]


def resign(header: dict[str, Any], arrays: bytes) -> bytes:
    return sign(json.dumps(header, sort_keys=True, separators=(",", ":")).encode(), arrays)


def array_at(header: dict[str, Any], name: str) -> tuple[int, np.dtype[Any], int]:
    """Byte offset (within the array bytes), dtype and length of the array ``name``."""
    offset = 0
    for entry_name, dtype, length in header["arrays"]:
        dt = np.dtype(dtype)
        if entry_name == name:
            return offset, dt, length
        offset += dt.itemsize * length
    raise KeyError(name)


def poke(header: dict[str, Any], arrays: bytes, name: str, index: int, value: int) -> bytes:
    """The snapshot with one element of one array changed (and a valid checksum)."""
    offset, dt, _ = array_at(header, name)
    buf = bytearray(arrays)
    at = offset + index * dt.itemsize
    buf[at : at + dt.itemsize] = np.array([value], dtype=dt).tobytes()
    return resign(header, bytes(buf))


@pytest.fixture(scope="module")
def snap() -> bytes:
    world = build_world()
    run_with_pushes(world, 10, {3: (2, -1), 7: (-1, 0)})
    return world.snapshot()


def test_restore_into_a_fresh_world_gives_the_same_state_and_future() -> None:
    straight = build_world()
    run_with_pushes(straight, 8)
    data = straight.snapshot()
    restored = build_world()
    run_with_pushes(restored, 3)  # whatever it held before is replaced
    restored.restore(data)
    assert restored.tick == straight.tick == 8
    assert restored.digest() == straight.digest()
    assert same_columns(columns(restored), columns(straight))
    assert restored.resources == straight.resources
    pushes = {10: (3, 3), 12: (-2, 0)}
    assert run_with_pushes(restored, 8, pushes) == run_with_pushes(straight, 8, pushes)


def test_a_snapshot_taken_before_start_still_runs_startup_once() -> None:
    straight = build_world()
    data = straight.snapshot()
    restored = build_world()
    restored.restore(data)
    assert run_with_pushes(restored, 4) == run_with_pushes(straight, 4)
    assert restored.entity_count == straight.entity_count


def test_a_snapshot_restored_in_another_process_continues_identically(tmp_path: Path) -> None:
    world = build_world()
    run_with_pushes(world, 10, {2: (1, 1)})
    path = tmp_path / "world.snap"
    path.write_bytes(world.snapshot())
    at_snapshot = world.digest().hex
    straight = run_with_pushes(world, 15)[-1]
    # another hash seed, so nothing may depend on str hashing or set order
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    proc = subprocess.run(
        [sys.executable, str(HERE / "snapshot_child.py"), str(path), str(SEED), "15"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    child = json.loads(proc.stdout)
    assert child == {"restored": at_snapshot, "tick": 25, "digest": straight}


def test_describe_reports_tick_entities_and_components(snap: bytes) -> None:
    info = describe_snapshot(snap)
    assert info["tick"] == 10
    assert info["seed"] == SEED
    assert info["entities"] == POPULATION  # births match deaths in the toy world
    assert info["components"] == ["Pos", "Vel"]
    assert info["bytes"] == len(snap)
    world = build_world()
    world.restore(snap)
    assert info["digest"] == world.digest().hex
    assert info["entities"] == world.entity_count


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=300))
@example(data=b"")
@example(data=b"OUROSNAP")
@example(data=b"OUROSNAP" + b"\x01\x00" + b"\x00" * 40)
def test_random_bytes_are_refused(data: bytes) -> None:
    world = build_world()
    before = world.digest()
    with pytest.raises(SnapshotError):
        world.restore(data)
    with pytest.raises(SnapshotError):
        describe_snapshot(data)
    assert world.digest() == before


def refuses_and_leaves_untouched(target: World, data: bytes) -> None:
    before = target.digest()
    cols = columns(target)
    with pytest.raises(SnapshotError):
        target.restore(data)
    assert target.digest() == before
    assert same_columns(columns(target), cols)


@pytest.fixture(scope="module")
def target() -> World:
    """A world that every refused restore must leave as it was (module-scoped: nothing may change it)."""
    world = build_world()
    run_with_pushes(world, 4)
    return world


@settings(max_examples=200, deadline=None)
@given(cut=st.integers(0, 10**9))
def test_every_truncation_is_refused(snap: bytes, target: World, cut: int) -> None:
    refuses_and_leaves_untouched(target, snap[: cut % len(snap)])


def test_truncation_at_each_kind_of_boundary_is_refused(snap: bytes, target: World) -> None:
    _, arrays = split(snap)
    body_end = len(snap) - CHECKSUM
    head_end = body_end - len(arrays)
    # inside the magic, the format, the header length, the header, the arrays, the checksum
    around = (PREFIX.size, head_end, head_end + 8, body_end)
    cuts = {0, 4, 8, 9, 10, 12, len(snap) - 1} | {at + d for at in around for d in (-1, 0, 1)}
    for cut in sorted(cuts):
        refuses_and_leaves_untouched(target, snap[:cut])


@settings(max_examples=200, deadline=None)
@given(where=st.integers(0, 10**9), flip=st.integers(1, 255))
def test_every_single_byte_flip_is_refused(snap: bytes, target: World, where: int, flip: int) -> None:
    buf = bytearray(snap)
    buf[where % len(buf)] ^= flip
    refuses_and_leaves_untouched(target, bytes(buf))


def test_appended_bytes_are_refused(snap: bytes, target: World) -> None:
    refuses_and_leaves_untouched(target, snap + b"\x00")


Mutation = Callable[[dict[str, Any], bytes], bytes]


def edit(fn: Callable[[dict[str, Any]], object]) -> Mutation:
    """A mutation that edits the parsed header in place and re-signs it."""

    def mutate(header: dict[str, Any], arrays: bytes) -> bytes:
        fn(header)
        return resign(header, arrays)

    return mutate


def _drop_last_array(h: dict[str, Any]) -> None:
    h["arrays"].pop()


BAD_HEADERS: dict[str, Mutation] = {
    "tick negative": edit(lambda h: h.update(tick=-1)),
    "tick a string": edit(lambda h: h.update(tick="10")),
    "tick a bool": edit(lambda h: h.update(tick=True)),
    "tick a float": edit(lambda h: h.update(tick=10.0)),
    "tick another number": edit(lambda h: h.update(tick=11)),
    "started not a bool": edit(lambda h: h.update(started=1)),
    "seed of another world": edit(lambda h: h.update(seed=SEED + 1)),
    "component missing": edit(lambda h: h["components"].pop("Vel")),
    "component of another dtype": edit(lambda h: h["components"].update(Pos=[["x", "<i4"], ["y", "<i8"]])),
    "archetype count too high": edit(lambda h: h["archetypes"][0].update(count=h["high_water"] + 1)),
    "archetype count negative": edit(lambda h: h["archetypes"][0].update(count=-1)),
    "archetype unsorted": edit(lambda h: h["archetypes"][0].update(components=["Vel", "Pos"])),
    "archetype unknown component": edit(lambda h: h["archetypes"][0].update(components=["Ghost"])),
    "archetype twice": edit(lambda h: h["archetypes"].append(dict(h["archetypes"][0]))),
    "archetypes not a list": edit(lambda h: h.update(archetypes="Pos,Vel")),
    "archetype entry not an object": edit(lambda h: h.update(archetypes=[["Pos", "Vel"]])),
    "array of floats": edit(lambda h: h["arrays"][-1].__setitem__(1, "<f8")),
    "array of objects": edit(lambda h: h["arrays"][-1].__setitem__(1, "|O")),
    "array repeated": edit(lambda h: h["arrays"].append(h["arrays"][-1])),
    "array longer than the data": edit(lambda h: h["arrays"][-1].__setitem__(2, h["arrays"][-1][2] + 1)),
    "array enormous": edit(lambda h: h["arrays"][-1].__setitem__(2, 2**40)),
    "array length negative": edit(lambda h: h["arrays"][-1].__setitem__(2, -1)),
    "array entry malformed": edit(lambda h: h["arrays"].__setitem__(0, [1, 2])),
    "arrays missing last": edit(_drop_last_array),
    "arrays renamed": edit(lambda h: h["arrays"][-1].__setitem__(0, "arch9.Pos.x")),
    "high water too high": edit(lambda h: h.update(high_water=h["high_water"] + 1)),
    "high water negative": edit(lambda h: h.update(high_water=-5)),
    "resources with a float": edit(lambda h: h["resources"].update(east=1.5)),
    "resources tampered": edit(lambda h: h["resources"].update(births=h["resources"]["births"] + 1)),
    "meta with a float": edit(lambda h: h.update(meta={"speed": 0.5})),
    "digest of another state": edit(lambda h: h.update(digest="0" * 32)),
    "digest missing": edit(lambda h: h.pop("digest")),
    "arrays field missing": edit(lambda h: h.pop("arrays")),
    "header a list": lambda h, a: sign(b"[]", a),
    "header not json": lambda h, a: sign(b"{not json", a),
    "header not utf-8": lambda h, a: sign(b'{"\xff\xfe":1}', a),
    "header length past the end": lambda h, a: sign(json.dumps(h).encode(), a, head_len=10**6),
    "header length enormous": lambda h, a: sign(json.dumps(h).encode(), a, head_len=2**32 - 1),
    "format 2": lambda h, a: sign(json.dumps(h).encode(), a, fmt=2),
    "wrong magic": lambda h, a: sign(json.dumps(h).encode(), a, magic=b"NOTSNAPS"),
    "a column value changed": lambda h, a: poke(h, a, "arch0.Pos.x", 3, 123456),
    "a generation changed": lambda h, a: poke(h, a, "entities.generation", 0, 9),
    "a generation zero": lambda h, a: poke(h, a, "entities.generation", 0, 0),
    "an entity row changed": lambda h, a: poke(h, a, "entities.row", 0, 1),
    "an entity marked free while alive": lambda h, a: poke(h, a, "entities.archetype", 0, -1),
    "an entity in a missing archetype": lambda h, a: poke(h, a, "entities.archetype", 0, 7),
    "an id zero": lambda h, a: poke(h, a, "arch0.ids", 0, 0),
    "an id out of range": lambda h, a: poke(h, a, "arch0.ids", 0, (1 << 32) | 10_000),
}


@pytest.mark.parametrize("name", sorted(BAD_HEADERS))
def test_a_bad_snapshot_with_a_valid_checksum_is_refused(snap: bytes, target: World, name: str) -> None:
    header, arrays = split(snap)
    bad = BAD_HEADERS[name](header, arrays)
    assert xxhash.xxh3_128_digest(bad[:-CHECKSUM]) == bad[-CHECKSUM:]
    refuses_and_leaves_untouched(target, bad)


def test_resigning_an_unchanged_snapshot_is_accepted(snap: bytes) -> None:
    """The mutation helpers are sound: without a mutation the re-signed bytes restore."""
    header, arrays = split(snap)
    world = build_world()
    world.restore(resign(header, arrays))
    assert world.tick == 10


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_header_field_replaced_is_refused_or_restores_the_recorded_state(snap: bytes, data: Any) -> None:
    header, arrays = split(snap)
    recorded = header["digest"]
    key = data.draw(st.sampled_from(sorted(header)))
    header[key] = data.draw(JSON)
    world = build_world()
    before = world.digest()
    try:
        world.restore(resign(header, arrays))
    except SnapshotError:
        assert world.digest() == before
    else:
        assert world.digest().hex == recorded


def test_a_snapshot_from_a_world_with_other_components_is_refused(snap: bytes) -> None:
    more = build_world()
    more.register_component(Component("Mark", v="u1"))
    refuses_and_leaves_untouched(more, snap)
    fewer = World(SEED)
    fewer.register_component(Component("Pos", x="i8", y="i8"))
    refuses_and_leaves_untouched(fewer, snap)
    other_seed = build_world(seed=SEED + 1)
    refuses_and_leaves_untouched(other_seed, snap)


def test_restore_refuses_what_is_not_bytes(target: World) -> None:
    refuses_and_leaves_untouched(target, "OUROSNAP")  # type: ignore[arg-type]


def test_a_header_with_a_huge_integer_is_refused(snap: bytes, target: World) -> None:
    header, arrays = split(snap)
    head = json.dumps(header).replace('"tick": 10', '"tick": ' + "1" * 5000).encode()
    bad = sign(head, arrays)
    refuses_and_leaves_untouched(target, bad)
    with pytest.raises(SnapshotError):
        describe_snapshot(bad)


def test_a_deeply_nested_header_is_refused(snap: bytes, target: World) -> None:
    _, arrays = split(snap)
    bad = sign(b'{"meta":' + b"[" * 100_000 + b"]" * 100_000 + b"}", arrays)
    refuses_and_leaves_untouched(target, bad)


def test_a_tiny_snapshot_cannot_make_restore_allocate_gigabytes(snap: bytes, target: World) -> None:
    header, arrays = split(snap)
    header["archetypes"][0]["count"] = 2**28
    bad = resign(header, arrays)
    tracemalloc.start()
    try:
        refuses_and_leaves_untouched(target, bad)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20, f"restoring {len(bad)} bytes allocated {peak >> 20} MiB"


def test_describe_refuses_a_malformed_component_list(snap: bytes) -> None:
    header, arrays = split(snap)
    header["components"] = [1, "Pos"]
    with pytest.raises(SnapshotError):
        describe_snapshot(resign(header, arrays))


def test_a_world_with_numpy_integers_in_resources_can_be_snapshotted() -> None:
    world = build_world()
    world.run(2)
    world.resources["total"] = np.int64(7)
    data = world.snapshot()
    other = build_world()
    other.restore(data)
    assert other.digest() == world.digest()
