"""Helpers to talk GraphQL over HTTP to the app under test."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST an operation and return the decoded body (data and/or errors)."""
    all_headers = dict(headers or {})
    if token:
        all_headers["authorization"] = f"Bearer {token}"
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=all_headers
    )
    assert response.status_code < 500, response.text
    return response.json()


async def gql_data(client: httpx.AsyncClient, query: str, variables=None, **kw) -> dict[str, Any]:
    """Like `gql` but asserts there were no errors and returns `data`."""
    body = await gql(client, query, variables, **kw)
    assert "errors" not in body, body["errors"]
    return body["data"]


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


class _QueryCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.queries: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")):
            self.queries.append(message)


@contextmanager
def count_queries() -> Iterator[list[str]]:
    """Collect the SQL statements Tortoise sends while the block runs."""
    logger = logging.getLogger("tortoise.db_client")
    handler = _QueryCounter()
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield handler.queries
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def global_id(type_name: str, pk: int | str) -> str:
    """The Relay global id of a row (base64 of `Type:pk`)."""
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def pk_of(gid: str) -> int:
    """The primary key inside a Relay global id."""
    return int(base64.b64decode(gid).decode().partition(":")[2])


def user_errors(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    """A mutation payload's userErrors as (field, code) pairs."""
    return [(e["field"], e["code"]) for e in payload["userErrors"]]
