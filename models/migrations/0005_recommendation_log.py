from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('shop', '0004_processed_webhooks')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RecommendationEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('event_id', fields.CharField(unique=True, max_length=36)),
                ('user', fields.ForeignKeyField('shop.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='recommendation_events', on_delete=OnDelete.SET_NULL)),
                ('session_id', fields.CharField(null=True, max_length=100)),
                ('context', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('candidate_ids', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('candidate_state', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('items', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('model_version', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'recommendation_events', 'app': 'shop', 'indexes': [Index(fields=['user_id', 'created_at']), Index(fields=['session_id', 'created_at'])], 'pk_attr': 'id', 'table_description': "One logged decision: the slate shown, with each item's propensity, for off-policy use."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RecommendationReward',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('event', fields.ForeignKeyField('shop.RecommendationEvent', source_field='event_id', db_constraint=True, to_field='id', related_name='rewards', on_delete=OnDelete.CASCADE)),
                ('interaction', fields.OneToOneField('shop.UserInteraction', source_field='interaction_id', db_constraint=True, to_field='id', related_name='recommendation_reward', on_delete=OnDelete.CASCADE)),
                ('product_id', fields.IntField()),
                ('action', fields.CharField(max_length=16)),
                ('reward', fields.FloatField()),
                ('slot', fields.IntField()),
                ('probability', fields.FloatField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'recommendation_rewards', 'app': 'shop', 'unique_together': (('event', 'product_id', 'action'),), 'pk_attr': 'id', 'table_description': 'A reward on a recommended item: one learning example, learned once, replayable.'},
            bases=['Model'],
        ),
    ]
