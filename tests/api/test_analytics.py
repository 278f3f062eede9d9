"""Admin analytics over GraphQL: exact revenue, funnel, top products, recommendation quality."""

from __future__ import annotations

from decimal import Decimal

from models import CartItem, Product, User
from models.interaction import InteractionAction
from services import interactions
from services.auth import Viewer
from services.checkout import checkout
from services.order_transitions import cancel_order
from services.recommendations import decide, feedback
from services.recommendations.request import RecommendationRequest
from services.recommendations.rewards import RewardTable
from tests.support.graphql import error_codes, gql, gql_data

ANALYTICS = """
{ analytics {
    revenueByDay { day revenue { amount currency } orders }
    funnel { category views cartAdds purchases viewToCart cartToPurchase }
    topProducts(by: UNITS, first: 2) { units revenue { amount } product { name } }
    interactionsByAction { action count }
    recommendationPerformance { modelVersion decisions shownItems meanReward clickThrough }
    currentPolicyValue(sample: 50) { records ips { value } snips { value } logged { value } }
} }
"""


async def _buy(user: User, lines: list[tuple[Product, int]], key: str, rewards: RewardTable):
    for product, quantity in lines:
        await CartItem.create(user_id=user.id, product_id=product.id, quantity=quantity)
    return await checkout(user_id=user.id, idempotency_key=key, rewards=rewards, currency="USD")


async def test_analytics_add_up_exactly(app, client, admin, db):
    rewards = RewardTable()
    lamp = await Product.create(name="Lamp", price=Decimal("19.99"), category="Lighting",
                                brand="Lumen", inventory=100)  # fmt: skip
    chair = await Product.create(name="Chair", price=Decimal("0.10"), category="Furniture",
                                 brand="Arbor", inventory=100)  # fmt: skip
    await app.state.recommender.catalog.load()
    ann = await User.create(clerk_id="user_ann")
    bob = await User.create(clerk_id="user_bob2")
    await _buy(ann, [(lamp, 1), (chair, 3)], "k1", rewards)  # 19.99 + 0.30
    await _buy(bob, [(chair, 2)], "k2", rewards)  # 0.20
    cancelled = await _buy(bob, [(lamp, 5)], "k3", rewards)
    await cancel_order(order_id=cancelled.id, viewer=Viewer(user=bob))
    for action in (InteractionAction.VIEW, InteractionAction.VIEW):
        await interactions.store_interaction(
            rewards=rewards, product_id=lamp.id, action=action, user_id=ann.id
        )
    runtime = app.state.recommender
    decision, products = await decide.recommendations(
        runtime, Viewer(user=ann), RecommendationRequest(k=2)
    )
    await feedback.record_interaction(
        rewards=rewards, runtime=runtime, product_id=products[0].id,
        action=InteractionAction.TICK, user_id=ann.id, session_id=None,
        event_id=decision.event_id,
    )  # fmt: skip
    await runtime.decisions.flush()
    await runtime.close_windows(older_than=0)

    data = (await gql_data(client, ANALYTICS, token=admin))["analytics"]
    assert data["revenueByDay"] == [
        {"day": data["revenueByDay"][0]["day"], "revenue": {"amount": "20.49", "currency": "USD"},
         "orders": 2}
    ]  # fmt: skip
    lighting = next(r for r in data["funnel"] if r["category"] == "Lighting")
    assert (lighting["views"], lighting["cartAdds"], lighting["purchases"]) == (2, 0, 2)
    # Purchase interactions are recorded per line, the cancelled order's included.
    assert data["topProducts"][0] == {"units": 5, "revenue": {"amount": "0.50"},
                                      "product": {"name": "Chair"}}  # fmt: skip
    counts = {r["action"]: r["count"] for r in data["interactionsByAction"]}
    assert counts["view"] == 2 and counts["purchase"] == 4 and counts["tick"] == 1
    [performance] = data["recommendationPerformance"]
    assert performance["decisions"] == 1 and performance["shownItems"] == 2
    assert performance["meanReward"] == 0.5 and performance["clickThrough"] == 0.5
    assert data["currentPolicyValue"]["records"] == 1


async def test_analytics_is_for_admins(client, alice, db):
    assert error_codes(await gql(client, "{ analytics { interactionsByAction { count } } }")) == [
        "UNAUTHENTICATED"
    ]
    body = await gql(client, "{ analytics { interactionsByAction { count } } }", token=alice)
    assert error_codes(body) == ["FORBIDDEN"]


async def test_periods_are_bounded(client, admin, db):
    body = await gql(
        client,
        '{ analytics { revenueByDay(since: "2020-01-01T00:00:00Z") { day } } }',
        token=admin,
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]
    # Regression (fuzzing): a default period starting before the year 1 raised OverflowError.
    body = await gql(
        client,
        '{ analytics { interactionsByAction(until: "0001-01-01T00:00:00Z") { count } } }',
        token=admin,
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]
