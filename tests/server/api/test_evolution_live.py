"""petri's evolution loop in the live runtime: a cycle is evaluated off the tick path, so the dish
keeps ticking while it runs, and the accepted trait still reaches the dish (through the governor's
active pointer, at a tick boundary). One cycle at a time: an operator's trigger meanwhile is
answered at once (202) and its cycle runs after."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ouroboros.server.api import AuthStore, create_app
from ouroboros.server.runtime import Runtime

from .conftest import OPTIONS, wait_for

PACE_HZ = OPTIONS.ticks_per_second or 30.0


@pytest.fixture
def dish(tmp_path: Path) -> Iterator[tuple[Runtime, TestClient, dict[str, str]]]:
    runtime = Runtime(tmp_path / "data", ("petri",), OPTIONS)
    auth = AuthStore(runtime.data_dir)
    app = create_app(runtime, auth=auth)
    runtime.start()
    try:
        token = auth.create_user("op1", "operator", "test")["token"]
        with TestClient(app) as client:
            yield runtime, client, {"Authorization": f"Bearer {token}"}
    finally:
        runtime.stop()
        auth.close()


@pytest.mark.slow
def test_the_dish_ticks_on_while_a_cycle_is_evaluated_and_the_trait_lands(
    dish: tuple[Runtime, TestClient, dict[str, str]],
) -> None:
    runtime, client, op = dish
    petri = runtime.runner("petri")
    assert petri.evolution.loop is not None
    wait_for(lambda: petri.world.tick >= 5)
    outcome: dict[str, Any] = {}
    cycle = threading.Thread(target=lambda: outcome.update(petri.evolution.evolve("see it tick", "op1")))
    cycle.start()
    wait_for(lambda: petri.evolution.evolving, timeout_s=30)
    # an operator's request meanwhile is accepted at once (202); its cycle runs after this one
    second: dict[str, Any] = {}

    def ask() -> None:
        second["response"] = client.post("/api/evolution/trigger", headers=op, json={"reason": "another"})
        second["evolving_then"] = petri.evolution.evolving

    request = threading.Thread(target=ask)
    request.start()
    # while the cycles are under way the dish ticks (no long stall)
    samples: list[tuple[float, int]] = []
    while petri.evolution.evolving or cycle.is_alive() or request.is_alive():
        samples.append((time.monotonic(), petri.world.tick))
        time.sleep(0.05)
    cycle.join(60)
    request.join(60)
    accepted = second["response"]
    assert accepted.status_code == 202, accepted.text
    assert second["evolving_then"], "the answer waited for the cycle under way"
    trigger_id = accepted.json()["trigger_id"]
    assert trigger_id == accepted.headers["x-request-id"]

    def ended() -> dict[str, Any] | None:
        return next(
            (e for e in runtime.feed.recent(1000) if e.get("trigger_id") == trigger_id and "cycle" in e),
            None,
        )

    wait_for(lambda: ended() is not None, timeout_s=60)
    done = ended()
    assert done is not None and done["action"] == "outcome", done
    assert done["cycle"] > outcome["cycle"]
    assert len(samples) >= 10, "the cycle was too quick to watch"
    ticks, seconds = samples[-1][1] - samples[0][1], samples[-1][0] - samples[0][0]
    assert ticks >= 10 and ticks >= seconds * PACE_HZ / 4, (ticks, seconds)
    changes = [t for (t, tick), (_, before) in zip(samples[1:], samples, strict=False) if tick != before]
    gaps = [b - a for a, b in zip([samples[0][0], *changes], [*changes, samples[-1][0]], strict=False)]
    assert max(gaps) < 2.5, f"the dish stalled for {max(gaps):.1f} s"
    # the cycle's numbers are of the tick it was planned at, and its trait reaches the live dish
    assert outcome["type"] == "swapped" and outcome["via"] == "governor", outcome
    history = client.get("/api/evolution/history?limit=500", headers=op).json()
    assert [e["cycle"] for e in history] == sorted((e["cycle"] for e in history), reverse=True)
    # newest first: the last cycle's outcome, and its cost (time, fork ticks, candidates) — the
    # cost is written when the evaluation ends, a delivered change's outcome at the next tick
    last = [e for e in history if e["cycle"] == done["cycle"]]
    assert history[0]["cycle"] == done["cycle"]
    assert next(e["type"] for e in last if e["type"] != "cost") == done["outcome"]
    (cost,) = [e for e in last if e["type"] == "cost"]
    assert cost["elapsed_ms"] >= 0 and cost["candidates"] >= 1
    planned = next(e for e in history if e["type"] == "plan" and e["cycle"] == outcome["cycle"])["tick"]
    assert planned <= samples[0][1] and outcome["tick"] > planned

    def landed() -> bool:
        with petri.lock:
            traits = petri.world.resources.get("scripted_traits") or []
            return any(e["id"] == outcome["trait_id"] and not e["retiring"] for e in traits)

    wait_for(landed)
    active = petri.call(lambda: petri.governor.active())
    wait_for(lambda: petri.world.resources.get("gameplay_version") == active)
    assert any(
        e["kind"] == "evolution" and e.get("event", {}).get("type") == "swapped"
        for e in runtime.feed.recent(500)
    )


def test_stopping_the_runtime_mid_cycle_delivers_nothing(tmp_path: Path) -> None:
    runtime = Runtime(tmp_path / "data", ("petri",), OPTIONS)
    runtime.start()
    petri = runtime.runner("petri")
    errors: list[BaseException] = []

    def run() -> None:
        try:
            petri.evolution.evolve("interrupted", "op1")
        except BaseException as exc:
            errors.append(exc)

    cycle = threading.Thread(target=run)
    cycle.start()
    wait_for(lambda: petri.evolution.evolving, timeout_s=30)
    started = time.monotonic()
    runtime.stop()
    cycle.join(30)
    assert time.monotonic() - started < 15  # at most one candidate's evaluation
    assert not cycle.is_alive()
    events = [e["event"] for e in runtime.feed.recent(500) if e["kind"] == "evolution"]
    assert not any(e["type"] in ("governed", "swapped") for e in events), events
    # the outcome is a refusal as data, or the server stopping: never a delivered change
    assert errors or any(e["type"] == "rejected" for e in events)
