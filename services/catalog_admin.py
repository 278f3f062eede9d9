"""Admin catalog management: create and edit products, manage stock, withdraw products.

Products are never deleted: order lines point at them (RESTRICT) and carts may hold them.
A withdrawn product (`is_active` false) leaves the public catalog; carts keep the line but
checkout refuses it, past orders keep showing it.

Stock changes are single conditional UPDATE statements (`inventory = inventory + delta`
guarded by the bounds), never read-modify-write, so they compose with concurrent
checkouts and with each other.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from tortoise.expressions import F

from core.errors import DomainError, ErrorCode, InvalidInput
from core.json_values import json_object
from core.money import parse_amount
from core.transactions import atomic
from models import Product
from services import events

MAX_NAME_LENGTH = 200
MAX_LABEL_LENGTH = 100  # category, brand
MAX_DESCRIPTION_LENGTH = 5000
MAX_URL_LENGTH = 2048
MAX_IMAGES = 10
MAX_FEATURES_BYTES = 8 * 1024
MAX_FEATURES_DEPTH = 3
MAX_INVENTORY = 1_000_000

# Model attribute -> input field name (GraphQL), used in userErrors.
FIELDS = {
    "name": "name",
    "description": "description",
    "price": "price",
    "category": "category",
    "brand": "brand",
    "image_url": "imageUrl",
    "images": "images",
    "features": "features",
    "inventory": "inventory",
    "model_url": "modelUrl",
    "ar_enabled": "arEnabled",
    "is_active": "isActive",
}
REQUIRED = ("name", "price", "category", "brand")
NULLABLE = ("image_url", "model_url")


def _text(value: Any, field: str, limit: int, *, allow_empty: bool = False) -> str:
    text = str(value).strip()
    if (not text and not allow_empty) or len(text) > limit:
        low = 0 if allow_empty else 1
        raise InvalidInput(f"`{field}` must be {low} to {limit} characters", field=field)
    return text


def _url(value: Any, field: str) -> str:
    """An absolute http(s) URL, or a path on this server (`/media/...`)."""
    url = str(value).strip()
    parsed = urlparse(url)
    absolute = parsed.scheme in ("http", "https") and bool(parsed.netloc)
    local = not parsed.scheme and not parsed.netloc and url.startswith("/")
    if not (absolute or local) or len(url) > MAX_URL_LENGTH or not url.isprintable():
        raise InvalidInput(
            f"`{field}` must be an http(s) URL or a path starting with /", field=field
        )
    return url


def _features(value: Any) -> dict[str, Any]:
    if value is None:
        raise InvalidInput("`features` must be a JSON object", field="features")
    return json_object(
        value, field="features", max_bytes=MAX_FEATURES_BYTES, max_depth=MAX_FEATURES_DEPTH
    )


def _inventory(value: Any, field: str = "inventory") -> int:
    if not isinstance(value, int) or not 0 <= value <= MAX_INVENTORY:
        raise InvalidInput(f"`{field}` must be between 0 and {MAX_INVENTORY}", field=field)
    return value


def _clean(attr: str, value: Any) -> Any:
    field = FIELDS[attr]
    if value is None:
        if attr in NULLABLE:
            return None
        raise InvalidInput(f"`{field}` cannot be null", field=field)
    if attr == "name":
        return _text(value, field, MAX_NAME_LENGTH)
    if attr in ("category", "brand"):
        return _text(value, field, MAX_LABEL_LENGTH)
    if attr == "description":
        return _text(value, field, MAX_DESCRIPTION_LENGTH, allow_empty=True)
    if attr == "price":
        return parse_amount(value, field="price")
    if attr in ("image_url", "model_url"):
        return _url(value, field)
    if attr == "images":
        if not isinstance(value, list) or len(value) > MAX_IMAGES:
            raise InvalidInput(f"`images` holds at most {MAX_IMAGES} URLs", field="images")
        return [_url(v, "images") for v in value]
    if attr == "features":
        return _features(value)
    if attr == "inventory":
        return _inventory(value)
    return bool(value)  # ar_enabled, is_active


def validate_product(values: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """Check input values (keyed by model attribute) and return the cleaned ones."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown product fields: {sorted(unknown)}")
    if creating:
        missing = [FIELDS[a] for a in REQUIRED if values.get(a) is None]
        if missing:
            raise InvalidInput(f"`{missing[0]}` is required", field=missing[0])
    return {attr: _clean(attr, value) for attr, value in values.items()}


