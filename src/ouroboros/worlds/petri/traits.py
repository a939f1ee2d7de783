"""The trait interface: how behaviour plugs into a molbot without touching the engine.

A trait sees capabilities, not objects: a ``TraitContext`` holds read-only arrays of the state of
the molbots that carry it (position, velocity, energy, genes), what they sense (food and crowd
around them), a keyed random stream, and two intent arrays it may add to: ``thrust_x/y`` (the
acceleration it asks for) and ``energy_gain``. It runs once per tick over all its carriers, a
vector call, never a call per molbot. The built-in traits here are ordinary numpy code; a
sandboxed script (Lua, later) implements the same contract over the same packed arrays.

Intents are summed, then bounded by the molbot's thrust gene and the dish's speed limit in the
physics system, so no trait can push state outside the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

import numpy as np
import numpy.typing as npt

from ouroboros.engine import Stream
from ouroboros.worlds.petri.params import ONE
from ouroboros.worlds.petri.spatial import steer

I64 = npt.NDArray[np.int64]


class TraitContext:
    """What one trait gets for one tick, over its ``n`` carriers.

    State arrays (read-only copies, gathered on first use so a trait pays only for what it
    reads): ``ids``, ``x``, ``y``, ``vx``, ``vy``, ``energy``, ``max_energy``, ``thrust``;
    senses over the 3×3 coarse cells around: ``food_count`` and ``food_dx``, ``food_dy`` (the sum
    of the offsets to that food: it points at its centre and grows with its amount), and the same
    for the other molbots: ``crowd_count``, ``crowd_dx``, ``crowd_dy``.
    Intents, zeroed, to add to: ``thrust_x``, ``thrust_y``, ``energy_gain``.
    """

    ids: I64
    x: I64
    y: I64
    vx: I64
    vy: I64
    energy: I64
    max_energy: I64
    thrust: I64
    food_count: I64
    food_dx: I64
    food_dy: I64
    crowd_count: I64
    crowd_dx: I64
    crowd_dy: I64

    def __init__(
        self, rows: I64, sources: Mapping[str, Callable[[], I64]], temperature: int, rng: Stream
    ) -> None:
        self.n = int(rows.size)
        self._rows = rows
        self._sources = sources
        self.temperature = temperature
        self.rng = rng
        self.thrust_x = np.zeros(self.n, dtype=np.int64)
        self.thrust_y = np.zeros(self.n, dtype=np.int64)
        self.energy_gain = np.zeros(self.n, dtype=np.int64)

    def __getattr__(self, name: str) -> I64:
        source = self.__dict__.get("_sources", {}).get(name)
        if source is None:
            raise AttributeError(name)
        value = source()[self._rows]
        value.flags.writeable = False
        self.__dict__[name] = value
        return value


class Trait(Protocol):
    """A behaviour: a unique ``name`` and a vector ``act`` over all carriers."""

    name: str

    def act(self, ctx: TraitContext) -> None: ...


class SeekFood:
    """Steer towards the centre of the food sensed around you."""

    name = "seek_food"

    def act(self, ctx: TraitContext) -> None:
        ax, ay = steer(ctx.food_dx, ctx.food_dy, ctx.thrust)
        sensed = ctx.food_count > 0
        ctx.thrust_x += np.where(sensed, ax, 0)
        ctx.thrust_y += np.where(sensed, ay, 0)


class Wander:
    """A random push each tick, drawn per molbot so the order of molbots never matters."""

    name = "wander"

    def act(self, ctx: TraitContext) -> None:
        ctx.thrust_x += (ctx.rng.signed_fp(ctx.n, ONE, ids=ctx.ids, salt=1) * ctx.thrust) >> 17
        ctx.thrust_y += (ctx.rng.signed_fp(ctx.n, ONE, ids=ctx.ids, salt=2) * ctx.thrust) >> 17


class Flee:
    """Steer away from the crowd of other molbots around you."""

    name = "flee"

    def act(self, ctx: TraitContext) -> None:
        ax, ay = steer(-ctx.crowd_dx, -ctx.crowd_dy, ctx.thrust)
        crowded = ctx.crowd_count > 0
        ctx.thrust_x += np.where(crowded, ax, 0)
        ctx.thrust_y += np.where(crowded, ay, 0)


class AbsorbEnergy:
    """Photosynthesis: gain a little energy from light, best near 25 °C, none past ±60 °C."""

    name = "absorb_energy"
    gain_fp = ONE // 40

    def act(self, ctx: TraitContext) -> None:
        light_permille = max(0, 1000 - abs(ctx.temperature - 25) * 1000 // 60)
        ctx.energy_gain += self.gain_fp * light_permille // 1000


BUILTIN_TRAITS: tuple[Trait, ...] = (SeekFood(), Wander(), Flee(), AbsorbEnergy())
