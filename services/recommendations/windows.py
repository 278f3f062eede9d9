"""Reward windows: a shown item nobody reacted to within the window gets the default reward.

Without these examples the model would only ever hear about items someone clicked or
crossed, never about the ones shoppers silently ignored. The learner sweeps closed windows
every `REWARD_WINDOW_SWEEP_SECONDS`; the default rewards it logs are learned like any
other reward. A decision row that cannot be decoded is closed without default rewards and
counted (`writer="window_sweeper"`): it must not hold up the decisions behind it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from core.background import set_aside
from core.settings import Settings
from models import RecommendationEvent, RecommendationReward
from services.recommendations.decisions import UnreadableDecision, logged_items
from services.recommendations.rewards import DEFAULT_SIGNAL

WRITER = "window_sweeper"
DEFAULT_ACTION = DEFAULT_SIGNAL  # the action of a default reward is its signal, `none`
BATCH = 500


async def close_windows(settings: Settings, *, older_than: float | None = None) -> int:
    """Close the windows of decisions older than `older_than` seconds (default: the reward
    window); returns how many default rewards were logged."""
    window = settings.reward_window_seconds if older_than is None else older_than
    cutoff = datetime.now(UTC) - timedelta(seconds=window)
    logged = 0
    while True:
        events = (
            await RecommendationEvent.filter(closed=False, created_at__lte=cutoff)
            .order_by("id")
            .limit(BATCH)
        )
        if not events:
            return logged
        rewarded: set[tuple[int, int]] = set(
            await RecommendationReward.filter(event_id__in=[e.id for e in events]).values_list(
                "event_id", "product_id"
            )
        )
        defaults = []
        for event in events:
            try:
                items = logged_items(event)
            except UnreadableDecision as error:
                set_aside(WRITER, f"decision {event.event_id}", error)
                continue
            defaults += [
                RecommendationReward(
                    event_id=event.id,
                    product_id=item.action_id,
                    action=DEFAULT_ACTION,
                    signal=DEFAULT_SIGNAL,
                    reward=settings.default_reward,
                    slot=item.slot,
                    probability=item.probability,
                )
                for item in items
                if item.slot < settings.default_reward_slots
                and (event.id, item.action_id) not in rewarded
            ]
        async with in_transaction():
            if defaults:
                await RecommendationReward.bulk_create(defaults, ignore_conflicts=True)
            await RecommendationEvent.filter(id__in=[e.id for e in events]).update(closed=True)
        logged += len(defaults)
