"""Retraining from the store: the labelled photos are exported, the fine-tuning command runs as
a subprocess and its run is followed (progress per epoch, log tail, metrics, exit status).

The command is ``PERCHA["FINETUNE_COMMAND"]``; here a small real program that prints what Keras
prints and writes a run folder, so that these tests train nothing (the real fine-tuning has its
own tests in tests/ml_training).
"""

from __future__ import annotations

import csv
import io
import sys
import textwrap
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from catalog import services, training
from catalog.models import Category, Product, TrainingRun
from classifier import tasks
from tests.catalog.factories import make_product

pytestmark = pytest.mark.django_db

FAKE_FINETUNE = textwrap.dedent(
    """
    import argparse, json, pathlib, sys
    parser = argparse.ArgumentParser()
    for flag in ("--photos", "--base", "--runs-dir", "--data-dir", "--min-examples"):
        parser.add_argument(flag)
    args = parser.parse_args()
    photos = sorted(p.parent.name for p in pathlib.Path(args.photos).glob("*/*.jpg"))
    assert pathlib.Path(args.base).is_file(), args.base
    for epoch in (1, 2):
        print(f"Epoch {epoch}/2")
        print("12/12 - 1s - 80ms/step - accuracy: 0.9000 - loss: 0.4000")
    run = pathlib.Path(args.runs_dir) / "production-photos"
    run.mkdir(parents=True)
    metrics = {"test_accuracy": 0.95, "base_test_accuracy": 0.94, "photos": photos,
               "held_out_photos": {"new": {"accuracy": 0.8}, "base": {"accuracy": 0.7}},
               "classes": ["T-shirt/top"] * 13, "confusion_matrix": [[1]]}
    (run / "metrics.json").write_text(json.dumps(metrics))
    print("== production-photos: done")
    """
)
FAILING_FINETUNE = textwrap.dedent(
    """
    import sys
    print("Epoch 1/2")
    print("12/12 - 1s - loss: 0.4000")
    print("Epoch 2/2")
    sys.stderr.write("Traceback (most recent call last):\\nRuntimeError: out of memory\\n")
    sys.exit(3)
    """
)


@pytest.fixture
def finetune(settings, tmp_path):
    """Point the retraining at a program of the test's own, and its runs at a temporary folder."""

    def use(script: str) -> None:
        settings.PERCHA = {
            **settings.PERCHA,
            "FINETUNE_COMMAND": [sys.executable, "-c", script],
            "TRAINING_RUNS_DIR": tmp_path / "runs",
        }

    return use


@pytest.fixture
def labelled(photo_bytes) -> list[Product]:
    """Two products a person filed, one the model filed (not a label)."""
    bags = Category.objects.get(slug="bolsos")
    products = [make_product(photo_bytes, f"bolso{i}", category=bags) for i in range(2)]
    services.product_apply_prediction(
        product=make_product(photo_bytes, "pantalon"), label=1, confidence=0.9,
        probabilities=[0.0] * 13, model_version="v", threshold=0.6,
    )  # fmt: skip
    return products


def test_a_run_exports_the_photos_follows_the_epochs_and_keeps_the_metrics(
    finetune, labelled, tmp_path
):
    finetune(FAKE_FINETUNE)
    run = training.training_run_execute(run=TrainingRun.objects.create())
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED
    assert run.progress == 100 and run.finished_at is not None
    assert run.examples == 2
    folder = training.run_folder(run)
    assert folder.parent == tmp_path / "runs" and folder.name.startswith(f"store-{run.pk}-")
    assert run.run_dir == str(folder / "production-photos")
    assert run.metrics["test_accuracy"] == 0.95
    assert run.metrics["photos"] == ["bolsos", "bolsos"]  # what a person filed, nothing else
    assert "Epoch 2/2" in run.log_tail and "== production-photos: done" in run.log_tail
    with (folder / "photos" / "manifest.csv").open() as fh:
        assert {row["category"] for row in csv.DictReader(fh)} == {"bolsos"}
    assert training.promotion_commands(run)[0] == (
        f"python -m ml_training.export {folder / 'production-photos'} --flip-averaging"
    )


def test_a_failing_training_is_failed_with_its_last_lines(finetune, labelled):
    finetune(FAILING_FINETUNE)
    with translation.override("en"):
        run = training.training_run_execute(run=TrainingRun.objects.create())
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED and run.finished_at is not None
    # its last words in the message, where the Model page shows them
    assert run.message.startswith("The training stopped with exit status 3: ")
    assert run.message.endswith("RuntimeError: out of memory"), run.message
    assert run.progress == 50  # the first of two epochs had finished
    assert "RuntimeError: out of memory" in run.log_tail
    assert run.metrics is None and run.run_dir == ""


