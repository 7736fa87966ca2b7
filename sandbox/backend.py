"""The Loculus backend stand-in: auth, files, submit, review, revise and revoke, groups, OpenAPI, admin API.

Everything a client can observe follows ``backend-contract.md``: status codes, ProblemDetail
bodies, Spring Security's 401/403 shapes, ``x-request-id`` and CORS. Where Spring's own order
of argument resolution decides which error wins, the sandbox follows Spring (see README).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from botocore.exceptions import ClientError
from flask import Flask, Response, g, request
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import HTTPException

from sandbox import openapi
from sandbox.faults import FaultInjector, admin_rules_from_json
from sandbox.organisms import ORGANISMS, Organism
from sandbox.people import USERS, Group
from sandbox.problems import (
    BadRequest,
    Conflict,
    Forbidden,
    InternalError,
    NotFound,
    Problem,
    Unprocessable,
    problem_body,
)
from sandbox.processing import MAX_KEPT_SEQUENCE_BYTES, read_sequences
from sandbox.revision import (
    MAX_SUBMITTED_DATA_DOWNLOAD_ENTRIES,
    Caller,
    check_latest_versions_released,
    downloadable,
    latest_versions,
    revocation_of,
    submitted_data_filename,
    submitted_data_zip,
    validate_revision,
)
from sandbox.s3 import S3Storage
from sandbox.settings import RuntimeSettings
from sandbox.state import FileRecord, SequenceEntry, Store, utc_now
from sandbox.submit_validation import (
    GENERATIONS,
    SEQUENCE_EXTENSIONS,
    FileRef,
    SubmitUpload,
    UploadedFile,
    detect_compression,
    open_decompressed,
    validate_data_use_terms,
    validate_files,
    validate_submission,
)
from submitportal.splice_copy import can_splice, splice_to_file

SPRING_ERROR_URI = "https://tools.ietf.org/html/rfc6750#section-3.1"
STATUSES = ("RECEIVED", "IN_PROCESSING", "PROCESSED", "APPROVED_FOR_RELEASE")
PROCESSING_RESULTS = ("NO_ISSUES", "HAS_WARNINGS", "HAS_ERRORS")
APPROVAL_SCOPES = ("ALL", "WITHOUT_WARNINGS")
DELETION_SCOPES = ("ALL", "PROCESSED_WITH_ERRORS", "PROCESSED_WITH_WARNINGS")
DELETABLE = ("RECEIVED", "PROCESSED")
COPY_CHUNK = 1 << 20
SINK_CHUNK = 1 << 20
SINK_IDLE_SECONDS = 120


@dataclass(frozen=True)
class AuthenticatedUser:
    username: str
    roles: tuple[str, ...]

    @property
    def is_super_user(self) -> bool:
        return "super_user" in self.roles

    @property
    def is_pipeline(self) -> bool:
        return "preprocessing_pipeline" in self.roles


class AuthFailure(Exception):
    """A Spring Security filter-chain answer: no ProblemDetail, just status and headers."""

    def __init__(self, status: int, www_authenticate: str | None, body: dict[str, Any] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.www_authenticate = www_authenticate
        self.body = body


def invalid_token(description: str) -> AuthFailure:
    return AuthFailure(
        401, f'Bearer error="invalid_token", error_description="{description}", error_uri="{SPRING_ERROR_URI}"'
    )


class TokenVerifier:
    """Verifies bearer JWTs against the realm's JWKS fetched over HTTP, as Spring's resource server does."""

    def __init__(self, jwks_url: str) -> None:
        self.client = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=10)

    def verify(self, token: str) -> AuthenticatedUser:
        prefix = "An error occurred while attempting to decode the Jwt: "
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise invalid_token(prefix + "Malformed token") from None
        try:
            key = self.client.get_signing_key(header.get("kid", "")).key
        except jwt.PyJWKClientConnectionError:
            raise invalid_token(prefix + "Couldn't retrieve remote JWK set") from None
        except jwt.PyJWKClientError:
            raise invalid_token(
                prefix + "Signed JWT rejected: Another algorithm expected, or no matching key(s) found"
            ) from None
        try:
            # No issuer or audience check, like Loculus (only jwk-set-uri is configured); 60 s skew as Spring.
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                leeway=60,
                options={"verify_aud": False, "verify_iss": False, "require": ["exp"]},
            )
        except jwt.ExpiredSignatureError:
            expired = jwt.decode(token, options={"verify_signature": False}).get("exp", 0)
            when = dt.datetime.fromtimestamp(int(expired), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            raise invalid_token(prefix + f"Jwt expired at {when}") from None
        except jwt.InvalidSignatureError:
            raise invalid_token(prefix + "Signed JWT rejected: Invalid signature") from None
        except jwt.PyJWTError:
            raise invalid_token(prefix + "Malformed token") from None
        username = claims.get("preferred_username")
        if not isinstance(username, str):
            raise invalid_token("Token is missing the 'preferred_username' claim")
        roles = claims.get("realm_access", {}).get("roles", []) if isinstance(claims.get("realm_access"), dict) else []
        return AuthenticatedUser(username, tuple(role for role in roles if isinstance(role, str)))


# Paths and methods that Loculus' SecurityConfig lets through without a token.
PUBLIC_ANY = re.compile(r"^(/|/favicon\.ico|/error(/.*)?|/actuator(/.*)?|/api-docs.*|/swagger-ui(/.*)?)$")
PUBLIC_GET = re.compile(
    r"^(/data-use-terms/[^/]+|/get-seqset|/get-seqset-records|/get-seqset-citations|/get-sequence-citations"
    r"|/get-author|/[^/]+/get-released-data|/files/get/.*|/groups/[^/]+)$"
)
PUBLIC_HEAD = re.compile(r"^/files/get/.*$")


def parse_spring_int(name: str, raw: str | None, *, default: int | None = None) -> int:
    """Convert a request parameter as Spring's NumberUtils does, with Spring's error details."""
    if raw is None or raw.strip() == "":
        if default is not None:
            return default
        raise BadRequest(f"Required parameter '{name}' is not present.")
    text = "".join(raw.split())
    try:
        sign = -1 if text.startswith("-") else 1
        body = text.lstrip("+-") if text[:1] in "+-" else text
        if body.lower().startswith("0x"):
            value = int(body[2:], 16)
        elif body.startswith("#"):
            value = int(body[1:], 16)
        elif len(body) > 1 and body.startswith("0") and body.isdigit():
            value = int(body, 8)  # Integer.decode treats a leading zero as octal
        else:
            if not body.isdigit():
                raise ValueError(raw)
            value = int(body)
        value *= sign
        if not -(2**31) <= value < 2**31:
            raise ValueError(raw)
    except ValueError:
        raise BadRequest(f"Failed to convert '{name}' with value: '{raw}'") from None
    return value


def create_backend_app(
    settings: RuntimeSettings,
    store: Store,
    storage: S3Storage,
    verifier: TokenVerifier,
    faults: FaultInjector,
    s3_faults: FaultInjector | None = None,
) -> Flask:
    app = Flask("sandbox.backend")
    # Uploads are spooled to temporary files by werkzeug; never limit or buffer them in memory.
    app.config["MAX_CONTENT_LENGTH"] = None
    app.config["MAX_FORM_MEMORY_SIZE"] = 64 * 1024 * 1024  # text fields only (e.g. a legacy fileMapping)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    submit_lock = threading.Lock()
    initial = (
        settings.generation,
        settings.url_expiry_seconds,
        settings.token_lifetime,
        settings.processing_delay_seconds,
    )

    def problem_response(status: int, detail: str | None, headers: dict[str, str] | None = None) -> Response:
        response = Response(
            json.dumps(problem_body(status, detail, request.path)),
            status=status,
            content_type="application/problem+json",
        )
        for key, value in (headers or {}).items():
            response.headers[key] = value
        return response

    def json_response(data: Any, status: int = 200) -> Response:
        return Response(json.dumps(data), status=status, content_type="application/json")

    # --- request pipeline: CORS, CSRF, bearer auth, authorization (Spring Security order) ---------

    @app.before_request
    def security_filter_chain() -> Response | None:
        g.request_id = request.headers.get("x-request-id") or str(uuid.uuid4())
        g.user = None
        if request.path.startswith("/_sandbox/"):
            return None
        if (
            request.method == "OPTIONS"
            and request.headers.get("Origin")
            and request.headers.get("Access-Control-Request-Method")
        ):
            return preflight()
        authorization = request.headers.get("Authorization", "")
        has_bearer = authorization[:7].lower() == "bearer "
        try:
            if not has_bearer and request.method in ("POST", "PUT", "DELETE", "PATCH"):
                # CSRF protection exempts only requests carrying a bearer token (Loculus issue #4601).
                raise AuthFailure(
                    403,
                    None,
                    {
                        "timestamp": utc_now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+00:00",
                        "status": 403,
                        "error": "Forbidden",
                        "path": request.path,
                    },
                )
            if has_bearer:
                token = authorization[7:].strip()
                if not token:
                    raise invalid_token("Bearer token is malformed")
                g.user = verifier.verify(token)
            if g.user is None and not is_public(request.method, request.path):
                raise AuthFailure(401, "Bearer")
        except AuthFailure as failure:
            body = json.dumps(failure.body) if failure.body is not None else ""
            response = Response(body, status=failure.status)
            if failure.body is not None:
                response.headers["Content-Type"] = "application/json"
            else:
                response.headers.pop("Content-Type", None)
            if failure.www_authenticate:
                response.headers["WWW-Authenticate"] = failure.www_authenticate
            return response
        return None

    def is_public(method: str, path: str) -> bool:
        return (
            PUBLIC_ANY.match(path) is not None
            or (method == "GET" and PUBLIC_GET.match(path) is not None)
            or (method == "HEAD" and PUBLIC_HEAD.match(path) is not None)
            or method == "OPTIONS"
        )

    def preflight() -> Response:
        response = Response("", status=200)
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET,POST,PUT,DELETE,OPTIONS,HEAD"
        requested = request.headers.get("Access-Control-Request-Headers")
        if requested:
            response.headers["Access-Control-Allow-Headers"] = requested
        response.headers["Access-Control-Max-Age"] = "3600"
        response.headers.pop("Content-Type", None)
        return response

    @app.after_request
    def common_headers(response: Response) -> Response:
        response.headers["x-request-id"] = getattr(g, "request_id", None) or str(uuid.uuid4())
        if request.headers.get("Origin") and "Access-Control-Allow-Origin" not in response.headers:
            response.headers["Access-Control-Allow-Origin"] = "*"
            response.headers["Access-Control-Expose-Headers"] = "x-request-id"
        response.headers["Vary"] = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
        return response

    @app.errorhandler(Problem)
    def on_problem(error: Problem) -> Response:
        headers = {"WWW-Authenticate": "Bearer"} if error.status in (401, 403) else None
        return problem_response(error.status, error.detail, headers)

    @app.errorhandler(HTTPException)
    def on_http_exception(error: HTTPException) -> Response:
        status = error.code or 500
        if status == 404:
            detail = f"No static resource {request.path.lstrip('/')}."
        elif status == 405:
            detail = f"Method '{request.method}' is not supported."
        elif status == 413:
            detail = "Maximum upload size exceeded"
        else:
            detail = error.description
        return problem_response(status, detail)

    @app.errorhandler(Exception)
    def on_unexpected(error: Exception) -> Response:
        app.logger.exception("unexpected error")
        return problem_response(500, str(error) or None)

    # --- helpers -------------------------------------------------------------------------------

    def user() -> AuthenticatedUser:
        current: AuthenticatedUser | None = g.user
        if current is None:  # protected routes never get here without a user
            raise InternalError("no authenticated user")
        return current

    def require_groups_exist(group_ids: list[int]) -> None:
        missing = [str(gid) for gid in dict.fromkeys(group_ids) if gid not in store.groups]
        if missing:
            raise NotFound(f"Group(s) {', '.join(missing)} do(es) not exist.")

    def require_member(group_ids: list[int], current: AuthenticatedUser) -> None:
        if current.is_super_user:
            return
        missing = [str(gid) for gid in dict.fromkeys(group_ids) if current.username not in store.groups[gid].members]
        if missing:
            raise Forbidden(
                f"User {current.username} is not a member of group(s) {', '.join(missing)}. Action not allowed."
            )

    def organism_or_400(key: str, method_name: str) -> Organism:
        organism = ORGANISMS.get(key)
        if organism is None:
            keys = ", ".join(ORGANISMS)
            raise BadRequest(
                f"{method_name}.organism: Invalid organism: {key}, possible values are: [{keys}], "
                f"{method_name}.organism: Invalid organism"
            )
        return organism

    def require_multipart() -> None:
        content_type = request.headers.get("Content-Type")
        if not content_type or not content_type.lower().startswith("multipart/form-data"):
            shown = content_type or "application/octet-stream"
            raise Problem(f"Content-Type '{shown}' is not supported.", 415)

    def param(name: str) -> str | None:
        # Spring's @RequestParam reads the query string first, then form fields.
        if name in request.args:
            return request.args.get(name)
        return request.form.get(name)

    def int_list(name: str) -> list[int] | None:
        values = request.args.getlist(name)
        if not values:
            return None
        items = [item for value in values for item in value.split(",") if item.strip()]
        return [parse_spring_int(name, item) for item in items]

    def enum_list(name: str, allowed: tuple[str, ...]) -> list[str] | None:
        values = request.args.getlist(name)
        if not values:
            return None
        items = [item.strip() for value in values for item in value.split(",") if item.strip()]
        for item in items:
            if item not in allowed:
                raise BadRequest(f"Failed to convert '{name}' with value: '{','.join(values)}'")
        return items

    # --- info ---------------------------------------------------------------------------------

    @app.get("/")
    def info() -> Response:
        return json_response(
            {
                "name": "Loculus backend",
                "status": "Healthy",
                "documentation": "visit /swagger-ui/index.html",
                "isInDebugMode": False,
            }
        )

    @app.get("/api-docs")
    def api_docs() -> Response:
        return json_response(openapi.build_spec(settings.backend_url, settings.generation))

    # --- groups -------------------------------------------------------------------------------

    @app.get("/user/groups")
    def user_groups() -> Response:
        current = user()
        with store.lock:
            groups = list(store.groups.values()) if current.is_super_user else store.groups_of(current.username)
            return json_response([group.as_json() for group in groups])

    @app.get("/groups/<group_id>")
    def group_details(group_id: str) -> Response:
        gid = parse_spring_int("groupId", group_id)
        with store.lock:
            group = store.groups.get(gid)
            if group is None:
                raise NotFound(f"Group {gid} does not exist.")
            body = group.as_json()
            users: list[dict[str, str]] | None = [{"name": name} for name in group.members]
        if g.user is None:
            body["contactEmail"] = None
            users = None
        return json_response({"group": body, "users": users})

    @app.get("/groups")
    def all_groups() -> Response:
        name = request.args.get("name")
        with store.lock:
            groups = [
                group for group in store.groups.values() if name is None or group.group_name.lower() == name.lower()
            ]
            return json_response([group.as_json() for group in groups])

    @app.post("/groups")
    def create_group() -> Response:
        current = user()
        try:
            body = json.loads(request.get_data(as_text=True) or "null")
        except json.JSONDecodeError as error:
            raise BadRequest(f"JSON parse error: {error}") from None
        fields = ("groupName", "institution", "contactEmail")
        address_fields = ("line1", "line2", "city", "state", "postalCode", "country")
        if not isinstance(body, dict):
            raise BadRequest("Required request body is missing")
        for name in (*fields, "address"):
            if body.get(name) is None:
                raise BadRequest(
                    "JSON parse error: Instantiation of [simple type, class org.loculus.backend.api.NewGroup] "
                    f"value failed for JSON property {name} due to missing (therefore NULL) value for creator "
                    f"parameter {name} which is a non-nullable type"
                )
        address = body["address"]
        for name in address_fields:
            if not isinstance(address, dict) or address.get(name) is None:
                raise BadRequest(
                    "JSON parse error: Instantiation of [simple type, class org.loculus.backend.api.Address] "
                    f"value failed for JSON property {name} due to missing (therefore NULL) value for creator "
                    f"parameter {name} which is a non-nullable type"
                )
        with store.lock:
            gid = store.next_group_id
            store.next_group_id += 1
            group = Group(
                gid,
                str(body["groupName"]),
                str(body["institution"]),
                {name: str(address[name]) for name in address_fields},
                str(body["contactEmail"]),
                [current.username],
            )
            store.groups[gid] = group
        return json_response(group.as_json())

    @app.put("/groups/<group_id>/users/<username>")
    def add_member(group_id: str, username: str) -> Response:
        current = user()
        gid = parse_spring_int("groupId", group_id)
        if username not in USERS:
            raise NotFound(f"User {username} does not exist.")
        with store.lock:
            require_groups_exist([gid])
            require_member([gid], current)
            members = store.groups[gid].members
            if username in members:
                raise Conflict(f"User {username} is already member of the group {gid}.")
            members.append(username)
        return Response(status=204)

    @app.delete("/groups/<group_id>/users/<username>")
    def remove_member(group_id: str, username: str) -> Response:
        current = user()
        gid = parse_spring_int("groupId", group_id)
        with store.lock:
            require_groups_exist([gid])
            require_member([gid], current)
            members = store.groups[gid].members
            if username in members:
                members.remove(username)
        return Response(status=204)

    # --- files --------------------------------------------------------------------------------

    def may_upload_for(group_id: int, current: AuthenticatedUser) -> None:
        require_groups_exist([group_id])
        if not current.is_pipeline:
            require_member([group_id], current)

    def s3_problem(error: ClientError) -> Problem:
        code = error.response.get("Error", {}).get("Code", "Unknown")
        messages = {
            "EntityTooSmall": "EntityTooSmall: Your proposed upload is smaller than the minimum allowed object size. "
            "Each part, except the last one, must be at least 5 MB.",
            "InvalidPart": "InvalidPart: One or more of the specified parts could not be found. The part may not "
            "have been uploaded, or the specified etag may not match the part's etag.",
            "InvalidPartOrder": "The list of parts was not in ascending order. The parts list must be specified in "
            "order by part number.",
            "NoSuchKey": "NoSuchKey: The referenced file does not exist in storage. Uploaded files that are not "
            "referenced by a submission for too long are cleaned up automatically.",
        }
        if code in messages:
            return Unprocessable(messages[code])
        return InternalError(f"Unexpected S3 error: {code}")

    @app.post("/files/request-upload")
    def request_upload() -> Response:
        current = user()
        group_id = parse_spring_int("groupId", param("groupId"))
        number_files = parse_spring_int("numberFiles", param("numberFiles"), default=1)
        may_upload_for(group_id, current)
        if number_files < 1:
            raise BadRequest("Number of files must be at least 1")
        result = []
        for _ in range(number_files):
            file_id = str(uuid.uuid4())
            try:
                url = storage.presign_put(file_id, settings.url_expiry_seconds)
            except ClientError as error:
                raise s3_problem(error) from None
            with store.lock:
                store.files[file_id] = FileRecord(file_id, current.username, group_id, utc_now().isoformat())
            result.append({"fileId": file_id, "url": url, "headers": {"If-None-Match": "*"}})
        return json_response(result)

    @app.post("/files/request-multipart-upload")
    def request_multipart_upload() -> Response:
        current = user()
        group_id = parse_spring_int("groupId", param("groupId"))
        number_files = parse_spring_int("numberFiles", param("numberFiles"), default=1)
        number_parts = parse_spring_int("numberParts", param("numberParts"), default=1)
        may_upload_for(group_id, current)
        result = []
        for _ in range(number_files):  # numberFiles <= 0 gives [] (not validated by the backend)
            if number_parts <= 0 or number_parts > 10000:
                raise BadRequest("The number of parts must between 1 and 10000.")
            file_id = str(uuid.uuid4())
            try:
                upload_id, urls = storage.start_multipart(file_id, number_parts, settings.url_expiry_seconds)
            except ClientError as error:
                raise s3_problem(error) from None
            with store.lock:
                store.files[file_id] = FileRecord(
                    file_id, current.username, group_id, utc_now().isoformat(), multipart_upload_id=upload_id
                )
            result.append({"fileId": file_id, "urls": urls})
        return json_response(result)

    @app.post("/files/complete-multipart-upload")
    def complete_multipart_upload() -> Response:
        user()
        if not (request.headers.get("Content-Type") or "").lower().startswith("application/json"):
            raise Problem(
                f"Content-Type '{request.headers.get('Content-Type') or 'application/octet-stream'}' is not supported.",
                415,
            )
        try:
            body = json.loads(request.get_data(as_text=True))
            if not isinstance(body, list):
                raise ValueError("expected a list")
            wanted: dict[str, list[str] | None] = {}
            for item in body:
                file_id = str(uuid.UUID(str(item["fileId"])))
                etags = item.get("etags")
                wanted[file_id] = [str(etag) for etag in etags] if isinstance(etags, list) else None
        except (ValueError, KeyError, TypeError) as error:
            raise BadRequest(f"JSON parse error: {error}") from None
        with store.lock:
            uncompleted = {
                file_id: record.multipart_upload_id
                for file_id, record in store.files.items()
                if file_id in wanted and record.multipart_upload_id and not record.multipart_completed
            }
        already = [file_id for file_id in wanted if file_id not in uncompleted]
        if already:
            raise Unprocessable("The following files have already been completed: " + ", ".join(already))
        for file_id, upload_id in uncompleted.items():
            etags = wanted.get(file_id)
            if not etags:
                raise Unprocessable(f"No etags provided for file ID {file_id}.")
            started = time.time()
            try:
                storage.complete_multipart(file_id, str(upload_id), etags)
            except ClientError as error:
                raise s3_problem(error) from None
            with store.lock:
                store.files[file_id].multipart_completed = True
                store.files[file_id].completion = (started, time.time())
        return Response("", status=200)

    # --- submit ---------------------------------------------------------------------------------

    class StoreFileLookup:
        def uncompleted_multipart(self, file_ids: list[str]) -> list[tuple[str, str]]:
            with store.lock:
                return [
                    (fid, str(store.files[fid].multipart_upload_id))
                    for fid in file_ids
                    if fid in store.files
                    and store.files[fid].multipart_upload_id
                    and not store.files[fid].multipart_completed
                ]

        def nonexistent(self, file_ids: list[str]) -> list[str]:
            with store.lock:
                return [fid for fid in file_ids if fid not in store.files]

        def expired(self, file_ids: list[str]) -> list[str]:
            with store.lock:
                return [fid for fid in file_ids if store.files[fid].expired]

        def not_uploaded(self, file_ids: list[str]) -> list[str]:
            missing = []
            for fid in file_ids:
                with store.lock:
                    known = store.files[fid].size
                if known is not None:
                    continue  # the backend caches the size after the first successful HEAD
                try:
                    size = storage.size(fid)
                except ClientError as error:
                    raise s3_problem(error) from None
                if size is None:
                    missing.append(fid)
                else:
                    with store.lock:
                        store.files[fid].size = size
            return missing

        def owner_groups(self, file_ids: list[str]) -> dict[str, int]:
            with store.lock:
                return {fid: store.files[fid].group_id for fid in file_ids if fid in store.files}

    def copy_upload(storage_part: FileStorage, target: Any) -> None:
        storage_part.stream.seek(0)
        shutil.copyfileobj(storage_part.stream, target, COPY_CHUNK)

    def safe_name(name: str | None, fallback: str) -> str:
        cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", name or "")
        return cleaned or fallback

    def kept_sequences(sequence_path: Path | None, sequence_part: FileStorage | None) -> dict[str, str]:
        """The uploaded sequences by FASTA ID, for processing and download (none when too large to keep)."""
        if sequence_path is None or sequence_path.stat().st_size > MAX_KEPT_SEQUENCE_BYTES:
            return {}
        with open(sequence_path, "rb") as sequence_stream:
            kept = UploadedFile(sequence_part.filename if sequence_part else None, sequence_stream)
            compression = detect_compression(kept, "Sequence file", SEQUENCE_EXTENSIONS)
            with open_decompressed(kept, compression) as binary:
                return read_sequences(binary)

    @app.post("/<organism_key>/submit")
    def submit(organism_key: str) -> Response:
        current = user()
        require_multipart()
        group_id = parse_spring_int("groupId", param("groupId"))
        metadata_part = request.files.get("metadataFile")
        if metadata_part is None:
            raise BadRequest("Required part 'metadataFile' is not present.")
        sequence_part = request.files.get("sequenceFile")
        terms_raw = param("dataUseTermsType")
        terms_type = terms_raw.strip() if terms_raw is not None and terms_raw.strip() else None
        if terms_type is not None and terms_type not in ("OPEN", "RESTRICTED"):
            raise BadRequest(f"Failed to convert 'dataUseTermsType' with value: '{terms_raw}'")
        restricted_until = param("restrictedUntil")
        generation = settings.generation
        file_mapping: str | None = None
        if generation == "legacy":
            if "fileMapping" in request.files:
                file_mapping = request.files["fileMapping"].stream.read().decode("utf-8", errors="replace")
            elif "fileMapping" in request.form:
                file_mapping = request.form["fileMapping"]
        organism = organism_or_400(organism_key, "submit")

        require_groups_exist([group_id])
        require_member([group_id], current)
        terms = validate_data_use_terms(terms_type, restricted_until, utc_now().date())

        upload_id = str(uuid.uuid4())
        directory = store.submission_dir(upload_id)
        metadata_path = directory / ("metadata-" + safe_name(metadata_part.filename, "metadata"))
        with open(metadata_path, "wb") as target:
            copy_upload(metadata_part, target)
        sequence_path = None
        if sequence_part is not None:
            sequence_path = directory / ("sequences-" + safe_name(sequence_part.filename, "sequences"))
            with open(sequence_path, "wb") as target:
                copy_upload(sequence_part, target)
        if file_mapping is not None:
            (directory / "fileMapping.json").write_text(file_mapping, encoding="utf-8")

        try:
            with open(metadata_path, "rb") as metadata_stream:
                sequence_stream = open(sequence_path, "rb") if sequence_path else None
                try:
                    validated = validate_submission(
                        SubmitUpload(
                            organism=organism,
                            generation=generation,
                            group_id=group_id,
                            upload_id=upload_id,
                            metadata_file=UploadedFile(metadata_part.filename, metadata_stream),
                            sequence_file=(
                                UploadedFile(sequence_part.filename, sequence_stream)
                                if sequence_part is not None and sequence_stream is not None
                                else None
                            ),
                            file_mapping=file_mapping,
                        ),
                        StoreFileLookup(),
                    )
                finally:
                    if sequence_stream is not None:
                        sequence_stream.close()
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        sequences = kept_sequences(sequence_path, sequence_part)

        with submit_lock:
            accessions = store.allocate_accessions(len(validated.entries))
            now = utc_now().isoformat()
            entries = []
            response = []
            for accession, entry in zip(accessions, validated.entries, strict=True):
                files = validated.files.get(entry.submission_id)
                files_json = (
                    {category: [ref.as_json() for ref in refs] for category, refs in files.items()} if files else None
                )
                entries.append(
                    SequenceEntry(
                        accession=accession,
                        version=1,
                        organism=organism.key,
                        submission_id=entry.submission_id,
                        group_id=group_id,
                        submitter=current.username,
                        data_use_terms=terms.as_json(),
                        submitted_at=now,
                        metadata=entry.metadata,
                        files=files_json,
                        sequences={fid: sequences[fid] for fid in entry.fasta_ids if fid in sequences},
                    )
                )
                response.append({"accession": accession, "version": 1, "submissionId": entry.submission_id})
            record = {
                "uploadId": upload_id,
                "organism": organism.key,
                "groupId": group_id,
                "submitter": current.username,
                "generation": generation,
                "dataUseTerms": terms.as_json(),
                "submittedAt": now,
                "directory": str(directory),
                "metadataFile": {"filename": metadata_part.filename, "path": str(metadata_path)},
                "sequenceFile": (
                    {"filename": sequence_part.filename, "path": str(sequence_path)} if sequence_part else None
                ),
                "fileMapping": file_mapping,
                "entries": [
                    {
                        "submissionId": entry.submission_id,
                        "accession": accession,
                        "version": 1,
                        "metadata": entry.metadata,
                        "fastaIds": entry.fasta_ids,
                        "files": {
                            category: [ref.as_json() for ref in refs]
                            for category, refs in (validated.files.get(entry.submission_id) or {}).items()
                        },
                    }
                    for accession, entry in zip(accessions, validated.entries, strict=True)
                ],
                "response": response,
            }
            store.record_submission(record, entries)
        return json_response(response)

    # --- benchmark sink (sandbox only; off unless switched on through /_sandbox/sink) ---------------

    sink_state: dict[str, Any] = {"enabled": False, "last": None, "count": 0}
    sink_path = re.compile(r"^/[^/]+/submit$")

    @app.before_request
    def bench_sink() -> Response | None:
        """In sink mode a submit's body goes straight to disk, unparsed, so a benchmark sees the sender's cost.

        Runs after the security filter chain (registered before it), so the bearer token is still
        checked. The answer is a plausible one-entry list; nothing is validated or recorded.
        """
        if not sink_state["enabled"] or request.method != "POST" or not sink_path.match(request.path):
            return None
        started = time.perf_counter()
        started_at = time.time()
        # One file, overwritten in place: a benchmark's disk use stays bounded, and the blocks of the
        # previous body are reused. Truncating first ("wb") makes the filesystem allocate fresh
        # blocks for every body, which on this VM's ext4 (mounted with discard) swings a 1 GiB write
        # between 0.2 and 2.5 s and would drown the sender's cost in noise.
        target = store.state_dir / "sink-body.bin"
        expected = request.content_length
        fd = os.open(target, os.O_WRONLY | os.O_CREAT, 0o600)
        with open(fd, "wb", buffering=0) as out:
            if expected is not None and not request.environ.get("wsgi.input_terminated"):
                received = sink_exact(request.environ, out.fileno(), expected)
            else:  # chunked: werkzeug's de-chunking stream
                received = 0
                while chunk := request.stream.read(SINK_CHUNK):
                    out.write(chunk)
                    received += len(chunk)
            seconds = time.perf_counter() - started
            out.truncate(received)
        with submit_lock:
            sink_state["count"] += 1
            number = sink_state["count"]
            sink_state["last"] = {
                "path": request.path,
                "bytes": received,
                "contentLength": expected,
                "complete": expected is None or expected == received,
                "seconds": seconds,
                "mbPerSecond": received / 1e6 / seconds if seconds > 0 else None,
                "startedAt": started_at,
                "endedAt": time.time(),
            }
        app.logger.info("sink: %d bytes in %.3f s", received, seconds)
        return json_response([{"accession": f"LOC_SINK{number:05d}", "version": 1, "submissionId": f"sink-{number}"}])

    # --- review ---------------------------------------------------------------------------------

    @app.get("/<organism_key>/get-sequences")
    def get_sequences(organism_key: str) -> Response:
        current = user()
        group_filter = int_list("groupIdsFilter")
        statuses = enum_list("statusesFilter", STATUSES)
        results = enum_list("processingResultFilter", PROCESSING_RESULTS)
        page_raw, size_raw = request.args.get("page"), request.args.get("size")
        page = parse_spring_int("page", page_raw) if page_raw not in (None, "") else None
        size = parse_spring_int("size", size_raw) if size_raw not in (None, "") else None
        organism = organism_or_400(organism_key, "getSequenceList")
        store.advance(settings.processing_delay_seconds)
        with store.lock:
            if group_filter is not None:
                require_groups_exist(group_filter)
                require_member(group_filter, current)
                groups = set(group_filter)
            elif current.is_super_user:
                groups = set(store.groups)
            else:
                groups = {group.group_id for group in store.groups_of(current.username)}
            in_scope = [e for e in store.entries if e.organism == organism.key and e.group_id in groups]
        status_counts = {status: sum(1 for e in in_scope if e.status == status) for status in STATUSES}
        result_counts = dict.fromkeys(PROCESSING_RESULTS, 0)
        for entry in in_scope:
            if entry.processing_result is not None:
                result_counts[entry.processing_result] += 1
        listed = [e for e in in_scope if statuses is None or e.status in statuses]
        if results is not None:
            # The result filter narrows only PROCESSED entries; the others pass through.
            listed = [e for e in listed if e.status != "PROCESSED" or e.processing_result in results]
        listed.sort(key=lambda e: (e.accession, e.version))
        if page is not None and size is not None:
            listed = listed[page * size : page * size + size]
        return json_response(
            {
                "sequenceEntries": [e.as_get_sequences_item() for e in listed],
                "statusCounts": status_counts,
                "processingResultCounts": result_counts,
            }
        )

    def json_body() -> dict[str, Any]:
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict):
            raise BadRequest("JSON parse error: the request body is not a JSON object.")
        return body

    def missing_creator_parameter(class_name: str, name: str) -> BadRequest:
        # Jackson's message for a missing non-nullable Kotlin constructor parameter.
        return BadRequest(
            f"Instantiation of [simple type, class org.loculus.backend.api.{class_name}] value failed for JSON "
            f"property {name} due to missing (therefore NULL) value for creator parameter {name} which is a "
            "non-nullable type"
        )

    def scope_of(body: dict[str, Any], class_name: str, allowed: tuple[str, ...]) -> str:
        scope = body.get("scope")
        if scope is None:
            raise missing_creator_parameter(class_name, "scope")
        if scope not in allowed:
            raise BadRequest(
                f"JSON parse error: Cannot deserialize value of type `{class_name}Scope` from String "
                f'"{scope}": not one of the values accepted for Enum class: [{", ".join(allowed)}]'
            )
        return str(scope)

    def accession_versions(body: dict[str, Any]) -> list[tuple[str, int]] | None:
        raw = body.get("accessionVersionsFilter")
        if raw is None:
            return None
        if not isinstance(raw, list) or not all(
            isinstance(item, dict) and isinstance(item.get("accession"), str) and isinstance(item.get("version"), int)
            for item in raw
        ):
            raise BadRequest("JSON parse error: accessionVersionsFilter must be a list of {accession, version}.")
        return [(item["accession"], item["version"]) for item in raw]

    def body_group_ids(body: dict[str, Any], current: AuthenticatedUser) -> set[int]:
        """The groups an action covers: ``groupIdsFilter`` (checked), else the caller's (all for a superuser)."""
        raw = body.get("groupIdsFilter")
        if raw is not None:
            if not isinstance(raw, list) or not all(isinstance(gid, int) for gid in raw):
                raise BadRequest("JSON parse error: groupIdsFilter must be a list of integers.")
            require_groups_exist(raw)
            require_member(raw, current)
            return set(raw)
        if current.is_super_user:
            return set(store.groups)
        return {group.group_id for group in store.groups_of(current.username)}

    def existing(versions: list[tuple[str, int]]) -> list[SequenceEntry]:
        missing = sorted({f"{acc}.{ver}" for acc, ver in versions if (acc, ver) not in store.by_version})
        if missing:
            raise Unprocessable(f"Accession versions {', '.join(missing)} do not exist")
        return [store.by_version[key] for key in dict.fromkeys(versions)]

    def require_organism(entries: list[SequenceEntry], organism: Organism) -> None:
        others = [e.display for e in entries if e.organism != organism.key]
        if others:
            raise Unprocessable(
                f"The following accession versions are not of organism {organism.key}: {', '.join(others)}"
            )

    def require_statuses(entries: list[SequenceEntry], allowed: tuple[str, ...]) -> None:
        wrong = [f"{e.display} - {e.status}" for e in entries if e.status not in allowed]
        if wrong:
            raise Unprocessable(
                f"Accession versions are not in one of the states [{', '.join(allowed)}]: {', '.join(wrong)}"
            )

    def require_members_of_entries(entries: list[SequenceEntry], current: AuthenticatedUser) -> None:
        by_group: dict[int, list[str]] = {}
        for entry in entries:
            by_group.setdefault(entry.group_id, []).append(entry.display)
        for group_id, displays in by_group.items():
            try:
                require_member([group_id], current)
            except Forbidden as error:
                raise Forbidden(f"{error.detail} Affected AccessionVersions: [{', '.join(displays)}]") from None

    @app.post("/<organism_key>/approve-processed-data")
    def approve_processed_data(organism_key: str) -> Response:
        current = user()
        body = json_body()
        scope = scope_of(body, "AccessionVersionsFilterWithApprovalScope", APPROVAL_SCOPES)
        versions = accession_versions(body)
        submitters = body.get("submitterNamesFilter")
        organism = organism_or_400(organism_key, "approveProcessedData")
        store.advance(settings.processing_delay_seconds)
        with store.lock:
            if versions is not None:
                chosen = existing(versions)
                require_organism(chosen, organism)
                require_statuses(chosen, ("PROCESSED",))
                with_errors = [e.display for e in chosen if e.processing_result == "HAS_ERRORS"]
                if with_errors:
                    raise Unprocessable(f"Accession versions have errors: {', '.join(with_errors)}")
                require_members_of_entries(chosen, current)
                candidates = chosen
            else:
                candidates = store.entries
            groups = body_group_ids(body, current)  # checked after the entries, as the backend does
            wanted = ("NO_ISSUES",) if scope == "WITHOUT_WARNINGS" else ("NO_ISSUES", "HAS_WARNINGS")
            approved = [
                e
                for e in candidates
                if e.organism == organism.key
                and e.group_id in groups
                and e.processing_result in wanted
                and (submitters is None or e.submitter in submitters)
            ]
            for entry in approved:
                entry.status = "APPROVED_FOR_RELEASE"
        for entry in approved:
            for refs in (entry.files or {}).values():
                for ref in refs:
                    try:
                        storage.make_public(ref["fileId"])
                    except ClientError as error:
                        raise s3_problem(error) from None
        approved.sort(key=lambda e: (e.accession, e.version))
        return json_response([{"accession": e.accession, "version": e.version} for e in approved])

    @app.delete("/<organism_key>/delete-sequence-entry-versions")
    def delete_sequence_entry_versions(organism_key: str) -> Response:
        current = user()
        body = json_body()
        scope = scope_of(body, "AccessionVersionsFilterWithDeletionScope", DELETION_SCOPES)
        versions = accession_versions(body)
        organism = organism_or_400(organism_key, "deleteSequence")
        store.advance(settings.processing_delay_seconds)
        with store.lock:
            if versions is not None:
                chosen = existing(versions)
                require_members_of_entries(chosen, current)
                require_statuses(chosen, DELETABLE)
                require_organism(chosen, organism)
                candidates = chosen
            else:
                candidates = store.entries
            groups = body_group_ids(body, current)  # checked after the entries, as the backend does
            if scope == "ALL":
                covered = [e for e in candidates if e.status in DELETABLE]
            else:
                result = "HAS_ERRORS" if scope == "PROCESSED_WITH_ERRORS" else "HAS_WARNINGS"
                covered = [e for e in candidates if e.processing_result == result]
            doomed = [e for e in covered if e.organism == organism.key and e.group_id in groups]
            store.delete_entries(doomed)
        doomed.sort(key=lambda e: (e.accession, e.version))
        return json_response([{"accession": e.accession, "version": e.version} for e in doomed])

    def editable_entry(accession: str, version: int, current: AuthenticatedUser) -> SequenceEntry:
        entry = existing([(accession, version)])[0]
        require_members_of_entries([entry], current)
        return entry

    @app.get("/<organism_key>/get-data-to-edit/<accession>/<version>")
    def get_data_to_edit(organism_key: str, accession: str, version: str) -> Response:
        current = user()
        number = parse_spring_int("version", version)
        organism = organism_or_400(organism_key, "getSequenceEntryVersionThatHasErrors")
        store.advance(settings.processing_delay_seconds)
        with store.lock:
            entry = editable_entry(accession, number, current)
            require_organism([entry], organism)
            if entry.is_revocation:
                raise Unprocessable(f"Accession version {entry.display} is a revocation.")
            if entry.processed is None:
                # The backend dereferences the missing processed data with `!!` (contract §5.2).
                raise InternalError(None)
            return json_response(
                {
                    "accession": entry.accession,
                    "version": entry.version,
                    "status": entry.status,
                    "groupId": entry.group_id,
                    "submissionId": entry.submission_id,
                    "submittedData": entry.submitted_data(),
                    "processedData": processed_data(entry, organism),
                    "errors": entry.processed.errors,
                    "warnings": entry.processed.warnings,
                }
            )

    def processed_data(entry: SequenceEntry, organism: Organism) -> dict[str, Any]:
        assert entry.processed is not None
        # The sandbox does not align: the i-th submitted sequence stands for the i-th segment.
        by_segment = dict(zip(organism.segments, entry.sequences.items(), strict=False))
        return {
            "metadata": dict(entry.processed.metadata),
            # The backend upper-cases processed sequences before storing them.
            "unalignedNucleotideSequences": {segment: seq.upper() for segment, (_, seq) in by_segment.items()},
            "alignedNucleotideSequences": {segment: seq.upper() for segment, (_, seq) in by_segment.items()},
            "nucleotideInsertions": {segment: [] for segment in by_segment},
            "alignedAminoAcidSequences": {},
            "aminoAcidInsertions": {},
            "sequenceNameToFastaId": {segment: fasta_id for segment, (fasta_id, _) in by_segment.items()},
            "files": entry.files,
        }

    @app.post("/<organism_key>/submit-edited-data")
    def submit_edited_data(organism_key: str) -> Response:
        current = user()
        body = json_body()
        for name in ("accession", "version", "data"):
            if body.get(name) is None:
                raise missing_creator_parameter("EditedSequenceEntryData", name)
        data = body["data"]
        if not isinstance(body["accession"], str) or not isinstance(body["version"], int) or not isinstance(data, dict):
            raise BadRequest("JSON parse error: expected accession (string), version (integer) and data (object).")
        metadata = data.get("metadata")
        if not isinstance(metadata, dict):
            raise missing_creator_parameter("OriginalData", "metadata")
        sequences = data.get("unalignedNucleotideSequences") or {}
        files = data.get("files")
        organism = organism_or_400(organism_key, "submitEditedData")
        store.advance(settings.processing_delay_seconds)
        with store.lock:
            entry = editable_entry(body["accession"], body["version"], current)
            require_statuses([entry], ("PROCESSED",))
            require_organism([entry], organism)
        files_map = None
        if files is not None:
            files_map = {
                entry.display: {
                    category: [FileRef(str(ref.get("fileId")), str(ref.get("name"))) for ref in refs]
                    for category, refs in files.items()
                }
            }
            validate_files(files_map, organism, StoreFileLookup())
            file_ids = [ref.file_id for refs in files_map[entry.display].values() for ref in refs]
            for file_id, owner in StoreFileLookup().owner_groups(file_ids).items():
                if owner != entry.group_id:
                    raise Unprocessable(
                        f"Accession version {entry.display} belongs to group {entry.group_id} but the attached "
                        f"file {file_id} belongs to the group {owner}."
                    )
        with store.lock:
            entry.metadata = {str(key): "" if value is None else str(value) for key, value in metadata.items()}
            entry.sequences = {str(key): str(value) for key, value in sequences.items()}
            entry.files = files
            entry.processed = None
            entry.status = "RECEIVED"
            entry.received_at = time.time()
        return Response("", status=204)

    # --- revise, revoke, download submitted data (contract §4.2, §5.6, §5.7) ----------------------

    def caller(current: AuthenticatedUser) -> Caller:
        return Caller(current.username, current.is_super_user)

    def members_of(group_id: int) -> list[str]:
        return store.groups[group_id].members

    @app.post("/<organism_key>/revise")
    def revise(organism_key: str) -> Response:
        current = user()
        require_multipart()
        metadata_part = request.files.get("metadataFile")
        if metadata_part is None:
            raise BadRequest("Required part 'metadataFile' is not present.")
        sequence_part = request.files.get("sequenceFile")
        generation = settings.generation
        file_mapping: str | None = None
        if generation == "legacy":
            if "fileMapping" in request.files:
                file_mapping = request.files["fileMapping"].stream.read().decode("utf-8", errors="replace")
            elif "fileMapping" in request.form:
                file_mapping = request.form["fileMapping"]
        organism = organism_or_400(organism_key, "revise")

        upload_id = str(uuid.uuid4())
        directory = store.submission_dir(upload_id)
        metadata_path = directory / ("metadata-" + safe_name(metadata_part.filename, "metadata"))
        with open(metadata_path, "wb") as target:
            copy_upload(metadata_part, target)
        sequence_path = None
        if sequence_part is not None:
            sequence_path = directory / ("sequences-" + safe_name(sequence_part.filename, "sequences"))
            with open(sequence_path, "wb") as target:
                copy_upload(sequence_part, target)
        if file_mapping is not None:
            (directory / "fileMapping.json").write_text(file_mapping, encoding="utf-8")

        def associate(accessions: list[str]) -> dict[str, SequenceEntry]:
            store.advance(settings.processing_delay_seconds)
            with store.lock:
                latest = latest_versions(store.entries)
                found = check_latest_versions_released(accessions, latest, caller(current), members_of, organism)
            return {entry.accession: entry for entry in found}

        try:
            with open(metadata_path, "rb") as metadata_stream:
                sequence_stream = open(sequence_path, "rb") if sequence_path else None
                try:
                    validated = validate_revision(
                        SubmitUpload(
                            organism=organism,
                            generation=generation,
                            group_id=0,
                            upload_id=upload_id,
                            metadata_file=UploadedFile(metadata_part.filename, metadata_stream),
                            sequence_file=(
                                UploadedFile(sequence_part.filename, sequence_stream)
                                if sequence_part is not None and sequence_stream is not None
                                else None
                            ),
                            file_mapping=file_mapping,
                        ),
                        StoreFileLookup(),
                        associate,
                    )
                finally:
                    if sequence_stream is not None:
                        sequence_stream.close()
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        sequences = kept_sequences(sequence_path, sequence_part)

        with submit_lock, store.lock:
            now = utc_now().isoformat()
            entries = []
            response = []
            for entry in validated.entries:
                accession = str(entry.accession)
                # Read again under the lock: a concurrent revision of the same accession loses, as
                # the backend's unique (accession, version) key makes it.
                latest = latest_versions(e for e in store.entries if e.accession == accession)[accession]
                if latest.status != "APPROVED_FOR_RELEASE":
                    shutil.rmtree(directory, ignore_errors=True)
                    raise Unprocessable(
                        "Accession versions are not in one of the states [APPROVED_FOR_RELEASE]: "
                        f"{latest.display} - {latest.status}"
                    )
                files = validated.files.get(entry.submission_id)
                entries.append(
                    SequenceEntry(
                        accession=accession,
                        version=latest.version + 1,
                        organism=organism.key,
                        submission_id=entry.submission_id,
                        group_id=latest.group_id,
                        submitter=current.username,
                        data_use_terms=dict(latest.data_use_terms),  # revisions keep their terms
                        submitted_at=now,
                        metadata=entry.metadata,
                        files=(
                            {category: [ref.as_json() for ref in refs] for category, refs in files.items()}
                            if files
                            else None
                        ),
                        sequences={fid: sequences[fid] for fid in entry.fasta_ids if fid in sequences},
                    )
                )
                response.append(
                    {"accession": accession, "version": latest.version + 1, "submissionId": entry.submission_id}
                )
            record = {
                "uploadId": upload_id,
                "type": "revision",
                "organism": organism.key,
                "groupId": None,
                "submitter": current.username,
                "generation": generation,
                "dataUseTerms": None,
                "submittedAt": now,
                "directory": str(directory),
                "metadataFile": {"filename": metadata_part.filename, "path": str(metadata_path)},
                "sequenceFile": (
                    {"filename": sequence_part.filename, "path": str(sequence_path)} if sequence_part else None
                ),
                "fileMapping": file_mapping,
                "entries": [
                    {
                        "submissionId": new.submission_id,
                        "accession": new.accession,
                        "version": new.version,
                        "groupId": new.group_id,
                        "metadata": new.metadata,
                        "fastaIds": entry.fasta_ids,
                        "files": new.files or {},
                    }
                    for new, entry in zip(entries, validated.entries, strict=True)
                ],
                "response": response,
            }
            store.record_submission(record, entries)
        return json_response(response)

    @app.post("/<organism_key>/revoke")
    def revoke(organism_key: str) -> Response:
        current = user()
        body = json_body()
        accessions = body.get("accessions")
        if accessions is None:
            raise missing_creator_parameter("AccessionsToRevokeWithComment", "accessions")
        comment = body.get("versionComment")
        if not isinstance(accessions, list) or not all(isinstance(a, str) for a in accessions):
            raise BadRequest("JSON parse error: accessions must be a list of strings.")
        if comment is not None and not isinstance(comment, str):
            raise BadRequest("JSON parse error: versionComment must be a string.")
        organism = organism_or_400(organism_key, "revoke")
        store.advance(settings.processing_delay_seconds)
        with store.lock:
            latest = latest_versions(store.entries)
            found = check_latest_versions_released(accessions, latest, caller(current), members_of, organism)
            now = utc_now().isoformat()
            revocations = [revocation_of(entry, current.username, comment, now) for entry in found]
            store.add_entries(revocations)
        revocations.sort(key=lambda e: e.accession)
        return json_response(
            [{"accession": e.accession, "version": e.version, "submissionId": e.submission_id} for e in revocations]
        )

    @app.post("/<organism_key>/get-submitted-data")
    def get_submitted_data(organism_key: str) -> Response:
        current = user()
        content_type = request.headers.get("Content-Type") or "application/octet-stream"
        if not content_type.lower().startswith("application/json"):
            raise Problem(f"Content-Type '{content_type}' is not supported.", 415)
        body = json_body()
        group_id = body.get("groupId")
        if group_id is None:
            raise missing_creator_parameter("GetSubmittedDataRequest", "groupId")
        accessions = body.get("accessionsFilter")
        if isinstance(group_id, bool) or not isinstance(group_id, int):
            raise BadRequest("JSON parse error: groupId must be an integer.")
        if accessions is not None and (
            not isinstance(accessions, list) or not all(isinstance(a, str) for a in accessions)
        ):
            raise BadRequest("JSON parse error: accessionsFilter must be a list of strings.")
        organism = organism_or_400(organism_key, "getSubmittedData")
        with store.lock:
            require_groups_exist([group_id])
            require_member([group_id], current)
        store.advance(settings.processing_delay_seconds)
        with store.lock:
            chosen = downloadable(store.entries, organism, group_id, accessions)
        if len(chosen) > MAX_SUBMITTED_DATA_DOWNLOAD_ENTRIES:
            raise Unprocessable(
                f"Download is limited to {MAX_SUBMITTED_DATA_DOWNLOAD_ENTRIES} entries. Requested download would "
                f"include {len(chosen)} entries. Please filter fewer sequences."
            )
        content = submitted_data_zip(chosen, organism, files_columns=settings.generation == "current")
        response = Response(content, status=200, mimetype="application/zip")
        filename = submitted_data_filename(organism, utc_now())
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    # --- sandbox admin API (no auth; not part of Loculus) ------------------------------------------

    @app.get("/_sandbox/submissions")
    def admin_submissions() -> Response:
        with store.lock:
            return json_response(list(store.submissions))

    @app.get("/_sandbox/files")
    def admin_files() -> Response:
        with store.lock:
            return json_response([record.as_json() for record in store.files.values()])

    @app.post("/_sandbox/files/<file_id>/expire")
    def admin_expire_file(file_id: str) -> Response:
        with store.lock:
            record = store.files.get(file_id)
            if record is None:
                raise NotFound(f"File {file_id} was never requested.")
            record.expired = True
        return json_response({"fileId": file_id, "expired": True})

    @app.post("/_sandbox/reset")
    def admin_reset() -> Response:
        store.reset()
        sink_state.update(enabled=False, last=None)
        (store.state_dir / "sink-body.bin").unlink(missing_ok=True)
        (
            settings.generation,
            settings.url_expiry_seconds,
            settings.token_lifetime,
            settings.processing_delay_seconds,
        ) = initial
        faults.clear()
        if s3_faults is not None:
            s3_faults.clear()
            s3_faults.seen.clear()
        return json_response({"reset": True})

    @app.get("/_sandbox/config")
    def admin_get_config() -> Response:
        return json_response(config_json())

    @app.post("/_sandbox/config")
    def admin_config() -> Response:
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict):
            raise BadRequest("Expected a JSON object.")
        if "generation" in body:
            if body["generation"] not in GENERATIONS:
                raise BadRequest(f"generation must be one of {', '.join(GENERATIONS)}")
            settings.generation = body["generation"]
        for key, attribute in (("url_expiry_seconds", "url_expiry_seconds"), ("token_lifetime", "token_lifetime")):
            if key in body:
                value = body[key]
                if not isinstance(value, int) or value < 1:
                    raise BadRequest(f"{key} must be a positive integer")
                setattr(settings, attribute, value)
        if "processing_delay_seconds" in body:
            delay = body["processing_delay_seconds"]
            if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0:
                raise BadRequest("processing_delay_seconds must be a number of seconds, 0 or more")
            settings.processing_delay_seconds = float(delay)
        return json_response(config_json())

    def config_json() -> dict[str, Any]:
        return {
            "generation": settings.generation,
            "url_expiry_seconds": settings.url_expiry_seconds,
            "token_lifetime": settings.token_lifetime,
            "processing_delay_seconds": settings.processing_delay_seconds,
        }

    def fault_endpoints(name: str, injector: FaultInjector | None) -> None:
        def put_rules() -> Response:
            if injector is None:
                raise NotFound("The S3 proxy is not running; start the sandbox with --s3-proxy.")
            rules = admin_rules_from_json(request.get_json(force=True, silent=True))
            injector.add(rules)
            return json_response(injector.describe())

        def get_rules() -> Response:
            if injector is None:
                raise NotFound("The S3 proxy is not running; start the sandbox with --s3-proxy.")
            return json_response(injector.describe())

        def clear_rules() -> Response:
            if injector is not None:
                injector.clear()
            return json_response([])

        app.add_url_rule(f"/_sandbox/{name}", f"{name}_post", put_rules, methods=["POST"])
        app.add_url_rule(f"/_sandbox/{name}", f"{name}_get", get_rules, methods=["GET"])
        app.add_url_rule(f"/_sandbox/{name}", f"{name}_delete", clear_rules, methods=["DELETE"])

    @app.get("/_sandbox/sink")
    def admin_get_sink() -> Response:
        return json_response({"enabled": sink_state["enabled"], "last": sink_state["last"]})

    @app.post("/_sandbox/sink")
    def admin_sink() -> Response:
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("enabled"), bool):
            raise BadRequest('Expected {"enabled": true|false}.')
        sink_state["enabled"] = body["enabled"]
        return admin_get_sink()

    @app.get("/_sandbox/last-receive")
    def admin_last_receive() -> Response:
        """How long the sink took to receive the last submit body (404 before the first one)."""
        if sink_state["last"] is None:
            raise NotFound("No submit body has been received in sink mode yet.")
        return json_response(sink_state["last"])

    @app.get("/_sandbox/s3-log")
    def admin_s3_log() -> Response:
        """Every request the S3 proxy forwarded: method, path, start and end (epoch seconds), status."""
        if s3_faults is None:
            raise NotFound("The S3 proxy is not running; start the sandbox with --s3-proxy.")
        return json_response(list(s3_faults.seen))

    @app.delete("/_sandbox/s3-log")
    def admin_clear_s3_log() -> Response:
        if s3_faults is not None:
            s3_faults.seen.clear()
        return json_response({"cleared": True})

    fault_endpoints("faults", faults)
    fault_endpoints("s3-faults", s3_faults)

    return app


