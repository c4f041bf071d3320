"""Start and stop a real Celery worker against real Redis and the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEST_BROKER = "redis://127.0.0.1:6379/15"


def broker_url() -> str:
    return os.environ.get("TEST_BROKER_URL", DEFAULT_TEST_BROKER)


def database_url() -> str:
    """The URL of the database the tests run on (pytest-django's test_<name>)."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise RuntimeError("the real-worker tests need PostgreSQL: set DATABASE_URL")
    user = db.get("USER") or "postgres"
    return (
        f"postgres://{user}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    )


class Worker:
    """A `celery -A shop worker` subprocess; its log is kept for failure messages."""

    def __init__(self, media_root: Path, log_path: Path, extra_env: dict | None = None):
        self.log_path = log_path
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": broker_url(),
            "MEDIA_ROOT": str(media_root),
            "DB_CONN_MAX_AGE": "0",
            **(extra_env or {}),
        }
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "shop",
                "worker",
                "-l",
                "info",
                "--concurrency",
                "1",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"test-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "ready." in self.log():
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log()}")
            time.sleep(0.2)
        raise TimeoutError(f"worker not ready after {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def forget_connections(app) -> None:
    """Drop connection pools made under an earlier broker URL (Celery caches them per app)."""
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None


def use_real_broker(app) -> dict:
    """Point the test process's Celery app at the test Redis; returns what to restore."""
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=broker_url(), task_always_eager=False)
    forget_connections(app)
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")
    return saved
