"""The two peer models' sizes, as SPEC.md (shared/peer-models) gives them: plain data, imported by
every framework's implementation (each runs in its own interpreter and virtual environment)."""

from __future__ import annotations

WOLFSHEEP = {
    "small": {
        "width": 25,
        "height": 25,
        "sheep": 60,
        "wolves": 40,
        "regrowth": 20,
        "sheep_p": 0.2,
        "wolf_p": 0.1,
    },
    "large": {
        "width": 100,
        "height": 100,
        "sheep": 1000,
        "wolves": 500,
        "regrowth": 10,
        "sheep_p": 0.4,
        "wolf_p": 0.2,
    },
    "x10": {
        "width": 316,
        "height": 316,
        "sheep": 10000,
        "wolves": 5000,
        "regrowth": 10,
        "sheep_p": 0.4,
        "wolf_p": 0.2,
    },
    "x100": {
        "width": 1000,
        "height": 1000,
        "sheep": 100000,
        "wolves": 50000,
        "regrowth": 10,
        "sheep_p": 0.4,
        "wolf_p": 0.2,
    },
}
SHEEP_GAIN = 5
WOLF_GAIN = 13

FLOCKING = {
    "small": {"birds": 200, "extent": 100.0, "vision": 5.0},
    "large": {"birds": 400, "extent": 150.0, "vision": 15.0},
    "x10": {"birds": 4000, "extent": 475.0, "vision": 15.0},
    "x100": {"birds": 40000, "extent": 1500.0, "vision": 15.0},
}
SPEED = 1.0
COHERE = 0.03
SEPARATION = 1.0
SEPARATE = 0.015
MATCH = 0.05
STEPS = 100
