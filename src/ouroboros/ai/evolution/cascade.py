"""The evaluation cascade: each candidate trait is tried by the cheapest test first, and the
first failure stops it with its reasons (FunSearch's and OpenEvolve's cascade).

1. ``static``  — the pipeline's static stage (``patches.stages.static``: content lint and the
   sandbox's script checks) on the candidate's patch content;
2. ``probe``   — one call of the script in its own sandbox over the world's probe context (the
   world's evolution hook: for petri its molbots' real state, senses zeroed), under the
   candidate's instruction budget: a script that errors, loops or writes bad intents is stopped
   here with the sandbox's own fault message;
3. ``replay``  — the trait activated on two forks of the world, ``replay_ticks`` each, run by the
   pipeline's ``stages.twin_run``: the digests must agree (determinism) and no script fault may
   occur;
4. ``screen``  — the first fork runs on to ``screen_ticks``: carriers worse off than in the
   baseline already are stopped here (the KPI below, on a shorter run);
5. ``shadow``  — the first fork runs on to ``shadow_ticks`` and is compared with a baseline fork
   (the same world without the change). The KPI is *paired*: the creatures that carry the trait
   (the same ids in both runs) and their children are valued in both runs (the hook's
   ``lineage_value``); the pipeline's ``stages.compare_metrics`` holds it to ``min_gain`` over
   the baseline (code ``kpi_not_better``).

What is world-specific (room for traits, carriers, the KPI, the probe context, parameter bounds)
comes from the world's spec (``spec.evolution``, ``spec.params``); nothing here names a world.

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
from ouroboros.errors import BadInputError, OuroborosError
from ouroboros.worlds import spec_of
from ouroboros.worlds.spec import EvolutionHook

BeforeTick = Callable[[], None]


def evolution_hook(world: World) -> EvolutionHook:
    """The world's evolution hook (``BadInputError`` for a world that does not evolve)."""
    spec = spec_of(world)
    if spec.evolution is None:
        raise BadInputError(f"world {spec.name!r} does not evolve (its spec has no evolution hook)")
    return spec.evolution


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
    trait_id: str,
    version: str,
    source: str,
    *,
    world: str,
    migrate: str = "replace",
    instructions_per_call: int,
) -> dict[str, Any]:
    """Patch content (``scripts`` + ``traits``) carrying one Lua trait for ``world`` (its name)."""
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
                "world": world,
                "kind": "lua",
                "script": script_id,
                "migrate": migrate,
                "description": "evolved by the evolution loop",
            }
        ],
    }


