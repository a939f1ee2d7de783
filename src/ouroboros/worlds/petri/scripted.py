"""Scripted traits: behaviour that arrives as a patch (a ``traits`` object of kind ``lua`` or
``python`` and the ``scripts`` object it names) and runs in the sandbox.

What it promises:

- **State in the world, code in the sandbox.** Which scripted traits exist, their versions, their
  bits in ``Traits.mask``, their sources and their fault counts live in ``world.resources``
  (digested, snapshotted, replayed). The compiled implementations are a cache, one per world
  object, so a shadow fork never shares a Lua state or a worker (and a fault in a fork never
  disables the live world's trait).
- **Bits.** The built-in traits hold the low bits; scripted traits take the free bits above them,
  up to the 8 bits of the mask. New molbots get it: every molbot born or reseeded after an
  activation carries every live (not retiring) scripted trait, before its mutation; mutation may
  flip any *assignable* bit (built-ins and live scripted traits). A brand-new trait is also given
  to a seed group of the molbots alive at its activation (``SEED_PERMILLE``, drawn from the
  world's keyed stream), so its code runs from the first tick, in shadow runs too.
- **Migration, as the patch declares.** A new version with ``migrate: replace`` takes over its
  bit: every carrier runs the new version from the next tick. With ``keep`` the old version keeps
  its bit (retiring: no newborn gets it, but carriers and their offspring keep it) and the new
  version takes a free bit; with no bit free it replaces instead. A trait that leaves the content
  (removed, or rolled back past) loses its bit and the bit is cleared from every molbot.
- **Energy is bounded.** What all scripted traits together add to a molbot's ``energy_gain`` in
  one tick is clamped to ``[0, max_trait_energy_gain_fp]`` (a petri parameter; by default the
  built-in absorb_energy's maximum), so behaviour code cannot print energy past the rules.
- A fault stops the script for that tick, is counted in ``resources["script_faults"]`` (a shadow
  metric), and the tick goes on.
- **Versions kept, rollback in one step.** Every version a trait ran is registered, with the
  static checks, in a ``ScriptRegistry`` kept as plain data in ``resources["scripted_registry"]``
  (its sources stay in ``scripted_sources``): the last ``KEEP_VERSIONS`` per trait, and
  ``rollback_trait(world, id)`` puts the one active before back in one call, at a tick boundary
  (every carrier runs it from the next tick). A later activation of new content moves on from
  there as usual.
- **No ghosts.** Compiled implementations whose (id, sha256) is no longer in
  ``scripted_traits`` are closed and dropped at the start of the next traits pass (a Python
  trait's worker process with them), and every one left is closed when its world is collected.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ouroboros.engine import World
from ouroboros.errors import RejectedError, SandboxError
from ouroboros.worlds.petri.params import param

if TYPE_CHECKING:
    from ouroboros.sandbox import ScriptRegistry

MASK_BITS = 8
SEED_PERMILLE = 125


def _entries(world: World) -> list[dict[str, Any]]:
    return list(world.resources.get("scripted_traits", ()))


def builtin_count(world: World) -> int:
    return len(world.meta.get("traits", ())) or 1


def assignable_bits(world: World) -> list[int]:
    bits = list(range(builtin_count(world)))
    bits += sorted(e["bit"] for e in _entries(world) if not e["retiring"])
    return bits


def newborn_bits(world: World) -> int:
    """Bits every molbot born or reseeded from now on carries: the live scripted traits."""
    bits = 0
    for e in _entries(world):
        if not e["retiring"]:
            bits |= 1 << e["bit"]
    return bits


def trait_names(world: World) -> dict[int, str]:
    names = dict(enumerate(world.meta.get("traits", ())))
    for e in _entries(world):
        names[e["bit"]] = e["id"] + ("@" + e["version"] if e["retiring"] else "")
    return names


def desired_traits(content: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The scripted traits a version's content asks for, with their sources, sorted by id."""
    scripts = {s["id"]: s for s in content.get("scripts") or ()}
    wanted = []
    for trait in sorted(content.get("traits") or (), key=lambda t: t["id"]):
        if trait.get("kind") not in ("lua", "python") or trait.get("world", "petri") != "petri":
            continue
        script = scripts.get(trait.get("script"))
        if script is None:
            continue  # lint refuses this before it gets here
        source = script["source"]
        wanted.append(
            {
                "id": trait["id"],
                "version": trait["version"],
                "kind": trait["kind"],
                "migrate": trait.get("migrate", "keep"),
                "script": script["id"],
                "script_version": script["version"],
                "entry": script.get("entry", "act"),
                "sha256": hashlib.sha256(source.encode()).hexdigest(),
                "source": source,
                "budgets": {k: v for k, v in (script.get("budgets") or {}).items() if v is not None},
            }
        )
    return wanted


