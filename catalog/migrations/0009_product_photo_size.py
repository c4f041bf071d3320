"""The size of the photo each product page shows, so the page keeps its place while it loads
(without it, the name, price and button jumped down a phone's screen when the photo arrived).
The products already in the store get theirs from their stored photo: the page's copy where
there is one, else the original; a missing or unreadable file leaves them empty, and the page
shows the photo without a size, as before."""

from django.db import migrations, models

from catalog.photos import upright_size


def fill_photo_sizes(apps, schema_editor) -> None:
    Product = apps.get_model("catalog", "Product")
    products = Product.objects.filter(photo_width=None).only("pk", "image", "display")
    for product in products.iterator():
        shown = product.display or product.image
        try:
            with shown.open("rb") as fh:
                width, height = upright_size(fh.read())
        except (OSError, ValueError):  # gone from the storage, or not readable
            continue
        Product.objects.filter(pk=product.pk).update(photo_width=width, photo_height=height)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0008_category_keywords"),
    ]

    operations = [
        migrations.AddField(
            model_name="product",
            name="photo_height",
            field=models.PositiveIntegerField(
                blank=True, editable=False, null=True, verbose_name="photo height"
            ),
        ),
        migrations.AddField(
            model_name="product",
            name="photo_width",
            field=models.PositiveIntegerField(
                blank=True, editable=False, null=True, verbose_name="photo width"
            ),
        ),
        migrations.RunPython(fill_photo_sizes, migrations.RunPython.noop),
    ]