def merge_content(base: Mapping[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with every object of ``change`` put in by (domain, id) (``content.overlay``)."""
    from ouroboros.content.overlay import overlay

    return dict(overlay({k: v for k, v in base.items() if isinstance(v, list)}, change))


def param_content(obj_id: str, version: str, params: Mapping[str, int], *, world: str) -> dict[str, Any]:
    """Patch content (``world_params``) setting parameters of ``world`` (its name)."""
    return {"world_params": [{"id": obj_id, "version": version, "world": world, "params": dict(params)}]}


def shadow_params(
    world: World,
    base_content: Mapping[str, Any],
    params: Mapping[str, int] | None,
    ticks: int,
    before_tick: BeforeTick | None = None,
) -> dict[str, int]:
    """A fork of ``world`` with ``params`` laid over its content (``None``: as it is) after
    ``ticks`` ticks: its population and the starvation deaths meanwhile. A value the world's
    params hook refuses raises ``BadInputError``."""
    spec, hook = spec_of(world), evolution_hook(world)
    fork = world.fork()
    if params is not None:
        if spec.params is None:
            raise BadInputError(f"world {spec.name!r} has no parameters")
        for name, value in params.items():
            try:
                spec.params.check(name, value)
            except OuroborosError as exc:
                raise BadInputError(exc.message, path=str(name)) from exc
        content = merge_content(base_content, param_content("evo.params", "0.0.0", params, world=spec.name))
        spec.apply_content(fork, content)
    before = hook.starvation_deaths(fork)
    run_fork(fork, ticks, before_tick)
    return {"population": hook.population(fork), "starved": hook.starvation_deaths(fork) - before}


def _static(change: Mapping[str, Any]) -> list[dict[str, str]]:
    """The pipeline's static stage on the candidate's content, linted on its own."""
    from ouroboros.content import Catalog, parse_content
    from ouroboros.errors import ContentError
    from ouroboros.patches import sandbox_script_checker, stages

    try:
        content = parse_content(change)
    except ContentError as exc:
        return [_reason("static", r.code, r.message, r.path) for r in exc.reasons]
    reasons = stages.static(content, Catalog.empty(), [], sandbox_script_checker)
    return [r.as_dict() for r in reasons]


def _probe(world: World, source: str, instructions: int) -> list[dict[str, str]]:
    from ouroboros.sandbox import LuaLimits, LuaTrait

    trait = LuaTrait("probe", "0", source, LuaLimits(max_instructions_per_call=instructions, max_faults=1))
    try:
        trait.act(evolution_hook(world).probe_context(world))
        return [_reason("probe", str(f.code), f.message) for f in trait.faults]
    finally:
        trait.close()


def lineage_value(world: World, group: np.ndarray) -> dict[str, int]:
    """How the creatures ``group`` (ids) and their children fare in ``world`` (the world's hook):
    alive, energy, value."""
    return evolution_hook(world).lineage_value(world, group)


def carriers_of(world: World, trait_id: str) -> np.ndarray:
    """Ids of the creatures that carry the live version of scripted trait ``trait_id``."""
    return np.asarray(evolution_hook(world).carriers(world, trait_id), dtype=np.int64)


class Cascade:
    """Evaluates candidates for one cycle against one moment of one world."""

    def __init__(
        self,
        world: World,
        base_content: Mapping[str, Any],
        config: CascadeConfig,
        before_tick: BeforeTick | None = None,
    ) -> None:
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

    def _step(self, world: World) -> None:
        if self.before_tick is not None:
            self.before_tick()
        world.step()

    def evaluate(self, trait_id: str, version: str, source: str) -> Evaluation:
        from ouroboros.patches import stages

        cfg = self.config
        change = trait_content(
            trait_id,
            version,
            source,
            world=spec_of(self.world).name,
            instructions_per_call=cfg.instructions_per_call,
        )
        reasons = _static(change)
        if reasons:
            return Evaluation(False, "static", reasons)
        reasons = _probe(self.world, source, cfg.instructions_per_call)
        if reasons:
            return Evaluation(False, "probe", reasons)
        content = merge_content(self.base_content, change)
        a, b = self._fork(), self._fork()
        self.apply(a, content)
        self.apply(b, content)
        group = carriers_of(a, trait_id)
        replayed = stages.twin_run(a, b, cfg.replay_ticks, stage="replay", step=self._step, every_tick=False)
        faults = int(a.resources.get("script_faults", 0)) - int(self.world.resources.get("script_faults", 0))
        numbers = {"carriers": int(group.size), "faults": faults}
        if faults > 0:
            return Evaluation(
                False, "replay", [_reason("replay", "script_faults", f"{faults} faults")], numbers
            )
        if replayed:
            return Evaluation(False, "replay", [r.as_dict() for r in replayed], numbers)
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
        judged = stages.compare_metrics(
            "shadow",
            {"kpi": theirs["value_fp"]},
            {"kpi": mine["value_fp"]},
            {"kpi": {"min_gain": cfg.min_gain_fp}},
        )
        if judged.reasons:
            alive = f"; {mine['alive']} vs {theirs['alive']} carriers and children alive"
            reasons = [{**r.as_dict(), "message": r.message + alive} for r in judged.reasons]
            return Evaluation(False, "shadow", reasons, numbers, gain, cell)
        return Evaluation(True, "shadow", [], numbers, gain, cell)


__all__ = [
    "Cascade",
    "CascadeConfig",
    "Evaluation",
    "carriers_of",
    "evolution_hook",
    "lineage_value",
    "merge_content",
    "param_content",
    "run_fork",
    "shadow_params",
    "trait_content",
]
