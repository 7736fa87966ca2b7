"""A smoke test of `make demo`: it starts the sandbox and the portal, serves the home page, and stops."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

from tests.testenv import free_port

ROOT = Path(__file__).resolve().parent.parent


def port_is_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_make_demo_serves_the_home_page_and_stops_cleanly(tmp_path: Path) -> None:
    ports = {
        name: free_port()
        for name in (
            "DEMO_PORT",
            "SANDBOX_WEBSITE_PORT",
            "SANDBOX_BACKEND_PORT",
            "SANDBOX_KEYCLOAK_PORT",
            "SANDBOX_S3_PORT",
        )
    }
    env = {
        **os.environ,
        **{name: str(port) for name, port in ports.items()},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "PYTHONUNBUFFERED": "1",
    }
    for variable in ("LOCULUS_URL", "DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE"):
        env.pop(variable, None)
    log_path = tmp_path / "demo.log"
    with log_path.open("wb") as log:
        demo = subprocess.Popen(
            ["make", "demo"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{ports['DEMO_PORT']}/"
    try:
        deadline = time.monotonic() + 180
        while "The portal is running at" not in log_path.read_text(errors="replace"):
            assert demo.poll() is None, f"make demo stopped early:\n{log_path.read_text()}"
            assert time.monotonic() < deadline, f"make demo did not start in time:\n{log_path.read_text()}"
            time.sleep(0.5)
        output = log_path.read_text()
        assert f"The portal is running at {url}" in output
        assert "testuser / testuser" in output
        home = requests.get(url, timeout=30)
        assert home.status_code == 200
        assert "Ebola Sudan" in home.text
        assert "Crimean-Congo Hemorrhagic Fever Virus" in home.text
        assert requests.get(f"{url}static/css/portal.css", timeout=10).status_code == 200
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        try:
            demo.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait(timeout=10)
            raise
    deadline = time.monotonic() + 20
    while any(port_is_open(port) for port in ports.values()) and time.monotonic() < deadline:
        time.sleep(0.5)
    still_open = [name for name, port in ports.items() if port_is_open(port)]
    assert still_open == [], f"still listening after make demo stopped: {still_open}"
