"""`manage.py demo`: the local Loculus sandbox and the portal, wired together, in one command.

Starts the sandbox (python -m sandbox, its own program) and waits until it listens, migrates
the database, starts the portal under gunicorn, and prints the URL and the demo logins. Ctrl-C
(or SIGTERM) stops both. Ports come from the options or from DEMO_PORT and SANDBOX_*_PORT.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

START_TIMEOUT_SECONDS = 60


class Command(BaseCommand):
    help = "Run the portal against the local Loculus sandbox (demo users and organisms)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=int(os.environ.get("DEMO_PORT", "8000")))
        parser.add_argument(
            "--generation", choices=("current", "legacy"), default=os.environ.get("SANDBOX_GENERATION", "current")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = options["host"], options["port"]
        origin = f"http://{host}:{port}"
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        signal.signal(signal.SIGTERM, self._stop_on_signal)
        try:
            sandbox = self._start_sandbox(origin, options["generation"])
            env = {
                **os.environ,
                "LOCULUS_URL": sandbox["website"],
                "S3_ORIGINS": sandbox["s3"],
                "DEBUG": os.environ.get("DEBUG", "true"),
                "ALLOWED_HOSTS": host,
                "PYTHONUNBUFFERED": "1",
            }
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
                env=env,
                check=True,
                cwd=settings.BASE_DIR,
            )
            self._start_portal(host, port, env)
            self._banner(origin, sandbox)
            self._wait()
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            self._stop_children()

    def _stop_on_signal(self, signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    def _start_sandbox(self, origin: str, generation: str) -> dict[str, str]:
        ready_file = Path(tempfile.mkdtemp(prefix="submitportal-demo-")) / "sandbox.json"
        command = [
            sys.executable,
            "-m",
            "sandbox",
            "--portal-origin",
            origin,
            "--generation",
            generation,
            "--ready-file",
            str(ready_file),
        ]
        self.stdout.write(f"Starting the Loculus sandbox ({generation} generation)…")
        process = subprocess.Popen(command, cwd=settings.BASE_DIR)
        self.children.append(("The sandbox", process))
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise CommandError(
                    f"The sandbox stopped while starting (exit code {process.returncode}); its messages are above."
                )
            if ready_file.exists() and ready_file.stat().st_size:
                return json.loads(ready_file.read_text())
            time.sleep(0.2)
        raise CommandError(f"The sandbox did not become ready within {START_TIMEOUT_SECONDS} s.")

    def _start_portal(self, host: str, port: int, env: dict[str, str]) -> None:
        command = [
            sys.executable, "-m", "gunicorn", "submitportal.wsgi",
            "--bind", f"{host}:{port}",
            "--worker-class", "gthread", "--workers", "2", "--threads", "8",
            "--timeout", "3600", "--access-logfile", "-",
        ]  # fmt: skip
        self.stdout.write("Starting the portal…")
        process = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)
        self.children.append(("The portal", process))
        url = f"http://{host}:{port}/healthz"
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise CommandError(
                    f"The portal stopped while starting (exit code {process.returncode}); its messages are above."
                )
            try:
                if requests.get(url, timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise CommandError(f"The portal did not answer at {url} within {START_TIMEOUT_SECONDS} s.")

    def _banner(self, origin: str, sandbox: dict[str, str]) -> None:
        lines = [
            "",
            f"The portal is running at {origin}/",
            "",
            "Demo logins (user / password):",
            "  testuser / testuser     member of two submitting groups",
            "  newuser / newuser       member of no group",
            "  superuser / superuser   Loculus superuser",
            "",
            f"Loculus sandbox: website {sandbox['website']}, backend {sandbox['backend']}, "
            f"Keycloak {sandbox['keycloak']}, S3 {sandbox['s3']}",
            "Press Ctrl-C to stop.",
            "",
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()

    def _wait(self) -> None:
        while True:
            for name, process in self.children:
                if process.poll() is not None:
                    raise CommandError(f"{name} stopped (exit code {process.returncode}); its messages are above.")
            time.sleep(0.5)

    def _stop_children(self) -> None:
        for _, process in reversed(self.children):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for _, process in self.children:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
