"""``python -m benchmarks.run [--quick] [--only SECTION,...] [--markdown FILE]``

Runs the seven measurements of the serving path and the store and prints one table of medians,
p95s and ratios with each target and whether it was met. Comparisons are timed side by side in
this one run. Nothing is downloaded: the model is the committed one, the photos and Fashion-MNIST
come from ../shared/datasets (CLOTHING_PHOTOS_DIR, FASHION_MNIST_DIR), the load generator is wrk.

Needs PostgreSQL and Redis on 127.0.0.1 (BENCH_DATABASE_URL, BENCH_BROKER_URL, BENCH_CACHE_URL);
the bench uses its own database, percha_bench, dropped and created again every run, and Redis
databases 12 (broker) and 13 (the store's cache).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import serving, stack, store
from benchmarks.measure import Results, cpu_description

SERVING_SECTIONS = ("single", "batch", "preprocess")
STORE_SECTIONS = ("worker", "upload", "import", "reads")
SECTIONS = SERVING_SECTIONS + STORE_SECTIONS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer repetitions, 20 uploads and 100 imported photos: a smoke run in ~3 minutes",
    )
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections to run, of: {', '.join(SECTIONS)} (default: all)",
    )
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    cores = os.cpu_count() or 1
    parser.add_argument(
        "--web-workers",
        type=int,
        default=2 * cores + 1,
        help="gunicorn sync workers (default: 2 x cores + 1, gunicorn's rule of thumb)",
    )
    parser.add_argument(
        "--worker-concurrency",
        type=int,
        default=cores,
        help="Celery pool processes (default: one per core, Celery's own default)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    args = parser.parse_args(argv)
    args.sections = {s.strip() for s in args.only.split(",") if s.strip()}
    if unknown := args.sections - set(SECTIONS):
        parser.error(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the chosen measurements, print the table; exit 0 even when targets are missed."""
    args = parse_args(argv)
    results = Results()
    started = time.perf_counter()
    print(f"Percha bench ({'quick' if args.quick else 'full'} run), {platform.node()}:")
    if args.sections & set(SERVING_SECTIONS):
        serving.run(results, serving.QUICK if args.quick else serving.FULL, args.sections)
    if args.sections & set(STORE_SECTIONS):
        if "reads" in args.sections and shutil.which("wrk") is None:
            raise SystemExit(store.WRK_INSTALL)
        run_store(results, args)
    header = describe(args, time.perf_counter() - started)
    print()
    print(header)
    print()
    print(results.table())
    for note in results.notes:
        print(f"\n- {note}")
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        notes = "".join(f"\n- {note}" for note in results.notes)
        args.markdown.write_text(f"{header}\n\n{results.table()}\n{notes}\n")
    missed = results.missed()
    targets = [row for row in results.rows if row.target]
    keys = ", ".join(row.key for row in missed) or "none"
    print(f"\n{len(targets)} targets, {len(missed)} missed: {keys}")
    return 0


def run_store(results: Results, args: argparse.Namespace) -> None:
    """Measurements 4-7 against a fresh bench database and the bench's Redis database."""
    sizes = store.QUICK if args.quick else store.FULL
    workdir = Path(tempfile.mkdtemp(prefix="percha-bench-"))
    env = stack.bench_env(workdir)
    stack.recreate_database()
    stack.flush_bench_redis()
    os.environ.update(env)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    media = Path(env["MEDIA_ROOT"])
    services: list[stack.Service] = []
    try:
        if "worker" in args.sections:
            store.worker_startup(results, sizes, env, workdir, args.worker_concurrency)
        if args.sections & {"upload", "import"}:
            worker = stack.Worker(env, workdir, args.worker_concurrency)
            services.append(worker)
            worker.wait_ready()
        if args.sections & {"upload", "reads"}:
            web = stack.Gunicorn(env, workdir, args.web_workers)
            services.append(web)
            web.wait_ready()
        if "upload" in args.sections:
            store.upload_latency(results, sizes, web, store.staff_token())
        if "import" in args.sections:
            store.import_batching(results, sizes, env, media, workdir)
        if "reads" in args.sections:
            if args.sections & {"upload", "import"}:
                worker.stop()  # idle, but out of the way of the web processes
            store.read_throughput(results, sizes, web, media, args.web_workers)
    finally:
        for service in reversed(services):
            service.stop()
        from django.db import connections

        connections.close_all()
        stack.flush_bench_redis()
        if not args.keep:
            stack.drop_database()
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept: database {stack.DATABASE_URL}, files and logs in {workdir}")


def describe(args: argparse.Namespace, seconds: float) -> str:
    """What was measured where, so a table is never read without its conditions."""
    command = "make bench" + (" BENCH_ARGS=--quick" if args.quick else "")
    if args.sections != set(SECTIONS):
        command = f"python -m benchmarks.run {' '.join(sys.argv[1:])}"
    load = os.getloadavg()
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · `{command}` · {cpu_description()}, "
        f"Python {platform.python_version()} · "
        f"took {seconds / 60:.1f} min · load average before the table {load[0]:.2f}"
    )


if __name__ == "__main__":
    sys.exit(main())
