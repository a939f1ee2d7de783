"""Snapshot bytes: the whole state of a world at a tick boundary, and nothing executable.

Layout::

    b"OUROSNAP" | format u16 | header length u32 | header (UTF-8 JSON) | arrays | xxh3-128 of all before

The header names every array with its dtype and length; arrays follow back to back in that order.
Decoding trusts nothing: the checksum first (truncation, bit rot), then the header's shape and
types, then each array against the world's registered components, then the consistency of the
entity table with the archetypes, and last the digest the header recorded against the digest of
the decoded state. Any fault raises ``SnapshotError`` and leaves the target world untouched. No
pickle: a snapshot from a stranger can at worst be refused.
"""

from __future__ import annotations

import json
import struct
from typing import TYPE_CHECKING, Any

import numpy as np
import xxhash

from ouroboros.engine.components import ALLOWED_DTYPES
from ouroboros.engine.digest import canonical_json
from ouroboros.engine.entities import INDEX_BITS, INDEX_MASK, EntityTable
from ouroboros.engine.errors import EngineError, SnapshotError
from ouroboros.engine.storage import Archetype

if TYPE_CHECKING:
    from ouroboros.engine.world import World

MAGIC = b"OUROSNAP"
FORMAT = 1
_PREFIX = struct.Struct("<8sHI")
_CHECKSUM_BYTES = 16
MAX_HEADER_BYTES = 64 << 20
MAX_ENTITIES = 1 << 31

_ENTITY_ARRAYS = (("generation", "<u4"), ("archetype", "<i4"), ("row", "<i8"), ("free", "<i8"))


def encode(world: World) -> bytes:
    t = world._entities
    hw = t.high_water
    arrays: list[tuple[str, np.ndarray]] = [
        ("entities.generation", t.generation[:hw]),
        ("entities.archetype", t.archetype[:hw]),
        ("entities.row", t.row[:hw]),
        ("entities.free", t.free),
    ]
    archetypes = []
    for i, arch in enumerate(world._archetypes):
        archetypes.append({"components": list(arch.signature), "count": arch.count})
        arrays.append((f"arch{i}.ids", arch.ids[: arch.count]))
        for key in sorted(arch.columns):
            arrays.append((f"arch{i}.{key}", arch.view(key)))
    header = {
        "engine_version": _engine_version(),
        "seed": world.seed,
        "tick": world.tick,
        "started": world.started,
        "meta": json.loads(canonical_json(world.meta, "meta")),
        "resources": json.loads(canonical_json(world.resources)),
        "components": {
            name: [[f, d] for f, d in spec.fields] for name, spec in sorted(world._components.items())
        },
        "high_water": hw,
        "archetypes": archetypes,
        "arrays": [[name, a.dtype.str, int(a.size)] for name, a in arrays],
        "digest": world.digest().hex,
    }
    head = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    body = b"".join(
        [_PREFIX.pack(MAGIC, FORMAT, len(head)), head]
        + [np.ascontiguousarray(a).tobytes() for _, a in arrays]
    )
    return body + xxhash.xxh3_128_digest(body)


def _engine_version() -> str:
    from ouroboros.engine.world import ENGINE_VERSION

    return ENGINE_VERSION


