"""Shared pieces of the benchmarks: real servers as subprocesses, sign-in, RSS sampling, medians.

Everything binds to 127.0.0.1, every wait has a timeout, and every process started here is
stopped (its whole process group) when the `with` block ends, however it ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.launcher import RunningSandbox, start_sandbox  # noqa: E402
from tests.signin_helpers import sign_in  # noqa: E402

PYTHON = sys.executable
START_TIMEOUT = 60.0
HTTP_TIMEOUT = 60.0
BENCH_TMP = Path(os.environ.get("BENCH_TMP", tempfile.gettempdir()))


def log(message: str) -> None:
    """Progress on stderr, flushed: a 20-minute run should show where it is."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def stop_on_signals() -> None:
    """SIGTERM and SIGINT raise KeyboardInterrupt, so every `finally` stops its servers.

    A job started in the background by a non-interactive shell has SIGINT ignored, and SIGTERM
    would end Python without running `finally`: both are set explicitly.
    """

    def interrupt(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(url: str, process: subprocess.Popen[bytes], timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {process.returncode} while starting")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def stop_group(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM the process group we created (start_new_session), then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


# --- The sandbox ------------------------------------------------------------------------------------


@contextlib.contextmanager
def sandbox(
    portal_origin: str,
    *,
    s3_proxy: bool = False,
    s3: str = "moto",
    tmpdir: Path | None = None,
    extra_users: int = 0,
) -> Iterator[RunningSandbox]:
    """The sandbox; `tmpdir` becomes its TMPDIR (where moto spools every object over 5 MiB).

    `extra_users`: accounts loaduser001 … besides the demo users (sandbox/README.md)."""
    extra = ["--s3-proxy"] if s3_proxy else []
    if extra_users:
        extra += ["--extra-users", str(extra_users)]
    env = {"TMPDIR": str(tmpdir)} if tmpdir is not None else None
    running = start_sandbox(portal_origin, s3=s3, extra_args=extra, timeout=START_TIMEOUT, env=env)
    try:
        yield running
    finally:
        running.stop()


def clear_s3(sb: RunningSandbox) -> None:
    """The S3 server keeps its objects across /_sandbox/reset (moto in memory): delete them between runs."""
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=sb.s3_direct,
        aws_access_key_id="test",
        aws_secret_access_key="test",  # noqa: S106 - the sandbox's dummy credentials (moto and ministack)
        region_name="us-east-1",
    )
    bucket = "loculus-sandbox-private"
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        for start in range(0, len(keys), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys[start : start + 1000]})
    for upload in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])


# --- The portal under gunicorn -----------------------------------------------------------------------


@dataclass
class Portal:
    process: subprocess.Popen[bytes]
    url: str
    folder: Path
    log_path: Path
    database: str  # "sqlite" or "postgresql"
    database_url: str
    access_log: Path | None = None
    samplers: list[RssSampler] = field(default_factory=list)

    def worker_pids(self) -> list[int]:
        return children_of(self.process.pid)


def children_of(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(part) for part in text.split()]


# --- PostgreSQL -----------------------------------------------------------------------------------------

DEFAULT_DATABASE_URL = "postgres://portal:portal@127.0.0.1:5432/submitportal_bench"


class NoDatabaseServer(RuntimeError):
    """No PostgreSQL server answers at the given URL (or it refuses the role): the message says what to do."""


def database_url_default() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL


def _server_connection(url: str) -> Any:
    """An autocommit connection to the server's maintenance database, as the URL's role."""
    import psycopg

    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql") or not parts.path.strip("/"):
        raise NoDatabaseServer(f"{url!r} is not a postgres://user:password@host:port/name URL.")
    where = f"{parts.hostname or '127.0.0.1'}:{parts.port or 5432}"
    try:
        return psycopg.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            dbname="postgres",
            connect_timeout=5,
            autocommit=True,
        )
    except psycopg.OperationalError as error:
        detail = " ".join(str(error).split())
        raise NoDatabaseServer(
            f"No PostgreSQL server accepted the connection at {where} as {parts.username!r} ({detail}).\n"
            "This benchmark runs the portal on PostgreSQL, as it is deployed. Start a server, e.g. on Debian\n"
            "  sudo pg_ctlcluster 15 main start        (or: sudo service postgresql start)\n"
            "and give it a role that may create databases:\n"
            "  sudo -u postgres psql -c \"CREATE ROLE portal LOGIN CREATEDB PASSWORD 'portal'\"\n"
            "or point --database-url (or BENCH_DATABASE_URL) at a server you have; the benchmark creates its own\n"
            "database there and drops it afterwards. To measure on SQLite instead, pass --database sqlite."
        ) from None


def check_database_server(url: str) -> None:
    """Raise NoDatabaseServer unless the server answers and the role may create databases."""
    with _server_connection(url) as connection:
        may_create = connection.execute("SELECT rolcreatedb FROM pg_roles WHERE rolname = current_user").fetchone()
    if not may_create or not may_create[0]:
        raise NoDatabaseServer(
            f"The role in {redacted(url)} may not create databases. Give it the right "
            "(sudo -u postgres psql -c 'ALTER ROLE <role> CREATEDB') or use another --database-url."
        )


def redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


@contextlib.contextmanager
def fresh_postgres_database(url: str) -> Iterator[str]:
    """A new, empty database on the server of `url` (named after the URL's, with a unique suffix); dropped after.

    Yields its URL. The suffix keeps two runs, or a database left by a killed run, from colliding.
    """
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = f"{unquote(parts.path.strip('/'))}_{secrets.token_hex(4)}"
    with _server_connection(url) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        try:
            with _server_connection(url) as connection:
                # FORCE: a connection the portal left (CONN_MAX_AGE) must not keep the database alive.
                connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        except (NoDatabaseServer, psycopg.Error) as error:
            log(f"could not drop the benchmark database {name}: {error}")


