"""Settings, read from the environment in this one place.

With nothing set, the embedded default runs: SQLite (WAL, busy timeout) and kombu's
``filesystem://`` broker under ``var/``. Production sets ``DATABASE_URL``,
``CELERY_BROKER_URL`` and ``DJANGO_SECRET_KEY`` (see README.md); development sets
``DJANGO_DEBUG=true`` (``make run`` does).

Importing this module has no other effect: the folders under ``var/`` are made by what
uses them (the SQLite backend, the Celery app's filesystem broker, the static files
middleware).
"""

import hashlib
import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from project.broker import quorum_queue
from project.env import env_bool, env_float, env_int, env_list

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / os.environ.get("VAR_DIR", "var")  # relative to the project, or absolute


# --- Core -------------------------------------------------------------------------------

DEBUG = env_bool("DJANGO_DEBUG", default=False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-the-embedded-default"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_celery_results",
    "events",
    "orders",
    "notifications",
    # Extra apps for a deployment (or the test suite's probe app), comma separated.
    *env_list("DJANGO_EXTRA_APPS", ""),
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # Next: everything after it, and what the request causes, runs under its request id.
    "events.middleware.RequestTraceMiddleware",
    # Next, so that it sees every answer: under /api/ each one is JSON.
    "project.api_middleware.ApiErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "project.middleware.StaticFilesMiddleware",
    # Before everything that may touch the database: 503 while it cannot be reached.
    "project.availability.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "project.urls"
# Django's debug page (DEBUG on) goes to staff only; anyone else gets a plain 500.
DEFAULT_EXCEPTION_REPORTER = "project.debug.StaffOnlyExceptionReporter"
WSGI_APPLICATION = "project.wsgi.application"

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

# --- Database ---------------------------------------------------------------------------

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    # Several processes (web, worker, beat) share one file: WAL lets readers run beside
    # the writer, IMMEDIATE takes the write lock up front (no upgrade deadlocks), and the
    # timeout makes a writer wait for the lock instead of failing with "database is locked".
    DATABASES = {
        "default": {
            # Django's SQLite backend, which also makes the folder of its database file.
            "ENGINE": "project.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(VAR_DIR / "db.sqlite3")),
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": float(os.environ.get("SQLITE_TIMEOUT_SECONDS", "30")),
            },
            "CONN_MAX_AGE": 60,
            # Tests run real worker processes, which cannot see an in-memory database.
            "TEST": {"NAME": str(VAR_DIR / "test-db.sqlite3")},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "project.storage.StaticStorage"
    },
}

# Mail: files under var/mail/ in the embedded default; SMTP once EMAIL_HOST is set (or
# whatever backend DJANGO_EMAIL_BACKEND names). Each email is sent by a Celery task that
# records every try on the notification (see notifications/services/email.py).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get("DJANGO_EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_PORT = env_int("EMAIL_PORT") or 587
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
# Implicit TLS (port 465) or STARTTLS (the default on the submission port, 587).
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=EMAIL_PORT == 587 and not EMAIL_USE_SSL)
# Seconds an SMTP connection may block: a hung server fails the try, which is retried.
EMAIL_TIMEOUT = env_float("EMAIL_TIMEOUT") or 10.0
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "shop@example.com")

# Logs: JSON lines in production, readable lines on a console (`make run`, DEBUG on).
# Each line carries the correlation id, the task and the event or run (project/logs.py).
LOG_FORMAT = os.environ.get("LOG_FORMAT") or ("console" if DEBUG else "json")
if LOG_FORMAT not in ("json", "console"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or console, got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"structured": {"()": "project.logs.formatter", "format": LOG_FORMAT}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "celery.worker.strategy": {"level": "WARNING"},
    },
}

