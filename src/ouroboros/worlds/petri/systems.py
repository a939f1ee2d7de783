"""The systems of the petri dish, in the order a tick runs them.

pre_tick  ``sense``       food and crowd fields on a coarse grid (64 units)
tick      ``traits``      each trait over its carriers → thrust and energy intents
          ``physics``     thrust bounded by genes, gravity, friction, speed bound, walls
          ``eat``         contact with food on a fine grid (8 units); the closest molbot wins
          ``collide``     a molbot half again as strong eats a weaker one it touches
          ``metabolism``  energy in and out, ageing
          ``reproduce``   a rich, mature molbot splits; the child's genes mutate
          ``death``       starvation, age, collision: counted by cause
post_tick ``spawn_food``  food arrives at the spawn rate, up to the cap
          ``reseed``      below the minimum population, new molbots are seeded
          ``telemetry``   every N ticks, a KPI snapshot into ``resources["telemetry"]``

All quantities are integers; every random draw comes from the world's keyed streams, per molbot
where it can be (``for_ids``), so a molbot's fate does not depend on where it sits in the arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from ouroboros.engine import Chunk, World
from ouroboros.engine.rng import Stream, mix_one
from ouroboros.errors import EngineError
from ouroboros.worlds.petri.components import FOOD, GENE_BOUNDS, MOLBOT
from ouroboros.worlds.petri.kernels import Kernels
from ouroboros.worlds.petri.params import FP_SHIFT, ONE
from ouroboros.worlds.petri.scripted import ScriptedRunner, assignable_bits, newborn_bits, trait_names
from ouroboros.worlds.petri.spatial import Field, Grid, build_field, build_grid, clip, neighbourhood
from ouroboros.worlds.petri.traits import BUILTIN_TRAITS, Trait, TraitContext

I64 = npt.NDArray[np.int64]

SENSE_CELL_LOG2 = 6  # 64 world units: how far a molbot senses food and crowds
CONTACT_CELL_LOG2 = 4  # 16 world units: past the largest contact distance (8), see below


def contact_cell_log2(p: dict[str, int]) -> int:
    """16-unit contact cells. Any cell at least as wide as the largest contact distance (two
    4-unit radii) gives the same contacts; measured against 8-unit cells (the 10k and 100k dishes
    of ``bench_petri``), 16 is faster at every size: a quarter of the cells to sort and scan, for
    a few more candidates each (32 loses again)."""
    return CONTACT_CELL_LOG2


RADIUS_BOUNDS_FP = (2 * ONE, 4 * ONE)
MATURITY_TICKS = 30
ENERGY_PER_RADIUS = 40  # max energy = radius * this
DEATH_CAUSES = ("starvation", "age", "collision")


def molbots(world: World) -> Chunk | None:
    chunks = world.query(*MOLBOT)
    if not chunks:
        return None
    if len(chunks) > 1:
        raise EngineError("petri expects every molbot in one archetype")
    return chunks[0]


def food_chunk(world: World) -> Chunk | None:
    chunks = world.query(*FOOD)
    return chunks[0] if chunks else None


def params(world: World) -> dict[str, int]:
    p: dict[str, int] = world.resources["params"]
    return p


# -- pre_tick ---------------------------------------------------------------------------------
def make_sense_system(kernels: Kernels | None = None) -> Any:
    """The food and crowd fields, by numpy (``build_field``) or, with the numba kernels, in one
    compiled pass each: the same ``Field``, so either variant's fields serve either traits."""
    field = _field_numba if kernels is not None and kernels.name == "numba" else build_field

    def sense(world: World) -> None:
        p = params(world)
        mb = molbots(world)
        fc = food_chunk(world)
        empty = np.empty(0, dtype=np.int64)
        fx, fy = (fc["Position.x"], fc["Position.y"]) if fc is not None else (empty, empty)
        world.scratch["food_field"] = field(fx, fy, SENSE_CELL_LOG2, p["width"], p["height"])
        if mb is not None:
            world.scratch["crowd_field"] = field(
                mb["Position.x"], mb["Position.y"], SENSE_CELL_LOG2, p["width"], p["height"]
            )

    return sense