def read_header(data: bytes) -> tuple[dict[str, Any], int]:
    """Check framing and checksum; return the parsed header and where the arrays start."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise SnapshotError("snapshot must be bytes")
    data = bytes(data)
    if len(data) < _PREFIX.size + _CHECKSUM_BYTES:
        raise SnapshotError("snapshot is truncated (shorter than its fixed header)", code="truncated")
    magic, fmt, head_len = _PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise SnapshotError("not an ouroboros snapshot (bad magic bytes)", code="bad_magic")
    if fmt != FORMAT:
        raise SnapshotError(
            f"snapshot format {fmt} is not supported (this engine reads {FORMAT})", code="format"
        )
    body, checksum = data[:-_CHECKSUM_BYTES], data[-_CHECKSUM_BYTES:]
    if xxhash.xxh3_128_digest(body) != checksum:
        raise SnapshotError("snapshot is corrupt or truncated (checksum mismatch)", code="checksum")
    start = _PREFIX.size
    if head_len > MAX_HEADER_BYTES or start + head_len > len(body):
        raise SnapshotError("snapshot header length is out of bounds", code="header")
    try:
        header = json.loads(body[start : start + head_len].decode())
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SnapshotError(f"snapshot header is not JSON: {exc.__class__.__name__}", code="header") from exc
    if not isinstance(header, dict):
        raise SnapshotError("snapshot header is not an object", code="header")
    return header, start + head_len


def _need(header: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = header.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SnapshotError(
            f"snapshot header field {key!r} is missing or of the wrong type", code="header", path=key
        )
    return value


def _nonneg_int(value: Any, what: str, limit: int = MAX_ENTITIES) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= limit:
        raise SnapshotError(f"{what} is not an integer in [0, {limit}]", code="header", path=what)
    return value


def describe(data: bytes) -> dict[str, Any]:
    """What ``snapshot info`` shows: checked framing, then the header's summary fields."""
    header, _ = read_header(data)
    archetypes = header.get("archetypes")
    if not isinstance(archetypes, list):
        raise SnapshotError("snapshot header has no archetype list", code="header")
    components = header.get("components")
    if not isinstance(components, dict):
        raise SnapshotError("snapshot header has no component table", code="header")
    entities = 0
    for a in archetypes:
        if not isinstance(a, dict):
            raise SnapshotError("bad archetype entry", code="header")
        entities += _nonneg_int(a.get("count"), "archetypes.count")
    return {
        "engine_version": header.get("engine_version"),
        "seed": header.get("seed"),
        "tick": header.get("tick"),
        "meta": header.get("meta"),
        "digest": header.get("digest"),
        "entities": entities,
        "archetypes": [{"components": a.get("components"), "count": a.get("count")} for a in archetypes],
        "components": sorted(k for k in components if isinstance(k, str)),
        "bytes": len(data),
    }


