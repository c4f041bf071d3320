"""The storefront: what customers see, in which order, in which language, and at what cost."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import services
from catalog.models import Category, Product
from tests.conftest import ROOT
from tests.photo_files import large_photo

pytestmark = pytest.mark.django_db


def cat(slug: str) -> Category:
    return Category.objects.get(slug=slug)


@pytest.fixture
def make_product(photo_bytes):
    """A product made as the store makes one (validated photo, thumbnail), filed by a person."""

    def make(
        name: str = "Pantalón vaquero",
        category: str | None = "pantalones",
        price: str = "19.90",
        published: bool = True,
        description: str = "",
    ) -> Product:
        product = services.product_create(
            name=name,
            image=SimpleUploadedFile("photo.jpg", photo_bytes, content_type="image/jpeg"),
            price=Decimal(price),
            description=description,
            is_published=published,
            classify=False,
        )
        if category:
            services.product_set_category(product=product, category=cat(category))
        return product

    return make


def copies(product: Product, n: int, **fields) -> list[Product]:
    """``n`` more products sharing ``product``'s files; fast, for listings that need many."""
    return Product.objects.bulk_create(
        Product(
            name=f"{product.name} {i}",
            slug=f"{product.slug}-copy-{i}",
            price=product.price,
            image=product.image.name,
            thumbnail=product.thumbnail.name,
            category=product.category,
            category_source=product.category_source,
            classification_status=product.classification_status,
            **fields,
        )
        for i in range(n)
    )


def names_in_order(html: str) -> list[str]:
    """Product names in the order their cards appear."""
    return re.findall(r'class="card-link" href="/p/[^"]+/">([^<]+)</a>', html)


# Home ---------------------------------------------------------------------------------------


def test_home_lists_categories_with_counts_samples_and_newest(client, make_product):
    trousers = make_product("Pantalón chino", "pantalones")
    sandal = make_product("Sandalia de cuero", "sandalias")
    make_product("Sandalia plana", "sandalias")

    response = client.get("/")

    assert response.status_code == 200
    tree = {c.slug: c for c in response.context["category_tree"]}
    assert tree["calzado"].product_count == 2  # sub-categories count for their parent
    assert tree["pantalones"].product_count == 1 and tree["bolsos"].product_count == 0
    html = response.content.decode()
    assert 'href="/c/calzado/"' in html and "Calzado" in html
    assert "2 productos" in html and "1 producto" in html
    # a category with nothing to show is neither a card nor in the menu: it led to an empty page
    assert "0 productos" not in html and 'href="/c/bolsos/"' not in html
    # the sample of "Calzado" is the newest product of its sub-categories
    assert tree["calzado"].sample.name == "Sandalia plana"
    assert tree["pantalones"].sample == trousers and tree["bolsos"].sample is None
    assert trousers.thumbnail.url in html
    assert 'loading="lazy"' in html and 'width="480" height="480"' in html
    assert names_in_order(html)[:3] == ["Sandalia plana", "Sandalia de cuero", "Pantalón chino"]
    assert sandal.image.url not in html  # cards show thumbnails, never the full photo


def test_home_query_count_does_not_grow_with_products(
    client, make_product, django_assert_max_num_queries
):
    for slug in ("pantalones", "sandalias", "bolsos"):
        copies(make_product(category=slug), 4)
    with CaptureQueriesContext(connection) as few:
        client.get("/")
    for slug in ("pantalones", "sandalias", "bolsos", "vestidos"):
        copies(make_product(category=slug), 20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/")
    assert response.status_code == 200
    assert len(few.captured_queries) <= 5


def test_an_empty_store_says_so(client):
    response = client.get("/")
    assert "Todavía no hay productos en la tienda." in response.content.decode()


# Category -----------------------------------------------------------------------------------


def test_category_page_includes_subcategory_products_and_chips(client, make_product):
    make_product("Sandalia de cuero", "sandalias")
    make_product("Botín negro", "botines")
    make_product("Pantalón chino", "pantalones")

    html = client.get("/c/calzado/").content.decode()

    assert sorted(names_in_order(html)) == ["Botín negro", "Sandalia de cuero"]
    for name in ("Sandalias", "Botines"):  # the chips of sub-categories with products
        assert f'href="/c/{name.lower()}/"' in html and name in html
    assert 'href="/c/zapatillas/"' not in html  # none: a chip would lead to an empty page
    home = client.get("/").content.decode()
    assert "Sandalias · Botines" in home and "Zapatillas" not in home


def test_footwear_filed_under_calzado_shows_no_empty_chips(client, make_product):
    make_product("Bota de piel", "calzado")
    html = client.get("/c/calzado/").content.decode()
    assert names_in_order(html) == ["Bota de piel"]
    assert 'class="chips"' not in html
    assert client.get("/c/zapatillas/").status_code == 200  # still there for a link or a person


def test_subcategory_page_has_a_breadcrumb_to_its_parent(client, make_product):
    make_product("Sandalia de cuero", "sandalias")
    html = client.get("/c/sandalias/").content.decode()
    start = html.index('class="breadcrumb"')
    breadcrumb = html[start : html.index("</nav>", start)]
    assert 'href="/c/calzado/"' in breadcrumb and "Sandalias" in breadcrumb
    assert names_in_order(html) == ["Sandalia de cuero"]


def test_empty_category_is_friendly(client):
    response = client.get("/c/bolsos/")
    assert response.status_code == 200
    assert "Todavía no hay productos en esta categoría." in response.content.decode()


def test_the_pages_django_renders_without_a_request_are_whole(rf):
    """500 and 400 pages: no request, no database; both languages, a way back to the store."""
    from django.views.defaults import bad_request, server_error

    for view, status, spanish in [
        (server_error, 500, "Algo ha fallado"),
        (lambda request: bad_request(request, None), 400, "elige menos a la vez"),
    ]:
        response = view(rf.get("/"))
        html = response.content.decode()
        assert response.status_code == status and spanish in html and 'lang="en"' in html
        assert 'href="/"' in html and "{%" not in html


def test_unknown_category_is_404(client):
    assert client.get("/c/no-existe/").status_code == 404


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("price", ["Barato", "Medio", "Caro"]),
        ("-price", ["Caro", "Medio", "Barato"]),
        ("newest", ["Medio", "Caro", "Barato"]),
        ("nonsense", ["Medio", "Caro", "Barato"]),  # unknown sorts fall back to newest
    ],
)
def test_category_sorts(client, make_product, sort, expected):
    make_product("Barato", price="5.00")
    make_product("Caro", price="80.00")
    make_product("Medio", price="20.00")
    response = client.get("/c/pantalones/", {"sort": sort})
    assert names_in_order(response.content.decode()) == expected


