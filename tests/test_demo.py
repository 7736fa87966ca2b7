"""A smoke test of `make demo`: it starts the sandbox and the portal, serves the home page, and Ctrl-C stops
everything, quietly, every time.

`make demo` runs as from a shell window: in a session of its own whose controlling terminal is a
pseudo-terminal, make in the terminal's foreground process group. Ctrl-C is typed on that terminal
(the byte ^C), so the kernel sends SIGINT to the foreground process group, as it does for a user.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import termios
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.testenv import free_port

ROOT = Path(__file__).resolve().parent.parent
PORT_NAMES = ("DEMO_PORT", "SANDBOX_WEBSITE_PORT", "SANDBOX_BACKEND_PORT", "SANDBOX_KEYCLOAK_PORT", "SANDBOX_S3_PORT")
CTRL_C = b"\x03"


def port_is_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def running_in_session(session: int) -> list[str]:
    """The processes of the session `make demo` started in, zombies aside: everything it started."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            text = stat.read_text()
            name = text[text.index("(") + 1 : text.rindex(")")]
            fields = text.rsplit(")", 1)[1].split()
            if int(fields[3]) == session and fields[0] != "Z":
                found.append(f"{stat.parent.name} {name} (state {fields[0]}, group {fields[2]})")
    return found


@dataclass
class Demo:
    process: subprocess.Popen[bytes]
    terminal: int  # the pseudo-terminal's controlling side: what a terminal window holds
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            assert self.process.poll() is None, f"make demo stopped early:\n{self.output()}"
            assert time.monotonic() < deadline, f"make demo did not print {text!r} in time:\n{self.output()}"
            time.sleep(0.2)

    def ctrl_c(self) -> None:
        os.write(self.terminal, CTRL_C)


@contextlib.contextmanager
def make_demo(ports: dict[str, int], database: Path, log: Path) -> Iterator[Demo]:
    env = {
        **os.environ,
        **{name: str(port) for name, port in ports.items()},
        "DATABASE_URL": f"sqlite:///{database}",
        "PYTHONUNBUFFERED": "1",
    }
    # A user types `make demo` at a terminal; under `make test` the outer make's variables would make
    # this make a sub-make, which prints "Entering/Leaving directory" around the output.
    variables = ("LOCULUS_URL", "DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "S3_ORIGINS")
    for variable in (*variables, "MAKELEVEL", "MAKEFLAGS", "MFLAGS"):
        env.pop(variable, None)
    terminal, tty = os.openpty()

    def take_the_terminal() -> None:  # in the child, after setsid: the tty becomes its terminal
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    with log.open("wb") as out:
        process = subprocess.Popen(
            ["make", "demo"],
            cwd=ROOT,
            env=env,
            stdin=tty,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=take_the_terminal,
        )
    os.close(tty)
    try:
        yield Demo(process, terminal, log)
    finally:
        if process.poll() is None:  # the test failed: leave nothing behind
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            for line in running_in_session(process.pid):
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(line.split()[0]), signal.SIGKILL)
            process.wait(timeout=10)
        os.close(terminal)


def assert_stopped_quietly(demo: Demo, ports: dict[str, int]) -> None:
    try:
        status = demo.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"make demo did not stop within 60 s of Ctrl-C:\n{demo.output()}")
    output = demo.output()
    assert status == 0, f"make demo ended with {status}:\n{output}"
    for noise in ("CommandError", "Traceback", "make: ***"):
        assert noise not in output, f"{noise!r} after Ctrl-C:\n{output}"
    assert output.rstrip().endswith("Stopped."), output
    left = running_in_session(demo.process.pid)
    assert left == [], f"still running after make demo stopped: {left}"
    listening = [name for name, port in ports.items() if port_is_open(port)]
    assert listening == [], f"still listening after make demo stopped: {listening}"


def test_make_demo_serves_the_home_page_and_ctrl_c_stops_everything_quietly(tmp_path: Path) -> None:
    ports = {name: free_port() for name in PORT_NAMES}
    url = f"http://127.0.0.1:{ports['DEMO_PORT']}/"
    database = tmp_path / "demo.sqlite3"

    # 1. Running, with a request the portal is still waiting for (half sent) when Ctrl-C comes.
    with make_demo(ports, database, tmp_path / "first.log") as demo:
        demo.wait_for("The portal is running at")
        output = demo.output()
        assert f"The portal is running at {url}" in output
        assert "testuser / testuser" in output
        home = requests.get(url, timeout=30)
        assert home.status_code == 200
        assert "Ebola Sudan" in home.text
        assert "Crimean-Congo Hemorrhagic Fever Virus" in home.text
        assert "West Nile Virus" in home.text  # the organisms generated from Loculus's Helm values
        assert requests.get(f"{url}static/css/portal.css", timeout=10).status_code == 200
        # The demo, not make, has the terminal: make never sees the Ctrl-C, so it cannot fail on it.
        assert os.tcgetpgrp(demo.terminal) != demo.process.pid
        with socket.create_connection(("127.0.0.1", ports["DEMO_PORT"]), timeout=5) as pending:
            pending.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            demo.ctrl_c()
            assert_stopped_quietly(demo, ports)

    # 2. Ctrl-C while the sandbox is still starting.
    with make_demo(ports, database, tmp_path / "second.log") as demo:
        demo.wait_for("Starting the Loculus sandbox")
        demo.ctrl_c()
        assert_stopped_quietly(demo, ports)

    # 3. Once more, on the same ports: the first run left them free.
    with make_demo(ports, database, tmp_path / "third.log") as demo:
        demo.wait_for("The portal is running at")
        assert requests.get(f"{url}healthz", timeout=10).status_code == 200
        demo.ctrl_c()
        assert_stopped_quietly(demo, ports)
