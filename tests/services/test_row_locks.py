"""Row locks, checked on the wire: every service that must lock a row sends a statement
with a lock clause (PostgreSQL), and no ORM call that drops the clause is left in the code.

Regression: `User.filter(..).select_for_update(no_key=True).values_list("id")` reads like
the cart lock but Tortoise sends `SELECT "id" "0" FROM "users" WHERE "id"=$1`, which locks
nothing, so concurrent checkouts of one cart each placed an order.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from models import CartItem, Product
from services import cart, catalog_admin, order_transitions
from services import checkout as checkouts
from services.auth import Viewer
from tests.services.conftest import CURRENCY
from tests.support.db import postgres_only
from tests.support.sql_capture import locking, sent_statements

ROOT = Path(__file__).resolve().parents[2]


async def test_every_locking_service_sends_a_lock_clause(
    settings, make_user, make_product, rewards
):
    postgres_only(settings)
    user = await make_user()
    product = await make_product(inventory=10)

    with sent_statements() as sent:
        await cart.add_to_cart(
            user_id=user.id, product_id=product.id, quantity=2, rewards=rewards, currency=CURRENCY
        )
    assert len(locking(sent, "users")) == 1, sent

    for change in (
        lambda: cart.update_cart_item(
            user_id=user.id, product_id=product.id, quantity=3, currency=CURRENCY
        ),
        lambda: cart.remove_from_cart(user_id=user.id, product_id=product.id, currency=CURRENCY),
        lambda: cart.clear_cart(user_id=user.id, currency=CURRENCY),
    ):
        await CartItem.get_or_create(
            user_id=user.id, product_id=product.id, defaults={"quantity": 1}
        )
        with sent_statements() as sent:
            await change()
        assert len(locking(sent, "users")) == 1, sent

    await CartItem.create(user_id=user.id, product_id=product.id, quantity=2)
    with sent_statements() as sent:
        order = await checkouts.checkout(
            user_id=user.id, idempotency_key="k", rewards=rewards, currency=CURRENCY
        )
    assert len(locking(sent, "users")) == 1, sent
    assert len(locking(sent, "products")) == 1, sent

    with sent_statements() as sent:
        await order_transitions.cancel_order(order_id=order.id, viewer=Viewer(user=user))
    assert len(locking(sent, "orders")) == 1, sent
    assert len(locking(sent, "products")) == 1, sent

    with sent_statements() as sent:
        await catalog_admin.update_product(product.id, {"name": "Renamed"})
    assert len(locking(sent, "products")) == 1, sent
    assert (await Product.get(id=product.id)).inventory == 10


def test_no_lock_is_built_on_a_values_query():
    """`select_for_update()` followed by `values()`/`values_list()` sends no lock clause."""
    pattern = re.compile(r"select_for_update\([^)]*\)[\s.]*values(_list)?\(", re.S)
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("core", "services", "resolvers", "schema", "web", "cli")
        for path in (ROOT / folder).rglob("*.py")
        if pattern.search(path.read_text())
    ]
    assert offenders == []


@pytest.mark.parametrize("table", ["users", "products", "orders"])
async def test_lock_row_reports_whether_the_row_exists(settings, db, table):
    from core.sql import lock_row
    from core.transactions import atomic

    async with atomic():
        assert await lock_row(table, 987654) is False


async def test_lock_row_refuses_unknown_tables(db):
    from core.sql import lock_row

    with pytest.raises(ValueError, match="does not lock"):
        await lock_row('users"; DROP TABLE users; --', 1)
