"""The sequential flocking rule of SPEC.md 2.3 in plain numpy and Python floats, written apart from
the world's kernels: the reference its trajectories must equal bit for bit."""

from __future__ import annotations

import math

import numpy as np


def run(
    pos0: np.ndarray,
    vel0: np.ndarray,
    orders: np.ndarray,
    extent: float,
    r: float,
    speed: float = 1.0,
    cohere: float = 0.03,
    separation: float = 1.0,
    separate: float = 0.015,
    match: float = 0.05,
) -> tuple[np.ndarray, np.ndarray]:
    pos = pos0.astype(np.float64).copy()
    vel = vel0.astype(np.float64).copy()
    half = extent / 2
    for order in orders:
        for i in order:
            h = pos - pos[i]
            h[h > half] -= extent
            h[h < -half] += extent
            dist = np.sqrt(h[:, 0] * h[:, 0] + h[:, 1] * h[:, 1])
            nbrs = [j for j in range(len(pos)) if j != i and dist[j] <= r]
            sum_h = [0.0, 0.0]
            sum_close = [0.0, 0.0]
            sum_v = [0.0, 0.0]
            for j in nbrs:  # one term at a time, ascending j
                for a in (0, 1):
                    sum_h[a] += float(h[j, a])
                    sum_v[a] += float(vel[j, a])
                    if dist[j] < separation:
                        sum_close[a] += float(h[j, a])
            n = max(len(nbrs), 1)
            v = [
                float(vel[i, a]) + (sum_h[a] * cohere + -sum_close[a] * separate + sum_v[a] * match) / n
                for a in (0, 1)
            ]
            norm = math.sqrt(v[0] * v[0] + v[1] * v[1])
            v = [v[0] / norm, v[1] / norm]
            vel[i] = v
            pos[i] = [(float(pos[i, a]) + v[a] * speed) % extent for a in (0, 1)]
    return pos, vel
