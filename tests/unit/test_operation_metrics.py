"""Subscriptions are counted while they stream, with no code in the subscription itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import strawberry
from prometheus_client import REGISTRY

from schema.errors import ErrorPolicy
from schema.observability import OperationMetrics

ACTIVE = "shopgraph_graphql_subscriptions_active"


@strawberry.type
class Query:
    ok: bool = True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def ticks(self) -> AsyncGenerator[int, None]:
        for i in range(1_000):
            yield i
            await asyncio.sleep(0)


SCHEMA = strawberry.Schema(
    query=Query,
    subscription=Subscription,
    extensions=[OperationMetrics, lambda: ErrorPolicy(expose_details=False)],
)


def active() -> float:
    return REGISTRY.get_sample_value(ACTIVE) or 0.0


async def test_a_subscription_is_active_while_it_streams():
    before = active()
    stream = await SCHEMA.subscribe("subscription Ticks { ticks }")
    first = await stream.__anext__()
    assert first.data == {"ticks": 0}
    assert active() - before == 1
    second = await SCHEMA.subscribe("subscription { ticks }")
    await second.__anext__()
    assert active() - before == 2
    await stream.aclose()
    assert active() - before == 1
    await second.aclose()
    assert active() == before
    assert (
        REGISTRY.get_sample_value(
            "shopgraph_graphql_operations_total", {"operation": "Ticks", "type": "subscription"}
        )
        == 1
    )


async def test_a_refused_subscription_is_never_active():
    before = active()
    stream = await SCHEMA.subscribe("subscription { nope }")
    result = await stream.__anext__()
    assert result.errors
    await stream.aclose()
    assert active() == before
