"""Categories learn the words customers search for besides their names.

A search for "zapatos", the everyday Spanish word for shoes, found nothing: no default category
is called that. The default categories get the common words for what they hold, in Spain's and
Latin America's Spanish and in English, leaving out those the search already finds in the names
(singulars and plurals, "boots" in "Ankle boots"); a shop edits them in the admin. The words are frozen
here on purpose, like the names in 0002, and only fill a category whose words are still empty.
"""

from django.db import migrations, models

KEYWORDS = {
    "camisetas": "polo, tirantes, remera, playera, tee",
    "pantalones": "vaqueros, tejanos, jeans, chinos, leggings, mallas",
    "jerseis": "suéter, sudadera, cárdigan, buzo, sweater, jumper, sweatshirt, hoodie",
    "abrigos": "chaqueta, chaquetón, cazadora, parka, anorak, gabardina, plumas, plumífero, "
    "jacket, raincoat",
    "camisas": "blusa, blouse",
    "bolsos": "mochila, bandolera, cartera, riñonera, handbag, purse, backpack",
    "calzado": "zapatos, shoes",
    "sandalias": "chanclas, chancletas, flip-flops",
    "zapatillas": "deportivas, tenis, bambas, trainers",
    "botines": "botas",
}


def fill_keywords(apps, schema_editor) -> None:
    Category = apps.get_model("catalog", "Category")
    for slug, words in KEYWORDS.items():
        Category.objects.filter(slug=slug, keywords="").update(keywords=words)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0007_product_names_composed"),
    ]

    operations = [
        migrations.AddField(
            model_name="category",
            name="keywords",
            field=models.CharField(
                blank=True,
                help_text=(
                    "Words customers may search for that are not in the names, in either "
                    "language, separated by commas: e.g. zapatos, shoes. The store's search finds "
                    "the category's products by them."
                ),
                max_length=500,
                verbose_name="other search words",
            ),
        ),
        migrations.RunPython(fill_keywords, migrations.RunPython.noop),
    ]
