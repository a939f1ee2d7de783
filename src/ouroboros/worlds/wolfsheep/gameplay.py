"""What the governance layer needs from WolfSheep: it takes no gameplay content (the model is fixed
by its spec; sizes are presets), and its shadow metrics are the two populations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ouroboros.engine import World
from ouroboros.errors import WorldError
from ouroboros.worlds.wolfsheep.systems import counts


def check_content(content: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    return [
        ("unsupported_domain", f"/content/{domain}", f"wolfsheep takes no {domain}")
        for domain, objects in content.items()
        if domain != "remove" and objects
    ]


def apply_content(world: World, content: Mapping[str, Any]) -> None:
    problems = check_content(content)
    if problems:
        raise WorldError(problems[0][2], path=problems[0][1])


def shadow_metrics(world: World) -> dict[str, int]:
    c = counts(world)
    return {"sheep": c["sheep"], "wolves": c["wolves"]}
