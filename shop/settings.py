"""Percha settings: every knob read from the environment here, and only here.

With nothing set the store runs on SQLite, runs classification tasks in-process and serves the
committed model. ``DATABASE_URL`` switches to PostgreSQL, ``CELERY_BROKER_URL`` to Redis and a
real worker. With ``DEBUG=false`` the store refuses to start on the development secret key.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DEV_SECRET_KEY = "dev-only-insecure-key-change-me"  # noqa: S105 - refused outside DEBUG
DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default=DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set to a long random value when DEBUG is off")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "catalog",
    "classifier",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "shop.middleware.LanguageFreeResponses",  # outside LocaleMiddleware: sees what it added
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "shop.urls"
WSGI_APPLICATION = "shop.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The catalog's read cache (catalog/cache.py). A write in one process must invalidate the pages
# of all of them: the default is a folder of files every process on this machine shares (the
# development server and an import_products run in another shell: with a per-process memory
# cache the storefront kept its old counts for CATALOG_CACHE_SECONDS). Wherever processes run
# on several machines, or many serve (gunicorn's workers, a Celery worker), point CACHE_URL at
# Redis (redis://host:6379/1).
CACHES = {
    "default": env.cache("CACHE_URL", default=f"filecache://{BASE_DIR / '.cache' / 'catalog'}")
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Spanish first, English available (LocaleMiddleware + the language switch in the header).
LANGUAGE_CODE = "es"
LANGUAGES = [("es", _("Spanish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env("TIME_ZONE", default="Europe/Madrid")
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # the browser's copy of the served model (TensorFlow.js), written by ml_training.export
    ("model", BASE_DIR / "classifier" / "artifacts" / "web"),
]
MEDIA_URL = env("MEDIA_URL", default="/media/")
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))

# Photos live on the local disk by default; set STORAGE_BACKEND=s3 (plus the AWS_* variables of
# django-storages) so that web and workers on several machines share one bucket.
STORAGE_BACKEND = env("STORAGE_BACKEND", default="filesystem")
if STORAGE_BACKEND == "s3":
    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env("AWS_S3_REGION_NAME", default=None),
            "default_acl": None,
            "querystring_auth": env.bool("AWS_QUERYSTRING_AUTH", default=True),
            "file_overwrite": False,
        },
    }
elif STORAGE_BACKEND == "filesystem":
    _media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
else:
    raise ImproperlyConfigured(
        f"STORAGE_BACKEND must be 'filesystem' or 's3', not {STORAGE_BACKEND!r}"
    )
STORAGES = {
    "default": _media_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "shop.static_storage.StaticFilesStorage"  # WhiteNoise's, see the module
        )
    },
}

# Celery: without a broker URL tasks run in-process (eagerly) on the web process.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if not CELERY_BROKER_URL:
    # Never Celery's default amqp://localhost: a RabbitMQ there would take the tasks unseen.
    # A worker refuses to start on this (shop.celery); the web app runs tasks in-process.
    CELERY_BROKER_URL = "memory://"
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a task killed mid-way is delivered again
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task taken by a worker that died without a word (SIGKILL, lost machine) goes back to the
# queue after this many seconds; longer than any classification batch takes.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
}
# Publishing a task must fail fast when Redis is down: the product is already saved as pending.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
# Retraining (the admin's Model page) runs for many minutes and needs TensorFlow, which the
# store's image lacks: it goes to its own queue, served by a worker started from the training
# environment with `celery -A shop worker -Q training --concurrency 1`.
CELERY_TASK_ROUTES = {"classifier.tasks.retrain": {"queue": "training"}}
# Beat re-queues what was left pending (broker down at upload, worker killed) every 5 minutes.
CLASSIFY_PENDING_EVERY = env.float("CLASSIFY_PENDING_EVERY", default=300.0)
CELERY_BEAT_SCHEDULE = {
    "classify-pending": {
        "task": "classifier.tasks.classify_pending",
        "schedule": CLASSIFY_PENDING_EVERY,
        # products pending since the last run only, and not the failed (their photo is bad)
        "kwargs": {"include_failed": False, "min_age_s": CLASSIFY_PENDING_EVERY},
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "catalog.api.pagination.PageNumbers",
    "PAGE_SIZE": 24,
    "DEFAULT_SCHEMA_CLASS": "catalog.api.schema.PerchaAutoSchema",
    "EXCEPTION_HANDLER": "catalog.api.errors.exception_handler",  # adds "code" to "detail"
    "DEFAULT_THROTTLE_RATES": {"classify_anon": env("CLASSIFY_ANON_RATE", default="20/minute")},
    # Proxies in front of the app that append to X-Forwarded-For; 0 trusts only REMOTE_ADDR,
    # so a client cannot dodge the classify throttle by sending its own header.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Percha API",
    "DESCRIPTION": "Categories and products of a Percha store, auto-categorized from photos.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # 3.1 (JSON Schema 2020-12) writes a nullable nested object as oneOf [object, null]; in 3.0
    # it was allOf + nullable without a type, which validators read as "never null", so every
    # product of the review queue (category null) failed its own schema
    "OAS_VERSION": "3.1.0",
}

# The store's own knobs, in one namespaced dict; code reads settings.PERCHA, never os.environ.
PERCHA = {
    "MODEL_PATH": Path(
        env("CLASSIFIER_MODEL_PATH", default=str(BASE_DIR / "classifier/artifacts/model.tflite"))
    ),
    # None: the threshold in the model card, chosen from the precision measured on held-out
    # real photos when the model was trained (see ml_training/reports/real_photos.md)
    "CONFIDENCE_THRESHOLD": env.float("CLASSIFIER_CONFIDENCE_THRESHOLD", default=None),
    "MAX_UPLOAD_BYTES": env.int("MAX_UPLOAD_BYTES", default=10 * 1024 * 1024),
    "MAX_IMAGE_PIXELS": env.int("MAX_IMAGE_PIXELS", default=40_000_000),
    "CLASSIFY_BATCH_SIZE": env.int("CLASSIFY_BATCH_SIZE", default=64),
    # How long a cached category page, category tree or API product list may live. Every write
    # through the store's code invalidates them at once (catalog/cache.py); this bounds how long
    # a change made around it (SQL by hand, a data migration) takes to show.
    "CATALOG_CACHE_SECONDS": env.int("CATALOG_CACHE_SECONDS", default=300),
    "FASHION_MNIST_DIR": env("FASHION_MNIST_DIR", default=""),
    # A store category with this many photos filed by a person becomes a class of its own
    # the next time the model is retrained (the admin's Model page lists the candidates).
    "NEW_CLASS_MIN_EXAMPLES": env.int("NEW_CLASS_MIN_EXAMPLES", default=50),
    # The Model page's Retrain button waits for this many labelled photos: with fewer, a run
    # of the better part of an hour learns next to nothing beside Fashion-MNIST's 60,000
    # images, and the promotion's check judges by a handful of held-out photos (15% of them).
    "RETRAIN_MIN_EXAMPLES": env.int("RETRAIN_MIN_EXAMPLES", default=100),
    # Where a retraining started from the admin writes its photos and run folder.
    "TRAINING_RUNS_DIR": Path(
        env("TRAINING_RUNS_DIR", default=str(BASE_DIR / "ml_training" / "runs"))
    ),
    # The fine-tuning program the retrain task runs; --photos, --base and --runs-dir are added.
    "FINETUNE_COMMAND": shlex.split(env("FINETUNE_COMMAND", default=""))
    or [sys.executable, "-m", "ml_training.finetune"],
    # Password of the demo superuser that `make run` creates; used only while DEBUG is on.
    "DEMO_ADMIN_PASSWORD": env("DEMO_ADMIN_PASSWORD", default="admin"),
}
DATA_UPLOAD_MAX_MEMORY_SIZE = PERCHA["MAX_UPLOAD_BYTES"] + 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {},
}
if CELERY_TASK_ALWAYS_EAGER:
    # Tasks in-process: Celery's "Task … succeeded" line and kombu's note that memory:// names
    # no host landed in the middle of a command's output (import_products); a worker logs both.
    LOGGING["loggers"] = {
        "celery.app.trace": {"level": "WARNING"},
        "kombu.connection": {"level": "ERROR"},
    }

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Cookies only over HTTPS, unless the store is reached over plain HTTP (docker-compose's
    # default): a browser then drops a Secure CSRF cookie and the admin's login answers 403
    # from any host but localhost.
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool(
        "SECURE_COOKIES", default=SECURE_SSL_REDIRECT
    )
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
