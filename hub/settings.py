"""The hub's only settings module.

Every knob is an environment variable with a working default. With nothing set the hub runs on
SQLite, keeps files under var/ and talks to a Celery broker that needs no server. DATABASE_URL,
REDIS_URL and S3_* switch each part to the real service. The README's configuration table lists
every variable read here (tests/test_deploy_config.py checks that it stays complete).
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# Names of every environment variable this module reads; tests compare it with docker-compose.yml,
# .env.example and the README so configuration can't silently drift.
ENV_VARS_READ: set[str] = set()


def env(name: str, default: str = "") -> str:
    ENV_VARS_READ.add(name)
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name, "").strip().lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = env(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


VAR_DIR = Path(env("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else a random key kept in var/ (never in the repository)."""
    key = env("SECRET_KEY")
    if key:
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_NAME = env("SITE_NAME", "Model Hub")

# HTTPS=true when the hub is served over TLS (directly or behind a proxy that sets X-Forwarded-Proto).
HTTPS = env_bool("HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
# Database sessions, read with their person in one query built once (hub/sessions.py).
SESSION_ENGINE = "hub.sessions"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "django.contrib.postgres",  # full-text and trigram search when the database is PostgreSQL
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from here: /api/docs/ works offline
    "allauth",
    "allauth.account",
    "billing",
    "models_app",
    "resources",
    "community",
    "moderation",
    "hub",  # wires the apps: commands that span them (seed_demo)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "hub.middleware.RejectNulCharactersMiddleware",
    "hub.middleware.BoundedClientReadsMiddleware",  # slow or stalled bodies: 408 (docs/hostile-input.md)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside sessions, so it sees a session cookie set by signing in: pages kept for one viewer.
    "hub.middleware.WroteCookieMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before CommonMiddleware: picks the language from the cookie or Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "hub.sessions.AuthenticationMiddleware",  # the person read with the session, in one query
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "hub.urls"
WSGI_APPLICATION = "hub.wsgi.application"

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
                "hub.context_processors.site",
            ],
        },
    },
]

# --- Database: SQLite under var/ unless DATABASE_URL names another (PostgreSQL via psycopg 3).
DATABASE_URL = env("DATABASE_URL")
DB_CONN_MAX_AGE = env_int("DB_CONN_MAX_AGE", 60)
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", True)
SQLITE_PATH = env("SQLITE_PATH", str(VAR_DIR / "hub.sqlite3"))
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=DB_CONN_MAX_AGE)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DB_PREPARED_STATEMENTS:
        # Server-side parameters, and psycopg preparing a statement once it ran 5 times on a connection:
        # the hot queries (a browse page, a search) are then planned once per connection, not per
        # request. Turn off behind a pooler in transaction mode (pgbouncer), which can't keep them.
        DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            # The web process and the worker write to the same file: wait for locks instead of failing,
            # and take the write lock at BEGIN so two writers never deadlock mid-transaction.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # A file, not memory: the Celery worker in tests/test_worker.py must see the test data.
            # One per test run, so two runs in one checkout don't wipe each other's tables.
            "TEST": {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")},
        }
    }

# --- Database connections are bounded (issue 17; docs/scaling-database.md) ----------------------------
# On PostgreSQL each process keeps a pool (psycopg_pool, through Django's "pool" option) of at most
# DB_POOL_SIZE connections that its threads borrow for one request or task and give back: the hub holds
# at most (gunicorn workers + Celery processes) x DB_POOL_SIZE connections, whatever the traffic. A thread
# that finds the pool empty waits up to DB_POOL_TIMEOUT seconds. DB_POOL_SIZE=0 turns the pool off: each
# thread then keeps its own connection for DB_CONN_MAX_AGE seconds (one per thread, the old behaviour).
DB_POOL_SIZE = env_int("DB_POOL_SIZE", 8)  # = the threads of a `make run` gunicorn worker
DB_POOL_TIMEOUT = env_int("DB_POOL_TIMEOUT", 10)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DB_POOL_SIZE > 0:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps connections; Django refuses both at once
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": DB_POOL_SIZE,
        "timeout": DB_POOL_TIMEOUT,
        "max_idle": 300,  # a burst's extra connections close after 5 idle minutes
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not DB_PREPARED_STATEMENTS:
    # Behind pgbouncer in transaction mode a named cursor (QuerySet.iterator()) would outlive the
    # transaction that holds its server connection.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and Django cache when REDIS_URL is set.
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # Room for the answers kept for anonymous callers (models_app/page_cache.py), 20 to 900 kB each.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 2000},
        }
    }

