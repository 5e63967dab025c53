"""Django settings for FakeME.

Everything that differs between machines comes from the environment (django-environ);
a ``.env`` file at the repository root is read when present (see ``.env.example``).
The defaults are the embedded mode used by ``make run``: DEBUG on, SQLite, a local media
folder and Celery tasks executed in-process.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    # Real environment variables win over the file.
    environ.Env.read_env(BASE_DIR / ".env")


def _str(name: str, default: str) -> str:
    """``env(name)``, treating an empty value (``VAR=`` in .env) as unset."""
    return env(name, default="") or default


DEBUG = env.bool("DEBUG", default=True)

if DEBUG:
    SECRET_KEY = _str("SECRET_KEY", "django-insecure-fakeme-dev-only-do-not-use-in-production")
else:
    SECRET_KEY = _str("SECRET_KEY", "")
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is False")

ALLOWED_HOSTS = [h for h in env.list("ALLOWED_HOSTS", default=[]) if h] or ["localhost", "127.0.0.1", "[::1]"]
CSRF_TRUSTED_ORIGINS = [o for o in env.list("CSRF_TRUSTED_ORIGINS", default=[]) if o]

# --- HTTPS: on by default with DEBUG off (`manage.py check --deploy` is clean); each can be
# switched off from the environment, e.g. SECURE_SSL_REDIRECT=False for a plain-HTTP loopback bench.
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # load balancers probe over plain HTTP
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# HSTS preload is the owner's decision for the whole registrable domain (anyone may submit a domain
# whose header says "preload", and leaving the browsers' list takes months), not a per-service default.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# Behind a TLS-terminating proxy Django sees plain HTTP: name the header the proxy sets and strips from
# clients (SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto). Without such a proxy clients could forge it.
if _proxy_ssl_header := _str("SECURE_PROXY_SSL_HEADER", ""):
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")

# True on the CI machine (.ci/run); tests may use it to insist on services being present.
FAKEME_CI = env.bool("FAKEME_CI", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI / Redoc assets served locally, no CDN
    "moderation",
    "reports",
    "generation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "reports.console.csp.ConsoleContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "moderation.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "reports.console.context.console_settings",  # the moderator's blur setting
            ],
        },
    },
]

WSGI_APPLICATION = "moderation.wsgi.application"
ASGI_APPLICATION = "moderation.asgi.application"

# --- Database -------------------------------------------------------------------------
DATABASES = {"default": env.db_url_config(_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # Keep connections between requests, but check one before reusing it: after a PostgreSQL restart a
    # stale connection is replaced at once instead of failing a request. A host that does not answer
    # fails within the connect timeout (the API then answers 503 database_unavailable), never hangs.
    DATABASES["default"]["CONN_MAX_AGE"] = int(_str("DATABASE_CONN_MAX_AGE", "60"))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", int(_str("DATABASE_CONNECT_TIMEOUT", "5")))
# Embedded mode (SQLite): concurrent requests wait for each other instead of failing with "database is
# locked". WAL lets readers run beside the one writer; the busy timeout makes a writer wait for the lock;
# IMMEDIATE transactions take the write lock when they begin, so two transactions that read and then
# write cannot deadlock (SQLite fails such an upgrade at once, whatever the timeout).
FAKEME_SQLITE_OPTIONS = {
    "timeout": float(_str("SQLITE_BUSY_TIMEOUT_S", "20")),
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"].setdefault("OPTIONS", {})
    for _option, _value in FAKEME_SQLITE_OPTIONS.items():
        DATABASES["default"]["OPTIONS"].setdefault(_option, _value)

# --- Cache (throttles etc.): CACHE_URL, else Redis at REDIS_URL, else local memory ----------
REDIS_URL = _str("REDIS_URL", "")
CACHES = {"default": env.cache_url_config(_str("CACHE_URL", REDIS_URL or "locmemcache://"))}
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    # An unreachable Redis fails a cache call within seconds (throttles then let requests through).
    CACHES["default"].setdefault("OPTIONS", {}).update(socket_connect_timeout=2, socket_timeout=5)

# --- Staff console (reports/console, mounted at /console/) -------------------------------
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:queue"
LOGOUT_REDIRECT_URL = "console:login"
# A readable page (not Django's debug text) when a console form's CSRF token is missing or stale.
CSRF_FAILURE_VIEW = "reports.console.access.csrf_failure"
# Sign-in (console and admin) is refused during a brute-force lockout (reports/services/login_guard.py).
AUTHENTICATION_BACKENDS = ["reports.auth_backends.LockoutModelBackend"]
FAKEME_CONSOLE = {
    # Failed sign-ins per user name and per client address within LOGIN_LOCKOUT_S; then locked that long.
    "LOGIN_MAX_FAILURES_PER_USERNAME": int(_str("LOGIN_MAX_FAILURES_PER_USERNAME", "5")),
    "LOGIN_MAX_FAILURES_PER_ADDRESS": int(_str("LOGIN_MAX_FAILURES_PER_ADDRESS", "20")),
    "LOGIN_LOCKOUT_S": int(_str("LOGIN_LOCKOUT_S", "900")),
    # Reverse proxies in front that append to X-Forwarded-For (0: the client is REMOTE_ADDR).
    "TRUSTED_PROXY_COUNT": int(_str("TRUSTED_PROXY_COUNT", "0")),
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = _str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static and media files -----------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(_str("MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Scan media go to S3-compatible object storage (AWS, MinIO, Naver Object Storage) when a bucket is set.
AWS_STORAGE_BUCKET_NAME = _str("AWS_STORAGE_BUCKET_NAME", "")
if AWS_STORAGE_BUCKET_NAME:
    from botocore.config import Config as _BotoConfig

    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": _str("AWS_S3_ENDPOINT_URL", "") or None,
            "region_name": _str("AWS_S3_REGION_NAME", "") or None,
            "access_key": _str("AWS_ACCESS_KEY_ID", "") or None,
            "secret_key": _str("AWS_SECRET_ACCESS_KEY", "") or None,
            "default_acl": "private",  # media are never public; the API streams them after auth
            "querystring_auth": True,
            "file_overwrite": False,
            # Recent boto3 sends CRC checksum headers that many S3-compatible stores reject.
            "client_config": _BotoConfig(
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                signature_version="s3v4",
            ),
        },
    }

# --- API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["moderation.core.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["moderation.core.throttling.PlatformRateThrottle"],
    # Per-platform default; a platform's own `rate_limit` overrides it.
    "DEFAULT_THROTTLE_RATES": {"platform": _str("API_RATE_LIMIT", "600/min")},
    "DEFAULT_PARSER_CLASSES": [
        "moderation.core.api.parsers.JSONParser",  # deep nesting is a 400, not a RecursionError
        # a cut-off or garbage body is a 400, not an empty form
        "moderation.core.api.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "moderation.core.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "FakeME API",
    "DESCRIPTION": "Deepfake moderation: scans, verdicts, reports.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Two "status" choice sets (scans, review items) would otherwise collide in the schema.
    "ENUM_NAME_OVERRIDES": {
        "ScanStatusEnum": "moderation.models.Scan.Status",
        "ReviewStatusEnum": "reports.models.ReviewItem.Status",
        "FeedbackKindEnum": "reports.models.ScanFeedback.Kind",
        "MediaKindEnum": "moderation.models.ScanMedia.Kind",
    },
}

# --- Scan API ---------------------------------------------------------------------------
FAKEME_SCANS = {
    # Images up to this size are scanned within the request (200); larger ones and videos go to Celery (202).
    "SYNC_IMAGE_MAX_BYTES": int(_str("SCAN_SYNC_IMAGE_MAX_BYTES", str(8 * 1024 * 1024))),
    "MAX_MEDIA_PER_SCAN": 8,
    # Pixels all the images of one scan request may declare together (from their headers, before any
    # decoding); more is 413 media_too_complex. Bounds the decoding work and memory of one request.
    "MAX_TOTAL_PIXELS": int(_str("SCAN_MAX_TOTAL_PIXELS", "100000000")),
    "MAX_HASHTAGS": 100,
    # Media URL fetching: per-connection timeout, whole-download deadline, redirects followed.
    "FETCH_TIMEOUT_S": float(_str("SCAN_FETCH_TIMEOUT_S", "10")),
    "FETCH_DEADLINE_S": float(_str("SCAN_FETCH_DEADLINE_S", "30")),
    "FETCH_MAX_REDIRECTS": 3,
    "IDEMPOTENCY_TTL_HOURS": 24,
    # Known-deepfake / allow banks: PDQ Hamming distance (of 256 bits) that counts as the same picture,
    # and the PDQ quality below which a hash is too unreliable to match (flat, featureless images).
    "PDQ_MAX_DISTANCE": 31,
    "PDQ_MIN_QUALITY": 50,
    # Webhooks: attempts in all, delay before retry n = BACKOFF_BASE_S * 2**(n-1) (+ jitter), capped.
    "WEBHOOK_MAX_ATTEMPTS": int(_str("WEBHOOK_MAX_ATTEMPTS", "8")),
    "WEBHOOK_BACKOFF_BASE_S": float(_str("WEBHOOK_BACKOFF_BASE_S", "10")),
    "WEBHOOK_BACKOFF_MAX_S": 6 * 3600.0,
    "WEBHOOK_TIMEOUT_S": float(_str("WEBHOOK_TIMEOUT_S", "10")),
    # A video scan whose worker died this many times is failed rather than retried again.
    "MAX_SCAN_ATTEMPTS": 3,
    # A scan task is stopped (failed with scan_timeout) after the soft limit and killed at the hard one;
    # CELERY_VISIBILITY_TIMEOUT must stay above the hard limit or Redis would hand the task out twice.
    "SCAN_SOFT_TIME_LIMIT_S": 1800,
    "SCAN_TIME_LIMIT_S": 2100,
    # Stranded work (moderation.core.recovery): a queued scan or a due webhook delivery whose broker
    # message was lost (Redis down when it was sent, or restarted without its data) is sent again once
    # it is this old; the beat task looks every REQUEUE_INTERVAL_S.
    "REQUEUE_AFTER_S": float(_str("REQUEUE_AFTER_S", "300")),
    "REQUEUE_INTERVAL_S": float(_str("REQUEUE_INTERVAL_S", "60")),
}

# --- Reports and review queue (reports/) -------------------------------------------------
FAKEME_REPORTS = {
    # Reports one reporter (per platform) may send, as "N/second|minute|hour|day"; then 429.
    "REPORTER_RATE_LIMIT": _str("REPORTER_RATE_LIMIT", "10/hour"),
    # A reporter's past accuracy (agreed vs rejected reports) counts once this many were decided.
    "ACCURACY_MIN_DECIDED": 5,
    # Dismissing an item whose priority score (0-100) is at least this needs a note.
    "DISMISS_NOTE_MIN_SCORE": 60.0,
    # Items one bulk decision may touch.
    "BULK_MAX_ITEMS": 200,
}

# --- Face-swap generation (generation/) ---------------------------------------------------
FAKEME_GENERATION = {
    # SimSwap's official checkpoints (CC BY-NC, not bundled): both paths set = the engine is offered.
    "SIMSWAP": {
        "GENERATOR": _str("SIMSWAP_GENERATOR", "") or None,
        "ARCFACE": _str("SIMSWAP_ARCFACE", "") or None,
        "SIZE": int(_str("SIMSWAP_SIZE", "224")),
    },
    # "auto": SimSwap when it is available, else the built-in landmark engine.
    "DEFAULT_ENGINE": _str("GENERATION_DEFAULT_ENGINE", "auto"),
    # Generations per platform and per (platform, user), as "N/second|minute|hour|day"; then 429.
    "PLATFORM_RATE_LIMIT": _str("GENERATION_PLATFORM_RATE_LIMIT", "200/hour"),
    "USER_RATE_LIMIT": _str("GENERATION_USER_RATE_LIMIT", "10/hour"),
    # Video targets: longer ones are refused at submit; at most MAX_VIDEO_FRAMES frames are swapped.
    "MAX_VIDEO_SECONDS": int(_str("GENERATION_MAX_VIDEO_SECONDS", "30")),
    "MAX_VIDEO_FRAMES": int(_str("GENERATION_MAX_VIDEO_FRAMES", "900")),
    "MAX_PIXELS": 25_000_000,
    # dlib descriptor distance under which a face is a protected identity. Not dlib's own 0.6: at 0.6
    # 45 % of pairs of different East Asian adults match (docs/generation.md); at 0.45, 2.4 %.
    "PROTECTED_IDENTITY_DISTANCE": float(_str("GENERATION_PROTECTED_IDENTITY_DISTANCE", "0.45")),
    "PROTECTED_VIDEO_SAMPLES": 3,  # frames of a video target checked against protected identities
    "MAX_ATTEMPTS": 3,  # a generation whose worker died this many times is failed
    "SOFT_TIME_LIMIT_S": 1800,
    "TIME_LIMIT_S": 2100,
}

# --- Celery (namespace CELERY_, read by moderation/celery.py) -------------------------
# No broker configured -> embedded mode: tasks run in-process, synchronously.
CELERY_BROKER_URL = _str("CELERY_BROKER_URL", "") or None
CELERY_RESULT_BACKEND = _str("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
# A task whose worker process is killed goes back to the queue instead of being lost.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker started while Redis is down keeps trying to connect instead of exiting (and stays connected
# through a broker restart: broker_connection_retry is on by default).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Workers log through Django's LOGGING (Celery's own root handler would print every line twice).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_DEFAULT_QUEUE = _str("CELERY_DEFAULT_QUEUE", "celery")
# Inference (video scans) has its own queue so webhook deliveries never wait behind a long video.
FAKEME_INFERENCE_QUEUE = _str("CELERY_INFERENCE_QUEUE", "inference")
CELERY_TASK_ROUTES = {
    "moderation.scan_process": {"queue": FAKEME_INFERENCE_QUEUE},
    "generation.generation_run": {"queue": FAKEME_INFERENCE_QUEUE},
}
CELERY_BEAT_SCHEDULE = {
    "media-retention-purge": {"task": "moderation.media_retention_purge", "schedule": 3600.0},
    "requeue-stranded": {
        "task": "moderation.requeue_stranded",
        "schedule": FAKEME_SCANS["REQUEUE_INTERVAL_S"],
    },
}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# Redis redelivers unacked tasks after visibility_timeout: keep it longer than the longest task.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(_str("CELERY_VISIBILITY_TIMEOUT", "3600"))}


# --- Detector (read by the Django layer around detection/) ----------------------------
def _weights_paths(raw: str) -> list[Path]:
    paths = [Path(p.strip()).expanduser() for p in raw.split(",") if p.strip()]
    return [p if p.is_absolute() else BASE_DIR / p for p in paths]


FAKEME_DETECTOR = {
    # One or more safetensors files (several = ensemble), comma-separated in DETECTOR_WEIGHTS.
    "WEIGHTS": _weights_paths(
        _str("DETECTOR_WEIGHTS", str(BASE_DIR / "detection/weights/fakeme-effnetv2s.safetensors"))
    ),
    "VIDEO_FPS": 2.0,
    "MAX_VIDEO_SECONDS": 600,
    "MAX_VIDEO_FRAMES": 300,  # sampled frames; longer videos are sampled more sparsely
    "MAX_PIXELS": 50_000_000,
    # Larger images are analysed at reduced size (JPEG decoded at 1/2..1/8 scale, others reduced after
    # decoding); face boxes are still reported in the stored image's pixels.
    "WORK_PIXELS": int(_str("DETECTOR_WORK_PIXELS", "16000000")),
    "MIN_FACE_SIZE": 40,
    # torch intra-op threads; None (DETECTOR_THREADS unset or 0) = torch's default.
    "THREADS": int(_str("DETECTOR_THREADS", "0")) or None,
    # Classifier runtime: auto (ONNX Runtime, exported once from the safetensors, else torch),
    # onnxruntime or torch. The exported graph is cached in DETECTOR_CACHE_DIR (default
    # $FAKEME_CACHE_DIR or ~/.cache/fakeme): keep it on a persistent volume in containers.
    "BACKEND": _str("DETECTOR_BACKEND", "auto"),
    "CACHE_DIR": _str("DETECTOR_CACHE_DIR", "") or None,
}

# --- Watermark (read by the Django layer around watermark/) ---------------------------
# Secret of the keyed watermark: whoever holds it can read and forge marks. Previous keys
# (comma-separated) are still tried on recovery after a rotation, current key first.
if DEBUG:
    WATERMARK_KEY = _str("WATERMARK_KEY", "fakeme-insecure-development-watermark-key").encode()
else:
    WATERMARK_KEY = _str("WATERMARK_KEY", "").encode()
    if not WATERMARK_KEY:
        raise ImproperlyConfigured("WATERMARK_KEY must be set when DEBUG is False")
WATERMARK_PREVIOUS_KEYS = [
    k.strip().encode() for k in _str("WATERMARK_PREVIOUS_KEYS", "").split(",") if k.strip()
]

# --- Content Credentials (C2PA; read by moderation/provenance/credentials.py) -------------------
# Every scan reads the manifest of every medium offline (no remote manifests, no OCSP). A manifest
# is "trusted" only when its signer chains to an anchor in this PEM file (none by default: valid
# manifests read as "valid", never "trusted").
C2PA_TRUST_ANCHORS_FILE = _str("C2PA_TRUST_ANCHORS_FILE", "")
# The generator signs every image it makes with this certificate chain (PEM, leaf first) and key
# (PEM, P-256 for ES256). Unset: a local self-signed CA and certificate are made on first use in
# C2PA_LOCAL_DIR (what `make run` uses; their manifests are valid but trusted nowhere else).
C2PA_SIGNING_CERT_FILE = _str("C2PA_SIGNING_CERT_FILE", "")
C2PA_SIGNING_KEY_FILE = _str("C2PA_SIGNING_KEY_FILE", "")
C2PA_LOCAL_DIR = Path(_str("C2PA_LOCAL_DIR", str(BASE_DIR / ".fakeme-c2pa")))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": _str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": _str("DJANGO_LOG_LEVEL", "INFO"), "propagate": False},
    },
}
if CELERY_TASK_ALWAYS_EAGER:
    # Embedded mode: Celery's eager path still builds a (never used) producer, and kombu warns on every
    # task that the broker it will not contact has no host name. Noise, not a fault.
    LOGGING["loggers"]["kombu.connection"] = {"level": "ERROR"}