# --- REST framework ---------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # limit (1 to 100) and offset, checked: a value out of range is a 400.
    "DEFAULT_PAGINATION_CLASS": "project.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    # JSON only, bounded in size (DATA_UPLOAD_MAX_MEMORY_SIZE) and nesting.
    "DEFAULT_PARSER_CLASSES": ["project.parsers.BoundedJSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["project.filters.StrictFilterBackend"],
    # Documents every error answer of each operation, besides its success.
    "DEFAULT_SCHEMA_CLASS": "project.schema.AutoSchema",
    "EXCEPTION_HANDLER": "project.api.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Order fulfillment API",
    "DESCRIPTION": "Orders, their event timelines and fulfillment workflows.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Celery -----------------------------------------------------------------------------

# Amazon: the region and, for a local stand-in (moto, LocalStack), its endpoint. boto3
# reads the credentials itself (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, or a role).
AWS_REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
AWS_ENDPOINT_URL = os.environ.get("AWS_ENDPOINT_URL", "")
SQS_VISIBILITY_TIMEOUT_SECONDS = 3600

BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The filesystem transport polls its folder; its default of one second would cost a
    # second on every hop of a workflow. The Celery app makes the folders when it is
    # configured (project/celery.py).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        "polling_interval": 0.05,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Redis redelivers an unacknowledged message only after the visibility timeout: it must
    # outlast the longest task (plus any countdown), or a running task is delivered twice.
    # Each worker looks for messages past it every tenth of it (at most once a minute).
    _visibility_timeout = env_float("REDIS_VISIBILITY_TIMEOUT_SECONDS") or 3600.0
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": _visibility_timeout,
        "unacked_restore_interval": min(60.0, max(1.0, _visibility_timeout / 10)),
        "unacked_restore_throttle": 1,
    }
elif CELERY_BROKER_URL.startswith("sqs://"):
    # Amazon SQS (kombu's transport; credentials from the URL or boto3's usual chain). A
    # received message is hidden for the visibility timeout and handed out again after it:
    # it must outlast the longest task (its hard time limit) and the longest countdown a
    # retry waits (a worker holds a countdown's message unacknowledged), or a task runs twice.
    # SQS has no fanout: remote control and task events (Flower) are off.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "region": AWS_REGION,
        "visibility_timeout": SQS_VISIBILITY_TIMEOUT_SECONDS,
        "polling_interval": 0.5,
        "wait_time_seconds": 1,
        "is_secure": not AWS_ENDPOINT_URL.startswith("http://"),
    }
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
elif CELERY_BROKER_URL.startswith(("amqp://", "amqps://", "pyamqp://")):
    # Publisher confirms: a publish returns only once RabbitMQ has taken the message, so
    # the relay marks an outbox row published only when it really is.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True}
    # A replicated, durable quorum queue; a message whose worker died on it 10 times is
    # poison and is parked in "<queue>.dead" rather than killing workers forever.
    CELERY_TASK_QUEUES = [quorum_queue(CELERY_TASK_DEFAULT_QUEUE, delivery_limit=10)]
    CELERY_TASK_DEFAULT_EXCHANGE_TYPE = "topic"
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {}

CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "django-db")
CELERY_RESULT_EXTENDED = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# A task is acknowledged after it ran, so a worker that dies mid-task hands it back to
# the broker; handlers are idempotent (inbox, step status) so a second run is harmless.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_WORKER_SEND_TASK_EVENTS = not CELERY_BROKER_URL.startswith("sqs://")
CELERY_TASK_TRACK_STARTED = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup closes every database connection around every task unless told to
# reuse them: a new PostgreSQL connection per task would cost more than many tasks do.
CELERY_DB_REUSE_MAX = 200

# --- Metrics (docs/observability.md) ----------------------------------------------------

# prometheus-client's multiprocess mode is on when PROMETHEUS_MULTIPROC_DIR names an
# existing folder (`make run` and docker-compose.yml set it; prometheus-client reads it):
# every process of the host writes its values there, and /metrics (or the exporter of a
# worker or relay, on METRICS_EXPORTER_PORT) serves their sum.
METRICS_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
if METRICS_MULTIPROC_DIR and not Path(METRICS_MULTIPROC_DIR).is_dir():
    raise ImproperlyConfigured(
        f"PROMETHEUS_MULTIPROC_DIR must name an existing folder, got {METRICS_MULTIPROC_DIR!r}"
    )
