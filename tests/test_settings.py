"""Settings come from the environment; bad values stop start-up with a message naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from submitportal import settings as portal_settings

ROOT = Path(__file__).resolve().parent.parent


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    """Import the settings module in a fresh interpreter with exactly these variables set."""
    clean = {k: v for k, v in os.environ.items() if k not in _PORTAL_VARIABLES}
    clean.update(env)
    code = (
        "import django\n"
        "from django.conf import settings\n"
        "django.setup()\n"
        "print(settings.DATABASES['default']['ENGINE'], settings.DATABASES['default']['NAME'])\n"
        "print(settings.LOCULUS_FILES_PROTOCOL, settings.LOCULUS_DATA_USE_TERMS, settings.OIDC_CLIENT_ID)\n"
        "print(settings.SESSION_ENGINE)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "DJANGO_SETTINGS_MODULE": "submitportal.settings"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


_PORTAL_VARIABLES = {
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DATABASE_URL",
    "LOCULUS_URL",
    "LOCULUS_BACKEND_URL",
    "LOCULUS_FILES_PROTOCOL",
    "LOCULUS_DATA_USE_TERMS",
    "OIDC_ISSUER",
    "OIDC_CLIENT_ID",
    "OIDC_CLIENT_SECRET",
    "S3_ORIGINS",
    "DRAFT_STORAGE",
    "INSECURE_COOKIES",
    "LOG_LEVEL",
    "MAX_METADATA_ROWS",
    "MAX_METADATA_VALUE_SIZE",
}


def test_the_defaults_give_a_sqlite_file_in_the_project_and_database_sessions() -> None:
    result = load_settings(SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    engine_line, loculus_line, session_line = result.stdout.splitlines()
    assert engine_line == f"django.db.backends.sqlite3 {ROOT / 'db.sqlite3'}"
    assert loculus_line == "auto True backend-client"
    assert session_line == "django.contrib.sessions.backends.db"


def test_it_reads_a_postgres_database_url() -> None:
    assert portal_settings.database_from_url("postgres://portal:s%40cret@db.example.org:5433/submitportal") == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "submitportal",
        "USER": "portal",
        "PASSWORD": "s@cret",
        "HOST": "db.example.org",
        "PORT": "5433",
        "CONN_MAX_AGE": 60,
    }


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "false"}, "SECRET_KEY is not set"),
        ({"DEBUG": "maybe", "SECRET_KEY": "k"}, "DEBUG='maybe' is not a yes/no value"),
        (
            {"SECRET_KEY": "k", "LOCULUS_FILES_PROTOCOL": "json"},
            "LOCULUS_FILES_PROTOCOL='json' is not one of the allowed values: auto, fileMapping, metadataColumns",
        ),
        (
            {"SECRET_KEY": "k", "LOCULUS_DATA_USE_TERMS": "sometimes"},
            "LOCULUS_DATA_USE_TERMS='sometimes' is not a yes/no value",
        ),
        (
            {"SECRET_KEY": "k", "LOCULUS_URL": "pathoplexus.org"},
            "LOCULUS_URL='pathoplexus.org' is not an http:// or https:// URL",
        ),
        (
            {"SECRET_KEY": "k", "DATABASE_URL": "mysql://db/portal"},
            "only sqlite:/// and postgres:// URLs are supported",
        ),
        ({"SECRET_KEY": "k", "LOCULUS_READ_TIMEOUT": "soon"}, "LOCULUS_READ_TIMEOUT='soon' is not a whole number"),
        ({"SECRET_KEY": "k", "MAX_METADATA_ROWS": "0"}, "MAX_METADATA_ROWS=0 must be at least 1"),
        ({"SECRET_KEY": "k", "MAX_METADATA_VALUE_SIZE": "10"}, "MAX_METADATA_VALUE_SIZE=10 must be at least 1024"),
        (
            {"SECRET_KEY": "k", "LOG_LEVEL": "loud"},
            "LOG_LEVEL='LOUD' is not one of the allowed values: DEBUG, INFO, WARNING, ERROR, CRITICAL",
        ),
    ],
)
def test_it_refuses_to_start_with_a_bad_value_and_names_the_variable(env: dict[str, str], message: str) -> None:
    result = load_settings(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_debug_accepts_the_usual_spellings(monkeypatch: pytest.MonkeyPatch) -> None:
    for raw, expected in [("1", True), ("yes", True), ("ON", True), ("0", False), ("False", False), ("", False)]:
        monkeypatch.setenv("SOME_FLAG", raw)
        assert portal_settings.env_bool("SOME_FLAG", False) is expected


def test_a_sqlite_url_without_a_file_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="names no SQLite file"):
        portal_settings.database_from_url("sqlite:///")


def test_urls_lose_their_trailing_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCULUS_URL", "https://pathoplexus.org/")
    assert portal_settings.env_url("LOCULUS_URL") == "https://pathoplexus.org"


@pytest.mark.django_db
def test_the_cache_is_shared_through_the_database() -> None:
    from django.core.cache import caches
    from django.core.cache.backends.db import DatabaseCache

    shared = DatabaseCache("submitportal_cache", {})
    shared.set("loculus-info:test", {"title": "x"}, 60)
    assert shared.get("loculus-info:test") == {"title": "x"}
    assert portal_settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert caches  # the cache table was created by the migrations, no extra command


def test_check_deploy_is_clean_with_the_documented_production_settings() -> None:
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in _PORTAL_VARIABLES and k not in ("INSECURE_COOKIES", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")
        },
        "DJANGO_SETTINGS_MODULE": "submitportal.settings",
        "SECRET_KEY": "a-long-random-secret-key-for-this-test-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "submit.example.org",
        "CSRF_TRUSTED_ORIGINS": "https://submit.example.org",
        "SECURE_SSL_REDIRECT": "true",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
        "SECURE_HSTS_PRELOAD": "true",
        "BEHIND_TLS_PROXY": "true",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
