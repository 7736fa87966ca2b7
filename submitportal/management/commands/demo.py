"""`manage.py demo`: the local Loculus sandbox and the portal, wired together, in one command.

Migrates the database, starts the sandbox (python -m sandbox, its own program) and waits until it
listens, starts the portal under gunicorn, and prints the URL and the demo logins. Ports come from
the options or from DEMO_PORT and SANDBOX_*_PORT.

Ctrl-C (or SIGTERM, SIGHUP, SIGQUIT) stops everything, quietly, with exit status 0:
- Each child runs in a process group of its own, so the terminal's Ctrl-C never reaches it: only
  this command stops the children, in order, and a child that ends by itself is a real failure.
- Each group is stopped as a whole (gunicorn's workers with their master), the wait is bounded, and
  SIGKILL is the last resort; a group counts as gone when none of its processes is left.
- Under `make demo`, make is in the terminal's foreground process group with this command. GNU make
  ends with an error after any Ctrl-C it receives itself (even when its recipe ends well), so this
  command takes the terminal's foreground for a process group of its own while it runs, as a shell
  does for a job, and gives it back at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import requests
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

START_TIMEOUT_SECONDS = 60
KILL_TIMEOUT_SECONDS = 3  # after SIGKILL, for the kernel to take the processes away
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


class Stop(Exception):
    """Ctrl-C or another stop signal arrived."""


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    stop_signal: signal.Signals  # what makes this program stop at once
    stop_timeout: float  # how long it may take before its group gets SIGKILL


class _Deferred:
    """While a child is being started, a stop signal waits until the child is on the list."""

    active = False
    pending = False


def _stop_requested(signum: int, frame: FrameType | None) -> None:
    if _Deferred.active:
        _Deferred.pending = True
        return
    for number in STOP_SIGNALS:  # a second Ctrl-C does not interrupt the stopping
        signal.signal(number, signal.SIG_IGN)
    raise Stop


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
        self.children: list[Child] = []
        for number in STOP_SIGNALS:
            signal.signal(number, _stop_requested)
        stopped = False
        with _own_terminal_foreground():
            try:
                call_command("migrate", interactive=False, verbosity=0)
                sandbox = self._start_sandbox(origin, options["generation"])
                env = {
                    **os.environ,
                    "LOCULUS_URL": sandbox["website"],
                    "DEBUG": os.environ.get("DEBUG", "true"),
                    "ALLOWED_HOSTS": host,
                    "PYTHONUNBUFFERED": "1",
                }
                # S3_ORIGINS is left to the environment: the portal learns the sandbox's S3 origin.
                self._start_portal(host, port, env)
                self._banner(origin, sandbox)
                self._wait()
            except Stop:
                stopped = True
            finally:
                for number in STOP_SIGNALS:  # from here on, nothing interrupts the stopping
                    signal.signal(number, signal.SIG_IGN)
                if stopped:
                    self.stdout.write("\nStopping…")
                self._stop_children()
        if stopped:
            self.stdout.write("Stopped.")

    def _start(
        self, name: str, command: list[str], stop_signal: signal.Signals, stop_timeout: float, **kwargs: Any
    ) -> Child:
        # A process group of its own: the terminal's Ctrl-C goes to this command only.
        _Deferred.active = True
        try:
            process = subprocess.Popen(command, cwd=settings.BASE_DIR, process_group=0, **kwargs)
            child = Child(name, process, stop_signal, stop_timeout)
            self.children.append(child)
        finally:
            _Deferred.active = False
        if _Deferred.pending:
            _stop_requested(0, None)
        return child

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
        child = self._start("The sandbox", command, signal.SIGTERM, 8)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if child.process.poll() is not None:
                raise CommandError(
                    f"The sandbox stopped while starting (exit code {child.process.returncode}); "
                    "its messages are above."
                )
            if ready_file.exists() and ready_file.stat().st_size:
                return dict(json.loads(ready_file.read_text()))
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
        # SIGINT is gunicorn's quick shutdown: a demo does not wait for uploads under way. A worker in
        # the middle of reading a request still waits for its thread at exit (gthread), and gunicorn
        # would kill it after its graceful timeout (30 s) with an error line: the group gets SIGKILL
        # long before that.
        child = self._start("The portal", command, signal.SIGINT, 3, env=env)
        url = f"http://{host}:{port}/healthz"
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if child.process.poll() is not None:
                raise CommandError(
                    f"The portal stopped while starting (exit code {child.process.returncode}); its messages are above."
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
            for child in self.children:
                if child.process.poll() is not None:
                    code = child.process.returncode
                    raise CommandError(f"{child.name} stopped by itself (exit code {code}); its messages are above.")
            time.sleep(0.5)

    def _stop_children(self) -> None:
        """Stop every child's process group, the portal before the sandbox it talks to."""
        while self.children:
            _stop_group(self.children.pop())


def _stop_group(child: Child) -> None:
    group = child.process.pid  # the leader's pid (process_group=0)
    for sig, timeout in ((child.stop_signal, child.stop_timeout), (signal.SIGKILL, KILL_TIMEOUT_SECONDS)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            child.process.poll()  # reaps the leader, so it does not linger as a zombie
            if not _group_alive(group):
                return
            time.sleep(0.1)
    child.process.poll()


def _group_alive(group: int) -> bool:
    """Whether any process of the group is still running (a zombie waiting for its parent is not)."""
    proc = Path("/proc")
    if not proc.is_dir():  # e.g. macOS: ask the kernel, zombies included
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return False
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        state, pgrp = fields[0], int(fields[2])
        if pgrp == group and state != "Z":
            return True
    return False


@contextlib.contextmanager
def _own_terminal_foreground() -> Iterator[None]:
    """While the block runs, Ctrl-C on the terminal reaches this process's own group, not make's.

    Does nothing without a controlling terminal, or when this process is not in the terminal's
    foreground group (started in the background) or already leads its own group (started by a shell).
    """
    try:
        tty = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        yield
        return
    before = os.getpgrp()
    try:
        if os.tcgetpgrp(tty) != before or before == os.getpid():
            yield
            return
        # A background group may not change the terminal's foreground unless SIGTTOU is ignored;
        # Ctrl-Z would stop this process alone, while the shell waits for make: ignored too.
        signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        signal.signal(signal.SIGTSTP, signal.SIG_IGN)
        os.setpgid(0, 0)
        os.tcsetpgrp(tty, os.getpgrp())
        try:
            yield
        finally:
            with contextlib.suppress(OSError):  # make's group may be gone
                os.tcsetpgrp(tty, before)
    finally:
        os.close(tty)
