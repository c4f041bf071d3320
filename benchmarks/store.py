"""Measurements 4-7: the store's processes, started for real against PostgreSQL and Redis.

4. upload → classified through the API (gunicorn) with a real worker, one upload at a time;
5. ``manage.py import_products`` with batched tasks against one task per photo;
6. worker start-up and memory once every pool process has the model;
7. read throughput of a category page and the API list under wrk, with 5,000 products, and the
   number of queries per page at two page sizes.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from benchmarks import serving
from benchmarks.measure import Results, ms, p50, p95
from benchmarks.stack import ROOT, Gunicorn, Worker, children, imports_tensorflow, memory_kib

CATEGORY = "calzado"  # a category with sub-categories: the page and the filter walk the tree
PAGE_SIZES = (24, 96)
BATCHED = 64  # CLASSIFY_BATCH_SIZE's default
WRK_CONNECTIONS = 8
WRK_INSTALL = "wrk is not installed: `apt-get install wrk` (Debian/Ubuntu) or `brew install wrk`"


@dataclass(frozen=True)
class Sizes:
    """How much each measurement does (the quick run does less)."""

    worker_starts: int
    uploads: int
    import_photos: int
    import_repeats: int
    products: int
    wrk_seconds: int
    wrk_repeats: int


FULL = Sizes(
    worker_starts=3,
    uploads=100,
    import_photos=1000,
    import_repeats=2,
    products=5000,
    wrk_seconds=10,
    wrk_repeats=3,
)
QUICK = Sizes(
    worker_starts=1,
    uploads=20,
    import_photos=100,
    import_repeats=1,
    products=5000,
    wrk_seconds=3,
    wrk_repeats=1,
)


# --- HTTP, with the standard library only ------------------------------------------------------


def request(
    base_url: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None
) -> tuple[int, bytes]:
    """One request on a fresh connection (gunicorn's sync workers close it after each)."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def multipart(fields: dict[str, str], filename: str, photo: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body with text fields and the photo as ``image``."""
    boundary = uuid.uuid4().hex
    chunks = []
    for name, value in fields.items():
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        )
    chunks.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{filename}"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    )
    body = "".join(chunks).encode() + photo + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


# --- database helpers (Django is set up by benchmarks.run with the bench's environment) ---------


def staff_token() -> str:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user = get_user_model().objects.create_user("bench", is_staff=True)
    return Token.objects.create(user=user).key


def clear_products(media_root: Path) -> None:
    """No products and no stored photos: each measurement starts from the same state."""
    from catalog.cache import catalog_changed
    from catalog.models import Product

    Product.objects.all().delete()
    catalog_changed()  # written around the services: the store's cache must hear of it
    for folder in ("products", "thumbnails"):
        shutil.rmtree(media_root / folder, ignore_errors=True)


def count_by_status() -> dict[str, int]:
    from django.db.models import Count

    from catalog.models import Product

    rows = Product.objects.values_list("classification_status").annotate(n=Count("id"))
    return dict(rows.values_list("classification_status", "n"))


# --- 6. worker start-up ------------------------------------------------------------------------


def worker_startup(
    results: Results, sizes: Sizes, env: dict, log_dir: Path, concurrency: int
) -> None:
    """6: fresh starts of the worker, timed to the model loaded in every pool process."""
    ready, rss, pss, main_rss, pool_rss, tensorflow = [], [], [], [], [], False
    for n in range(sizes.worker_starts):
        worker = Worker(env, log_dir, concurrency, name=f"worker-start-{n}")
        try:
            ready.append(worker.wait_ready())
            time.sleep(0.5)  # let the pool processes settle after logging the model
            pool = children(worker.pid)
            pids = [worker.pid, *pool]
            rss.append(sum(memory_kib(pid, "Rss") for pid in pids) / 1024)
            pss.append(sum(memory_kib(pid, "Pss") for pid in pids) / 1024)
            main_rss.append(memory_kib(worker.pid, "Rss") / 1024)
            pool_rss.append(max(memory_kib(pid, "Rss") for pid in pool) / 1024)
            tensorflow = tensorflow or any(imports_tensorflow(pid) for pid in pids)
        finally:
            worker.stop()
    results.add(
        "6a",
        f"worker ready: start → Celery ready and the model in all {concurrency} pool processes",
        f"{p50(ready):.2f} s",
        "≤ 5 s",
        p50(ready) <= 5,
    )
    results.add(
        "6b",
        f"worker resident memory (PSS), main + {concurrency} pool processes, model loaded",
        f"{p50(pss):.0f} MB (RSS: main {p50(main_rss):.0f} MB, each pool process "
        f"≤ {p50(pool_rss):.0f} MB, summed {p50(rss):.0f} MB)",
        "≤ 400 MB",
        p50(pss) <= 400,
    )
    results.add("6c", "TensorFlow loaded in the worker", "yes" if tensorflow else "no")


