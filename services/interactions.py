"""Shopper interactions with products: recording them and reading their aggregates."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.functions import Count

from models import UserInteraction


async def action_counts(product_ids: Sequence[int]) -> list[tuple[int, str, int]]:
    """(product id, action, count) for every action recorded on the given products."""
    rows = (
        await UserInteraction.filter(product_id__in=list(product_ids))
        .annotate(n=Count("id"))
        .group_by("product_id", "action")
        .values_list("product_id", "action", "n")
    )
    return [(pid, str(action), int(n)) for pid, action, n in rows]
