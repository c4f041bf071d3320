"""The deployment files, checked without Docker: everything docker-compose.yml and the Dockerfile
name must exist in the project, and production settings must pass ``check --deploy``."""

from __future__ import annotations

import importlib
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def command_line(service: dict) -> str:
    command = service.get("command", "")
    if isinstance(command, list):
        # ["sh", "-c", "a && b"] runs the script; any other list is the command itself.
        return command[2] if command[:2] == ["sh", "-c"] else shlex.join(command)
    return command


def commands_of(service: dict) -> list[list[str]]:
    """Each command of a service's command line, split into words."""
    return [shlex.split(part) for part in command_line(service).split("&&") if part.strip()]


def settings_read_from_env() -> set[str]:
    source = (ROOT / "shop" / "settings.py").read_text()
    return set(re.findall(r"\benv(?:\.\w+)?\(\s*\"([A-Z0-9_]+)\"", source))


def test_no_version_key_and_the_five_services(compose, services):
    assert "version" not in compose
    assert {"db", "redis", "web", "worker", "beat"} <= set(services)
    assert services["db"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    for name in APP_SERVICES:
        assert services[name]["build"] == "."


def test_web_serves_wsgi_application_with_gunicorn(services):
    commands = commands_of(services["web"])
    assert [c[:3] for c in commands[:2]] == [
        ["python", "manage.py", "migrate"],
        ["python", "manage.py", "collectstatic"],
    ]
    gunicorn = commands[-1]
    assert gunicorn[0] == "gunicorn" and "0.0.0.0:8000" in gunicorn
    module, _, attribute = gunicorn[1].partition(":")
    assert callable(getattr(importlib.import_module(module), attribute))
    assert "8000:8000" in services["web"]["ports"]


def test_every_manage_py_command_exists(services):
    available = get_commands()
    named = [
        words[2]
        for service in services.values()
        for words in commands_of(service)
        if words[:2] == ["python", "manage.py"]
    ]
    assert named
    assert not [name for name in named if name not in available]


def test_celery_app_and_the_tasks_it_runs_exist(services):
    for name in ("worker", "beat"):
        words = commands_of(services[name])[0]
        assert words[:3] == ["celery", "-A", "shop"]
    assert commands_of(services["worker"])[0][3] == "worker"
    assert commands_of(services["beat"])[0][3] == "beat"
    app = importlib.import_module("shop.celery").app
    app.loader.import_default_modules()
    assert {"classifier.tasks.classify_products", "classifier.tasks.classify_pending"} <= set(
        app.tasks
    )
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks


def test_every_variable_set_for_the_app_is_a_setting(services):
    read = settings_read_from_env()
    assert {"DATABASE_URL", "SECRET_KEY", "DEBUG"} <= read  # the pattern itself works
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        assert not set(environment) - read, name
        assert environment["DEBUG"] == "false"
        assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")
        assert environment["DATABASE_URL"] == "postgres://percha:percha@db:5432/percha"
        assert environment["CELERY_BROKER_URL"].startswith("redis://redis:6379/")
        assert environment["MEDIA_ROOT"] == "/data/media"
        assert "media:/data/media" in services[name]["volumes"]


def test_database_credentials_match_the_url(services):
    env = services["db"]["environment"]
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"], env["POSTGRES_DB"]) == (
        "percha",
        "percha",
        "percha",
    )


def test_dependencies_wait_for_healthchecks(services):
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]
    assert "urllib" in " ".join(services["web"]["healthcheck"]["test"])
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: give depends_on conditions"
        for target, condition in depends_on.items():
            assert target in services, (name, target)
            if condition.get("condition") == "service_healthy":
                assert "healthcheck" in services[target], (name, target)
    assert set(services["web"]["depends_on"]) == {"db", "redis"}
    # the others start once web has migrated the database (it is healthy after migrate)
    for name in ("worker", "beat", "trainer"):
        assert services[name]["depends_on"]["web"] == {"condition": "service_healthy"}, name
    assert "migrate" in command_line(services["web"])


def test_named_volumes_are_declared(compose, services):
    declared = set(compose.get("volumes") or {})
    assert {"pgdata", "media"} <= declared
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in declared, volume


def test_dockerfile_installs_the_runtime_requirements_only():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    assert re.search(r"^COPY requirements\.txt ", dockerfile, re.M)
    assert re.search(r"pip install .*-r requirements\.txt", dockerfile)
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M)
    assert re.search(r"DEBUG=false .*collectstatic --noinput", dockerfile, re.S)
    assert re.search(r"^EXPOSE 8000$", dockerfile, re.M)
    requirements = [
        line.split("#")[0].strip().lower()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
    ]
    assert not [line for line in requirements if line.startswith(("tensorflow", "keras"))]
    assert any(line.startswith("gunicorn") for line in requirements)
    assert any(line.startswith("ai-edge-litert") for line in requirements)


