"""Both peer models in mesa-frames (the DataFrame flavour of Mesa; the registry's 0.1.0a0), written
from SPEC.md. One ``AgentSetPolars`` per species or flock; the state is a polars DataFrame.

WolfSheep is vectorised species by species exactly as SPEC.md 1.5 allows (random walk of all,
one random eater per grown cell, wolf rank i eats sheep rank i in each cell, via polars group-bys
and joins). Flocking's rule is sequential (each bird sees the others' *current* state), which a
DataFrame cannot vectorise: each activation is a polars query over the frame and a one-row update.
That is the honest cost of the sequential model in this framework (a synchronous update would be a
different model, ``flocking-sync``, which the spec keeps out of these rows). Grass is numpy arrays."""

from __future__ import annotations

import numpy as np
import polars as pl
import sizes
from mesa_frames import AgentSetPolars, ModelDF

DX = np.array([-1, 0, 1, -1, 1, -1, 0, 1])
DY = np.array([-1, -1, -1, 0, 0, 1, 1, 1])


def _moves() -> tuple[np.ndarray, np.ndarray]:
    table = np.zeros((9, 8), dtype=np.int64)
    counts = np.zeros(9, dtype=np.int64)
    for ax in range(3):
        for ay in range(3):
            ok = [
                k
                for k in range(8)
                if not ((ax == 0 and DX[k] < 0) or (ax == 2 and DX[k] > 0))
                and not ((ay == 0 and DY[k] < 0) or (ay == 2 and DY[k] > 0))
            ]
            table[ax * 3 + ay, : len(ok)] = ok
            counts[ax * 3 + ay] = len(ok)
    return table, counts


MOVES, MOVE_COUNTS = _moves()


class Animals(AgentSetPolars):
    def __init__(self, model: ModelDF, n: int, p: float, gain: float) -> None:
        super().__init__(model)
        self.reproduction_prob, self.delta_energy = p, gain
        rng = model.random
        self.add(
            pl.DataFrame(
                {
                    "unique_id": model.new_ids(n),
                    "x": rng.integers(model.width, size=n),
                    "y": rng.integers(model.height, size=n),
                    "energy": rng.integers(2 * gain, size=n).astype(np.float64),
                }
            )
        )

    def walk(self) -> pl.DataFrame:
        m = self.model
        df = self.agents
        x, y = df["x"].to_numpy(), df["y"].to_numpy()
        cls = np.where(x == 0, 0, np.where(x == m.width - 1, 2, 1)) * 3 + np.where(
            y == 0, 0, np.where(y == m.height - 1, 2, 1)
        )
        pick = MOVES[cls, (m.random.random(len(df)) * MOVE_COUNTS[cls]).astype(np.int64)]
        return df.with_columns(
            x=pl.Series(x + DX[pick]),
            y=pl.Series(y + DY[pick]),
            energy=pl.col("energy") - 1,
            key=pl.Series(m.random.random(len(df))),
        ).with_columns(cell=pl.col("x") * m.height + pl.col("y"))

    def settle(self, df: pl.DataFrame) -> None:
        """Death below zero, then a split with the reproduction probability (newborns: same cell)."""
        df = df.filter(pl.col("energy") >= 0)
        split = pl.Series(self.model.random.random(len(df)) <= self.reproduction_prob)
        df = df.with_columns(energy=pl.when(split).then(pl.col("energy") / 2).otherwise(pl.col("energy")))
        born = df.filter(split).select("x", "y", "energy")
        born = born.with_columns(unique_id=pl.Series(self.model.new_ids(len(born)), dtype=pl.Int64))
        self.agents = pl.concat(
            [df.select("unique_id", "x", "y", "energy"), born.select("unique_id", "x", "y", "energy")]
        )


class Sheep(Animals):
    def step(self) -> None:
        m = self.model
        df = self.walk()
        grown = m.grown.reshape(-1)
        df = df.with_columns(grown=pl.Series(grown[df["cell"].to_numpy()]))
        eaters = df.filter("grown").group_by("cell").agg(pl.col("unique_id").sort_by("key").first())
        grown[eaters["cell"].to_numpy()] = False
        df = df.with_columns(
            energy=pl.when(pl.col("unique_id").is_in(eaters["unique_id"].implode()))
            .then(pl.col("energy") + self.delta_energy)
            .otherwise(pl.col("energy"))
        )
        self.settle(df)


class Wolves(Animals):
    def step(self) -> None:
        m = self.model
        df = self.walk().with_columns(rank=pl.col("key").rank("ordinal").over("cell"))
        prey = m.sheep.agents.with_columns(
            cell=pl.col("x") * m.height + pl.col("y"), key=pl.Series(m.random.random(len(m.sheep.agents)))
        ).with_columns(rank=pl.col("key").rank("ordinal").over("cell"))
        meals = df.select("unique_id", "cell", "rank").join(
            prey.select(pl.col("unique_id").alias("victim"), "cell", "rank"), on=["cell", "rank"], how="inner"
        )
        m.sheep.agents = m.sheep.agents.filter(~pl.col("unique_id").is_in(meals["victim"].implode()))
        df = df.with_columns(
            energy=pl.when(pl.col("unique_id").is_in(meals["unique_id"].implode()))
            .then(pl.col("energy") + self.delta_energy)
            .otherwise(pl.col("energy"))
        )
        self.settle(df)


