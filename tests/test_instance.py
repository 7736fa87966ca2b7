"""Discovery: the portal learns the instance from {LOCULUS_URL}/loculus-info."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.launcher import RunningSandbox
from submitportal.loculus import instance, schema
from tests.testenv import free_port

INFO: dict[str, Any] = {
    "title": "Pathoplexus",
    "hosts": {
        "backend": "https://backend.example.org/",
        "keycloak": "https://auth.example.org",
        "website": "https://example.org",
    },
    "organisms": {
        "cchf": {
            "schema": {
                "organismName": "CCHFV",
                "metadata": [{"name": "sampleCollectionDate", "type": "date", "header": "Sample details"}],
                "inputFields": [
                    {"name": "id", "required": True, "noEdit": True},
                    {"name": "sampleCollectionDate", "displayName": "Collection date", "required": True},
                    {"name": "fastaIds", "displayName": "FASTA IDs", "desired": True},
                    {"name": "country", "displayName": "Country", "options": [{"name": "Uganda"}, {"name": "Spain"}]},
                ],
                "submissionDataTypes": {"consensusSequences": True, "maxSequencesPerEntry": 3},
            },
            "referenceGenomes": [{"name": "L", "references": []}, {"name": "M"}, {"name": "S"}],
        },
        "reads": {
            "schema": {
                "organismName": "Reads only",
                "inputFields": [{"name": "id"}],
                "submissionDataTypes": {
                    "consensusSequences": False,
                    "files": {"enabled": True, "categories": [{"name": "rawReads", "displayName": "Raw reads"}]},
                },
            },
            "referenceGenomes": {"nucleotideSequences": [], "genes": []},
        },
    },
}


def test_it_reads_hosts_organisms_segments_and_file_categories(settings: Any) -> None:
    settings.LOCULUS_URL = "https://example.org"
    parsed = instance.parse_loculus_info(INFO, tried="test")
    assert (parsed.title, parsed.backend_url, parsed.oidc_issuer) == (
        "Pathoplexus",
        "https://backend.example.org",
        "https://auth.example.org/realms/loculus",
    )
    cchf = parsed.organisms["cchf"]
    assert cchf.display_name == "CCHFV"
    assert cchf.segments == ("L", "M", "S")
    assert cchf.is_multi_segment
    assert [f.display_name for f in cchf.input_fields] == ["ID", "Collection date", "FASTA IDs", "Country"]
    assert cchf.input_fields[1].header == "Sample details"
    assert cchf.input_fields[3].options == ("Uganda", "Spain")
    assert not cchf.files_enabled
    reads = parsed.organisms["reads"]
    assert (reads.consensus_sequences, reads.segments, reads.files_enabled) == (False, (), True)
    assert reads.file_category("rawReads") == schema.FileCategory("rawReads", "Raw reads")


def test_the_backend_and_issuer_settings_override_the_instance(settings: Any) -> None:
    settings.LOCULUS_BACKEND_URL = "http://loculus-backend-service:8079"
    settings.OIDC_ISSUER = "https://sso.example.org/realms/portal"
    parsed = instance.parse_loculus_info(INFO, tried="test")
    assert parsed.backend_url == "http://loculus-backend-service:8079"
    assert parsed.oidc_issuer == "https://sso.example.org/realms/portal"


def test_an_answer_without_a_backend_is_explained() -> None:
    with pytest.raises(instance.InstanceUnavailable) as caught:
        instance.parse_loculus_info(
            {"hosts": {"keycloak": "https://a"}, "organisms": {}}, tried="https://x/loculus-info"
        )
    assert caught.value.reason == "it names no backend (hosts.backend is missing)."
    assert "LOCULUS_BACKEND_URL" in caught.value.hint


def test_an_unset_loculus_url_is_explained(settings: Any) -> None:
    settings.LOCULUS_URL = ""
    with pytest.raises(instance.InstanceUnavailable) as caught:
        instance.get_instance()
    assert caught.value.tried == "LOCULUS_URL"
    assert "make demo" in caught.value.hint


def test_an_unreachable_website_is_explained(settings: Any) -> None:
    settings.LOCULUS_URL = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(instance.InstanceUnavailable) as caught:
        instance.get_instance()
    assert caught.value.tried == f"{settings.LOCULUS_URL}/loculus-info"
    assert caught.value.reason == "could not connect (ConnectionError)."


def test_it_discovers_the_sandbox(loculus: RunningSandbox) -> None:
    found = instance.get_instance()
    assert found.backend_url == loculus.backend
    assert found.oidc_issuer == loculus.issuer
    assert set(found.organisms) == {"ebola-sudan", "cchf", "wastewater"}
    assert found.organisms["ebola-sudan"].file_categories == (schema.FileCategory("rawReads", "Raw reads"),)
    assert found.organisms["cchf"].segments == ("L", "M", "S")
    assert not found.organisms["wastewater"].consensus_sequences


def test_the_description_is_cached(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.LOCULUS_URL = "https://example.org"
    calls: list[int] = []

    def fake_fetch() -> instance.Instance:
        calls.append(1)
        return instance.parse_loculus_info(INFO, tried="test")

    monkeypatch.setattr(instance, "fetch_instance", fake_fetch)
    assert instance.get_instance() == instance.get_instance()
    assert len(calls) == 1
    instance.clear_cache()
    instance.get_instance()
    assert len(calls) == 2
