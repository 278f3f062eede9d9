from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.interaction import InteractionAction
from models.order import OrderStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Product',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('price', fields.DecimalField(max_digits=12, decimal_places=2)),
                ('currency', fields.CharField(default='USD', max_length=3)),
                ('category', fields.CharField(db_index=True, max_length=100)),
                ('brand', fields.CharField(db_index=True, max_length=100)),
                ('image_url', fields.CharField(null=True, max_length=2048)),
                ('images', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('features', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('inventory', fields.IntField(default=0)),
                ('is_active', fields.BooleanField(default=True, db_index=True)),
                ('has_3d_model', fields.BooleanField(default=False)),
                ('model_url', fields.CharField(null=True, max_length=2048)),
                ('ar_enabled', fields.BooleanField(default=False)),
                ('popularity', fields.FloatField(default=0.0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'products', 'app': 'shop', 'indexes': [Index(fields=['price', 'id']), Index(fields=['name', 'id']), Index(fields=['created_at', 'id']), Index(fields=['popularity', 'id'])], 'pk_attr': 'id', 'table_description': 'A catalog item. Money is exact: `price` is a Decimal in `currency`.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('clerk_id', fields.CharField(unique=True, max_length=191)),
                ('email', fields.CharField(null=True, unique=True, max_length=320)),
                ('name', fields.CharField(default='', max_length=200)),
                ('avatar_url', fields.CharField(null=True, max_length=2048)),
                ('preferences', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('is_admin', fields.BooleanField(default=False)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'users', 'app': 'shop', 'pk_attr': 'id', 'table_description': 'A shopper or admin, mirrored from Clerk (`clerk_id` is the `sub` claim of its tokens).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ARSession',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('shop.User', source_field='user_id', db_constraint=True, to_field='id', related_name='ar_sessions', on_delete=OnDelete.CASCADE)),
                ('product', fields.ForeignKeyField('shop.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='ar_sessions', on_delete=OnDelete.CASCADE)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('metadata', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'ar_sessions', 'app': 'shop', 'indexes': [Index(fields=['user_id', 'started_at'])], 'pk_attr': 'id', 'table_description': 'A shopper viewing an AR-enabled product in augmented reality.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CartItem',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('shop.User', source_field='user_id', db_constraint=True, to_field='id', related_name='cart_items', on_delete=OnDelete.CASCADE)),
                ('product', fields.ForeignKeyField('shop.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='cart_items', on_delete=OnDelete.CASCADE)),
                ('quantity', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'cart_items', 'app': 'shop', 'unique_together': (('user', 'product'),), 'pk_attr': 'id', 'table_description': 'One product line in the cart of a user, at most one line per (user, product).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ChatSession',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('shop.User', source_field='user_id', db_constraint=True, to_field='id', related_name='chat_sessions', on_delete=OnDelete.CASCADE)),
                ('product', fields.ForeignKeyField('shop.Product', source_field='product_id', null=True, db_constraint=True, to_field='id', related_name='chat_sessions', on_delete=OnDelete.SET_NULL)),
                ('title', fields.CharField(default='', max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'chat_sessions', 'app': 'shop', 'indexes': [Index(fields=['user_id', 'updated_at'])], 'pk_attr': 'id', 'table_description': 'A chat conversation, optionally about one product.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ChatMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('session', fields.ForeignKeyField('shop.ChatSession', source_field='session_id', db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.CASCADE)),
                ('author', fields.ForeignKeyField('shop.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name='chat_messages', on_delete=OnDelete.SET_NULL)),
                ('role', fields.CharField(default='user', max_length=16)),
                ('body', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'chat_messages', 'app': 'shop', 'indexes': [Index(fields=['session_id', 'id'])], 'pk_attr': 'id', 'table_description': 'One message in a chat session.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Order',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('shop.User', source_field='user_id', db_constraint=True, to_field='id', related_name='orders', on_delete=OnDelete.RESTRICT)),
                ('status', fields.CharEnumField(default=OrderStatus.PENDING, db_index=True, description='PENDING: pending\nCONFIRMED: confirmed\nSHIPPED: shipped\nDELIVERED: delivered\nCANCELLED: cancelled', enum_type=OrderStatus, max_length=9)),
                ('total', fields.DecimalField(max_digits=14, decimal_places=2)),
                ('currency', fields.CharField(default='USD', max_length=3)),
                ('idempotency_key', fields.CharField(max_length=200)),
                ('cart_fingerprint', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'orders', 'app': 'shop', 'unique_together': (('user', 'idempotency_key'),), 'indexes': [Index(fields=['user_id', 'created_at', 'id']), Index(fields=['created_at', 'id'])], 'pk_attr': 'id', 'table_description': 'A placed order. Totals are frozen at checkout time and never recomputed.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OrderItem',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('shop.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='items', on_delete=OnDelete.CASCADE)),
                ('product', fields.ForeignKeyField('shop.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='order_items', on_delete=OnDelete.RESTRICT)),
                ('quantity', fields.IntField()),
                ('unit_price', fields.DecimalField(max_digits=12, decimal_places=2)),
                ('currency', fields.CharField(default='USD', max_length=3)),
                ('product_name', fields.CharField(max_length=200)),
            ],
            options={'table': 'order_items', 'app': 'shop', 'pk_attr': 'id', 'table_description': 'A line of an order with the unit price at the moment the order was placed.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='UserInteraction',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('shop.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='interactions', on_delete=OnDelete.SET_NULL)),
                ('session_id', fields.CharField(null=True, max_length=100)),
                ('product', fields.ForeignKeyField('shop.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='interactions', on_delete=OnDelete.CASCADE)),
                ('action', fields.CharEnumField(description='VIEW: view\nTICK: tick\nCROSS: cross\nCART_ADD: cart_add\nPURCHASE: purchase\nAR_VIEW: ar_view', enum_type=InteractionAction, max_length=16)),
                ('reward', fields.FloatField()),
                ('context', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'user_interactions', 'app': 'shop', 'indexes': [Index(fields=['user_id', 'created_at']), Index(fields=['product_id', 'action']), Index(fields=['created_at'])], 'pk_attr': 'id', 'table_description': 'One shopper interaction with a product and the reward it carried.'},
            bases=['Model'],
        ),
    ]