class WolfSheep(ModelDF):
    def __init__(self, size: str, seed: int) -> None:
        super().__init__(seed)
        p = sizes.WOLFSHEEP[size]
        self.width, self.height, self.regrowth = p["width"], p["height"], p["regrowth"]
        self.sheep = Sheep(self, p["sheep"], p["sheep_p"], sizes.SHEEP_GAIN)
        self.wolves = Wolves(self, p["wolves"], p["wolf_p"], sizes.WOLF_GAIN)
        self.agents += [self.sheep, self.wolves]
        self.grown = self.random.integers(2, size=(self.width, self.height)).astype(bool)
        self.countdown = np.where(
            self.grown, self.regrowth, self.random.integers(self.regrowth, size=self.grown.shape)
        )

    def new_ids(self, n: int) -> np.ndarray:
        ids = np.arange(self.current_id, self.current_id + n, dtype=np.int64)
        self.current_id += n
        return ids

    def step(self) -> None:
        self.sheep.step()
        self.wolves.step()
        bare = ~self.grown
        ready = bare & (self.countdown <= 0)
        self.grown[ready] = True
        self.countdown[ready] = self.regrowth
        self.countdown[bare & ~ready] -= 1

    def counts(self) -> dict[str, int]:
        return {"sheep": len(self.sheep.agents), "wolf": len(self.wolves.agents)}


class Birds(AgentSetPolars):
    def __init__(self, model: ModelDF, n: int) -> None:
        super().__init__(model)
        rng = model.random
        e = model.extent
        self.add(
            pl.DataFrame(
                {
                    "unique_id": np.arange(n, dtype=np.int64),
                    "x": rng.random(n) * e,
                    "y": rng.random(n) * e,
                    "vx": rng.uniform(-1, 1, n),
                    "vy": rng.uniform(-1, 1, n),
                }
            )
        )

    def step(self) -> None:
        m = self.model
        e, half = m.extent, m.extent / 2
        for i in m.random.permutation(len(self.agents)).tolist():
            df = self.agents
            me = df.row(i, named=True)
            hx = pl.col("x") - me["x"]
            hy = pl.col("y") - me["y"]
            nb = (
                df.with_columns(
                    hx=pl.when(hx > half).then(hx - e).when(hx < -half).then(hx + e).otherwise(hx),
                    hy=pl.when(hy > half).then(hy - e).when(hy < -half).then(hy + e).otherwise(hy),
                )
                .with_columns(d=(pl.col("hx") ** 2 + pl.col("hy") ** 2).sqrt())
                .filter((pl.col("d") <= m.vision) & (pl.col("unique_id") != me["unique_id"]))
            )
            close = pl.col("d") < sizes.SEPARATION
            s = nb.select(
                pl.len().alias("n"),
                pl.sum("hx"),
                pl.sum("hy"),
                pl.col("hx").filter(close).sum().alias("cx"),
                pl.col("hy").filter(close).sum().alias("cy"),
                pl.sum("vx"),
                pl.sum("vy"),
            ).row(0, named=True)
            n = max(s["n"], 1)
            vx = me["vx"] + (s["hx"] * sizes.COHERE - s["cx"] * sizes.SEPARATE + s["vx"] * sizes.MATCH) / n
            vy = me["vy"] + (s["hy"] * sizes.COHERE - s["cy"] * sizes.SEPARATE + s["vy"] * sizes.MATCH) / n
            norm = (vx * vx + vy * vy) ** 0.5
            vx, vy = vx / norm, vy / norm
            row = pl.int_range(pl.len()) == i
            self.agents = df.with_columns(
                x=pl.when(row).then((me["x"] + vx * sizes.SPEED) % e).otherwise(pl.col("x")),
                y=pl.when(row).then((me["y"] + vy * sizes.SPEED) % e).otherwise(pl.col("y")),
                vx=pl.when(row).then(vx).otherwise(pl.col("vx")),
                vy=pl.when(row).then(vy).otherwise(pl.col("vy")),
            )


class Flocking(ModelDF):
    def __init__(self, size: str, seed: int) -> None:
        super().__init__(seed)
        p = sizes.FLOCKING[size]
        self.extent, self.vision = p["extent"], p["vision"]
        self.birds = Birds(self, p["birds"])
        self.agents += self.birds

    def step(self) -> None:
        self.birds.step()

    def counts(self) -> dict[str, int]:
        return {"birds": len(self.birds.agents)}


MODELS = {"wolfsheep": WolfSheep, "flocking": Flocking}