# --- 4. upload → classified --------------------------------------------------------------------


def upload_latency(results: Results, sizes: Sizes, web: Gunicorn, token: str) -> None:
    """4: what a shop admin waits for, from sending a photo to seeing it filed."""
    photos = [path.read_bytes() for path in serving.real_photos(sizes.uploads + 5)]
    auth = {"Authorization": f"Token {token}"}
    totals, posts, outcomes = [], [], {}
    for n, photo in enumerate(photos):
        body, content_type = multipart({"name": f"Upload {n}", "price": "19.90"}, "p.jpg", photo)
        start = time.perf_counter()
        code, answer = request(
            web.base_url, "POST", "/api/products/", body, {**auth, "Content-Type": content_type}
        )
        posted = time.perf_counter()
        if code != 202:
            raise RuntimeError(f"upload answered {code}: {answer[:500]!r}")
        status_path = f"/api/products/{json.loads(answer)['id']}/status/"
        while True:
            code, answer = request(web.base_url, "GET", status_path, headers=auth)
            state = json.loads(answer)["classification_status"]
            if state != "pending":
                break
            if time.perf_counter() - start > 60:
                raise TimeoutError(f"upload {n} still pending after 60 s")
            time.sleep(0.005)
        if n >= 5:  # the first five warm up gunicorn's workers and the worker's pool processes
            totals.append(time.perf_counter() - start)
            posts.append(posted - start)
            outcomes[state] = outcomes.get(state, 0) + 1
    results.add(
        "4a",
        f"upload → classified via the API, real worker, {len(totals)} uploads one at a time: p50",
        ms(p50(totals)),
        "≤ 250 ms",
        p50(totals) <= 0.250,
    )
    results.add("4b", "upload → classified: p95", ms(p95(totals)), "≤ 1 s", p95(totals) <= 1.0)
    results.add(
        "4c", "of which the POST itself (check, thumbnail, save, queue): p50", ms(p50(posts))
    )
    if outcomes.get("failed"):
        results.note(f"uploads that failed to classify: {outcomes['failed']} (see worker log)")


# --- 5. import_products: batched against one task per photo -----------------------------------


def import_batching(results: Results, sizes: Sizes, env: dict, media_root: Path, tmp: Path) -> None:
    """5: the same import with batched tasks and with one task per photo, alternating."""
    folder = _import_folder(tmp / "import", sizes.import_photos)
    modes = {"batched": BATCHED, "per_photo": 1}
    order = ["batched", "per_photo", "per_photo", "batched"] * sizes.import_repeats
    order = order[: 2 * sizes.import_repeats]
    totals: dict[str, list[float]] = {mode: [] for mode in modes}
    phases: dict[str, list[float]] = {mode: [] for mode in modes}
    for mode in order:
        clear_products(media_root)
        start = time.perf_counter()
        command = subprocess.run(
            [sys.executable, "manage.py", "import_products", str(folder), "--verbosity", "0"],
            cwd=ROOT,
            env={**os.environ, **env, "CLASSIFY_BATCH_SIZE": str(modes[mode])},
            capture_output=True,
            text=True,
        )
        if command.returncode != 0:
            raise RuntimeError(f"import_products failed:\n{command.stdout}\n{command.stderr}")
        imported = time.perf_counter()
        _wait_classified(sizes.import_photos)
        done = time.perf_counter()
        totals[mode].append(done - start)
        phases[mode].append(done - imported)
    n = sizes.import_photos
    batched, single = p50(totals["batched"]), p50(totals["per_photo"])
    results.add(
        "5a",
        f"`import_products` of {n:,} photos until all classified, batches of {BATCHED}",
        f"{batched:.1f} s (classification after the import: {p50(phases['batched']):.1f} s)",
    )
    results.add(
        "5b",
        "the same, one task per photo (CLASSIFY_BATCH_SIZE=1)",
        f"{single:.1f} s (classification after the import: {p50(phases['per_photo']):.1f} s)",
    )
    results.add(
        "5c",
        "import, batched vs one task per photo (5b / 5a), total time",
        f"{single / batched:.2f}x faster",
        "≥ 3x",
        single / batched >= 3,
    )
    after = {mode: p50(phases[mode]) for mode in modes}
    results.add(
        "5d",
        "classification left after the import, batched vs one task per photo",
        f"{after['per_photo'] / after['batched']:.2f}x faster"
        if min(after.values()) >= 0.5
        else "— (under 0.5 s in one mode or both: the worker kept pace with the import)",
    )


