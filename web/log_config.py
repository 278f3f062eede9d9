"""Logging, configured once per process: JSON lines (python-json-logger) or plain text.

Every record gets `request_id` from `web.request_id.current_request_id`, so each line
written while a request is handled (the access log line included) can be matched to the
`X-Request-ID` a client saw and to the `requestId` of a masked GraphQL error.

Uvicorn's loggers are routed through the same handler: their own handlers are removed and
they propagate to the root logger. Access log lines also carry `client`, `method`, `path`
and `status` as fields.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from web.request_id import current_request_id

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = ["levelname", "name", "message", "request_id"]
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


class RequestIdFilter(logging.Filter):
    """Adds `record.request_id` (the current request's id, or "-") unless already set."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id.get() or "-"
        return True


class JsonLogFormatter(JsonFormatter):
    def __init__(self) -> None:
        # `time`: ISO 8601 in UTC with microseconds.
        super().__init__(
            JSON_FIELDS,
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        # uvicorn.access logs '%s - "%s %s HTTP/%s" %d' with these arguments.
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            client, method, path, _version, status = args
            log_data.update(client=client, method=method, path=path, status=status)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the time (test runners swap it)."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        return None


def make_formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonLogFormatter()
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(
    *, log_format: str, level: str = "INFO", handler: logging.Handler | None = None
) -> logging.Handler:
    """Install one handler on the root logger (replacing the one installed before, leaving
    other handlers, such as a test runner's, alone) and route uvicorn's loggers to it."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_shopgraph", False):
            root.removeHandler(existing)
    handler = handler or _StderrHandler()
    handler._shopgraph = True  # type: ignore[attr-defined]
    handler.setFormatter(make_formatter(log_format))
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in UVICORN_LOGGERS:
        # A logger without handlers is left as it is: uvicorn's `--no-access-log` empties
        # the access logger and stops its propagation.
        uvicorn_logger = logging.getLogger(name)
        if uvicorn_logger.handlers:
            uvicorn_logger.handlers.clear()
            uvicorn_logger.propagate = True
    return handler
