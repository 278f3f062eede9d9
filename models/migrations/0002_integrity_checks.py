"""Database-level backstops for the invariants the services enforce.

Stock and money must never go negative even if a code path forgets a check. PostgreSQL gets
CHECK constraints; SQLite cannot add a CHECK to an existing table, so it gets triggers that
abort the offending statement the same way.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

from models.migrations._dialect import per_dialect

CHECKS = {
    "products": [
        ("products_inventory_non_negative", "inventory >= 0"),
        ("products_price_non_negative", "price >= 0"),
    ],
    "cart_items": [("cart_items_quantity_positive", "quantity > 0")],
    "orders": [("orders_total_non_negative", "total >= 0")],
    "order_items": [
        ("order_items_quantity_positive", "quantity > 0"),
        ("order_items_unit_price_non_negative", "unit_price >= 0"),
    ],
}

# SQLite stores Decimal as text, so numeric checks cast explicitly.
SQLITE_CONDITIONS = {
    "inventory >= 0": "NEW.inventory < 0",
    "price >= 0": "CAST(NEW.price AS NUMERIC) < 0",
    "quantity > 0": "NEW.quantity <= 0",
    "total >= 0": "CAST(NEW.total AS NUMERIC) < 0",
    "unit_price >= 0": "CAST(NEW.unit_price AS NUMERIC) < 0",
}


def _postgres(forward: bool) -> str:
    statements = []
    for table, checks in CHECKS.items():
        for name, condition in checks:
            if forward:
                statements.append(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" CHECK ({condition});')
            else:
                statements.append(f'ALTER TABLE "{table}" DROP CONSTRAINT IF EXISTS "{name}";')
    return "\n".join(statements)


def _sqlite(forward: bool) -> str:
    statements = []
    for table, checks in CHECKS.items():
        for name, condition in checks:
            for event in ("INSERT", "UPDATE"):
                trigger = f"{name}_{event.lower()}"
                if not forward:
                    statements.append(f'DROP TRIGGER IF EXISTS "{trigger}";')
                    continue
                statements.append(
                    f'CREATE TRIGGER "{trigger}" BEFORE {event} ON "{table}" '
                    f"WHEN {SQLITE_CONDITIONS[condition]} "
                    f"BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {name}'); END;"
                )
    return "\n".join(statements)


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]

    operations = [
        ops.RunPython(
            per_dialect(postgres=_postgres(True), sqlite=_sqlite(True)),
            per_dialect(postgres=_postgres(False), sqlite=_sqlite(False)),
        )
    ]
