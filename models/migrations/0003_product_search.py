"""Full-text search on products: a weighted tsvector and a GIN index on PostgreSQL.

SQLite has no tsvector; `services.catalog` falls back to a LIKE match there, so this
migration does nothing on SQLite.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

from models.migrations._dialect import per_dialect

FORWARD = """
ALTER TABLE products ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', coalesce(name, '')), 'A') ||
    setweight(to_tsvector('english', coalesce(brand, '') || ' ' || coalesce(category, '')), 'B') ||
    setweight(to_tsvector('english', coalesce(description, '')), 'C')
) STORED;
CREATE INDEX products_search_vector_gin ON products USING GIN (search_vector);
"""

BACKWARD = """
DROP INDEX IF EXISTS products_search_vector_gin;
ALTER TABLE products DROP COLUMN IF EXISTS search_vector;
"""


class Migration(migrations.Migration):
    dependencies = [("shop", "0002_integrity_checks")]

    operations = [ops.RunPython(per_dialect(postgres=FORWARD), per_dialect(postgres=BACKWARD))]