# --- Celery. Without REDIS_URL or CELERY_BROKER_URL, kombu's filesystem transport: a real separate
# worker process, no server to install. docs/embedded-services.md has the options that make it work.
CELERY_BROKER_DIR = Path(env("CELERY_BROKER_DIR", str(VAR_DIR / "celery")))
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
        # A message waits half of this on average; 0.02 s costs an idle worker about 0.4% of a core
        # more than 0.1 s did (docs/performance.md#uploads-in-one-pass).
        "polling_interval": 0.02,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 60 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # A worker killed mid-task loses its message on the embedded broker; the sweep finishes the file.
    "sweep-stuck-files": {"task": "models_app.tasks.sweep_stuck_files", "schedule": 60.0},
    # Uploads nobody finished: their parts would fill the disk (issue 11).
    "sweep-abandoned-uploads": {"task": "models_app.tasks.sweep_abandoned_uploads", "schedule": 3600.0},
    # Bytes no file uses any more, when the release queued by a delete was lost (docs/editing.md).
    "sweep-unused-blobs": {"task": "models_app.tasks.sweep_unused_blobs", "schedule": 3600.0},
    # Posted images whose message was lost (docs/images.md#example-images).
    "sweep-stuck-images": {"task": "resources.tasks.sweep_stuck_images", "schedule": 60.0},
    # Files the scan quarantined enter the moderation queue (docs/moderation.md#the-queue).
    "moderation-scan-reports": {"task": "moderation.tasks.sync_scan_reports", "schedule": 300.0},
    # Search's typo vocabulary loses the words of renamed and unpublished models (migration 0036).
    "prune-search-words": {
        "task": "models_app.tasks.prune_search_words",
        "schedule": crontab(hour=4, minute=7),
    },
    # Expired sessions are never read again; without it their rows would pile up (hub/tasks.py).
    "clear-expired-sessions": {
        "task": "hub.tasks.clear_expired_sessions",
        "schedule": crontab(hour=4, minute=37),
    },
}
# Seconds a file may sit in "pending" or "processing" before the sweep enqueues it again.
FILE_STUCK_AFTER = env_int("FILE_STUCK_AFTER", 300)
# Seconds a model page, search results and a CivitAI models list, as callers who are not signed in get them, are kept
# and served again; 0 builds them every time (models_app/page_cache.py).
ANONYMOUS_CACHE_SECONDS = env_int("ANONYMOUS_CACHE_SECONDS", 30)
# Download requests per visitor (user, else address) and minute before 429; 0 turns the limit off.
DOWNLOAD_RATE_LIMIT = env_int("DOWNLOAD_RATE_LIMIT", 60)
# Uploads a user may start a minute (per user and per address; docs/moderation.md#rate-limits); 0 = off.
UPLOAD_RATE_LIMIT = env_int("UPLOAD_RATE_LIMIT", 20)
UPLOAD_IP_RATE_LIMIT = env_int("UPLOAD_IP_RATE_LIMIT", 60)
# Reports one person may send a minute (docs/moderation.md#rate-limits); 0 = off.
REPORT_RATE_LIMIT = env_int("REPORT_RATE_LIMIT", 10)
# New follows a user may make a minute (docs/follows.md); 0 turns the limit off.
FOLLOW_RATE_LIMIT = env_int("FOLLOW_RATE_LIMIT", 60)
# Wildcard template expansions (docs/wildcards.md#expansion-limits): seconds before the child process
# running one is killed, and expansions per visitor and minute before 429 (0 turns the limit off).
WILDCARD_EXPAND_TIMEOUT = env_int("WILDCARD_EXPAND_TIMEOUT", 3)
WILDCARD_EXPAND_RATE_LIMIT = env_int("WILDCARD_EXPAND_RATE_LIMIT", 30)
# Reviews (docs/reviews.md#abuse): writes per user and minute before 429 (0: off), and the account
# age in seconds under which a user without a confirmed email may not review.
REVIEW_RATE_LIMIT = env_int("REVIEW_RATE_LIMIT", 10)
REVIEW_MIN_ACCOUNT_AGE = env_int("REVIEW_MIN_ACCOUNT_AGE", 3600)
# Notifications (docs/notifications.md#the-email-digest): seconds between two runs of the email digest,
# which sends each person one batched email of their unread notifications of the kinds they opted into.
NOTIFICATION_DIGEST_INTERVAL = env_int("NOTIFICATION_DIGEST_INTERVAL", 3600)
CELERY_BEAT_SCHEDULE["send-notification-digests"] = {
    "task": "community.tasks.send_notification_digests",
    "schedule": float(NOTIFICATION_DIGEST_INTERVAL),
}
# Collections and profiles (docs/collections.md#abuse): new collections, items added and profile
# edits per user and minute before 429 (0: off).
COLLECTION_RATE_LIMIT = env_int("COLLECTION_RATE_LIMIT", 60)
# Comments and reactions (docs/comments.md#abuse): comment writes per user and per IP address and
# minute before 429, reactions per user and minute (0: off), and the account age in seconds under
# which a user without a confirmed email may not comment or react.
COMMENT_RATE_LIMIT = env_int("COMMENT_RATE_LIMIT", 10)
COMMENT_IP_RATE_LIMIT = env_int("COMMENT_IP_RATE_LIMIT", 30)
COMMENT_MIN_ACCOUNT_AGE = env_int("COMMENT_MIN_ACCOUNT_AGE", 3600)
REACTION_RATE_LIMIT = env_int("REACTION_RATE_LIMIT", 60)
# Billing on Stripe (docs/billing.md). Empty (the default) = billing not configured: /pricing/ says so
# and nothing offers to pay. The webhook secret verifies /billing/webhook/ (whsec_…).
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET")
# The currency tips are paid in (docs/billing.md#tips), an ISO code, lower case.
BILLING_CURRENCY = env("BILLING_CURRENCY", "usd").strip().lower()
# Nightly at 03:17 UTC: subscriptions brought in line with Stripe for lost webhooks (no-op without keys).
CELERY_BEAT_SCHEDULE["reconcile-subscriptions"] = {
    "task": "billing.tasks.reconcile_subscriptions",
    "schedule": crontab(hour=3, minute=17),
}

