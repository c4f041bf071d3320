"""The store's half of promoting a model: categories follow the served model card
(``manage.py sync_model_classes``) and ``classify_pending --all`` re-files what the model filed,
never what a person filed."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

import classifier
from catalog import services
from catalog.models import Category, Product
from classifier import predictor
from tests.catalog.factories import make_product
from tests.on_commit import tasks

pytestmark = pytest.mark.django_db

COMMITTED_CARD = json.loads((predictor.ARTIFACTS_DIR / "model_card.json").read_text())
SKIRTS = {
    "index": 13,
    "name": "Long skirt",
    "slug": "faldas-largas",
    "name_es": "Faldas largas",
    "name_en": "Long skirts",
}


@pytest.fixture
def serve(settings, tmp_path):
    """Serve the committed model under a card of the test's own (a new folder each call, so the
    per-path model cache opens it afresh)."""
    served = []

    def serve(classes: list[dict], version: str = "test-model") -> Path:
        folder = tmp_path / f"model-{len(served)}"
        folder.mkdir()
        shutil.copy(predictor.DEFAULT_MODEL_PATH, folder / "model.tflite")
        card = {**COMMITTED_CARD, "version": version, "classes": classes}
        (folder / "model_card.json").write_text(json.dumps(card))
        settings.PERCHA = {**settings.PERCHA, "MODEL_PATH": folder / "model.tflite"}
        served.append(folder)
        return folder / "model.tflite"

    return serve


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def categories() -> set[tuple]:
    return set(Category.objects.values_list("slug", "name_es", "name_en", "classifier_label"))


def test_a_new_class_with_a_slug_gets_its_category_once(serve):
    serve([*COMMITTED_CARD["classes"], SKIRTS])
    out, _ = run("sync_model_classes")
    skirts = Category.objects.get(slug="faldas-largas")
    assert (skirts.name_es, skirts.name_en, skirts.classifier_label) == (
        "Faldas largas",
        "Long skirts",
        13,
    )
    assert skirts.parent is None and skirts.position > Category.objects.get(slug="bolsos").position
    assert "class 13 Long skirt: created the category faldas-largas" in out
    assert "14 classes: 10 unchanged, 1 created, 0 linked, 0 unlinked, 3 without" in out
    before = categories()
    out, _ = run("sync_model_classes")
    assert categories() == before
    assert "11 unchanged, 0 created, 0 linked, 0 unlinked" in out


def test_names_missing_from_the_card_come_from_the_known_classes(serve):
    hats = {"index": 10, "name": "Hat", "slug": "sombreros"}  # no name_es/name_en in the card
    serve([*COMMITTED_CARD["classes"][:10], hats])
    run("sync_model_classes")
    created = Category.objects.get(slug="sombreros")
    assert (created.name_es, created.name_en, created.classifier_label) == ("Sombreros", "Hats", 10)


def test_a_class_without_a_slug_creates_nothing(serve):
    shorts = {"index": 11, "name": "Shorts", "slug": ""}
    unknown = {"index": 12, "name": "Scarf"}  # neither the card nor the table names a category
    serve([*COMMITTED_CARD["classes"][:11], shorts, unknown])
    before = categories()
    out, _ = run("sync_model_classes")
    assert categories() == before
    assert "class 11 Shorts: no store category; its products go to review" in out
    assert "class 12 Scarf: no store category" in out


def test_a_class_named_by_slug_links_the_existing_category(serve):
    hats = Category.objects.create(slug="sombreros", name_es="Sombreros", name_en="Hats")
    serve([*COMMITTED_CARD["classes"][:10], {"index": 10, "name": "Hat", "slug": "sombreros"}])
    out, _ = run("sync_model_classes")
    hats.refresh_from_db()
    assert hats.classifier_label == 10
    assert Category.objects.filter(slug="sombreros").count() == 1
    assert "class 10 Hat: now files into the existing category sombreros" in out


def test_a_category_whose_class_disappears_is_unlinked(serve):
    serve(COMMITTED_CARD["classes"][:8])  # a model without Bag and Ankle boot
    out, _ = run("sync_model_classes")
    assert Category.objects.get(slug="bolsos").classifier_label is None
    assert Category.objects.get(slug="botines").classifier_label is None
    assert Category.objects.get(slug="vestidos").classifier_label == 3
    assert "category bolsos: unlinked from class 8, which the model no longer has" in out
    assert "2 unlinked" in out


def test_a_category_linked_by_hand_keeps_its_class(serve):
    """An admin may link a class the card gives no category, or rename a category's slug."""
    shorts = Category.objects.create(
        slug="cortos", name_es="Cortos", name_en="Short trousers", classifier_label=11
    )
    Category.objects.filter(slug="camisetas").update(slug="tops")
    serve(COMMITTED_CARD["classes"])
    before = categories()
    run("sync_model_classes")
    assert categories() == before
    shorts.refresh_from_db()
    assert shorts.classifier_label == 11
    assert not Category.objects.filter(slug="camisetas").exists()


