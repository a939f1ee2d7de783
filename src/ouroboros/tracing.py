"""Traces (OpenTelemetry SDK): where an approval's seconds went, and which model call was slow.

``configure(enabled=..., otlp_endpoint=..., buffer_spans=...)`` sets the process's tracing up
(``ouroboros go`` calls it from its settings): spans go over OTLP/HTTP when an endpoint is given,
and otherwise to ``buffer()``, a bounded in-process ring of finished spans that the API serves
for a proposal or a patch (``GET /api/traces?patch_id=`` / ``?proposal_id=``).

The helpers the code uses:

- ``span(name, **attrs)``: a context manager; ``traced(name)``: the same as a decorator. A
  result that names a ``patch_id`` / ``proposal_id`` (a dict key or an attribute) tags the span.
- ``tag(**attrs)``: attributes on the current span; ``record(name, seconds, **attrs)``: a span
  for something already timed (a model call, a sampled tick), ending now.
- ``carry(fn)``: ``fn`` bound to the caller's trace context, for another thread.

What it promises: with tracing off (the default until ``configure``) every helper is one
attribute check and a plain call, so the tick loop pays nothing measurable
(``benchmarks/bench_tracing.py``). Attribute values are kept to strings, numbers and booleans;
a span never carries a secret (callers pass ids, names and counts only).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
BUFFER_SPANS = 20_000
ID_KEYS = ("patch_id", "proposal_id")
PREFIX = "ouroboros."


class SpanBuffer:
    """The newest ``maxlen`` finished spans, as plain data (an OpenTelemetry ``SpanExporter``)."""

    def __init__(self, maxlen: int = BUFFER_SPANS) -> None:
        self._spans: deque[dict[str, Any]] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def export(self, spans: Sequence[Any]) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        rows = [_row(s) for s in spans]
        with self._lock:
            self._spans.extend(rows)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True

    def spans(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._spans)

    def find(self, **ids: str) -> list[dict[str, Any]]:
        """Every span of each trace in which some span carries one of ``ids`` (``patch_id=...``,
        ``proposal_id=...``), oldest first."""
        wanted = {(PREFIX + k, v) for k, v in ids.items() if v is not None}
        spans = self.spans()
        traces = {s["trace_id"] for s in spans if any(s["attributes"].get(k) == v for k, v in wanted)}
        return sorted((s for s in spans if s["trace_id"] in traces), key=lambda s: s["start_ns"])


def _row(span: Any) -> dict[str, Any]:
    ctx, parent = span.context, span.parent
    start, end = span.start_time or 0, span.end_time or 0
    return {
        "name": span.name,
        "trace_id": f"{ctx.trace_id:032x}",
        "span_id": f"{ctx.span_id:016x}",
        "parent_id": None if parent is None else f"{parent.span_id:016x}",
        "start_ns": start,
        "duration_ms": round((end - start) / 1e6, 3),
        "status": span.status.status_code.name.lower(),
        "attributes": dict(span.attributes or {}),
    }


class _State:
    enabled = False
    tracer: Any = None
    provider: Any = None
    buffer: SpanBuffer | None = None
    endpoint: str | None = None


_state = _State()


def configure(
    *,
    enabled: bool = True,
    otlp_endpoint: str | None = None,
    otlp_headers: Mapping[str, str] | None = None,
    buffer_spans: int = BUFFER_SPANS,
) -> SpanBuffer | None:
    """Set this process's tracing up (again: the previous provider is shut down). Returns the
    in-process buffer, or ``None`` when spans go over OTLP or tracing is off."""
    shutdown()
    if not enabled:
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    from ouroboros import __version__

    provider = TracerProvider(
        resource=Resource.create({"service.name": "ouroboros", "service.version": __version__})
    )
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        url = otlp_endpoint.rstrip("/")
        url = url if url.endswith("/v1/traces") else url + "/v1/traces"
        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=url, headers=dict(otlp_headers or {})))
        )
        _state.buffer = None
    else:
        _state.buffer = SpanBuffer(buffer_spans)
        provider.add_span_processor(SimpleSpanProcessor(_state.buffer))  # type: ignore[arg-type]
    _state.provider, _state.endpoint = provider, otlp_endpoint
    _state.tracer = provider.get_tracer("ouroboros")
    _state.enabled = True
    return _state.buffer


def shutdown() -> None:
    """Tracing off; spans on their way over OTLP are flushed first."""
    provider = _state.provider
    _state.enabled, _state.tracer, _state.provider, _state.buffer, _state.endpoint = (
        False,
        None,
        None,
        None,
        None,
    )
    if provider is not None:
        with contextlib.suppress(Exception):
            provider.shutdown()


def enabled() -> bool:
    return _state.enabled


def buffer() -> SpanBuffer | None:
    return _state.buffer


def _attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        if value is None:
            continue
        name = key if "." in key else PREFIX + key
        out[name] = value if isinstance(value, str | bool | int | float) else str(value)
    return out


@contextlib.contextmanager
def _span(name: str, attrs: Mapping[str, Any]) -> Iterator[Any]:
    with _state.tracer.start_as_current_span(name, attributes=_attrs(attrs)) as current:
        yield current


def span(name: str, **attrs: Any) -> contextlib.AbstractContextManager[Any]:
    """A span around a block (``contextlib.nullcontext`` when tracing is off)."""
    if not _state.enabled:
        return contextlib.nullcontext()
    return _span(name, attrs)


def _tag_result(current: Any, result: Any) -> None:
    for key in ID_KEYS:
        value = result.get(key) if isinstance(result, Mapping) else getattr(result, key, None)
        if isinstance(value, str):
            current.set_attribute(PREFIX + key, value)


def traced(name: str, **attrs: Any) -> Callable[[F], F]:
    """A decorator: the call is one span (nothing but a flag check when tracing is off); a
    ``patch_id`` / ``proposal_id`` argument tags it."""

    def wrap(fn: F) -> F:
        params = list(inspect.signature(fn).parameters)
        at = {key: params.index(key) for key in ID_KEYS if key in params}

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            if not _state.enabled:
                return fn(*args, **kwargs)
            given = {k: kwargs.get(k, args[i] if i < len(args) else None) for k, i in at.items()}
            with _span(name, {**attrs, **given}) as current:
                result = fn(*args, **kwargs)
                _tag_result(current, result)
                return result

        return call  # type: ignore[return-value]

    return wrap


def tag(**attrs: Any) -> None:
    """Attributes on the current span (nothing when tracing is off or no span is open)."""
    if not _state.enabled:
        return
    from opentelemetry import trace

    current = trace.get_current_span()
    if current.is_recording():
        current.set_attributes(_attrs(attrs))


def record(name: str, seconds: float, **attrs: Any) -> None:
    """A span for work already done, that took ``seconds`` and ended now (child of the current span)."""
    if not _state.enabled:
        return
    end = time.time_ns()
    current = _state.tracer.start_span(name, attributes=_attrs(attrs), start_time=end - int(seconds * 1e9))
    current.end(end_time=end)


def carry(fn: Callable[..., T]) -> Callable[..., T]:
    """``fn`` run in the caller's context (its current span) on whichever thread calls it."""
    if not _state.enabled:
        return fn
    ctx = contextvars.copy_context()
    return functools.partial(ctx.run, fn)


__all__ = [
    "BUFFER_SPANS",
    "SpanBuffer",
    "buffer",
    "carry",
    "configure",
    "enabled",
    "record",
    "shutdown",
    "span",
    "tag",
    "traced",
]
