"""The live terminal view of a running petri dish: a paced tick loop that shows the dish's KPIs
in a rich table, or as one plain line per telemetry interval when stdout is not a terminal.

What it promises:

- The wall clock is read only between ticks (pacing, ticks/s, screen refresh); ``world.step()``
  never sees it, so a live run stays as reproducible as a headless one.
- The loop stops only at a tick boundary. Ctrl-C sets a flag that is checked between ticks, so
  the state the caller saves afterwards is a whole tick. A second Ctrl-C stops at once.
- Everything shown is computed from the world (``compute_kpis``, ``resources["stats"]``, the
  last ``resources["telemetry"]`` window, the profiler); the view writes nothing back.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from ouroboros.engine import TickReport, World
from ouroboros.worlds.petri import ONE, compute_kpis

REFRESH_SECONDS = 0.25
RATE_WINDOW_SECONDS = 2.0
MAX_SLEEP_SECONDS = 0.1


class StopFlag:
    """While active, the first SIGINT only asks the loop to stop at the next tick boundary."""

    def __init__(self) -> None:
        self.stopped = False
        self._previous: Any = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.stopped:
            raise KeyboardInterrupt
        self.stopped = True

    def __enter__(self) -> StopFlag:
        # Signal handlers can only be installed from the main thread (not under some runners).
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


class Pacer:
    """Sleeps between ticks to hold ``ticks_per_second`` (0: no pacing). When the world falls
    behind by more than a tick, it drops the lost time rather than bursting to catch up."""

    def __init__(self, ticks_per_second: float) -> None:
        self.period = 1.0 / ticks_per_second if ticks_per_second > 0 else 0.0
        self.deadline = time.perf_counter()

    def wait(self, stop: StopFlag) -> None:
        if not self.period:
            return
        self.deadline += self.period
        now = time.perf_counter()
        if self.deadline < now - self.period:
            self.deadline = now
        while not stop.stopped and (delay := self.deadline - time.perf_counter()) > 0:
            time.sleep(min(delay, MAX_SLEEP_SECONDS))


class RateMeter:
    """Ticks per wall-clock second over the last couple of seconds."""

    def __init__(self) -> None:
        self.times: deque[float] = deque()

    def tick(self) -> None:
        now = time.perf_counter()
        self.times.append(now)
        while now - self.times[0] > RATE_WINDOW_SECONDS:
            self.times.popleft()

    @property
    def per_second(self) -> float:
        if len(self.times) < 2:
            return 0.0
        span = self.times[-1] - self.times[0]
        return (len(self.times) - 1) / span if span > 0 else 0.0


def kpi_view(world: World, ticks_per_second: float) -> dict[str, Any]:
    """What the view shows, as plain data: KPIs now, totals, the last telemetry window, timing."""
    kpis = compute_kpis(world)
    stats = world.resources["stats"]
    window = world.resources.get("telemetry") or {}
    timing = world.profiler.tick_stats()
    return {
        "tick": world.tick,
        "population": kpis["entity_count"],
        "food": kpis["food_count"],
        "avg_energy": kpis["avg_energy_fp"] / ONE,
        "births_total": stats["births"],
        "births_window": window.get("births"),
        "deaths_total": dict(sorted(stats["deaths"].items())),
        "deaths_window": window.get("deaths") or {},
        "window_tick": window.get("tick"),
        "dominant_trait": kpis["dominant_trait"],
        "trait_diversity": kpis["trait_diversity"],
        "max_generation": kpis["max_generation"],
        "tick_p50_ms": timing["p50_ms"],
        "tick_p95_ms": timing["p95_ms"],
        "ticks_per_second": ticks_per_second,
    }


def _or_dash(value: Any) -> str:
    return "-" if value is None else str(value)


def render_table(view: dict[str, Any], title: str) -> Table:
    window = f"window to tick {view['window_tick']}" if view["window_tick"] is not None else "window"
    table = Table(title=title, caption="Ctrl-C saves and quits", title_justify="left")
    table.add_column("KPI")
    table.add_column("now / total", justify="right")
    table.add_column(window, justify="right")
    table.add_row("tick", str(view["tick"]), "")
    table.add_row("population", str(view["population"]), "")
    table.add_row("food", str(view["food"]), "")
    table.add_row("average energy", f"{view['avg_energy']:.1f}", "")
    table.add_row("births", str(view["births_total"]), _or_dash(view["births_window"]))
    for cause, total in view["deaths_total"].items():
        table.add_row(f"deaths: {cause}", str(total), _or_dash(view["deaths_window"].get(cause)))
    table.add_row("dominant trait", _or_dash(view["dominant_trait"]), "")
    table.add_row("trait diversity", str(view["trait_diversity"]), "")
    table.add_row("max generation", str(view["max_generation"]), "")
    table.add_row("tick time", f"p50 {view['tick_p50_ms']:.2f} ms  p95 {view['tick_p95_ms']:.2f} ms", "")
    table.add_row("ticks/s", f"{view['ticks_per_second']:.1f}", "")
    return table


def plain_line(view: dict[str, Any]) -> str:
    deaths = sum(view["deaths_total"].values())
    return (
        f"tick {view['tick']} | population {view['population']} | food {view['food']} | "
        f"energy {view['avg_energy']:.1f} | births {view['births_total']} | deaths {deaths} "
        f"({', '.join(f'{c} {n}' for c, n in view['deaths_total'].items())}) | "
        f"dominant {_or_dash(view['dominant_trait'])} | diversity {view['trait_diversity']} | "
        f"generation {view['max_generation']} | tick p50 {view['tick_p50_ms']:.2f} ms "
        f"p95 {view['tick_p95_ms']:.2f} ms | {view['ticks_per_second']:.1f} ticks/s"
    )


def run_live(
    world: World,
    *,
    console: Console,
    ticks_per_second: float,
    max_ticks: int | None,
    between_ticks: Callable[[], None] | None = None,
    on_report: Callable[[TickReport], None] | None = None,
) -> int:
    """Step ``world`` until Ctrl-C or ``max_ticks``; return how many ticks ran. ``between_ticks``
    runs before every tick (the governance layer's pointer check)."""
    rate = RateMeter()
    title = f"ouroboros · {world.meta.get('world')} · seed {world.seed}"
    interval = int(world.resources.get("params", {}).get("telemetry_every", 30))

    def view() -> dict[str, Any]:
        return kpi_view(world, rate.per_second)

    with StopFlag() as stop:
        if console.is_terminal:
            with Live(render_table(view(), title), console=console, refresh_per_second=4) as live:
                last = time.perf_counter()

                def refresh() -> None:
                    nonlocal last
                    if time.perf_counter() - last >= REFRESH_SECONDS:
                        live.update(render_table(view(), title))
                        last = time.perf_counter()

                ran = _loop(
                    world, stop, Pacer(ticks_per_second), rate, max_ticks, refresh, between_ticks, on_report
                )
                live.update(render_table(view(), title))
        else:

            def report() -> None:
                if world.tick % interval == 0:
                    console.print(plain_line(view()), soft_wrap=True)

            ran = _loop(
                world, stop, Pacer(ticks_per_second), rate, max_ticks, report, between_ticks, on_report
            )
            if world.tick % interval:
                console.print(plain_line(view()), soft_wrap=True)
    return ran


def _loop(
    world: World,
    stop: StopFlag,
    pacer: Pacer,
    rate: RateMeter,
    max_ticks: int | None,
    after_tick: Callable[[], None],
    before_tick: Callable[[], None] | None = None,
    on_report: Callable[[TickReport], None] | None = None,
) -> int:
    ran = 0
    while not stop.stopped and (max_ticks is None or ran < max_ticks):
        if before_tick is not None:
            before_tick()
        report = world.step()
        if on_report is not None:
            on_report(report)
        ran += 1
        rate.tick()
        after_tick()
        pacer.wait(stop)
    return ran


__all__ = ["Pacer", "RateMeter", "StopFlag", "kpi_view", "plain_line", "render_table", "run_live"]
