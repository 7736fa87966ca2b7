"""The portal's settings, serving tests/error_urls.py: for running the real portal with a view that fails.

STATIC_ROOT comes from TEST_STATIC_ROOT, so that the test collects static files into its own folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from submitportal.settings import *  # noqa: F403

ROOT_URLCONF = "tests.error_urls"
STATIC_ROOT = Path(os.environ["TEST_STATIC_ROOT"])
