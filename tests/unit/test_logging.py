"""Log configuration: JSON lines with the request id, uvicorn routed through the same handler."""

from __future__ import annotations

import io
import json
import logging

import pytest

from web.log_config import configure_logging
from web.request_id import current_request_id


@pytest.fixture
def configured():
    """Configure into a buffer; restore the root logger afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    access = logging.getLogger("uvicorn.access")
    saved_access = (list(access.handlers), access.propagate)
    buffer = io.StringIO()

    def configure(log_format: str) -> io.StringIO:
        access.handlers[:] = [logging.NullHandler()]  # as uvicorn leaves it
        access.propagate = False
        configure_logging(
            log_format=log_format, level="INFO", handler=logging.StreamHandler(buffer)
        )
        return buffer

    yield configure
    root.handlers[:], root.level = saved
    access.handlers[:], access.propagate = saved_access


def lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_json_lines_carry_the_request_id(configured):
    buffer = configured("json")
    token = current_request_id.set("req-42")
    try:
        logging.getLogger("shopgraph.test").info("checkout %s", "done")
    finally:
        current_request_id.reset(token)
    logging.getLogger("shopgraph.test").warning("outside a request")
    inside, outside = lines(buffer)
    assert inside["message"] == "checkout done"
    assert inside["request_id"] == "req-42"
    assert inside["level"] == "INFO"
    assert inside["logger"] == "shopgraph.test"
    assert "time" in inside
    assert outside["request_id"] == "-"


def test_an_explicit_request_id_is_kept(configured):
    buffer = configured("json")
    logging.getLogger("x").error("masked", extra={"request_id": "from-the-error-policy"})
    assert lines(buffer)[0]["request_id"] == "from-the-error-policy"


def test_exceptions_are_in_the_json_line(configured):
    buffer = configured("json")
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("x").exception("failed")
    [line] = lines(buffer)
    assert "ValueError: boom" in line["exc_info"]


def test_uvicorn_access_lines_get_fields_and_go_through_the_same_handler(configured):
    buffer = configured("json")
    access = logging.getLogger("uvicorn.access")
    assert access.handlers == [] and access.propagate
    token = current_request_id.set("req-7")
    try:
        access.info('%s - "%s %s HTTP/%s" %d', "10.0.0.1:5000", "POST", "/graphql", "1.1", 200)
    finally:
        current_request_id.reset(token)
    [line] = lines(buffer)
    assert line["message"] == '10.0.0.1:5000 - "POST /graphql HTTP/1.1" 200'
    assert (line["client"], line["method"], line["path"], line["status"]) == (
        "10.0.0.1:5000",
        "POST",
        "/graphql",
        200,
    )
    assert line["request_id"] == "req-7"


def test_text_format_and_reconfiguring_replaces_the_handler(configured):
    buffer = configured("text")
    configured("text")
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_shopgraph", False)]
    assert len(ours) == 1
    token = current_request_id.set("req-9")
    try:
        logging.getLogger("shopgraph.test").info("hello")
    finally:
        current_request_id.reset(token)
    assert buffer.getvalue().rstrip().endswith("INFO    shopgraph.test [req-9] hello")
