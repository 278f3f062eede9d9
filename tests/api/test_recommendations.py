"""Recommendations through GraphQL: slates, logged decisions, rewards and online learning."""

from __future__ import annotations

import asyncio
import base64

import pytest

from models import Product, RecommendationEvent, RecommendationReward, UserInteraction
from services.recommendations.decisions import decode
from tests.support.graphql import error_codes, gql, gql_data, pk_of

SLATE = """
query($first: Int!, $context: RecommendationContextInput) {
  recommendations(first: $first, context: $context) {
    eventId modelVersion
    items { slot score probability product { id category inStock isActive } }
  }
}
"""
RECORD = """
mutation($input: RecordInteractionInput!) {
  recordInteraction(input: $input) {
    interaction { id action reward eventId product { id } }
    userErrors { field code message }
  }
}
"""


def gid(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


async def slate(client, token=None, first=5, **context):
    data = await gql_data(client, SLATE, {"first": first, "context": context}, token=token)
    return data["recommendations"]


async def record(client, token=None, **fields):
    body = await gql(client, RECORD, {"input": fields}, token=token)
    return body["data"]["recordInteraction"]


async def learned(app, updates_before: int, expected: int = 1) -> int:
    runtime = app.state.recommender
    for _ in range(500):  # learning waits for older write transactions (learning.py)
        if runtime.model.updates >= updates_before + expected:
            break
        await asyncio.sleep(0.02)
    return runtime.model.updates - updates_before


async def test_a_slate_has_distinct_available_products_with_propensities(client, catalog, alice):
    result = await slate(client, alice, first=8, page="home", device="mobile")
    items = result["items"]
    assert [i["slot"] for i in items] == list(range(8))
    assert len({i["product"]["id"] for i in items}) == 8
    assert all(0 < i["probability"] <= 1 for i in items)
    assert all(i["product"]["inStock"] and i["product"]["isActive"] for i in items)
    again = await slate(client, alice, first=8)
    assert again["eventId"] != result["eventId"]


async def test_every_decision_is_logged_with_its_propensities(app, client, catalog, alice):
    result = await slate(client, alice, first=4, page="home")
    await app.state.recommender.decisions.flush()
    event = await RecommendationEvent.get(event_id=result["eventId"])
    logged = decode(event.payload, created_at=event.created_at)
    assert [i.probability for i in logged.items] == [i["probability"] for i in result["items"]]
    assert len(logged.candidate_ids) >= 4 and event.model_version == result["modelVersion"]
    assert logged.context.page == "home" and event.user_id is not None


async def test_viewing_a_product_puts_its_neighbours_among_the_candidates(app, client, catalog):
    viewed = next(p for p in catalog if p.is_active and p.inventory > 0)
    result = await slate(client, first=3, productId=gid("Product", viewed.id), sessionId="s-1")
    await app.state.recommender.decisions.flush()
    event = await RecommendationEvent.get(event_id=result["eventId"])
    neighbours = {p.id for p in catalog if p.category == viewed.category and p.id != viewed.id}
    candidate_ids = decode(event.payload, created_at=event.created_at).candidate_ids
    assert len(neighbours & set(candidate_ids)) >= min(10, len(neighbours))
    assert viewed.id not in candidate_ids


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"first": 0}, "BAD_USER_INPUT"),
        ({"first": 51}, "BAD_USER_INPUT"),
        ({"first": 3, "context": {"productId": gid("Product", 999999)}}, "PRODUCT_NOT_FOUND"),
        ({"first": 3, "context": {"productId": gid("Order", 1)}}, "PRODUCT_NOT_FOUND"),
        ({"first": 3, "context": {"features": [1, 2]}}, "BAD_USER_INPUT"),
        ({"first": 3, "context": {"features": {"x": "y" * 4100}}}, "BAD_USER_INPUT"),
        ({"first": 3, "context": {"device": "d" * 65}}, "BAD_USER_INPUT"),
    ],
)
async def test_bad_recommendation_requests(client, catalog, variables, code):
    body = await gql(client, SLATE, variables)
    assert error_codes(body) == [code], body