def capacity_problems(content: Mapping[str, Any], builtins: int) -> list[tuple[str, str, str]]:
    wanted = desired_traits(content)
    free = MASK_BITS - builtins
    if len(wanted) > free:
        return [
            (
                "too_many_traits",
                "/content/traits",
                f"petri has room for {free} scripted traits, not {len(wanted)}",
            )
        ]
    return []


def _clear_bit(world: World, bit: int) -> None:
    for chunk in world.query("Traits"):
        mask = chunk["Traits.mask"]
        mask &= np.uint8(~(1 << bit) & 0xFF)


def apply_traits(world: World, content: Mapping[str, Any]) -> None:
    """Make the dish's scripted traits follow ``content`` (see the module docstring)."""
    entries = _entries(world)
    sources: dict[str, dict[str, Any]] = dict(world.resources.get("scripted_sources", {}))
    wanted = {w["id"]: w for w in desired_traits(content)}
    used = {e["bit"] for e in entries}
    free = [b for b in range(builtin_count(world), MASK_BITS) if b not in used]
    result: list[dict[str, Any]] = []
    for entry in entries:
        want = wanted.get(entry["id"])
        if want is None:  # gone from the content: the bit is freed and cleared
            _clear_bit(world, entry["bit"])
            free.append(entry["bit"])
            continue
        if entry["retiring"] or entry["version"] == want["version"]:
            result.append(entry)
            continue
        if want["migrate"] == "keep" and free:
            result.append({**entry, "retiring": True})
        else:
            result.append({**_entry(want, entry["bit"]), "faults": entry.get("faults", 0)})
            wanted.pop(entry["id"])
    present = {(e["id"], e["version"]) for e in result}
    known = {e["id"] for e in result}
    for want in wanted.values():
        if (want["id"], want["version"]) in present or not free:
            continue
        free.sort()
        entry = _entry(want, free.pop(0))
        result.append(entry)
        if want["id"] not in known:
            _seed_carriers(world, entry)
    # a retiring version whose newer version left the content goes too
    live_ids = {e["id"] for e in result if not e["retiring"]}
    for entry in [e for e in result if e["retiring"] and e["id"] not in live_ids]:
        _clear_bit(world, entry["bit"])
        result.remove(entry)
    result.sort(key=lambda e: e["bit"])
    for want in desired_traits(content):
        sources[want["sha256"]] = {"kind": want["kind"], "source": want["source"], "budgets": want["budgets"]}
    registry = _registry(world, sources)
    for entry in result:
        if not entry["retiring"]:
            _record_version(registry, entry, sources[entry["sha256"]]["source"])
    _store(world, result, registry, sources)
    world.resources.setdefault("script_faults", 0)


# -- the versions a world ran ---------------------------------------------------------------------


def _registry(world: World, sources: Mapping[str, Mapping[str, Any]]) -> ScriptRegistry:
    from ouroboros.sandbox import ScriptRegistry

    def source_of(sha256: str) -> str | None:
        stored = sources.get(sha256)
        return None if stored is None else str(stored["source"])

    data = world.resources.get("scripted_registry", {})
    return ScriptRegistry.from_data(data, source_of, unique_sources=False)


