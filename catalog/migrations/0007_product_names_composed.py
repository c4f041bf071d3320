"""Product names and descriptions in composed Unicode (NFC), as catalog.services now writes
them: names made from macOS file names ("pantalo\u0301n") were found by no search."""

import unicodedata

from django.db import migrations


def compose_texts(apps, schema_editor) -> None:
    Product = apps.get_model("catalog", "Product")
    for product in Product.objects.only("pk", "name", "description").iterator():
        name = unicodedata.normalize("NFC", product.name)
        description = unicodedata.normalize("NFC", product.description)
        if (name, description) != (product.name, product.description):
            Product.objects.filter(pk=product.pk).update(name=name, description=description)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0006_product_display"),
    ]

    operations = [
        migrations.RunPython(compose_texts, migrations.RunPython.noop),
    ]