def decode_into(world: World, data: bytes) -> None:
    header, offset = read_header(data)
    body_end = len(data) - _CHECKSUM_BYTES
    seed = _need(header, "seed", int)
    tick = _nonneg_int(_need(header, "tick", int), "tick", 2**62)
    started = _need(header, "started", bool)
    meta = _need(header, "meta", dict)
    resources = _need(header, "resources", dict)
    components = _need(header, "components", dict)
    high_water = _nonneg_int(_need(header, "high_water", int), "high_water")
    arch_meta = _need(header, "archetypes", list)
    array_meta = _need(header, "arrays", list)
    recorded_digest = _need(header, "digest", str)

    if seed != world.seed:
        raise SnapshotError(
            f"snapshot seed {seed} differs from the world's seed {world.seed}", code="mismatch"
        )
    mine = {name: [[f, d] for f, d in spec.fields] for name, spec in world._components.items()}
    if components != mine:
        raise SnapshotError(
            "snapshot components differ from this world's registered components", code="mismatch"
        )

    arrays: dict[str, np.ndarray] = {}
    for entry in array_meta:
        if not (
            isinstance(entry, list)
            and len(entry) == 3
            and isinstance(entry[0], str)
            and isinstance(entry[1], str)
        ):
            raise SnapshotError("bad array entry in snapshot header", code="header")
        name, dtype, length = entry[0], entry[1], _nonneg_int(entry[2], "array length")
        if dtype not in ALLOWED_DTYPES or name in arrays:
            raise SnapshotError(f"array {name!r} has a bad dtype or is repeated", code="header", path=name)
        size = np.dtype(dtype).itemsize * length
        if offset + size > body_end:
            raise SnapshotError("snapshot arrays run past the end of the data", code="truncated", path=name)
        arrays[name] = np.frombuffer(data, dtype=dtype, count=length, offset=offset).copy()
        offset += size
    if offset != body_end:
        raise SnapshotError("snapshot has bytes after its last array", code="header")

    def take(name: str, dtype: str, length: int | None) -> np.ndarray:
        a = arrays.pop(name, None)
        if a is None or a.dtype.str != dtype or (length is not None and a.size != length):
            raise SnapshotError(f"snapshot array {name!r} is missing or malformed", code="header", path=name)
        return a

    table = EntityTable(0)
    table.generation = take("entities.generation", "<u4", high_water)
    table.archetype = take("entities.archetype", "<i4", high_water)
    table.row = take("entities.row", "<i8", high_water)
    table.free = take("entities.free", "<i8", None)
    table.high_water = high_water

    archetypes: list[Archetype] = []
    seen: set[tuple[str, ...]] = set()
    for i, a in enumerate(arch_meta):
        if not isinstance(a, dict) or not isinstance(a.get("components"), list):
            raise SnapshotError("bad archetype entry", code="header")
        names = a["components"]
        if not all(isinstance(n, str) and n in world._components for n in names) or names != sorted(
            set(names)
        ):
            raise SnapshotError(f"archetype {i} names unknown or unsorted components", code="header")
        sig = tuple(names)
        if sig in seen:
            raise SnapshotError(f"archetype {sig} appears twice", code="header")
        seen.add(sig)
        count = _nonneg_int(a.get("count"), "archetype count")
        comps = tuple(world._components[n] for n in sig)
        # Take (and so check) the arrays before allocating: a count the data does not hold is
        # refused without a large allocation.
        ids = take(f"arch{i}.ids", "<i8", count)
        cols = {f"{c.name}.{f}": take(f"arch{i}.{c.name}.{f}", d, count) for c in comps for f, d in c.fields}
        arch = Archetype(comps, capacity=max(count, 1))
        arch.ids[:count] = ids
        for key, col in cols.items():
            arch.columns[key][:count] = col
        arch.count = count
        archetypes.append(arch)
    if arrays:
        raise SnapshotError(f"snapshot has unexpected arrays {sorted(arrays)[:3]}", code="header")

    _check_consistency(table, archetypes)
    try:
        canonical_json(resources)
        canonical_json(meta, "meta")
    except EngineError as exc:
        raise SnapshotError(f"snapshot resources are not plain data: {exc.message}", code="header") from exc

    trial = world.fork()
    trial._install_state(
        tick=tick, started=started, resources=resources, meta=meta, entities=table, archetypes=archetypes
    )
    if trial.digest().hex != recorded_digest:
        raise SnapshotError("snapshot state does not match its recorded digest", code="digest")
    world._install_state(
        tick=tick, started=started, resources=resources, meta=meta, entities=table, archetypes=archetypes
    )


def _check_consistency(table: EntityTable, archetypes: list[Archetype]) -> None:
    hw = table.high_water
    fail = SnapshotError("snapshot entity table is inconsistent with its archetypes", code="inconsistent")
    if ((table.archetype < -1) | (table.archetype >= len(archetypes))).any() or (table.generation == 0).any():
        raise fail
    free = table.free
    if free.size and ((free < 0) | (free >= hw)).any():
        raise fail
    free_mask = np.zeros(hw, dtype=bool)
    free_mask[free] = True
    if np.unique(free).size != free.size or not np.array_equal(free_mask, table.archetype == -1):
        raise fail
    total = 0
    for i, arch in enumerate(archetypes):
        ids = arch.ids[: arch.count]
        index = ids & INDEX_MASK
        if ids.size and ((ids <= 0) | (index >= hw)).any():
            raise fail
        if not (
            np.array_equal(table.archetype[index], np.full(ids.size, i, dtype=np.int32))
            and np.array_equal(table.row[index], np.arange(ids.size))
            and np.array_equal(table.generation[index].astype(np.int64), ids >> INDEX_BITS)
        ):
            raise fail
        total += ids.size
    if total + free.size != hw:
        raise fail
    table._grow(max(hw, 1))
