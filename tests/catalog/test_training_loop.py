"""The whole loop on a real (short) training: people file photos, the admin's Retrain runs
ml_training.finetune, the run is exported, and the store gets a category for the new class.

Slow (a minute or two on two cores): one epoch on 1000 Fashion-MNIST images and a few dozen
photos of ``clothing-photos``.
"""

from __future__ import annotations

import io
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import translation

from catalog import services, training
from catalog.models import Category, Product, TrainingRun
from tests.conftest import CLOTHING_PHOTOS_DIR

pytestmark = [pytest.mark.django_db, pytest.mark.slow, pytest.mark.training]


def file_photos(folder: str, category: Category, count: int) -> None:
    for path in sorted((CLOTHING_PHOTOS_DIR / "train" / folder).glob("*.jpg"))[:count]:
        product = services.product_create(
            name=path.stem,
            image=SimpleUploadedFile(path.name, path.read_bytes()),
            price=Decimal("1"),
            category=category,
            classify=False,
        )
        assert product.category_source == Product.CategorySource.PERSON


def test_retrain_export_and_sync_give_a_store_category_its_own_class(
    settings, tmp_path, fashion_mnist_dir, admin_user
):
    from ml_training import export

    skirts = Category.objects.create(slug="faldas", name_es="Faldas", name_en="Skirts")
    caps = Category.objects.create(slug="gorras", name_es="Gorras", name_en="Caps")
    file_photos("skirt", skirts, 8)  # the model has a class by that name: it trains it
    file_photos("hat", caps, 8)  # a garment the model has no class for: a new class
    file_photos("pants", Category.objects.get(slug="pantalones"), 6)
    settings.PERCHA = {
        **settings.PERCHA,
        "FINETUNE_COMMAND": [
            sys.executable, "-m", "ml_training.finetune",
            "--epochs", "1", "--variants", "1", "--limit", "1000",
        ],
        "TRAINING_RUNS_DIR": tmp_path / "runs",
        "FASHION_MNIST_DIR": str(fashion_mnist_dir),
        "NEW_CLASS_MIN_EXAMPLES": 8,
    }  # fmt: skip
    run = training.training_run_execute(run=TrainingRun.objects.create(created_by=admin_user))
    assert run.status == TrainingRun.Status.SUCCEEDED, run.log_tail
    assert run.progress == 100 and "Fashion-MNIST test accuracy" in run.log_tail
    classes = run.metrics["classes"]
    assert (classes[12]["name"], classes[12]["slug"]) == ("Skirt", "faldas")
    assert (len(classes), classes[13]["slug"]) == (14, "gorras")

    out = tmp_path / "served"
    export.export(Path(run.run_dir), str(fashion_mnist_dir), out, flip_averaging=True, web=False)
    settings.PERCHA = {**settings.PERCHA, "MODEL_PATH": out / "model.tflite"}
    printed = io.StringIO()
    with translation.override("en"):
        call_command("sync_model_classes", stdout=printed)
    assert "class 13 Gorras: now files into the existing category gorras" in printed.getvalue()
    assert "class 12 Skirt: now files into the existing category faldas" in printed.getvalue()
    skirts.refresh_from_db()
    caps.refresh_from_db()
    assert (skirts.classifier_label, caps.classifier_label) == (12, 13)