ADD = """mutation($p: ID!, $e: ID) { addToCart(productId: $p, eventId: $e) {
  userErrors { field code } } }"""
CHECKOUT = """mutation($k: String!) { checkout(input: {idempotencyKey: $k}) {
  order { id } userErrors { code } } }"""


async def settled(app) -> int:
    """Run a learning pass to its end (every committed reward learned); how many it learned.

    A signal, not a sleep: whatever the bus delivered or not, after this the model has
    learned every reward row there is, so "not learned" below means "no row to learn"."""
    return await app.state.recommender.learn_pending()


async def test_a_reward_is_logged_and_learned_once_per_signal(app, client, catalog, alice):
    result = await slate(client, alice, first=3)
    product = result["items"][1]["product"]["id"]
    before = app.state.recommender.model.updates
    first = await record(client, alice, productId=product, action="TICK", eventId=result["eventId"])
    assert first["userErrors"] == []
    assert first["interaction"]["reward"] == 1.0
    assert first["interaction"]["eventId"] == result["eventId"]
    assert await learned(app, before) == 1
    # The same opinion again, then a change of mind: stored, never learned twice.
    for action in ("TICK", "CROSS", "TICK"):
        again = await record(
            client, alice, productId=product, action=action, eventId=result["eventId"]
        )
        assert again["userErrors"] == []
    await settled(app)
    assert app.state.recommender.model.updates == before + 1
    rewards = await RecommendationReward.all()
    assert [(r.action, r.signal, r.slot) for r in rewards] == [("tick", "opinion", 1)]
    assert rewards[0].probability == result["items"][1]["probability"]
    assert await UserInteraction.filter(product_id=pk_of(product)).count() == 4
    # The server witnesses a cart add from the slate, then its purchase: two new signals.
    added = await gql_data(client, ADD, {"p": product, "e": result["eventId"]}, token=alice)
    assert added["addToCart"]["userErrors"] == []
    again = await gql_data(client, ADD, {"p": product, "e": result["eventId"]}, token=alice)
    assert again["addToCart"]["userErrors"] == []
    placed = await gql_data(client, CHECKOUT, {"k": "k1"}, token=alice)
    assert placed["checkout"]["userErrors"] == []
    assert await learned(app, before, expected=3) == 3
    await settled(app)
    assert app.state.recommender.model.updates == before + 3
    signals = await RecommendationReward.all().order_by("id").values_list("signal", "reward")
    assert signals == [("opinion", 1.0), ("cart_add", 2.0), ("purchase", 5.0)]


@pytest.mark.parametrize("action", ["CART_ADD", "PURCHASE", "AR_VIEW"])
async def test_clients_cannot_report_what_the_server_witnesses(client, catalog, alice, action):
    """Regression: an anonymous `recordInteraction(action: PURCHASE)` was stored with reward
    5, added to popularity and counted as a purchase in the analytics funnel."""
    result = await slate(client, None, first=3, sessionId="x")
    product = result["items"][0]["product"]["id"]
    popularity = (await Product.get(id=pk_of(product))).popularity
    for token, extra in ((None, {"sessionId": "x"}), (alice, {})):
        body = await gql(
            client,
            RECORD,
            {"input": {"productId": product, "action": action, "eventId": result["eventId"],
                       **extra}},
            token=token,
        )  # fmt: skip
        assert error_codes(body) == ["BAD_USER_INPUT"]
    assert await UserInteraction.all().count() == 0
    assert await RecommendationReward.all().count() == 0
    assert (await Product.get(id=pk_of(product))).popularity == popularity


