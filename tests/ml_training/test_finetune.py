"""Fine-tuning on real photos: new classes, known ones kept, calibration written to the run."""

from __future__ import annotations

import csv
import json
import shutil

import keras
import numpy as np
import pytest

from classifier import evaluate_photos
from ml_training import calibrate, finetune, photos
from ml_training.labels import CLASS_NAMES
from tests.conftest import CLOTHING_PHOTOS_DIR

FASHION_MNIST = [photos.class_entry(name, i) for i, name in enumerate(CLASS_NAMES)]
# the served card's classes before the store named them: index and name only
SERVED = [
    {"index": i, "name": name} for i, name in enumerate([*CLASS_NAMES, "Hat", "Shorts", "Skirt"])
]


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    """Three real photos of each of the ten clothing-photos folders (links, not copies)."""
    root = tmp_path_factory.mktemp("photos")
    for folder in photos.FOLDER_LABELS:
        (root / folder).mkdir()
        for path in sorted((CLOTHING_PHOTOS_DIR / "train" / folder).glob("*.jpg"))[:3]:
            (root / folder / path.name).symlink_to(path)
    return root


def test_new_classes_start_unlikely_and_known_ones_keep_their_weights():
    base = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, "softmax")]
    )
    wider = finetune.with_new_classes(base, 13)
    x = np.random.default_rng(0).random((8, 28, 28, 1)).astype(np.float32)
    before, after = base.predict(x, verbose=0), wider.predict(x, verbose=0)
    assert after.shape == (8, 13)
    np.testing.assert_array_equal(after[:, :10].argmax(1), before.argmax(1))
    assert after[:, 10:].max() < after[:, :10].max(axis=1).min()


def test_photo_like_variants_change_the_shot_but_not_its_size():
    rng = np.random.default_rng(0)
    photo = np.full((120, 90, 3), 200, np.uint8)
    photo[30:90, 20:70] = (40, 40, 140)
    variants = [photos.photo_like_variant(photo, rng) for _ in range(4)]
    assert all(v.shape == photo.shape and v.dtype == np.uint8 for v in variants)
    assert all(np.abs(v.astype(int) - photo).mean() > 2 for v in variants)
    assert len({v.tobytes() for v in variants}) == 4


def test_holdout_keeps_a_photos_variants_together_and_takes_every_folder(photo_folder):
    loaded = photos.load_folder(photo_folder, variants=1, workers=1)
    assert loaded.x.shape == (60, 28, 28, 1) and set(loaded.y) == {-1, 0, 1, 2, 3, 4, 6, 10, 11, 12}
    kept, held = photos.holdout(loaded, 0.34)
    assert not set(kept.photo) & set(held.photo)
    assert set(held.folder) == set(photos.FOLDER_LABELS)
    assert len(photos.originals(held).y) == len(set(held.photo))
    probabilities = np.zeros((len(loaded.y), 13), np.float32)
    probabilities[:, 7] = 1  # the model sees sneakers
    labelled = photos.label_shoes(loaded, probabilities)
    assert set(labelled.y[loaded.folder == "shoes"]) == {7} and -1 not in labelled.y


def test_the_held_out_fingerprint_names_the_files_not_the_path(photo_folder, tmp_path):
    """The promotion guard's test of "the same held-out photos": a folder reached by another
    path, or copied elsewhere, gives the same digest; one photo more or less does not."""
    loaded = photos.load_folder(photo_folder, workers=1)
    _, held = photos.holdout(loaded, 0.34)
    copy = tmp_path / "copy"
    shutil.copytree(photo_folder, copy, symlinks=False)
    _, held_copy = photos.holdout(photos.load_folder(copy, workers=1), 0.34)
    assert photos.fingerprint(held_copy) == photos.fingerprint(held)
    _, other = photos.holdout(loaded, 0.34, seed=7)
    assert photos.fingerprint(other) != photos.fingerprint(held)
    one_less = held.take(np.flatnonzero(held.photo != held.photo[0]))
    assert photos.fingerprint(one_less) != photos.fingerprint(held)


