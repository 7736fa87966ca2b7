"""The portal as production runs it (gunicorn gthread, DEBUG off, collected static files) logs an error once.

gunicorn serves the real portal with tests/error_settings.py (its settings, serving
tests/error_urls.py: the portal's URLs plus a view that fails), on a fresh SQLite database. The test
forces the error over HTTP as a signed-in user and reads what gunicorn's stderr captured.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.deployed import gunicorn_portal
from tests.error_urls import FAILURE_MESSAGE

ROOT = Path(__file__).resolve().parent.parent
RECORD_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ ", re.MULTILINE)

# Variables of the developer's environment that would change the portal under test.
_OURS = ("DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY", "DATABASE_URL", "LOCULUS_URL", "LOCULUS_BACKEND_URL",
         "OIDC_ISSUER", "LOG_LEVEL", "DRAFT_STORAGE", "MEDIA_ROOT", "FILE_UPLOAD_TEMP_DIR", "ALLOWED_HOSTS",
         "DJANGO_ALLOW_ASYNC_UNSAFE")  # fmt: skip

_SIGN_IN = """
import django
django.setup()
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
user = get_user_model().objects.create(username="carol.lab")
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(session.session_key)
"""


@dataclass
class Portal:
    url: str
    stderr: Path
    session_key: str


def run(command: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    folder = tmp_path_factory.mktemp("gunicorn-errors")
    ours = {
        "DJANGO_SETTINGS_MODULE": "tests.error_settings",
        "SECRET_KEY": "a-secret-key-for-the-gunicorn-error-test-0123456789abcdef",
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "TEST_STATIC_ROOT": str(folder / "static"),
    }
    env = {
        **{name: value for name, value in os.environ.items() if name not in _OURS},
        "PYTHONPATH": str(ROOT),
        "DEBUG": "false",
        "INSECURE_COOKIES": "true",
        **ours,
    }
    run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], env)
    session_key = run([sys.executable, "-c", _SIGN_IN], env).strip()
    with gunicorn_portal(folder, ours, workers=1, threads=4, settings="tests.error_settings") as running:
        yield Portal(running.url, running.log, session_key)


def records_since(portal: Portal, offset: int) -> list[str]:
    """The portal's log records written to stderr after `offset` (gunicorn's own lines left out)."""
    text = portal.stderr.read_text()[offset:]
    starts = [match.start() for match in RECORD_START.finditer(text)]
    return [text[start:end] for start, end in zip(starts, [*starts[1:], len(text)], strict=True)]


def test_an_error_is_logged_once_with_the_reference_the_page_shows(portal: Portal) -> None:
    offset = len(portal.stderr.read_text())
    # Django writes the record before it answers, so it is in the file once the answer is here.
    response = requests.get(
        f"{portal.url}/test-errors/fails?code=sign-in-secret",
        cookies={"sessionid": portal.session_key},
        timeout=30,
    )
    assert response.status_code == 500
    reference = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{12}", reference)
    assert f'<code class="reference">{reference}</code>' in response.text
    # The layout, with its static files from the manifest.
    assert re.search(r'<link rel="stylesheet" href="/static/css/portal\.[0-9a-f]{12}\.css">', response.text)

    (record,) = records_since(portal, offset)
    assert record.splitlines()[0].endswith(
        f" ERROR django.request request={reference}: Internal Server Error: /test-errors/fails"
        " (method=GET path=/test-errors/fails status=500 user=carol.lab)"
    )
    assert "Traceback (most recent call last):" in record
    assert record.rstrip().endswith(f"RuntimeError: {FAILURE_MESSAGE}")
    log = portal.stderr.read_text()
    assert log.count(FAILURE_MESSAGE) == 1
    assert "Error handling request" not in log  # gunicorn never saw the exception
    for secret in ("sign-in-secret", portal.session_key):
        assert secret not in log


def test_a_5xx_answer_without_an_exception_leaves_one_line(portal: Portal) -> None:
    offset = len(portal.stderr.read_text())
    response = requests.get(f"{portal.url}/test-errors/unavailable", headers={"X-Request-ID": "lb-7f3a"}, timeout=30)
    assert response.status_code == 503
    assert response.headers["X-Request-ID"] == "lb-7f3a"
    (record,) = records_since(portal, offset)
    assert record.rstrip().endswith(
        " ERROR django.request request=lb-7f3a: Service Unavailable: /test-errors/unavailable"
        " (method=GET path=/test-errors/unavailable status=503 user=anonymous)"
    )


def test_the_scripts_modules_import_each_other_by_their_hashed_names(portal: Portal) -> None:
    """Each deployed script is cached for long under its hashed name: so must be every module it imports."""
    manifest = requests.get(f"{portal.url}/static/staticfiles.json", timeout=30)
    assert manifest.status_code == 200
    paths = manifest.json()["paths"]
    for script in ("js/bulk_files.js", "js/extra_file_uploads.js"):
        served = requests.get(f"{portal.url}/static/{paths[script]}", timeout=30)
        assert served.status_code == 200
        imports = [line for line in served.text.splitlines() if line.startswith("import ")]
        assert len(imports) == 2, f"{script}: {imports}"
        for line in imports:
            assert re.search(r'from "\./[a-z_]+\.[0-9a-f]{12}\.js";$', line), line
