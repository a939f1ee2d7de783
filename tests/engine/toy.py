"""A tiny world for the engine tests: things with a position and a velocity that drift, die and
are born. The engine knows no world, so the tests bring their own.

Every draw comes from the world's keyed streams, every structural change goes through
``world.commands``, and the population stays steady (each death is matched by a birth at the
origin), so runs are cheap and long runs stay small.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ouroboros.engine import Component, Stream, World
from ouroboros.engine.errors import InputError

POS = Component("Pos", x="i8", y="i8")
VEL = Component("Vel", x="i8", y="i8")
SEED = 7
POPULATION = 24
MAX_SPEED = 8
MAX_PUSH = 10
#: one entity in DEATH_ODDS dies each tick (on average)
DEATH_ODDS = 12


def populate(world: World) -> None:
    """Startup: the first population, at random places with random velocities."""
    rng = world.rng()
    n = POPULATION
    world.commands.spawn(
        ["Pos", "Vel"],
        n,
        {
            "Pos.x": rng.integers(-100, 100, n),
            "Pos.y": rng.integers(-100, 100, n),
            "Vel.x": rng.integers(-3, 4, n),
            "Vel.y": rng.integers(-3, 4, n),
        },
    )
    world.resources["births"] = n


def move(world: World) -> None:
    """Jitter velocities per entity, move, and replace the ones that die by newborns."""
    rng = world.rng()
    doomed: list[np.ndarray] = []
    for chunk in world.query("Pos", "Vel"):
        ids = chunk.ids
        vx, vy = chunk["Vel.x"], chunk["Vel.y"]
        vx += Stream.below(rng.for_ids(ids, salt=1), 5) - 2
        vy += Stream.below(rng.for_ids(ids, salt=2), 5) - 2
        np.clip(vx, -MAX_SPEED, MAX_SPEED, out=vx)
        np.clip(vy, -MAX_SPEED, MAX_SPEED, out=vy)
        chunk["Pos.x"][:] += vx
        chunk["Pos.y"][:] += vy
        doomed.append(ids[Stream.below(rng.for_ids(ids, salt=3), DEATH_ODDS) == 0])
    dead = np.concatenate(doomed) if doomed else np.empty(0, dtype=np.int64)
    if dead.size:
        world.commands.despawn(dead)
        n = int(dead.size)
        world.commands.spawn(
            ["Pos", "Vel"],
            n,
            {"Pos.x": 0, "Pos.y": 0, "Vel.x": rng.integers(-3, 4, n), "Vel.y": rng.integers(-3, 4, n)},
        )
        world.resources["births"] += n


def census(world: World) -> None:
    """Post-tick: how many things are east of the origin (reads Pos, writes no component)."""
    world.resources["east"] = sum(int((c["Pos.x"] > 0).sum()) for c in world.query("Pos"))


def validate_push(payload: Any) -> dict[str, int]:
    if not isinstance(payload, dict) or set(payload) != {"dx", "dy"}:
        raise InputError(f"push needs {{dx, dy}}, got {payload!r}", path="push")
    for key in ("dx", "dy"):
        v = payload[key]
        if not isinstance(v, int) or isinstance(v, bool) or not -MAX_PUSH <= v <= MAX_PUSH:
            raise InputError(f"push.{key} must be an int in [-{MAX_PUSH}, {MAX_PUSH}]", path=f"push.{key}")
    return {"dx": payload["dx"], "dy": payload["dy"]}


def apply_push(world: World, payload: dict[str, int]) -> None:
    """Input: every velocity gets the push added."""
    for chunk in world.query("Vel"):
        chunk["Vel.x"][:] += payload["dx"]
        chunk["Vel.y"][:] += payload["dy"]


class ToyPlugin:
    name = "toy"

    def build(self, world: World) -> None:
        world.register_component(POS)
        world.register_component(VEL)
        world.add_system("populate", populate, phase="startup", writes=["Pos", "Vel"])
        world.add_system("move", move, writes=["Pos", "Vel"])
        world.add_system("census", census, phase="post_tick", reads=["Pos"])
        world.register_input("push", apply_push, validate_push)


def build_world(seed: int = SEED, **kwargs: Any) -> World:
    return World(seed, plugins=[ToyPlugin()], **kwargs)


def run_with_pushes(world: World, ticks: int, pushes: dict[int, tuple[int, int]] | None = None) -> list[str]:
    """Step ``ticks`` times, submitting ``pushes[t]`` before the step that makes tick ``t``;
    returns the digest hex after each step."""
    pushes = pushes or {}
    out = []
    for _ in range(ticks):
        push = pushes.get(world.tick + 1)
        if push is not None:
            world.submit("push", {"dx": push[0], "dy": push[1]})
        report = world.step()
        assert report.digest is not None
        out.append(report.digest.hex)
    return out


def columns(world: World) -> dict[str, np.ndarray]:
    """Copies of every (archetype, column) and the id columns, to compare worlds array by array."""
    out: dict[str, np.ndarray] = {}
    for chunk in world.query():
        sig = "+".join(chunk.signature)
        out[f"{sig}:ids"] = chunk.ids.copy()
        for comp in chunk.signature:
            for field in world.component(comp).field_names:
                out[f"{sig}:{comp}.{field}"] = chunk[f"{comp}.{field}"].copy()
    return out


def same_columns(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
