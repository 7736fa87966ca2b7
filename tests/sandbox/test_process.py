"""``python -m sandbox`` as a process: the ready line, environment options, clean stop, failed start."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from sandbox.launcher import REPO_ROOT, SandboxStartError, start_sandbox
from tests.sandbox.conftest import PORTAL_ORIGIN


def test_it_prints_the_ready_line_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "SANDBOX_GENERATION": "legacy", "SANDBOX_PORTAL_ORIGIN": PORTAL_ORIGIN}
    for name in ("WEBSITE", "BACKEND", "KEYCLOAK", "S3"):
        env[f"SANDBOX_{name}_PORT"] = "0"
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--state-dir", str(tmp_path)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("SANDBOX READY ")
        ready = json.loads(line.removeprefix("SANDBOX READY "))
        assert set(ready) >= {"website", "backend", "keycloak", "s3", "issuer", "portal_origin"}
        assert ready["issuer"] == f"{ready['keycloak']}/realms/loculus"
        assert ready["portal_origin"] == PORTAL_ORIGIN
        spec = requests.get(f"{ready['backend']}/api-docs", timeout=10).json()
        assert "fileMapping" in json.dumps(spec["paths"]["/{organism}/submit"])
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert time.monotonic() - started < 5
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_a_failed_start_reports_the_stderr_tail() -> None:
    with pytest.raises(SandboxStartError, match="loopback only"):
        start_sandbox(PORTAL_ORIGIN, extra_args=["--host", "0.0.0.0"])  # noqa: S104


def test_extra_users_can_sign_in_and_create_their_own_group() -> None:
    running = start_sandbox(PORTAL_ORIGIN, extra_args=["--extra-users", "2"])
    try:
        token = running.access_token("loaduser002")
        address = {"line1": "1 Road", "line2": "", "city": "Town", "state": "", "postalCode": "1", "country": "Kenya"}
        body = {"groupName": "Load Lab 2", "institution": "Load Lab", "address": address, "contactEmail": "l@x.org"}
        headers = {"Authorization": f"Bearer {token}"}
        assert requests.get(f"{running.backend}/user/groups", headers=headers, timeout=10).json() == []
        created = requests.post(f"{running.backend}/groups", json=body, headers=headers, timeout=10)
        assert created.status_code == 200, created.text
        groups = requests.get(f"{running.backend}/user/groups", headers=headers, timeout=10).json()
        assert [group["groupName"] for group in groups] == ["Load Lab 2"]
        with pytest.raises(requests.HTTPError):
            running.access_token("loaduser003")  # only as many as asked for
    finally:
        running.stop()


def test_without_the_option_there_are_no_extra_users() -> None:
    running = start_sandbox(PORTAL_ORIGIN)
    try:
        with pytest.raises(requests.HTTPError):
            running.access_token("loaduser001")
    finally:
        running.stop()


def test_the_processing_delay_can_be_set_at_start_and_reset_keeps_it() -> None:
    running = start_sandbox(PORTAL_ORIGIN, extra_args=["--processing-delay", "0"])
    try:
        assert running.admin("GET", "config")["processing_delay_seconds"] == 0.0
        running.configure(processing_delay_seconds=9)
        running.reset()
        assert running.admin("GET", "config")["processing_delay_seconds"] == 0.0
    finally:
        running.stop()
