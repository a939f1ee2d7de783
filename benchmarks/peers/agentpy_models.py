"""Both peer models in agentpy 0.1.x, written from SPEC.md: agent objects activated one at a time in
a shuffled order (a snapshot of the list: newborns wait for the next step), agentpy's ``Grid``
(non-periodic) for WolfSheep and its ``Space`` (periodic, KD-tree neighbour search) for Flocking.
Grass is two numpy arrays. ``Model.run`` is not used: it adds reporting the protocol leaves out."""

from __future__ import annotations

import agentpy as ap
import numpy as np
import sizes

MOORE = [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if (dx, dy) != (0, 0)]


class Animal(ap.Agent):
    def setup(self, energy: float = 0.0, p: float = 0.0, gain: float = 0.0) -> None:
        self.energy = energy
        self.reproduction_prob = p
        self.delta_energy = gain
        self.alive = True

    def step(self) -> None:
        m = self.model
        grid = m.grid
        x, y = grid.positions[self]
        options = [(x + dx, y + dy) for dx, dy in MOORE if 0 <= x + dx < m.width and 0 <= y + dy < m.height]
        pos = options[m.random.randrange(len(options))]
        grid.move_to(self, pos)
        self.energy -= 1
        self.feed(pos)
        if self.energy < 0:
            m.kill(self)
            return
        if m.random.random() <= self.reproduction_prob:
            self.energy /= 2
            m.spawn(type(self), self.energy, self.reproduction_prob, self.delta_energy, pos)


class Sheep(Animal):
    def feed(self, pos: tuple[int, int]) -> None:
        if self.model.grown[pos]:
            self.model.grown[pos] = False
            self.energy += self.delta_energy


class Wolf(Animal):
    def feed(self, pos: tuple[int, int]) -> None:
        sheep = [a for a in self.model.grid.grid.agents[pos] if isinstance(a, Sheep)]
        if sheep:
            self.model.kill(sheep[self.model.random.randrange(len(sheep))])
            self.energy += self.delta_energy


class WolfSheep(ap.Model):
    def setup(self) -> None:
        p = sizes.WOLFSHEEP[self.p["size"]]
        self.width, self.height, self.regrowth = p["width"], p["height"], p["regrowth"]
        self.grid = ap.Grid(self, (self.width, self.height), torus=False)
        self.flocks = {Sheep: ap.AgentDList(self), Wolf: ap.AgentDList(self)}
        for kind, n, prob, gain in (
            (Sheep, p["sheep"], p["sheep_p"], sizes.SHEEP_GAIN),
            (Wolf, p["wolves"], p["wolf_p"], sizes.WOLF_GAIN),
        ):
            for _ in range(n):
                pos = (self.random.randrange(self.width), self.random.randrange(self.height))
                self.spawn(kind, float(self.random.randrange(2 * gain)), prob, gain, pos)
        self.grown = self.nprandom.integers(2, size=(self.width, self.height)).astype(bool)
        self.countdown = np.where(
            self.grown, self.regrowth, self.nprandom.integers(self.regrowth, size=self.grown.shape)
        )

    def spawn(self, kind: type, energy: float, p: float, gain: float, pos: tuple[int, int]) -> None:
        agent = kind(self, energy=energy, p=p, gain=gain)
        self.flocks[kind].append(agent)
        self.grid.add_agents([agent], positions=[pos])

    def kill(self, agent: Animal) -> None:
        agent.alive = False
        self.grid.remove_agents(agent)
        self.flocks[type(agent)].remove(agent)

    def step(self) -> None:
        for kind in (Sheep, Wolf):
            for agent in list(self.flocks[kind].shuffle()):
                if agent.alive:
                    agent.step()
        bare = ~self.grown
        ready = bare & (self.countdown <= 0)
        self.grown[ready] = True
        self.countdown[ready] = self.regrowth
        self.countdown[bare & ~ready] -= 1

    def counts(self) -> dict[str, int]:
        return {"sheep": len(self.flocks[Sheep]), "wolf": len(self.flocks[Wolf])}


class Boid(ap.Agent):
    def setup(self) -> None:
        self.vel = np.array([self.model.random.uniform(-1, 1), self.model.random.uniform(-1, 1)])

    def step(self) -> None:
        m = self.model
        space = m.space
        pos = space.positions[self]
        cohere = np.zeros(2)
        separate = np.zeros(2)
        match = np.zeros(2)
        n = 0
        for other in space.neighbors(self, distance=m.vision):
            h = space.positions[other] - pos
            h = np.where(h > m.extent / 2, h - m.extent, np.where(h < -m.extent / 2, h + m.extent, h))
            cohere += h
            if np.hypot(h[0], h[1]) < sizes.SEPARATION:
                separate -= h
            match += other.vel
            n += 1
        vel = self.vel + (cohere * sizes.COHERE + separate * sizes.SEPARATE + match * sizes.MATCH) / max(n, 1)
        self.vel = vel / np.hypot(vel[0], vel[1])
        space.move_to(self, (pos + self.vel * sizes.SPEED) % m.extent)


class Flocking(ap.Model):
    def setup(self) -> None:
        p = sizes.FLOCKING[self.p["size"]]
        self.vision, self.extent = p["vision"], p["extent"]
        self.space = ap.Space(self, (self.extent, self.extent), torus=True)
        self.birds = ap.AgentList(self, p["birds"], Boid)
        self.space.add_agents(self.birds, random=True)

    def step(self) -> None:
        for bird in list(self.birds.shuffle()):
            bird.step()

    def counts(self) -> dict[str, int]:
        return {"birds": len(self.birds)}


def build(model: str, size: str, seed: int) -> ap.Model:
    cls = WolfSheep if model == "wolfsheep" else Flocking
    m = cls({"size": size, "seed": seed})
    m.sim_setup(steps=sizes.STEPS, seed=seed)
    return m
