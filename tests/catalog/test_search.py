"""The customer's search, on the storefront (/buscar/?q=) and the API (?search=): every word,
in any order, accents, case and Spanish/English plurals aside, category names included."""

from __future__ import annotations

import itertools
import re
import unicodedata
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog import search, selectors, services
from catalog.cache import catalog_changed
from catalog.models import Category, Product
from catalog.names import product_name_from_filename

pytestmark = pytest.mark.django_db
LIST = reverse("api:product-list")
_serial = itertools.count(1)


@pytest.fixture
def make_row(db):
    """A published product filed by the model, without a photo file: fast (as the API's tests)."""

    def make(name: str, category: str, description: str = "", published: bool = True) -> Product:
        n = next(_serial)
        product = Product.objects.create(
            name=name,
            slug=f"busqueda-{n}",
            description=description,
            price=Decimal("10.00"),
            image=f"products/test/{n}.jpg",
            thumbnail=f"thumbnails/test/{n}.webp",
            category=Category.objects.get(slug=category),
            category_source=Product.CategorySource.MODEL,
            classification_status=Product.Status.CLASSIFIED,
            is_published=published,
        )
        catalog_changed()
        return product

    return make


@pytest.fixture
def shop(make_row) -> None:
    """Imported products named after their files, a few named by a person, one hidden."""
    make_row("IMG_0001", "pantalones")
    make_row("IMG_0002", "botines")
    make_row("IMG_0003", "jerseis")
    make_row("Jersey de punto", "jerseis")
    make_row("Vestido de verano rojo", "vestidos")
    make_row("Rojo pasión", "vestidos")
    make_row("Bolso rojo", "bolsos")
    make_row("Camiseta de algodón", "camisetas")
    make_row("IMG_0009", "abrigos", description="Abrigo largo con cinturón")
    make_row("IMG_0010", "calzado")  # footwear the model could not tell apart
    make_row("Pantalón oculto", "pantalones", published=False)


def test_a_name_from_a_macos_file_name_is_found_with_or_without_its_accents(client, photo_bytes):
    """macOS spells file names decomposed ("o" + a combining accent); the store composes them."""
    name = unicodedata.normalize("NFD", "pantalón_chándal_gris.jpg")
    product = services.product_create(
        name=product_name_from_filename(name),
        image=SimpleUploadedFile(name, photo_bytes, content_type="image/jpeg"),
        price=Decimal("25"),
        category=Category.objects.get(slug="pantalones"),
    )
    assert product.name == "Pantalón chándal gris"
    for query in ("chándal", "chandal", unicodedata.normalize("NFD", "chándal")):
        assert storefront(client, query) == {"Pantalón chándal gris"}, query
    services.product_update(
        product=product, data={"name": unicodedata.normalize("NFD", "Chaquetón")}
    )
    assert storefront(client, "chaquetón") == {"Chaquetón"}


def storefront(client, query: str) -> set[str]:
    html = client.get("/buscar/", {"q": query}).content.decode()
    return set(re.findall(r'class="card-link" href="/p/[^"]+/">([^<]+)</a>', html))


def api(client, query: str) -> set[str]:
    response = client.get(LIST, {"search": query})
    assert response.status_code == 200, response.content
    return {p["name"] for p in response.json()["results"]}


@pytest.fixture(params=[storefront, api], ids=["storefront", "api"])
def found(request, client, shop):
    """query → the names of the products a customer finds, through each door."""
    return lambda query: request.param(client, query)


TROUSERS = {"IMG_0001"}
FOOTWEAR = {"IMG_0002", "IMG_0010"}  # a sub-category also finds what is filed under its parent
PULLOVERS = {"IMG_0003", "Jersey de punto"}
DRESSES = {"Vestido de verano rojo", "Rojo pasión"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # accents and case, both ways, and singular/plural against the category's name
        *((q, TROUSERS) for q in ["pantalón", "pantalon", "PANTALÓN", "Pantalones", "pantalónes"]),
        *((q, FOOTWEAR) for q in ["botín", "botin", "Botines", "BOTÍNES", "calzado"]),
        *((q, PULLOVERS) for q in ["jersey", "jerséis", "jerseis", "Jerseys"]),
        *((q, DRESSES) for q in ["vestido", "vestidos", "Vestidos", "dress", "dresses"]),
        ("ankle boots", FOOTWEAR),
        # the everyday words that are not a category's name (Category.keywords)
        *((q, FOOTWEAR) for q in ["zapatos", "Zapato", "shoes", "botas", "bota", "boots"]),
        *((q, PULLOVERS) for q in ["sudadera", "suéter", "sueter", "sweater", "hoodie"]),
        *((q, TROUSERS) for q in ["vaqueros", "jeans", "tejanos"]),
        ("cazadora", {"IMG_0009"}),
        # at the start of a word only: "sweatshirt" (a search word of Jerséis) is no shirt
        ("shirt", {"Camiseta de algodón"}),
        ("zapatos rojos", set()),
        # in the name or description, accents aside
        ("algodon", {"Camiseta de algodón"}),
        ("ALGODÓN", {"Camiseta de algodón"}),
        ("cinturon", {"IMG_0009"}),
        ("pasion", {"Rojo pasión"}),
        # every word, in any order, from the name and the category's name alike
        ("rojo", {*DRESSES, "Bolso rojo"}),
        ("vestido rojo", DRESSES),
        ("rojo vestido", DRESSES),
        ("vestidos rojos", DRESSES),
        ("vestido de verano", {"Vestido de verano rojo"}),
        ("camiseta algodón", {"Camiseta de algodón"}),
        ("bolso vestido", set()),
        # nothing matches: nothing found
        ("zzz", set()),
        ("???", set()),
        # hidden from customers whatever they type
        ("oculto", set()),
    ],
)
def test_a_customer_finds(found, query, expected):
    assert found(query) == expected


