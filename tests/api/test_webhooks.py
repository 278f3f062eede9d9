"""Clerk webhooks through Svix: verified, applied once, personal data erased on delete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from models import CartItem, Order, ProcessedWebhook, Product, User
from tests.support.auth import signed
from tests.support.graphql import gql_data


def user_event(kind: str, clerk_id: str = "user_hook", email: str = "hook@example.com") -> dict:
    return {
        "type": kind,
        "data": {
            "id": clerk_id,
            "first_name": "Hook",
            "last_name": "Smith",
            "image_url": "https://img.clerk.example/hook.png",
            "primary_email_address_id": "idn_1",
            "email_addresses": [
                {"id": "idn_0", "email_address": "old@example.com"},
                {"id": "idn_1", "email_address": email},
            ],
        },
    }


async def post(client, body, headers):
    return await client.post("/webhooks/clerk", content=body, headers=headers)


async def test_user_created_then_updated_upserts(client, db):
    response = await post(client, *signed(user_event("user.created")))
    assert response.status_code == 200 and response.json() == {"status": "applied"}
    user = await User.get(clerk_id="user_hook")
    assert (user.email, user.name) == ("hook@example.com", "Hook Smith")
    await post(client, *signed(user_event("user.updated", email="new@example.com")))
    user = await User.get(clerk_id="user_hook")
    assert user.email == "new@example.com"
    assert await User.filter(clerk_id="user_hook").count() == 1


async def test_duplicate_delivery_is_a_no_op(client, db):
    body, headers = signed(user_event("user.created"), msg_id="msg_dup")
    assert (await post(client, body, headers)).json() == {"status": "applied"}
    await User.filter(clerk_id="user_hook").update(name="Changed Locally")
    assert (await post(client, body, headers)).json() == {"status": "duplicate"}
    assert (await User.get(clerk_id="user_hook")).name == "Changed Locally"


@pytest.mark.parametrize(
    "tamper",
    ["bad signature", "other secret", "stale timestamp", "future timestamp", "no headers"],
)
async def test_unverifiable_deliveries_get_400_and_write_nothing(client, db, tamper):
    event = user_event("user.created")
    if tamper == "stale timestamp":
        body, headers = signed(event, at=datetime.now(UTC) - timedelta(minutes=10))
    elif tamper == "future timestamp":
        body, headers = signed(event, at=datetime.now(UTC) + timedelta(minutes=10))
    elif tamper == "other secret":
        body, headers = signed(event, secret="whsec_" + "QUJDREVGR0hJSktMTU5PUA==")
    else:
        body, headers = signed(event)
        if tamper == "bad signature":
            body = body.replace("Hook", "Evil")
        else:
            headers = {"content-type": "application/json"}
    response = await post(client, body, headers)
    assert response.status_code == 400
    assert await User.filter(clerk_id="user_hook").count() == 0


async def test_user_deleted_erases_personal_data_but_keeps_orders(client, token_for):
    token = token_for("user_gone", email="gone@example.com", name="Gone Person")
    await gql_data(client, "mutation { updateMe(input: {preferences: {a: 1}}) { user { id } } }",
                   token=token)  # fmt: skip
    user = await User.get(clerk_id="user_gone")
    product = await Product.create(
        name="Lamp", price=Decimal("25.00"), category="Lighting", brand="Lumen", inventory=5
    )
    await CartItem.create(user=user, product=product, quantity=2)
    order = await Order.create(
        user=user, total=Decimal("25.00"), idempotency_key="k1", cart_fingerprint="f"
    )
    response = await post(client, *signed(user_event("user.deleted", clerk_id="user_gone")))
    assert response.status_code == 200
    user = await User.get(clerk_id="user_gone")
    assert (user.email, user.name, user.avatar_url, user.preferences) == (None, "", None, {})
    assert user.deleted_at is not None
    assert await CartItem.filter(user_id=user.id).count() == 0
    kept = await Order.get(id=order.id)
    assert kept.total == Decimal("25.00") and kept.user_id == user.id
    # The deleted user's still-unexpired token is refused from now on.
    response = await client.post(
        "/graphql", json={"query": "{ me { id } }"}, headers={"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401
    assert await User.filter(clerk_id="user_gone").count() == 1


async def test_a_clerk_update_shows_in_me_at_once_despite_the_token_cache(client, token_for):
    token = token_for("user_hook", email="hook@example.com", name="Before")
    me = "{ me { name email } }"
    assert (await gql_data(client, me, token=token))["me"]["name"] == "Before"
    await post(client, *signed(user_event("user.updated", email="after@example.com")))
    assert (await gql_data(client, me, token=token))["me"] == {
        "name": "Hook Smith",
        "email": "after@example.com",
    }


@pytest.mark.parametrize(
    ("event", "msg_id"),
    [
        ({"type": "user.created", "data": [1, 2]}, None),
        ({"type": "user.deleted", "data": "user_x"}, None),
        (user_event("user.created"), "m" * 5000),
        ({"type": "user.created", "data": {"id": "user_x", "first_name": "\ud800"}}, None),
        ({"type": "user.created", "data": {"id": "user_x", "n": 2**64}}, None),
    ],
    ids=["data a list", "data a string", "5,000-character svix-id", "surrogate", "huge int"],
)
async def test_signed_deliveries_with_the_wrong_shape_get_400_and_write_nothing(
    client, db, event, msg_id
):
    """Regression: correctly signed events of the wrong shape were 500s."""
    response = await post(client, *signed(event, msg_id=msg_id))
    assert response.status_code == 400, response.text
    assert await User.all().count() == 0
    assert await ProcessedWebhook.all().count() == 0
