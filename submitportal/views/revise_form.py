"""Revise one entry with a form: a placeholder until the single-entry revision lands (it leads to the bulk page)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


def revise_form(request: HttpRequest, organism: str) -> HttpResponse:
    return redirect("revise", organism=organism)
