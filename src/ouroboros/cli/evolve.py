"""``ouroboros evolve``: the evolution loop (of a world whose spec has an evolution hook) from the
command line.

- ``ouroboros evolve [--world W --ticks N --seed S --entities E --cycle-budget-ms B --json]``
  runs the loop live on a fresh dish (offline coder, an in-memory governor) and prints its feed, one event a
  line (``--json``: one JSON object with the feed, the survivors and the archive). A batch run: the
  dish ticks as fast as it can and each cycle runs between two ticks, on the same thread, stopped
  after ``--cycle-budget-ms`` (each cycle's ``cost`` event says what it took).
- ``ouroboros evolve --scenario famine --compare --seeds 1,2,3 [--ticks N] --json`` runs the
  famine experiment with evolution on and off and prints ``{"on": [...], "off": [...], "ratio": ...}``.

Bad input (an unknown world or scenario, bad seeds, a non-positive tick count) exits 2 with one
``error:`` line on stderr.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from ouroboros.cli.core import _command_boundary, app
from ouroboros.errors import BadInputError

MAX_TICKS = 1_000_000
CYCLE_BUDGET_MS = 120_000
MAX_SEEDS = 32


def _seeds(text: str) -> list[int]:
    parts = [p.strip() for p in text.split(",")]
    try:
        seeds = [int(p) for p in parts]
    except ValueError:
        raise BadInputError(f"--seeds takes integers separated by commas, not {text!r}") from None
    if not seeds or len(seeds) > MAX_SEEDS:
        raise BadInputError(f"--seeds takes 1 to {MAX_SEEDS} seeds")
    return seeds


def _line(event: dict[str, Any]) -> str:
    kind = event["type"]
    detail = {k: v for k, v in event.items() if k not in ("type", "tick", "cycle", "source")}
    if kind == "evaluation":
        detail = {k: detail[k] for k in ("origin", "ok", "stage", "fitness") if k in detail}
    return (
        f"tick {event['tick']:>6} cycle {event['cycle']:>3} {kind:<12} {json.dumps(detail, sort_keys=True)}"
    )


@app.command("evolve")
def evolve(
    world: Annotated[
        str | None, typer.Option("--world", help="The world to evolve (default: the first that evolves).")
    ] = None,
    scenario: Annotated[str | None, typer.Option("--scenario", help="famine: the experiment.")] = None,
    compare: Annotated[
        bool, typer.Option("--compare", help="Run the scenario with evolution on and off.")
    ] = False,
    seeds: Annotated[str, typer.Option("--seeds", help="Seeds for --compare, e.g. 1,2,3.")] = "1,2,3",
    ticks: Annotated[int | None, typer.Option("--ticks", help="Ticks to run.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="The dish's seed.")] = 1,
    entities: Annotated[int, typer.Option("--entities", help="Molbots at the start.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")] = False,
    cycle_budget_ms: Annotated[
        int, typer.Option("--cycle-budget-ms", help="Wall clock one cycle may take (0: no limit).")
    ] = CYCLE_BUDGET_MS,
) -> None:
    """Run the evolution loop live, or the famine experiment (--scenario famine --compare)."""
    from ouroboros.ai.evolution import (
        EvolutionConfig,
        EvolutionLoop,
        Headless,
        evolving_worlds,
        famine_experiment,
    )
    from ouroboros.ai.evolution.experiment import DEFAULT_TICKS, survivors

    with _command_boundary():
        evolving = evolving_worlds()
        if world is None and evolving:
            world = evolving[0]
        if world not in evolving:
            raise BadInputError(
                f"the evolution loop runs on {', '.join(evolving) or 'no world'}, not {world!r}"
            )
        if ticks is not None and not 1 <= ticks <= MAX_TICKS:
            raise BadInputError(f"--ticks must be in [1, {MAX_TICKS}]")
        if not 1 <= entities <= 100_000:
            raise BadInputError("--entities must be in [1, 100000]")
        if cycle_budget_ms < 0:
            raise BadInputError("--cycle-budget-ms must be 0 (no limit) or more")
        if scenario is not None:
            if scenario != "famine":
                raise BadInputError(f"unknown scenario {scenario!r} (known: famine)")
            if not compare:
                raise BadInputError("--scenario famine needs --compare")
            seed_list = _seeds(seeds)
            n = ticks or DEFAULT_TICKS
            on = famine_experiment(seed_list, ticks=n, evolve=True, entities=entities, world=world)
            off = famine_experiment(seed_list, ticks=n, evolve=False, entities=entities, world=world)
            ratio = round(sum(on) / sum(off), 3) if sum(off) else None
            result = {
                "scenario": "famine",
                "seeds": seed_list,
                "ticks": n,
                "on": on,
                "off": off,
                "ratio": ratio,
            }
            if as_json:
                typer.echo(json.dumps(result, sort_keys=True))
            else:
                for s, a, b in zip(seed_list, on, off, strict=True):
                    typer.echo(f"seed {s}: evolution on {a} survivors, off {b}")
                typer.echo(f"mean ratio on/off: {ratio}")
            return
        if compare:
            raise BadInputError("--compare needs --scenario famine")
        from ouroboros.worlds import build_world

        dish = build_world(world, seed, {"entities": entities})
        loop = EvolutionLoop(
            dish,
            feed=None if as_json else (lambda e: typer.echo(_line(e))),
            config=EvolutionConfig(cycle_budget_ms=cycle_budget_ms),
        )
        headless = Headless(loop)  # the loop submits bundles; the world follows its governor's pointer
        headless.run(ticks or 600)
        headless.close()
        if as_json:
            out = {
                "world": world,
                "seed": seed,
                "ticks": dish.tick,
                "survivors": survivors(dish),
                "feed": [{k: v for k, v in e.items() if k != "source"} for e in loop.history(10_000)],
                "archive": loop.archive.as_dict(),
            }
            typer.echo(json.dumps(out, sort_keys=True))
        else:
            typer.echo(f"tick {dish.tick}: {survivors(dish)} alive, {len(loop.archive)} archive cells")