def test_category_paginates_and_keeps_the_sort(client, make_product):
    copies(make_product("Pantalón"), 24)  # 25 in all

    first = client.get("/c/pantalones/", {"sort": "price"})
    second = client.get("/c/pantalones/", {"sort": "price", "page": 2})

    assert first.context["page_obj"].paginator.num_pages == 2
    assert len(names_in_order(first.content.decode())) == 24
    assert len(names_in_order(second.content.decode())) == 1
    assert 'href="?sort=price&amp;page=2"' in first.content.decode()
    assert 'href="?sort=price&amp;page=1"' in second.content.decode()
    assert client.get("/c/pantalones/", {"page": "abc"}).status_code == 200  # bad page: first


def test_category_query_count_does_not_grow_with_products(
    client, make_product, django_assert_max_num_queries
):
    copies(make_product("Sandalia", "sandalias"), 4)  # 5 products
    with CaptureQueriesContext(connection) as five:
        client.get("/c/calzado/")
    copies(make_product("Botín", "botines"), 24)  # 30 products
    with django_assert_max_num_queries(len(five.captured_queries)):
        response = client.get("/c/calzado/")
    assert len(names_in_order(response.content.decode())) == 24
    assert len(five.captured_queries) <= 8


# Product ------------------------------------------------------------------------------------


