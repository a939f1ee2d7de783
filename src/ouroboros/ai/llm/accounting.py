"""``Accounting``: tokens, latency and failures of every model call, per role, provider and model.

In memory and thread-safe; ``rows()`` is sorted so two equal histories print the same. A cached
answer counts as a call that used no tokens."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Accounting", "Usage"]


@dataclass
class Usage:
    calls: int = 0
    failures: int = 0
    cached: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms_total: int = 0
    latency_ms_max: int = 0


class Accounting:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._usage: dict[tuple[str, str, str], Usage] = {}

    def record(
        self,
        role: str,
        provider: str,
        model: str,
        *,
        tokens_in: int = 0,
        tokens_out: int = 0,
        latency_ms: int = 0,
        ok: bool = True,
        cached: bool = False,
    ) -> None:
        with self._lock:
            usage = self._usage.setdefault((role, provider, model), Usage())
            usage.calls += 1
            usage.failures += 0 if ok else 1
            usage.cached += 1 if cached else 0
            usage.tokens_in += max(0, tokens_in)
            usage.tokens_out += max(0, tokens_out)
            usage.latency_ms_total += max(0, latency_ms)
            usage.latency_ms_max = max(usage.latency_ms_max, latency_ms)

    def usage(self, role: str, provider: str, model: str) -> Usage:
        """A copy of the counters of one (role, provider, model); zeros if it never ran."""
        with self._lock:
            return Usage(**asdict(self._usage.get((role, provider, model), Usage())))

    def rows(self) -> list[dict[str, Any]]:
        """One dict per (role, provider, model), sorted, with the counters."""
        with self._lock:
            return [
                {"role": r, "provider": p, "model": m, **asdict(u)}
                for (r, p, m), u in sorted(self._usage.items())
            ]

    def totals(self) -> Usage:
        with self._lock:
            total = Usage()
            for usage in self._usage.values():
                for name, value in asdict(usage).items():
                    if name == "latency_ms_max":
                        total.latency_ms_max = max(total.latency_ms_max, value)
                    else:
                        setattr(total, name, getattr(total, name) + value)
            return total
