"""GIN indexes that only PostgreSQL has: product search and claim containment.

Declared here rather than in Product.Meta so that the SQLite fallback (no
DATABASE_URL) still migrates; on SQLite these operations do nothing. The search
index has no pending list (fastupdate off): products are written rarely and
searched often, and a long pending list makes every search scan it.
"""

from django.db import migrations

INDEXES = [
    ("catalog_product_search_gin", "CREATE INDEX IF NOT EXISTS catalog_product_search_gin "
                                   "ON catalog_product USING gin (search_vector) WITH (fastupdate = off)"),
    ("catalog_product_claims_gin", "CREATE INDEX IF NOT EXISTS catalog_product_claims_gin "
                                   "ON catalog_product USING gin (claims jsonb_path_ops)"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for _name, sql in INDEXES:
            schema_editor.execute(sql)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, _sql in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_search_events_images_batches")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
