"""The evaluation cascade: each candidate trait is tried by the cheapest test first, and the
first failure stops it with its reasons (FunSearch's and OpenEvolve's cascade).

1. ``static``  — ``ouroboros.sandbox.checks.check_script`` (the same gate as the pipeline's);
2. ``probe``   — one call of the script in its own sandbox over the dish's molbots (its real
   state, senses zeroed), under the candidate's instruction budget: a script that errors, loops
   or writes bad intents is stopped here with the sandbox's own fault message;
3. ``replay``  — the trait activated on two forks of the world, ``replay_ticks`` each: the digests
   must agree (determinism) and no script fault may occur;
4. ``screen``  — the first fork runs on to ``screen_ticks``: carriers worse off than in the
   baseline already are stopped here (the KPI below, on a shorter run);
5. ``shadow``  — the first fork runs on to ``shadow_ticks`` and is compared with a baseline fork
   (the same world without the change). The KPI is *paired*: the molbots that carry the trait
   (the same ids in both runs) and their children are valued in both runs (``ALIVE_VALUE_FP``
   for each one alive plus its energy); the candidate must beat the baseline by ``min_gain``.

Every result is data: ``Evaluation(ok, stage, reasons=[{stage, code, path, message}], numbers,
fitness, cell)``, so a failed candidate's errors and numbers can be fed back to the coder.
Nothing here touches the live world: only forks.

Every fork tick goes through ``before_tick`` (when given) first: the loop's hook, which may wait
for the live dish to be idle (so the dish keeps its pace) and raises ``EvaluationStoppedError`` once
the cycle is cancelled or out of its budget, so an evaluation stops within one fork tick.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ouroboros.ai.evolution.archive import descriptor
from ouroboros.engine import World

ONE = 1 << 16
ALIVE_VALUE_FP = 20 * ONE
PROBE_CARRIERS = 256


BeforeTick = Callable[[], None]


def run_fork(world: World, ticks: int, before_tick: BeforeTick | None) -> None:
    """``world.run(ticks)``, calling ``before_tick`` before each tick (it may raise to stop)."""
    if before_tick is None:
        world.run(ticks)
        return
    for _ in range(ticks):
        before_tick()
        world.step()


@dataclass(frozen=True)
class CascadeConfig:
    replay_ticks: int = 4
    screen_ticks: int = 0  # a first, shorter shadow run (0: none); must be below shadow_ticks
    shadow_ticks: int = 150
    instructions_per_call: int = 2_000_000
    min_gain_fp: int = 1  # the paired KPI must beat the baseline by more than this


@dataclass
class Evaluation:
    ok: bool
    stage: str  # the last stage run: where it failed, or "shadow" when it passed all
    reasons: list[dict[str, str]] = field(default_factory=list)
    numbers: dict[str, int] = field(default_factory=dict)
    fitness: int = 0
    cell: tuple[int, int] = (0, 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "stage": self.stage,
            "reasons": [dict(r) for r in self.reasons],
            "numbers": dict(self.numbers),
            "fitness": self.fitness,
            "cell": list(self.cell),
        }


def _reason(stage: str, code: str, message: str, path: str = "/content/scripts/0/source") -> dict[str, str]:
    return {"stage": stage, "code": code, "path": path, "message": message}


def trait_content(
    trait_id: str, version: str, source: str, *, migrate: str = "replace", instructions_per_call: int
) -> dict[str, Any]:
    """Patch content (``scripts`` + ``traits``) carrying one Lua trait."""
    script_id = f"{trait_id}.script"
    return {
        "scripts": [
            {
                "id": script_id,
                "version": version,
                "language": "lua",
                "source": source,
                "entry": "act",
                "budgets": {"instructions_per_call": instructions_per_call, "memory_bytes": 8 << 20},
            }
        ],
        "traits": [
            {
                "id": trait_id,
                "version": version,
                "world": "petri",
                "kind": "lua",
                "script": script_id,
                "migrate": migrate,
                "description": "evolved by the evolution loop",
            }
        ],
    }


def merge_content(base: Mapping[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with every object of ``change`` put in by (domain, id)."""
    out: dict[str, Any] = {k: list(v) for k, v in base.items() if isinstance(v, list)}
    for domain, objects in change.items():
        kept = [o for o in out.get(domain, []) if o["id"] not in {c["id"] for c in objects}]
        out[domain] = sorted(kept + list(objects), key=lambda o: o["id"])
    return out


def param_content(obj_id: str, version: str, params: Mapping[str, int]) -> dict[str, Any]:
    """Patch content (``world_params``) setting petri parameters."""
    return {"world_params": [{"id": obj_id, "version": version, "world": "petri", "params": dict(params)}]}


