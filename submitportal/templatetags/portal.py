"""Small template helpers of the portal."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.template import Context

from submitportal import extra_file_uploads, signin
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
def linked_in(plan: Any, state: str) -> list[str]:
    """The paths of a link plan's linked files whose upload is in this state (linking.CategoryPlan.linked_in)."""
    return plan.linked_in(state) if plan else []


FIRST_NAMES = 10


@register.filter
def first_names(names: Any) -> str:
    """The first few of many names (a list, or a dict's keys), and how many more: a summary names what it counts."""
    names = list(names)
    shown = ", ".join(str(name) for name in names[:FIRST_NAMES])
    more = len(names) - FIRST_NAMES
    return f"{shown} and {more} more" if more > 0 else shown


@register.filter
def tojson(value: Any) -> str:
    """JSON for a data- attribute; the template's autoescaping makes it safe inside quotes."""
    return json.dumps(value, separators=(",", ":"))


@register.filter
def by_path(files: Any) -> list[Any]:
    """Extra files in the order the page lists them (file_names.path_order), whatever the database's collation."""
    return sorted(files, key=lambda upload: path_order(upload.path))


@register.simple_tag(takes_context=True)
def upload_origins(context: Context) -> str:
    """The origins this page's uploads may go to, as JSON: what its Content Security Policy allows.

    Rendered into the upload section, whose script checks each upload URL against it. The page's
    policy is written after the page (ContentSecurityPolicyMiddleware) and lists the same origins,
    kept on the request. Learning them may ask Loculus once (extra_file_uploads.upload_origins_for_page).
    """
    request = context["request"]
    origins = getattr(request, "upload_origins", None)
    if origins is None:
        group = context.get("group")
        draft = context.get("draft")
        group_id = getattr(group, "group_id", None) or getattr(draft, "group_id", None)
        origins = extra_file_uploads.upload_origins_for_page(signin.access_token(request), group_id)
        request.upload_origins = origins
    return json.dumps(origins)