def test_dockerfile_copies_the_pinned_browser_runtime():
    """The classifier page's scripts come from npm ci (package-lock.json), as `make vendor`."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^FROM node:\d+-slim AS vendor$", dockerfile, re.M)
    assert "COPY package.json package-lock.json ./" in dockerfile
    assert "npm ci --ignore-scripts" in dockerfile
    assert "VENDOR_FILES :=" in makefile
    vendored = subprocess.run(  # the Makefile's list, as make expands it
        ["make", "-s", "--eval=_vendor: ; @echo $(VENDOR_FILES)", "_vendor"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert len(vendored) >= 3
    for path in vendored:
        assert f"/build/{path}" in dockerfile
    assert dockerfile.index("/app/static/vendor/") < dockerfile.index("collectstatic")


@pytest.mark.slow
def test_collectstatic_as_the_image_runs_it(tmp_path):
    """The Dockerfile's step, with the vendored runtimes and the web model in static files."""
    result = manage_py(
        {
            "DEBUG": "false",
            "SECRET_KEY": "build-only-not-a-secret-collectstatic-0123456789abcdef",
            "STATIC_ROOT": str(tmp_path),
        },
        "collectstatic",
        "--noinput",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    for name in ("vendor/tf.min.js", "vendor/opencv.js", "js/classifier/page.js"):
        assert name in manifest
    # what the page fetches by its own name: the .wasm files and the model
    fetched = ("vendor/tfjs-backend-wasm-simd.wasm", "model/model.json", "js/classifier/model.js")
    for name in fetched:
        assert (tmp_path / name).is_file()


def test_the_training_worker_is_an_opt_in_service_with_tensorflow(services):
    """The Model page's Retrain queues on `training`; only this worker listens there."""
    trainer = services["trainer"]
    assert trainer["profiles"] == ["training"]  # not started by a plain `docker compose up`
    assert trainer["build"] == {"context": ".", "dockerfile": "Dockerfile.training"}
    words = commands_of(trainer)[0]
    assert words[:5] == ["celery", "-A", "shop", "worker", "-Q"] and words[5] == "training"
    assert words[words.index("--concurrency") + 1] == "1"
    for name in APP_SERVICES:  # the store's workers never take a training task
        assert "training" not in command_line(services[name])
    assert trainer["environment"]["TRAINING_RUNS_DIR"] == "/data/runs"
    assert "runs:/data/runs" in trainer["volumes"] and "media:/data/media" in trainer["volumes"]
    assert trainer["environment"]["DATABASE_URL"] == services["web"]["environment"]["DATABASE_URL"]

    dockerfile = (ROOT / "Dockerfile.training").read_text()
    assert re.search(r"pip install .*-r requirements-training\.txt", dockerfile)
    assert "tensorflow" in (ROOT / "requirements-training.txt").read_text()
    assert "-r requirements-training.txt" in (ROOT / "requirements-dev.txt").read_text()
    # the retraining starts from the served Keras model: the store's image leaves it out, this
    # image's own ignore file keeps it
    ignored = (ROOT / "Dockerfile.training.dockerignore").read_text().splitlines()
    assert "classifier/artifacts/*.keras" in (ROOT / ".dockerignore").read_text().splitlines()
    assert "classifier/artifacts/*.keras" not in ignored
    assert {".venv", "media", "node_modules", ".git"} <= set(ignored)


def test_dockerignore_keeps_local_state_out():
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", "media", "runs", "node_modules", ".git", "db.sqlite3"} <= ignored
    assert {".venv-web", "static/vendor", "dist"} <= ignored


def manage_py(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT", "SECURE_COOKIES"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_variable_the_settings_read_is_in_the_readmes_table():
    """The README's configuration table is the operator's list: a variable read only in the
    code is a setting nobody knows to set."""
    read = set(
        re.findall(
            r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]*)"', (ROOT / "shop/settings.py").read_text()
        )
    )
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Configuration") :]
    table = table[: table.index("\n## ")]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))
    assert len(read) > 30 and read <= documented, sorted(read - documented)


def test_production_settings_pass_check_deploy():
    result = manage_py(
        {
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50)[:50],
            "ALLOWED_HOSTS": "shop.example.com",
        },
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    assert "WARNING" not in result.stderr


@pytest.mark.parametrize(
    ("https", "secure_cookies"),
    [({}, "True True"), ({"SECURE_SSL_REDIRECT": "false"}, "False False")],
)
def test_cookies_are_secure_unless_the_store_is_served_over_plain_http(https, secure_cookies):
    """docker-compose's plain HTTP: Secure cookies would make the admin's login a 403."""
    production = {"DEBUG": "false", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "shop.example.com"}
    read = "from django.conf import settings as s\n" + (
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    )
    result = manage_py({**production, **https}, "shell", "--no-imports", "-c", read)
    assert result.stdout.strip() == secure_cookies, result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = manage_py({"DEBUG": "false", "ALLOWED_HOSTS": "shop.example.com"}, "check")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