sense = make_sense_system()


def _ro(a: Any) -> Any:
    """A read-only view: the compiled kernels then always see the one array type ``prepare``
    compiles for (read-only), exactly or by a single conversion — never two candidates at once."""
    view = a.view()
    view.flags.writeable = False
    return view


def _field_numba(x: I64, y: I64, cell_units_log2: int, width: int, height: int) -> Field:
    from ouroboros.worlds.petri._numba_kernels import _field

    shift = FP_SHIFT + cell_units_log2
    cols = (width >> cell_units_log2) + 3
    rows = (height >> cell_units_log2) + 3
    count, sum_x, sum_y = _field(_ro(x), _ro(y), shift, cols, rows)
    return Field(shift, cols, rows, count, sum_x, sum_y)


# -- tick -------------------------------------------------------------------------------------
def make_traits_system(
    traits: tuple[Trait, ...], scripted: ScriptedRunner | None = None, kernels: Kernels | None = None
) -> Any:
    """The traits system. With the numba kernels and exactly the built-in traits on their own bits,
    the four run fused in one compiled pass (``_numba_kernels._builtin_traits``), adding exactly
    what each trait's numpy ``act`` adds; any other set of traits runs trait by trait."""
    fused = kernels is not None and kernels.name == "numba" and _builtin_only(traits)

    def run_traits(world: World) -> None:
        mb = molbots(world)
        n = mb.count if mb is not None else 0
        tx = np.zeros(n, dtype=np.int64)
        ty = np.zeros(n, dtype=np.int64)
        gain = np.zeros(n, dtype=np.int64)
        world.scratch["thrust_x"], world.scratch["thrust_y"], world.scratch["energy_gain"] = tx, ty, gain
        if mb is None or n == 0:
            return
        sources = _trait_sources(world, mb, kernels is not None and kernels.name == "numba")
        mask = mb["Traits.mask"]
        temperature = params(world)["temperature"]
        if fused:
            _run_builtin_fused(world, mb, traits, sources, temperature, (tx, ty, gain))
        for bit, trait in enumerate(() if fused else traits):
            rows = np.flatnonzero(mask & np.uint64(1 << bit))
            if rows.size == 0:
                continue
            ctx = TraitContext(rows, sources, temperature, world.rng(f"trait:{trait.name}"))
            trait.act(ctx)
            tx[rows] += ctx.thrust_x
            ty[rows] += ctx.thrust_y
            gain[rows] += np.maximum(ctx.energy_gain, 0)
        if scripted is not None:
            scripted.run(
                world,
                mask,
                lambda rows, stream: TraitContext(rows, sources, temperature, world.rng(stream)),
                (tx, ty, gain),
            )

    return run_traits


def _builtin_only(traits: tuple[Trait, ...]) -> bool:
    return len(traits) == len(BUILTIN_TRAITS) and all(
        type(t) is type(b) and t.name == b.name for t, b in zip(traits, BUILTIN_TRAITS, strict=True)
    )


