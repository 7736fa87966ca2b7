"""Which generation of file linking the backend speaks: from the setting or from its /api-docs."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from sandbox.launcher import RunningSandbox
from submitportal.loculus import files_protocol
from submitportal.loculus.files_protocol import FilesProtocol

SUBMIT_CURRENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "paths": {
        "/{organism}/submit": {
            "post": {
                "operationId": "submit",
                "parameters": [
                    {"name": "organism", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "groupId", "in": "query", "required": True, "schema": {"type": "integer"}},
                    {"name": "dataUseTermsType", "in": "query", "required": False, "schema": {"type": "string"}},
                ],
                "requestBody": {
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["metadataFile"],
                                "properties": {
                                    "metadataFile": {"type": "string", "format": "binary"},
                                    "sequenceFile": {"type": "string", "format": "binary"},
                                },
                            }
                        }
                    }
                },
            }
        },
        "/{organism}/revise": {"post": {"operationId": "revise"}},
    },
}


def with_file_mapping_part(doc: dict[str, Any]) -> dict[str, Any]:
    legacy = copy.deepcopy(doc)
    schema = legacy["paths"]["/{organism}/submit"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    schema["properties"]["fileMapping"] = {"type": "string", "description": "A JSON object."}
    return legacy


def test_a_submit_without_file_mapping_means_metadata_columns() -> None:
    assert files_protocol.protocol_from_api_docs(SUBMIT_CURRENT) is FilesProtocol.METADATA_COLUMNS


def test_a_file_mapping_multipart_part_means_the_legacy_protocol() -> None:
    assert files_protocol.protocol_from_api_docs(with_file_mapping_part(SUBMIT_CURRENT)) is FilesProtocol.FILE_MAPPING


def test_a_file_mapping_parameter_means_the_legacy_protocol() -> None:
    doc = copy.deepcopy(SUBMIT_CURRENT)
    doc["paths"]["/{organism}/submit"]["post"]["parameters"].append(
        {"name": "fileMapping", "in": "query", "schema": {"type": "string"}}
    )
    assert files_protocol.protocol_from_api_docs(doc) is FilesProtocol.FILE_MAPPING


def test_a_file_mapping_part_behind_a_schema_reference_is_found() -> None:
    doc = with_file_mapping_part(SUBMIT_CURRENT)
    content = doc["paths"]["/{organism}/submit"]["post"]["requestBody"]["content"]["multipart/form-data"]
    doc["components"] = {"schemas": {"SubmitBody": content["schema"]}}
    content["schema"] = {"$ref": "#/components/schemas/SubmitBody"}
    assert files_protocol.protocol_from_api_docs(doc) is FilesProtocol.FILE_MAPPING


def test_a_document_without_a_submit_operation_cannot_decide() -> None:
    with pytest.raises(files_protocol.DetectionFailed, match=re.escape("no /{organism}/submit operation")):
        files_protocol.protocol_from_api_docs({"openapi": "3.1.0", "paths": {"/user/groups": {"get": {}}}})


def test_the_setting_wins_over_detection(settings: Any, loculus: RunningSandbox) -> None:
    loculus.configure(generation="legacy")
    settings.LOCULUS_FILES_PROTOCOL = "metadataColumns"
    choice = files_protocol.current_choice()
    assert (choice.protocol, choice.source) == (FilesProtocol.METADATA_COLUMNS, "setting")


@pytest.mark.parametrize(
    ("generation", "expected"),
    [("current", FilesProtocol.METADATA_COLUMNS), ("legacy", FilesProtocol.FILE_MAPPING)],
)
def test_auto_detects_each_generation_of_the_sandbox(
    loculus: RunningSandbox, generation: str, expected: FilesProtocol, caplog: pytest.LogCaptureFixture
) -> None:
    loculus.configure(generation=generation)
    caplog.set_level("INFO", logger="submitportal.loculus")
    choice = files_protocol.current_choice()
    assert choice.protocol is expected
    assert choice.source == "detected"
    assert f"{loculus.backend}/api-docs" in choice.explanation
    assert f"Files protocol: {expected.value}" in caplog.text


def test_a_failed_detection_refuses_files_and_names_the_setting(settings: Any, loculus: RunningSandbox) -> None:
    loculus.add_faults({"path": "/api-docs", "method": "GET", "status": 500, "times": 10})
    choice = files_protocol.current_choice()
    assert choice.protocol is None
    assert choice.source == "failed"
    assert "LOCULUS_FILES_PROTOCOL" in choice.refusal
    assert "Submissions without extra files still work" in choice.refusal


def test_the_detected_protocol_is_cached(loculus: RunningSandbox) -> None:
    assert files_protocol.current_choice().protocol is FilesProtocol.METADATA_COLUMNS
    loculus.configure(generation="legacy")
    assert files_protocol.current_choice().protocol is FilesProtocol.METADATA_COLUMNS
    files_protocol.clear_cache()
    assert files_protocol.current_choice().protocol is FilesProtocol.FILE_MAPPING