def sink_exact(environ: dict[str, Any], out_fd: int, expected: int) -> int:
    """Copy `expected` body bytes to `out_fd` at disk speed; return how many arrived.

    werkzeug's dev server hands the raw socket over as ``werkzeug.socket``: after the few body
    bytes its reader already buffered, the rest moves socket → pipe → file with splice(2), no
    copy through Python. Elsewhere (no splice, no socket) a reused buffer is filled with readinto.
    """
    rfile = environ["wsgi.input"]
    sock = environ.get("werkzeug.socket")
    if sock is None or not can_splice() or not hasattr(rfile, "peek"):
        return sink_readinto(rfile, out_fd, expected)
    received = 0
    if expected:
        buffered = rfile.read(min(len(rfile.peek(1)), expected))  # only what is in the reader's buffer
        os.write(out_fd, buffered)
        received = len(buffered)
    return received + splice_to_file(sock.fileno(), out_fd, expected - received, idle_seconds=SINK_IDLE_SECONDS)


def sink_readinto(rfile: Any, out_fd: int, expected: int) -> int:
    buffer = memoryview(bytearray(SINK_CHUNK))
    received = 0
    while received < expected:
        count = rfile.readinto(buffer[: min(SINK_CHUNK, expected - received)])
        if not count:
            break
        os.write(out_fd, buffer[:count])
        received += count
    return received


def with_faults(app: Flask, injector: FaultInjector) -> Callable[..., Any]:
    """Wrap the backend WSGI app so fault rules run before Spring-like handling (skipping /_sandbox/)."""
    return injector.wrap(app.wsgi_app, problem_json=True, skip_prefix="/_sandbox/")


__all__ = ["USERS", "TokenVerifier", "create_backend_app", "with_faults"]