def _import_folder(folder: Path, count: int) -> Path:
    """``count`` real photos (links, nothing copied) in their class folders."""
    photos = sorted(serving.PHOTOS_DIR.glob("*/*/*.jpg"))
    if len(photos) < count:
        raise SystemExit(f"only {len(photos)} photos in {serving.PHOTOS_DIR}, {count} needed")
    for path in photos[:count]:
        link = folder / path.parent.name / path.name
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists():
            link.symlink_to(path)
    return folder


def _wait_classified(expected: int, timeout: float = 1800) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        counts = count_by_status()
        if sum(counts.values()) >= expected and not counts.get("pending"):
            return
        time.sleep(0.02)
    raise TimeoutError(f"products still pending after {timeout}s: {count_by_status()}")


# --- 7. read throughput ------------------------------------------------------------------------


def seed_products(count: int, media_root: Path) -> None:
    """``count`` published, filed products spread over the model's categories, in one query;
    every one points at the same small photo and thumbnail (the pages only link to them)."""
    from django.utils import timezone
    from PIL import Image

    from catalog.cache import catalog_changed
    from catalog.models import Category, Product

    (media_root / "bench").mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (64, 64), "white").save(media_root / "bench" / "photo.jpg")
    Image.new("RGB", (64, 64), "white").save(media_root / "bench" / "thumb.webp")
    categories = list(Category.objects.exclude(classifier_label=None).order_by("classifier_label"))
    now = timezone.now()
    Product.objects.bulk_create(
        [
            Product(
                name=f"Producto {n}",
                slug=f"producto-{n}",
                price=f"{5 + n % 95}.90",
                image="bench/photo.jpg",
                thumbnail="bench/thumb.webp",
                category=categories[n % len(categories)],
                category_source=Product.CategorySource.MODEL,
                predicted_label=categories[n % len(categories)].classifier_label,
                confidence=0.9,
                classification_status=Product.Status.CLASSIFIED,
                classified_at=now,
                is_published=True,
            )
            for n in range(count)
        ],
        batch_size=1000,
    )
    catalog_changed()  # written around the services: the store's cache must hear of it


@dataclass(frozen=True)
class PageCost:
    """What one page costs in this process (Django's test client, on the bench database)."""

    built: dict[int, int]  # queries at each of PAGE_SIZES when the page is built afresh
    cached: int  # queries when the store's cache has it (PAGE_SIZES[0])
    built_ms: float  # median time of a request that builds the page (PAGE_SIZES[0])
    cached_ms: float  # median time of a request answered from the cache


