"""A real HTTP server on 127.0.0.1 that speaks the Ollama and OpenAI chat protocols, answering
each request with the next scripted ``Reply`` (then the default), and recording what it got."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

Body = bytes | Callable[[dict[str, Any]], bytes]


@dataclass
class Reply:
    """``body`` (or a function of the request JSON) with ``status``; ``delay_s`` before the
    headers; ``declared_length`` overrides Content-Length (a truncated body); ``no_length`` sends
    the body until the connection closes; ``trickle_s`` pauses between 1 KiB chunks."""

    body: Body = b"{}"
    status: int = 200
    delay_s: float = 0.0
    content_type: str = "application/json"
    declared_length: int | None = None
    no_length: bool = False
    trickle_s: float = 0.0


def ollama_envelope(content: str, tokens_in: int = 11, tokens_out: int = 7) -> bytes:
    return json.dumps(
        {
            "model": "llama3.2",
            "message": {"role": "assistant", "content": content},
            "done": True,
            "prompt_eval_count": tokens_in,
            "eval_count": tokens_out,
        }
    ).encode()


def openai_envelope(
    content: str | None, tokens_in: int = 13, tokens_out: int = 5, refusal: str | None = None
) -> bytes:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if refusal is not None:
        message["refusal"] = refusal
    return json.dumps(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": tokens_in,
                "completion_tokens": tokens_out,
                "total_tokens": tokens_in + tokens_out,
            },
        }
    ).encode()


def envelope_for(path: str, content: str) -> bytes:
    return ollama_envelope(content) if path == "/api/chat" else openai_envelope(content)


@dataclass
class Scripted:
    replies: deque[Reply] = field(default_factory=deque)
    default: Reply | None = None
    requests: list[tuple[str, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self) -> Reply | None:
        with self.lock:
            return self.replies.popleft() if self.replies else self.default


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        script = self.server.script
        with script.lock:
            script.requests.append((self.path, body, dict(self.headers)))
        reply = script.next()
        if not (self.path == "/api/chat" or self.path.endswith("/chat/completions")) or reply is None:
            reply = Reply(b'{"error": "not found"}', status=404)
        payload = reply.body(body) if callable(reply.body) else reply.body
        if reply.delay_s:
            time.sleep(reply.delay_s)
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            if not reply.no_length:
                self.send_header("Content-Length", str(reply.declared_length or len(payload)))
            self.end_headers()
            if reply.trickle_s:
                for start in range(0, len(payload), 1024):
                    self.wfile.write(payload[start : start + 1024])
                    self.wfile.flush()
                    time.sleep(reply.trickle_s)
            else:
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should on a huge or slow answer
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    script: Scripted


@pytest.fixture
def server() -> Iterator[tuple[str, Scripted]]:
    """(base url, script) of a fresh server; add ``Reply``s to ``script.replies``."""
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.script = Scripted()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    host, port = httpd.server_address[:2]
    yield f"http://{host!s}:{port}", httpd.script
    httpd.shutdown()
    httpd.server_close()
