"""The parts of the Loculus website a portal uses: ``/loculus-info``, the metadata template, group creation."""

from __future__ import annotations

import html
import json

from flask import Flask, Response, request

from sandbox import template
from sandbox.organisms import COUNTRIES, public_organisms
from sandbox.settings import RuntimeSettings
from sandbox.state import Store

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}}
label{{display:block;margin-top:.8rem}}input,select{{width:100%;padding:.3rem}}</style></head>
<body>{body}</body></html>"""


def page(title: str, body: str) -> Response:
    return Response(PAGE.format(title=html.escape(title), body=body), content_type="text/html; charset=utf-8")


STATUS_WORDS = {
    "RECEIVED": "Awaiting processing",
    "IN_PROCESSING": "In processing",
    "PROCESSED": "Processed",
    "APPROVED_FOR_RELEASE": "Released",
}


def create_website_app(settings: RuntimeSettings, store: Store | None = None) -> Flask:
    app = Flask("sandbox.website")

    @app.get("/loculus-info")
    def loculus_info() -> Response:
        organisms = {
            key: {"schema": organism.website_schema(), "referenceGenomes": organism.reference_genomes()}
            for key, organism in public_organisms().items()
        }
        body = {
            "hosts": {
                "backend": settings.backend_url,
                "keycloak": settings.keycloak_url,
                "website": settings.website_url,
                "lapis": {key: f"{settings.website_url}/lapis/{key}" for key in organisms},
            },
            "minCliVersion": "0.0.0",
            "title": "Loculus sandbox",
            "organisms": organisms,
        }
        response = Response(json.dumps(body), content_type="application/json")
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    @app.get("/<organism_key>/submission/template")
    def metadata_template(organism_key: str) -> Response:
        """``?format=revise`` for the revision template (else submit); ``?fileType=tsv|xlsx``, default tsv."""
        organism = public_organisms().get(organism_key)
        if organism is None:
            return Response(status=404)
        action = "revise" if request.args.get("format") == "revise" else "submit"
        file_type = request.args.get("fileType", "").lower()
        built = template.build(organism.website_schema(), action, file_type if file_type in ("tsv", "xlsx") else "tsv")
        response = Response(built.body)
        # Set after construction so Flask adds no charset, as Astro's Response does not.
        response.headers["Content-Type"] = built.content_type
        response.headers["Content-Disposition"] = f'attachment; filename="{built.filename}"'
        return response

    @app.get("/user/createGroup")
    def create_group() -> Response:
        organism_key = request.args.get("continueSubmissionOrganism", "")
        organism = public_organisms().get(organism_key)
        continue_note = (
            f"<p>After creating the group you would continue your submission for "
            f"<strong>{html.escape(organism.display_name)}</strong>.</p>"
            if organism
            else ""
        )
        options = "".join(f"<option>{html.escape(country)}</option>" for country in COUNTRIES)
        body = f"""<h1>Create a new submitting group</h1>
<p>This is the Loculus <strong>sandbox</strong>: a stand-in for the real Loculus website's group
creation page. The form below does not create a group here; with a token, call
<code>POST {html.escape(settings.backend_url)}/groups</code> instead.</p>
{continue_note}
<form onsubmit="return false">
<label for="groupName">Group name*</label><input id="groupName" name="groupName">
<label for="email">Contact email address*</label><input id="email" name="contactEmail" type="email">
<label for="institution">Institution*</label><input id="institution" name="institution">
<label for="line1">Address Line 1*</label><input id="line1" name="line1">
<label for="line2">Address Line 2</label><input id="line2" name="line2">
<label for="city">City*</label><input id="city" name="city">
<label for="state">State / Province</label><input id="state" name="state">
<label for="postalCode">ZIP / Postal code*</label><input id="postalCode" name="postalCode">
<label for="country">Country*</label>
<select id="country" name="country"><option value="">Choose a country…</option>{options}</select>
<p><button type="submit" disabled>Create group</button> (disabled in the sandbox)</p>
</form>"""
        return page("Create a new submitting group", body)

    @app.get("/<organism_key>/submission/<int:group_id>/review")
    def review(organism_key: str, group_id: int) -> Response:
        """The review page a submission leads to: here, the group's unreleased entries, read-only.

        The real page lets the group approve, edit and discard entries; the sandbox has no
        processing pipeline, so its entries stay "Awaiting processing". Loopback only, no sign-in.
        """
        organism = public_organisms().get(organism_key)
        if organism is None or store is None:
            return page("Not found", "<h1>Not found</h1>")
        with store.lock:
            entries = [
                e
                for e in store.entries
                if e.organism == organism_key and e.group_id == group_id and e.status != "APPROVED_FOR_RELEASE"
            ]
            group = store.groups.get(group_id)
        rows = "".join(
            f"<tr><td>{html.escape(e.accession)}.{e.version}</td><td>{html.escape(e.submission_id)}</td>"
            f"<td>{html.escape(STATUS_WORDS.get(e.status, e.status))}</td></tr>"
            for e in sorted(entries, key=lambda e: (e.accession, e.version))
        )
        listed = (
            f"<table><caption>Unreleased entries of {html.escape(group.group_name if group else str(group_id))}"
            "</caption><thead><tr><th>Accession</th><th>Submission ID</th><th>Status</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            if entries
            else "<p>You do not currently have any unreleased sequences awaiting review.</p>"
        )
        body = f"""<h1>Review pending submissions</h1>
<p>This is the Loculus <strong>sandbox</strong>: a stand-in for the real review page of
{html.escape(organism.display_name)}. Real Loculus processes the entries and lets the group approve
them here; the sandbox has no processing, so entries stay as they were received.</p>
{listed}"""
        return page("Review pending submissions", body)

    @app.get("/")
    def home() -> Response:
        items = "".join(
            f"<li><code>{html.escape(key)}</code>: {html.escape(organism.display_name)}</li>"
            for key, organism in public_organisms().items()
        )
        body = f"""<h1>Loculus sandbox</h1>
<p>A local stand-in for a Loculus instance, for developing and testing the submission portal.
It is not Loculus.</p>
<ul>
<li>Instance config: <a href="/loculus-info">/loculus-info</a></li>
<li>Backend: <a href="{html.escape(settings.backend_url)}">{html.escape(settings.backend_url)}</a></li>
<li>Keycloak realm: <a href="{html.escape(settings.issuer)}/.well-known/openid-configuration">
{html.escape(settings.issuer)}</a></li>
</ul>
<h2>Organisms</h2><ul>{items}</ul>
<p>Users (password = username): testuser, newuser, superuser, otheruser.</p>"""
        return page("Loculus sandbox", body)

    return app
