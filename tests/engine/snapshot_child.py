"""Run by test_snapshot in a separate interpreter: restore a snapshot into a freshly built toy
world, run it on, and print the tick and digest as JSON.

Usage: snapshot_child.py SNAPSHOT_FILE SEED TICKS
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from toy import build_world


def main() -> None:
    path, seed, ticks = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    world = build_world(seed)
    world.restore(path.read_bytes())
    restored = world.digest().hex
    report = world.run(ticks)
    assert report is not None and report.digest is not None
    print(json.dumps({"restored": restored, "tick": world.tick, "digest": report.digest.hex}))


if __name__ == "__main__":
    main()