def _record_version(registry: ScriptRegistry, entry: Mapping[str, Any], source: str) -> None:
    """Register (if new) and activate the version ``entry`` runs; one the checks refuse is not
    recorded (it faults when it loads, as before)."""
    tid, version = entry["id"], entry["version"]
    if version not in registry.versions(tid):
        meta = {"script": entry["script"], "script_version": entry["script_version"]}
        try:
            registry.register(tid, version, entry["kind"], source, meta)
        except (RejectedError, SandboxError):
            return
    registry.activate(tid, version)


def _store(
    world: World,
    entries: list[dict[str, Any]],
    registry: ScriptRegistry,
    sources: Mapping[str, Mapping[str, Any]],
) -> None:
    """Write entries, registry and the sources either still needs back into the resources."""
    ids = {e["id"] for e in entries}
    for tid in registry.script_ids():
        if tid not in ids:  # a trait that left the content takes its versions with it
            registry.forget(tid)
    data = registry.to_data()
    keep = {e["sha256"] for e in entries}
    keep |= {v["sha256"] for item in data.values() for v in item["versions"]}
    world.resources["scripted_sources"] = {k: dict(v) for k, v in sorted(sources.items()) if k in keep}
    world.resources["scripted_registry"] = data
    world.resources["scripted_traits"] = entries


def trait_versions(world: World, trait_id: str) -> list[str]:
    """The versions of a scripted trait this world keeps, oldest first (at most ``KEEP_VERSIONS``)."""
    item = world.resources.get("scripted_registry", {}).get(trait_id)
    return [v["version"] for v in item["versions"]] if item else []


def rollback_trait(world: World, trait_id: str) -> dict[str, Any]:
    """Put back the version of ``trait_id`` that was active before the current one, in one step:
    it takes over the live version's bit (a retiring copy of it merges in), so every carrier runs
    it from the next tick. Call between ticks. Returns the new entry; ``SandboxError`` when the
    trait is not running or has no earlier version kept."""
    entries = _entries(world)
    live = [e for e in entries if e["id"] == trait_id and not e["retiring"]]
    if not live:
        raise SandboxError(f"scripted trait {trait_id!r} is not running here")
    sources: dict[str, Mapping[str, Any]] = dict(world.resources.get("scripted_sources", {}))
    registry = _registry(world, sources)
    previous = registry.rollback(trait_id)
    current = live[0]
    want = {
        "id": trait_id,
        "version": previous.version,
        "kind": previous.language,
        "script": previous.meta.get("script", trait_id),
        "script_version": previous.meta.get("script_version", previous.version),
        "sha256": previous.sha256,
    }
    entry = _entry(want, current["bit"])
    result = []
    for e in entries:
        if e is current:
            result.append(entry)
        elif e["id"] == trait_id and e["version"] == previous.version:  # its retiring copy
            _move_bit(world, e["bit"], current["bit"])
        else:
            result.append(e)
    _store(world, result, registry, sources)
    return entry


def _move_bit(world: World, src: int, dst: int) -> None:
    for chunk in world.query("Traits"):
        mask = chunk["Traits.mask"]
        mask[(mask & np.uint8(1 << src)) != 0] |= np.uint8(1 << dst)
    _clear_bit(world, src)


def _seed_carriers(world: World, entry: Mapping[str, Any]) -> None:
    """A brand-new trait enters the dish through a seed group: ``SEED_PERMILLE`` of the molbots,
    drawn per molbot id from the world's keyed stream (so its code runs from the first tick, in
    shadow runs too, and selection decides from there)."""
    from ouroboros.engine import Stream

    stream = world.rng(f"seed:{entry['id']}")
    for chunk in world.query("Traits"):
        if chunk.count == 0:
            continue
        chosen = Stream.below(stream.for_ids(chunk.ids, salt=entry["bit"]), 1000) < SEED_PERMILLE
        mask = chunk["Traits.mask"]
        mask[chosen] |= np.uint8(1 << entry["bit"])


def _entry(want: Mapping[str, Any], bit: int) -> dict[str, Any]:
    return {
        "bit": bit,
        "id": want["id"],
        "version": want["version"],
        "kind": want["kind"],
        "script": want["script"],
        "script_version": want["script_version"],
        "sha256": want["sha256"],
        "retiring": False,
        "faults": 0,
        "disabled": False,
    }


