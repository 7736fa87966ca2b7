"""The organisms generated from Loculus's Helm values against facts read straight from the vendored values.

The expected values are read from sandbox/helm/values-daf80530.yaml with plain YAML here (or written out
from it), not through sandbox.helm_organisms, so a wrong template step shows as a difference.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml

from sandbox.__main__ import parse_args
from sandbox.helm_organisms import VALUES_PATH, helm_organisms
from sandbox.launcher import start_sandbox
from sandbox.processing import process_entry
from submitportal.loculus.schema import parse_organism
from tests.sandbox.conftest import PORTAL_ORIGIN
from tests.sandbox.helpers import Backend, assert_problem, fasta, tsv

GENERATED = ("cchf", "dummy-organism-with-files", "ebola-sudan", "west-nile")
TODAY = dt.date(2025, 6, 1)


@pytest.fixture(scope="module")
def values() -> dict[str, Any]:
    with open(VALUES_PATH, encoding="utf-8") as source:
        return dict(yaml.safe_load(source))


def schema_of(values: dict[str, Any], key: str) -> dict[str, Any]:
    return dict(values["defaultOrganisms"][key]["schema"])


def input_names(key: str) -> list[str]:
    return [field["name"] for field in helm_organisms()[key].website_schema()["inputFields"]]


def test_the_vendored_file_names_its_source_commit_and_path() -> None:
    header = VALUES_PATH.read_text(encoding="utf-8").splitlines()[:3]
    assert "loculus-project/loculus@daf80530d199cde2055d95868c5d821cf3592f23" in header[0]
    assert "kubernetes/loculus/values.yaml" in header[1]
    assert "kubernetes/loculus/templates/_common-metadata.tpl" in header[2]


def test_it_generates_the_organisms_in_helms_order_with_their_names(values: dict[str, Any]) -> None:
    organisms = helm_organisms()
    assert tuple(organisms) == GENERATED
    assert organisms["ebola-sudan"].display_name == "Ebola Sudan"
    assert organisms["west-nile"].display_name == "West Nile Virus"
    assert organisms["cchf"].display_name == "Crimean-Congo Hemorrhagic Fever Virus"
    for key in GENERATED:
        assert organisms[key].website_schema()["organismName"] == schema_of(values, key)["organismName"]


@pytest.mark.parametrize("key", GENERATED)
def test_the_required_input_fields_are_those_the_values_mark_required(values: dict[str, Any], key: str) -> None:
    schema = schema_of(values, key)
    added = {item["name"]: item for item in schema.get("metadataAdd") or []}
    metadata = {item["name"]: item for item in schema["metadata"]} | added
    expected = {name for name, item in metadata.items() if item.get("required") and "noInput" not in item}
    expected |= {item["name"] for item in schema.get("extraInputFields") or [] if item.get("required")}
    expected.add("id")
    generated = {f["name"] for f in helm_organisms()[key].website_schema()["inputFields"] if f.get("required")}
    assert generated == expected


def test_the_required_fields_of_the_real_forms() -> None:
    for key in ("ebola-sudan", "cchf"):
        required = [f["name"] for f in helm_organisms()[key].website_schema()["inputFields"] if f.get("required")]
        assert required == ["id", "geoLocCountry", "sampleCollectionDate"]
    # West Nile's host is an extra input field, made required there (position last).
    west_nile = helm_organisms()["west-nile"].website_schema()["inputFields"]
    assert [f["name"] for f in west_nile if f.get("required")] == [
        "id",
        "geoLocCountry",
        "sampleCollectionDate",
        "host",
    ]


def test_an_option_field_keeps_every_option_of_the_values(values: dict[str, Any]) -> None:
    raw = next(item for item in schema_of(values, "cchf")["metadata"] if item["name"] == "geoLocCountry")
    generated = next(
        f for f in helm_organisms()["cchf"].website_schema()["inputFields"] if f["name"] == "geoLocCountry"
    )
    assert generated["options"] == raw["options"]
    assert {"name": "Uganda"} in generated["options"]
    assert len(generated["options"]) == 297
    # And the processing rules see the same options.
    country = next(f for f in helm_organisms()["cchf"].fields if f.name == "geoLocCountry")
    assert country.options == tuple(option["name"] for option in raw["options"])


def test_input_fields_follow_the_templates_order_and_keep_only_the_input_keys() -> None:
    cchf = helm_organisms()["cchf"].website_schema()["inputFields"]
    # Default id and fastaIds first (maxSequencesPerEntry 3), metadata sorted by name, versionComment last.
    assert [f["name"] for f in cchf[:4]] == ["id", "fastaIds", "ampliconPcrPrimerScheme", "ampliconSize"]
    assert cchf[0]["definition"].startswith("Your sample identifier. (If no `fastaIds` column is provided")
    assert cchf[1] == {
        "name": "fastaIds",
        "displayName": "FASTA IDs",
        "definition": "Space-separated list of FASTA IDs of each sequence to be associated with this metadata entry.",
        "example": "GJP123 GJP124",
        "noEdit": True,
        "desired": True,
    }
    assert cchf[-1]["name"] == "versionComment"
    assert all(set(f) <= {"name", "displayName", "definition", "guidance", "example", "required", "noEdit",
                          "desired", "options"} for f in cchf)  # fmt: skip
    # Ebola Sudan brings its own id (position first), so no default one; host comes last (position last).
    ebola = helm_organisms()["ebola-sudan"].website_schema()["inputFields"]
    assert ebola[0]["definition"] == "Unique identifier for your Ebola Sudan sample."
    assert "fastaIds" not in input_names("ebola-sudan")
    assert [f["name"] for f in ebola[-2:]] == ["host", "versionComment"]
    # A field marked noInput (lineage, from metadataAdd) is not an input field.
    assert "lineage" not in input_names("cchf")
    assert "sampleCollectionDateRangeLower" not in input_names("ebola-sudan")


def test_file_categories_come_from_submission_data_types_only() -> None:
    organisms = helm_organisms()
    assert organisms["dummy-organism-with-files"].file_categories == (("rawReads", "Raw reads"),)
    assert organisms["dummy-organism-with-files"].website_schema()["submissionDataTypes"] == {
        "consensusSequences": False,
        "files": {"enabled": True, "categories": [{"name": "rawReads", "displayName": "Raw reads"}]},
    }
    # The real organisms have output files (annotations) but no submission categories.
    for key in ("cchf", "ebola-sudan", "west-nile"):
        assert organisms[key].file_categories == ()
        assert organisms[key].website_schema()["files"] == [{"name": "annotations", "displayName": "Annotations"}]
        assert not organisms[key].files_enabled


def test_segments_and_sequences_per_entry_come_from_the_reference_genomes(values: dict[str, Any]) -> None:
    organisms = helm_organisms()
    raw_segments = [segment["name"] for segment in values["defaultOrganisms"]["cchf"]["referenceGenomes"]]
    assert raw_segments == ["L", "M", "S"]
    assert organisms["cchf"].segments == ("L", "M", "S")
    assert organisms["cchf"].max_sequences_per_entry == 3
    assert organisms["ebola-sudan"].segments == ("main",)
    assert organisms["dummy-organism-with-files"].segments == ()
    assert [g["name"] for g in organisms["cchf"].reference_genomes()] == ["L", "M", "S"]


def test_metadata_merges_the_common_fields_and_splits_per_segment_fields() -> None:
    metadata = {m["name"]: m for m in helm_organisms()["cchf"].website_schema()["metadata"]}
    assert metadata["accessionVersion"]["definition"] == (
        "The Loculus `accession` and `version`, uniquely identifying the specific version of the sequence record "
        "(e.g. `LOC_000001.1`)."
    )
    assert metadata["dataUseTermsUrl"]["header"] == "Data use terms"  # dataUseTerms.enabled and .urls are set
    assert metadata["geoLocCountry"]["header"] == "Sample details"
    assert "length" not in metadata
    assert metadata["length_S"]["displayName"] == "Length S"
    assert metadata["length_S"]["relatesToSegment"] == "S"
    assert metadata["annotations"] == {
        "name": "annotations",
        "displayName": "Annotations",
        "type": "string",
        "header": "Files",
        "noInput": True,
        "customDisplay": {"type": "fileList"},
    }
    # Single-segment organisms keep the plain name.
    assert "length" in {m["name"] for m in helm_organisms()["ebola-sudan"].website_schema()["metadata"]}


def test_metadata_add_overrides_the_shared_field_of_the_same_name(values: dict[str, Any]) -> None:
    added = next(m for m in schema_of(values, "cchf")["metadataAdd"] if m["name"] == "lineage")
    lineage = next(m for m in helm_organisms()["cchf"].website_schema()["metadata"] if m["name"] == "lineage")
    assert lineage["displayName"] == added["displayName"] == "Segment S Lineage"
    assert lineage["lineageSearch"] is True


def test_the_portal_reads_the_generated_schemas() -> None:
    for key, organism in helm_organisms().items():
        parsed = parse_organism(
            key, {"schema": organism.website_schema(), "referenceGenomes": organism.reference_genomes()}
        )
        assert parsed.display_name == organism.display_name
        assert [f.name for f in parsed.required_fields] == [
            f["name"] for f in organism.website_schema()["inputFields"] if f.get("required")
        ]
    cchf = parse_organism(
        "cchf",
        {
            "schema": helm_organisms()["cchf"].website_schema(),
            "referenceGenomes": helm_organisms()["cchf"].reference_genomes(),
        },
    )
    assert cchf.segments == ("L", "M", "S")
    assert cchf.is_multi_segment


def test_processing_applies_the_real_required_fields_options_and_dates() -> None:
    cchf = helm_organisms()["cchf"]
    empty = process_entry(cchf, {}, {}, TODAY)
    assert [e["message"] for e in empty.errors] == [
        "Metadata field geoLocCountry is required.",
        "Metadata field sampleCollectionDate is required.",
    ]
    entry = {"geoLocCountry": "uganda", "sampleCollectionDate": "2024-05", "sequencingInstrument": "Kazoo 3000"}
    processed = process_entry(cchf, entry, {"iso1_L": "ACGT"}, TODAY)
    assert processed.metadata["geoLocCountry"] == "Uganda"
    assert [w["message"] for w in processed.warnings] == [
        "Metadata field sampleCollectionDate:'2024-05' - Day is missing. Assuming the 1st."
    ]
    assert [e["message"] for e in processed.errors] == [
        "Metadata field sequencingInstrument:'Kazoo 3000' - not in list of accepted options."
    ]
    west_nile = process_entry(helm_organisms()["west-nile"], {}, {}, TODAY)
    assert "Metadata field host is required." in [e["message"] for e in west_nile.errors]


def test_python_m_sandbox_serves_the_helm_organisms_by_default_and_processes_their_entries() -> None:
    assert parse_args([]).organisms == "helm"
    with start_sandbox(PORTAL_ORIGIN, organisms="helm", extra_args=["--processing-delay", "0"]) as running:
        body = running.http.get(f"{running.website}/loculus-info", timeout=30).json()
        assert list(body["organisms"]) == list(GENERATED)
        assert body["organisms"]["west-nile"]["schema"]["organismName"] == "West Nile Virus"
        assert body["organisms"]["cchf"]["schema"] == helm_organisms()["cchf"].website_schema()
        template = running.http.get(f"{running.website}/cchf/submission/template", timeout=30)
        assert template.text.split("\n")[0].split("\t")[:3] == ["id", "fastaIds", "ampliconPcrPrimerScheme"]

        backend = Backend(running, "current")
        metadata = tsv(
            ["id", "fastaIds", "geoLocCountry", "sampleCollectionDate"], ["iso1", "iso1_L iso1_S", "Atlantis", ""]
        )
        response = backend.submit("cchf", metadata, fasta(("iso1_L", "ACGT"), ("iso1_S", "ACGT")))
        assert response.status_code == 200, response.text
        accession = response.json()[0]["accession"]
        edit = backend.get(f"/cchf/get-data-to-edit/{accession}/1")
        assert edit.status_code == 200, edit.text
        assert [error["message"] for error in edit.json()["errors"]] == [
            "Metadata field geoLocCountry:'Atlantis' - not in list of accepted options.",
            "Metadata field sampleCollectionDate is required.",
        ]
        refused = backend.submit(
            "ebola-sudan",
            tsv(
                ["id", "geoLocCountry", "files.rawReads"],
                ["s1", "Sudan", "r.fastq:2ea137d0-8773-4e0a-a9aa-5591de12ff23"],
            ),
            fasta(("s1", "ACGT")),
        )
        assert_problem(refused, 400, "Bad Request", "the ebola-sudan organism does not support file submission.")
