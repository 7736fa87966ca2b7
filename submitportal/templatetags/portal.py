"""Small template helpers of the portal."""

from __future__ import annotations

import json
from typing import Any

from django import template

from submitportal.file_names import path_order

register = template.Library()


@register.filter
def get(mapping: Any, key: str) -> Any:
    """mapping[key], or "" when absent: `values|get:field.name`."""
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""


@register.filter
def tojson(value: Any) -> str:
    """JSON for a data- attribute; the template's autoescaping makes it safe inside quotes."""
    return json.dumps(value, separators=(",", ":"))


@register.filter
def by_path(files: Any) -> list[Any]:
    """Extra files in the order the page lists them (file_names.path_order), whatever the database's collation."""
    return sorted(files, key=lambda upload: path_order(upload.path))
