"""WolfSheep exactly as SPEC.md 1.4 states it, one agent at a time, in plain Python: the
independent implementation the engine's vectorised world is compared with (statistics only:
the random streams differ)."""

from __future__ import annotations

import numpy as np

from ouroboros.worlds.wolfsheep import make_params


def run(preset: str, seed: int, steps: int) -> list[tuple[int, int]]:
    """(sheep, wolves) after each step."""
    p = make_params(preset)
    w, h, regrow = p["width"], p["height"], p["grass_regrowth_ticks"]
    rng = np.random.default_rng(seed)
    animals: dict[int, list] = {}  # id -> [kind, x, y, energy]
    next_id = 0
    for kind, n, gain in (
        ("s", p["initial_sheep"], p["sheep_gain"]),
        ("w", p["initial_wolves"], p["wolf_gain"]),
    ):
        for _ in range(n):
            animals[next_id] = [
                kind,
                int(rng.integers(w)),
                int(rng.integers(h)),
                float(rng.integers(2 * gain)),
            ]
            next_id += 1
    grown = rng.integers(2, size=(w, h)).astype(bool)
    countdown = np.where(grown, regrow, rng.integers(regrow, size=(w, h)))
    moves = [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if (dx, dy) != (0, 0)]
    history = []
    for _ in range(steps):
        for kind, gain, prob in (
            ("s", p["sheep_gain"], p["sheep_reproduce_ppm"] / 1e6),
            ("w", p["wolf_gain"], p["wolf_reproduce_ppm"] / 1e6),
        ):
            ids = [i for i, a in animals.items() if a[0] == kind]
            rng.shuffle(ids)
            for i in ids:
                a = animals.get(i)
                if a is None:
                    continue
                options = [
                    (a[1] + dx, a[2] + dy) for dx, dy in moves if 0 <= a[1] + dx < w and 0 <= a[2] + dy < h
                ]
                a[1], a[2] = options[int(rng.integers(len(options)))]
                a[3] -= 1
                if kind == "s":
                    if grown[a[1], a[2]]:
                        a[3] += gain
                        grown[a[1], a[2]] = False
                else:
                    prey = [j for j, b in animals.items() if b[0] == "s" and b[1] == a[1] and b[2] == a[2]]
                    if prey:
                        del animals[prey[int(rng.integers(len(prey)))]]
                        a[3] += gain
                if a[3] < 0:
                    del animals[i]
                elif rng.random() <= prob:
                    a[3] /= 2
                    animals[next_id] = [kind, a[1], a[2], a[3]]
                    next_id += 1
        bare = ~grown
        ready = bare & (countdown <= 0)
        grown[ready] = True
        countdown[ready] = regrow
        countdown[bare & ~ready] -= 1
        sheep = sum(1 for a in animals.values() if a[0] == "s")
        history.append((sheep, len(animals) - sheep))
    return history