# --- Files. Local disk under var/media unless S3_BUCKET is set; code asks for storages["models"].
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATIC_MANIFEST = env_bool(
    "STATIC_MANIFEST", False
)  # whitenoise warns about a missing folder before collectstatic
STATICFILES_DIRS = [BASE_DIR / "static"]

S3_BUCKET = env("S3_BUCKET")
S3_ENDPOINT_URL = env("S3_ENDPOINT_URL")
S3_ACCESS_KEY = env("S3_ACCESS_KEY")
S3_SECRET_KEY = env("S3_SECRET_KEY")
S3_REGION = env("S3_REGION", "us-east-1")
# The S3 address browsers use for presigned upload URLs, when it differs from the one the hub's
# processes use (docker-compose: http://minio:9000 inside, http://localhost:9000 outside).
S3_PUBLIC_ENDPOINT_URL = env("S3_PUBLIC_ENDPOINT_URL", S3_ENDPOINT_URL)
if S3_BUCKET:
    _s3_options = {
        "bucket_name": S3_BUCKET,
        "endpoint_url": S3_ENDPOINT_URL or None,
        "access_key": S3_ACCESS_KEY or None,
        "secret_key": S3_SECRET_KEY or None,
        "region_name": S3_REGION,
        # Path-style and SigV4: what MinIO and moto need, and what real S3 accepts.
        "addressing_style": "path",
        "signature_version": "s3v4",
        "default_acl": None,
        "file_overwrite": False,
        "querystring_auth": True,
    }
    _user_storage = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {**_s3_options}}
    _model_storage = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {**_s3_options}}
    _user_storage["OPTIONS"]["location"] = "media"
else:
    _user_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    _model_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT / "models"), "base_url": None},
    }