def test_product_page_shows_photo_price_description_and_category(client, make_product):
    product = make_product(
        "Sandalia de cuero", "sandalias", price="1234.50", description="Piel.\nHecha a mano."
    )
    response = client.get(product.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert f'src="{product.image.url}" alt="Sandalia de cuero"' in html
    assert "1\xa0234,50 €" in html
    assert "<p>Piel.<br>Hecha a mano.</p>" in html
    assert 'href="/c/sandalias/"' in html and 'href="/c/calzado/"' in html  # link + breadcrumb


def test_product_page_shows_a_large_photo_as_its_smaller_copy(client, photo_bytes):
    product = services.product_create(
        name="Abrigo largo",
        image=SimpleUploadedFile("a.jpg", large_photo(photo_bytes), content_type="image/jpeg"),
        price=Decimal("90"),
        category=Category.objects.get(slug="abrigos"),
    )
    html = client.get(product.get_absolute_url()).content.decode()
    assert product.display and f'src="{product.display.url}"' in html
    assert product.image.url not in html
    # its place kept while it loads: the copy's size, not the original's
    assert f'width="{product.photo_width}" height="{product.photo_height}"' in html
    assert max(product.photo_width, product.photo_height) == 1200


def test_hidden_products_never_appear_to_customers(client, admin_client, make_product):
    make_product("Visible azul")
    draft = make_product("Borrador azul", published=False)
    unfiled = make_product("Perdido azul", category=None)

    pages = [client.get(url) for url in ("/", "/c/pantalones/", "/buscar/?q=azul")]

    for response in pages:
        html = response.content.decode()
        assert "Visible azul" in html
        assert "Borrador" not in html and "Perdido" not in html
    for product in (draft, unfiled):
        assert client.get(product.get_absolute_url()).status_code == 404
        staff_view = admin_client.get(product.get_absolute_url())  # staff check before publishing
        assert staff_view.status_code == 200 and staff_view.context["hidden_from_customers"]


def test_unknown_product_is_404(client):
    response = client.get("/p/no-existe/")
    assert response.status_code == 404
    assert "Página no encontrada" in response.content.decode()


# Search -------------------------------------------------------------------------------------


def test_search_finds_by_name(client, make_product):
    make_product("Vestido rojo", "vestidos")
    make_product("Bolso rojo", "bolsos")
    make_product("Abrigo gris", "abrigos")

    response = client.get("/buscar/", {"q": "  ROJO "})

    assert sorted(names_in_order(response.content.decode())) == ["Bolso rojo", "Vestido rojo"]
    assert 'value="ROJO"' in response.content.decode()  # the query stays in the box


def test_search_finds_by_category_and_parent_category_names(client, make_product):
    make_product("IMG 0412", "vestidos")  # imported products are named after their files
    make_product("IMG 0413", "zapatillas")
    make_product("IMG 0414", "bolsos")
    make_product("IMG 0415", "calzado")  # footwear the model could not tell apart
    assert names_in_order(client.get("/buscar/", {"q": "vestido"}).content.decode()) == ["IMG 0412"]
    found = names_in_order(client.get("/buscar/", {"q": "calzado"}).content.decode())
    assert sorted(found) == ["IMG 0413", "IMG 0415"]
    found = names_in_order(client.get("/buscar/", {"q": "zapatillas"}).content.decode())
    assert sorted(found) == ["IMG 0413", "IMG 0415"]  # a sneaker, and shoes of unknown kind
    english = client.get("/buscar/", {"q": "dress"}, HTTP_ACCEPT_LANGUAGE="en")
    assert names_in_order(english.content.decode()) == ["IMG 0412"]


def test_search_paginates_and_keeps_the_query(client, make_product):
    copies(make_product("Camiseta"), 24)
    html = client.get("/buscar/", {"q": "camiseta"}).content.decode()
    assert len(names_in_order(html)) == 24 and 'href="?q=camiseta&amp;page=2"' in html


def test_empty_search_shows_a_hint_and_no_match_says_so(client, make_product):
    make_product("Vestido rojo", "vestidos")
    empty = client.get("/buscar/").content.decode()
    assert "Escribe lo que buscas" in empty and names_in_order(empty) == []
    none = client.get("/buscar/", {"q": "<b>zzz</b>"}).content.decode()
    assert "Ningún producto coincide con «&lt;b&gt;zzz&lt;/b&gt;»" in none  # escaped


def test_an_empty_store_shows_no_categories_and_says_so(client, db):
    html = client.get("/").content.decode()
    assert "Todavía no hay productos en la tienda." in html
    assert 'id="categories-heading"' not in html and 'href="/c/' not in html
    assert "Volver a la tienda" not in html  # the page it would link to


# Languages ----------------------------------------------------------------------------------


def test_spanish_by_default(client, make_product):
    product = make_product(price="19.90")
    make_product("Sandalia", "sandalias")
    html = client.get("/").content.decode()
    assert '<html lang="es">' in html
    assert "Categorías" in html and "Calzado" in html and "Footwear" not in html
    assert "19,90 €" in client.get(product.get_absolute_url()).content.decode()


def test_english_after_switching_language(client, make_product):
    product = make_product(price="19.90")
    make_product("Sandalia", "sandalias")

    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/c/calzado/"})

    assert switched.status_code == 302 and switched.url == "/c/calzado/"
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert "Categories" in html and "Footwear" in html and "Calzado" not in html
    assert "Trousers" in client.get("/c/calzado/").content.decode()  # the menu, in English
    assert "€19.90" in client.get(product.get_absolute_url()).content.decode()
    empty = client.get("/c/bolsos/").content.decode()
    assert "There are no products in this category yet." in empty


def test_header_has_search_language_switch_and_footer_links(client, admin_client):
    html = client.get("/").content.decode()
    assert 'action="/buscar/"' in html and '<label for="search-q"' in html
    assert 'action="/i18n/setlang/" method="post"' in html and "csrfmiddlewaretoken" in html
    assert 'name="language" value="en"' in html and 'name="language" value="es"' in html
    # the back office's links are for staff, not for customers
    assert 'href="/admin/"' not in html and 'href="/api/docs/"' not in html
    staff = admin_client.get("/").content.decode()
    assert 'href="/admin/"' in staff and 'href="/api/docs/"' in staff
    assert "/static/css/store.css" in html and "//cdn" not in html and "https://" not in html


def test_the_sort_is_sent_by_its_visible_button_not_on_change(client, make_product):
    """WCAG 3.2.2: arrowing through the sort options must not reload the page at each step."""
    make_product("Barato", price="5.00")
    make_product("Caro", price="80.00")
    html = client.get("/c/pantalones/").content.decode()
    form = re.search(r'<form class="sort-form".*?</form>', html, re.DOTALL).group(0)
    assert re.search(r'<button type="submit"[^>]*>\s*Aplicar\s*</button>', form)
    assert "data-autosubmit" not in form
    assert "js/store.js" not in html  # the script that sent the form on change is gone
    css = (ROOT / "static" / "css" / "store.css").read_text()
    assert "autosubmit" not in css  # nothing hides the button