def _check_ar(product: Product) -> None:
    if product.ar_enabled and not product.model_url:
        raise InvalidInput("AR needs a 3D model: set `modelUrl` too", field="arEnabled")


def _not_found() -> DomainError:
    return DomainError(ErrorCode.PRODUCT_NOT_FOUND, "No such product", field="id")


async def create_product(values: dict[str, Any], *, currency: str) -> Product:
    attrs = validate_product(values, creating=True)
    product = Product(currency=currency, **attrs)
    product.has_3d_model = product.model_url is not None
    _check_ar(product)
    async with atomic() as tx:
        await product.save()
        tx.after_commit(events.catalog_changed, product.id)
    return product


async def update_product(product_id: int, values: dict[str, Any]) -> Product:
    """Change the given fields only; stock goes through `set_inventory`/`adjust_inventory`."""
    if "inventory" in values:
        raise InvalidInput("Change stock with setInventory or adjustInventory", field="inventory")
    attrs = validate_product(values, creating=False)
    async with atomic() as tx:
        product = await Product.filter(id=product_id).select_for_update(no_key=True).first()
        if product is None:
            raise _not_found()
        for name, value in attrs.items():
            setattr(product, name, value)
        product.has_3d_model = product.model_url is not None
        _check_ar(product)
        if attrs:
            # Only these columns are written, so a concurrent stock change is never undone.
            await product.save(update_fields=[*attrs, "has_3d_model", "updated_at"])
            tx.after_commit(events.catalog_changed, product.id)
    return product


async def deactivate_product(product_id: int) -> Product:
    """Withdraw a product from sale (idempotent). Carts and past orders keep working."""
    return await update_product(product_id, {"is_active": False})


async def set_inventory(product_id: int, inventory: int) -> Product:
    """Set the stock to a counted value (e.g. after a stocktake)."""
    value = _inventory(inventory)
    async with atomic() as tx:
        changed = await Product.filter(id=product_id).update(
            inventory=value, updated_at=datetime.now(UTC)
        )
        if not changed:
            raise _not_found()
        tx.after_commit(events.inventory_changed, product_id, value)
    return await Product.get(id=product_id)


async def adjust_inventory(product_id: int, delta: int) -> Product:
    """Add (or with a negative delta remove) stock atomically; never below 0."""
    if not -MAX_INVENTORY <= delta <= MAX_INVENTORY:
        raise InvalidInput(f"`delta` must be within ±{MAX_INVENTORY}", field="delta")
    bound = {"inventory__gte": -delta} if delta < 0 else {"inventory__lte": MAX_INVENTORY - delta}
    async with atomic() as tx:
        changed = await Product.filter(id=product_id, **bound).update(
            inventory=F("inventory") + delta, updated_at=datetime.now(UTC)
        )
        # Our UPDATE holds the row lock until commit, so this reads the value we produced.
        product = await Product.get_or_none(id=product_id)
        if product is None:
            raise _not_found()
        if not changed:
            if delta < 0:
                raise DomainError(
                    ErrorCode.INSUFFICIENT_STOCK,
                    f"Only {product.inventory} in stock; cannot remove {-delta}",
                    field="delta",
                )
            raise InvalidInput(f"Stock is limited to {MAX_INVENTORY}", field="delta")
        tx.after_commit(events.inventory_changed, product_id, product.inventory)
    return product
