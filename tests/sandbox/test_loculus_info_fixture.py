"""The saved /loculus-info that view tests read instead of a running sandbox is what the sandbox serves.

If the sandbox's organisms change, save it again: `.venv/bin/python -m tests.sandbox.test_loculus_info_fixture`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sandbox.settings import RuntimeSettings
from sandbox.website import create_website_app

LOCULUS_INFO = Path(__file__).parents[1] / "fixtures" / "loculus-info.json"  # read by tests/conftest.py
# Hosts no test reaches: a view test that calls Loculus anyway finds it unreachable at once.
CLOSED = "http://127.0.0.1:9"


def served() -> dict[str, Any]:
    settings = RuntimeSettings(
        portal_origin="http://127.0.0.1:8000",
        website_url="http://loculus.test",
        backend_url=CLOSED,
        keycloak_url=CLOSED,
    )
    response = create_website_app(settings).test_client().get("/loculus-info")
    assert response.status_code == 200
    body: dict[str, Any] = response.get_json()
    return body


def test_the_saved_loculus_info_is_what_the_sandbox_serves() -> None:
    assert json.loads(LOCULUS_INFO.read_text()) == served(), f"{LOCULUS_INFO} is out of date: {__doc__}"


if __name__ == "__main__":
    LOCULUS_INFO.write_text(json.dumps(served(), indent=1, ensure_ascii=False) + "\n")
