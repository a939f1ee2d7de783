"""Structured logs: one JSON object per line, for ``ouroboros go`` and anything that reads logs.

Each line has ``ts`` (UTC, ISO 8601 with milliseconds), ``level``, ``logger``, ``message``, and
every ``extra=`` field the caller passed (values that JSON cannot hold are written with
``str``); ``exc`` holds the traceback when one was logged. A line never contains a raw newline,
so one line is always one record.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import IO, Any

#: Attributes every ``LogRecord`` has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
    | {"message", "asctime", "taskName"}
)


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in doc:
                doc[key] = value
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            doc["exc"] = record.exc_text
        if record.stack_info:
            doc["stack"] = self.formatStack(record.stack_info)
        return json.dumps(doc, default=str, ensure_ascii=False)


def json_handler(stream: IO[str] | None = None, level: int = logging.INFO) -> logging.Handler:
    """A stream handler (stderr by default) that writes ``JsonFormatter`` lines."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(level)
    return handler