# --- The portal under gunicorn -----------------------------------------------------------------------


@contextlib.contextmanager
def portal(
    sb: RunningSandbox,
    port: int,
    *,
    workers: int = 1,
    threads: int = 8,
    postgres: str | None = None,
    access_log: bool = False,
    log_level: str = "WARNING",
) -> Iterator[Portal]:
    """The portal under gunicorn (gthread) as it is deployed: `DEBUG` off, static files collected and
    served by whitenoise, by default one worker so its RSS is one process's.

    Its uploads and temporary files live in a fresh folder, removed afterwards. The database is a
    fresh SQLite file there, or with `postgres` (a server URL) a fresh PostgreSQL database on that
    server, dropped afterwards. `access_log`: every request with its duration in microseconds, in
    `Portal.access_log`. Every 500 leaves its traceback in gunicorn's log (the portal's LOGGING);
    `log_level="INFO"` adds a line for every backend call ("backend GET … -> 200 in 12 ms").
    """
    folder = Path(tempfile.mkdtemp(prefix="bench-portal-", dir=BENCH_TMP))
    try:
        with contextlib.ExitStack() as stack:
            database_url = f"sqlite:///{folder / 'db.sqlite3'}"
            if postgres:
                database_url = stack.enter_context(fresh_postgres_database(postgres))
            yield stack.enter_context(
                _gunicorn(sb, port, folder, database_url, workers, threads, access_log, log_level)
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def _gunicorn(
    sb: RunningSandbox,
    port: int,
    folder: Path,
    database_url: str,
    workers: int,
    threads: int,
    access_log: bool,
    log_level: str,
) -> Iterator[Portal]:
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("SANDBOX_", "DJANGO_"))},
        "LOCULUS_URL": sb.website,
        "S3_ORIGINS": sb.s3,
        # As in production: DEBUG off, so a secret key, and cookies allowed over plain HTTP on loopback.
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "INSECURE_COOKIES": "true",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(folder / "uploads"),
        "FILE_UPLOAD_TEMP_DIR": str(folder / "tmp"),
        "LOG_LEVEL": log_level,
        "PYTHONUNBUFFERED": "1",
    }
    (folder / "tmp").mkdir(exist_ok=True)
    manage = [PYTHON, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, cwd=ROOT, check=True, timeout=300)
    # With DEBUG off whitenoise serves the collected files by their hashed names (manifest storage).
    subprocess.run([*manage, "collectstatic", "--noinput", "-v", "0"], env=env, cwd=ROOT, check=True, timeout=300)
    log_path = folder / "gunicorn.log"
    command = [
        PYTHON, "-m", "gunicorn", "submitportal.wsgi",
        "--bind", f"127.0.0.1:{port}",
        "--worker-class", "gthread", "--workers", str(workers), "--threads", str(threads),
        "--timeout", "3600",
    ]  # fmt: skip
    access_path = None
    if access_log or os.environ.get("BENCH_ACCESS_LOG"):
        # Every request with its duration in microseconds (%(D)s).
        access_path = folder / "access.log"
        command += ["--access-logfile", str(access_path), "--access-logformat", "%(m)s %(U)s %(s)s %(D)s"]
    with open(log_path, "wb") as output:
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    database = "postgresql" if database_url.startswith("postgres") else "sqlite"
    running = Portal(process, f"http://127.0.0.1:{port}", folder, log_path, database, database_url, access_path)
    try:
        wait_for_http(f"{running.url}/healthz", process)
        yield running
    finally:
        stop_group(process)


# --- Peak RSS of a process ---------------------------------------------------------------------------


def status_kib(pid: int, key: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (its threads included); 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RssSampler:
    """Samples VmRSS of some processes every 20 ms (and reads VmHWM at the end): the peak during a step.

    VmHWM alone would be the peak since the process started; the samples give the peak of the
    measured step only.
    """

    def __init__(self, pids: Sequence[int], interval: float = 0.02) -> None:
        self.pids = list(pids)
        self.interval = interval
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            total = sum(status_kib(pid, "VmRSS") or 0 for pid in self.pids)
            self.peak_kib = max(self.peak_kib, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    @property
    def peak_mb(self) -> float:
        return self.peak_kib / 1024

    def hwm_mb(self) -> float:
        return max((status_kib(pid, "VmHWM") or 0) for pid in self.pids) / 1024


# --- Signing in ----------------------------------------------------------------------------------------


def signed_in_session(portal_url: str, username: str = "testuser") -> requests.Session:
    """A requests session signed in through the sandbox's login form (code flow with PKCE)."""
    return sign_in(portal_url, username)


def csrf_token(session: requests.Session, page_html: str) -> str:
    match = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page_html) or re.search(
        r'"X-CSRFToken":\s*"([^"]+)"', page_html
    )
    if match:
        return match.group(1)
    token = session.cookies.get("csrftoken")
    if not token:
        raise RuntimeError("no CSRF token on the page or in the cookies")
    return str(token)


def machine() -> dict[str, Any]:
    """What this machine is, for the benchmark document."""

    def run(*command: str) -> str:
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=20, check=False).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return "(unavailable)"

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "(unknown)",
    )
    return {
        "nproc": run("nproc"),
        "cpu": cpu,
        "free": run("free", "-h"),
        "disk": run("df", "-h", str(BENCH_TMP)),
        "python": sys.version.split()[0],
        "chromium": run("/usr/bin/chromium", "--version"),
        "curl": run("curl", "--version").splitlines()[0] if shutil.which("curl") else "(none)",
        "loadavg": Path("/proc/loadavg").read_text().strip(),
    }


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
