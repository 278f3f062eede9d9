"""`recommendation_model_promotions`: the tuner's promotions and rollbacks with their evidence."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('shop', '0009_decision_service')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ModelPromotion',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=16)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('candidate', fields.CharField(max_length=100)),
                ('from_config', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('to_config', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('estimator', fields.CharField(default='', max_length=8)),
                ('current_estimate', fields.FloatField(null=True)),
                ('estimate', fields.FloatField(null=True)),
                ('lower_bound', fields.FloatField(null=True)),
                ('upper_bound', fields.FloatField(null=True)),
                ('n_train', fields.IntField(default=0)),
                ('n_evaluated', fields.IntField(default=0)),
                ('evidence', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('snapshot_version', fields.BigIntField(null=True)),
                ('reverts', fields.BigIntField(null=True)),
                ('rolled_back_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'recommendation_model_promotions', 'app': 'shop', 'pk_attr': 'id', 'table_description': 'A change of the recommendation learner configuration made by the tuner: a promotion'},
            bases=['Model'],
        ),
    ]
