"""The store as it runs in production, started for the bench: PostgreSQL, Redis, gunicorn, a worker.

Everything lives apart from other users of the machine: its own database (``percha_bench``,
dropped and created again each run), its own Redis database numbers (12 the broker, 13 the
store's cache), media and static files in a temporary folder. DEBUG is off, as in production.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/percha_bench"
)
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/12")
# The store's cache (catalog/cache.py) in Redis as in docker-compose, in a database of its own.
CACHE_URL = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/13")
READY_TIMEOUT = 120.0


def bench_env(workdir: Path) -> dict[str, str]:
    """The environment every process of the bench runs with (settings read it in shop.settings)."""
    return {
        "DATABASE_URL": DATABASE_URL,
        "CELERY_BROKER_URL": BROKER_URL,
        "CACHE_URL": CACHE_URL,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on 127.0.0.1, no TLS proxy in front
        "MEDIA_ROOT": str(workdir / "media"),
        "STATIC_ROOT": str(workdir / "static"),
        "LOG_LEVEL": "INFO",
        "DJANGO_SETTINGS_MODULE": "shop.settings",
    }


def recreate_database(url: str = DATABASE_URL) -> None:
    """Drop the bench database (closing any session left on it) and create it empty."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.startswith("percha_bench"):
        raise SystemExit(
            f"refusing to drop {name!r}: the bench database's name must start with percha_bench"
        )
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url: str = DATABASE_URL) -> None:
    """Leave nothing behind once the bench is over."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(parts.path.lstrip("/"))
            )
        )


def flush_bench_redis() -> None:
    """Empty the bench's own Redis databases, broker and cache (never another number)."""
    import redis

    for each in (BROKER_URL, CACHE_URL):
        redis.Redis.from_url(each).flushdb()


def free_port() -> int:
    """A port nobody listens on, so the bench's gunicorn never collides with a running store."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (the worker's pool processes)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def memory_kib(pid: int, field: str) -> int:
    """``Rss`` or ``Pss`` of a process in KiB, from /proc/<pid>/smaps_rollup."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


def imports_tensorflow(pid: int) -> bool:
    """Whether the process has TensorFlow's own libraries mapped (LiteRT does not need them)."""
    return "/site-packages/tensorflow/" in Path(f"/proc/{pid}/maps").read_text()


class Service:
    """A subprocess with its log in a file, stopped by its own pid when done."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_dir: Path):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited early:\n{self.log()[-4000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


class Worker(Service):
    """``celery -A shop worker`` as the README starts it, one pool process per core."""

    def __init__(self, env: dict[str, str], log_dir: Path, concurrency: int, name: str = "worker"):
        self.concurrency = concurrency
        command = [
            sys.executable, "-m", "celery", "-A", "shop", "worker", "-l", "info",
            "--concurrency", str(concurrency),
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "-n", f"bench-{os.getpid()}-{name}@%h",
        ]  # fmt: skip
        super().__init__(name, command, env, log_dir)

    def wait_ready(self) -> float:
        """Seconds from the start until Celery says ready and every pool process has the model."""
        deadline = self.started + READY_TIMEOUT
        while time.perf_counter() < deadline:
            log = self.log()
            if "model unavailable" in log.lower():
                raise RuntimeError(f"the worker could not load the model:\n{log[-4000:]}")
            if "ready." in log and log.count(" loaded from ") >= self.concurrency:
                return time.perf_counter() - self.started
            self.check_alive()
            time.sleep(0.01)
        raise TimeoutError(f"worker not ready after {READY_TIMEOUT}s:\n{self.log()[-4000:]}")


class Gunicorn(Service):
    """The web app under gunicorn (sync workers), as the Dockerfile serves it."""

    def __init__(self, env: dict[str, str], log_dir: Path, workers: int):
        self.port = free_port()
        command = [
            sys.executable, "-m", "gunicorn", "shop.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
        ]  # fmt: skip
        super().__init__("gunicorn", command, env, log_dir)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        """Until a request is answered (every worker then warms on its first requests)."""
        import http.client

        deadline = time.perf_counter() + READY_TIMEOUT
        while time.perf_counter() < deadline:
            self.check_alive()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/api/categories/")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"gunicorn not answering after {READY_TIMEOUT}s:\n{self.log()[-4000:]}")
