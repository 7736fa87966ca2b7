"""``GET /api-docs``: an OpenAPI 3 document in the shape springdoc generates for Loculus.

Only the operations the sandbox implements are listed. As springdoc does for
``@RequestParam MultipartFile`` parameters, the submit body schema is inline (no
``$ref``); simple parameters are query parameters. The legacy generation adds the
``fileMapping`` part, which is how a client tells the two generations apart (contract §4.6).
"""

from __future__ import annotations

from typing import Any

from sandbox.organisms import ORGANISMS

METADATA_FILE_DESCRIPTION = """
A TSV (tab separated values) file containing the metadata of the submitted sequence entries.
The file may be compressed with zstd, xz, zip, gzip, lzma, bzip2 (with common extensions).
It must contain the column names.
The field 'id' is required and must be unique within the provided dataset.
It is used to associate metadata to the sequences in the sequences fasta file.
"""

SEQUENCE_FILE_DESCRIPTION = """
A fasta file containing the unaligned nucleotide sequences of the submitted sequences.
The file may be compressed with zstd, xz, zip, gzip, lzma, bzip2 (with common extensions).
If the underlying organism has a single segment,
the headers of the fasta file must match the 'id' field in the metadata file.
If the underlying organism has multiple segments,
the headers of the fasta file must be added in a ' '-separated list to the 'fastaIds'
field in the metadata file.
"""

FILE_MAPPING_DESCRIPTION = """
A JSON object. `{submissionID: {<fileCategory>: [{fileId: <fileId>, name: <fileName>}]}}`.
Files first need to be uploaded. Request pre-signed URLs to upload files using the
'/files/request-upload' endpoint.
"""

GROUP_ID_DESCRIPTION = """
The group id of the submitting group which the user is a member of.
A submitting group is a set of users that share access to the same sequence entries.
"""

BEARER = [{"bearerAuth": []}]