def test_a_silent_training_still_saves_its_run(labelled, monkeypatch, tmp_path):
    """An epoch can print nothing for minutes: the run is saved anyway (a heartbeat), so that
    only a run whose process is gone stops being saved. Here a line, then two seconds of
    silence, with a heartbeat every 0.1 s: the last save is well after the line."""
    printed_at = tmp_path / "printed_at"
    script = (
        "import pathlib, time; print('Epoch 1/1', flush=True); "
        f"pathlib.Path({str(printed_at)!r}).write_text(repr(time.time())); time.sleep(2.0)"
    )
    monkeypatch.setattr(training, "SAVE_EVERY_S", 0.1)
    run = TrainingRun.objects.create(status=TrainingRun.Status.RUNNING)
    with translation.override("en"):
        assert training._follow(run, [sys.executable, "-c", script]) == (0, ["Epoch 1/1"])
    run.refresh_from_db()
    assert run.message == "Epoch 1 of 1"
    assert run.updated_at.timestamp() > float(printed_at.read_text()) + 1.0


def test_writing_the_photos_is_a_heartbeat_too(labelled, monkeypatch, tmp_path):
    """A store's thousands of photos take minutes to write before the training starts."""
    written = []
    training.training_photos_export(directory=tmp_path / "photos", on_photo=written.append)
    assert written == [1, 2]
    monkeypatch.setattr(training, "SAVE_EVERY_S", 0)
    run = TrainingRun.objects.create(status=TrainingRun.Status.RUNNING)
    TrainingRun.objects.filter(pk=run.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    with translation.override("en"):
        training.training_photos_export(
            directory=tmp_path / "again", on_photo=training._heartbeat(run)
        )
    run.refresh_from_db()
    assert run.message == "Writing the labelled photos… 2 so far"
    assert timezone.now() - run.updated_at < timedelta(minutes=1)


def test_a_run_not_saved_for_minutes_is_failed_and_a_live_one_is_not(labelled):
    stale = timezone.now() - training.STALLED_AFTER - timedelta(seconds=1)
    lost, alive, queued = (
        TrainingRun.objects.create(status=status)
        for status in (TrainingRun.Status.RUNNING, TrainingRun.Status.RUNNING,
                       TrainingRun.Status.QUEUED)
    )  # fmt: skip
    TrainingRun.objects.filter(pk__in=[lost.pk, queued.pk]).update(updated_at=stale)
    with translation.override("en"):
        assert training.stalled_runs_failed() == 1
    lost.refresh_from_db(), alive.refresh_from_db(), queued.refresh_from_db()
    assert lost.status == TrainingRun.Status.FAILED and lost.finished_at is not None
    assert "No news from this retraining for 3 minutes" in lost.message
    assert alive.status == TrainingRun.Status.RUNNING  # saved just now
    assert queued.status == TrainingRun.Status.QUEUED  # waiting for a worker is not stalling


def test_a_program_that_cannot_start_fails_the_run(settings, labelled, tmp_path):
    settings.PERCHA = {
        **settings.PERCHA,
        "FINETUNE_COMMAND": [str(tmp_path / "no-such-program")],
        "TRAINING_RUNS_DIR": tmp_path / "runs",
    }
    with translation.override("en"):
        run = training.training_run_execute(run=TrainingRun.objects.create())
    assert run.status == TrainingRun.Status.FAILED and "Could not start" in run.message


def test_success_without_metrics_is_a_failure(finetune, labelled):
    finetune("print('Epoch 1/1')")
    with translation.override("en"):
        run = training.training_run_execute(run=TrainingRun.objects.create())
    assert run.status == TrainingRun.Status.FAILED and "no metrics.json" in run.message


def test_without_labelled_photos_nothing_is_trained(finetune, photo_bytes):
    finetune("raise SystemExit('must not run')")
    make_product(photo_bytes, "unfiled")
    with translation.override("en"):
        run = training.training_run_execute(run=TrainingRun.objects.create())
    assert run.status == TrainingRun.Status.FAILED and "No labelled photos" in run.message


def test_without_the_served_keras_model_nothing_is_trained(finetune, labelled, settings, tmp_path):
    finetune(FAKE_FINETUNE)
    settings.PERCHA = {**settings.PERCHA, "MODEL_PATH": tmp_path / "elsewhere" / "model.tflite"}
    with translation.override("en"):
        run = training.training_run_execute(run=TrainingRun.objects.create())
    assert run.status == TrainingRun.Status.FAILED and "model.keras not found" in run.message


def test_the_task_takes_a_queued_run_once(finetune, labelled):
    finetune(FAKE_FINETUNE)
    run = TrainingRun.objects.create()
    assert tasks.retrain.apply(args=[run.pk]).get() == "succeeded"
    run.refresh_from_db()
    finished = run.finished_at
    assert tasks.retrain.apply(args=[run.pk]).get() == "succeeded"  # a second delivery: no rerun
    run.refresh_from_db()
    assert run.finished_at == finished
    assert tasks.retrain.apply(args=[run.pk + 1000]).get() == "missing"


def test_the_task_goes_to_the_training_queue():
    from shop.celery import app

    route = app.amqp.router.route({}, "classifier.tasks.retrain", args=(1,), kwargs={})
    assert route["queue"].name == "training"
    classify = app.amqp.router.route({}, "classifier.tasks.classify_products", args=(), kwargs={})
    assert classify["queue"].name == "celery"


def test_start_records_the_run_and_queues_it_after_commit(
    finetune, labelled, admin_user, django_capture_on_commit_callbacks
):
    finetune(FAKE_FINETUNE)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = training.training_run_start(created_by=admin_user)
    assert run.status == TrainingRun.Status.QUEUED and run.examples == 2
    assert run.created_by == admin_user and len(callbacks) == 1


GATED_FINETUNE = (
    textwrap.dedent(
        """
    import pathlib, sys, time
    gate = pathlib.Path(sys.argv[sys.argv.index("--runs-dir") + 1]) / "gate"
    for _ in range(600):  # until the test opens the gate (at most a minute)
        if gate.exists():
            break
        time.sleep(0.1)
    else:
        sys.exit("the gate never opened")
    """
    )
    + FAKE_FINETUNE
)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # another thread reads the run
def test_without_a_broker_the_training_runs_beside_the_request_not_inside_it(
    finetune, labelled, admin_user, tmp_path
):
    finetune(GATED_FINETUNE)
    run = training.training_run_start(created_by=admin_user)  # autocommit: started at once
    thread = next(t for t in threading.enumerate() if t.name == f"retrain-{run.pk}")
    run.refresh_from_db()
    assert thread.is_alive() and run.status in {
        TrainingRun.Status.QUEUED,
        TrainingRun.Status.RUNNING,
    }
    training.run_folder(run).mkdir(parents=True, exist_ok=True)
    (training.run_folder(run) / "gate").touch()
    thread.join(timeout=60)
    run.refresh_from_db()
    assert not thread.is_alive() and run.status == TrainingRun.Status.SUCCEEDED
    assert run.progress == 100 and run.metrics["test_accuracy"] == 0.95


def test_a_parent_filed_by_hand_is_exported_as_its_sub_categories_group(photo_bytes, tmp_path):
    calzado = Category.objects.get(slug="calzado")
    make_product(photo_bytes, "bota", category=calzado)
    training.training_photos_export(directory=tmp_path)
    with (tmp_path / "manifest.csv").open() as fh:
        rows = {row["category"]: row["classifier_label"] for row in csv.DictReader(fh)}
    assert rows == {"calzado": "5 7 9"}  # footwear of an unsaid kind, not a class of its own


def test_export_training_photos_command_uses_the_same_export(labelled, tmp_path):
    out = io.StringIO()
    with translation.override("en"):
        call_command("export_training_photos", str(tmp_path / "export"), stdout=out)
    assert "Exported 2 labelled photos" in out.getvalue()
    assert len(list((tmp_path / "export" / "bolsos").glob("*.jpg"))) == 2


def test_the_command_line_carries_the_stores_settings(settings, tmp_path):
    settings.PERCHA = {
        **settings.PERCHA,
        "FINETUNE_COMMAND": ["train-it", "--epochs", "2"],
        "NEW_CLASS_MIN_EXAMPLES": 7,
        "FASHION_MNIST_DIR": "/data/fm",
    }
    command = training.training_command(
        photos=tmp_path / "photos", base=tmp_path / "model.keras", runs_dir=tmp_path
    )
    assert command[:3] == ["train-it", "--epochs", "2"]
    flags = dict(zip(command[3::2], command[4::2], strict=True))
    assert flags == {
        "--photos": str(tmp_path / "photos"),
        "--base": str(tmp_path / "model.keras"),
        "--runs-dir": str(tmp_path),
        "--min-examples": "7",
        "--data-dir": "/data/fm",
    }