METRICS_EXPORTER_PORT = env_int("METRICS_EXPORTER_PORT")
METRICS_EXPORTER_HOST = os.environ.get("METRICS_EXPORTER_HOST", "127.0.0.1")
if METRICS_EXPORTER_PORT and not METRICS_MULTIPROC_DIR:
    raise ImproperlyConfigured(
        "METRICS_EXPORTER_PORT needs PROMETHEUS_MULTIPROC_DIR: without it a worker's pool "
        "processes keep their metrics to themselves."
    )
# Who may read the metrics: a client in these networks (loopback and private ones by
# default: Prometheus beside the app) and, once METRICS_TOKEN is set, only with
# `Authorization: Bearer <token>`.
METRICS_ALLOWED_NETWORKS = env_list(
    "METRICS_ALLOWED_NETWORKS",
    "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7",
)
for _network in METRICS_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"METRICS_ALLOWED_NETWORKS must list networks such as 10.0.0.0/8, got {_network!r}"
        ) from None
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
# django-prometheus: request latencies in seconds, up to a slow minute.
PROMETHEUS_LATENCY_BUCKETS = (
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
    30,
    60,
    float("inf"),
)

# --- This product -----------------------------------------------------------------------

FLOWER_URL = os.environ.get("FLOWER_URL", "http://127.0.0.1:5555").rstrip("/")

# The payment provider's and carrier's sandbox (python -m sandbox), reached over HTTP only.
SANDBOX_URL = os.environ.get("SANDBOX_URL", "http://127.0.0.1:8700").rstrip("/")

# Shared with the payment gateway, which signs its callbacks with it. The simulated
# gateway (the sandbox) derives the same key from DJANGO_SECRET_KEY unless this is set.
PAYMENTS_WEBHOOK_SECRET = (
    os.environ.get("PAYMENTS_WEBHOOK_SECRET")
    or hashlib.sha256(f"payments-webhook:{SECRET_KEY}".encode()).hexdigest()
)

# Bridges to outside brokers (events/bridges/): the Kafka bridge runs when
# KAFKA_BOOTSTRAP_SERVERS is set, the SNS bridge when EVENTS_SNS_TOPIC_ARN is. Each
# carries every event type; events go to the topic KAFKA_TOPIC_PREFIX + aggregate type.
KAFKA_BOOTSTRAP_SERVERS = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")
EVENTS_SNS_TOPIC_ARN = os.environ.get("EVENTS_SNS_TOPIC_ARN", "")
_bridges = []
if KAFKA_BOOTSTRAP_SERVERS:
    _bridges.append(
        {
            "name": "kafka",
            "transport": "kafka",
            "event_types": "*",
            "topic_prefix": os.environ.get("KAFKA_TOPIC_PREFIX", "events."),
        }
    )
if EVENTS_SNS_TOPIC_ARN:
    _bridges.append(
        {"name": "sns", "transport": "sns", "event_types": "*", "topic_arn": EVENTS_SNS_TOPIC_ARN}
    )

EVENTS = {
    # Outbox rows older than this are republished by the sweeper (the fast path failed).
    "SWEEP_AFTER_SECONDS": 10,
    "SWEEP_INTERVAL_SECONDS": 5,
    "FLOWER_TASK_URL": FLOWER_URL + "/task/{task_id}",
    # Off: only the relay and the sweeper publish, and the web process never talks to the
    # broker.
    "PUBLISH_ON_COMMIT": env_bool("EVENTS_PUBLISH_ON_COMMIT", default=True),
    # The beat watchdog that resends what a lost message left standing. RabbitMQ and Redis
    # redeliver a killed worker's messages themselves (late acks); the filesystem broker
    # cannot, and there the watchdog is what brings them back.
    "WATCHDOG_ENABLED": env_bool("EVENTS_WATCHDOG_ENABLED", default=True),
    "BRIDGES": _bridges,
    "KAFKA": {"bootstrap.servers": KAFKA_BOOTSTRAP_SERVERS} if KAFKA_BOOTSTRAP_SERVERS else {},
    "AWS": {
        "region_name": AWS_REGION,
        **({"endpoint_url": AWS_ENDPOINT_URL} if AWS_ENDPOINT_URL else {}),
    },
    **{
        key: value
        for key, value in {
            "COMPENSATION_MAX_ATTEMPTS": env_int("EVENTS_COMPENSATION_MAX_ATTEMPTS"),
            "COMPENSATION_BACKOFF_SECONDS": env_float("EVENTS_COMPENSATION_BACKOFF_SECONDS"),
        }.items()
        if value is not None
    },
}

