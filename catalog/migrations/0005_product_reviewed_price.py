"""The last reviewed price of a product: later price changes are measured against it.

Listed products were approved at their current price as far as anyone can tell, so they start
from it; the others get theirs when the county next lists them."""

from django.db import migrations, models
from django.db.models import F


def backfill(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    Product.objects.filter(status="listed", reviewed_price__isnull=True).update(reviewed_price=F("price"))


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0004_postgres_search_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="product",
            name="reviewed_price",
            field=models.DecimalField(blank=True, decimal_places=2, editable=False, max_digits=10, null=True,
                                      verbose_name="reviewed price"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
