"""The ten categories the model files into, plus "Calzado" (footwear) over the three shoes.

The names are frozen here on purpose: a migration must not change when classifier/labels.py does.
"""

from django.db import migrations

FOOTWEAR = ("calzado", "Calzado", "Footwear")
# (label, slug, name_es, name_en, parent slug)
DEFAULTS = [
    (0, "camisetas", "Camisetas y tops", "T-shirts & tops", None),
    (1, "pantalones", "Pantalones", "Trousers", None),
    (2, "jerseis", "Jerséis", "Pullovers", None),
    (3, "vestidos", "Vestidos", "Dresses", None),
    (4, "abrigos", "Abrigos", "Coats", None),
    (6, "camisas", "Camisas", "Shirts", None),
    (8, "bolsos", "Bolsos", "Bags", None),
    (5, "sandalias", "Sandalias", "Sandals", "calzado"),
    (7, "zapatillas", "Zapatillas", "Sneakers", "calzado"),
    (9, "botines", "Botines", "Ankle boots", "calzado"),
]


def create_defaults(apps, schema_editor):
    Category = apps.get_model("catalog", "Category")
    slug, name_es, name_en = FOOTWEAR
    footwear, _ = Category.objects.get_or_create(
        slug=slug, defaults={"name_es": name_es, "name_en": name_en, "position": 7}
    )
    for position, (label, slug, name_es, name_en, parent) in enumerate(DEFAULTS):
        Category.objects.get_or_create(
            slug=slug,
            defaults={
                "name_es": name_es,
                "name_en": name_en,
                "classifier_label": label,
                "parent": footwear if parent else None,
                "position": position,
            },
        )


def remove_defaults(apps, schema_editor):
    Category = apps.get_model("catalog", "Category")
    Category.objects.filter(slug__in=[d[1] for d in DEFAULTS], products__isnull=True).delete()
    Category.objects.filter(slug=FOOTWEAR[0], children__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(create_defaults, remove_defaults)]