# The order domain's settings: orders/conf.py holds their defaults and says what each
# means; a system check refuses unknown keys and values out of range. Only what the
# environment sets is given here.
ORDERS = {
    key: value
    for key, value in {
        "PENDING_TTL_SECONDS": env_int("ORDERS_PENDING_TTL_SECONDS"),
        "SANDBOX_CONNECT_TIMEOUT_SECONDS": env_float("ORDERS_SANDBOX_CONNECT_TIMEOUT_SECONDS"),
        "SANDBOX_READ_TIMEOUT_SECONDS": env_float("ORDERS_SANDBOX_READ_TIMEOUT_SECONDS"),
        # On in DEBUG unless switched off; off (the default) otherwise unless switched on.
        "GUARD_OUTSIDE_CALLS": env_bool("ORDERS_GUARD_OUTSIDE_CALLS", default=DEBUG) or None,
        "RETURN_PARCEL_TIMEOUT_SECONDS": env_float("ORDERS_RETURN_PARCEL_TIMEOUT_SECONDS"),
        "PAYMENT_CONFIRMATION_TIMEOUT_SECONDS": env_float(
            "ORDERS_PAYMENT_CONFIRMATION_TIMEOUT_SECONDS"
        ),
    }.items()
    if value is not None
}

# The notifications app's settings: notifications/conf.py holds their defaults and says what
# each means; a system check refuses unknown keys and values out of range. Only what the
# environment sets is given here. Webhooks to loopback, private or metadata addresses are
# refused unless WEBHOOKS_ALLOW_PRIVATE_TARGETS is on (`make run` turns it on; production
# leaves it off).
_webhook_retry_schedule = env_list("WEBHOOKS_RETRY_SCHEDULE", "")
try:
    _webhook_retry_seconds = [float(step) for step in _webhook_retry_schedule]
except ValueError:
    raise ImproperlyConfigured(
        "WEBHOOKS_RETRY_SCHEDULE must list seconds separated by commas, "
        f"got {','.join(_webhook_retry_schedule)!r}"
    ) from None

NOTIFICATIONS = {
    key: value
    for key, value in {
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": env_bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", default=False),
        "WEBHOOK_RETRY_SCHEDULE": _webhook_retry_seconds or None,
        "WEBHOOK_CONNECT_TIMEOUT_SECONDS": env_float("WEBHOOKS_CONNECT_TIMEOUT_SECONDS"),
        "WEBHOOK_READ_TIMEOUT_SECONDS": env_float("WEBHOOKS_READ_TIMEOUT_SECONDS"),
        "WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES": env_int(
            "WEBHOOKS_DISABLE_AFTER_FAILED_DELIVERIES"
        ),
        "WEBHOOK_DISABLE_AFTER_FAILING_SECONDS": env_float(
            "WEBHOOKS_DISABLE_AFTER_FAILING_SECONDS"
        ),
        "EMAIL_MAX_ATTEMPTS": env_int("NOTIFICATIONS_EMAIL_MAX_ATTEMPTS"),
        "EMAIL_BACKOFF_SECONDS": env_float("NOTIFICATIONS_EMAIL_BACKOFF_SECONDS"),
        "EMAIL_MAX_BACKOFF_SECONDS": env_float("NOTIFICATIONS_EMAIL_MAX_BACKOFF_SECONDS"),
    }.items()
    if value is not None
}
