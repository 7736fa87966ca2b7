"""The home page, an organism's page and the About page, with the instance present or missing."""

from __future__ import annotations

from typing import Any

from django.test import Client

from sandbox.launcher import RunningSandbox
from tests.testenv import free_port


def test_the_home_page_lists_the_organisms_by_display_name(client: Client, loculus: RunningSandbox) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Submit sequences to Loculus sandbox" in html
    for key, name in [
        ("ebola-sudan", "Ebola Sudan"),
        ("cchf", "Crimean-Congo Hemorrhagic Fever Virus"),
        ("wastewater", "Wastewater metagenomics"),
    ]:
        assert f'<a href="/{key}/submission/">{name}</a>' in html


def test_an_unset_loculus_url_gets_an_explanation_not_a_traceback(client: Client, settings: Any) -> None:
    settings.LOCULUS_URL = ""
    response = client.get("/")
    assert response.status_code == 503
    html = response.content.decode()
    assert "The portal cannot reach its Loculus instance" in html
    assert "Set LOCULUS_URL to the Loculus website" in html
    assert "Traceback" not in html


def test_an_unreachable_instance_names_the_url_that_was_tried(client: Client, settings: Any) -> None:
    settings.LOCULUS_URL = f"http://127.0.0.1:{free_port()}"
    response = client.get("/")
    assert response.status_code == 503
    html = response.content.decode()
    assert f"{settings.LOCULUS_URL}/loculus-info" in html
    assert "could not connect" in html


def test_an_unknown_organism_is_a_404_that_says_so(signed_in: Client, loculus: RunningSandbox) -> None:
    response = signed_in.get("/rabies/submission/")
    assert response.status_code == 404
    assert "This Loculus instance has no organism called &#x27;rabies&#x27;." in response.content.decode()


def test_the_organism_page_describes_what_it_takes(signed_in: Client, loculus: RunningSandbox) -> None:
    html = signed_in.get("/cchf/submission/").content.decode()
    assert "Submit sequences: Crimean-Congo Hemorrhagic Fever Virus" in html
    assert "up to 3 segments: L, M, S" in html


def test_a_signed_out_visitor_is_sent_to_sign_in(client: Client, loculus: RunningSandbox) -> None:
    response = client.get("/cchf/submission/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/signin?next=/cchf/submission/"


def test_the_about_page_shows_the_detected_files_protocol(client: Client, loculus: RunningSandbox) -> None:
    loculus.configure(generation="legacy")
    html = client.get("/about/").content.decode()
    assert "a <code>fileMapping</code> part with the submission" in html
    assert f"detected: {loculus.backend}/api-docs" in html


def test_the_about_page_explains_a_failed_detection(client: Client, loculus: RunningSandbox) -> None:
    loculus.add_faults({"path": "/api-docs", "method": "GET", "status": 500, "times": 10})
    html = client.get("/about/").content.decode()
    assert "Submissions with extra files are paused" in html


def test_the_about_page_still_renders_without_an_instance(client: Client, settings: Any) -> None:
    settings.LOCULUS_URL = ""
    response = client.get("/about/")
    assert response.status_code == 200
    assert "is not set" in response.content.decode()


def test_pages_carry_a_content_security_policy_without_inline_scripts(client: Client, loculus: RunningSandbox) -> None:
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "<script>" not in response.content.decode()
