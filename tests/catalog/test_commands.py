"""The management commands: import a folder, classify files, requeue pending, the demo admin."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import translation
from PIL import Image

from catalog import selectors, services
from catalog.models import Category, Product
from tests.conftest import ROOT, SERVED_CLASSES
from tests.on_commit import tasks
from tests.photo_files import another_photo

pytestmark = pytest.mark.django_db


def run(*args, **options) -> tuple[str, str]:
    """Call a command in English (the source strings) and return its stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        call_command(*args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def photo_folder(tmp_path: Path, photo_bytes: bytes) -> Path:
    folder = tmp_path / "photos"
    (folder / "bolsos").mkdir(parents=True)
    (folder / "rebajas").mkdir()
    (folder / "camiseta_roja.jpg").write_bytes(photo_bytes)
    (folder / "bolsos" / "bolso_piel.jpg").write_bytes(another_photo(photo_bytes, 90))
    (folder / "rebajas" / "pantalon.JPEG").write_bytes(another_photo(photo_bytes, 80))
    (folder / "notas.jpg").write_text("these are notes, not a photo")
    (folder / "README.txt").write_text("not an image suffix: ignored")
    return folder


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # tasks run at each commit
def test_an_import_classified_in_process_says_where_the_products_went(photo_folder):
    """Tasks in-process: the model has answered by the end, so say what it did ("queued"
    said nothing of the products that went to the review queue)."""
    out, _ = run("import_products", str(photo_folder), "--price", "9.95")
    outcome = selectors.classification_outcome(Product.objects.values_list("pk", flat=True))
    assert outcome["pending"] == 0 and sum(outcome.values()) == 3
    review = outcome["needs_review"]
    waits = "waits" if review == 1 else "wait"
    assert (
        f"Imported 3, skipped 1. The model filed {outcome['classified']}; "
        f"{review} {waits} in the review queue; {outcome['failed']} could not be read."
    ) in out


def test_import_products(photo_folder, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        out, err = run(
            "import_products", str(photo_folder), "--price", "9.95", "--category-from-folder"
        )
    assert Product.objects.count() == 3
    assert set(Product.objects.values_list("name", flat=True)) == {
        "Camiseta roja",
        "Bolso piel",
        "Pantalon",
    }
    bag = Product.objects.get(name="Bolso piel")
    assert bag.category == Category.objects.get(slug="bolsos")
    assert bag.category_source == Product.CategorySource.PERSON
    others = Product.objects.exclude(pk=bag.pk)
    assert all(p.category is None and p.category_source == "" for p in others)
    assert all(p.price == Decimal("9.95") and p.is_published for p in Product.objects.all())
    assert all(p.classification_status == Product.Status.PENDING for p in Product.objects.all())
    assert "skipped notas.jpg: the file is not an image" in out
    assert "Imported 3, skipped 1. The model is filing them." in out  # queued, not yet run
    assert "rebajas matches no category" in out
    assert "README" not in out
    assert len(tasks(callbacks)) == 1  # fewer photos than a batch: queued once, at the end


def test_import_products_queues_each_batch_as_soon_as_it_is_made(
    photo_folder, settings, django_capture_on_commit_callbacks
):
    settings.PERCHA = {**settings.PERCHA, "CLASSIFY_BATCH_SIZE": 2}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run("import_products", str(photo_folder))
    # the first two products while the third was being made, then it
    assert len(tasks(callbacks)) == 2


def test_import_products_unpublished_without_folder_categories(photo_folder):
    run("import_products", str(photo_folder), "--unpublished")
    assert Product.objects.count() == 3
    assert not Product.objects.filter(is_published=True).exists()
    assert not Product.objects.filter(category__isnull=False).exists()


def test_import_products_without_a_price_hides_them_and_says_so(photo_folder):
    out, _ = run("import_products", str(photo_folder))
    assert Product.objects.count() == 3
    assert not Product.objects.filter(is_published=True).exists()
    assert "Without a --price above 0, the products are hidden from the store" in out


def test_import_products_keeps_camera_named_products_hidden_and_says_how_many(
    photo_folder, photo_bytes
):
    (photo_folder / "IMG_20231105_123456.jpg").write_bytes(another_photo(photo_bytes, 70))
    (photo_folder / "rebajas" / "20240105_101010.jpg").write_bytes(another_photo(photo_bytes, 60))
    out, _ = run("import_products", str(photo_folder), "--price", "9.95")
    assert Product.objects.count() == 5
    hidden = Product.objects.filter(is_published=False)
    assert set(hidden.values_list("name", flat=True)) == {"IMG 20231105 123456", "20240105 101010"}
    assert Product.objects.filter(name="Camiseta roja", is_published=True).exists()
    assert (
        "2 products were named after their camera file names (such as IMG_20231105_123456.jpg) "
        "and stay hidden from the store" in out
    )
    assert "Imported 5, skipped 1" in out


def test_import_products_unpublished_says_nothing_of_camera_names(photo_folder, photo_bytes):
    (photo_folder / "DSC_0042.JPG").write_bytes(another_photo(photo_bytes, 70))
    out, _ = run("import_products", str(photo_folder), "--price", "5", "--unpublished")
    assert not Product.objects.filter(is_published=True).exists()
    assert "named after" not in out


def test_import_products_run_again_skips_the_photos_already_in_the_store(photo_folder):
    run("import_products", str(photo_folder), "--price", "5")
    (photo_folder / "copia_de_camiseta.jpg").write_bytes(
        (photo_folder / "camiseta_roja.jpg").read_bytes()
    )
    out, _ = run("import_products", str(photo_folder), "--price", "5")
    assert Product.objects.count() == 3  # the interrupted-and-run-again import adds nothing
    assert "Imported 0, skipped 1." in out and "queued" not in out  # notas.jpg; nothing queued
    assert "4 photos were already in the store (the same files)" in out  # the copy included
    run("import_products", str(photo_folder), "--price", "5", "--duplicates")
    assert Product.objects.count() == 7
    assert len(set(Product.objects.values_list("photo_sha256", flat=True))) == 3


@pytest.mark.slow
def test_import_on_the_embedded_defaults_prints_no_task_or_broker_noise(tmp_path, photo_folder):
    """``make run``'s settings (SQLite, tasks in-process): the summary, not Celery's "Task …
    succeeded" and kombu's "No hostname was supplied" lines in the middle of it; and the
    storefront's process hears of the import (the cache is a folder shared between processes:
    a per-process one kept the home page's old counts for minutes; the tests' own folder here,
    through CACHE_URL, and the default is the same kind: the test below)."""
    from catalog import cache as catalog_cache

    before = catalog_cache.catalog_version()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    for args in (["migrate", "--noinput"], ["import_products", str(photo_folder), "--price", "5"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    assert "Importados 3" in output, output
    assert "succeeded in" not in output and "No hostname" not in output, output
    assert catalog_cache.catalog_version() != before  # the import's writes reached this process


def test_the_default_cache_is_a_folder_every_process_of_the_machine_shares():
    env = {name: value for name, value in os.environ.items() if name != "CACHE_URL"}
    show = "from django.conf import settings as s; c = s.CACHES['default']; "
    show += "print(c['BACKEND'], c['LOCATION'])"
    done = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {show}"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "shop.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    backend = "django.core.cache.backends.filebased.FileBasedCache"
    assert done.stdout.split() == [backend, str(ROOT / ".cache" / "catalog")]


def test_import_products_refuses_a_missing_folder(tmp_path):
    with pytest.raises(CommandError, match="not a folder"):
        run("import_products", str(tmp_path / "nowhere"))


def test_import_products_takes_a_decimal_comma(photo_folder):
    run("import_products", str(photo_folder), "--price", "10,50")
    assert set(Product.objects.values_list("price", flat=True)) == {Decimal("10.50")}


def test_import_products_refuses_a_negative_price(photo_folder):
    with pytest.raises(CommandError, match="not a price"):
        run("import_products", str(photo_folder), "--price", "-3")


def test_classify_images_json_touches_no_database(tmp_path, photo_bytes, django_assert_num_queries):
    paths = [tmp_path / "a.jpg", tmp_path / "b.jpg"]
    for path in paths:
        path.write_bytes(photo_bytes)
    before = Product.objects.count()
    with django_assert_num_queries(0):
        out, _ = run("classify_images", *map(str, paths), "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["path"] for line in lines] == [str(p) for p in paths]
    for line in lines:
        assert set(line) == {"path", "label", "label_name", "confidence", "probabilities"}
        assert len(line["probabilities"]) == SERVED_CLASSES
        assert sum(line["probabilities"]) == pytest.approx(1, abs=1e-3)
        assert 0 <= line["label"] < SERVED_CLASSES and line["confidence"] == max(
            line["probabilities"]
        )
    assert Product.objects.count() == before


def test_classify_images_reports_a_bad_file_and_fails_at_the_end(tmp_path, photo_bytes):
    good, bad, missing = tmp_path / "good.jpg", tmp_path / "bad.jpg", tmp_path / "missing.jpg"
    good.write_bytes(photo_bytes)
    bad.write_text("hello")
    out = io.StringIO()
    with pytest.raises(CommandError) as excinfo, translation.override("en"):
        call_command("classify_images", str(good), str(bad), str(missing), "--json", stdout=out)
    assert excinfo.value.returncode == 1
    assert "2 of 3 photos" in str(excinfo.value)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["path"] for line in lines] == [str(good), str(bad), str(missing)]
    assert "label" in lines[0]
    assert set(lines[1]) == {"path", "error"} and "not an image" in lines[1]["error"]
    assert set(lines[2]) == {"path", "error"}


def test_classify_images_table(tmp_path, photo_bytes):
    photo, bad = tmp_path / "photo.jpg", tmp_path / "bad.png"
    photo.write_bytes(photo_bytes)
    bad.write_bytes(b"")
    out = io.StringIO()
    with pytest.raises(CommandError), translation.override("en"):
        call_command("classify_images", str(photo), str(bad), stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["path", "label", "confidence"]
    assert lines[1].startswith(str(photo)) and lines[1].rstrip().endswith("%")
    assert lines[2].startswith(str(bad)) and "error: the file is empty" in lines[2]


def make_product(photo_bytes: bytes, name: str) -> Product:
    return services.product_create(
        name=name,
        image=SimpleUploadedFile(f"{name}.jpg", photo_bytes),
        price=Decimal("1"),
        classify=False,
    )


def test_classify_pending_requeues_pending_and_failed(
    photo_bytes, django_capture_on_commit_callbacks
):
    pending = make_product(photo_bytes, "pending")
    failed = services.product_mark_failed(product=make_product(photo_bytes, "failed"), error="x")
    done = services.product_apply_prediction(
        product=make_product(photo_bytes, "done"),
        label=1,
        confidence=0.99,
        probabilities=[0.0] * 10,
        model_version="v",
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        out, _ = run("classify_pending", "--no-failed")
    assert "Queued 1 product" in out and len(tasks(callbacks)) == 1
    failed.refresh_from_db()
    assert failed.classification_status == Product.Status.FAILED

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        out, _ = run("classify_pending")
    assert "Queued 2 products" in out and len(tasks(callbacks)) == 1
    failed.refresh_from_db()
    done.refresh_from_db()
    assert failed.classification_status == Product.Status.PENDING
    assert done.classification_status == Product.Status.CLASSIFIED
    assert pending.pk != failed.pk

    out, _ = run("classify_pending", "--include-failed")
    assert "Queued 2 products" in out


def test_ensure_demo_admin_is_idempotent(settings):
    settings.DEBUG = True
    User = get_user_model()
    out, _ = run("ensure_demo_admin")
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.check_password("admin")
    assert "http://127.0.0.1:8000/admin/" in out and "admin" in out
    out, _ = run("ensure_demo_admin")
    assert "already exists" in out
    assert User.objects.count() == 1


def test_ensure_demo_admin_takes_the_password_from_the_setting(settings):
    settings.DEBUG = True
    settings.PERCHA = {**settings.PERCHA, "DEMO_ADMIN_PASSWORD": "s3cret-demo"}
    out, _ = run("ensure_demo_admin")
    assert get_user_model().objects.get(username="admin").check_password("s3cret-demo")
    assert "s3cret-demo" not in out and "DEMO_ADMIN_PASSWORD" in out


def test_ensure_demo_admin_leaves_an_existing_superuser_alone(settings):
    settings.DEBUG = False
    get_user_model().objects.create_superuser("boss", password="pw-123456")
    out, _ = run("ensure_demo_admin")
    assert "already exists" in out
    assert not get_user_model().objects.filter(username="admin").exists()


def test_ensure_demo_admin_refuses_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        run("ensure_demo_admin")
    assert not get_user_model().objects.exists()


def test_export_training_photos_writes_what_people_filed(tmp_path, photo_bytes):
    import csv

    bags, dresses = Category.objects.get(slug="bolsos"), Category.objects.get(slug="vestidos")
    by_person = make_product(photo_bytes, "bolso")
    services.product_set_category(product=by_person, category=bags)
    confirmed = make_product(photo_bytes, "vestido")
    services.product_apply_prediction(
        product=confirmed, label=3, confidence=0.9, probabilities=[0.0] * 13, model_version="v",
        threshold=0.6,
    )  # fmt: skip
    services.product_accept_suggestion(product=confirmed)
    by_model = make_product(photo_bytes, "pantalon")
    services.product_apply_prediction(
        product=by_model, label=1, confidence=0.9, probabilities=[0.0] * 13, model_version="v",
        threshold=0.6,
    )  # fmt: skip
    out, _ = run("export_training_photos", str(tmp_path / "export"))
    assert "Exported 2 labelled photos" in out
    with (tmp_path / "export" / "manifest.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert {(r["category"], r["product_id"]) for r in rows} == {
        ("bolsos", str(by_person.pk)),
        ("vestidos", str(confirmed.pk)),
    }
    assert dresses.slug in {r["category"] for r in rows}
    for row in rows:
        with Image.open(tmp_path / "export" / row["path"]) as image:
            assert image.format == "JPEG" and image.mode == "RGB"
    assert not (tmp_path / "export" / "pantalones").exists()  # the model's answer is no label
