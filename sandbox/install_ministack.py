"""``python -m sandbox.install_ministack``: create ``.venv-s3`` with the pinned ministack, if missing.

For ``make`` and CI; the sandbox also does this itself on the first ``--s3 ministack`` start.
"""

from __future__ import annotations

import sys

from sandbox.s3 import ensure_ministack

if __name__ == "__main__":
    print(ensure_ministack())
    sys.exit(0)
