"""Prometheus metrics of a runtime (own registry, HTTP timing by route template, world gauges,
stream counters) and the JSON log formatter."""

from __future__ import annotations

import asyncio
import io
import json
import logging

from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from ouroboros.server.api.logs import JsonFormatter, json_handler
from ouroboros.server.stream import StreamHub
from ouroboros.server.stream.metrics import RuntimeMetrics, metrics_response, mount_metrics
from ouroboros.worlds import build_world
from ouroboros.worlds.neon.economy import money_supply
from tests.server.conftest import run


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _text(registry: CollectorRegistry) -> str:
    return bytes(metrics_response(registry).body).decode()


def _scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return _samples(response.text)


def test_http_requests_are_counted_and_timed_by_route_template() -> None:
    app = FastAPI()
    metrics = RuntimeMetrics()
    mount_metrics(app, metrics)

    @app.get("/api/mutations/{mid}/source")
    def source(mid: str) -> dict[str, str]:
        return {"id": mid}

    client = TestClient(app)
    for mid in ("a", "b", "c"):
        assert client.get(f"/api/mutations/{mid}/source").status_code == 200
    assert client.get("/no/such/path/1").status_code == 404
    assert client.get("/no/such/path/2").status_code == 404
    s = _scrape(client)
    route = "/api/mutations/{mid}/source"
    key = (("method", "GET"), ("route", route), ("status", "200"))
    assert s[("ouroboros_http_requests_total", key)] == 3
    assert (
        s[("ouroboros_http_requests_total", (("method", "GET"), ("route", "<unmatched>"), ("status", "404")))]
        == 2
    )
    assert s[("ouroboros_http_request_seconds_count", (("method", "GET"), ("route", route)))] == 3
    assert not any("/no/such" in str(k) for k in s)  # raw paths never become labels


def test_two_runtimes_in_one_process_keep_separate_series() -> None:
    a, b = RuntimeMetrics(), RuntimeMetrics()
    a.observe_tick("petri", 0.004)
    a.observe_tick("petri", 0.040)
    b.observe_tick("petri", 0.001)
    sa = _samples(_text(a.registry))
    sb = _samples(_text(b.registry))
    assert sa[("ouroboros_tick_seconds_count", (("world", "petri"),))] == 2
    assert sa[("ouroboros_tick_seconds_bucket", (("le", "0.005"), ("world", "petri")))] == 1
    assert sb[("ouroboros_tick_seconds_count", (("world", "petri"),))] == 1


def test_world_gauges_follow_petri_population_and_neon_money_supply() -> None:
    metrics = RuntimeMetrics()
    petri = build_world("petri", 5, {"entities": 120})
    petri.run(2)
    neon = build_world("neon", 5, {})
    neon.run(2)
    metrics.observe_world("petri", petri)
    metrics.observe_world("neon", neon)
    s = _samples(_text(metrics.registry))
    assert s[("ouroboros_population", (("world", "petri"),))] == petri.count("Body")
    assert s[("ouroboros_entities", (("world", "petri"),))] == petri.entity_count
    assert s[("ouroboros_entities", (("world", "neon"),))] == neon.entity_count > 0
    assert s[("ouroboros_money_supply_credits", (("world", "neon"),))] == money_supply(neon)
    assert ("ouroboros_money_supply_credits", (("world", "petri"),)) not in s


def test_stream_counters_and_client_gauge_come_from_the_watched_hubs() -> None:
    async def main() -> None:
        import numpy as np

        from ouroboros.server.stream import ENTITY_DTYPE, RESOURCE_DTYPE, Frame

        metrics = RuntimeMetrics()
        hub = StreamHub("petri", frame_queue=1)
        metrics.watch_hub("petri", hub)
        blocked = asyncio.Event()

        async def never(payload: object) -> None:
            await blocked.wait()

        client = hub.attach(never)
        task = asyncio.create_task(client.run())
        frame = Frame("petri", 0, np.zeros(1, dtype=ENTITY_DTYPE), np.zeros(0, dtype=RESOURCE_DTYPE))
        for _ in range(10):
            hub.publish(frame)
            await asyncio.sleep(0)
        s = _samples(_text(metrics.registry))
        assert s[("ouroboros_ws_clients", (("world", "petri"),))] == 1
        assert (
            s[("ouroboros_stream_frames_dropped_total", (("world", "petri"),))] == client.frames_dropped == 8
        )
        blocked.set()
        async with asyncio.timeout(5):  # an event wait: the two frames it held are sent
            while client.frames_sent < 2:
                await asyncio.sleep(0)
        hub.detach(client)
        task.cancel()
        s = _samples(_text(metrics.registry))
        assert s[("ouroboros_ws_clients", (("world", "petri"),))] == 0
        assert s[("ouroboros_stream_frames_sent_total", (("world", "petri"),))] == 2

    run(main())


def test_a_bare_registry_is_served_without_request_counting() -> None:
    app = FastAPI()
    registry = CollectorRegistry()
    mount_metrics(app, registry)
    client = TestClient(app)
    client.get("/metrics")
    assert "ouroboros_http_requests_total" not in client.get("/metrics").text


def test_json_log_lines_are_one_object_each_with_extras_and_tracebacks() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("ouroboros.test.jsonlogs")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = json_handler(stream)
    logger.addHandler(handler)
    try:
        logger.info("tick %d\nslow", 7, extra={"world": "petri", "path": object.__name__})
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["message"] == "tick 7\nslow" and first["level"] == "INFO"
    assert first["logger"] == "ouroboros.test.jsonlogs" and first["world"] == "petri"
    assert first["ts"].endswith("+00:00")
    assert second["level"] == "ERROR" and "ValueError: boom" in second["exc"]
    assert "args" not in first and "msg" not in first


def test_values_json_cannot_hold_are_written_as_text() -> None:
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "m", None, None)
    record.thing = {1, 2}
    assert json.loads(JsonFormatter().format(record))["thing"] in ("{1, 2}", "{2, 1}")