def test_balancing_draws_rare_folders_up_to_the_median_with_their_variants():
    counts = {"t-shirt": 9, "pants": 5, "hat": 2, "skirt": 1, "dress": 5}
    folder = np.repeat(list(counts), [2 * n for n in counts.values()])  # a photo and a variant
    photo = np.repeat(np.arange(sum(counts.values())), 2)
    loaded = photos.PhotoSet(
        x=photo.astype(np.float32)[:, None, None, None] * np.ones((1, 28, 28, 1), np.float32),
        y=np.zeros(len(photo), np.int64),
        folder=folder,
        photo=photo,
    )
    drawn = photos.balanced(loaded)
    rows = {f: int((drawn.folder == f).sum()) for f in counts}
    assert rows == {"t-shirt": 18, "pants": 10, "hat": 10, "skirt": 10, "dress": 10}
    for f in ("hat", "skirt"):  # only its own photos, each still with its variant
        assert set(drawn.photo[drawn.folder == f]) == set(loaded.photo[loaded.folder == f])
        assert all(np.unique(drawn.photo[drawn.folder == f], return_counts=True)[1] % 2 == 0)
    np.testing.assert_array_equal(drawn.x[:, 0, 0, 0], drawn.photo)  # rows kept whole
    assert photos.balanced(drawn).y.shape == drawn.y.shape  # already balanced: nothing added


def test_answer_groups_are_the_folders_counted_right_as_any_of_several_classes():
    answers = {"shoes": frozenset({9, 5, 7}), "hat": None, "pants": frozenset({1})}
    assert photos.answer_groups(answers) == [[5, 7, 9]]
    assert photos.answer_groups({"pants": frozenset({1})}) == []  # a store export: one class each
    # a store export retrains a base whose card has the group: a few sandals filed by kind do
    # not teach the model sandals from boots, so the group stays
    assert photos.answer_groups({"pants": frozenset({1})}, [frozenset({9, 7, 5})]) == [[5, 7, 9]]


def test_temperature_softens_an_overconfident_model_and_the_threshold_meets_its_precision():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 400)
    right = rng.random(400) < 0.7  # 70% right, but always 99% sure
    predicted = np.where(right, labels, (labels + 1) % 10)
    probabilities = np.full((400, 13), 0.01 / 12, np.float32)
    probabilities[np.arange(400), predicted] = 0.99
    assert calibrate.fit_temperature(probabilities, labels) > 1.5
    folders = np.array(["t-shirt", "pants", "longsleeve", "dress", "outwear", "shoes", "shirt"])
    assert calibrate.choose_threshold(probabilities, list(folders[labels % 7]), 0.9) == 1.0


@pytest.mark.slow
@pytest.mark.training
def test_a_short_fine_tuning_adds_the_new_classes_and_writes_a_calibrated_run(
    smoke_run, photo_folder, fashion_mnist_dir, tmp_path
):
    from ml_training import data

    dataset = data.load(fashion_mnist_dir, limit=2000)
    run = finetune.finetune(
        photo_folder,
        smoke_run / "model.keras",
        dataset,
        tmp_path,
        epochs=1,
        variants=1,
        min_examples=3,
    )
    metrics = json.loads((run / "metrics.json").read_text())
    assert [c["name"] for c in metrics["classes"][10:]] == ["Hat", "Shorts", "Skirt"]
    assert [c["slug"] for c in metrics["classes"][10:]] == ["", "", ""]  # held for review
    assert metrics["test_accuracy"] > 0.6  # Fashion-MNIST kept (chance: 0.10)
    assert 0.5 <= metrics["calibration"]["threshold"] <= 1.0
    assert metrics["calibration"]["temperature"] > 0
    assert len(metrics["calibration"]["held_out_sha256"]) == 64  # the guard's "same photos"
    assert metrics["calibration"]["groups"] == [[5, 7, 9]]  # the "shoes" folder: any footwear
    assert metrics["views"] == {"flip": True, "shifts": [[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1]]}
    model = keras.models.load_model(run / "model.keras", compile=False)
    assert model.output_shape == (None, 13)


