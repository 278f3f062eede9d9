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
    # The decision itself in the compact binary format of
    # `services.recommendations.decisions` (context, candidates with their price, popularity
    # and age when decided, the chosen items with probabilities and scores), about 1.4 KB
    # for 150 candidates where the JSON columns it replaced took about 7 KB.
    payload = fields.BinaryField()
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
    signal (`services.recommendations.rewards`: tick and cross are one signal, the
    shopper's opinion), while distinct signals (an opinion, then a purchase) each count.
    Signal and action `none` are the default reward of a shown item nobody reacted to within
    the window.

    The learner reads rewards in (txid, id) order. On PostgreSQL a trigger stores the id of
    the inserting transaction in `txid`, and the learner reads only rows whose transaction
    is older than every transaction still running, so a row can never appear behind its
    read position. SQLite commits one writer at a time, so there `txid` stays 0 and ids
    commit in order.
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
    txid = fields.BigIntField(default=0, db_default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "recommendation_rewards"
        unique_together = (("event", "product_id", "signal"),)
        indexes = (("txid", "id"),)


class ModelSnapshot(Model):
    """A published recommendation model: what every serving process ranks with.

    Written only by the learner of the current term. The VW model bytes are in `model` or,
    when an object store is configured, at `location`; `sha256` checks them either way.
    """

    id = fields.BigIntField(primary_key=True)
    term = fields.BigIntField()
    model_version = fields.CharField(max_length=64)
    config = fields.JSONField(default=dict)
    # The learner's read position: every reward at or before (txid, reward id) is in it.
    cursor_txid = fields.BigIntField(default=0)
    cursor_id = fields.BigIntField(default=0)
    learned = fields.BigIntField(default=0)
    skipped = fields.BigIntField(default=0)
    # A hash chain over the learned reward ids in learning order (exactly-once check).
    digest = fields.CharField(max_length=64)
    model = fields.BinaryField(null=True)
    location = fields.CharField(max_length=1024, null=True)
    sha256 = fields.CharField(max_length=64)
    size = fields.IntField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "recommendation_model_snapshots"


class LearnerTerm(Model):
    """One row: the term of the current learner, incremented by each process that wins the
    learner lock. Only the holder of the current term publishes snapshots (fencing)."""

    id = fields.IntField(primary_key=True)
    term = fields.BigIntField(default=0)
    holder = fields.CharField(max_length=200, default="")
    elected_at = fields.DatetimeField(null=True)

    class Meta:
        table = "recommendation_learner"


class ModelPromotion(Model):
    """A change of the recommendation learner configuration made by the tuner: a promotion
    with the evidence it rests on, or the rollback of one (`reverts` names it).

    Estimates are of the held-out part of the decision log, in the units of the reward
    table: the current configuration's point estimate, the promoted one's estimate and its
    corrected one-sided lower bound (the promotion rule) and upper bound.
    """

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=16)
    created_at = fields.DatetimeField(db_index=True)
    candidate = fields.CharField(max_length=100)
    from_config = fields.JSONField(default=dict)
    to_config = fields.JSONField(default=dict)
    estimator = fields.CharField(max_length=8, default="")
    current_estimate = fields.FloatField(null=True)
    estimate = fields.FloatField(null=True)
    lower_bound = fields.FloatField(null=True)
    upper_bound = fields.FloatField(null=True)
    n_train = fields.IntField(default=0)
    n_evaluated = fields.IntField(default=0)
    evidence = fields.JSONField(default=dict)
    snapshot_version = fields.BigIntField(null=True)
    reverts = fields.BigIntField(null=True)
    rolled_back_at = fields.DatetimeField(null=True)

    class Meta:
        table = "recommendation_model_promotions"
