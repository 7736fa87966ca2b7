"""Settings for submitportal, read from the environment.

Every variable is listed in the README with its default. Bad values fail at start-up with
ImproperlyConfigured and a message that names the variable and says what would be valid.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"  # the portal's own files: test database, collected static files
(VAR_DIR / "staticfiles").mkdir(parents=True, exist_ok=True)


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    msg = f"{name}={raw!r} is not a yes/no value. Use true or false (also accepted: 1/0, yes/no, on/off)."
    raise ImproperlyConfigured(msg)


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default) or default
    if value not in choices:
        allowed = ", ".join(choices)
        msg = f"{name}={value!r} is not one of the allowed values: {allowed}."
        raise ImproperlyConfigured(msg)
    return value


def env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = env_str(name)
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        msg = f"{name}={raw!r} is not a whole number."
        raise ImproperlyConfigured(msg) from None
    if value < minimum:
        msg = f"{name}={value} must be at least {minimum}."
        raise ImproperlyConfigured(msg)
    return value


def env_url(name: str, default: str = "") -> str:
    """An http(s) base URL without a trailing slash, or "" when unset."""
    value = env_str(name, default).rstrip("/")
    if value and urlsplit(value).scheme not in ("http", "https"):
        msg = f"{name}={value!r} is not an http:// or https:// URL."
        raise ImproperlyConfigured(msg)
    if value and not urlsplit(value).netloc:
        msg = f"{name}={value!r} has no host name."
        raise ImproperlyConfigured(msg)
    return value


def database_from_url(url: str) -> dict[str, object]:
    """Turn DATABASE_URL (sqlite:///path or postgres://user:pass@host:port/name) into Django's form."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:///relative/path.db and sqlite:////absolute/path.db, as django-environ reads them.
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if not path:
            msg = f"DATABASE_URL={url!r} names no SQLite file. Example: sqlite:///db.sqlite3"
            raise ImproperlyConfigured(msg)
        name = Path(path) if Path(path).is_absolute() else BASE_DIR / path
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": name}
    if parts.scheme in ("postgres", "postgresql", "pgsql"):
        name = unquote(parts.path.lstrip("/"))
        if not name:
            msg = f"DATABASE_URL={url!r} names no database. Example: postgres://user:password@host:5432/submitportal"
            raise ImproperlyConfigured(msg)
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": 60,
        }
    msg = f"DATABASE_URL={url!r}: only sqlite:/// and postgres:// URLs are supported."
    raise ImproperlyConfigured(msg)


# --- Django core ---------------------------------------------------------------------------------

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        msg = "SECRET_KEY is not set. Set it to a long random string (or set DEBUG=true for local development)."
        raise ImproperlyConfigured(msg)
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG"  # noqa: S105 - DEBUG only
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "csp",
    "submitportal",
]

MIDDLEWARE = [
    "submitportal.middleware.RequestIdMiddleware",  # first: every later step's log lines carry the id
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "submitportal.middleware.NoStoreWhenSignedInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "submitportal.middleware.LoculusUnavailableMiddleware",
    "submitportal.middleware.SignInMiddleware",
    "submitportal.middleware.LoculusProblemMiddleware",
    "submitportal.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "submitportal.urls"
WSGI_APPLICATION = "submitportal.wsgi.application"

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
                "submitportal.context_processors.portal",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(env_str("DATABASE_URL", "sqlite:///db.sqlite3"))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers wait for each other instead of failing with "database is locked": every transaction
    # takes the write lock when it begins (IMMEDIATE), so one that read cannot be refused when it
    # writes; SQLite has no row locks, so this also serialises the drafts' locked changes. In WAL
    # mode readers never wait for a writer.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL",
    }
    # Tests use a real file, so that concurrent requests lock as they do in production.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Sessions live in the database: the Loculus tokens they hold never travel in a cookie.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Cookies travel only over HTTPS outside DEBUG. INSECURE_COOKIES=true is for plain-HTTP local runs.
INSECURE_COOKIES = env_bool("INSECURE_COOKIES", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG and not INSECURE_COOKIES
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto: https.
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)