def test_the_class_set_adds_a_store_category_with_enough_photos_and_leaves_out_the_rest():
    counts = {"pantalones": 6, "faldas": 8, "gorras": 3, "calcetines": 2, "botas": 5}
    manifest = {"pantalones": 1, "faldas": None, "gorras": None, "calcetines": 14, "botas": 9}
    plan = photos.plan_classes(FASHION_MNIST, counts, manifest, min_examples=8)
    assert plan.classes[:10] == FASHION_MNIST  # the existing classes keep their index
    assert plan.classes[10] == {
        "index": 10, "name": "Faldas", "slug": "faldas", "name_es": "Faldas", "name_en": "Faldas"
    }  # fmt: skip
    assert len(plan.classes) == 11 and plan.new == ["faldas"]
    assert plan.labels == {"pantalones": 1, "faldas": 10, "botas": 9}
    assert plan.answers["faldas"] == {10} and plan.answers["pantalones"] == {1}
    assert plan.left_out == {
        "gorras": "gorras: 3 photos, needs 8",
        "calcetines": "calcetines: stands for class 14, which the base model lacks",
    }
    assert 10 in plan.store_classes  # a store category: the store files into it
    # one photo short of the setting: reported, not learned
    assert photos.plan_classes(FASHION_MNIST, {"faldas": 7}, {"faldas": None}, 8).left_out == {
        "faldas": "faldas: 7 photos, needs 8"
    }


def test_a_store_category_without_a_label_trains_the_class_that_bears_its_name():
    base = [photos.class_entry(entry, i) for i, entry in enumerate(SERVED)]
    assert base[12]["name_es"] == "Faldas" and base[12]["slug"] == ""
    plan = photos.plan_classes(base, {"faldas": 60, "pantalones": 9}, {"faldas": None}, 50)
    assert plan.new == [] and len(plan.classes) == 13  # not a second skirt class
    assert plan.labels == {"faldas": 12, "pantalones": 1}  # "pantalones": Trouser's category
    assert plan.classes[12]["slug"] == "faldas"  # the store has a category for it now
    linked = photos.plan_classes(base, {"sombreros": 3}, {"sombreros": 10}, 50)
    assert linked.labels == {"sombreros": 10} and linked.classes[10]["slug"] == "sombreros"


def test_a_category_is_matched_to_a_class_by_the_stores_own_slug_of_its_name():
    """The store slugs a category named after a class with Django's rule ("T-shirt/top" →
    "t-shirttop"), and exports its photos under that folder: the class, not a second one."""
    base = [photos.class_entry({"name": "T-shirt/top", "slug": ""}, 0)]
    plan = photos.plan_classes(base, {"t-shirttop": 60}, {"t-shirttop": None}, 50)
    assert plan.new == [] and plan.labels == {"t-shirttop": 0}
    assert plan.classes[0]["slug"] == "t-shirttop"


def test_the_clothing_photos_layout_learns_hat_shorts_skirt_once():
    counts = {folder: 60 for folder in evaluate_photos.FOLDER_CLASSES} | {"socks": 70}
    fresh = photos.plan_classes(FASHION_MNIST, counts, None, 50)
    assert [c["name"] for c in fresh.classes[10:]] == ["Hat", "Shorts", "Skirt"]
    assert [c["slug"] for c in fresh.classes[10:]] == ["", "", ""]
    assert fresh.classes[10]["name_es"] == "Sombreros"
    assert fresh.answers["hat"] is None and fresh.labels["shoes"] == -1
    assert fresh.left_out == {"socks": "socks: not a clothing-photos folder"}
    served = [photos.class_entry(entry, i) for i, entry in enumerate(SERVED)]
    again = photos.plan_classes(served, counts, None, 50)
    assert again.classes == served and again.labels == photos.FOLDER_LABELS
    few = photos.plan_classes(FASHION_MNIST, counts | {"skirt": 12}, None, 50)
    assert few.left_out["skirt"] == "skirt: 12 photos, needs 50" and len(few.classes) == 12