def test_a_word_no_product_mentions_is_left_out_and_the_customer_told(client, shop):
    """Every word must match; a colour no name mentions made "camiseta blanca" find nothing."""
    html = client.get("/buscar/", {"q": "camiseta blanca"}).content.decode()
    assert storefront(client, "camiseta blanca") == {"Camiseta de algodón"}
    assert "Ningún producto menciona «blanca»: estos resultados dejan fuera esa palabra." in html
    assert storefront(client, "white t-shirt") == {"Camiseta de algodón"}
    # words that all match keep every word: no notice, nothing left out
    html = client.get("/buscar/", {"q": "vestido rojo"}).content.decode()
    assert "Ningún producto menciona" not in html
    assert storefront(client, "vestido rojo") == DRESSES
    assert storefront(client, "pantalón zzz") == TROUSERS
    # the API keeps its contract: every word
    assert api(client, "camiseta blanca") == api(client, "pantalón zzz") == set()


def test_a_misspelt_category_word_gets_a_suggestion(client, shop):
    html = client.get("/buscar/", {"q": "zapatilas"}).content.decode()
    assert storefront(client, "zapatilas") == set()
    assert '¿Querías decir <a href="/buscar/?q=zapatillas">«zapatillas»</a>?' in html
    assert storefront(client, "zapatillas") == {"IMG_0010"}  # filed under Calzado: any kind
    for nothing_close in ("zzzz", "qwertyuiop"):
        assert "Querías decir" not in client.get("/buscar/", {"q": nothing_close}).content.decode()


def test_search_words_a_shop_adds_find_the_category(client, shop):
    """A shop that sells caps adds "gorra" to a category in the admin; customers find it."""
    bags = Category.objects.get(slug="bolsos")
    assert "gorra" not in bags.keywords and storefront(client, "gorras") == set()
    bags.keywords += ", gorra, cap"
    bags.save()
    catalog_changed()  # as the admin's save does
    assert storefront(client, "gorras") == {"Bolso rojo"}
    assert api(client, "caps") == {"Bolso rojo"}


def test_no_search_word_repeats_what_the_names_find():
    """The words migration 0008 gave the default categories add to their names, each of them."""
    with_words = Category.objects.exclude(keywords="")
    assert with_words.filter(slug="calzado").exists() and with_words.count() >= 10
    for category in with_words:
        names = f"{category.name_es} {category.name_en}"
        for word in category.keywords.split(","):
            (folded,) = search.words(word)
            assert not re.search(search.pattern(folded), names, re.IGNORECASE), word


def test_the_empty_search_behaves_as_before(client, shop):
    page = client.get("/buscar/", {"q": "  "}).content.decode()
    assert "Escribe lo que buscas" in page and storefront(client, "") == set()
    visible = Product.objects.filter(is_published=True)
    assert api(client, "") == set(visible.values_list("name", flat=True))
    assert list(selectors.product_list(search="")) == list(selectors.product_list())


def test_staff_search_includes_unpublished_products(shop):
    staff = selectors.product_list(search="pantalon", published_only=False)
    assert {p.name for p in staff} == {"IMG_0001", "Pantalón oculto"}


def test_products_made_by_the_store_are_found(client, photo_bytes):
    """Through the services, with a real photo, filed by a person."""
    product = services.product_create(
        name="IMG 2041",
        image=SimpleUploadedFile("photo.jpg", photo_bytes, content_type="image/jpeg"),
        price=Decimal("29.90"),
        description="Corte recto, azul marino",
        classify=False,
    )
    services.product_set_category(product=product, category=Category.objects.get(slug="pantalones"))
    assert storefront(client, "pantalón azul") == {"IMG 2041"}
    assert api(client, "Pantalones AZUL") == {"IMG 2041"}


def test_queries_do_not_grow_with_words_or_products(client, shop, make_row):
    with CaptureQueriesContext(connection) as one_word:
        api(client, "vestido")
    for i in range(20):
        make_row(f"Vestido rojo {i}", "vestidos", description="De verano, de algodón")
    with CaptureQueriesContext(connection) as many_words:
        assert len(api(client, "vestidos rojos algodón verano")) == 20
    assert len(many_words) == len(one_word)


@pytest.mark.parametrize(
    ("word", "text", "matches"),
    [
        ("pantalones", "Pantalón", True),
        ("botín", "BOTINES", True),
        ("jersey", "Jerséis", True),
        ("jerséis", "jersey", True),
        ("trajes", "Traje", True),
        ("camisas", "Camisetas y tops", False),
        ("t-shirt", "T-shirts & tops", True),
        ("bolsa", "Bolsos", False),
    ],
)
def test_one_expression_per_word(word, text, matches):
    (folded,) = search.words(word)
    assert bool(re.search(search.pattern(folded), text, re.IGNORECASE)) is matches


def test_words_fold_and_drop_joining_words():
    assert search.words("  Vestido DE verano, ¡ROJO! vestido") == ["vestido", "verano", "rojo"]
    assert search.words("de") == ["de"]  # a query of joining words only keeps them
    assert search.words("<b>?</b>") == ["b"]
