"""A smaller copy of each large photo for the product page; the products already in the store
get theirs from their stored photo (a missing or unreadable file: left blank, the page shows the
original)."""

from django.db import migrations, models

from catalog.photos import make_display


def make_display_photos(apps, schema_editor) -> None:
    Product = apps.get_model("catalog", "Product")
    for product in Product.objects.filter(display="").only("pk", "image").iterator():
        try:
            with product.image.open("rb") as fh:
                display = make_display(fh.read())
        except (OSError, ValueError):  # gone from the storage, or not readable: keep the original
            continue
        if display is not None:
            product.display.save(display.name, display, save=False)
            Product.objects.filter(pk=product.pk).update(display=product.display.name)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_product_photo_sha256"),
    ]

    operations = [
        migrations.AddField(
            model_name="product",
            name="display",
            field=models.ImageField(
                blank=True, upload_to="display/%Y/%m/", verbose_name="photo for the product page"
            ),
        ),
        migrations.RunPython(make_display_photos, migrations.RunPython.noop),
    ]