async def test_a_signed_in_user_cannot_reward_an_anonymous_sessions_slate(
    app, client, catalog, alice
):
    anonymous = await slate(client, None, first=3, sessionId="victim-session")
    product = anonymous["items"][0]["product"]["id"]
    forged = await record(
        client, alice, productId=product, action="TICK", eventId=anonymous["eventId"],
        sessionId="victim-session",
    )  # fmt: skip
    assert [e["code"] for e in forged["userErrors"]] == ["UNKNOWN_EVENT"]
    cart = await gql_data(client, ADD, {"p": product, "e": anonymous["eventId"]}, token=alice)
    assert [e["code"] for e in cart["addToCart"]["userErrors"]] == ["UNKNOWN_EVENT"]
    assert await RecommendationReward.all().count() == 0


async def test_rewards_for_foreign_unknown_or_mismatched_events_are_refused(
    client, catalog, alice, bob
):
    alice_slate = await slate(client, alice, first=3)
    shown = alice_slate["items"][0]["product"]["id"]
    not_shown = next(
        gid("Product", p.id) for p in catalog
        if gid("Product", p.id) not in {i["product"]["id"] for i in alice_slate["items"]}
    )  # fmt: skip
    cases = [
        (bob, shown, alice_slate["eventId"]),  # someone else's decision
        (alice, shown, "0" * 32),  # no such decision
        (alice, not_shown, alice_slate["eventId"]),  # not in that slate
        (None, shown, alice_slate["eventId"]),  # anonymous, with a session
    ]
    for token, product, event_id in cases:
        fields = {"productId": product, "action": "TICK", "eventId": event_id}
        if token is None:
            fields["sessionId"] = "sess-x"
        result = await record(client, token, **fields)
        assert result["interaction"] is None
        assert [e["code"] for e in result["userErrors"]] == ["UNKNOWN_EVENT"]
    assert await UserInteraction.all().count() == 0
    assert await RecommendationReward.all().count() == 0


async def test_anonymous_shoppers_learn_through_their_session(app, client, catalog):
    result = await slate(client, None, first=3, sessionId="sess-anon")
    product = result["items"][0]["product"]["id"]
    before = app.state.recommender.model.updates
    missing_session = await record(client, None, productId=product, action="TICK")
    assert [e["code"] for e in missing_session["userErrors"]] == ["BAD_USER_INPUT"]
    ok = await record(
        client, None, productId=product, action="TICK", eventId=result["eventId"],
        sessionId="sess-anon",
    )  # fmt: skip
    assert ok["userErrors"] == []
    assert await learned(app, before) == 1


async def test_interactions_without_an_event_are_stored_but_not_learned(
    app, client, catalog, alice
):
    product = gid("Product", next(p.id for p in catalog if p.is_active))
    before = app.state.recommender.model.updates
    result = await record(client, alice, productId=product, action="VIEW", context={"ref": "ad"})
    assert result["userErrors"] == [] and result["interaction"]["reward"] == 0.0
    assert await settled(app) == 0
    assert app.state.recommender.model.updates == before
    assert await RecommendationReward.all().count() == 0
    stored = await UserInteraction.get(id=int(result["interaction"]["id"]))
    assert stored.context == {"ref": "ad"}


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"productId": gid("Product", 999999), "action": "TICK"}, "PRODUCT_NOT_FOUND"),
        ({"action": "TICK", "context": [1]}, "BAD_USER_INPUT"),
        ({"action": "TICK", "context": {"x": "y" * 5000}}, "BAD_USER_INPUT"),
    ],
)
async def test_bad_interactions_write_nothing(client, catalog, alice, fields, code):
    fields = {"productId": gid("Product", catalog[0].id), **fields}
    result = await record(client, alice, **fields)
    assert [e["code"] for e in result["userErrors"]] == [code]
    assert await UserInteraction.all().count() == 0


