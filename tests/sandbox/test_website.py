"""The website's ``/loculus-info`` and the pages a portal links to (contract §7)."""

from __future__ import annotations

import io

import openpyxl
import requests

from sandbox.launcher import RunningSandbox
from tests.sandbox.helpers import TIMEOUT

INPUT_FIELD_KEYS = {
    "name",
    "displayName",
    "definition",
    "guidance",
    "example",
    "required",
    "desired",
    "noEdit",
    "options",
}


def info(sb: RunningSandbox) -> dict:  # type: ignore[type-arg]
    response = requests.get(f"{sb.website}/loculus-info", headers={"Origin": "http://x.example"}, timeout=TIMEOUT)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return dict(response.json())


def test_loculus_info_names_the_hosts_and_exactly_three_organisms(loculus_sandbox: RunningSandbox) -> None:
    body = info(loculus_sandbox)
    assert body["hosts"]["backend"] == loculus_sandbox.backend
    assert body["hosts"]["keycloak"] == loculus_sandbox.keycloak
    assert body["hosts"]["website"] == loculus_sandbox.website
    assert set(body["hosts"]["lapis"]) == {"ebola-sudan", "cchf", "wastewater"}
    assert body["title"] == "Loculus sandbox"
    assert body["minCliVersion"] == "0.0.0"
    assert list(body["organisms"]) == ["ebola-sudan", "cchf", "wastewater"]


def test_each_organism_has_the_configured_submission_data_types(loculus_sandbox: RunningSandbox) -> None:
    organisms = info(loculus_sandbox)["organisms"]
    ebola, cchf, wastewater = (organisms[key]["schema"] for key in ("ebola-sudan", "cchf", "wastewater"))
    assert ebola["organismName"] == "Ebola Sudan"
    assert ebola["submissionDataTypes"] == {
        "consensusSequences": True,
        "maxSequencesPerEntry": 1,
        "files": {"enabled": True, "categories": [{"name": "rawReads", "displayName": "Raw reads"}]},
    }
    assert [g["name"] for g in organisms["ebola-sudan"]["referenceGenomes"]] == ["main"]
    assert cchf["organismName"] == "Crimean-Congo Hemorrhagic Fever Virus"
    assert cchf["submissionDataTypes"]["maxSequencesPerEntry"] == 3
    assert [g["name"] for g in organisms["cchf"]["referenceGenomes"]] == ["L", "M", "S"]
    assert wastewater["organismName"] == "Wastewater metagenomics"
    assert wastewater["submissionDataTypes"]["consensusSequences"] is False
    assert wastewater["submissionDataTypes"]["files"]["categories"] == [
        {"name": "rawReads", "displayName": "Raw reads"},
        {"name": "qcReports", "displayName": "QC reports"},
    ]
    assert organisms["wastewater"]["referenceGenomes"] == []


def test_input_fields_start_with_id_and_multi_segment_organisms_get_fasta_ids(loculus_sandbox: RunningSandbox) -> None:
    organisms = info(loculus_sandbox)["organisms"]
    for key, organism in organisms.items():
        fields = organism["schema"]["inputFields"]
        assert fields[0] == {**fields[0], "name": "id", "displayName": "ID", "required": True, "noEdit": True}
        assert all(set(field) <= INPUT_FIELD_KEYS for field in fields), key
        assert all(field["definition"] and field["example"] for field in fields), key
        has_fasta_ids = any(field["name"] == "fastaIds" for field in fields)
        assert has_fasta_ids == (key == "cchf")
    cchf_fasta_ids = next(f for f in organisms["cchf"]["schema"]["inputFields"] if f["name"] == "fastaIds")
    assert cchf_fasta_ids["displayName"] == "FASTA IDs"
    assert cchf_fasta_ids["desired"] is True
    country = next(f for f in organisms["ebola-sudan"]["schema"]["inputFields"] if f["name"] == "geoLocCountry")
    assert country["required"] is True
    assert len(country["options"]) >= 10


