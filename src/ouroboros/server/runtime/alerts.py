"""Alerts: what an operator must hear about even when nobody is looking at the dashboard.

``AlertCenter`` listens to the runtime's feed and raises an alert for:

- ``rollback``: a rollback an operator asked for (``governance``/``rollback``), or an automatic one
  (a verdict, director or evolution event whose state is ``rolled_back``);
- ``killswitch``: the kill-switch engaged or released;
- ``fault_storm``: ``storm_errors`` errors of one world within ``storm_window_s`` (once per window);
- ``restart_loop``: ``loop_restarts`` restarts of one process within ``loop_window_s`` (an event
  with ``action`` ``restart``, an ``error`` event of a dying tick thread or worker, or the server
  itself started again and again: ``record_start``, kept in ``DATA/starts.jsonl``);
- ``economic_hold``: an economic guard holding a change (an event with ``action`` ``hold``, or a
  world KPI named ``held_*`` that grew between two samples: ``observe_kpis``);
- ``security``: a login lockout began;
- ``sandbox_restart``: a Python trait worker (``sandbox.python_worker``) was started again after a
  kill, a death or a recycling (and three within ``loop_window_s`` are a ``restart_loop``);
- ``cluster_restart`` / ``restart_loop``: the local cluster's supervisor (``ouroboros cluster up``
  on this data folder, found by ``DATA/cluster.json``) saw a process die / die again and again —
  read from its Redis alerts stream by ``watch_cluster`` every ``every_s``.

Anything else may raise one with ``raise_alert``. Alerts are kept in a bounded ring (newest last,
each with a ``seq``) for the dashboard's toasts and Alerts page, and, with a webhook URL, POSTed
there as JSON by a background thread: retried with backoff, dropped (and counted) when the queue
is full, so a slow or dead receiver never blocks a tick or a request.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import queue
import threading
import time
import urllib.request
import weakref
from collections import defaultdict, deque
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ouroboros.errors import BadInputError
from ouroboros.server.runtime.feed import Feed, _now

ALERTS_KEPT = 500
STARTS_FILE = "starts.jsonl"
WEBHOOK_QUEUE = 1000
WEBHOOK_TRIES = 5
WEBHOOK_TIMEOUT_S = 5.0


def check_webhook_url(url: str) -> str:
    """An ``http(s)://host[:port]/...`` URL, else ``BadInputError`` (the CLI's exit 2)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
        raise BadInputError(f"--alert-webhook must be an http:// or https:// URL, got {url!r}")
    return url


def _post_json(url: str, doc: dict[str, Any], timeout_s: float) -> None:
    body = json.dumps(doc, sort_keys=True, default=str).encode()
    req = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", "User-Agent": "ouroboros"}
    )
    with urllib.request.urlopen(req, timeout=timeout_s) as answer:
        answer.read()


class Webhook:
    """A background sender: ``offer`` never blocks; each alert is tried ``tries`` times, waiting
    ``backoff_s`` × 2ⁿ between tries (``sleep`` injectable for tests)."""

    def __init__(
        self,
        url: str,
        *,
        post: Callable[[str, dict[str, Any], float], None] = _post_json,
        tries: int = WEBHOOK_TRIES,
        backoff_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = check_webhook_url(url)
        self._post, self._tries, self._backoff, self._sleep = post, max(1, tries), backoff_s, sleep
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=WEBHOOK_QUEUE)
        self.sent = self.failed = self.dropped = 0
        self.last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name="alert-webhook", daemon=True)
        self._thread.start()

    def offer(self, alert: dict[str, Any]) -> None:
        try:
            self._queue.put_nowait(alert)
        except queue.Full:
            self.dropped += 1

    def close(self, timeout_s: float = 2.0) -> None:
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)
        self._thread.join(timeout_s)

    def drain(self, timeout_s: float = 10.0) -> None:
        """Wait until every alert offered so far was sent or given up (tests, shutdown)."""
        deadline = time.monotonic() + timeout_s
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def _run(self) -> None:
        while True:
            alert = self._queue.get()
            try:
                if alert is None:
                    return
                self._deliver(alert)
            finally:
                self._queue.task_done()

    def _deliver(self, alert: dict[str, Any]) -> None:
        for attempt in range(self._tries):
            try:
                self._post(self.url, alert, WEBHOOK_TIMEOUT_S)
                self.sent += 1
                return
            except Exception as exc:  # any failure is retried, then counted; never raised
                self.last_error = f"{type(exc).__name__}: {exc}"
                if attempt + 1 < self._tries:
                    self._sleep(self._backoff * 2**attempt)
        self.failed += 1

    def status(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "sent": self.sent,
            "failed": self.failed,
            "dropped": self.dropped,
            "queued": self._queue.qsize(),
            "last_error": self.last_error,
        }


def _state_of(event: dict[str, Any]) -> str | None:
    """The state a verdict, director or evolution event reports, wherever it is nested."""
    for key in ("verdict", "event", "result"):
        inner = event.get(key)
        if isinstance(inner, dict):
            found = inner.get("state") or inner.get("outcome")
            if isinstance(found, str):
                return found
    found = event.get("state")
    return found if isinstance(found, str) else None


