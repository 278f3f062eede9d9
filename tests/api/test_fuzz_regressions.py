"""Inputs the fuzzer (or forged cursors) turned into internal errors; now refused with codes.

- A NUL character in a string reached PostgreSQL, which cannot store it in text or JSONB
  (found by Schemathesis: `facets(filter: {brand: ["\\u0000"]})`).
- A request body nested past the interpreter's recursion limit failed in `json.loads`, and
  preferences nested a few hundred levels deep failed while being measured.
- Cursors are unsigned base64 JSON: a forged sort key of the wrong type or an id beyond a
  64-bit integer failed in the SQL bind instead of being INVALID_CURSOR.
"""

from __future__ import annotations

import base64
import json

import pytest

from core.json_values import MAX_JSON_DEPTH
from tests.support.graphql import error_codes, gql

NUL = "\u0000"


def raw_body(query: str, variable: str, json_value: str) -> bytes:
    """A request body with a variable given as JSON text (too deep for `json.dumps`)."""
    return (
        f'{{"query": {json.dumps(query)}, "variables": {{"{variable}": ' + json_value + "}}"
    ).encode()


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ('{ facets(filter: {brand: ["\\u0000"]}) { totalCount } }', None),
        ('{ products(filter: {category: ["a\\u0000b"]}) { totalCount } }', None),
        (
            "query($f: ProductFilter) { products(filter: $f) { totalCount } }",
            {"f": {"search": f"boot{NUL}"}},
        ),
        ("query($s: String) { users(search: $s) { edges { cursor } } }", {"s": NUL}),
        (
            "mutation($n: String) { updateMe(input: {name: $n}) { user { name } } }",
            {"n": f"Al{NUL}ice"},
        ),
        (
            "mutation($p: JSON) { updateMe(input: {preferences: $p}) { user { name } } }",
            {"p": {"sizes": [{f"k{NUL}": "v"}]}},
        ),
    ],
)
async def test_nul_characters_are_refused_as_bad_input(client, admin, query, variables):
    body = await gql(client, query, variables, token=admin)
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert "NUL" in body["errors"][0]["message"]


@pytest.mark.parametrize("depth", [500, 50_000])
async def test_deeply_nested_variables_are_refused_without_an_internal_error(client, db, depth):
    value = "[" * depth + '"x\\u0000"' + "]" * depth
    body = raw_body("query($v: JSON) { __typename }", "v", value)
    response = await client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code in (200, 400), response.text
    assert error_codes(response.json()) in (["BAD_USER_INPUT"], ["BAD_REQUEST"])


@pytest.mark.parametrize("depth", [6, 32, 400, 900])
async def test_deeply_nested_preferences_are_a_user_error(client, alice, depth):
    value = '{"a":' * depth + "1" + "}" * depth
    query = (
        "mutation($p: JSON) { updateMe(input: {preferences: $p}) { userErrors { code message } } }"
    )
    response = await client.post(
        "/graphql",
        content=raw_body(query, "p", value),
        headers={"content-type": "application/json", "authorization": f"Bearer {alice}"},
    )
    body = response.json()
    if depth <= MAX_JSON_DEPTH:  # storable JSON, but deeper than preferences may nest
        errors = body["data"]["updateMe"]["userErrors"]
        message = "`preferences`: JSON values nest at most 5 levels"
        assert errors == [{"code": "BAD_USER_INPUT", "message": message}]
    else:  # refused while coercing the variable, before any resolver runs
        assert error_codes(body) == ["BAD_USER_INPUT"]


def forged(kind: str, sort: str, key: object, row_id: object) -> str:
    raw = json.dumps([kind, sort, key, row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


SORTS = {
    "PRICE": ("price:asc", "9.00"),
    "NEWEST": ("newest:desc", "2025-12-31T21:03:00+00:00"),
    "NAME": ("name:asc", "Arbor"),
    "POPULARITY": ("popularity:desc", 12.5),
}
BAD_KEYS = ["abc", None, [1], {"x": 1}, True, f"a{NUL}b", "NaN", 1e308]


@pytest.mark.parametrize("field", list(SORTS))
async def test_forged_product_cursors_are_invalid_cursors(client, catalog, field):
    sort, good_key = SORTS[field]
    query = "query($c: String, $f: ProductSortField!) { products(first: 2, after: $c, sort: {field: $f}) { totalCount } }"  # noqa: E501
    for key, row_id in [(key, 5) for key in BAD_KEYS] + [(good_key, 2**63), (good_key, -1)]:
        body = await gql(client, query, {"c": forged("product", sort, key, row_id), "f": field})
        codes = error_codes(body)
        # A key that happens to be valid for this ordering (e.g. "abc" for NAME) is fine.
        assert codes in ([], ["INVALID_CURSOR"]), (field, key, row_id, body)
        if row_id != 5 or key is None or isinstance(key, list | dict | bool):
            assert codes == ["INVALID_CURSOR"], (field, key, row_id, body)


async def test_a_forged_user_cursor_id_is_an_invalid_cursor(client, admin):
    body = await gql(
        client,
        "query($c: String) { users(after: $c) { edges { cursor } } }",
        {"c": forged("user", "id:desc", None, 2**70)},
        token=admin,
    )
    assert error_codes(body) == ["INVALID_CURSOR"]
