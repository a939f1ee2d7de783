"""Prometheus metrics of one runtime, in its own ``CollectorRegistry``.

What it promises:

- Every ``RuntimeMetrics`` owns its registry (never the process-global one), so two runtimes in
  one process, or two test apps, keep separate series.
- Series (labels in brackets): ``ouroboros_tick_seconds`` histogram [world];
  ``ouroboros_population`` and ``ouroboros_entities`` gauges [world];
  ``ouroboros_money_supply_credits`` and ``ouroboros_inflation_permille`` gauges [world] (neon);
  ``ouroboros_stream_frames_sent_total`` / ``ouroboros_stream_frames_dropped_total`` /
  ``ouroboros_stream_feed_dropped_total`` counters and ``ouroboros_ws_clients`` gauge [world], read
  from the watched ``StreamHub``s when scraped; ``ouroboros_http_requests_total`` counter [method,
  route, status] and ``ouroboros_http_request_seconds`` histogram [method, route]. Routes are
  the app's path templates (``/api/mutations/{id}/source``), never raw paths, so a scanner
  cannot grow the label set; unmatched paths share one label.
- Recording never raises into the caller's tick or request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from ouroboros.engine import World
    from ouroboros.server.stream import StreamHub

TICK_BUCKETS_S = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.033, 0.05, 0.1, 0.25, 1.0)
HTTP_BUCKETS_S = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
UNMATCHED_ROUTE = "<unmatched>"


class _HubCollector(Collector):
    """Reads the stream hubs' own counters at scrape time (the hub stays free of prometheus)."""

    def __init__(self) -> None:
        self.hubs: dict[str, StreamHub] = {}
        self._lock = threading.Lock()

    def add(self, world: str, hub: StreamHub) -> None:
        with self._lock:
            self.hubs[world] = hub

    def collect(self) -> Iterator[Any]:
        sent = CounterMetricFamily("ouroboros_stream_frames_sent", "Frames sent to clients", labels=["world"])
        dropped = CounterMetricFamily(
            "ouroboros_stream_frames_dropped",
            "Frames dropped for slow clients (newest wins)",
            labels=["world"],
        )
        feed = CounterMetricFamily(
            "ouroboros_stream_feed_dropped", "Feed messages dropped for slow clients", labels=["world"]
        )
        clients = GaugeMetricFamily(
            "ouroboros_ws_clients", "World-stream clients connected", labels=["world"]
        )
        with self._lock:
            hubs = sorted(self.hubs.items())
        for world, hub in hubs:
            sent.add_metric([world], hub.frames_sent)
            dropped.add_metric([world], hub.frames_dropped)
            feed.add_metric([world], hub.feed_dropped)
            clients.add_metric([world], len(hub.clients))
        yield from (sent, dropped, feed, clients)


class RuntimeMetrics:
    """The metrics of one runtime; ``registry`` is what ``/metrics`` shows."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        self.tick_seconds = Histogram(
            "ouroboros_tick_seconds", "Wall time of one tick", ["world"], buckets=TICK_BUCKETS_S, registry=r
        )
        self.population = Gauge(
            "ouroboros_population", "Molbots alive / players online", ["world"], registry=r
        )
        self.entities = Gauge("ouroboros_entities", "Entities alive in the world", ["world"], registry=r)
        self.money_supply = Gauge(
            "ouroboros_money_supply_credits", "Credits held by players (neon)", ["world"], registry=r
        )
        self.inflation = Gauge(
            "ouroboros_inflation_permille",
            "Money supply change since the last economy report",
            ["world"],
            registry=r,
        )
        self.http_requests = Counter(
            "ouroboros_http_requests", "HTTP requests answered", ["method", "route", "status"], registry=r
        )
        self.http_seconds = Histogram(
            "ouroboros_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=HTTP_BUCKETS_S,
            registry=r,
        )
        self._hubs = _HubCollector()
        r.register(self._hubs)

    def watch_hub(self, world: str, hub: StreamHub) -> None:
        """Expose ``hub``'s frames sent/dropped and client count under ``world``."""
        self._hubs.add(world, hub)

    def observe_tick(self, world: str, seconds: float) -> None:
        self.tick_seconds.labels(world).observe(seconds)

    def observe_world(self, name: str, world: World) -> None:
        """Entities, and the gauges the world reports (``spec.metrics``: population, money supply,
        inflation), read from ``world`` between ticks."""
        from ouroboros.worlds import spec_of

        self.entities.labels(name).set(world.entity_count)
        gauges = spec_of(world).metrics
        if gauges is None:
            return
        values = gauges(world)
        for key, gauge in (
            ("population", self.population),
            ("money_supply", self.money_supply),
            ("inflation_permille", self.inflation),
        ):
            if key in values:
                gauge.labels(name).set(values[key])

    def observe_http(self, method: str, route: str, status: int, seconds: float) -> None:
        self.http_requests.labels(method, route, str(status)).inc()
        self.http_seconds.labels(method, route).observe(seconds)


def metrics_response(registry: CollectorRegistry) -> Response:
    """The Prometheus text exposition of ``registry``."""
    return Response(content=generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def _route_of(request: Request) -> str:
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


def mount_metrics(
    app: FastAPI, registry: RuntimeMetrics | CollectorRegistry, *, path: str = "/metrics"
) -> None:
    """Add ``GET {path}``; given a ``RuntimeMetrics``, also count and time every HTTP request."""
    reg = registry.registry if isinstance(registry, RuntimeMetrics) else registry

    # async: served on the event loop, where the stream hubs count, so a scrape sees consistent sums
    @app.get(path, include_in_schema=False)
    async def metrics() -> Response:
        return metrics_response(reg)

    if not isinstance(registry, RuntimeMetrics):
        return
    runtime = registry

    @app.middleware("http")
    async def count_requests(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        t0 = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            runtime.observe_http(request.method, _route_of(request), status, time.perf_counter() - t0)

    _ = metrics, count_requests