class AlertCenter:
    """The runtime's alerts: classified from the feed, kept in a ring, sent to a webhook."""

    def __init__(
        self,
        feed: Feed,
        *,
        webhook: Webhook | None = None,
        clock: Callable[[], float] = time.monotonic,
        storm_errors: int = 5,
        storm_window_s: float = 60.0,
        loop_restarts: int = 3,
        loop_window_s: float = 300.0,
    ) -> None:
        self.webhook = webhook
        self._clock = clock
        self._alerts: deque[dict[str, Any]] = deque(maxlen=ALERTS_KEPT)
        self._seq = itertools.count(1)
        self._lock = threading.Lock()
        self._errors: dict[str, deque[float]] = defaultdict(deque)
        self._restarts: dict[str, deque[float]] = defaultdict(deque)
        self._storm_until: dict[str, float] = {}
        self._held: dict[tuple[str, str], int] = {}
        self._storm = (storm_errors, storm_window_s)
        self._loop = (loop_restarts, loop_window_s)
        self.unsubscribe = feed.subscribe(self.observe)
        from ouroboros.sandbox import add_restart_listener

        heard = weakref.WeakMethod(self.sandbox_restarted)  # a center never closed is still collected

        def on_restart(info: dict[str, Any]) -> None:
            method = heard()
            if method is not None:
                method(info)

        self._unlisten_sandbox = add_restart_listener(on_restart)
        self._cluster: tuple[str, str] | None = None  # (redis url, stream cursor)
        # a cluster's alerts from before this center began are on its status page, not raised again
        self._cluster_since = f"{int(time.time() * 1000)}-0"
        self._cluster_stop = threading.Event()
        self._cluster_thread: threading.Thread | None = None

    # -- raising ----------------------------------------------------------------------------------
    def raise_alert(
        self, kind: str, world: str | None, message: str, *, severity: str = "warning", **data: Any
    ) -> dict[str, Any]:
        with self._lock:
            alert = {
                "seq": next(self._seq),
                "at": _now(),
                "kind": kind,
                "severity": severity,
                "world": world,
                "message": message,
                **data,
            }
            self._alerts.append(alert)
        if self.webhook is not None:
            self.webhook.offer(alert)
        return alert

    def recent(self, limit: int = 100, after: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            found = [a for a in self._alerts if a["seq"] > after]
        return found[-limit:] if limit > 0 else []

    def status(self) -> dict[str, Any]:
        with self._lock:
            last = self._alerts[-1]["seq"] if self._alerts else 0
        return {"last_seq": last, "webhook": None if self.webhook is None else self.webhook.status()}

    def observe_kpis(self, world: str, kpis: dict[str, Any]) -> None:
        """A world's KPIs (sampled once a second): a ``held_*`` count that grew is an economic
        guard holding transactions since the last sample (the first sample only sets the base)."""
        for key, value in kpis.items():
            if not key.startswith("held") or not isinstance(value, int) or isinstance(value, bool):
                continue
            before = self._held.get((world, key))
            self._held[(world, key)] = value
            if before is not None and value > before:
                self.raise_alert(
                    "economic_hold", world, f"the economic guard held {value - before} more ({key}: {value})",
                    held=value, new=value - before,
                )  # fmt: skip

    def record_start(self, data: Path, now: float, *, what: str = "ouroboros go") -> int:
        """One start of the server process, appended to ``DATA/starts.jsonl``; ``loop_restarts``
        starts within ``loop_window_s`` (a supervisor restarting a crashing server) raise a
        ``restart_loop`` alert. Returns the starts within the window, this one included."""
        path = data / STARTS_FILE
        count, window = self._loop
        try:
            lines = path.read_text(encoding="utf-8").splitlines()[-50:]
        except OSError:
            lines = []
        times = []
        for line in lines:
            with contextlib.suppress(ValueError, TypeError, KeyError):
                times.append(float(json.loads(line)["t"]))
        recent = [t for t in times if 0 <= now - t <= window] + [now]
        with contextlib.suppress(OSError):
            path.write_text(
                "".join(json.dumps({"t": t}) + "\n" for t in [*times, now][-50:]), encoding="utf-8"
            )
        if len(recent) >= count:
            self.raise_alert(
                "restart_loop", None, f"{what} started {len(recent)} times within {window:.0f} s",
                severity="critical", process=what, starts=len(recent),
            )  # fmt: skip
        return len(recent)

    # -- processes beside the server ----------------------------------------------------------------
    def sandbox_restarted(self, info: dict[str, Any]) -> None:
        """A Python trait worker started again (``python_worker.add_restart_listener``)."""
        name = "sandbox:python-worker"
        self.raise_alert(
            "sandbox_restart", None, f"the Python trait worker was restarted ({info.get('reason')})",
            process=name, restarts=info.get("restarts"), pid=info.get("pid"),
        )  # fmt: skip
        count, window = self._loop
        if self._window(self._restarts, name, window) == count:
            self.raise_alert(
                "restart_loop", None, f"{name} restarted {count} times within {window:.0f} s",
                severity="critical", process=name,
            )  # fmt: skip

    def poll_cluster(self, data: Path) -> int:
        """Raise an alert for each supervisor alert written since the last poll (the first poll of
        a cluster reads from when this center began: older ones are on its status page); returns
        how many."""
        from ouroboros.cluster.status import alerts_since, read_marker
        from ouroboros.errors import ClusterError

        url = read_marker(data)
        if url is None:
            self._cluster = None
            return 0
        same = self._cluster is not None and self._cluster[0] == url
        cursor = self._cluster[1] if self._cluster is not None and same else self._cluster_since
        try:
            cursor, found = alerts_since(url, cursor)
        except ClusterError:
            return 0  # its redis is away for a moment: the next poll reads on from the same cursor
        self._cluster = (url, cursor)
        for a in found:
            name, reason = a.get("name"), a.get("last_restart_reason")
            if a.get("event") == "restart_loop":
                self.raise_alert(
                    "restart_loop", None, f"cluster: {name} died {a.get('deaths')} times in a row ({reason})",
                    severity="critical", process=name, role=a.get("role"), restarts=a.get("restarts"),
                )  # fmt: skip
            else:
                self.raise_alert(
                    "cluster_restart", None,
                    f"cluster: {name} {reason or 'died'}; restarting in {a.get('restart_in_s')} s",
                    process=name, role=a.get("role"), restarts=a.get("restarts"),
                )  # fmt: skip
        return len(found)

    def watch_cluster(self, data: Path, every_s: float = 2.0) -> None:
        """Poll the local cluster's alerts on a timer (a daemon thread, stopped by ``close``)."""
        if self._cluster_thread is not None:
            return

        def run() -> None:
            while not self._cluster_stop.is_set():
                with contextlib.suppress(Exception):  # never let a poll end the watch
                    self.poll_cluster(data)
                self._cluster_stop.wait(every_s)

        self._cluster_thread = threading.Thread(target=run, name="cluster-alerts", daemon=True)
        self._cluster_thread.start()

    # -- the feed -----------------------------------------------------------------------------------
    def observe(self, event: dict[str, Any]) -> None:
        """One feed event: an alert when it is one of the kinds above (never raises)."""
        with contextlib.suppress(Exception):
            self._classify(event)

    def _window(self, store: dict[str, deque[float]], key: str, window_s: float) -> int:
        now = self._clock()
        times = store[key]
        times.append(now)
        while times and now - times[0] > window_s:
            times.popleft()
        return len(times)

    def _classify(self, e: dict[str, Any]) -> None:
        kind, world, action = e.get("kind"), e.get("world"), e.get("action")
        actor = e.get("actor")
        where = f" in {world}" if world else ""
        if kind == "governance" and action == "rollback":
            self.raise_alert(
                "rollback", world, f"{actor} rolled back{where}", actor=actor, automatic=False, event=e["seq"]
            )
        elif _state_of(e) == "rolled_back" and kind in ("governance", "director", "evolution", "queue"):
            self.raise_alert(
                "rollback",
                world,
                f"a change was rolled back automatically{where} ({kind})",
                automatic=True,
                event=e["seq"],
            )
        if kind == "killswitch":
            engaged = bool(e.get("engaged"))
            self.raise_alert(
                "killswitch",
                world,
                f"kill-switch {'engaged' if engaged else 'released'}{where} by {actor}: {e.get('reason')}",
                severity="critical" if engaged else "info",
                engaged=engaged,
                actor=actor,
                event=e["seq"],
            )
        if kind == "security" and action == "lockout":
            self.raise_alert("security", world, f"login lockout: {e.get('key')}", event=e["seq"])
        if action == "hold":
            self.raise_alert(
                "economic_hold", world, f"economic guard holds a change{where}: {e.get('reason') or ''}",
                event=e["seq"],
            )  # fmt: skip
        restart = action == "restart" or (kind == "error" and e.get("source") in ("ticks", "worker"))
        if restart:
            name = f"{world}:{e.get('process') or e.get('source') or kind}"
            count, window = self._loop
            if self._window(self._restarts, name, window) == count:
                self.raise_alert(
                    "restart_loop", world, f"{name} restarted {count} times within {window:.0f} s",
                    severity="critical", process=name, event=e["seq"],
                )  # fmt: skip
        if kind == "error":
            key = str(world)
            count, window = self._storm
            seen = self._window(self._errors, key, window)
            now = self._clock()
            if seen >= count and now >= self._storm_until.get(key, 0.0):
                self._storm_until[key] = now + window
                last = e.get("message")
                self.raise_alert(
                    "fault_storm", world, f"{seen} errors{where} within {window:.0f} s (last: {last})",
                    severity="critical", errors=seen, event=e["seq"],
                )  # fmt: skip

    def close(self) -> None:
        self.unsubscribe()
        self._unlisten_sandbox()
        self._cluster_stop.set()
        if self._cluster_thread is not None:
            self._cluster_thread.join(5)
        if self.webhook is not None:
            self.webhook.close()


__all__ = ["AlertCenter", "Webhook", "check_webhook_url"]