def _run_builtin_fused(
    world: World,
    mb: Chunk,
    traits: tuple[Trait, ...],
    sources: dict[str, Callable[[], I64]],
    temperature: int,
    out: tuple[I64, I64, I64],
) -> None:
    from ouroboros.worlds.petri._numba_kernels import _builtin_traits

    absorb = traits[3]
    light_permille = max(0, 1000 - abs(temperature - 25) * 1000 // 60)
    absorb_gain = max(int(getattr(absorb, "gain_fp", 0)) * light_permille // 1000, 0)
    wander = world.rng(f"trait:{traits[1].name}")
    _builtin_traits(  # type: ignore[call-arg]
        _ro(mb["Traits.mask"]),
        _ro(mb.ids),
        _ro(mb["DNA.thrust"]),
        *(
            _ro(sources[k]())
            for k in ("food_count", "food_dx", "food_dy", "crowd_count", "crowd_dx", "crowd_dy")
        ),
        np.uint64(mix_one(wander.key, 1)),
        np.uint64(mix_one(wander.key, 2)),
        absorb_gain,
        *out,
    )


def _trait_sources(world: World, mb: Chunk, compiled: bool = False) -> dict[str, Callable[[], I64]]:
    """Full-length arrays a trait may read, each computed at most once per tick (the senses by
    numba's ``_lookup`` when ``compiled``: the same integers in one pass)."""
    x, y = mb["Position.x"], mb["Position.y"]
    cache: dict[str, I64] = {}

    def senses() -> None:
        if compiled:
            from ouroboros.worlds.petri._numba_kernels import _lookup

            for what, less in (("food", 0), ("crowd", 1)):  # a molbot's crowd leaves itself out
                f: Field = world.scratch[f"{what}_field"]
                found = _lookup(
                    _ro(f.count), _ro(f.sum_x), _ro(f.sum_y), f.shift, f.cols, f.rows, _ro(x), _ro(y), less
                )
                cache[f"{what}_count"], cache[f"{what}_dx"], cache[f"{what}_dy"] = found
            return
        fn, fsx, fsy = neighbourhood(world.scratch["food_field"], x, y)
        cn, csx, csy = neighbourhood(world.scratch["crowd_field"], x, y)
        cn = cn - 1  # not yourself
        # Sums of offsets, not offsets to the centre: the same direction without a division,
        # and a length that grows with how much is there.
        cache["food_count"] = fn
        cache["food_dx"] = fsx - fn * x
        cache["food_dy"] = fsy - fn * y
        cache["crowd_count"] = cn
        cache["crowd_dx"] = csx - (cn + 1) * x
        cache["crowd_dy"] = csy - (cn + 1) * y

    def sensed(name: str) -> Callable[[], I64]:
        def get() -> I64:
            if name not in cache:
                senses()
            return cache[name]

        return get

    out: dict[str, Callable[[], I64]] = {
        "ids": lambda: mb.ids,
        "x": lambda: x,
        "y": lambda: y,
        "vx": lambda: mb["Velocity.x"],
        "vy": lambda: mb["Velocity.y"],
        "energy": lambda: mb["Body.energy"],
        "max_energy": lambda: mb["Body.max_energy"],
        "thrust": lambda: mb["DNA.thrust"].astype(np.int64),
    }
    for name in ("food_count", "food_dx", "food_dy", "crowd_count", "crowd_dx", "crowd_dy"):
        out[name] = sensed(name)
    return out


def physics(world: World) -> None:
    mb = molbots(world)
    if mb is None or mb.count == 0:
        return
    p = params(world)
    limit = mb["DNA.thrust"].astype(np.int64)
    vx, vy = mb["Velocity.x"], mb["Velocity.y"]
    x, y = mb["Position.x"], mb["Position.y"]
    vx += clip(world.scratch["thrust_x"], -limit, limit)
    vy += clip(world.scratch["thrust_y"], -limit, limit) + p["gravity_fp"]
    friction = p["friction_fp"]
    vx[:] = (vx * friction) >> FP_SHIFT
    vy[:] = (vy * friction) >> FP_SHIFT
    vmax = p["max_speed_fp"]
    clip(vx, -vmax, vmax, out=vx)
    clip(vy, -vmax, vmax, out=vy)
    x += vx
    y += vy
    _walls(x, vx, p["width"] << FP_SHIFT)
    _walls(y, vy, p["height"] << FP_SHIFT)


def _walls(pos: I64, vel: I64, size: int) -> None:
    low = pos < 0
    high = pos > size
    pos[low] = -pos[low]
    pos[high] = 2 * size - pos[high]
    vel[low | high] = -vel[low | high]
    clip(pos, 0, size, out=pos)


def bot_grid(world: World, mb: Chunk, kernels: Kernels) -> Grid:
    """The contact grid of molbots after physics: built once a tick, shared by eat and collide
    (positions do not change between them)."""
    grid: Grid | None = world.scratch.get("bot_grid")
    if grid is None:
        p = params(world)
        grid = build_grid(
            mb["Position.x"],
            mb["Position.y"],
            contact_cell_log2(p),
            p["width"],
            p["height"],
            kernels.sort_cells,
        )
        world.scratch["bot_grid"] = grid
    return grid


def make_eat_system(kernels: Kernels) -> Any:
    def eat(world: World) -> None:
        mb = molbots(world)
        fc = food_chunk(world)
        if mb is None or fc is None or mb.count == 0 or fc.count == 0:
            return
        p = params(world)
        fx, fy = fc["Position.x"], fc["Position.y"]
        grid = build_grid(fx, fy, contact_cell_log2(p), p["width"], p["height"], kernels.sort_cells)
        eaten, winner = kernels.eat_contacts(
            mb["Position.x"], mb["Position.y"], mb["Body.radius"], fx, fy, grid, bot_grid(world, mb, kernels)
        )
        if eaten.size == 0:
            return
        gain = np.bincount(winner, weights=fc["Food.energy"][eaten], minlength=mb.count).astype(np.int64)
        energy = mb["Body.energy"]
        np.minimum(energy + gain, mb["Body.max_energy"], out=energy)
        world.commands.despawn(fc.ids[eaten])
        world.resources["stats"]["food_eaten"] += int(eaten.size)

    return eat


def make_collide_system(kernels: Kernels) -> Any:
    def collide(world: World) -> None:
        mb = molbots(world)
        victim = np.zeros(mb.count if mb is not None else 0, dtype=bool)
        world.scratch["collision_victim"] = victim
        if mb is None or mb.count < 2:
            return
        x, y = mb["Position.x"], mb["Position.y"]
        energy = mb["Body.energy"]
        victims, predators = kernels.predation_contacts(
            x, y, mb["Body.radius"], energy, bot_grid(world, mb, kernels)
        )
        if victims.size == 0:
            return
        prey_energy = energy[victims].copy()
        gain = np.bincount(predators, weights=prey_energy // 2, minlength=mb.count).astype(np.int64)
        np.minimum(energy + gain, mb["Body.max_energy"], out=energy)
        energy[victims] = 0
        victim[victims] = True

    return collide


def metabolism(world: World) -> None:
    mb = molbots(world)
    if mb is None or mb.count == 0:
        return
    p = params(world)
    temp_permille = 1000 + abs(p["temperature"] - 20) * 10
    speed = np.abs(mb["Velocity.x"]) + np.abs(mb["Velocity.y"])
    radius = mb["Body.radius"].astype(np.int64)
    base = (mb["DNA.metabolism"].astype(np.int64) * radius * temp_permille) // (2 * ONE * 1000)
    cost = base + (speed >> 5)
    energy = mb["Body.energy"]
    victim = world.scratch.get("collision_victim")
    gain = world.scratch["energy_gain"]
    energy += gain - cost
    np.minimum(energy, mb["Body.max_energy"], out=energy)
    if victim is not None and victim.any():
        energy[victim] = 0
    mb["Body.age"][:] += 1


def reproduce(world: World) -> None:
    mb = molbots(world)
    if mb is None or mb.count == 0:
        return
    p = params(world)
    energy = mb["Body.energy"]
    max_energy = mb["Body.max_energy"]
    ready = (
        (energy * 1000 >= max_energy * mb["DNA.repro_permille"])
        & (mb["Body.age"] >= MATURITY_TICKS)
        & (energy > 0)
    )
    room = p["max_entities"] - mb.count
    if room <= 0:
        return
    parents = np.flatnonzero(ready)[:room]
    if parents.size == 0:
        return
    rng = world.rng()
    ids = mb.ids[parents]
    n = parents.size
    child_energy = energy[parents] // 2
    energy[parents] -= child_energy

    def jitter(salt: int, scale: I64 | int) -> I64:
        return (rng.signed_fp(n, ONE, ids=ids, salt=salt) * scale) >> FP_SHIFT

    mutation = mb["DNA.mutation_permille"][parents].astype(np.int64)
    values: dict[str, Any] = {}
    for salt, gene in enumerate(GENE_BOUNDS, start=10):
        g = mb[f"DNA.{gene}"][parents].astype(np.int64)
        low, high = GENE_BOUNDS[gene]
        values[f"DNA.{gene}"] = clip(g + jitter(salt, g * mutation // 1000), low, high)
    radius = mb["Body.radius"][parents].astype(np.int64)
    radius = clip(radius + jitter(20, radius * mutation // 1000), *RADIUS_BOUNDS_FP)
    w, h = p["width"] << FP_SHIFT, p["height"] << FP_SHIFT
    values["Position.x"] = clip(mb["Position.x"][parents] + jitter(1, 4 * radius), 0, w)
    values["Position.y"] = clip(mb["Position.y"][parents] + jitter(2, 4 * radius), 0, h)
    values["Body.radius"] = radius
    values["Body.max_energy"] = radius * ENERGY_PER_RADIUS
    values["Body.energy"] = np.minimum(child_energy, radius * ENERGY_PER_RADIUS)
    values["Body.generation"] = mb["Body.generation"][parents] + 1
    values["Body.parent"] = ids
    colour = mb["Body.colour"][parents].astype(np.int64)
    shade = Stream.below(rng.for_ids(ids, salt=3), 33) - 16
    values["Body.colour"] = (colour & 0xFFFF00) | clip((colour & 0xFF) + shade, 0, 255)
    mask = mb["Traits.mask"][parents] | np.uint64(newborn_bits(world))
    bits = np.asarray(assignable_bits(world), dtype=np.uint64)
    flip = Stream.below(rng.for_ids(ids, salt=4), 4000) < mutation
    bit = bits[Stream.below(rng.for_ids(ids, salt=5), bits.size)]
    values["Traits.mask"] = np.where(flip, mask ^ (np.uint64(1) << bit), mask)
    world.commands.spawn(MOLBOT, n, values)
    world.resources["stats"]["births"] += n


def death(world: World) -> None:
    mb = molbots(world)
    if mb is None or mb.count == 0:
        return
    p = params(world)
    victim = world.scratch.get("collision_victim")
    collided = victim if victim is not None and victim.size == mb.count else np.zeros(mb.count, bool)
    starved = (mb["Body.energy"] <= 0) & ~collided
    aged = (mb["Body.age"] >= p["max_age"]) & ~collided & ~starved
    dead = collided | starved | aged
    if not dead.any():
        return
    deaths = world.resources["stats"]["deaths"]
    deaths["collision"] += int(collided.sum())
    deaths["starvation"] += int(starved.sum())
    deaths["age"] += int(aged.sum())
    world.commands.despawn(mb.ids[dead])


# -- post_tick --------------------------------------------------------------------------------
def spawn_food(world: World) -> None:
    p = params(world)
    acc = world.resources["food_acc_fp"] + p["resource_spawn_rate_fp"]
    n = acc >> FP_SHIFT
    world.resources["food_acc_fp"] = acc - (n << FP_SHIFT)
    fc = food_chunk(world)
    present = fc.count if fc is not None else 0
    n = max(0, min(n, p["max_food"] - present))
    if n == 0:
        return
    rng = world.rng()
    world.commands.spawn(
        FOOD,
        n,
        {
            "Position.x": Stream.below(rng.uint64(n), p["width"] << FP_SHIFT),
            "Position.y": Stream.below(rng.uint64(n), p["height"] << FP_SHIFT),
            "Food.energy": p["food_energy_fp"],
        },
    )


def random_molbots(rng: Stream, n: int, p: dict[str, int], bits: list[int]) -> dict[str, Any]:
    """Fresh molbots with random genes and a random non-empty set of the trait ``bits``: the
    initial population and every reseed."""

    def draw(low: int, high: int) -> I64:
        return Stream.below(rng.uint64(n), high - low) + low

    radius = draw(*RADIUS_BOUNDS_FP)
    full_mask = (1 << len(bits)) - 1
    compact = (Stream.below(rng.uint64(n), full_mask) + 1).astype(np.uint64)
    if bits == list(range(len(bits))):
        mask = compact
    else:  # spread the compact draw over the assignable bits
        mask = np.zeros(n, dtype=np.uint64)
        for i, bit in enumerate(bits):
            mask |= ((compact >> np.uint64(i)) & np.uint64(1)) << np.uint64(bit)
    return {
        "Position.x": Stream.below(rng.uint64(n), p["width"] << FP_SHIFT),
        "Position.y": Stream.below(rng.uint64(n), p["height"] << FP_SHIFT),
        "Body.radius": radius,
        "Body.max_energy": radius * ENERGY_PER_RADIUS,
        "Body.energy": radius * ENERGY_PER_RADIUS // 2,
        "Body.colour": Stream.below(rng.uint64(n), 1 << 24),
        "DNA.thrust": draw(8_000, 30_000),
        "DNA.metabolism": draw(2_000, 6_000),
        "DNA.repro_permille": draw(500, 800),
        "DNA.mutation_permille": draw(20, 120),
        "Traits.mask": mask,
    }


def reseed(world: World) -> None:
    p = params(world)
    mb = molbots(world)
    count = mb.count if mb is not None else 0
    missing = min(p["min_population"], p["max_entities"]) - count
    if missing <= 0:
        return
    values = random_molbots(world.rng(), missing, p, assignable_bits(world))
    values["Traits.mask"] = values["Traits.mask"] | np.uint64(newborn_bits(world))
    world.commands.spawn(MOLBOT, missing, values)
    world.resources["stats"]["reseeded"] += missing


def telemetry(world: World) -> None:
    p = params(world)
    tick = world.tick + 1
    if tick % p["telemetry_every"]:
        return
    world.resources["telemetry"] = compute_kpis(world, tick)
    stats = world.resources["stats"]
    world.resources["telemetry_base"] = {
        "births": stats["births"],
        "deaths": dict(stats["deaths"]),
    }


def compute_kpis(world: World, tick: int | None = None) -> dict[str, Any]:
    """The dish's KPIs now: population, energy, births and deaths since the last snapshot by
    cause, food density, trait diversity and the dominant trait. Integers and names only."""
    p = params(world)
    mb = molbots(world)
    fc = food_chunk(world)
    stats = world.resources["stats"]
    base = world.resources["telemetry_base"]
    by_bit = trait_names(world)
    names: list[str] = [by_bit[b] for b in sorted(by_bit)]
    count = mb.count if mb is not None else 0
    food = fc.count if fc is not None else 0
    avg_energy = int(mb["Body.energy"].sum() // count) if mb is not None and count else 0
    trait_counts = {}
    diversity = 0
    if mb is not None and count:
        mask = mb["Traits.mask"]
        for bit, name in sorted(by_bit.items()):
            trait_counts[name] = int(np.count_nonzero(mask & np.uint64(1 << bit)))
        diversity = int(np.unique(mask).size)
    dominant = (
        max(trait_counts, key=lambda k: (trait_counts[k], -names.index(k)))
        if any(trait_counts.values())
        else None
    )
    area = p["width"] * p["height"]
    return {
        "tick": world.tick if tick is None else tick,
        "entity_count": count,
        "food_count": food,
        "avg_energy_fp": avg_energy,
        "births": stats["births"] - base["births"],
        "deaths": {c: stats["deaths"][c] - base["deaths"][c] for c in DEATH_CAUSES},
        "resource_density_per_mil": food * 1_000_000 // max(area, 1),
        "trait_diversity": diversity,
        "dominant_trait": dominant,
        "trait_counts": trait_counts,
        "max_generation": int(mb["Body.generation"].max()) if mb is not None and count else 0,
    }
