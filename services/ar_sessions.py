"""AR sessions: a shopper viewing an AR-enabled product in augmented reality.

Starting one records an `ar_view` interaction (the recommender rewards it). Sessions are
private to their owner: anyone else -- admins included -- gets SESSION_NOT_FOUND.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.errors import DomainError, ErrorCode
from core.json_values import json_object
from core.transactions import atomic
from models import ARSession, Product
from models.interaction import InteractionAction
from services.interactions import store_interaction
from services.recommendations.rewards import RewardTable, RewardTarget

MAX_METADATA_BYTES = 2048


def _metadata(value: Any) -> dict[str, Any]:
    return json_object(value, field="metadata", max_bytes=MAX_METADATA_BYTES)


async def start_ar_session(
    *,
    user_id: int,
    product_id: int,
    rewards: RewardTable,
    metadata: Any = None,
    recommendation: RewardTarget | None = None,
) -> ARSession:
    """Start viewing a product in AR (an `ar_view`, credited to `recommendation` if the
    product was opened from a slate)."""
    details = _metadata(metadata)
    product = await Product.get_or_none(id=product_id)
    if product is None:
        raise DomainError(ErrorCode.PRODUCT_NOT_FOUND, "No such product", field="productId")
    if not product.is_active:
        raise DomainError(
            ErrorCode.PRODUCT_INACTIVE, f"{product.name} is no longer sold", field="productId"
        )
    if not product.ar_enabled:
        raise DomainError(
            ErrorCode.AR_NOT_SUPPORTED, f"{product.name} cannot be viewed in AR", field="productId"
        )
    async with atomic():
        session = await ARSession.create(user_id=user_id, product_id=product_id, metadata=details)
        await store_interaction(
            rewards=rewards,
            product_id=product_id,
            action=InteractionAction.AR_VIEW,
            user_id=user_id,
            context={
                "arSessionId": session.id,
                **(recommendation.as_context() if recommendation else {}),
            },
            attributed_to=recommendation,
        )
    return session


async def end_ar_session(*, user_id: int, session_id: int) -> ARSession:
    """End the session (idempotent: ending it again keeps the first end time)."""
    session = await ARSession.get_or_none(id=session_id, user_id=user_id)
    if session is None:
        raise DomainError(ErrorCode.SESSION_NOT_FOUND, "No such AR session", field="id")
    if session.ended_at is None:
        # Conditional, so a concurrent second end cannot move the end time.
        now = datetime.now(UTC)
        if await ARSession.filter(id=session_id, ended_at__isnull=True).update(ended_at=now):
            session.ended_at = now
        else:
            await session.refresh_from_db(fields=["ended_at"])
    return session


async def ar_sessions_by_ids(ids: list[int], *, user_id: int) -> list[ARSession]:
    return await ARSession.filter(id__in=ids, user_id=user_id)