def test_a_slug_already_filing_another_class_is_a_conflict_left_alone(serve):
    serve([*COMMITTED_CARD["classes"][:10], {"index": 10, "name": "Hat", "slug": "bolsos"}])
    out, err = run("sync_model_classes")
    assert Category.objects.get(slug="bolsos").classifier_label == 8
    assert "the category bolsos files class 8 already" in err


def test_the_committed_card_changes_nothing_on_the_default_categories():
    before = categories()
    out, _ = run("sync_model_classes")
    assert categories() == before
    assert "13 classes: 10 unchanged, 0 created" in out


def old_answer(product: Product, label: int, confidence: float) -> Product:
    return services.product_apply_prediction(
        product=product,
        label=label,
        confidence=confidence,
        probabilities=[0.0] * 13,
        model_version="old-model",
        threshold=0.6,
    )


def test_classify_pending_all_reruns_the_new_model_but_never_over_a_person(
    serve, photo_bytes, django_capture_on_commit_callbacks
):
    bags = Category.objects.get(slug="bolsos")
    by_person = old_answer(make_product(photo_bytes, "bolso", category=bags), 8, 0.3)
    by_model = old_answer(make_product(photo_bytes, "filed"), 8, 0.95)  # a trouser filed as bag
    for_review = old_answer(make_product(photo_bytes, "unsure"), 3, 0.2)
    failed = services.product_mark_failed(product=make_product(photo_bytes, "broken"), error="x")
    assert by_model.category == bags and by_model.category_source == Product.CategorySource.MODEL
    person_before = Product.objects.values().get(pk=by_person.pk)

    new_model = serve(COMMITTED_CARD["classes"], version="new-model")
    expected = classifier.classify_image(photo_bytes, new_model)
    assert expected.label != 8  # so a re-filed product leaves Bags
    with django_capture_on_commit_callbacks(execute=True) as callbacks:  # tasks run in-process
        out, _ = run("classify_pending", "--all", "--no-failed")
    assert "Queued 2 products" in out and len(tasks(callbacks)) == 1

    assert Product.objects.values().get(pk=by_person.pk) == person_before  # not even re-run
    for product in (by_model, for_review):
        product.refresh_from_db()
        assert product.model_version == "new-model"
        assert product.predicted_label == expected.label
        assert product.category_source != Product.CategorySource.PERSON
        if product.classification_status == Product.Status.CLASSIFIED:
            assert product.category.classifier_label == expected.label
        else:
            assert product.classification_status == Product.Status.NEEDS_REVIEW
            assert product.category is None
    failed.refresh_from_db()
    assert failed.classification_status == Product.Status.FAILED

    with django_capture_on_commit_callbacks(execute=False):
        out, _ = run("classify_pending", "--all")
    assert "Queued 3 products" in out  # with the failed one this time
    assert Product.objects.get(pk=by_person.pk).classification_status == "classified"


def test_the_queued_products_keep_their_category_until_the_new_answer(photo_bytes):
    product = old_answer(make_product(photo_bytes, "filed"), 1, 0.95)
    assert services.products_queue_for_new_model() == 1
    product.refresh_from_db()
    assert product.classification_status == Product.Status.PENDING
    assert product.category.slug == "pantalones"  # still in the storefront meanwhile


def classifier_page_classes(client) -> list[dict]:
    html = client.get(reverse("catalog:classifier")).content.decode()
    start = html.index(">", html.index('id="classifier-config"')) + 1
    return json.loads(html[start : html.index("</script>", start)])["classes"]


def test_the_store_names_and_files_the_served_models_classes(serve, client, photo_bytes):
    serve([*COMMITTED_CARD["classes"], SKIRTS])
    classes = classifier_page_classes(client)
    assert len(classes) == 14
    assert classes[13] == {"index": 13, "name": "Faldas largas", "url": "", "filed": False}
    run("sync_model_classes")
    new = {"index": 13, "name": "Faldas largas", "url": "", "filed": True}
    assert classifier_page_classes(client)[13] == new  # filed, not linked: nothing in it yet
    make_product(photo_bytes, category=Category.objects.get(slug="faldas-largas"))
    assert classifier_page_classes(client)[13] == {
        "index": 13,
        "name": "Faldas largas",
        "url": "/c/faldas-largas/",
        "filed": True,
    }
