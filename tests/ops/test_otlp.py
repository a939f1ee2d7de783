"""``go --otlp-endpoint URL`` sends its spans over OTLP/HTTP (protobuf) to a real HTTP receiver, and
keeps none in memory; the spans are decoded with the OpenTelemetry protocol's own messages."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from typer.testing import CliRunner

from ouroboros import tracing
from ouroboros.cli import core as cli

runner = CliRunner()


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[str, bytes, str]]]]:
    got: list[tuple[str, bytes, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            got.append((self.path, body, self.headers.get("Authorization", "")))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", got
    server.shutdown()
    thread.join(5)


def test_go_exports_its_spans_over_otlp(
    tmp_path: Path, receiver: tuple[str, list[tuple[str, bytes, str]]]
) -> None:
    url, got = receiver
    args = ["go", "--world", "petri", "--max-ticks", "40", "--ticks-per-second", "0", "--entities", "30"]
    args += ["--port", "0", "--telnet-port", "0", "--ws-port", "0", "--no-browser", "--optimizer", "off"]
    env = {"OUROBOROS_TRACE_TICK_EVERY": "10", "OUROBOROS_OTLP_HEADERS": "authorization=Bearer otlp-secret"}
    result = runner.invoke(cli.app, [*args, "--data", str(tmp_path), "--otlp-endpoint", url], env=env)
    assert result.exit_code == 0, result.output
    assert f"traces over OTLP to {url}" in result.stdout
    assert "otlp-secret" not in result.stdout + result.stderr
    assert got, "the batch was sent when go stopped"
    names = []
    for path, body, auth in got:
        assert path == "/v1/traces" and auth == "Bearer otlp-secret"
        request = ExportTraceServiceRequest.FromString(body)
        for resource in request.resource_spans:
            service = {a.key: a.value.string_value for a in resource.resource.attributes}["service.name"]
            assert service == "ouroboros"
            names += [s.name for scope in resource.scope_spans for s in scope.spans]
    assert names.count("tick") == 4  # ticks 10, 20, 30, 40 sampled
    assert tracing.buffer() is None and not tracing.enabled()  # go shut its tracing down
