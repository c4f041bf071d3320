"""Faults against the real services: Redis goes down, a worker is killed, the model is broken,
200 uploads arrive at once. Nothing is lost and nothing is classified twice.

Each test runs its own ``redis-server`` on a free port (so it can stop it without touching the
shared one), real Celery workers (and beat) as subprocesses, and the real PostgreSQL test
database; the web side is this process, through the API.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalog import services
from catalog.models import Product
from shop.celery import app as celery_app
from tests.real_services import ROOT, Worker, database_url, forget_connections

pytestmark = [
    pytest.mark.slow,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
DONE = (Product.Status.CLASSIFIED, Product.Status.NEEDS_REVIEW)
OUTCOME = re.compile(r"succeeded in [\d.]+s: \{'classified': (\d+), 'failed': (\d+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A redis-server of our own, without persistence, that a test may stop and start again."""

    def __init__(self, log_dir: Path):
        self.port = free_port()
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--dir", str(self.log_dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise TimeoutError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    celery_app.conf.update(broker_url=server.url, task_always_eager=False)
    forget_connections(celery_app)
    yield server
    celery_app.conf.update(saved)
    forget_connections(celery_app)
    server.stop()


@pytest.fixture
def start_worker(tmp_path, settings, redis_server):
    """Start workers on our Redis, sharing this test's media folder; all stopped at the end."""
    settings.MEDIA_ROOT = tmp_path / "media"
    started: list[Worker] = []

    def start(name: str = "worker", wait: bool = True, **env: str) -> Worker:
        worker = Worker(
            settings.MEDIA_ROOT,
            tmp_path / f"{name}.log",
            extra_env={"CELERY_BROKER_URL": redis_server.url, **env},
        )
        started.append(worker)
        if wait:
            worker.wait_ready(timeout=120)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def api() -> APIClient:
    staff = get_user_model().objects.create_user("tienda", password="x", is_staff=True)
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(staff)
    return client


def upload(api: APIClient, photo: bytes, name: str = "Camiseta") -> int:
    image = SimpleUploadedFile("foto.jpg", photo, content_type="image/jpeg")
    # the same photo more than once here: these tests are about faults, not copies
    data = {"name": name, "price": "10", "image": image, "duplicate": "true"}
    response = api.post("/api/products/", data)
    assert response.status_code == 202, response.content
    return response.json()["id"]


def wait_until_done(ids: list[int], timeout: float, *workers: Worker) -> list[Product]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        products = list(Product.objects.filter(pk__in=ids))
        if len(products) == len(ids) and all(p.classification_status in DONE for p in products):
            return products
        time.sleep(0.3)
    statuses = list(Product.objects.filter(pk__in=ids).values_list("classification_status"))
    logs = "\n".join(w.log()[-3000:] for w in workers)
    pytest.fail(f"not classified after {timeout}s: {statuses[:10]}\n{logs}")


def classified_by(*workers: Worker) -> int:
    """Products the workers' tasks say they classified, from their logs: once each, or twice?"""
    return sum(int(m[0]) for w in workers for m in OUTCOME.findall(w.log()))


