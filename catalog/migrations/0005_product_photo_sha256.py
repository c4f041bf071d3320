"""Each product's photo digest, so that an import run again skips what it already made; the
products already in the store get theirs from their stored photo (a missing file: left blank)."""

import hashlib

from django.db import migrations, models


def digest_stored_photos(apps, schema_editor) -> None:
    Product = apps.get_model("catalog", "Product")
    for product in Product.objects.filter(photo_sha256="").only("pk", "image").iterator():
        try:
            with product.image.open("rb") as fh:
                digest = hashlib.sha256(fh.read()).hexdigest()
        except (OSError, ValueError):  # the photo is gone from the storage: nothing to compare
            continue
        Product.objects.filter(pk=product.pk).update(photo_sha256=digest)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_trainingrun"),
    ]

    operations = [
        migrations.AddField(
            model_name="product",
            name="photo_sha256",
            field=models.CharField(
                blank=True,
                db_index=True,
                editable=False,
                max_length=64,
                verbose_name="photo digest",
            ),
        ),
        migrations.RunPython(digest_stored_photos, migrations.RunPython.noop),
    ]