def _query(
    name: str, schema: dict[str, Any], *, required: bool = False, description: str | None = None
) -> dict[str, Any]:
    parameter: dict[str, Any] = {"name": name, "in": "query", "required": required, "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


def _ok(schema: dict[str, Any] | None, description: str = "OK") -> dict[str, Any]:
    if schema is None:
        return {"200": {"description": description}}
    return {"200": {"description": description, "content": {"application/json": {"schema": schema}}}}


def _json_operation(operation_id: str, body_schema: str) -> dict[str, Any]:
    """A review action: a JSON body (described loosely, by its backend class name), bearer auth."""
    return {
        "tags": ["submission-controller"],
        "operationId": operation_id,
        "parameters": [ORGANISM_PARAMETER],
        "requestBody": {
            "content": {"application/json": {"schema": {"type": "object", "title": body_schema}}},
            "required": True,
        },
        "responses": _ok({"type": "array", "items": {"type": "object"}}),
        "security": BEARER,
    }


ORGANISM_PARAMETER = {
    "name": "organism",
    "in": "path",
    "required": True,
    "schema": {"$ref": "#/components/schemas/Organism"},
}


def build_spec(server_url: str, generation: str) -> dict[str, Any]:
    submit_properties: dict[str, Any] = {
        "metadataFile": {"type": "string", "format": "binary", "description": METADATA_FILE_DESCRIPTION},
        "sequenceFile": {"type": "string", "format": "binary", "description": SEQUENCE_FILE_DESCRIPTION},
    }
    if generation == "legacy":
        submit_properties["fileMapping"] = {"type": "string", "description": FILE_MAPPING_DESCRIPTION}

    group_schema = {"type": "integer", "format": "int32"}
    paths: dict[str, Any] = {
        "/": {
            "get": {
                "tags": ["info-controller"],
                "operationId": "getInfo",
                "responses": _ok({"$ref": "#/components/schemas/Info"}),
            }
        },
        "/user/groups": {
            "get": {
                "tags": ["group-management-controller"],
                "summary": "Get all groups the user is a member of",
                "operationId": "getGroupsOfUser",
                "responses": _ok({"type": "array", "items": {"$ref": "#/components/schemas/Group"}}),
                "security": BEARER,
            }
        },
        "/groups/{groupId}": {
            "get": {
                "tags": ["group-management-controller"],
                "summary": "Get details of a group.",
                "operationId": "getUsersOfGroup",
                "parameters": [{"name": "groupId", "in": "path", "required": True, "schema": group_schema}],
                "responses": _ok({"$ref": "#/components/schemas/GroupDetails"}),
                "security": BEARER,
            }
        },
        "/groups": {
            "get": {
                "tags": ["group-management-controller"],
                "summary": "Get a list of all groups.",
                "operationId": "getAllGroups",
                "parameters": [_query("name", {"type": "string"})],
                "responses": _ok({"type": "array", "items": {"$ref": "#/components/schemas/Group"}}),
                "security": BEARER,
            },
            "post": {
                "tags": ["group-management-controller"],
                "summary": "Create a new Identity Group with the user as the only member.",
                "operationId": "createNewGroup",
                "requestBody": {
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewGroup"}}},
                    "required": True,
                },
                "responses": _ok({"$ref": "#/components/schemas/Group"}),
                "security": BEARER,
            },
        },
        "/files/request-upload": {
            "post": {
                "tags": ["files-controller"],
                "summary": "Request S3 pre-signed URLs for file uploads",
                "operationId": "requestUploads",
                "parameters": [
                    _query(
                        "groupId",
                        group_schema,
                        required=True,
                        description="The Group ID of the group which will own the files. "
                        "The requesting user must be a member of the group.",
                    ),
                    _query(
                        "numberFiles",
                        {"type": "integer", "format": "int32", "default": 1},
                        description="Number of files, default is 1.",
                    ),
                ],
                "responses": {
                    **_ok(
                        {"type": "array", "items": {"$ref": "#/components/schemas/FileIdAndWriteUrl"}},
                        "Successfully generated pre-signed upload URLs",
                    ),
                    "400": {"description": "Invalid request parameters"},
                    "401": {"description": "Authentication required"},
                    "403": {"description": "User is not a member of the specified group"},
                    "404": {"description": "Group does not exist"},
                },
                "security": BEARER,
            }
        },
        "/files/request-multipart-upload": {
            "post": {
                "tags": ["files-controller"],
                "operationId": "requestMultipartUploads",
                "parameters": [
                    _query("groupId", group_schema, required=True),
                    _query("numberFiles", {"type": "integer", "format": "int32", "default": 1}),
                    _query("numberParts", {"type": "integer", "format": "int32", "default": 1}),
                ],
                "responses": _ok(
                    {"type": "array", "items": {"$ref": "#/components/schemas/FileIdAndMultipartWriteUrl"}}
                ),
                "security": BEARER,
            }
        },
        "/files/complete-multipart-upload": {
            "post": {
                "tags": ["files-controller"],
                "operationId": "completeMultipartUploads",
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {"type": "array", "items": {"$ref": "#/components/schemas/FileIdAndEtags"}}
                        }
                    },
                    "required": True,
                },
                "responses": _ok(None),
                "security": BEARER,
            }
        },
        "/{organism}/submit": {
            "post": {
                "tags": ["submission-controller"],
                "operationId": "submit",
                "parameters": [
                    ORGANISM_PARAMETER,
                    _query("groupId", group_schema, required=True, description=GROUP_ID_DESCRIPTION),
                    _query(
                        "dataUseTermsType",
                        {"type": "string", "enum": ["OPEN", "RESTRICTED"]},
                        description="Data Use terms under which data is released. "
                        "Mandatory when data use terms are enabled for this Instance.",
                    ),
                    _query(
                        "restrictedUntil",
                        {"type": "string"},
                        description="Mandatory when data use terms are set to 'RESTRICTED'. "
                        "It is the date when the sequence entries will become 'OPEN'. Format: YYYY-MM-DD",
                    ),
                ],
                "requestBody": {
                    "content": {
                        "multipart/form-data": {
                            "schema": {"required": ["metadataFile"], "type": "object", "properties": submit_properties}
                        }
                    }
                },
                "responses": {
                    "200": {
                        "description": "Returns a list of accession, version and submissionId "
                        "of the submitted sequence entries.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/SubmissionIdMapping"},
                                }
                            }
                        },
                    },
                    "400": {
                        "description": "The data use terms type have not been provided, "
                        "even though they are enabled for this Loculus instance."
                    },
                },
                "security": BEARER,
            }
        },
        "/{organism}/revise": {
            "post": {
                "tags": ["submission-controller"],
                "operationId": "revise",
                "parameters": [ORGANISM_PARAMETER],
                "requestBody": {
                    "content": {
                        "multipart/form-data": {
                            "schema": {"required": ["metadataFile"], "type": "object", "properties": submit_properties}
                        }
                    }
                },
                "responses": _ok({"type": "array", "items": {"$ref": "#/components/schemas/SubmissionIdMapping"}}),
                "security": BEARER,
            }
        },
        "/{organism}/revoke": {
            "post": _json_operation("revoke", "AccessionsToRevokeWithComment"),
        },
        "/{organism}/get-submitted-data": {
            "post": {
                **_json_operation("getSubmittedData", "GetSubmittedDataRequest"),
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
                    }
                },
            },
        },
        "/{organism}/get-sequences": {
            "get": {
                "tags": ["submission-controller"],
                "operationId": "getSequenceList",
                "parameters": [
                    ORGANISM_PARAMETER,
                    _query("groupIdsFilter", {"type": "array", "items": {"type": "integer", "format": "int32"}}),
                    _query(
                        "statusesFilter",
                        {
                            "type": "array",
                            "items": {
                                "type": "string",
                                "enum": ["RECEIVED", "IN_PROCESSING", "PROCESSED", "APPROVED_FOR_RELEASE"],
                            },
                        },
                    ),
                    _query(
                        "processingResultFilter",
                        {
                            "type": "array",
                            "items": {"type": "string", "enum": ["NO_ISSUES", "HAS_WARNINGS", "HAS_ERRORS"]},
                        },
                    ),
                    _query("page", {"type": "integer", "format": "int32"}),
                    _query("size", {"type": "integer", "format": "int32"}),
                ],
                "responses": _ok({"$ref": "#/components/schemas/GetSequenceResponse"}),
                "security": BEARER,
            }
        },
        "/{organism}/approve-processed-data": {
            "post": _json_operation("approveProcessedData", "AccessionVersionsFilterWithApprovalScope"),
        },
        "/{organism}/delete-sequence-entry-versions": {
            "delete": _json_operation("deleteSequence", "AccessionVersionsFilterWithDeletionScope"),
        },
        "/{organism}/submit-edited-data": {
            "post": {
                **_json_operation("submitEditedData", "EditedSequenceEntryData"),
                "responses": {"204": {"description": "No Content"}},
            },
        },
        "/{organism}/get-data-to-edit/{accession}/{version}": {
            "get": {
                "tags": ["submission-controller"],
                "operationId": "getSequenceEntryVersionThatHasErrors",
                "parameters": [
                    ORGANISM_PARAMETER,
                    {"name": "accession", "in": "path", "required": True, "schema": {"type": "string"}},
                    {
                        "name": "version",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "format": "int64"},
                    },
                ],
                "responses": _ok({"type": "object"}),
                "security": BEARER,
            }
        },
    }

    string = {"type": "string"}
    schemas: dict[str, Any] = {
        "Organism": {"type": "string", "enum": list(ORGANISMS)},
        "Info": {
            "type": "object",
            "properties": {
                "name": string,
                "status": string,
                "documentation": string,
                "isInDebugMode": {"type": "boolean"},
            },
        },
        "Address": {
            "required": ["city", "country", "line1", "line2", "postalCode", "state"],
            "type": "object",
            "properties": {k: string for k in ("line1", "line2", "city", "state", "postalCode", "country")},
        },
        "Group": {
            "required": ["address", "groupId", "groupName", "institution"],
            "type": "object",
            "properties": {
                "groupId": group_schema,
                "groupName": string,
                "institution": string,
                "address": {"$ref": "#/components/schemas/Address"},
                "contactEmail": string,
            },
        },
        "NewGroup": {
            "required": ["address", "contactEmail", "groupName", "institution"],
            "type": "object",
            "properties": {
                "groupName": string,
                "institution": string,
                "address": {"$ref": "#/components/schemas/Address"},
                "contactEmail": string,
            },
        },
        "GroupDetails": {
            "type": "object",
            "properties": {
                "group": {"$ref": "#/components/schemas/Group"},
                "users": {"type": "array", "items": {"type": "object", "properties": {"name": string}}},
            },
        },
        "FileIdAndWriteUrl": {
            "required": ["fileId", "headers", "url"],
            "type": "object",
            "properties": {
                "fileId": {"type": "string", "format": "uuid"},
                "url": string,
                "headers": {"type": "object", "additionalProperties": string},
            },
        },
        "FileIdAndMultipartWriteUrl": {
            "required": ["fileId", "urls"],
            "type": "object",
            "properties": {"fileId": {"type": "string", "format": "uuid"}, "urls": {"type": "array", "items": string}},
        },
        "FileIdAndEtags": {
            "required": ["etags", "fileId"],
            "type": "object",
            "properties": {"fileId": {"type": "string", "format": "uuid"}, "etags": {"type": "array", "items": string}},
        },
        "SubmissionIdMapping": {
            "required": ["accession", "submissionId", "version"],
            "type": "object",
            "properties": {
                "accession": string,
                "version": {"type": "integer", "format": "int64"},
                "submissionId": string,
            },
        },
        "GetSequenceResponse": {
            "type": "object",
            "properties": {
                "sequenceEntries": {"type": "array", "items": {"type": "object"}},
                "statusCounts": {"type": "object", "additionalProperties": {"type": "integer", "format": "int32"}},
                "processingResultCounts": {
                    "type": "object",
                    "additionalProperties": {"type": "integer", "format": "int32"},
                },
            },
        },
    }

    return {
        "openapi": "3.0.1",
        "info": {"title": "OpenAPI definition", "version": "v0"},
        "servers": [{"url": server_url, "description": "Generated server url"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
