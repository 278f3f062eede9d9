from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint

from models.migrations._dialect import per_dialect

# Rewards are unique per (decision, product, signal) from now on; tick and cross are one
# signal, the shopper's opinion (services/rewards.py). Rows logged before keep their action
# as their signal, except opinions; where one item had several opinions on one decision,
# the first is kept (the later ones were learned already and stay in the interaction log).
FILL_SIGNALS = """
UPDATE recommendation_rewards
   SET signal = CASE WHEN action IN ('tick', 'cross') THEN 'opinion' ELSE action END;
DELETE FROM recommendation_rewards
 WHERE EXISTS (SELECT 1 FROM recommendation_rewards AS earlier
                WHERE earlier.event_id = recommendation_rewards.event_id
                  AND earlier.product_id = recommendation_rewards.product_id
                  AND earlier.signal = recommendation_rewards.signal
                  AND earlier.id < recommendation_rewards.id);
"""

LEGACY_INDEX = """
CREATE INDEX IF NOT EXISTS "uid_recommendat_event_i_bc84b8"
    ON "recommendation_rewards" ("event_id", "product_id", "action");
"""
ONE_REWARD_PER_INTERACTION = """
CREATE UNIQUE INDEX IF NOT EXISTS "uid_recommendat_interac_one"
    ON "recommendation_rewards" ("interaction_id");
"""


class Migration(migrations.Migration):
    dependencies = [('shop', '0006_reward_window')]

    initial = False

    operations = [
        ops.AddField(
            model_name='CartItem',
            name='recommendation_event',
            field=fields.ForeignKeyField('shop.RecommendationEvent', source_field='recommendation_event_id', null=True, db_constraint=True, to_field='id', related_name='cart_items', on_delete=OnDelete.SET_NULL),
        ),
        # On SQLite, 0006 rebuilt this table (Tortoise's way to alter a column) and the
        # rebuild dropped its unique indexes. Give RemoveConstraint the index it looks for.
        ops.RunPython(per_dialect(sqlite=LEGACY_INDEX)),
        ops.RemoveConstraint(
            model_name='RecommendationReward',
            name=None,
            fields=['event', 'product_id', 'action'],
        ),
        ops.AddField(
            model_name='RecommendationReward',
            name='signal',
            field=fields.CharField(max_length=16, null=True),
        ),
        ops.RunPython(per_dialect(postgres=FILL_SIGNALS, sqlite=FILL_SIGNALS)),
        ops.AlterField(
            model_name='RecommendationReward',
            name='signal',
            field=fields.CharField(max_length=16),
        ),
        ops.AddConstraint(
            model_name='RecommendationReward',
            constraint=UniqueConstraint(fields=('event', 'product_id', 'signal'), name=None),
        ),
        # The one-to-one's unique index, lost on SQLite by the same rebuild (and by this one).
        ops.RunPython(per_dialect(sqlite=ONE_REWARD_PER_INTERACTION)),
    ]