def shadow_params(
    world: World,
    base_content: Mapping[str, Any],
    params: Mapping[str, int] | None,
    ticks: int,
    before_tick: BeforeTick | None = None,
) -> dict[str, int]:
    """A fork of ``world`` with ``params`` laid over its content (``None``: as it is) after
    ``ticks`` ticks: its population and the starvation deaths meanwhile."""
    from ouroboros.worlds import spec_of
    from ouroboros.worlds.petri.params import check_param

    fork = world.fork()
    if params is not None:
        for name, value in params.items():
            check_param(name, value)
        content = merge_content(base_content, param_content("evo.params", "0.0.0", params))
        spec_of(world).apply_content(fork, content)
    before = int(fork.resources["stats"]["deaths"]["starvation"])
    run_fork(fork, ticks, before_tick)
    from ouroboros.worlds.petri.systems import molbots

    mb = molbots(fork)
    return {
        "population": mb.count if mb is not None else 0,
        "starved": int(fork.resources["stats"]["deaths"]["starvation"]) - before,
    }


class _ProbeContext:
    """A ``TraitContext`` look-alike over real molbot state with the senses zeroed."""

    def __init__(self, world: World) -> None:
        from ouroboros.worlds.petri.systems import molbots

        mb = molbots(world)
        n = min(mb.count, PROBE_CARRIERS) if mb is not None else 0
        self.n = n
        self.temperature = int(world.resources["params"]["temperature"])
        self.rng = world.rng("evolution:probe")
        zeros = np.zeros(n, dtype=np.int64)
        get = (lambda k: mb[k][:n].astype(np.int64)) if mb is not None else (lambda k: zeros)
        self.ids = mb.ids[:n].astype(np.int64) if mb is not None else zeros
        self.x, self.y = get("Position.x"), get("Position.y")
        self.vx, self.vy = get("Velocity.x"), get("Velocity.y")
        self.energy, self.max_energy = get("Body.energy"), get("Body.max_energy")
        self.thrust = get("DNA.thrust")
        for name in ("food_count", "food_dx", "food_dy", "crowd_count", "crowd_dx", "crowd_dy"):
            setattr(self, name, zeros)
        self.thrust_x, self.thrust_y, self.energy_gain = (np.zeros(n, dtype=np.int64) for _ in range(3))


def _static(source: str) -> list[dict[str, str]]:
    from ouroboros.sandbox import check_script

    return [_reason("static", str(f.code), f.message) for f in check_script("lua", source)]


def _probe(world: World, source: str, instructions: int) -> list[dict[str, str]]:
    from ouroboros.sandbox import LuaLimits, LuaTrait

    trait = LuaTrait("probe", "0", source, LuaLimits(max_instructions_per_call=instructions, max_faults=1))
    try:
        trait.act(_ProbeContext(world))
        return [_reason("probe", str(f.code), f.message) for f in trait.faults]
    finally:
        trait.close()


