"""The admin's Model page: the served model from its card, the labelled examples per category,
the Retrain button (a TrainingRun queued on the training queue) and who may see and press it."""

from __future__ import annotations

import json
import re
import sys
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from catalog import services, training
from catalog.models import Category, TrainingRun
from classifier import predictor, tasks
from tests.catalog.factories import make_product
from tests.catalog.test_training import FAKE_FINETUNE

pytestmark = pytest.mark.django_db

PAGE = "admin:catalog_trainingrun_changelist"
RETRAIN = "admin:catalog_trainingrun_retrain"
CARD = json.loads((predictor.ARTIFACTS_DIR / "model_card.json").read_text())


@pytest.fixture
def admin_client(admin_client):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return admin_client


def example_rows(html: str) -> dict[str, tuple[int, str]]:
    """The labelled-examples table as {slug: (count, the row's HTML)}."""
    found = {}
    for row in html.split('<tr data-slug="')[1:]:
        row = row[: row.index("</tr>")]
        cell = row.index('class="labelled-count">') + len('class="labelled-count">')
        found[row[: row.index('"')]] = (int(row[cell : row.index("<", cell)]), row)
    return found


def test_the_page_shows_the_served_model_and_the_examples_per_category(
    admin_client, photo_bytes, settings
):
    settings.PERCHA = {**settings.PERCHA, "NEW_CLASS_MIN_EXAMPLES": 2}
    bags = Category.objects.get(slug="bolsos")
    skirts = Category.objects.create(slug="faldas", name_es="Faldas", name_en="Skirts")
    for i in range(2):
        make_product(photo_bytes, f"falda{i}", category=skirts)
    make_product(photo_bytes, "bolso", category=bags)
    services.product_apply_prediction(
        product=make_product(photo_bytes, "pantalon"), label=1, confidence=0.9,
        probabilities=[0.0] * 13, model_version="v", threshold=0.6,
    )  # fmt: skip
    response = admin_client.get(reverse(PAGE))
    assert response.status_code == 200
    html = response.content.decode()
    assert CARD["version"] in html and CARD["code_version"] in html
    # the base model by its version, not the training machine's path; the date in words
    trained_from = re.search(r"Trained from</th><td>([^<]*)</td>", html).group(1)
    assert trained_from == "production-augmented-2026-12-05-e2071efc"  # not the machine's path
    assert "Dec. 5, 2026" in html and CARD["exported_at"] not in html
    assert f"{CARD['metrics']['test_accuracy']:.4f}" in html
    assert "Held-out shop photos" in html and "460 photos" in html
    rows = example_rows(html)
    assert (rows["faldas"][0], rows["bolsos"][0], rows["pantalones"][0]) == (2, 1, 0)
    # skirts: enough examples, and no class yet; bags have a class already
    assert [slug for slug, (_, row) in rows.items() if 'class="new-class"' in row] == ["faldas"]
    assert "Bags" in html and "no category: held for review" in html  # class 8 files; hats not
    # the footwear classes file into Calzado, and Calzado filed by hand trains them as a group
    sandal_row = re.search(r"<td>5</td>.*?</tr>", html, re.DOTALL).group(0)
    assert ">Footwear</a>" in sandal_row
    assert "trains its sub-categories' classes, as one group" in rows["calzado"][1]
    assert 'id="retrain"' in html
    # no broker here: the page says where the run goes and what it needs, not a worker's queue
    assert "No task broker is set" in html and "-Q training" not in html
    assert 'http-equiv="refresh"' not in html  # nothing running
    index = admin_client.get(reverse("admin:index")).content.decode()
    assert reverse(PAGE) in index


def test_the_page_warns_when_the_footwear_categories_share_no_parent(admin_client):
    assert "never taught the model to tell" not in admin_client.get(reverse(PAGE)).content.decode()
    Category.objects.filter(slug="botines").update(parent=None)  # a shop's own tree
    html = admin_client.get(reverse(PAGE)).content.decode()
    assert "never taught the model to tell Sandals, Sneakers, Ankle boots apart" in html