def test_redis_down_at_upload_the_product_waits_and_beat_classifies_it_later(
    redis_server, start_worker, api, photo_bytes, tmp_path
):
    worker = start_worker()
    redis_server.stop()  # the broker goes away under a running worker

    started = time.monotonic()
    ids = [upload(api, photo_bytes, f"Prenda {i}") for i in range(3)]
    assert time.monotonic() - started < 20  # no hanging on the dead broker
    assert set(Product.objects.values_list("classification_status", flat=True)) == {"pending"}

    redis_server.start()  # back, empty: the three tasks were never queued
    beat = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "shop", "beat", "-l", "info"]
        + ["--schedule", str(tmp_path / "beat-schedule")],
        cwd=ROOT,
        env={
            **os.environ,
            "CELERY_BROKER_URL": redis_server.url,
            "DATABASE_URL": database_url(),
            "CLASSIFY_PENDING_EVERY": "2",
        },
        stdout=(tmp_path / "beat.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        products = wait_until_done(ids, 120, worker)
    finally:
        beat.terminate()
        beat.wait(timeout=20)
    assert "classifier.tasks.classify_pending" in worker.log()  # beat's run, not ours
    assert len(products) == 3 and classified_by(worker) == 3
    assert "Sending due task classify-pending" in (tmp_path / "beat.log").read_text()


def test_worker_killed_mid_task_the_task_comes_back_and_files_each_product_once(
    start_worker, photo_bytes
):
    products = [
        services.product_create(
            name=f"Prenda {i}",
            image=SimpleUploadedFile(f"{i}.jpg", photo_bytes, content_type="image/jpeg"),
            classify=False,
        )
        for i in range(3)
    ]
    ids = [p.pk for p in products]
    # Hold one row: the worker's batch locks its rows together, so it waits having written none.
    lock = psycopg.connect(database_url(), autocommit=False)
    lock.execute("SELECT id FROM catalog_product WHERE id = %s FOR UPDATE", [ids[1]])

    try:  # released whatever happens: a lock left behind would hang the next tests
        first = start_worker("first")
        services.products_queue_classification(product_ids=ids)
        wait_for_a_blocked_query()
        assert not Product.objects.filter(pk__in=ids, classification_status__in=DONE).exists()
        kill_with_children(first.process.pid)  # SIGKILL: no goodbye, no acknowledgement
        first.process.wait(timeout=10)
    finally:
        lock.rollback()
        lock.close()
    time.sleep(3)  # the message is now older than the new worker's visibility timeout

    second = start_worker("second", CELERY_VISIBILITY_TIMEOUT="2")
    done = wait_until_done(ids, 90, first, second)
    assert "succeeded" not in first.log()
    assert classified_by(first, second) == 3  # the whole batch, once, by the second delivery
    classified_at = {product.pk: product.classified_at for product in done}

    services.products_queue_classification(product_ids=ids)  # the same batch delivered again
    deadline = time.monotonic() + 60
    while "'skipped': 3" not in second.log() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "'skipped': 3" in second.log(), second.log()[-3000:]
    assert classified_by(first, second) == 3
    again = Product.objects.filter(pk__in=ids).values_list("pk", "classified_at")
    assert dict(again) == classified_at  # not redone


def wait_for_a_blocked_query(timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.2)
    pytest.fail("the worker never reached the locked row")


def kill_with_children(pid: int) -> None:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for child in [pid, *map(int, children)]:
        os.kill(child, signal.SIGKILL)


@pytest.mark.parametrize("model", ["missing", "corrupt"])
def test_broken_model_worker_says_so_products_wait_and_the_shop_keeps_serving(
    model, start_worker, api, photo_bytes, settings, tmp_path
):
    broken = tmp_path / "model.tflite"
    good = settings.PERCHA["MODEL_PATH"].read_bytes()
    if model == "corrupt":
        broken.write_bytes(good[: len(good) // 2])  # an interrupted copy
    settings.PERCHA = {**settings.PERCHA, "MODEL_PATH": broken}  # the web app's too

    worker = start_worker("broken", CLASSIFIER_MODEL_PATH=str(broken))
    banner = next(line for line in worker.log().splitlines() if "MODEL UNAVAILABLE" in line)
    assert "CRITICAL/MainProcess" in banner and str(broken) in banner
    ids = [upload(api, photo_bytes, f"Prenda {i}") for i in range(3)]
    deadline = time.monotonic() + 60
    while worker.log().count("Retry in") < 3 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert worker.log().count("Retry in") >= 3, worker.log()[-3000:]  # tried, and will again
    statuses = set(
        Product.objects.filter(pk__in=ids).values_list("classification_status", flat=True)
    )
    assert statuses == {"pending"}  # waiting, not failed one by one

    anonymous = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    for url in ("/", "/api/products/", "/api/categories/", "/c/pantalones/"):
        assert anonymous.get(url).status_code == 200, url
    refused = anonymous.post(
        "/api/classify/", {"image": SimpleUploadedFile("f.jpg", photo_bytes, "image/jpeg")}
    )
    assert refused.status_code == 503 and refused["Retry-After"]

    # A good model is copied into place: no restart, the waiting products are requeued.
    broken.write_bytes(good)
    call_command("classify_pending", "--no-failed", verbosity=0)
    wait_until_done(ids, 90, worker)
    assert classified_by(worker) == 3


def test_two_hundred_uploads_at_once_none_lost_none_twice(
    start_worker, short_lived_connections, live_server, photo_bytes, django_user_model
):
    staff = django_user_model.objects.create_user("tienda", password="x", is_staff=True)
    headers = {"Authorization": f"Token {Token.objects.create(user=staff).key}"}
    worker = start_worker("busy")

    def post(i: int) -> requests.Response:
        # ten names for 200 products: concurrent uploads race for the same slugs
        return requests.post(
            f"{live_server.url}/api/products/",
            data={"name": f"Camiseta {i % 10}", "price": "9.90", "duplicate": "true"},
            files={"image": (f"{i}.jpg", photo_bytes, "image/jpeg")},
            headers=headers,
            timeout=120,
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(post, range(200)))

    assert [r.status_code for r in responses] == [202] * 200, [
        r.text[:200] for r in responses if r.status_code != 202
    ][:3]
    ids = [r.json()["id"] for r in responses]
    assert len(set(ids)) == 200
    products = wait_until_done(ids, 240, worker)
    assert Product.objects.count() == 200 and len(products) == 200
    assert len({p.slug for p in products}) == 200
    assert len({p.image.name for p in products}) == 200
    assert classified_by(worker) == 200  # each exactly once


def test_without_a_broker_nothing_reaches_rabbitmq_and_a_worker_refuses_to_start(tmp_path):
    """No CELERY_BROKER_URL: tasks run in-process, the broker is memory:// (never Celery's
    default amqp://localhost, where a RabbitMQ might listen) and a worker says what is missing."""
    env = {**os.environ, "CELERY_BROKER_URL": "", "DATABASE_URL": database_url()}
    probe = subprocess.run(
        [sys.executable, "-c", "from shop.celery import app; print(app.conf.broker_url)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.stdout.strip() == "memory://", probe.stderr
    worker = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "shop", "worker", "--concurrency", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode != 0
    assert "CELERY_BROKER_URL is not set" in worker.stdout + worker.stderr
