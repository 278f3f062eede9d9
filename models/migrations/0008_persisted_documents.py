from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('shop', '0007_reward_signals')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PersistedDocument',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('hash', fields.CharField(unique=True, max_length=64)),
                ('body', fields.TextField(unique=False)),
                ('source', fields.CharField(max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'persisted_documents', 'app': 'shop', 'pk_attr': 'id', 'table_description': 'A trusted GraphQL document, by the SHA-256 of its text (added by shop documents add).'},
            bases=['Model'],
        ),
    ]