# Users sign in with the Loculus instance's Keycloak; Django's own users mirror them (no passwords).
LOGIN_URL = "signin"
# Refresh the access token when it has less than this many seconds left.
OIDC_REFRESH_LEEWAY_SECONDS = env_int("OIDC_REFRESH_LEEWAY_SECONDS", 60)

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
# Draft files (bulk metadata and sequences): on local disk (MEDIA_ROOT) by default, or in an
# S3-compatible bucket (DRAFT_STORAGE=s3), which several portal machines can share. Uploads stream to
# FILE_UPLOAD_TEMP_DIR first; on the same disk, keeping them locally is a rename, not a copy.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or VAR_DIR / "uploads")
FILE_UPLOAD_TEMP_DIR = Path(env_str("FILE_UPLOAD_TEMP_DIR") or VAR_DIR / "tmp")
FILE_UPLOAD_TEMP_DIR.mkdir(parents=True, exist_ok=True)
FILE_UPLOAD_HANDLERS = ["submitportal.bulk_data_upload.LargeChunkTemporaryFileUploadHandler"]
# Drafts, submitted or not, nobody changed for this many days are removed by `manage.py cleanup_drafts`
# (its default), and My drafts says so.
DRAFT_RETENTION_DAYS = env_int("DRAFT_RETENTION_DAYS", 30, minimum=1)
DRAFT_STORAGE = env_choice("DRAFT_STORAGE", "local", ("local", "s3"))
if DRAFT_STORAGE == "s3":
    DRAFT_S3_BUCKET = env_str("DRAFT_S3_BUCKET")
    if not DRAFT_S3_BUCKET:
        msg = "DRAFT_STORAGE=s3 needs DRAFT_S3_BUCKET, the bucket that keeps the portal's draft files."
        raise ImproperlyConfigured(msg)
    _draft_storage: dict[str, object] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": DRAFT_S3_BUCKET,
            "endpoint_url": env_url("DRAFT_S3_ENDPOINT_URL") or None,
            "region_name": env_str("DRAFT_S3_REGION") or None,
            "access_key": env_str("DRAFT_S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("DRAFT_S3_SECRET_ACCESS_KEY") or None,
            "location": env_str("DRAFT_S3_PREFIX", "submitportal"),
            "file_overwrite": False,
        },
    }
else:
    _draft_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": MEDIA_ROOT}}
STORAGES = {
    "default": _draft_storage,
    "staticfiles": {
        "BACKEND": "submitportal.static_storage.StaticFiles"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# In the database, shared by every portal process and machine (no per-process state).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "submitportal_cache"},
    # The review page's processed details and group lists: per process, bounded (~5,000 entries, ~10 MB).
    "review": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "review",
        "OPTIONS": {"MAX_ENTRIES": 5000},
    },
}

# The console (stderr, which gunicorn passes on): the portal's own lines at LOG_LEVEL; unhandled
# exceptions and other 5xx answers once each from django.request at ERROR (the exception's traceback
# included), refused requests (4xx but 404) at WARNING; django.security's (e.g. a wrong Host header)
# without a traceback. Every line carries its request's id. These loggers do not propagate to
# Django's own "django" handlers, which would print them a second time with DEBUG on.
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper() or "INFO"
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    msg = f"LOG_LEVEL={LOG_LEVEL!r} is not one of the allowed values: DEBUG, INFO, WARNING, ERROR, CRITICAL."
    raise ImproperlyConfigured(msg)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "submitportal.logs.RequestIdFilter"},
        "skip_not_found": {"()": "submitportal.logs.SkipNotFound"},
        "without_traceback": {"()": "submitportal.logs.WithoutTraceback"},
    },
    "formatters": {"console": {"()": "submitportal.logs.ConsoleFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "console", "filters": ["request_id"]},
        # django.security's records come from its children (django.security.csrf, …), which a
        # logger's own filters do not see; a handler's do.
        "console_security": {
            "class": "logging.StreamHandler",
            "formatter": "console",
            "filters": ["request_id", "without_traceback"],
        },
    },
    "loggers": {
        "submitportal": {"handlers": ["console"], "level": LOG_LEVEL},
        "django.request": {
            "handlers": ["console"],
            "level": "WARNING",
            "filters": ["skip_not_found"],
            "propagate": False,
        },
        "django.security": {"handlers": ["console_security"], "level": "WARNING", "propagate": False},
    },
}

# --- Loculus -------------------------------------------------------------------------------------

