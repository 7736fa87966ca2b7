"""Parsing never needs Django: each plain-Python module imports in a process where Django cannot be imported.

Each module is imported in a fresh interpreter whose import system refuses `django` and `requests`
(and their submodules) before anything else is imported, so an import chain that reaches either
anywhere, however indirectly, fails here by name.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

# The portal's parsing and checking code: no Django, no requests.
PARSING_MODULES = [
    *sorted(
        "submitportal.bulkfiles" if path.stem == "__init__" else f"submitportal.bulkfiles.{path.stem}"
        for path in (REPO_ROOT / "submitportal" / "bulkfiles").glob("*.py")
    ),
    "submitportal.single_entry",
    "submitportal.linking",
    "submitportal.file_names",
    "submitportal.tsv",
    "submitportal.json_bodies",
    "submitportal.growing_file",
    "submitportal.splice_copy",
    "submitportal.loculus.schema",
]
# The sandbox's launcher says it has no Django; it talks HTTP to the sandbox, so it may use requests.
NO_DJANGO_MODULES = ["sandbox.launcher"]

CLAIM = re.compile(r"no Django|without Django|free of Django|Django-free|plain Python", re.IGNORECASE)

IMPORT_WITH_BLOCKED = """
import importlib, sys

BLOCKED = set(sys.argv[2].split(","))

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is blocked: this module must not need it")
        return None

sys.meta_path.insert(0, Refuse())
importlib.import_module(sys.argv[1])
leaked = sorted(name for name in sys.modules if name.split(".")[0] in BLOCKED)
if leaked:
    raise SystemExit(f"imported anyway: {leaked}")
print("imported", sys.argv[1])
"""


def import_without(module: str, blocked: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", IMPORT_WITH_BLOCKED, module, ",".join(blocked)],
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("module", PARSING_MODULES)
def test_the_parsing_module_imports_with_django_and_requests_unimportable(module: str) -> None:
    result = import_without(module, ["django", "requests"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"imported {module}"


@pytest.mark.parametrize("module", NO_DJANGO_MODULES)
def test_the_module_imports_with_django_unimportable(module: str) -> None:
    result = import_without(module, ["django"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"imported {module}"


def test_the_blocker_really_refuses_django() -> None:
    # Guards the test above: were the blocker to let Django through, every module would pass.
    result = import_without("django.conf", ["django", "requests"])
    assert result.returncode != 0
    assert "ImportError: django is blocked: this module must not need it" in result.stderr


def test_every_module_that_says_it_has_no_django_is_checked_here() -> None:
    checked = set(PARSING_MODULES) | set(NO_DJANGO_MODULES)
    claiming = set()
    for folder in ("submitportal", "sandbox"):
        for path in (REPO_ROOT / folder).rglob("*.py"):
            if CLAIM.search(path.read_text(encoding="utf-8")):
                parts = path.relative_to(REPO_ROOT).with_suffix("").parts
                claiming.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    assert "submitportal.single_entry" in claiming  # the search finds the claims it is meant to find
    assert claiming - checked == set()