def test_the_base_classes_come_from_the_card_then_the_run_then_fashion_mnist(tmp_path):
    model = tmp_path / "model.keras"
    assert photos.base_classes(model) == FASHION_MNIST
    (tmp_path / "metrics.json").write_text(json.dumps({"classes": [*CLASS_NAMES, "Hat"]}))
    assert photos.base_classes(model)[10]["name"] == "Hat"
    (tmp_path / "model_card.json").write_text(json.dumps({"classes": SERVED}))
    classes = photos.base_classes(model, outputs=13)
    assert [c["index"] for c in classes] == list(range(13))
    assert classes[1] == {
        "index": 1, "name": "Trouser", "slug": "pantalones", "name_es": "Pantalones",
        "name_en": "Trousers",
    }  # fmt: skip
    with pytest.raises(ValueError, match="answers with 10 classes"):
        photos.base_classes(model, outputs=10)


def test_the_manifest_says_which_class_each_category_stands_for(tmp_path):
    assert photos.read_manifest(tmp_path) is None  # clothing-photos layout
    write_manifest(tmp_path, {"pantalones": (1, 2), "faldas": (None, 1)})
    assert photos.read_manifest(tmp_path) == {"pantalones": 1, "faldas": None}


def test_a_parent_category_trains_its_sub_categories_classes_as_a_group(tmp_path):
    """Calzado filed by hand is footwear of an unsaid kind: the export writes "5 7 9", and the
    plan trains those classes as a group (picked per photo by the base), never a 14th class."""
    write_manifest(tmp_path, {"calzado": ("5 7 9", 60), "pantalones": (1, 2)})
    manifest = photos.read_manifest(tmp_path)
    assert manifest == {"calzado": frozenset({5, 7, 9}), "pantalones": 1}
    served = [photos.class_entry(entry, i) for i, entry in enumerate(SERVED)]
    plan = photos.plan_classes(served, {"calzado": 60, "pantalones": 2}, manifest, 50)
    assert plan.labels["calzado"] == -1 and plan.answers["calzado"] == frozenset({5, 7, 9})
    assert plan.new == [] and len(plan.classes) == len(served)
    assert photos.answer_groups(plan.answers) == [[5, 7, 9]]
    rows = photos.PhotoSet(
        x=np.zeros((2, 28, 28, 1), np.float32),
        y=np.array([-1, 1]),
        folder=np.array(["calzado", "pantalones"]),
        photo=np.array([0, 1]),
    )
    probabilities = np.zeros((2, 13), np.float32)
    probabilities[:, 9] = 0.6  # the base sees an ankle boot
    probabilities[:, 3] = 0.9  # and, more strongly, a dress: not in the group
    assert list(photos.label_shoes(rows, probabilities, plan.answers).y) == [9, 1]


def test_judging_any_label_set_gives_the_store_figures_for_clothing_photos():
    rng = np.random.default_rng(1)
    folders = list(rng.choice(sorted(evaluate_photos.FOLDER_CLASSES), 80))
    probabilities = rng.dirichlet(np.full(13, 0.3), 80).astype(np.float32)
    served = [photos.class_entry(entry, i) for i, entry in enumerate(SERVED)]
    plan = photos.plan_classes(served, dict.fromkeys(folders, 60), None, 50)
    ours = evaluate_photos.evaluate(probabilities, folders, 0.5, plan.answers, plan.store_classes)
    assert ours == evaluate_photos.evaluate(probabilities, folders, 0.5)


def test_the_base_cannot_answer_a_new_class_so_its_photos_count_as_wrong():
    answers = {"faldas": frozenset({10}), "pantalones": frozenset({1})}
    base = np.zeros((4, 10), np.float32)
    base[:, 1] = 1  # the base calls everything trousers
    widened = finetune.widened(base, 11)
    folders = ["faldas"] * 2 + ["pantalones"] * 2
    result = evaluate_photos.evaluate(widened, folders, 0.5, answers, frozenset({1, 10}))
    assert widened.shape == (4, 11) and result["accuracy"] == 0.5
    assert result["per_folder"]["faldas"]["right"] == 0.0
    table = finetune.comparison_table(
        {
            "fashion_mnist_test_accuracy": {"base": 0.9, "new": 0.91},
            "held_out_photo_accuracy": {"base": 0.5, "new": 1.0},
            "held_out_photos": 4,
            "held_out_in_new_classes": 2,
        }
    )
    assert "0.5000   1.0000" in table and "count as wrong for the base" in table