def test_the_group_creation_page_has_keycloak_free_instructions(loculus_sandbox: RunningSandbox) -> None:
    response = requests.get(
        f"{loculus_sandbox.website}/user/createGroup", params={"continueSubmissionOrganism": "cchf"}, timeout=TIMEOUT
    )
    assert response.status_code == 200
    assert "<title>Create a new submitting group</title>" in response.text
    assert "Crimean-Congo Hemorrhagic Fever Virus" in response.text


def test_the_home_page_says_what_this_is(loculus_sandbox: RunningSandbox) -> None:
    assert "Loculus sandbox" in requests.get(loculus_sandbox.website, timeout=TIMEOUT).text


# --- /{organism}/submission/template (website pages/[organism]/submission/template/index.ts) ---------------

EBOLA_TSV_COLUMNS = [
    "id",
    "sampleCollectionDate",
    "geoLocCountry",
    "geoLocAdmin1",
    "specimenCollectorSampleId",
    "hostNameScientific",
    "sequencingInstrument",
    "sequencingProtocol",
    "authors",
    "authorAffiliations",
    "files.rawReads",
]


def get_template(sb: RunningSandbox, organism: str, **params: str) -> requests.Response:
    return requests.get(f"{sb.website}/{organism}/submission/template", params=params, timeout=TIMEOUT)


def test_the_template_is_a_tsv_header_row_by_default(loculus_sandbox: RunningSandbox) -> None:
    response = get_template(loculus_sandbox, "ebola-sudan")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/tab-separated-values"
    assert response.headers["Content-Disposition"] == 'attachment; filename="Ebola_Sudan_metadata_template.tsv"'
    assert response.text == "\t".join(EBOLA_TSV_COLUMNS) + "\n"


def test_the_revision_template_leads_with_accession(loculus_sandbox: RunningSandbox) -> None:
    response = get_template(loculus_sandbox, "cchf", format="revise", fileType="tsv")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="Crimean-Congo_Hemorrhagic_Fever_Virus_metadata_revision_template.tsv"'
    )
    assert response.text.split("\n")[0].split("\t")[:4] == ["accession", "id", "fastaIds", "sampleCollectionDate"]


def test_the_template_of_a_metadata_only_organism_has_a_column_per_file_category(
    loculus_sandbox: RunningSandbox,
) -> None:
    columns = get_template(loculus_sandbox, "wastewater").text.rstrip("\n").split("\t")
    assert columns[-2:] == ["files.rawReads", "files.qcReports"]


def test_an_unknown_file_type_falls_back_to_tsv_and_an_unknown_organism_is_404(loculus_sandbox: RunningSandbox) -> None:
    assert get_template(loculus_sandbox, "ebola-sudan", fileType="csv").text == "\t".join(EBOLA_TSV_COLUMNS) + "\n"
    missing = get_template(loculus_sandbox, "unknownOrganism")
    assert missing.status_code == 404
    assert missing.content == b""


def test_the_xlsx_template_has_data_lists_and_guidance_sheets(loculus_sandbox: RunningSandbox) -> None:
    response = get_template(loculus_sandbox, "ebola-sudan", fileType="XLSX")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Content-Disposition"] == 'attachment; filename="Ebola_Sudan_metadata_template.xlsx"'
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Data", "_lists", "Guidance"]
    data, lists, guidance = (workbook[name] for name in workbook.sheetnames)
    assert [cell.value for cell in data[1]] == EBOLA_TSV_COLUMNS
    assert data.freeze_panes == "A2"
    assert data["A1"].comment.text.endswith("Required field")
    assert lists.sheet_state == "hidden"
    assert lists["A1"].value == "geoLocCountry"
    assert lists["A2"].value is not None
    [validation] = [v for v in data.data_validations.dataValidation if "C2:C100000" in str(v.sqref)]
    assert validation.type == "list"
    assert validation.errorStyle == "stop"
    assert "MATCH(C$1,'_lists'!$1:$1,0)-1" in validation.formula1
    assert [cell.value for cell in guidance[1]] == [
        "Field name",
        "Display name",
        "Required",
        "Definition",
        "Guidance",
        "Example",
        "Allowed values",
    ]
    assert guidance["A2"].value == "id"
    assert guidance["C2"].value == "Yes"