def lineage_value(world: World, group: np.ndarray) -> dict[str, int]:
    """How the molbots ``group`` (ids) and their children fare in ``world``: alive, energy, value."""
    from ouroboros.worlds.petri.systems import molbots

    mb = molbots(world)
    if mb is None or mb.count == 0 or group.size == 0:
        return {"alive": 0, "energy_fp": 0, "value_fp": 0, "mean_speed_fp": 0}
    ids = mb.ids.astype(np.int64)
    member = np.isin(ids, group) | np.isin(mb["Body.parent"].astype(np.int64), group)
    alive = int(member.sum())
    energy = int(mb["Body.energy"][member].sum())
    speed = np.abs(mb["Velocity.x"][member]) + np.abs(mb["Velocity.y"][member])
    return {
        "alive": alive,
        "energy_fp": energy,
        "value_fp": alive * ALIVE_VALUE_FP + energy,
        "mean_speed_fp": int(speed.sum() // max(alive, 1)),
    }


def carriers_of(world: World, trait_id: str) -> np.ndarray:
    """Ids of the molbots that carry the live version of scripted trait ``trait_id``."""
    from ouroboros.worlds.petri.systems import molbots

    mb = molbots(world)
    bits = [e["bit"] for e in world.resources.get("scripted_traits", ()) if e["id"] == trait_id]
    if mb is None or not bits:
        return np.zeros(0, dtype=np.int64)
    mask = mb["Traits.mask"]
    held = np.zeros(mb.count, dtype=bool)
    for bit in bits:
        held |= (mask & np.uint8(1 << bit)) != 0
    return mb.ids[held].astype(np.int64)


class Cascade:
    """Evaluates candidates for one cycle against one moment of one world."""

    def __init__(
        self,
        world: World,
        base_content: Mapping[str, Any],
        config: CascadeConfig,
        before_tick: BeforeTick | None = None,
    ) -> None:
        from ouroboros.worlds import spec_of

        self.world = world
        self.before_tick = before_tick
        self.base_content = dict(base_content)
        self.config = config
        self.apply = spec_of(world).apply_content
        self._baselines: dict[int, World] = {}

    @property
    def _baseline(self) -> World | None:
        return self._baselines.get(self.config.shadow_ticks)

    def _fork(self) -> World:
        fork = self.world.fork()
        fork.digest_every_tick = False  # forks are compared by their final digest only
        return fork

    def _baseline_world(self, ticks: int) -> World:
        """The world without the change after ``ticks`` ticks (each length run once a cycle)."""
        if ticks not in self._baselines:
            done = [t for t in sorted(self._baselines) if t < ticks]
            world = self._baselines[done[-1]].fork() if done else self._fork()
            world.digest_every_tick = False
            self._run(world, ticks - (done[-1] if done else 0))
            self._baselines[ticks] = world
        return self._baselines[ticks]

    def _run(self, world: World, ticks: int) -> None:
        run_fork(world, ticks, self.before_tick)

    def evaluate(self, trait_id: str, version: str, source: str) -> Evaluation:
        cfg = self.config
        reasons = _static(source)
        if reasons:
            return Evaluation(False, "static", reasons)
        reasons = _probe(self.world, source, cfg.instructions_per_call)
        if reasons:
            return Evaluation(False, "probe", reasons)
        change = trait_content(trait_id, version, source, instructions_per_call=cfg.instructions_per_call)
        content = merge_content(self.base_content, change)
        a, b = self._fork(), self._fork()
        self.apply(a, content)
        self.apply(b, content)
        group = carriers_of(a, trait_id)
        self._run(a, cfg.replay_ticks)
        self._run(b, cfg.replay_ticks)
        faults = int(a.resources.get("script_faults", 0)) - int(self.world.resources.get("script_faults", 0))
        numbers = {"carriers": int(group.size), "faults": faults}
        if faults > 0:
            return Evaluation(
                False, "replay", [_reason("replay", "script_faults", f"{faults} faults")], numbers
            )
        if a.digest().hex != b.digest().hex:
            return Evaluation(
                False, "replay", [_reason("replay", "nondeterministic", "two runs disagree")], numbers
            )
        if group.size == 0:
            return Evaluation(
                False, "replay", [_reason("replay", "no_carriers", "no molbot runs it")], numbers
            )
        ran = cfg.replay_ticks
        if cfg.replay_ticks < cfg.screen_ticks < cfg.shadow_ticks:
            self._run(a, cfg.screen_ticks - ran)
            ran = cfg.screen_ticks
            mine, theirs = lineage_value(a, group), lineage_value(self._baseline_world(ran), group)
            numbers.update(
                {"screen_value_fp": mine["value_fp"], "screen_baseline_value_fp": theirs["value_fp"]}
            )
            if mine["value_fp"] < theirs["value_fp"]:
                message = (
                    f"after {ran} ticks the carriers' value {mine['value_fp']} is below the baseline's "
                    f"{theirs['value_fp']} ({mine['alive']} vs {theirs['alive']} alive)"
                )
                reason = _reason("screen", "kpi_worse", message)
                return Evaluation(False, "screen", [reason], numbers, mine["value_fp"] - theirs["value_fp"])
        self._run(a, max(0, cfg.shadow_ticks - ran))
        faults = int(a.resources.get("script_faults", 0)) - int(self.world.resources.get("script_faults", 0))
        base = self._baseline_world(cfg.shadow_ticks)
        mine, theirs = lineage_value(a, group), lineage_value(base, group)
        food = int(a.resources["stats"]["food_eaten"]) - int(base.resources["stats"]["food_eaten"])
        numbers.update(
            {
                "faults": faults,
                "alive": mine["alive"],
                "baseline_alive": theirs["alive"],
                "energy_fp": mine["energy_fp"],
                "baseline_energy_fp": theirs["energy_fp"],
                "value_fp": mine["value_fp"],
                "baseline_value_fp": theirs["value_fp"],
                "mean_speed_fp": mine["mean_speed_fp"],
                "baseline_mean_speed_fp": theirs["mean_speed_fp"],
                "food_eaten_vs_baseline": food,
            }
        )
        gain = mine["value_fp"] - theirs["value_fp"]
        cell = descriptor(mine["mean_speed_fp"], max(food, 0))
        if faults > 0:
            reason = _reason("shadow", "script_faults", f"{faults} faults in the shadow run")
            return Evaluation(False, "shadow", [reason], numbers, gain, cell)
        if gain <= cfg.min_gain_fp:
            message = (
                f"carriers' value {mine['value_fp']} is not above the baseline's {theirs['value_fp']} "
                f"({mine['alive']} vs {theirs['alive']} alive)"
            )
            return Evaluation(
                False, "shadow", [_reason("shadow", "kpi_not_better", message)], numbers, gain, cell
            )
        return Evaluation(True, "shadow", [], numbers, gain, cell)


__all__ = [
    "Cascade",
    "CascadeConfig",
    "Evaluation",
    "carriers_of",
    "merge_content",
    "param_content",
    "run_fork",
    "shadow_params",
    "trait_content",
]