def write_manifest(root, categories: dict[str, tuple[int | str | None, int]]) -> None:
    """manifest.csv as ``export_training_photos`` writes it: category → (label, photos)."""
    fields = ("path", "product_id", "category", "classifier_label", "source", "exported_at")
    with (root / photos.MANIFEST).open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        product = 0
        for category, (label, count) in categories.items():
            for _ in range(count):
                product += 1
                writer.writerow(
                    {
                        "path": f"{category}/{product}.jpg",
                        "product_id": product,
                        "category": category,
                        "classifier_label": "" if label is None else label,
                        "source": "person",
                        "exported_at": "2025-01-01T00:00:00+00:00",
                    }
                )


@pytest.fixture
def store_export(tmp_path):
    """The store's export: trousers mapped to class 1, 8 skirts and 3 caps with no class."""
    root = tmp_path / "store-export"
    categories = {
        "pantalones": ("pants", 1, 6),
        "faldas": ("skirt", None, 8),
        "gorras": ("hat", None, 3),
    }
    product = 0
    for category, (source, _, count) in categories.items():
        (root / category).mkdir(parents=True)
        for path in sorted((CLOTHING_PHOTOS_DIR / "train" / source).glob("*.jpg"))[:count]:
            product += 1
            (root / category / f"{product}.jpg").symlink_to(path)
    write_manifest(root, {c: (label, count) for c, (_, label, count) in categories.items()})
    return root


@pytest.mark.slow
@pytest.mark.training
def test_a_short_fine_tuning_on_the_store_export_adds_a_category_and_keeps_the_old_classes(
    smoke_run, store_export, fashion_mnist_dir, tmp_path, monkeypatch, capsys
):
    from ml_training import export

    monkeypatch.setenv(finetune.MIN_EXAMPLES_ENV, "8")  # the store's setting, read by the CLI
    finetune.main(
        [
            "--photos", str(store_export), "--base", str(smoke_run / "model.keras"),
            "--data-dir", str(fashion_mnist_dir), "--runs-dir", str(tmp_path / "runs"),
            "--epochs", "1", "--variants", "1", "--limit", "1000",
        ]
    )  # fmt: skip
    printed = capsys.readouterr().out
    run = tmp_path / "runs" / finetune.RUN_NAME
    metrics = json.loads((run / "metrics.json").read_text())
    old = photos.base_classes(smoke_run / "model.keras")
    assert metrics["classes"][:10] == old  # indexes (and names) unchanged
    assert metrics["classes"][10] == {
        "index": 10, "name": "Faldas", "slug": "faldas", "name_es": "Faldas", "name_en": "Faldas"
    }  # fmt: skip
    assert len(metrics["classes"]) == 11 and metrics["new_classes"] == ["faldas"]
    assert metrics["left_out"] == {"gorras": "gorras: 3 photos, needs 8"}
    assert "left out: gorras: 3 photos, needs 8" in printed
    model = keras.models.load_model(run / "model.keras", compile=False)
    assert model.output_shape == (None, 11)
    comparison = metrics["comparison"]
    assert metrics["base_classes"] == 10
    # every held-out photo of the new class, and only those
    held_faldas = metrics["held_out_photos"]["new"]["per_folder"]["faldas"]["photos"]
    assert comparison["held_out_in_new_classes"] == held_faldas >= 1
    assert "count as wrong for the base" in printed and "Fashion-MNIST test accuracy" in printed
    assert comparison["fashion_mnist_test_accuracy"]["new"] == metrics["test_accuracy"]
    paired = comparison["held_out_paired"]  # photo by photo, on the photos the accuracy counts
    accuracy = comparison["held_out_photo_accuracy"]
    known = metrics["held_out_photos"]["new"]["known_photos"]
    assert paired["only_new_right"] - paired["only_base_right"] == round(
        (accuracy["new"] - accuracy["base"]) * known
    )
    assert 0 < paired["p_value"] <= 1 and "exact McNemar p" in printed
    assert metrics["test_accuracy"] > 0.5  # Fashion-MNIST kept (chance: 0.10)
    # the card lists the new class for the store
    card = export.export(
        run, str(fashion_mnist_dir), tmp_path / "out", flip_averaging=True, web=False
    )
    assert card["classes"] == metrics["classes"]
