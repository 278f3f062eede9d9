from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('shop', '0005_recommendation_log')]

    initial = False

    operations = [
        ops.AddField(
            model_name='RecommendationEvent',
            name='closed',
            field=fields.BooleanField(default=False),
        ),
        ops.AddIndex(
            model_name='RecommendationEvent',
            index=Index(fields=['closed', 'created_at']),
        ),
        ops.AlterField(
            model_name='RecommendationReward',
            name='interaction',
            field=fields.OneToOneField('shop.UserInteraction', source_field='interaction_id', null=True, db_constraint=True, to_field='id', related_name='recommendation_reward', on_delete=OnDelete.CASCADE),
        ),
    ]
