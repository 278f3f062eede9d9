"""A deterministic, realistic demo catalog and demo users.

The same `seed` always yields the same catalog, so demos, benchmarks and screenshots are
reproducible. Images point at SVG placeholders the app serves itself (`/media/...`), so the
demo works without internet access.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tortoise import Tortoise, connections
from tortoise.transactions import in_transaction

from core.db import APP_LABEL
from models import Product, User

DEMO_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class CategorySpec:
    name: str
    nouns: tuple[str, ...]
    price_range: tuple[int, int]
    brands: tuple[str, ...]
    ar_share: float
    attributes: dict[str, tuple[str, ...]]


COLOURS = ("black", "white", "navy", "olive", "sand", "charcoal", "red", "forest", "sky", "rust")
BRANDS = (
    "Northwind", "Kestrel", "Arbor", "Solstice", "Tideline", "Peregrine", "Quillon", "Vantage",
    "Harbor Lane", "Ember", "Fjell", "Corvid", "Maple & Ash", "Orbit", "Drift", "Atlas Supply",
    "Nimbus", "Juniper", "Halcyon", "Ridgeway", "Saltmarsh", "Verity", "Lumen", "Brightwater",
)  # fmt: skip

CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec("Sneakers", ("Runner", "Court Sneaker", "Trail Shoe", "Slip-On", "High-Top"),
                 (49, 189), BRANDS[0:7], 0.3,
                 {"material": ("mesh", "leather", "suede", "canvas", "knit"),
                  "fit": ("narrow", "regular", "wide")}),
    CategorySpec("Jackets", ("Parka", "Rain Shell", "Puffer", "Bomber", "Fleece"),
                 (59, 349), BRANDS[3:10], 0.1,
                 {"material": ("nylon", "wool", "down", "recycled polyester", "cotton"),
                  "waterproof": ("yes", "no")}),
    CategorySpec("T-Shirts", ("Crew Tee", "Pocket Tee", "Long Sleeve Tee", "Henley", "Polo"),
                 (15, 59), BRANDS[6:13], 0.0,
                 {"material": ("cotton", "linen", "merino", "bamboo"),
                  "fit": ("slim", "regular", "relaxed")}),
    CategorySpec("Backpacks", ("Daypack", "Commuter Pack", "Roll-Top", "Travel Pack", "Sling"),
                 (39, 229), BRANDS[9:16], 0.4,
                 {"capacity": ("12L", "20L", "28L", "35L"), "material": ("cordura", "canvas")}),
    CategorySpec("Watches", ("Field Watch", "Diver", "Chronograph", "Smartwatch", "Dress Watch"),
                 (79, 899), BRANDS[12:19], 0.6,
                 {"movement": ("quartz", "automatic", "digital"),
                  "strap": ("steel", "leather", "rubber", "nato")}),
    CategorySpec("Headphones", ("Over-Ear", "Earbuds", "On-Ear", "Studio Monitor", "Sport Buds"),
                 (29, 449), BRANDS[15:22], 0.2,
                 {"connectivity": ("bluetooth", "wired"),
                  "noise_cancelling": ("yes", "no")}),
    CategorySpec("Furniture", ("Lounge Chair", "Side Table", "Bookshelf", "Desk", "Sofa"),
                 (89, 1499), BRANDS[18:24], 0.9,
                 {"material": ("oak", "walnut", "steel", "rattan", "velvet"),
                  "assembly": ("required", "none")}),
    CategorySpec("Lighting", ("Floor Lamp", "Desk Lamp", "Pendant", "Wall Sconce", "Lantern"),
                 (25, 399), (*BRANDS[20:24], *BRANDS[0:3]), 0.8,
                 {"bulb": ("LED", "E27", "integrated"), "dimmable": ("yes", "no")}),
    CategorySpec("Kitchen", ("Chef Knife", "Dutch Oven", "Kettle", "Pour-Over Set", "Skillet"),
                 (19, 329), BRANDS[2:9], 0.2,
                 {"material": ("stainless steel", "cast iron", "ceramic", "carbon steel")}),
    CategorySpec("Skincare", ("Cleanser", "Moisturiser", "Serum", "Sunscreen", "Face Mask"),
                 (9, 89), BRANDS[13:20], 0.0,
                 {"skin_type": ("dry", "oily", "combination", "sensitive"),
                  "size": ("30ml", "50ml", "100ml")}),
)  # fmt: skip

ADJECTIVES = (
    "Classic", "Everyday", "Lightweight", "Heritage", "Urban", "Alpine", "Coastal", "Modern",
    "Essential", "Pro", "Weekend", "Studio", "Voyager", "Summit", "Minimal", "Signature",
)  # fmt: skip

DEMO_USERS = (
    ("user_demo_shopper", "shopper@demo.shopgraph.dev", "Demo Shopper", False),
    ("user_demo_admin", "admin@demo.shopgraph.dev", "Demo Admin", True),
    ("user_demo_alex", "alex@demo.shopgraph.dev", "Alex Rivera", False),
    ("user_demo_sam", "sam@demo.shopgraph.dev", "Sam Okafor", False),
)


def _price(rng: random.Random, low: int, high: int) -> Decimal:
    # Log-uniform with .99/.49/.00 endings, like real price lists.
    value = low * (high / low) ** rng.random()
    ending = rng.choice((Decimal("0.99"), Decimal("0.49"), Decimal("0.00")))
    return Decimal(int(value)) + ending


def generate_products(count: int, *, seed: int = 42, currency: str = "USD") -> list[Product]:
    """Build (unsaved) demo products, `count` of them on sale plus the withdrawn ones
    generated among them (about 2%, for admin demos); identical output for identical
    arguments."""
    rng = random.Random(seed)
    products: list[Product] = []
    active = 0
    index = -1
    while active < count:
        index += 1
        spec = CATEGORIES[index % len(CATEGORIES)]
        brand = rng.choice(spec.brands)
        noun = rng.choice(spec.nouns)
        colour = rng.choice(COLOURS)
        adjective = rng.choice(ADJECTIVES)
        attributes = {key: rng.choice(values) for key, values in spec.attributes.items()}
        ar = rng.random() < spec.ar_share
        name = f"{brand} {adjective} {noun}"
        slug = f"{index + 1:05d}"
        features = {"colour": colour, **attributes, "tags": sorted({adjective.lower(), colour})}
        products.append(
            Product(
                name=name,
                description=(
                    f"The {adjective.lower()} {noun.lower()} from {brand} in {colour}. "
                    + " ".join(
                        f"{k.replace('_', ' ').capitalize()}: {v}." for k, v in attributes.items()
                    )
                ),
                price=_price(rng, *spec.price_range),
                currency=currency,
                category=spec.name,
                brand=brand,
                image_url=f"/media/products/{slug}.svg",
                images=[
                    f"/media/products/{slug}.svg?view={v}" for v in ("front", "side", "detail")
                ],
                features=features,
                inventory=rng.choice((0, 3, 8, 15, 25, 40, 60, 120)) if rng.random() > 0.05 else 0,
                is_active=rng.random() > 0.02,
                has_3d_model=ar,
                model_url=f"/media/models/{slug}.glb" if ar else None,  # not served: demo only
                ar_enabled=ar,
                # Zipf-like engagement so that popularity sorting and cold start look real.
                popularity=round(rng.paretovariate(1.2) * 10, 3),
                created_at=DEMO_EPOCH - timedelta(minutes=rng.randrange(0, 365 * 24 * 60)),
            )
        )
        active += products[-1].is_active
    return products


async def seed_demo(*, products: int = 500, seed: int = 42, currency: str = "USD") -> int:
    """Load the demo users and catalog into an empty catalog. Returns products created."""
    async with in_transaction():
        for clerk_id, email, name, is_admin in DEMO_USERS:
            await User.get_or_create(
                clerk_id=clerk_id, defaults={"email": email, "name": name, "is_admin": is_admin}
            )
        if await Product.exists():
            return 0
        batch = generate_products(products, seed=seed, currency=currency)
        await Product.bulk_create(batch, batch_size=1000)
    return len(batch)  # `products` on sale, and the withdrawn extras


def _tables_children_first() -> list[str]:
    """Every table of the app, each listed before the tables it references."""
    parents_first: list[Any] = []

    def visit(model: Any) -> None:
        if model in parents_first:
            return
        for name in model._meta.fk_fields:
            parent = model._meta.fields_map[name].related_model
            if parent is not model:
                visit(parent)
        parents_first.append(model)

    for model in Tortoise.apps[APP_LABEL].values():
        visit(model)
    return [model._meta.db_table for model in reversed(parents_first)]


async def reset_database(*, truncate: bool = False) -> None:
    """Delete every row (dev, tests and benchmarks only).

    DELETE is an order of magnitude faster than TRUNCATE on the small tables of a test;
    `truncate=True` suits big tables and also restarts the id sequences on PostgreSQL.
    """
    tables = _tables_children_first()
    conn = connections.get("default")
    if truncate and conn.capabilities.dialect == "postgres":
        await conn.execute_script(
            "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
        )
    else:
        await conn.execute_script("".join(f'DELETE FROM "{t}";' for t in tables))  # noqa: S608