def page_cost(path: str, api: bool, repeats: int = 30) -> PageCost:
    """Queries at each of PAGE_SIZES, and the in-process time of a request, with the page built
    afresh (the catalog changed just before: the cost after every write) and from the cache."""
    from unittest import mock

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework.pagination import PageNumberPagination

    from catalog import views
    from catalog.cache import catalog_changed

    client = Client(SERVER_NAME="127.0.0.1")

    def get(size: int):
        with (
            mock.patch.object(views, "PAGE_SIZE", size),
            mock.patch.object(PageNumberPagination, "page_size", size),
        ):
            response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
        shown = (
            len(response.json()["results"]) if api else response.content.count(b'<li class="card"')
        )
        if shown != size:
            raise RuntimeError(f"{path} showed {shown} products at page size {size}")
        return response

    get(PAGE_SIZES[0])  # warm: the first request of a process loads caches
    built = {}
    for size in PAGE_SIZES:
        catalog_changed()
        with CaptureQueriesContext(connection) as queries:
            get(size)
        built[size] = len(queries)
    with CaptureQueriesContext(connection) as queries:
        get(PAGE_SIZES[-1])  # the same page again: from the cache
    cached = len(queries)
    built_times, cached_times = [], []
    for _ in range(repeats):
        catalog_changed()
        for times in (built_times, cached_times):
            start = time.perf_counter()
            get(PAGE_SIZES[0])
            times.append(time.perf_counter() - start)
    return PageCost(built, cached, p50(built_times), p50(cached_times))


UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def wrk(url: str, seconds: int) -> tuple[float, float]:
    """Requests per second and the median latency in seconds, from ``wrk -t1 -c8``."""
    wrk_bin = shutil.which("wrk")
    if wrk_bin is None:
        raise SystemExit(WRK_INSTALL)
    out = subprocess.run(
        [wrk_bin, "-t1", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if errors := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise RuntimeError(f"{url}: {errors.group(1)} error responses under load:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"\s50%\s+([\d.]+)(us|ms|s|m)\b", out).groups()
    return rate, float(value) * UNITS[unit]


def read_throughput(
    results: Results, sizes: Sizes, web: Gunicorn, media_root: Path, workers: int
) -> None:
    """7: requests/s under wrk with 5,000 products, and queries per page at two page sizes."""
    clear_products(media_root)
    seed_products(sizes.products, media_root)
    pages = {
        "page": (f"/c/{CATEGORY}/", False),
        "api": (f"/api/products/?category={CATEGORY}", True),
    }
    costs = {name: page_cost(path, api) for name, (path, api) in pages.items()}
    for path, _api in pages.values():
        wrk(web.base_url + path, 2)  # warm every gunicorn worker
    rates: dict[str, list[float]] = {name: [] for name in pages}
    latencies: dict[str, list[float]] = {name: [] for name in pages}
    for repeat in range(sizes.wrk_repeats):
        for name in list(pages)[:: 1 if repeat % 2 == 0 else -1]:
            rate, latency = wrk(web.base_url + pages[name][0], sizes.wrk_seconds)
            rates[name].append(rate)
            latencies[name].append(latency)
    setup = (
        f"{sizes.products:,} products, gunicorn {workers} sync workers, wrk {WRK_CONNECTIONS} conn."
    )
    for key, name, label in (("7a", "page", "category page"), ("7b", "api", "API list")):
        path = pages[name][0]
        results.add(
            key,
            f"{label} `{path}`, {setup}",
            f"{p50(rates[name]):.0f} requests/s (latency p50 {ms(p50(latencies[name]))})",
            "≥ 200 requests/s",
            p50(rates[name]) >= 200,
        )
    for key, name, label in (("7c", "page", "category page"), ("7d", "api", "API list")):
        cost = costs[name]
        sizes_text = " / ".join(f"{cost.built[size]} at {size}" for size in PAGE_SIZES)
        results.add(
            key,
            f"{label}: SQL queries per page, page size {' vs '.join(map(str, PAGE_SIZES))}",
            f"{sizes_text} (built afresh); {cost.cached} from the store's cache",
            "no growth with the page size",
            len(set(cost.built.values())) == 1,
        )
    for key, name, label in (("7e", "page", "category page"), ("7f", "api", "API list")):
        cost = costs[name]
        results.add(
            key,
            f"{label}: one request in-process (test client), {PAGE_SIZES[0]} products",
            f"{ms(cost.cached_ms)} from the cache, {ms(cost.built_ms)} built afresh "
            "(the first request after a catalog write)",
        )