# The Loculus website's base URL. Everything else (backend, Keycloak, organisms) comes from
# {LOCULUS_URL}/loculus-info. Empty: every page explains what to set.
LOCULUS_URL = env_url("LOCULUS_URL")
# Overrides hosts.backend from /loculus-info, e.g. an in-cluster address.
LOCULUS_BACKEND_URL = env_url("LOCULUS_BACKEND_URL")
# How long /loculus-info and the detected files protocol are kept, in seconds (the Loculus CLI: 5 min).
LOCULUS_INFO_CACHE_SECONDS = env_int("LOCULUS_INFO_CACHE_SECONDS", 300)
# auto: read {backend}/api-docs. fileMapping: the legacy JSON part. metadataColumns: files.<category> columns.
LOCULUS_FILES_PROTOCOL = env_choice("LOCULUS_FILES_PROTOCOL", "auto", ("auto", "fileMapping", "metadataColumns"))
# /loculus-info does not say whether the instance uses data use terms, so the operator does.
LOCULUS_DATA_USE_TERMS = env_bool("LOCULUS_DATA_USE_TERMS", True)
# Seconds. Connect and read timeouts for ordinary backend calls; the submit upload may take much longer.
LOCULUS_CONNECT_TIMEOUT = env_int("LOCULUS_CONNECT_TIMEOUT", 5, minimum=1)
LOCULUS_READ_TIMEOUT = env_int("LOCULUS_READ_TIMEOUT", 30, minimum=1)
LOCULUS_SUBMIT_TIMEOUT = env_int("LOCULUS_SUBMIT_TIMEOUT", 3600, minimum=1)

# Extra files: below the threshold one PUT per file, above it multipart uploads of UPLOAD_PART_SIZE
# parts (at most 10,000; the part size grows for larger files). Sizes in bytes.
UPLOAD_MULTIPART_THRESHOLD = env_int("UPLOAD_MULTIPART_THRESHOLD", 10 * 1024 * 1024, minimum=5 * 1024 * 1024)
UPLOAD_PART_SIZE = env_int("UPLOAD_PART_SIZE", 10 * 1024 * 1024, minimum=5 * 1024 * 1024)
UPLOAD_MAX_FILE_SIZE = env_int("UPLOAD_MAX_FILE_SIZE", 5 * 1024**4, minimum=1)
# Bulk metadata and FASTA files may be compressed; this bounds what they may expand to (bytes).
MAX_DECOMPRESSED_SIZE = env_int("MAX_DECOMPRESSED_SIZE", 20 * 1024**3, minimum=1)
# ... and how many times their compressed size, judged once 64 MiB are unpacked (real files: 3-300).
MAX_COMPRESSION_RATIO = env_int("MAX_COMPRESSION_RATIO", 500, minimum=1)
# Rows of a bulk metadata table and records of a bulk FASTA file: the check keeps every ID, so these
# bound its memory (and the entries kept for linking extra files).
MAX_METADATA_ROWS = env_int("MAX_METADATA_ROWS", 250_000, minimum=1)
MAX_FASTA_RECORDS = env_int("MAX_FASTA_RECORDS", 1_000_000, minimum=1)
# Characters of one metadata value (a cell), and of one row (or line) of a metadata table.
MAX_METADATA_VALUE_SIZE = env_int("MAX_METADATA_VALUE_SIZE", 64 * 1024, minimum=1024)
MAX_METADATA_ROW_SIZE = env_int("MAX_METADATA_ROW_SIZE", 1024 * 1024, minimum=1024)
# A single sequence pasted or uploaded into the form (not the bulk FASTA).
SEQUENCE_FILE_MAX_SIZE = env_int("SEQUENCE_FILE_MAX_SIZE", 100 * 1024 * 1024, minimum=1)

OIDC_ISSUER = env_url("OIDC_ISSUER")  # default: {hosts.keycloak}/realms/loculus
OIDC_CLIENT_ID = env_str("OIDC_CLIENT_ID", "backend-client")
OIDC_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET")

# --- Content Security Policy ---------------------------------------------------------------------

# The browser uploads extra files straight to S3, so the S3 origins must be allowed to connect: these,
# and those the portal learns from the backend's upload URLs (submitportal/extra_file_uploads.py).
S3_ORIGINS = env_list("S3_ORIGINS", [])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],  # plus the S3 origins of pages with uploads (middleware)
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "submitportal.views.pages.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
