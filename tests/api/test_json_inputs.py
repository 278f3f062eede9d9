"""JSON and text inputs that the database or orjson would refuse are refused at the edge.

Regression (issue 12): `recommendations(context: {features: $f})` with an integer ≥ 2^64, a
lone surrogate in a nested list, or 300 nested levels answered 200; the decision-log writer
then failed in orjson on that row, re-queued it forever, and every shopper's reward with an
eventId got INTERNAL_SERVER_ERROR until a restart.
"""

from __future__ import annotations

import json

import pytest

from models import ARSession, User, UserInteraction
from tests.api.commerce import pid
from tests.support.graphql import error_codes

SLATE = """query($f: JSON) { recommendations(first: 3, context: {sessionId: "x", features: $f}) {
  eventId items { product { id } } } }"""
RECORD = """mutation($input: RecordInteractionInput!) { recordInteraction(input: $input) {
  interaction { id reward } userErrors { field code } } }"""
UPDATE_ME = """mutation($input: UpdateMeInput!) { updateMe(input: $input) {
  user { name preferences } userErrors { field code } } }"""
START_AR = """mutation($product: ID!, $meta: JSON) { startArSession(productId: $product,
  metadata: $meta) { arSession { id } userErrors { field code } } }"""


def nested(levels: int) -> dict:
    value: dict = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


# Raw JSON text: the surrogate and NaN cannot be written by a strict JSON encoder.
HOSTILE = {
    "integer ≥ 2^64": '{"x": 18446744073709551616}',
    "integer < -2^63": '{"x": -9223372036854775809}',
    "lone surrogate in a nested list": '{"x": [["ok", "\\ud800"]]}',
    "lone surrogate in a key": '{"\\udfff": 1}',
    "NUL in a string": '{"x": "a\\u0000b"}',
    "NaN": '{"x": NaN}',
    "Infinity": '{"x": [Infinity]}',
    "300 nested levels": json.dumps(nested(300)),
    "33 nested levels": json.dumps(nested(33)),
}


async def post_raw(client, query: str, variables_json: str, token: str | None = None) -> dict:
    body = f'{{"query": {json.dumps(query)}, "variables": {variables_json}}}'
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    response = await client.post("/graphql", content=body.encode(), headers=headers)
    assert response.status_code < 500, response.text
    return response.json()


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
async def test_recommendation_features_that_cannot_be_stored_are_refused(
    app, client, catalog, value
):
    body = await post_raw(client, SLATE, f'{{"f": {value}}}')
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "data" not in body or body["data"] is None


async def test_the_decision_log_keeps_working_after_hostile_features(app, client, catalog):
    for value in HOSTILE.values():
        await post_raw(client, SLATE, f'{{"f": {value}}}')
    body = await post_raw(client, SLATE, '{"f": {"campaign": "winter", "n": 9223372036854775807}}')
    decision = body["data"]["recommendations"]
    product = decision["items"][0]["product"]["id"]
    reward = await post_raw(
        client,
        RECORD,
        json.dumps(
            {"input": {"productId": product, "action": "TICK", "sessionId": "x",
                       "eventId": decision["eventId"]}}
        ),
    )  # fmt: skip
    assert reward["data"]["recordInteraction"]["userErrors"] == []


async def test_inline_hostile_features_are_refused(client, catalog):
    body = await post_raw(
        client,
        "{ recommendations(first: 3, context: {features: {x: 18446744073709551616}}) { eventId } }",
        "{}",
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "signed 64-bit" in body["errors"][0]["message"]


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
async def test_interaction_context_that_cannot_be_stored_is_refused(client, catalog, value):
    product = next(p for p in catalog if p.is_active)
    variables = (
        f'{{"input": {{"productId": "{pid(product)}", "action": "VIEW", "sessionId": "s",'
        f' "context": {value}}}}}'
    )
    body = await post_raw(client, RECORD, variables)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert await UserInteraction.all().count() == 0


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
async def test_preferences_that_cannot_be_stored_are_refused(client, alice, value):
    body = await post_raw(client, UPDATE_ME, f'{{"input": {{"preferences": {value}}}}}', alice)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert not await User.filter(preferences__not={}).exists()


@pytest.mark.parametrize("name", ["\\ud800", "A\\udc00B", "a\\u0000b"])
async def test_names_that_cannot_be_stored_are_refused(client, alice, name):
    """Regression: a lone surrogate in `updateMe(name)` was a 500 on PostgreSQL."""
    body = await post_raw(client, UPDATE_ME, f'{{"input": {{"name": "{name}"}}}}', alice)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    inline = await post_raw(
        client,
        f'mutation {{ updateMe(input: {{name: "{name}"}}) {{ user {{ name }} }} }}',
        "{}",
        alice,
    )
    assert error_codes(inline) in (["BAD_USER_INPUT"], ["GRAPHQL_PARSE_FAILED"])


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
async def test_ar_metadata_that_cannot_be_stored_is_refused(client, catalog, alice, value):
    product = next(p for p in catalog if p.is_active and p.ar_enabled)
    body = await post_raw(
        client, START_AR, f'{{"product": "{pid(product)}", "meta": {value}}}', alice
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert await ARSession.all().count() == 0


async def test_the_largest_storable_values_are_accepted(client, catalog, alice):
    value = json.dumps({"max": 2**63 - 1, "min": -(2**63), "deep": nested(4), "emoji": "🛒"})
    body = await post_raw(client, UPDATE_ME, f'{{"input": {{"preferences": {value}}}}}', alice)
    assert body["data"]["updateMe"]["userErrors"] == []
    assert body["data"]["updateMe"]["user"]["preferences"]["max"] == 2**63 - 1
