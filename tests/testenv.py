"""Environment for the test run, loaded with `-p tests.testenv` before Django reads its settings.

pytest-django imports the settings module before any conftest.py runs, so the variables the
settings need must be in place earlier than that. Values already set in the environment win.
"""

from __future__ import annotations

import os
import socket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("DEBUG", "false")
# The test servers speak plain HTTP: the documented switch that lets cookies travel without TLS.
os.environ.setdefault("INSECURE_COOKIES", "true")
# Playwright's sync API runs an event loop in the test thread; Django's ORM must still be usable there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# One host name everywhere (the portal, the sandbox's S3 CORS and its OIDC redirect URIs): 127.0.0.1.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", f"127.0.0.1:{free_port()}")
