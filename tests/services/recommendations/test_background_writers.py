"""A bad row never blocks the rows behind it (issue 12): every background writer of the
recommender sets it aside, counts it on /metrics and goes on.

The bad decisions are built at the service level, bypassing the API's validation of JSON
inputs (which refuses them at the edge): what reaches a writer some other way -- an older
client, a script, a bug -- must still not stop the writer.
"""

from __future__ import annotations

import asyncio

import pytest

from models import RecommendationEvent, RecommendationReward, User
from services.auth import Viewer
from services.recommendations import decide
from services.recommendations.request import RecommendationRequest
from tests.support.graphql import gql

RECORD = """
mutation($input: RecordInteractionInput!) {
  recordInteraction(input: $input) { interaction { id } userErrors { code } } }
"""


def _nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"x": value}
    return value


POISON = {
    "integer past 64 bits": {"x": 18446744073709551616},
    "lone surrogate": {"list": [["\ud800"]]},
    "300 nested levels": _nested(300),
}


async def _skipped(client, writer: str) -> float:
    text = (await client.get("/metrics")).text
    prefix = f'shopgraph_background_rows_skipped_total{{writer="{writer}"}}'
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix)
    )


async def _decide(runtime, viewer, **request):
    request = RecommendationRequest(k=3, **request)
    return await decide.recommendations(runtime, viewer, request)


def _gid(pk: int) -> str:
    import base64

    return base64.b64encode(f"Product:{pk}".encode()).decode()


@pytest.mark.parametrize("poison", list(POISON))
async def test_a_poisoned_decision_is_set_aside_and_the_rest_is_written_and_learned(
    app, client, catalog, alice, poison
):
    runtime = app.state.recommender
    before = await _skipped(client, "decision_log")
    me = await gql(client, "{ me { id } }", token=alice)
    user = await User.get(clerk_id="user_alice")
    assert me["data"]["me"] is not None
    viewer = Viewer(user=user)
    good_before, _ = await _decide(runtime, viewer, page="home")
    bad, _ = await _decide(runtime, viewer, page="home", features=POISON[poison])
    good_after, products = await _decide(runtime, viewer, page="home")
    # A reward on a decision behind the poisoned one: answered, written and learned.
    updates = runtime.model.updates
    body = await gql(
        client, RECORD,
        {"input": {"productId": _gid(products[0].id), "action": "TICK",
                   "eventId": good_after.event_id}},
        token=alice,
    )  # fmt: skip
    assert "errors" not in body, body
    assert body["data"]["recordInteraction"]["userErrors"] == []
    written = set(await RecommendationEvent.all().values_list("event_id", flat=True))
    assert {good_before.event_id, good_after.event_id} <= written
    assert bad.event_id not in written
    assert await _skipped(client, "decision_log") == before + 1
    async with asyncio.timeout(10):
        while runtime.model.updates < updates + 1:
            await asyncio.sleep(0.02)
    # A reward on the poisoned decision itself: a clear typed error, nothing written.
    body = await gql(
        client, RECORD,
        {"input": {"productId": _gid(products[0].id), "action": "TICK", "eventId": bad.event_id}},
        token=alice,
    )  # fmt: skip
    assert [e["code"] for e in body["data"]["recordInteraction"]["userErrors"]] == ["UNKNOWN_EVENT"]


async def test_the_window_sweeper_and_the_learner_set_aside_an_unreadable_decision(
    app, client, catalog
):
    runtime = app.state.recommender
    user = await User.create(clerk_id="user_sweep")
    viewer = Viewer(user=user)
    decisions = [await _decide(runtime, viewer, page=f"p{i}") for i in range(3)]
    await runtime.decisions.flush()
    # The middle decision's row is damaged (a disk error, a bad restore): its payload no
    # longer decodes. Then each decision gets a reward on its top item, as feedback does.
    broken = decisions[1][0].event_id
    await RecommendationEvent.filter(event_id=broken).update(payload=b"\x01not zlib")
    for decision, _products in decisions:
        event = await RecommendationEvent.get(event_id=decision.event_id)
        top = decision.slate.items[0]
        await RecommendationReward.create(
            event_id=event.id, product_id=top.action_id, action="tick", signal="opinion",
            reward=1.0,
            slot=0, probability=top.probability,
        )  # fmt: skip
    swept, learned = await _skipped(client, "window_sweeper"), await _skipped(client, "learner")
    updates = runtime.model.updates

    await runtime.learn_pending()
    assert runtime.model.updates == updates + 2  # the two readable decisions' rewards
    assert await _skipped(client, "learner") == learned + 1
    position = runtime.role.learner.position
    assert position.reward_id == await RecommendationReward.all().order_by(
        "-id"
    ).first().values_list(
        "id", flat=True
    )  # the position moved past the bad one: it holds nothing up

    logged = await runtime.close_windows(older_than=0)
    assert logged == 2 * 2  # slots 1 and 2 of each readable decision (slot 0 was ticked)
    assert await _skipped(client, "window_sweeper") == swept + 1
    assert await RecommendationEvent.filter(closed=False).count() == 0
    await runtime.learn_pending()
    assert runtime.model.updates == updates + 2 + 4
