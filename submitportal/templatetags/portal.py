"""Small template helpers of the portal."""

from __future__ import annotations

import json
from typing import Any

from django import template

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
