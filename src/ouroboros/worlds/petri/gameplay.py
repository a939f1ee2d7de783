"""What the governance layer needs from petri: which content it takes, how the effective content of
the active gameplay version lands in the dish, and the integer metrics shadow runs compare.

Content arrives as plain JSON data (the ``ouroboros.content`` shapes, already schema-checked);
petri takes ``world_params`` (over its own bounds) and ``traits`` of kind ``builtin``. Applying is
idempotent and total: the dish's parameters become the base parameters overlaid with every
``world_params`` object of the version, in id order, so rolling back to an older version
restores exactly its parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ouroboros.engine import World
from ouroboros.errors import WorldError
from ouroboros.worlds.petri.params import check_param, rescale_positions
from ouroboros.worlds.petri.scripted import apply_traits, capacity_problems
from ouroboros.worlds.petri.systems import molbots

SUPPORTED_DOMAINS = frozenset({"world_params", "traits", "scripts"})


def check_content(
    content: Mapping[str, Any], trait_names: frozenset[str], builtins: int = 4
) -> list[tuple[str, str, str]]:
    """World-specific refusals as (code, path, message)."""
    problems: list[tuple[str, str, str]] = []
    for domain, objects in content.items():
        if domain == "remove" or not objects:
            continue
        if domain not in SUPPORTED_DOMAINS:
            problems.append(("unsupported_domain", f"/content/{domain}", f"petri takes no {domain}"))
    for i, obj in enumerate(content.get("world_params") or ()):
        if obj.get("world") != "petri":
            problems.append(
                ("wrong_world", f"/content/world_params/{i}/world", "these params are not for petri")
            )
            continue
        for name, value in obj.get("params", {}).items():
            try:
                check_param(name, value)
            except WorldError as exc:
                problems.append(
                    ("param_out_of_bounds", f"/content/world_params/{i}/params/{name}", exc.message)
                )
    problems += capacity_problems(content, builtins)
    for i, obj in enumerate(content.get("traits") or ()):
        if obj.get("kind") == "builtin" and obj.get("builtin") not in trait_names:
            problems.append(
                (
                    "unknown_trait",
                    f"/content/traits/{i}/builtin",
                    f"petri has no built-in trait {obj.get('builtin')!r}",
                )
            )
    return problems


def effective_params(world: World, content: Mapping[str, Any]) -> dict[str, int]:
    params = dict(world.meta["config"]["params"])
    for obj in sorted(content.get("world_params") or (), key=lambda o: o["id"]):
        if obj.get("world") == "petri":
            params.update(obj["params"])
    return params


def apply_content(world: World, content: Mapping[str, Any]) -> None:
    """Make the dish follow ``content`` (the whole effective content of a version)."""
    before = dict(world.resources["params"])
    world.resources["params"].clear()
    world.resources["params"].update(effective_params(world, content))
    rescale_positions(world, before, world.resources["params"])
    apply_traits(world, content)


def shadow_metrics(world: World) -> dict[str, int]:
    """Integers a shadow or canary run compares against its baseline."""
    mb = molbots(world)
    stats = world.resources["stats"]
    return {
        "population": mb.count if mb is not None else 0,
        "births": int(stats["births"]),
        "deaths": int(sum(stats["deaths"].values())),
        "faults": int(world.resources.get("script_faults", 0)),
    }