def test_retrain_records_a_run_queues_it_and_the_page_follows_it(
    admin_client, admin_user, photo_bytes, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.PERCHA = {
        **settings.PERCHA,
        "FINETUNE_COMMAND": [sys.executable, "-c", FAKE_FINETUNE],
        "TRAINING_RUNS_DIR": tmp_path / "runs",
        "RETRAIN_MIN_EXAMPLES": 1,
    }
    make_product(photo_bytes, "bolso", category=Category.objects.get(slug="bolsos"))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(reverse(RETRAIN), follow=True)
    assert response.status_code == 200
    run = TrainingRun.objects.get()
    assert run.status == TrainingRun.Status.QUEUED and run.created_by == admin_user
    assert len(callbacks) == 1  # the task, sent once the run is committed
    html = response.content.decode()
    # no broker in the tests: the store says the run starts in its own process
    assert f"Retraining #{run.pk} started on 1 labelled photos, in the store" in html
    assert '<progress value="0" max="100">' in html and 'http-equiv="refresh"' in html
    assert "Starting in the store's own process" in html
    assert "Waiting for a worker of the training queue" not in html

    tasks.retrain.apply(args=[run.pk])  # what the callback starts: the fake fine-tuning
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED and run.progress == 100
    html = admin_client.get(reverse(PAGE)).content.decode()
    assert '<progress value="100" max="100">' in html and 'http-equiv="refresh"' not in html
    assert f"python -m ml_training.export {run.run_dir} --flip-averaging" in html
    assert "python manage.py sync_model_classes" in html
    assert "Fashion-MNIST test 95.0% (base 94.0%)" in html
    detail = admin_client.get(reverse("admin:catalog_trainingrun_change", args=[run.pk]))
    assert detail.status_code == 200 and "Epoch 2/2" in detail.content.decode()


def test_with_a_broker_the_run_waits_for_a_training_worker(
    admin_client, photo_bytes, monkeypatch, settings, django_capture_on_commit_callbacks
):
    monkeypatch.setitem(tasks.retrain.app.conf, "task_always_eager", False)
    settings.PERCHA = {**settings.PERCHA, "RETRAIN_MIN_EXAMPLES": 1}
    make_product(photo_bytes, "bolso", category=Category.objects.get(slug="bolsos"))
    with django_capture_on_commit_callbacks(execute=False):  # the task is not sent anywhere
        html = admin_client.post(reverse(RETRAIN), follow=True).content.decode()
    run = TrainingRun.objects.get()
    assert f"Retraining #{run.pk} queued on 1 labelled photos" in html
    assert "Waiting for a worker of the training queue" in html
    assert "own process" not in html and "-Q training" in html


def test_a_run_whose_worker_was_lost_shows_as_failed_not_running_for_ever(admin_client):
    run = TrainingRun.objects.create(status=TrainingRun.Status.RUNNING, progress=40)
    lost_at = timezone.now() - training.STALLED_AFTER - timedelta(minutes=1)
    TrainingRun.objects.filter(pk=run.pk).update(updated_at=lost_at)
    html = admin_client.get(reverse(PAGE)).content.decode()
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED
    assert "No news from this retraining for 3 minutes" in html
    assert 'http-equiv="refresh"' not in html  # nothing left to follow


def test_retrain_waits_for_enough_labelled_photos(
    admin_client, photo_bytes, settings, django_capture_on_commit_callbacks
):
    """Four photos would cost the better part of an hour and teach nothing: the button says
    how many are needed, and a form sent anyway starts nothing."""
    settings.PERCHA = {**settings.PERCHA, "RETRAIN_MIN_EXAMPLES": 3}
    for name in ("bolso", "bolso rojo"):
        make_product(photo_bytes, name, category=Category.objects.get(slug="bolsos"))
    html = admin_client.get(reverse(PAGE)).content.decode()
    waits = "Retraining needs at least 3 labelled photos; the store has 2."
    assert waits in html
    assert re.search(r'id="retrain" disabled aria-describedby="retrain-waits"', html)
    response = admin_client.post(reverse(RETRAIN), follow=True)
    assert waits in response.content.decode() and not TrainingRun.objects.exists()

    make_product(photo_bytes, "bolso azul", category=Category.objects.get(slug="bolsos"))
    html = admin_client.get(reverse(PAGE)).content.decode()
    assert "Retraining needs" not in html and 'id="retrain">' in html
    with django_capture_on_commit_callbacks(execute=False):  # the run is not started here
        admin_client.post(reverse(RETRAIN))
    assert TrainingRun.objects.get().examples == 3


def test_retrain_only_by_post(admin_client):
    assert admin_client.get(reverse(RETRAIN)).status_code == 405
    assert not TrainingRun.objects.exists()


def test_non_staff_are_sent_to_the_login(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("customer", password="pw-123456"))
    for response in (client.get(reverse(PAGE)), client.post(reverse(RETRAIN))):
        assert response.status_code == 302 and reverse("admin:login") in response.url
    assert not TrainingRun.objects.exists()


def test_staff_need_the_permissions(client, django_user_model, settings):
    settings.PERCHA = {**settings.PERCHA, "RETRAIN_MIN_EXAMPLES": 0}  # the permissions alone
    clerk = django_user_model.objects.create_user("clerk", password="pw-123456", is_staff=True)
    client.force_login(clerk)
    assert client.get(reverse(PAGE)).status_code == 403
    clerk.user_permissions.add(Permission.objects.get(codename="view_trainingrun"))
    page = client.get(reverse(PAGE))
    assert page.status_code == 200 and 'id="retrain"' not in page.content.decode()
    assert client.post(reverse(RETRAIN)).status_code == 403
    assert not TrainingRun.objects.exists()
    clerk.user_permissions.add(Permission.objects.get(codename="start_training"))
    clerk = django_user_model.objects.get(pk=clerk.pk)  # permissions are cached on the user
    client.force_login(clerk)
    assert client.post(reverse(RETRAIN)).status_code == 302
    assert TrainingRun.objects.get().created_by == clerk


def test_runs_cannot_be_added_or_edited_by_hand(admin_client):
    run = TrainingRun.objects.create()
    assert admin_client.get(reverse("admin:catalog_trainingrun_add")).status_code == 403
    response = admin_client.post(
        reverse("admin:catalog_trainingrun_change", args=[run.pk]), {"status": "succeeded"}
    )
    assert response.status_code == 403
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.QUEUED