async def test_unknown_actions_fail_validation(client, catalog, alice):
    body = await gql(
        client, RECORD, {"input": {"productId": gid("Product", catalog[0].id), "action": "LIKE"}},
        token=alice,
    )  # fmt: skip
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_the_model_learns_a_shoppers_taste(app, client, catalog, alice):
    """Tick every recommended Furniture item and cross the rest: Furniture must come to
    dominate the first slot. Fails if rewards were not learned or not used."""
    liked = "Furniture"

    async def share_of_liked(rounds: int) -> float:
        hits = 0
        for _ in range(rounds):
            result = await slate(client, alice, first=1, page="home")
            hits += result["items"][0]["product"]["category"] == liked
        return hits / rounds

    baseline = await share_of_liked(30)
    for _ in range(60):
        result = await slate(client, alice, first=4, page="home")
        for item in result["items"]:
            action = "TICK" if item["product"]["category"] == liked else "CROSS"
            await record(client, alice, productId=item["product"]["id"], action=action,
                         eventId=result["eventId"])  # fmt: skip
    await learned(app, 0, expected=0)
    runtime = app.state.recommender
    await runtime.learn_pending()
    after = await share_of_liked(30)
    assert after >= 0.6, (baseline, after)
    assert after > baseline + 0.3, (baseline, after)


async def test_crossing_every_sneaker_shows_fewer_sneakers(app, client, catalog, alice):
    """Issue 13: the shop's own dislike button must teach away. Before the fix a crossed
    product made its category one of "recent interest", so crossing sneakers brought more."""
    disliked = "Sneakers"

    async def share_of_disliked(rounds: int) -> float:
        shown = [
            item["product"]["category"]
            for _ in range(rounds)
            for item in (await slate(client, alice, first=10, page="home"))["items"]
        ]
        return shown.count(disliked) / len(shown)

    before = await share_of_disliked(20)
    for _ in range(80):
        result = await slate(client, alice, first=5, page="home")
        for item in result["items"]:
            if item["product"]["category"] == disliked:
                crossed = await record(client, alice, productId=item["product"]["id"],
                                       action="CROSS", eventId=result["eventId"])  # fmt: skip
                assert crossed["userErrors"] == []
    await settled(app)
    after = await share_of_disliked(30)
    assert before >= 0.05, before  # the catalog's 16 of 150 products: shown at first
    # Measured (PostgreSQL and SQLite, 10 runs): after 0.000-0.017 against before
    # 0.07-0.15; before the fix, after 0.053-0.067 (6 runs).
    assert after <= min(before / 2.5, 0.03), (before, after)
    # What the next decision was ranked with, as logged: sneakers turned down, not "recent".
    await app.state.recommender.decisions.flush()
    latest = await RecommendationEvent.all().order_by("-id").first()
    context = decode(latest.payload, created_at=latest.created_at).context
    assert context.disliked_categories == (disliked,)
    assert disliked not in context.recent_categories
    assert context.disliked_items


async def test_the_newest_signal_on_a_product_wins(app, client, catalog, alice):
    """A tick then a cross on one product: turned down. A cross then a cart add: liked."""
    products = [p for p in catalog if p.is_active and p.inventory > 0]
    first, second = products[0], products[1]
    for action in ("TICK", "CROSS"):
        await record(client, alice, productId=gid("Product", first.id), action=action)
    await record(client, alice, productId=gid("Product", second.id), action="CROSS")
    added = await gql_data(client, ADD, {"p": gid("Product", second.id), "e": None}, token=alice)
    assert added["addToCart"]["userErrors"] == []
    # Views never count: a run of them neither likes nor pushes real signals out.
    for _ in range(60):
        await record(client, alice, productId=gid("Product", products[2].id), action="VIEW")
    app.state.recommender.shopper_signals = type(app.state.recommender.shopper_signals)(ttl=5.0)
    await slate(client, alice, first=3)
    await app.state.recommender.decisions.flush()
    latest = await RecommendationEvent.all().order_by("-id").first()
    context = decode(latest.payload, created_at=latest.created_at).context
    assert context.disliked_items == (first.id,)
    assert second.category in context.recent_categories
    assert products[2].category not in context.recent_categories or products[2].category in (
        first.category, second.category)  # fmt: skip
