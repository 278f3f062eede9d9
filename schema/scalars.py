"""Scalars whose parsing carries one of our rules."""

from __future__ import annotations

from typing import Any

from strawberry.scalars import JSON
from strawberry.types.scalar import ScalarDefinition, scalar

from core.errors import InvalidInput
from core.json_values import MAX_JSON_DEPTH, json_problem

ECMA_404 = (
    "https://ecma-international.org/wp-content/uploads/ECMA-404_2nd_edition_december_2017.pdf"
)


def parse_storable_json(value: Any) -> Any:
    # Every JSON input, in variables or inline, passes here before any resolver runs; a value
    # the database or orjson would refuse later is refused now, as BAD_USER_INPUT.
    if problem := json_problem(value):
        raise InvalidInput(problem)
    return value


STORABLE_JSON: ScalarDefinition = scalar(
    name="JSON",
    description=(
        f"A JSON value as specified by [ECMA-404]({ECMA_404}), that the shop can store: "
        "integers within the signed 64-bit range, finite numbers, strings without NUL "
        "characters or lone surrogates, at most "
        f"{MAX_JSON_DEPTH} levels of objects and arrays."
    ),
    specified_by_url=ECMA_404,
    serialize=lambda value: value,
    parse_value=parse_storable_json,
)

SCALAR_OVERRIDES = {JSON: STORABLE_JSON}
