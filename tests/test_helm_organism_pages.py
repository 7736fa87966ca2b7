"""The portal's pages for the organisms `make demo` shows, generated from Loculus's Helm values.

The instance is the sandbox's /loculus-info for those organisms, built in-process (no sandbox runs);
its hosts name a closed port, as in the saved fixture of the test organisms.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from sandbox.helm_organisms import helm_organisms
from tests.testenv import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def helm_instance(settings: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    from submitportal.loculus import instance

    closed = f"http://127.0.0.1:{free_port()}"
    organisms = {
        key: {"schema": organism.website_schema(), "referenceGenomes": organism.reference_genomes()}
        for key, organism in helm_organisms().items()
    }
    body = {
        "hosts": {"backend": closed, "keycloak": closed, "website": closed, "lapis": {}},
        "title": "Loculus sandbox",
        "organisms": organisms,
    }
    settings.LOCULUS_URL = closed
    settings.LOCULUS_BACKEND_URL = ""
    settings.OIDC_ISSUER = ""
    settings.LOCULUS_FILES_PROTOCOL = "metadataColumns"
    monkeypatch.setattr(instance, "fetch_instance", lambda: instance.parse_loculus_info(body, tried="helm organisms"))
    return body


def entry_form(signed_in: Client, organism: str) -> str:
    response = signed_in.get(f"/{organism}/submission/form/")
    assert response.status_code == 302
    page = signed_in.get(response.headers["Location"])
    assert page.status_code == 200
    return str(page.content.decode())


def test_the_home_page_lists_the_generated_organisms(client: Client, helm_instance: dict[str, Any]) -> None:
    html = client.get("/").content.decode()
    for key, name in [
        ("cchf", "Crimean-Congo Hemorrhagic Fever Virus"),
        ("ebola-sudan", "Ebola Sudan"),
        ("west-nile", "West Nile Virus"),
        ("dummy-organism-with-files", "Test organism (with files)"),
    ]:
        assert f'<a href="/{key}/submission/">{name}</a>' in html


def test_the_cchf_form_renders_the_real_fields_and_three_segments(
    signed_in: Client, helm_instance: dict[str, Any]
) -> None:
    html = entry_form(signed_in, "cchf")
    assert "Crimean-Congo Hemorrhagic Fever Virus: one sequence entry, entered in a form." in html
    assert '<label for="field-geoLocCountry">Collection country</label><span class="required"' in html
    assert '<label for="field-sampleCollectionDate">Collection date</label><span class="required"' in html
    assert '<option value="Uganda"></option>' in html
    # Host is optional here (desired); West Nile's values make it required.
    assert '<label for="field-host">Host</label></div>' in html
    assert "<legend>Sample details</legend>" in html
    for segment in ("L", "M", "S"):
        assert f'name="sequence-{segment}"' in html


def test_the_west_nile_form_requires_the_host(signed_in: Client, helm_instance: dict[str, Any]) -> None:
    html = entry_form(signed_in, "west-nile")
    assert '<label for="field-host">Host</label><span class="required"' in html
    assert 'name="sequence-main"' in html
