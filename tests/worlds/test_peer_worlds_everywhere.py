"""WolfSheep and Flocking are selectable everywhere a world is: their stream frames show what their
KPIs count, ``run``/``snapshot``/``replay`` take them, and ``go --world`` runs each live with its
stream serving frames."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ouroboros.cli import app
from ouroboros.engine import World
from ouroboros.server.api import AuthStore, create_app
from ouroboros.server.runtime import Runtime, RuntimeOptions
from ouroboros.server.stream import decode_binary_frame, encode_frame, frame_source, world_kinds
from ouroboros.worlds import build_world, world_kpis
from ouroboros.worlds.flocking.stream import KIND_BIRD, SCALE
from ouroboros.worlds.flocking.systems import state_arrays
from ouroboros.worlds.wolfsheep.stream import KIND_SHEEP, KIND_WOLF

PEERS = ("wolfsheep", "flocking")
cli = CliRunner()


def _ticked(name: str, ticks: int) -> World:
    world = build_world(name, 3, {"preset": "small"})
    world.start()
    for _ in range(ticks):
        world.step()
    return world


def test_every_world_streams_with_its_own_kind_code() -> None:
    kinds = world_kinds()
    assert set(PEERS) <= set(kinds) and len(set(kinds.values())) == len(kinds)


def test_a_wolfsheep_frame_shows_every_animal_and_every_grown_cell_without_changing_the_world() -> None:
    world = _ticked("wolfsheep", 6)
    before = world.digest().hex
    frame = frame_source("wolfsheep")(world)
    kpis = world_kpis(world)
    kinds = frame.entities["kind"]
    assert int((kinds == KIND_SHEEP).sum()) == kpis["sheep"]
    assert int((kinds == KIND_WOLF).sum()) == kpis["wolves"]
    assert len(frame.resources) == kpis["grass"]
    width = world.resources["params"]["width"]
    assert (frame.resources["x"] == frame.resources["id"] % width).all()
    assert world.digest().hex == before
    wire = encode_frame("wolfsheep", world.tick, frame.entities, frame.resources)
    if isinstance(wire, bytes):  # 200 entities or more
        decoded = decode_binary_frame(wire)
        assert decoded.world == "wolfsheep" and decoded.entities.tobytes() == frame.entities.tobytes()
    else:
        doc = json.loads(wire)
        assert doc["world"] == "wolfsheep" and len(doc["entities"]) == len(frame.entities)


def test_a_flocking_frame_puts_every_bird_at_its_position() -> None:
    world = _ticked("flocking", 3)
    before = world.digest().hex
    frame = frame_source("flocking")(world)
    pos = state_arrays(world)["pos"]
    assert len(frame.entities) == len(pos) and (frame.entities["kind"] == KIND_BIRD).all()
    assert frame.entities["x"].tolist() == np.floor(pos[:, 0] * SCALE).astype(int).tolist()
    assert frame.entities["y"].tolist() == np.floor(pos[:, 1] * SCALE).astype(int).tolist()
    assert world.digest().hex == before


def _json(args: list[Any]) -> dict[str, Any]:
    got = cli.invoke(app, [str(a) for a in args])
    assert got.exit_code == 0, got.output
    out: dict[str, Any] = json.loads(got.stdout)
    return out


def test_wolfsheep_runs_saves_replays_and_resumes(tmp_path: Path) -> None:
    snap, log = tmp_path / "ws.snapshot", tmp_path / "ws.log"
    ran = _json(["run", "--world", "wolfsheep", "--ticks", 8, "--seed", 2, "--save", snap, "--log", log,
                  "--json"])  # fmt: skip
    assert {"sheep", "wolves"} <= set(ran["kpis"])
    info = _json(["snapshot", "info", snap, "--json"])
    assert info["world"] == "wolfsheep" and info["tick"] == 8
    replayed = _json(["replay", log, "--json"])
    assert replayed["ok"] is True and replayed["final_digest"] == ran["digest"]
    resumed = _json(["run", "--from", snap, "--ticks", 2, "--json"])
    straight = _json(["run", "--world", "wolfsheep", "--ticks", 10, "--seed", 2, "--json"])
    assert resumed["digest"] == straight["digest"]


@pytest.mark.parametrize("name", PEERS)
def test_go_runs_the_world_and_saves_it(name: str, tmp_path: Path) -> None:
    args = ["go", "--world", name, "--max-ticks", 5, "--ticks-per-second", 0, "--data", tmp_path]
    got = cli.invoke(app, [str(a) for a in [*args, "--port", 0, "--no-browser", "--optimizer", "off"]])
    assert got.exit_code == 0, got.output
    assert f"new {name} world" in got.output
    assert f"saved snapshot at tick 5 to {tmp_path / name / (name + '.snapshot')}" in got.output


def test_go_refuses_entities_for_a_world_sized_by_presets(tmp_path: Path) -> None:
    got = cli.invoke(app, ["go", "--world", "flocking", "--entities", "10", "--data", str(tmp_path)])
    assert got.exit_code == 2 and "--entities" in got.output


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    data = tmp_path_factory.mktemp("peers")
    options = RuntimeOptions(ticks_per_second=20, optimizer=False, council=False)
    runtime = Runtime(data, PEERS, options)
    auth = AuthStore(data)
    first = auth.ensure_first_admin()
    assert first is not None
    api = create_app(runtime, auth=auth)
    runtime.start()
    try:
        with TestClient(api) as client:
            login = client.post("/api/auth/login", json={"secret": first.one_time_secret})
            yield client, login.json()["token"]
    finally:
        runtime.stop()
        auth.close()


@pytest.mark.parametrize("name", PEERS)
def test_the_live_stream_serves_frames_of_the_world(served: tuple[TestClient, str], name: str) -> None:
    client, token = served
    state = client.get(f"/api/world/state?world={name}", headers={"Authorization": f"Bearer {token}"})
    assert state.status_code == 200 and state.json()["world"] == name
    with client.websocket_connect(f"/ws/world-stream?world={name}&token={token}") as ws:
        for _ in range(200):  # feed messages may come first
            msg = ws.receive()
            if msg.get("bytes"):
                frame = decode_binary_frame(msg["bytes"])
                assert frame.world == name and len(frame.entities) > 0
                return
            doc = json.loads(msg.get("text") or "{}")
            if doc.get("type") == "frame":
                assert doc["world"] == name and doc["entities"]
                return
    pytest.fail("no frame came")
