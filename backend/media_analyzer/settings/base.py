"""Settings shared by every mode. The mode is chosen by environment variables alone:
`REDIS_URL` switches the channel layer and Celery on, `DATABASE_URL` the database,
`MEDIA_STORAGE` the file storage."""

from typing import Any

import dj_database_url

from media_analyzer.config import REPO_ROOT, load_config
from media_analyzer.logging_config import build_logging

CONFIG = load_config()

BASE_DIR = REPO_ROOT / "backend"
SECRET_KEY = CONFIG.secret_key
DEBUG = CONFIG.debug
ALLOWED_HOSTS = CONFIG.allowed_hosts
CSRF_TRUSTED_ORIGINS = CONFIG.csrf_trusted_origins

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # the docs pages' scripts and styles, served as our own static files
    "channels",
    "streaming",
    "ai_processing",
    "exposure",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside WhiteNoise, so index.html served as a file gets the dashboard's policy too.
    "media_analyzer.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "media_analyzer.urls"
ASGI_APPLICATION = "media_analyzer.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database: SQLite in WAL mode by default, anything dj-database-url parses otherwise.
CONFIG.data_dir.mkdir(parents=True, exist_ok=True)
DATABASES: dict[str, Any]
if CONFIG.database_url:
    DATABASES = {"default": dj_database_url.parse(CONFIG.database_url, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": CONFIG.data_dir / "db.sqlite3",
            "OPTIONS": {
                # WAL lets the ingest, the analysis pool and the web read while one writes.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- channel layer and Celery
if CONFIG.services_mode:
    CHANNEL_LAYERS = {
        "default": {
            # Pub/Sub: a group message crosses Redis once per server process, which fans it
            # out to its own viewers. The list-based RedisChannelLayer pops every viewer's
            # copy from Redis one by one, which saturated a core at 500 viewers x 10 msg/s
            # (bench/ws). Live results are at-most-once either way; joiners get a snapshot.
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": CONFIG.redis_url, "socket_timeout": 15}]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}}

# The cache holds the sign-in throttle counts: in services mode every web process must see the
# same counts (or each one allows its own 10 a minute), so they live in Redis. It is the
# database of the channel layer and the broker: never cache.clear(), which flushes it.
if CONFIG.services_mode:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CONFIG.redis_url}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = CONFIG.broker_url
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "realtime"
CELERY_BROKER_CONNECTION_TIMEOUT = 3
# A task whose worker died unacknowledged is handed to another worker after this long; it
# must exceed the longest job, or a slow job would run twice (harmless: jobs are idempotent).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CONFIG.task_redelivery_s,
    # Look for such tasks every few seconds (one cheap Redis query), not kombu's ~100 s.
    "unacked_restore_interval": max(1, min(10, round(CONFIG.task_redelivery_s / 3))),
    "unacked_restore_throttle": 1,
}

# --- media storage: a local folder, or Google Cloud Storage
MEDIA_ROOT = CONFIG.media_root
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
# Collected at image build time (docker/backend.Dockerfile), beside the code, not in the
# data volume that is mounted over /data at run time.
STATIC_ROOT = REPO_ROOT / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
FRONTEND_DIST = REPO_ROOT / "frontend" / "dist" / "frontend" / "browser"
WHITENOISE_ROOT = FRONTEND_DIST if FRONTEND_DIST.is_dir() else None
if CONFIG.media_storage == "gcs":
    _default_storage = {
        "BACKEND": "storages.backends.gcloud.GoogleCloudStorage",
        "OPTIONS": {"bucket_name": CONFIG.gcs_bucket, "project_id": CONFIG.gcs_project, "querystring_auth": True},
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024**2
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024**2

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

REST_FRAMEWORK = {
    # Token first: DRF answers a failed sign-in with the first class's WWW-Authenticate, so a
    # bad or expired token (and no sign-in at all) is a 401 rather than a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.tokens.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    # Sign-in attempts, per client address and per username (api.auth), API and admin alike.
    "DEFAULT_THROTTLE_RATES": {"login": "10/min", "login_username": "10/min"},
    # 0: the client address is REMOTE_ADDR; X-Forwarded-For counts only behind declared proxies.
    "NUM_PROXIES": CONFIG.num_proxies,
    # JSON with a nesting limit (api.parsers); forms and multipart as DRF's defaults.
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Media Analyzer API",
    "DESCRIPTION": "Streams, segments, analysis results and brands.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and Redoc from drf-spectacular-sidecar's static files: no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- the pipeline
API_TOKEN_TTL_HOURS = CONFIG.token_ttl_hours
# The pipeline's own settings are read from CONFIG (settings.CONFIG.<field>), typed, in one place.

LOGGING = build_logging(CONFIG.log_format, CONFIG.log_level)
