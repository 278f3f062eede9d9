from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class RecommendationEvent(Model):
    """One logged decision: the slate shown, with each item's propensity, for off-policy use."""

    id = fields.BigIntField(primary_key=True)
    event_id = fields.CharField(max_length=36, unique=True)
    user = fields.ForeignKeyField(
        "shop.User", related_name="recommendation_events", null=True, on_delete=fields.SET_NULL
    )
    session_id = fields.CharField(max_length=100, null=True)
    # The learner's context features (JSON form of bandit.features.ContextFeatures).
    context = fields.JSONField(default=dict)
    candidate_ids = fields.JSONField(default=list)
    # The candidates' changing features when decided, aligned with `candidate_ids`:
    # [price, popularity, age in days]. With the products' own (static) attributes they
    # rebuild the decision exactly for replay and offline evaluation.
    candidate_state = fields.JSONField(default=list)
    # [{"productId", "slot", "probability", "score"}] in slot order.
    items = fields.JSONField(default=list)
    model_version = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(db_index=True)
    # Set when the reward window has closed and unrewarded slots got the default reward.
    closed = fields.BooleanField(default=False)

    class Meta:
        table = "recommendation_events"
        indexes = (
            ("user_id", "created_at"),
            ("session_id", "created_at"),
            ("closed", "created_at"),
        )


class RecommendationReward(Model):
    """A reward on a recommended item: one learning example, learned once, replayable.

    Unique per (decision, product, signal): an item carries at most one learned reward per
    signal (`services.rewards`: tick and cross are one signal, the shopper's opinion), while
    distinct signals (an opinion, then a purchase) each count. Signal and action `none` are
    the default reward of a shown item nobody reacted to within the window.
    """

    id = fields.BigIntField(primary_key=True)
    event = fields.ForeignKeyField(
        "shop.RecommendationEvent", related_name="rewards", on_delete=fields.CASCADE
    )
    # NULL for the default reward given when the window closed without an interaction.
    interaction = fields.OneToOneField(
        "shop.UserInteraction",
        related_name="recommendation_reward",
        null=True,
        on_delete=fields.CASCADE,
    )
    product_id = fields.IntField()
    action = fields.CharField(max_length=16)
    signal = fields.CharField(max_length=16)
    reward = fields.FloatField()
    slot = fields.IntField()
    probability = fields.FloatField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "recommendation_rewards"
        unique_together = (("event", "product_id", "signal"),)
