"""Start the sandbox as a subprocess from tests or scripts (no Django here).

with start_sandbox("http://127.0.0.1:8000") as sandbox:
    token = sandbox.password_token("testuser", "testuser")["access_token"]
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
HTTP_TIMEOUT = 30.0


class SandboxStartError(RuntimeError):
    pass


@dataclass
class RunningSandbox:
    process: subprocess.Popen[bytes]
    website: str
    backend: str
    keycloak: str
    s3: str
    s3_direct: str
    issuer: str
    portal_origin: str
    state_dir: Path
    stderr_path: Path
    owns_state_dir: bool = False
    http: requests.Session = field(default_factory=requests.Session)

    # --- OIDC -----------------------------------------------------------------------------

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/token"

    def password_token(self, username: str, password: str, client_id: str = "backend-client") -> dict[str, Any]:
        """Tokens by the password grant, as the Loculus CLI gets them."""
        response = self.http.post(
            self.token_endpoint,
            data={"grant_type": "password", "client_id": client_id, "username": username, "password": password},
            timeout=HTTP_TIMEOUT,
        )
        response.raise_for_status()
        return dict(response.json())

    def access_token(self, username: str = "testuser") -> str:
        return str(self.password_token(username, username)["access_token"])

    def mint_token(
        self,
        *,
        username: str = "testuser",
        claims: dict[str, Any] | None = None,
        omit: Sequence[str] = (),
        lifetime: int = 300,
    ) -> str:
        """A realm-signed access token with chosen claims (sandbox only), e.g. expired or without a claim."""
        response = self.http.post(
            f"{self.keycloak}/_sandbox/token",
            json={"username": username, "claims": claims or {}, "omit": list(omit), "lifetime": lifetime},
            timeout=HTTP_TIMEOUT,
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    # --- admin API ------------------------------------------------------------------------

    def admin(self, method: str, path: str, json_body: Any = None) -> Any:
        """Call the sandbox-only admin API under ``{backend}/_sandbox/``."""
        response = self.http.request(
            method, f"{self.backend}/_sandbox/{path.lstrip('/')}", json=json_body, timeout=HTTP_TIMEOUT
        )
        response.raise_for_status()
        return response.json()

    def submissions(self) -> list[dict[str, Any]]:
        return list(self.admin("GET", "submissions"))

    def reset(self) -> None:
        """Forget submissions and files, clear faults, and restore the start-up settings."""
        self.admin("POST", "reset")

    def configure(self, **settings: Any) -> dict[str, Any]:
        """E.g. ``configure(generation="legacy", url_expiry_seconds=5, token_lifetime=2)``."""
        return dict(self.admin("POST", "config", settings))

    def set_faults(self, rules: Sequence[dict[str, Any]]) -> Any:
        """Replace the backend fault rules (see sandbox/faults.py for the rule shape)."""
        self.clear_faults()
        return self.admin("POST", "faults", list(rules))

    def set_s3_faults(self, rules: Sequence[dict[str, Any]]) -> Any:
        """Replace the S3 proxy's fault rules (needs ``extra_args=["--s3-proxy"]``)."""
        self.clear_s3_faults()
        return self.admin("POST", "s3-faults", list(rules))

    def add_faults(self, *rules: dict[str, Any]) -> Any:
        return self.admin("POST", "faults", list(rules))

    def clear_faults(self) -> None:
        self.admin("DELETE", "faults")

    def add_s3_faults(self, *rules: dict[str, Any]) -> Any:
        return self.admin("POST", "s3-faults", list(rules))

    def clear_s3_faults(self) -> None:
        self.admin("DELETE", "s3-faults")

    def s3_log(self) -> list[dict[str, Any]]:
        """Requests the S3 proxy forwarded (needs --s3-proxy): method, path, start, end, status."""
        return list(self.admin("GET", "s3-log"))

    def expire_file(self, file_id: str) -> None:
        self.admin("POST", f"files/{file_id}/expire")

    # --- lifecycle ------------------------------------------------------------------------

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)
        self.http.close()
        if self.owns_state_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-limit:]
    except OSError:
        return "(no stderr captured)"


def start_sandbox(
    portal_origin: str,
    *,
    generation: str = "current",
    token_lifetime: int = 36000,
    s3: str = "moto",
    organisms: str = "test",
    extra_args: Sequence[str] = (),
    state_dir: Path | None = None,
    timeout: float = START_TIMEOUT,
    env: Mapping[str, str] | None = None,
) -> RunningSandbox:
    """Start ``python -m sandbox`` on free ports and wait (bounded) until it is ready.

    `env` adds to (or overrides) the environment the sandbox inherits, e.g. its TMPDIR. `organisms` is
    "test" (the hand-written organisms the tests are written against) or "helm" (the demo's)."""
    owns = state_dir is None
    state = Path(state_dir or tempfile.mkdtemp(prefix="loculus-sandbox-"))
    state.mkdir(parents=True, exist_ok=True)
    ready_file = state / "ready.json"
    ready_file.unlink(missing_ok=True)
    stderr_path = state / "stderr.log"
    command = [
        sys.executable,
        "-m",
        "sandbox",
        "--website-port",
        "0",
        "--backend-port",
        "0",
        "--keycloak-port",
        "0",
        "--s3-port",
        "0",
        "--portal-origin",
        portal_origin,
        "--generation",
        generation,
        "--token-lifetime",
        str(token_lifetime),
        "--s3",
        s3,
        "--organisms",
        organisms,
        "--state-dir",
        str(state),
        "--ready-file",
        str(ready_file),
        *extra_args,
    ]
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SANDBOX_")}
    environment.update(env or {})
    with open(stderr_path, "wb") as stderr, open(state / "stdout.log", "wb") as stdout:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=environment, stdout=stdout, stderr=stderr)
    deadline = time.monotonic() + timeout
    while not ready_file.exists():
        if process.poll() is not None:
            if owns:
                message = _tail(stderr_path)
                shutil.rmtree(state, ignore_errors=True)
            else:
                message = _tail(stderr_path)
            raise SandboxStartError(f"sandbox exited with {process.returncode} before it was ready:\n{message}")
        if time.monotonic() > deadline:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
            raise SandboxStartError(f"sandbox was not ready within {timeout:.0f} s:\n{_tail(stderr_path)}")
        time.sleep(0.05)
    ready = json.loads(ready_file.read_text(encoding="utf-8"))
    return RunningSandbox(
        process=process,
        website=ready["website"],
        backend=ready["backend"],
        keycloak=ready["keycloak"],
        s3=ready["s3"],
        s3_direct=ready["s3_direct"],
        issuer=ready["issuer"],
        portal_origin=ready["portal_origin"],
        state_dir=state,
        stderr_path=stderr_path,
        owns_state_dir=owns,
    )
