"""Shared shaping of mutation payloads: expected failures become `userErrors`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from core.errors import DomainError, DomainErrors
from schema.types.errors import UserError

P = TypeVar("P")


async def with_user_errors(
    make_payload: Callable[..., P], action: Callable[[], Awaitable[dict[str, Any]]]
) -> P:
    """Run `action`; its dict fills the payload, or a `DomainError` becomes its `userErrors`."""
    try:
        fields = await action()
    except DomainError as error:
        errors = error.errors if isinstance(error, DomainErrors) else [error]
        return make_payload(user_errors=[UserError.from_domain(e) for e in errors])
    return make_payload(user_errors=[], **fields)
