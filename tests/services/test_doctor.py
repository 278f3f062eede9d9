"""`shop doctor`: a clean demo database passes; a database broken in each way it checks is
caught, in process and through the command; the audit cannot write."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from models import (
    Order,
    OrderItem,
    Product,
    RecommendationEvent,
    RecommendationReward,
    UserInteraction,
)
from models.interaction import InteractionAction
from services import doctor, seed
from tests.api.commerce import ADD_TO_CART, CHECKOUT
from tests.api.test_recommendations import slate
from tests.support.graphql import gql_data, pk_of
from tests.support.live_server import ROOT

EVERY_KIND = {
    "negative_stock": 1,
    "order_total_mismatch": 1,
    "duplicate_checkout": 1,
    "purchase_without_order_line": 1,
    "cart_add_not_from_cart": 1,
    "ar_view_without_session": 1,
    "reward_without_decision": 1,
    "reward_action_mismatch": 1,
    "unreadable_decision": 1,
    "reward_not_shown": 1,
}


async def shop_for_real(app, client, alice) -> dict:
    """The demo catalog, and a shopper who buys from a slate through GraphQL over HTTP:
    a decision, a credited cart add and purchase, an order."""
    await seed.seed_demo(products=40, seed=7, currency="USD")
    await app.state.recommender.catalog.load()
    shown = await slate(client, alice, first=5)
    product_gid = shown["items"][0]["product"]["id"]
    added = await gql_data(
        client,
        ADD_TO_CART,
        {"product": product_gid, "quantity": 2},
        token=alice,
    )
    assert added["addToCart"]["userErrors"] == []
    add_from_slate = """mutation($p: ID!, $e: ID) {
      addToCart(productId: $p, quantity: 1, eventId: $e) { userErrors { code } } }"""
    second = shown["items"][1]["product"]["id"]
    result = await gql_data(
        client, add_from_slate, {"p": second, "e": shown["eventId"]}, token=alice
    )
    assert result["addToCart"]["userErrors"] == []
    order = (await gql_data(client, CHECKOUT, {"key": "doctor-1"}, token=alice))["checkout"]
    assert order["userErrors"] == []
    await app.state.recommender.decisions.flush()
    assert await RecommendationReward.filter(action="purchase").count() == 1
    return {
        "order": pk_of(order["order"]["id"]),
        "event": await RecommendationEvent.get(event_id=shown["eventId"]),
        "shown": [pk_of(i["product"]["id"]) for i in shown["items"]],
    }


async def insert_without_foreign_keys(settings, sql: str, params: list) -> None:
    """Write a row whose parent is missing, as a damaged or hand-edited database holds."""
    if settings.is_postgres:
        async with in_transaction() as conn:
            await conn.execute_script("SET LOCAL session_replication_role = replica")
            await conn.execute_query(sql, params)
        return
    conn = connections.get("default")
    await conn.execute_script("PRAGMA foreign_keys = OFF")
    try:
        await conn.execute_query(sql.replace("$1", "?").replace("$2", "?"), params)
    finally:
        await conn.execute_script("PRAGMA foreign_keys = ON")


SQLITE_STOCK_TRIGGER = (
    'CREATE TRIGGER "products_inventory_non_negative_update" BEFORE UPDATE ON "products" '
    "WHEN NEW.inventory < 0 "
    "BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: products_inventory_non_negative'); END;"
)


async def _negative_stock(settings, product_id: int) -> None:
    """Negative stock past the database's own check (migration 0002), as a database
    restored from an older dump or edited by hand may hold. `restore_stock_check` undoes."""
    conn = connections.get("default")
    if settings.is_postgres:
        await conn.execute_script(
            "ALTER TABLE products DROP CONSTRAINT products_inventory_non_negative"
        )
    else:
        await conn.execute_script('DROP TRIGGER "products_inventory_non_negative_update"')
    await Product.filter(id=product_id).update(inventory=-2)


async def restore_stock_check(settings) -> None:
    conn = connections.get("default")
    await Product.filter(inventory__lt=0).update(inventory=0)
    if settings.is_postgres:
        await conn.execute_script(
            "ALTER TABLE products ADD CONSTRAINT products_inventory_non_negative "
            "CHECK (inventory >= 0)"
        )
    else:
        await conn.execute_script(SQLITE_STOCK_TRIGGER)


@asynccontextmanager
async def broken(settings, shop: dict) -> AsyncIterator[None]:
    await break_every_invariant(settings, shop)
    try:
        yield
    finally:
        await restore_stock_check(settings)


async def break_every_invariant(settings, shop: dict) -> None:
    order = await Order.get(id=shop["order"])
    lines = await OrderItem.filter(order_id=order.id)
    user_id = order.user_id  # type: ignore[attr-defined]
    outsider = await Product.exclude(id__in=shop["shown"]).order_by("id").first()

    await _negative_stock(settings, outsider.id)
    # The same cart checked out twice (as issue 12's race did): lines and totals consistent.
    twin = await Order.create(
        user_id=user_id,
        total=order.total,
        currency=order.currency,
        idempotency_key="doctor-2",
        cart_fingerprint=order.cart_fingerprint,
    )
    await OrderItem.bulk_create(
        [
            OrderItem(
                order_id=twin.id,
                product_id=line.product_id,  # type: ignore[attr-defined]
                quantity=line.quantity,
                unit_price=line.unit_price,
                currency=line.currency,
                product_name=line.product_name,
            )
            for line in lines
        ]
    )
    tampered = await Order.create(
        user_id=user_id,
        total=Decimal("1.00"),
        currency="USD",
        idempotency_key="doctor-3",
        cart_fingerprint="0" * 64,
    )
    await OrderItem.create(
        order_id=tampered.id,
        product_id=outsider.id,
        quantity=3,
        unit_price=Decimal("2.50"),
        currency="USD",
        product_name="x",
    )
    forged = {"user_id": user_id, "product_id": outsider.id, "reward": 5.0}
    await UserInteraction.create(
        action=InteractionAction.PURCHASE, context={"orderId": order.id}, **forged
    )
    await UserInteraction.create(
        action=InteractionAction.CART_ADD,
        product_id=outsider.id,
        session_id="forger",
        reward=2.0,
        context={},
    )
    await UserInteraction.create(
        action=InteractionAction.AR_VIEW, context={"arSessionId": 987654}, **forged
    )
    await RecommendationEvent.create(
        event_id="not-a-decision",
        payload=b"\x01this is not zlib",
        model_version="x",
        created_at=datetime.now(UTC),
    )
    event = shop["event"]
    await RecommendationReward.create(
        event_id=event.id,
        product_id=outsider.id,
        action="tick",
        signal="opinion",
        reward=1.0,
        slot=0,
        probability=0.5,
    )
    view = await UserInteraction.create(
        action=InteractionAction.VIEW, user_id=user_id, product_id=shop["shown"][2], reward=0.0
    )
    await RecommendationReward.create(
        event_id=event.id,
        interaction_id=view.id,
        product_id=shop["shown"][2],
        action="purchase",
        signal="purchase",
        reward=5.0,
        slot=2,
        probability=0.2,
    )
    await insert_without_foreign_keys(
        settings,
        "INSERT INTO recommendation_rewards (event_id, product_id, action, signal, reward, "
        "slot, probability, txid, created_at) VALUES ($1, $2, 'tick', 'opinion', 1, 0, 0.5, 0, "
        "CURRENT_TIMESTAMP)",
        [event.id + 1_000_000, shop["shown"][0]],
    )


async def test_a_clean_demo_database_is_healthy(app, client, alice):
    await shop_for_real(app, client, alice)

    report = await doctor.audit()

    assert report.healthy, report.as_text()
    assert set(report.counts) == set(EVERY_KIND)
    assert report.as_text().endswith("healthy")


async def test_each_broken_invariant_is_reported(settings, app, client, alice):
    shop = await shop_for_real(app, client, alice)
    async with broken(settings, shop):
        report = await doctor.audit()

    assert report.counts == EVERY_KIND, report.as_text()
    assert not report.healthy
    subjects = {f.check: f.subject for f in report.findings}
    assert subjects["duplicate_checkout"].startswith(f"orders {shop['order']} and ")
    assert subjects["unreadable_decision"].endswith("(not-a-decision)")
    text = report.as_text()
    assert "FAIL  negative_stock: 1" in text and text.endswith("10 problem(s) found")


async def test_the_command_reports_json_and_exits_non_zero(settings, app, client, alice, tmp_path):
    shop = await shop_for_real(app, client, alice)
    env = {
        **os.environ,
        "ENV": "test",
        "DATABASE_URL": settings.resolved_database_url,
        "DATA_DIR": str(tmp_path),
        "BROADCAST_URL": "memory://",
    }
    command = [sys.executable, "-m", "cli.main", "doctor", "--json"]
    clean = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert clean.returncode == 0, clean.stderr
    assert json.loads(clean.stdout)["healthy"] is True

    async with broken(settings, shop):
        result = subprocess.run(
            command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
        )

    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["healthy"] is False
    assert report["counts"] == EVERY_KIND
    assert {f["check"] for f in report["findings"]} == set(EVERY_KIND)


async def test_the_audit_runs_in_a_read_only_transaction(settings, db):
    if not settings.is_postgres:
        pytest.skip("SQLite has no read-only transactions; the checks there are SELECTs")
    async with doctor.read_only_snapshot():
        with pytest.raises(Exception, match="read-only transaction"):
            await Product.create(name="x", price=Decimal(1), category="c", brand="b")
