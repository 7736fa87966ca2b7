from __future__ import annotations

from django.http import HttpRequest

from submitportal.loculus import instance


def portal(request: HttpRequest) -> dict[str, object]:
    """The instance title for the page header; a missing instance is the page's own business."""
    if getattr(request, "loculus_unavailable", None) is not None:
        return {"instance_title": ""}  # no second attempt while rendering the explanation
    try:
        title = instance.get_instance().title
    except instance.InstanceUnavailable:
        title = ""
    return {"instance_title": title}