def _close_all(cache: dict[tuple[str, str], Any]) -> None:
    for impl in cache.values():
        impl.close()
    cache.clear()


class ScriptedRunner:
    """Runs a world's scripted traits in the traits system; holds the per-world implementation cache."""

    def __init__(self, max_faults: int = 3) -> None:
        self.max_faults = max_faults
        self._cache: weakref.WeakKeyDictionary[World, dict[tuple[str, str], Any]] = (
            weakref.WeakKeyDictionary()
        )

    def _world_cache(self, world: World) -> dict[tuple[str, str], Any]:
        cache = self._cache.get(world)
        if cache is None:
            cache = self._cache[world] = {}
            weakref.finalize(world, _close_all, cache)  # the dict, never the world
        return cache

    def evict(self, world: World) -> None:
        """Close and drop the implementations no entry of ``scripted_traits`` runs any more."""
        cache = self._cache.get(world)
        if not cache:
            return
        wanted = {(e["id"], e["sha256"]) for e in world.resources.get("scripted_traits", ())}
        for key in [k for k in cache if k not in wanted]:
            cache.pop(key).close()

    def _impl(self, world: World, entry: Mapping[str, Any]) -> Any:
        cache = self._world_cache(world)
        key = (entry["id"], entry["sha256"])
        impl = cache.get(key)
        if impl is None:
            stored = world.resources["scripted_sources"][entry["sha256"]]
            source, budgets = stored["source"], stored.get("budgets", {})
            if entry["kind"] == "lua":
                from ouroboros.sandbox import LuaLimits, LuaTrait

                defaults = LuaLimits()
                limits = LuaLimits(
                    max_instructions_per_call=min(
                        budgets.get("instructions_per_call", defaults.max_instructions_per_call),
                        defaults.max_instructions_per_call,
                    ),
                    max_memory_bytes=min(
                        budgets.get("memory_bytes", defaults.max_memory_bytes), defaults.max_memory_bytes
                    ),
                )
                impl = LuaTrait(entry["script"], entry["script_version"], source, limits, name=entry["id"])
            else:
                from ouroboros.sandbox import PythonTrait

                impl = PythonTrait(entry["script"], entry["script_version"], source, name=entry["id"])
            cache[key] = impl
        return impl

    def run(
        self,
        world: World,
        mask: np.ndarray,
        make_ctx: Callable[[np.ndarray, str], Any],
        intents: tuple[np.ndarray, np.ndarray, np.ndarray],
    ) -> None:
        self.evict(world)
        entries = world.resources.get("scripted_traits")
        if not entries:
            return
        tx, ty, gain = intents
        scripted_gain = np.zeros(gain.shape, dtype=np.int64)
        for entry in entries:
            if entry["disabled"]:
                continue
            rows = np.flatnonzero(mask & np.uint8(1 << entry["bit"]))
            if rows.size == 0:
                continue
            impl = self._impl(world, entry)
            ctx = make_ctx(rows, f"trait:{entry['id']}")
            before = _fault_count(impl)
            try:
                impl.act(ctx)
            except Exception:  # a host-side failure of the sandbox counts as a fault, never a crash
                before -= 1
            new_faults = _fault_count(impl) - before
            if new_faults or getattr(impl, "disabled", False):
                entry["faults"] += max(new_faults, 1)
                world.resources["script_faults"] = world.resources.get("script_faults", 0) + max(
                    new_faults, 1
                )
                entry["disabled"] = entry["faults"] >= self.max_faults or bool(
                    getattr(impl, "disabled", False)
                )
                continue  # a faulted call contributes nothing
            tx[rows] += ctx.thrust_x
            ty[rows] += ctx.thrust_y
            scripted_gain[rows] += np.maximum(ctx.energy_gain, 0)
        bound = param(world.resources["params"], "max_trait_energy_gain_fp")
        gain += np.minimum(scripted_gain, bound)


def _fault_count(impl: Any) -> int:
    return int(getattr(impl, "fault_count", len(getattr(impl, "faults", ()))))
