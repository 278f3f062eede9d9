"""Hints an application gives the compiler about its resolvers.

The compiler can only skip what it can prove unnecessary. A resolver marked here promises
what the compiler cannot see: that it reads one attribute of its source, or needs nothing
but its source, or (for `is_type_of`/`resolve_type`) never looks at `info`. The compiler
then inlines the read, or calls the function without building a `GraphQLResolveInfo`.
Unmarked functions are always called exactly as graphql-core calls them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MARK = "__graphql_compiler__"

ATTRIBUTE = "attribute"
SOURCE = "source"
INFO_FREE = "info_free"


def attribute_reader(attribute: str) -> Callable[[Any, Any], Any]:
    """A resolver returning `getattr(source, attribute)`; the compiler inlines the read."""

    def resolve(source: Any, _info: Any) -> Any:
        return getattr(source, attribute)

    setattr(resolve, MARK, (ATTRIBUTE, attribute))
    return resolve


def source_resolver(function: Callable[[Any], Any]) -> Callable[[Any, Any], Any]:
    """A resolver computing its value from the source alone (no info, no arguments)."""

    def resolve(source: Any, _info: Any) -> Any:
        return function(source)

    setattr(resolve, MARK, (SOURCE, function))
    return resolve


def info_free(function: Callable[..., Any]) -> Callable[..., Any]:
    """Mark an `is_type_of(value, info)` or `resolve_type(value, info, type)` that ignores
    `info` (and returns its answer synchronously); the compiler passes `None`."""
    setattr(function, MARK, (INFO_FREE, None))
    return function


def hint_of(function: Any) -> tuple[str, Any] | None:
    return getattr(function, MARK, None) if function is not None else None
