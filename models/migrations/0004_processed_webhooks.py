from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('shop', '0003_product_search')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ProcessedWebhook',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('message_id', fields.CharField(unique=True, max_length=100)),
                ('event_type', fields.CharField(max_length=100)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'processed_webhooks', 'app': 'shop', 'pk_attr': 'id', 'table_description': 'A webhook delivery already applied, by its `svix-id`, so redeliveries are no-ops.'},
            bases=['Model'],
        ),
    ]
