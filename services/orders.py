"""Reading orders: one order, a keyset-paginated list, and the lines of many orders at once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.expressions import Q

from core.errors import DomainError, ErrorCode, Forbidden
from core.pagination import Cursor, Page, PageRequest
from models import Order, OrderItem, OrderStatus
from services.auth import Viewer

CURSOR_KIND = "order"
CURSOR_SORT = "created:desc"


@dataclass(frozen=True, slots=True)
class OrderFilter:
    status: OrderStatus | None = None
    user_id: int | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


async def get_order(order_id: int, *, viewer: Viewer) -> Order | None:
    """The order when the viewer owns it or is an admin; otherwise None, as if missing."""
    found = await orders_by_ids([order_id], viewer=viewer)
    return found[0] if found else None


async def list_orders(page: PageRequest, flt: OrderFilter, *, viewer: Viewer) -> Page[Order]:
    """Newest first, keyset-paginated on (created_at, id). Shoppers see their own orders;
    admins see everyone's and may narrow to one user."""
    user = viewer.require_user()
    query = Order.all()
    if viewer.is_admin:
        if flt.user_id is not None:
            query = query.filter(user_id=flt.user_id)
    else:
        if flt.user_id is not None and flt.user_id != user.id:
            raise Forbidden("Only admins may list another user's orders")
        query = query.filter(user_id=user.id)
    if flt.status is not None:
        query = query.filter(status=flt.status)
    if flt.created_after is not None:
        query = query.filter(created_at__gte=_utc(flt.created_after))
    if flt.created_before is not None:
        query = query.filter(created_at__lt=_utc(flt.created_before))
    if page.after:
        cursor = Cursor.decode(page.after, kind=CURSOR_KIND, sort=CURSOR_SORT, field="after")
        at = _cursor_time(cursor.key)
        query = query.filter(Q(created_at__lt=at) | Q(created_at=at, id__lt=cursor.id))
    rows = await query.order_by("-created_at", "-id").limit(page.size + 1)
    items = rows[: page.size]
    return Page(
        items=items,
        cursors=[
            Cursor(CURSOR_KIND, CURSOR_SORT, o.created_at.isoformat(), o.id).encode() for o in items
        ],
        has_next_page=len(rows) > page.size,
        has_previous_page=page.after is not None,
    )


def _utc(moment: datetime) -> datetime:
    """In UTC (naive input counts as UTC): SQLite compares timestamps as UTC text."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _cursor_time(key: object) -> datetime:
    try:
        return datetime.fromisoformat(str(key))
    except ValueError as exc:
        raise DomainError(
            ErrorCode.INVALID_CURSOR, "`after` is not a valid cursor", field="after"
        ) from exc


async def items_by_order_ids(order_ids: Sequence[int]) -> dict[int, list[OrderItem]]:
    """The lines of many orders in one query, in the order they were written."""
    grouped: dict[int, list[OrderItem]] = defaultdict(list)
    for item in await OrderItem.filter(order_id__in=list(order_ids)).order_by("id"):
        grouped[item.order_id].append(item)  # type: ignore[attr-defined]
    return grouped


async def orders_by_ids(ids: Sequence[int], *, viewer: Viewer) -> list[Order]:
    """The given orders the viewer may see (own, or all for admins)."""
    if not viewer.is_authenticated or not ids:
        return []
    query = Order.filter(id__in=list(ids))
    if not viewer.is_admin:
        query = query.filter(user_id=viewer.user_id)
    return await query
