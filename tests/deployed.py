"""The portal as it is deployed: gunicorn (gthread, several threads, 2 workers), DEBUG off, on the test database.

Tests that must see what concurrent requests do use this instead of Django's live server (one
process, the test's own database connection). The gunicorn processes share the test database
(SQLite file or PostgreSQL) with the test, so a test can create users and sessions and read what
the requests left behind.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import requests

from tests.signin_helpers import sign_in

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def database_url() -> str:
    """DATABASE_URL of the test database the test process itself uses."""
    from django.db import connection

    conf = connection.settings_dict
    if conf["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(conf['NAME']).resolve()}"
    user = quote(conf["USER"] or "", safe="")
    password = quote(conf["PASSWORD"] or "", safe="")
    return f"postgres://{user}:{password}@{conf['HOST'] or '127.0.0.1'}:{conf['PORT'] or 5432}/{conf['NAME']}"


@dataclass
class Deployed:
    url: str
    log: Path
    process: subprocess.Popen[bytes]

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def gunicorn_portal(
    folder: Path,
    env: dict[str, str],
    *,
    workers: int = 2,
    threads: int = 8,
    settings: str = "submitportal.settings",
    port: int | None = None,
) -> Iterator[Deployed]:
    """Run the portal under gunicorn with `env` added to the test's environment; stop it afterwards."""
    port = port or free_port()
    (folder / "tmp").mkdir(parents=True, exist_ok=True)
    full_env = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_LIVE", "PYTEST"))},
        "DJANGO_SETTINGS_MODULE": settings,
        "DEBUG": "false",
        "INSECURE_COOKIES": "true",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(folder / "uploads"),
        "FILE_UPLOAD_TEMP_DIR": str(folder / "tmp"),
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    # With DEBUG off, static files come from whitenoise's manifest: collect them as a deployment does.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT, env=full_env, check=True, timeout=120,
    )  # fmt: skip
    log = folder / "gunicorn.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "submitportal.wsgi", "--bind", f"127.0.0.1:{port}",
             "--worker-class", "gthread", "--workers", str(workers), "--threads", str(threads),
             # Not the shared default path ~/.gunicorn/gunicorn.ctl, which parallel runs would fight over.
             "--timeout", "120", "--no-control-socket"],
            cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    deployed = Deployed(f"http://127.0.0.1:{port}", log, process)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                if requests.get(f"{deployed.url}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"gunicorn did not start:\n{deployed.log_text()[-4000:]}")
            time.sleep(0.2)
        yield deployed
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def signed_in_session(portal_url: str, username: str) -> requests.Session:
    """A requests session signed in to the deployed portal through the sandbox's login form, with the
    CSRF header the page's script sends."""
    session = sign_in(portal_url, username)
    session.get(f"{portal_url}/drafts/", timeout=30)  # sets the CSRF cookie
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
    return session
