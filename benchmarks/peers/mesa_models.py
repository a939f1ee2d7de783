"""Both peer models in Mesa 3.x, written from SPEC.md (not copied from upstream): one agent object
per animal or bird, activated one at a time in a shuffled order, Mesa's own spaces
(``OrthogonalMooreGrid(torus=False)`` for WolfSheep, ``ContinuousSpace(torus=True)`` for Flocking).
Grass is two numpy arrays (the spec allows any representation)."""

from __future__ import annotations

import numpy as np
import sizes
from mesa import Agent, Model
from mesa.discrete_space import CellAgent, OrthogonalMooreGrid
from mesa.space import ContinuousSpace


class Animal(CellAgent):
    def __init__(self, model: Model, energy: float, p: float, gain: float, cell) -> None:  # type: ignore[no-untyped-def]
        super().__init__(model)
        self.energy = energy
        self.reproduction_prob = p
        self.delta_energy = gain
        self.cell = cell
        self.alive = True

    def step(self) -> None:
        if not self.alive:
            return
        self.cell = self.cell.neighborhood.select_random_cell()
        self.energy -= 1
        self.feed()
        if self.energy < 0:
            self.alive = False
            self.remove()
            return
        if self.random.random() <= self.reproduction_prob:
            self.energy /= 2
            type(self)(self.model, self.energy, self.reproduction_prob, self.delta_energy, self.cell)


class Sheep(Animal):
    def feed(self) -> None:
        x, y = self.cell.coordinate
        grown = self.model.grown
        if grown[x, y]:
            grown[x, y] = False
            self.energy += self.delta_energy


class Wolf(Animal):
    def feed(self) -> None:
        sheep = [a for a in self.cell.agents if isinstance(a, Sheep)]
        if sheep:
            victim = self.random.choice(sheep)
            victim.alive = False
            victim.remove()
            self.energy += self.delta_energy


class WolfSheep(Model):
    def __init__(self, size: str, seed: int) -> None:
        super().__init__(rng=seed)
        p = sizes.WOLFSHEEP[size]
        self.regrowth = p["regrowth"]
        self.grid = OrthogonalMooreGrid((p["width"], p["height"]), torus=False, random=self.random)
        cells = self.grid.all_cells.cells
        for kind, n, prob, gain in (
            (Sheep, p["sheep"], p["sheep_p"], sizes.SHEEP_GAIN),
            (Wolf, p["wolves"], p["wolf_p"], sizes.WOLF_GAIN),
        ):
            for _ in range(n):
                kind(self, float(self.random.randrange(2 * gain)), prob, gain, self.random.choice(cells))
        rng = np.random.default_rng(seed)
        self.grown = rng.integers(2, size=(p["width"], p["height"])).astype(bool)
        self.countdown = np.where(
            self.grown, self.regrowth, rng.integers(self.regrowth, size=self.grown.shape)
        )

    def step(self) -> None:
        self.agents_by_type[Sheep].shuffle_do("step")
        if Wolf in self.agents_by_type:
            self.agents_by_type[Wolf].shuffle_do("step")
        bare = ~self.grown
        ready = bare & (self.countdown <= 0)
        self.grown[ready] = True
        self.countdown[ready] = self.regrowth
        self.countdown[bare & ~ready] -= 1

    def counts(self) -> dict[str, int]:
        return {
            k.__name__.lower(): len(self.agents_by_type[k]) if k in self.agents_by_type else 0
            for k in (Sheep, Wolf)
        }


class Boid(Agent):
    def __init__(self, model: Model, pos: np.ndarray, vel: np.ndarray) -> None:
        super().__init__(model)
        self.vel = vel

    def step(self) -> None:
        m = self.model
        space = m.space
        nbrs = space.get_neighbors(self.pos, m.vision, include_center=False)
        n = len(nbrs)
        cohere = np.zeros(2)
        separate = np.zeros(2)
        match = np.zeros(2)
        for other in nbrs:
            h = np.asarray(space.get_heading(self.pos, other.pos))
            cohere += h
            if np.hypot(h[0], h[1]) < sizes.SEPARATION:
                separate -= h
            match += other.vel
        vel = self.vel + (cohere * sizes.COHERE + separate * sizes.SEPARATE + match * sizes.MATCH) / max(n, 1)
        self.vel = vel / np.hypot(vel[0], vel[1])
        space.move_agent(self, space.torus_adj(np.asarray(self.pos) + self.vel * sizes.SPEED))


class Flocking(Model):
    def __init__(self, size: str, seed: int) -> None:
        super().__init__(rng=seed)
        p = sizes.FLOCKING[size]
        self.vision = p["vision"]
        self.space = ContinuousSpace(p["extent"], p["extent"], torus=True)
        for _ in range(p["birds"]):
            pos = np.array([self.random.random() * p["extent"], self.random.random() * p["extent"]])
            vel = np.array([self.random.uniform(-1, 1), self.random.uniform(-1, 1)])
            self.space.place_agent(Boid(self, pos, vel), tuple(pos))

    def step(self) -> None:
        self.agents.shuffle_do("step")

    def counts(self) -> dict[str, int]:
        return {"birds": len(self.agents)}


MODELS = {"wolfsheep": WolfSheep, "flocking": Flocking}
