"""Static files as deployed (DEBUG off): compressed, with hashed names cached for long by browsers."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFiles(CompressedManifestStaticFilesStorage):
    # The page's scripts are ES modules that import each other (`import … from "./drop_zone.js"`):
    # those imports are rewritten to the hashed names too, so no module is served under a stale name.
    support_js_module_import_aggregation = True

    def url_converter(
        self, name: str, hashed_files: Any, template: str | None = None
    ) -> Callable[[re.Match[str]], str]:
        if name.endswith(".js") and not name.startswith("js/"):
            # Another package's scripts (htmx's extensions) are served as they come: their references are
            # theirs to keep, and some point at files they do not ship.
            return lambda matched: matched["matched"]
        return super().url_converter(name, hashed_files, template)