# --- Content-Security-Policy (django-csp): scripts, styles and fonts only from the hub itself, no
# inline script; images from the hub (example images and thumbnails are served at /images/), plus the
# data: and blob: previews the uploader draws; uploads may also go straight to the S3 endpoint.
if S3_BUCKET and S3_PUBLIC_ENDPOINT_URL:
    _storage_origins = ["/".join(S3_PUBLIC_ENDPOINT_URL.split("/")[:3])]
elif S3_BUCKET:
    _storage_origins = ["https://s3.amazonaws.com", f"https://s3.{S3_REGION}.amazonaws.com"]
else:
    _storage_origins = []
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:", *_storage_origins],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", *_storage_origins],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        # A form's redirects count too: logging in to download sends the browser on to S3.
        "form-action": ["'self'", *_storage_origins],
        "frame-ancestors": ["'none'"],
    }
}

STORAGES = {
    "default": _user_storage,
    "models": _model_storage,
    # STATIC_MANIFEST=true (the Docker image sets it, before collectstatic) gives static files hashed
    # names and long cache lifetimes; without it (make run, tests) whitenoise serves static/ as it is.
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True

# --- Uploads. Limits are checked before any bytes are sent (issue 4).
MAX_UPLOAD_SIZE = env_int("MAX_UPLOAD_SIZE", 20 * 1024**3)
ALLOWED_UPLOAD_EXTENSIONS = env_list(
    "ALLOWED_UPLOAD_EXTENSIONS",
    ".safetensors,.ckpt,.pt,.pth,.bin,.gguf,.zip,.json,.yaml,.yml,.txt,.png,.jpg,.jpeg,.webp,.mp4,.webm",
)
# Multipart part size: S3 needs at least 5 MiB (but the last part) and at most 10,000 parts.
UPLOAD_PART_SIZE = env_int("UPLOAD_PART_SIZE", 16 * 1024**2)
# Uploads a user may have open (started, not yet completed or cancelled) at once, and the bytes they may
# declare together: open uploads hold storage, so one account can't pile up parts (issue 11).
MAX_OPEN_UPLOADS = env_int("MAX_OPEN_UPLOADS", 10)
MAX_OPEN_UPLOAD_BYTES = env_int("MAX_OPEN_UPLOAD_BYTES", 2 * MAX_UPLOAD_SIZE)
# Seconds an upload may go without a part signed before the hourly sweep stops it and deletes its parts.
ABANDONED_UPLOAD_AFTER = env_int("ABANDONED_UPLOAD_AFTER", 7 * 24 * 3600)
# --- Storage hygiene (issue 17 part 9; docs/storage-hygiene.md). Seconds before the hourly sweep deletes
# uploaded bytes that no file will ever process: a file deleted before a worker took it, a file in
# error, objects under uploads/ that no row names. The grace period covers bytes being written now.
LEFTOVER_BYTES_AFTER = env_int("LEFTOVER_BYTES_AFTER", 24 * 3600)
CELERY_BEAT_SCHEDULE["sweep-leftover-bytes"] = {
    "task": "models_app.tasks.sweep_leftover_bytes",
    "schedule": 3600.0,
}
# --- end of storage hygiene
# How many of a perceptual hash's 64 bits may differ for an image to match a blocked one (docs/moderation.md).
BLOCKED_IMAGE_DISTANCE = env_int("BLOCKED_IMAGE_DISTANCE", 8)
# Private collections (Favourites not counted) on the free tier; a plan may allow more (docs/billing.md).
FREE_MAX_PRIVATE_COLLECTIONS = env_int("FREE_MAX_PRIVATE_COLLECTIONS", 20)
# Optional ClamAV daemon for uploaded files (clamd INSTREAM): a Unix socket, or host and port.
CLAMD_SOCKET = env("CLAMD_SOCKET")
CLAMD_HOST = env("CLAMD_HOST")
CLAMD_PORT = env_int("CLAMD_PORT", 3310)

# --- Accounts (django-allauth).
AUTHENTICATION_BACKENDS = [
    "hub.auth_backends.PermissionsInOneQuery",  # permissions only, in one query instead of two
    # Django's and allauth's, loading the session's user in one query (hub/auth_backends.py).
    "hub.auth_backends.ModelBackend",
    "hub.auth_backends.AllauthBackend",
]
SITE_ID = 1
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", "optional")
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
# Safe characters, and no look-alike of an existing username (community/usernames.py).
ACCOUNT_ADAPTER = "community.adapter.AccountAdapter"
ACCOUNT_USERNAME_VALIDATORS = "community.usernames.username_validators"
# Sign-up and login throttling (allauth's limits, named here so they can be set; docs/moderation.md).
# Past a limit allauth answers 429 with templates/429.html.
ACCOUNT_RATE_LIMITS = {
    "signup": env("SIGNUP_RATE_LIMIT", "5/m/ip,20/h/ip"),
    "login": env("LOGIN_RATE_LIMIT", "30/m/ip"),
    # Failed logins: per address, and per account being guessed (the key is the login).
    "login_failed": env("LOGIN_FAILED_RATE_LIMIT", "10/m/ip,5/5m/key"),
    "reset_password": "20/m/ip,5/m/key",
}
ACCOUNT_USERNAME_BLACKLIST = ["admin", "api", "static", "media", "files", "models", "user", "search"]
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if HTTPS else "http"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Email: printed to the console unless an SMTP server is configured.
EMAIL_HOST = env("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "hub@localhost")

# --- REST API.
# How plain (non-DRF) views find the user behind an API key; community owns the keys.
API_KEY_RESOLVER = "community.auth.resolve_api_key"
REST_FRAMEWORK = {
    # Tools send an API key (Bearer or ?token=); scripts may also use HTTP Basic.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "community.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "community.auth.ThrottledBasicAuthentication",  # shares the login form's failed-login limit
    ],
    "EXCEPTION_HANDLER": "hub.api.exception_handler",
    # JSON bodies go through the hub's bounded reader (hub.api.JSONParser); forms as DRF does.
    "DEFAULT_PARSER_CLASSES": [
        "hub.api.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# The OpenAPI schema of the hub's own API (/api/schema/, shown at /api/docs/); hub/openapi.py.
# moderation.models.ActionKind's values, named for the OpenAPI enums below (settings import no app).
MODERATION_ACTIONS = [
    "dismiss", "relabel", "hide", "remove", "restore", "mark_poi", "mark_minor", "quarantine_file",
    "warn", "mute", "suspend", "ban",
]  # fmt: skip
SPECTACULAR_SETTINGS = {
    "TITLE": f"{SITE_NAME} API",
    "VERSION": "0.1.0",  # the project's version, as in pyproject.toml
    "DESCRIPTION": (
        "The hub's own REST API, under `/api/hub/`: browse published models, and for creators create "
        "models and versions, upload files with resumable multipart uploads, follow their processing "
        "and publish.\n\n"
        "**Authentication**, any one of:\n\n"
        "- an **API key** (create one on your settings page at `/settings/api-keys`, or with "
        "`python manage.py create_api_key USERNAME`) as `Authorization: Bearer <key>`, or as the "
        "`token` query parameter;\n"
        "- **HTTP Basic** with your username and password, for scripts;\n"
        "- the browser's **session** (logged in on the site; writes then need the `X-CSRFToken` header).\n\n"
        'Errors are JSON: `{"detail": "a sentence"}`, or for invalid fields '
        '`{"field": ["message"]}`.'
    ),
    "PREPROCESSING_HOOKS": ["hub.openapi.only_the_hub_api"],
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several answers have a "status" or a "type"; name each set of choices after its model.
    "ENUM_NAME_OVERRIDES": {
        "ModelTypeEnum": "models_app.models.ModelType",
        "FileTypeEnum": "models_app.models.FileType",
        "FileFormatEnum": "models_app.models.FileFormat",
        "PublishStatusEnum": "models_app.models.PublishStatus",
        "FileStatusEnum": "models_app.models.FileStatus",
        "ScanStatusEnum": "models_app.models.ScanStatus",
        "UsageControlEnum": "models_app.models.UsageControl",
        "OfferedUsageControlEnum": "models_app.models.OFFERED_USAGE_CONTROLS",
        "ImageStatusEnum": "resources.models.ImageStatus",  # images and the avatar API (docs/profiles.md)
        # community: comments and reactions (docs/comments.md), follows and the feed (docs/follows.md)
        "CommentTargetEnum": ["model", "version", "image"],
        "ReactionKindEnum": ["like", "heart", "laugh", "cry"],
        "ReactionTargetEnum": ["comment"],
        "FollowTargetEnum": ["user", "model"],
        "FeedItemKindEnum": ["version", "image"],
        # moderation: reports, the queue, actions and the audit log (docs/moderation.md)
        "ModerationTargetEnum": ["model", "version", "file", "image", "comment", "user"],
        "ReportReasonEnum": [
            "mislabelled_level",
            "real_person",
            "minor",
            "ownership",
            "malicious_file",
            "spam",
            "harassment",
            "other",
        ],
        "ModerationActionEnum": MODERATION_ACTIONS,
        # The audit log also names what deciding an appeal wrote.
        "AuditActionEnum": [*MODERATION_ACTIONS, "appeal_upheld", "appeal_granted"],
    },
}

TIME_ZONE = "UTC"
USE_TZ = True

# --- Languages (issue 14 part 9, docs/i18n.md): English and French. The language comes from the
# switcher's cookie, else Accept-Language, else English. URLs carry no language prefix, so the APIs
# and tool URLs stay the same. locale/*/LC_MESSAGES/django.po is compiled to .mo in pure Python by
# `manage.py compile_translations` (make run, make test, the Docker image).
USE_I18N = True
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600  # the switcher's choice outlives the browser session
LANGUAGE_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Scale-out and observability (issue 17 part 8; docs/operations.md, README "Running at scale").
# Queues and their workers, the optional read replica, CDN-friendly downloads, /readyz, /metrics and
# logs with a request id. Everything in this block belongs to that part.
from kombu import Queue  # noqa: E402  (settings keep their imports with the block that needs them)

# Two queues, so a burst of 20 GB files being hashed never delays a notification. Every task is named
# in CELERY_TASK_ROUTES (tests/ops/test_queues.py fails when one is missing). A worker started
# without -Q consumes both queues (make run's single worker does); production runs
# `bin/run-worker` with QUEUES=heavy and QUEUES=light (docker-compose: worker-heavy, worker-light).
CELERY_TASK_QUEUES = (Queue("heavy"), Queue("light"))
CELERY_TASK_DEFAULT_QUEUE = "light"
HEAVY_TASKS = [  # read, hash, scan and parse uploaded bytes; minutes each, memory and CPU bound
    "models_app.tasks.process_file",
    "models_app.tasks.release_blob",
    "resources.tasks.process_image",
    "resources.tasks.refresh_moved_image",
]
LIGHT_TASKS = [  # notifications, emails, counters, sweeps: short database work
    "models_app.tasks.sweep_stuck_files",
    "models_app.tasks.sweep_abandoned_uploads",
    "models_app.tasks.sweep_unused_blobs",
    "models_app.tasks.sweep_leftover_bytes",
    "models_app.tasks.prune_search_words",
    "resources.tasks.sweep_stuck_images",
    "community.tasks.notify_version_published",
    "community.tasks.send_notification_digests",
    "moderation.tasks.sync_scan_reports",
    "billing.tasks.reconcile_subscriptions",
    "hub.tasks.clear_expired_sessions",
]
CELERY_TASK_ROUTES = {
    **{name: {"queue": "heavy"} for name in HEAVY_TASKS},
    **{name: {"queue": "light"} for name in LIGHT_TASKS},
}

# An optional read replica (hub/db_router.py): reads outside a transaction go to it, writes and
# everything after a write in the same request (and for DATABASE_REPLICA_PIN_SECONDS after it, for
# the same browser) go to the primary. Celery tasks always use the primary.
DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL")
DATABASE_REPLICA_PIN_SECONDS = env_int("DATABASE_REPLICA_PIN_SECONDS", 10)
if DATABASE_REPLICA_URL and DATABASE_URL:
    DATABASES["replica"] = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=DB_CONN_MAX_AGE)
    # The same options as the primary, its own pool (DB_POOL_SIZE) included.
    DATABASES["replica"]["OPTIONS"] = dict(DATABASES["default"].get("OPTIONS", {}))
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    # Tests run against the primary's test database; there is no replica to create.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
elif DATABASE_REPLICA_URL:
    raise ImproperlyConfigured("DATABASE_REPLICA_URL needs DATABASE_URL: a replica of SQLite makes no sense")
DATABASE_ROUTERS = ["hub.db_router.PrimaryReplicaRouter"]

# Reverse proxies in front of gunicorn whose X-Forwarded-For entries are believed (hub/middleware.py;
# docker-compose's Caddy is one). 0: REMOTE_ADDR is the address that connected.
TRUSTED_PROXY_HOPS = env_int("TRUSTED_PROXY_HOPS", 0)
# Probes and scrapers talk plain HTTP to the process itself: no HTTPS redirect for them.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# First of all: the real client address, the request id for logs, the metrics (which count 5xx and unhandled exceptions) and
# the replica pin wrap every other middleware, SecurityMiddleware's redirects included.
MIDDLEWARE[:0] = [
    "hub.middleware.ForwardedForMiddleware",
    "hub.request_id.RequestIdMiddleware",
    "hub.metrics.MetricsMiddleware",
    "hub.db_router.ReplicaPinMiddleware",
]

# Downloads (docs/operations.md#downloads-behind-a-cdn): the origin (scheme://host) put in front of
# the download redirect's target instead of the hub's or S3's, when a CDN serves the files.
DOWNLOAD_CDN_URL = env("DOWNLOAD_CDN_URL").rstrip("/")

# /readyz: seconds each check (database, cache, broker, storage) may take before it counts as failed.
READINESS_TIMEOUT = env_int("READINESS_TIMEOUT", 3)

# /metrics (Prometheus): a bearer token scrapers must send; unset, /metrics answers 404.
METRICS_TOKEN = env("METRICS_TOKEN")

# Logs: "text" (default, for make run) or "json" (one JSON object a line, for log collectors). Each
# line carries the request id (X-Request-ID, hub/request_id.py) or, in a worker, the task id.
LOG_FORMAT = env("LOG_FORMAT", "text").strip().lower()
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "hub.request_id.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- Faults (issue 17 part 3, docs/faults.md): what the hub does while a service it needs is down.
# PostgreSQL restarted: a kept or pooled connection (DB_CONN_MAX_AGE, DB_POOL_SIZE) is checked before
# a request uses it and replaced when the server closed it, so the web process answers again without
# a restart (Django hands the pool ConnectionPool.check_connection when health checks are on).
if DATABASE_URL:
    for _alias in DATABASES:  # the read replica too, when there is one
        DATABASES[_alias]["CONN_HEALTH_CHECKS"] = True
# Redis down: the cache (list counts, rate-limit counters) answers "miss" instead of failing the
# page (hub/cache.py), and gives up on an unreachable server after a second instead of hanging.
if REDIS_URL:
    CACHES["default"]["BACKEND"] = "hub.cache.ResilientRedisCache"
    CACHES["default"]["OPTIONS"] = {"socket_connect_timeout": 1, "socket_timeout": 2}

# --- Hostile input (issue 17, docs/hostile-input.md): slow clients and the log of strangers' junk.
# Seconds gunicorn's socket waits for the next bytes of a request body (or for a client to take the
# next bytes of an answer) before hub.middleware.BoundedClientReadsMiddleware answers 408 and frees
# the thread; below gunicorn's 30 s worker timeout, so a sync worker is never killed for a slow client.
REQUEST_READ_TIMEOUT = env_int("REQUEST_READ_TIMEOUT", 20)
# Bytes a second a request body must average (after REQUEST_READ_TIMEOUT of grace), so a client that
# trickles a byte at a time is cut off too: at 16 KiB/s a 16 MiB upload part may take 17 minutes.
REQUEST_BODY_MIN_RATE = env_int("REQUEST_BODY_MIN_RATE", 16 * 1024)
# Too many fields or files, or a body too large, are a 400 and one WARNING line, not an ERROR traceback.
LOGGING["filters"]["client_junk"] = {"()": "hub.logs.ClientJunkLogFilter"}
LOGGING["loggers"].update(
    {
        f"django.security.{name}": {"filters": ["client_junk"]}
        for name in ("TooManyFieldsSent", "TooManyFilesSent", "RequestDataTooBig")
    }
)
