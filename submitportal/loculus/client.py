"""The Loculus backend, one function per endpoint the portal uses.

Views never build backend URLs or parse its JSON: they call these functions and catch the
LoculusError family. Reference: ../shared/loculus/backend-contract.md (§3 files, §4 submit,
§5.1 get-sequences, §6 groups) and the backend's own /swagger-ui.

Every call has explicit timeouts and sends an x-request-id, which the backend echoes and which
is logged with the outcome. Only idempotent calls (GET) are retried; POSTs never are, so a
submit cannot be sent twice by this module.
"""

from __future__ import annotations

import http.client
import io
import logging
import re
import ssl
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from submitportal.loculus import instance

log = logging.getLogger("submitportal.loculus")

USER_AGENT = "submitportal (+https://github.com/loculus-project/loculus)"


# --- Errors --------------------------------------------------------------------------------------


class LoculusError(Exception):
    """The backend did not do what was asked. Carries the ProblemDetail the backend sent.

    `status` is None when no HTTP answer arrived at all (see BackendUnreachable).
    """

    def __init__(
        self,
        *,
        status: int | None,
        title: str,
        detail: str,
        request_id: str = "",
        instance_path: str = "",
    ) -> None:
        self.status = status
        self.title = title
        self.detail = detail
        self.request_id = request_id
        self.instance_path = instance_path
        super().__init__(f"{status or '-'} {title}: {detail}")


class BackendUnreachable(LoculusError):
    """No answer: connection refused, DNS failure or timeout. Worth a retry later."""


class BackendTimeout(BackendUnreachable):
    """The request went out but no answer came in time: the backend may or may not have acted on it."""


class Unauthorized(LoculusError):
    """401: the token was missing, expired or not accepted. The user must sign in again."""


class Forbidden(LoculusError):
    """403: signed in, but not allowed (e.g. not a member of the group)."""


class NotFound(LoculusError):
    """404: e.g. the group does not exist."""


class Rejected(LoculusError):
    """400, 409, 413, 415 or 422: the backend refused the content. `detail` says why."""


class BackendFailed(LoculusError):
    """5xx, or an answer the portal cannot read: a fault on the backend's side."""


_ERROR_CLASSES: dict[int, type[LoculusError]] = {401: Unauthorized, 403: Forbidden, 404: NotFound}


def _error_class(status: int) -> type[LoculusError]:
    if status in _ERROR_CLASSES:
        return _ERROR_CLASSES[status]
    if 400 <= status < 500:
        return Rejected
    return BackendFailed


# --- Typed results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    group_id: int
    group_name: str
    institution: str = ""
    contact_email: str | None = None


@dataclass(frozen=True)
class UploadTarget:
    """Where to PUT one whole file: every header in `headers` must be sent (it is signed)."""

    file_id: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MultipartTarget:
    """One presigned URL per part, in part order."""

    file_id: str
    urls: tuple[str, ...]


@dataclass(frozen=True)
class CompletedUpload:
    """A multipart upload to complete: the part ETags in part order, quotes included."""

    file_id: str
    etags: tuple[str, ...]


@dataclass(frozen=True)
class SubmittedEntry:
    accession: str
    version: int
    submission_id: str


@dataclass(frozen=True)
class DataUseTerms:
    type: str  # "OPEN" or "RESTRICTED"
    restricted_until: date | None = None


@dataclass(frozen=True)
class SequenceEntry:
    accession: str
    version: int
    status: str
    processing_result: str | None
    group_id: int
    submitter: str
    submission_id: str
    is_revocation: bool
    data_use_terms: DataUseTerms | None


@dataclass(frozen=True)
class SequencesPage:
    entries: tuple[SequenceEntry, ...]
    status_counts: Mapping[str, int]
    processing_result_counts: Mapping[str, int]


@dataclass(frozen=True)
class UploadPart:
    """A file part of the submit request. `stream` is read in chunks, never whole."""

    filename: str
    stream: IO[bytes]
    content_type: str = "application/octet-stream"


# --- HTTP ----------------------------------------------------------------------------------------


class _LargeBlockAdapter(HTTPAdapter):
    """Sends request bodies in 1 MiB blocks (urllib3's default is 16 KiB).

    A streamed submit of gigabytes otherwise spends most of its time in Python per-block overhead.
    """

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["blocksize"] = 1024 * 1024
        super().init_poolmanager(*args, **kwargs)


def _make_session(retries: Retry | int) -> requests.Session:
    session = requests.Session()
    adapter = _LargeBlockAdapter(max_retries=retries, pool_connections=4, pool_maxsize=16)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


# GETs are retried on connection errors and on 502/503/504, twice, with a short backoff.
_idempotent = _make_session(
    Retry(
        total=2,
        backoff_factor=0.5,
        status_forcelist=(502, 503, 504),
        allowed_methods=frozenset({"GET", "HEAD"}),
        raise_on_status=False,
    )
)
# POSTs go out exactly once.
_once = _make_session(Retry(total=0, connect=0, read=0, redirect=0, status=0, raise_on_status=False))


def backend_url() -> str:
    return settings.LOCULUS_BACKEND_URL or instance.get_instance().backend_url


def _timeout(read: float | None = None) -> tuple[float, float]:
    return (settings.LOCULUS_CONNECT_TIMEOUT, read or settings.LOCULUS_READ_TIMEOUT)


def _timed_out(method: str, path: str, request_id: str, exc: Exception) -> BackendTimeout:
    log.warning("backend %s %s timed out (x-request-id %s)", method, path, request_id)
    return BackendTimeout(
        status=None,
        title="No answer from Loculus",
        detail=f"The Loculus backend at {backend_url()} did not answer in time ({exc.__class__.__name__}).",
        request_id=request_id,
    )


def _problem_from(response: requests.Response, request_id: str) -> LoculusError:
    status = response.status_code
    title = response.reason or "Error"
    detail = ""
    instance_path = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        title = str(body.get("title") or title)
        detail = str(body.get("detail") or "")
        instance_path = str(body.get("instance") or "")
    elif status == 401:
        # Spring Security answers 401 with an empty body; the reason is in WWW-Authenticate.
        detail = response.headers.get("WWW-Authenticate", "")
    else:
        detail = response.text[:500].strip()
    if not detail:
        detail = f"The Loculus backend answered {status} {title}."
    return _error_class(status)(
        status=status,
        title=title,
        detail=detail,
        request_id=response.headers.get("x-request-id", request_id),
        instance_path=instance_path,
    )


def _call(
    method: str,
    path: str,
    *,
    token: str | None,
    params: Mapping[str, Any] | None = None,
    json_body: Any = None,
    data: Any = None,
    headers: Mapping[str, str] | None = None,
    read_timeout: float | None = None,
    stream: bool = False,
) -> requests.Response:
    url = backend_url() + path
    request_id = str(uuid.uuid4())
    all_headers = {"x-request-id": request_id, "Accept": "application/json"}
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    all_headers.update(headers or {})
    session = _idempotent if method in ("GET", "HEAD") else _once
    started = time.monotonic()
    try:
        response = session.request(
            method,
            url,
            params=params,
            json=json_body,
            data=data,
            headers=all_headers,
            timeout=_timeout(read_timeout),
            allow_redirects=False,
            stream=stream,
        )
    except requests.Timeout as exc:
        raise _timed_out(method, path, request_id, exc) from exc
    except requests.ConnectionError as exc:
        log.warning("backend %s %s unreachable (x-request-id %s): %s", method, path, request_id, exc)
        raise BackendUnreachable(
            status=None,
            title="Loculus is unreachable",
            detail=f"The portal could not connect to the Loculus backend at {backend_url()}.",
            request_id=request_id,
        ) from exc
    elapsed_ms = (time.monotonic() - started) * 1000
    log.info(
        "backend %s %s -> %s in %.0f ms (x-request-id %s)",
        method,
        path,
        response.status_code,
        elapsed_ms,
        response.headers.get("x-request-id", request_id),
    )
    if response.status_code >= 400 or response.status_code in (301, 302, 303, 307, 308):
        raise _problem_from(response, request_id)
    return response


def _multipart(fields: list[tuple[str, str | UploadPart]]) -> tuple[str, list[bytes | UploadPart], int]:
    """(content type, the body as byte strings and file parts in order, total length)."""
    boundary = uuid.uuid4().hex
    pieces: list[bytes | UploadPart] = []
    for name, value in fields:
        if isinstance(value, UploadPart):
            filename = value.filename.replace('"', "%22").replace("\r", "").replace("\n", "")
            pieces.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: {value.content_type}\r\n\r\n".encode()
            )
            pieces.append(value)
            pieces.append(b"\r\n")
        else:
            pieces.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    pieces.append(f"--{boundary}--\r\n".encode())
    length = sum(_remaining(piece) if isinstance(piece, UploadPart) else len(piece) for piece in pieces)
    return f"multipart/form-data; boundary={boundary}", pieces, length


def _remaining(part: UploadPart) -> int:
    stream = part.stream
    position = stream.tell()
    end = stream.seek(0, io.SEEK_END)
    stream.seek(position)
    return end - position


def _send_part(connection: http.client.HTTPConnection, part: UploadPart) -> None:
    """The file's bytes straight from the page cache where the OS allows it (sendfile), else in 1 MiB blocks."""
    sock = connection.sock
    try:
        part.stream.fileno()
        real_file = not isinstance(sock, ssl.SSLSocket)
    except (OSError, AttributeError, io.UnsupportedOperation):
        real_file = False
    if real_file and sock is not None:
        sock.sendfile(part.stream)  # type: ignore[arg-type]
        return
    while block := part.stream.read(1024 * 1024):
        connection.send(block)


def _post_multipart(
    path: str, token: str, fields: list[tuple[str, str | UploadPart]], *, read_timeout: float
) -> requests.Response:
    """A streamed multipart POST, sent once. Large files go out with sendfile, at disk speed.

    requests (even with a streaming encoder) spends seconds per gigabyte in Python; this sends the
    same bytes the way curl does. The answer is wrapped in a requests.Response so that errors are
    read exactly as for every other call.
    """
    url = backend_url() + path
    parts = urlsplit(url)
    request_id = str(uuid.uuid4())
    content_type, pieces, length = _multipart(fields)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname or "", parts.port, timeout=settings.LOCULUS_CONNECT_TIMEOUT)
    started = time.monotonic()
    try:
        connection.connect()
        if connection.sock is not None:
            connection.sock.settimeout(read_timeout)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.putrequest("POST", target, skip_accept_encoding=True)
        for name, value in {
            "Authorization": f"Bearer {token}",
            "x-request-id": request_id,
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "Content-Type": content_type,
            "Content-Length": str(length),
        }.items():
            connection.putheader(name, value)
        connection.endheaders()
        for piece in pieces:
            if isinstance(piece, UploadPart):
                _send_part(connection, piece)
            else:
                connection.send(piece)
        answer = connection.getresponse()
        response = requests.Response()
        response.status_code = answer.status
        response.reason = answer.reason
        response.headers = requests.structures.CaseInsensitiveDict(answer.getheaders())
        response._content = answer.read()
        response.url = url
    except TimeoutError as exc:
        raise _timed_out("POST", path, request_id, exc) from exc
    except (OSError, http.client.HTTPException) as exc:
        log.warning("backend POST %s failed (x-request-id %s): %s", path, request_id, exc.__class__.__name__)
        raise BackendUnreachable(
            status=None,
            title="Loculus is unreachable",
            detail=f"The portal could not send the submission to the Loculus backend at {backend_url()}.",
            request_id=request_id,
        ) from exc
    finally:
        connection.close()
    log.info(
        "backend POST %s -> %s in %.0f ms, %d bytes sent (x-request-id %s)",
        path,
        response.status_code,
        (time.monotonic() - started) * 1000,
        length,
        response.headers.get("x-request-id", request_id),
    )
    if response.status_code >= 400:
        raise _problem_from(response, request_id)
    return response


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise BackendFailed(
            status=response.status_code,
            title="Unreadable answer",
            detail="The Loculus backend sent an answer that is not JSON.",
            request_id=response.headers.get("x-request-id", ""),
        ) from exc


def _unexpected(response: requests.Response, what: str) -> BackendFailed:
    return BackendFailed(
        status=response.status_code,
        title="Unexpected answer",
        detail=f"The Loculus backend's answer to {what} does not have the expected shape.",
        request_id=response.headers.get("x-request-id", ""),
    )


# --- Endpoints -----------------------------------------------------------------------------------


def get_user_groups(token: str) -> list[Group]:
    """GET /user/groups: the groups the user belongs to (a superuser gets all groups)."""
    response = _call("GET", "/user/groups", token=token)
    body = _json(response)
    try:
        return [
            Group(
                group_id=int(item["groupId"]),
                group_name=str(item["groupName"]),
                institution=str(item.get("institution") or ""),
                contact_email=item.get("contactEmail"),
            )
            for item in body
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise _unexpected(response, "/user/groups") from exc


def request_upload(token: str, *, group_id: int, number_files: int) -> list[UploadTarget]:
    """POST /files/request-upload: one presigned PUT URL per file, owned by the group."""
    response = _call(
        "POST", "/files/request-upload", token=token, params={"groupId": group_id, "numberFiles": number_files}
    )
    body = _json(response)
    try:
        return [
            UploadTarget(
                file_id=str(item["fileId"]).lower(),
                url=str(item["url"]),
                headers={str(k): str(v) for k, v in (item.get("headers") or {}).items()},
            )
            for item in body
        ]
    except (KeyError, TypeError, AttributeError) as exc:
        raise _unexpected(response, "/files/request-upload") from exc


def request_multipart_upload(
    token: str, *, group_id: int, number_files: int, number_parts: int
) -> list[MultipartTarget]:
    """POST /files/request-multipart-upload: per file, one presigned URL per part (1..10000)."""
    response = _call(
        "POST",
        "/files/request-multipart-upload",
        token=token,
        params={"groupId": group_id, "numberFiles": number_files, "numberParts": number_parts},
    )
    body = _json(response)
    try:
        return [MultipartTarget(file_id=str(item["fileId"]).lower(), urls=tuple(item["urls"])) for item in body]
    except (KeyError, TypeError) as exc:
        raise _unexpected(response, "/files/request-multipart-upload") from exc


def complete_multipart_upload(token: str, uploads: Iterable[CompletedUpload]) -> None:
    """POST /files/complete-multipart-upload: ETags in part order. Not atomic across files."""
    body = [{"fileId": upload.file_id, "etags": list(upload.etags)} for upload in uploads]
    _call("POST", "/files/complete-multipart-upload", token=token, json_body=body)


def submit(
    token: str,
    organism: str,
    *,
    group_id: int,
    metadata: UploadPart,
    sequences: UploadPart | None,
    data_use_terms: DataUseTerms,
    file_mapping: str | None = None,
) -> list[SubmittedEntry]:
    """POST /{organism}/submit as a streamed multipart body (a FASTA may be gigabytes).

    `file_mapping` is the legacy JSON part (backend-contract §4.6); only files_protocol decides
    whether to send it. Never retried: a second attempt could create duplicate entries.
    """
    fields: list[tuple[str, str | UploadPart]] = [
        ("groupId", str(group_id)),
        ("dataUseTermsType", data_use_terms.type),
    ]
    if data_use_terms.type == "RESTRICTED" and data_use_terms.restricted_until:
        fields.append(("restrictedUntil", data_use_terms.restricted_until.isoformat()))
    fields.append(("metadataFile", metadata))
    if sequences is not None:
        fields.append(("sequenceFile", sequences))
    if file_mapping is not None:
        fields.append(("fileMapping", file_mapping))
    response = _post_multipart(f"/{organism}/submit", token, fields, read_timeout=settings.LOCULUS_SUBMIT_TIMEOUT)
    return _submitted_entries(response, f"/{organism}/submit")


def revise(
    token: str,
    organism: str,
    *,
    metadata: UploadPart,
    sequences: UploadPart | None,
    file_mapping: str | None = None,
) -> list[SubmittedEntry]:
    """POST /{organism}/revise: new versions of released accessions (the metadata's `accession` column).

    No group and no data use terms: a revision keeps its entry's (contract §4.2). Never retried.
    """
    fields: list[tuple[str, str | UploadPart]] = [("metadataFile", metadata)]
    if sequences is not None:
        fields.append(("sequenceFile", sequences))
    if file_mapping is not None:
        fields.append(("fileMapping", file_mapping))
    response = _post_multipart(f"/{organism}/revise", token, fields, read_timeout=settings.LOCULUS_SUBMIT_TIMEOUT)
    return _submitted_entries(response, f"/{organism}/revise")


def _submitted_entries(response: requests.Response, path: str) -> list[SubmittedEntry]:
    body = _json(response)
    try:
        return [
            SubmittedEntry(
                accession=str(item["accession"]), version=int(item["version"]), submission_id=str(item["submissionId"])
            )
            for item in body
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise _unexpected(response, path) from exc


def _data_use_terms(raw: Any) -> DataUseTerms | None:
    if not isinstance(raw, dict) or "type" not in raw:
        return None
    until = raw.get("restrictedUntil")
    return DataUseTerms(type=str(raw["type"]), restricted_until=date.fromisoformat(until) if until else None)


def get_sequences(
    token: str,
    organism: str,
    *,
    group_ids: Iterable[int] = (),
    statuses: Iterable[str] = (),
    processing_results: Iterable[str] = (),
    page: int | None = None,
    size: int | None = None,
) -> SequencesPage:
    """GET /{organism}/get-sequences: the user's entries (all versions), with total counts.

    `processing_results` (NO_ISSUES, HAS_WARNINGS, HAS_ERRORS) narrows only the PROCESSED ones; the
    counts are always the totals of the groups, whatever the other filters (contract §5.1).
    """
    params: dict[str, Any] = {}
    if group_ids:
        params["groupIdsFilter"] = ",".join(str(g) for g in group_ids)
    if statuses:
        params["statusesFilter"] = ",".join(statuses)
    if processing_results:
        params["processingResultFilter"] = ",".join(processing_results)
    if page is not None and size is not None:
        params["page"] = page
        params["size"] = size
    response = _call("GET", f"/{organism}/get-sequences", token=token, params=params)
    body = _json(response)
    try:
        entries = tuple(
            SequenceEntry(
                accession=str(item["accession"]),
                version=int(item["version"]),
                status=str(item["status"]),
                processing_result=item.get("processingResult"),
                group_id=int(item["groupId"]),
                submitter=str(item.get("submitter", "")),
                submission_id=str(item.get("submissionId", "")),
                is_revocation=bool(item.get("isRevocation", False)),
                data_use_terms=_data_use_terms(item.get("dataUseTerms")),
            )
            for item in body["sequenceEntries"]
        )
        return SequencesPage(
            entries=entries,
            status_counts=dict(body.get("statusCounts") or {}),
            processing_result_counts=dict(body.get("processingResultCounts") or {}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise _unexpected(response, f"/{organism}/get-sequences") from exc


@dataclass(frozen=True)
class ReviewDetails:
    """What the review page shows of a processed entry (from get-data-to-edit's processed half)."""

    accession: str
    version: int
    metadata: Mapping[str, Any]
    files: Mapping[str, tuple[str, ...]]  # category -> file names
    errors: tuple[Annotation, ...]
    warnings: tuple[Annotation, ...]


def review_details(token: str, organism: str, accession: str, version: int) -> ReviewDetails:
    """What the review page shows of a processed entry: get_data_to_edit's processed half, without the
    sequences (kept small: the review page caches it)."""
    entry = get_data_to_edit(token, organism, accession, version)
    return ReviewDetails(
        accession=entry.accession,
        version=entry.version,
        metadata=entry.processed_metadata,
        files={category: tuple(name for _, name in refs) for category, refs in entry.processed_files.items()},
        errors=entry.errors,
        warnings=entry.warnings,
    )


def _act_on_versions(
    method: str,
    path: str,
    token: str,
    accession_versions: Iterable[tuple[str, int]] | None,
    group_ids: Iterable[int] | None,
    scope: str,
) -> list[tuple[str, int]]:
    """An action on entry versions (approve, delete): the body both take, and the versions acted on."""
    body = {
        "accessionVersionsFilter": None
        if accession_versions is None
        else [{"accession": a, "version": v} for a, v in accession_versions],
        "groupIdsFilter": None if group_ids is None else list(group_ids),
        "scope": scope,
    }
    response = _call(method, path, token=token, json_body=body)
    answer = _json(response)
    try:
        return [(str(item["accession"]), int(item["version"])) for item in answer]
    except (KeyError, TypeError, ValueError) as exc:
        raise _unexpected(response, path) from exc


def approve_processed_data(
    token: str,
    organism: str,
    *,
    accession_versions: Iterable[tuple[str, int]] | None = None,
    group_ids: Iterable[int] | None = None,
    scope: str = "ALL",
) -> list[tuple[str, int]]:
    """POST /{organism}/approve-processed-data: release processed entries without errors; the approved ones.

    With `accession_versions`, every one must be PROCESSED without errors, or nothing is approved (422).
    `scope` ALL approves those with warnings too, WITHOUT_WARNINGS skips them (contract §5.4).
    """
    path = f"/{organism}/approve-processed-data"
    return _act_on_versions("POST", path, token, accession_versions, group_ids, scope)


def delete_sequence_entry_versions(
    token: str,
    organism: str,
    *,
    accession_versions: Iterable[tuple[str, int]] | None = None,
    group_ids: Iterable[int] | None = None,
    scope: str = "ALL",
) -> list[tuple[str, int]]:
    """DELETE /{organism}/delete-sequence-entry-versions: discard unreleased entries; the discarded ones.

    `scope` ALL (RECEIVED and PROCESSED), PROCESSED_WITH_ERRORS or PROCESSED_WITH_WARNINGS (contract §5.5).
    """
    path = f"/{organism}/delete-sequence-entry-versions"
    return _act_on_versions("DELETE", path, token, accession_versions, group_ids, scope)


# --- Released entries: revoke, and what was submitted --------------------------------------------


def revoke(token: str, organism: str, accessions: Iterable[str], version_comment: str | None) -> list[SubmittedEntry]:
    """POST /{organism}/revoke: a revocation version of each released accession (contract §5.6).

    The revocations are PROCESSED and wait for approval, as any new version does.
    """
    path = f"/{organism}/revoke"
    body = {"accessions": list(accessions), "versionComment": version_comment or None}
    response = _call("POST", path, token=token, json_body=body)
    answer = _json(response)
    try:
        return [
            SubmittedEntry(str(item["accession"]), int(item["version"]), str(item.get("submissionId", "")))
            for item in answer
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise _unexpected(response, path) from exc


@dataclass
class Download:
    """A file the backend is sending: read `chunks()` once, then it is closed."""

    filename: str
    content_type: str
    response: requests.Response

    def chunks(self) -> Iterator[bytes]:
        try:
            yield from self.response.iter_content(chunk_size=1024 * 1024)
        finally:
            self.response.close()


def get_submitted_data(token: str, organism: str, group_id: int, accessions: Iterable[str] | None) -> Download:
    """POST /{organism}/get-submitted-data: the group's released entries as submitted (a zip of metadata.tsv,
    with `accession` and files as name:fileId, and sequences.fasta), streamed (contract §5.7)."""
    path = f"/{organism}/get-submitted-data"
    body = {"groupId": group_id, "accessionsFilter": None if accessions is None else list(accessions)}
    response = _call(
        "POST", path, token=token, json_body=body, headers={"Accept": "application/zip, application/json"}, stream=True
    )
    disposition = response.headers.get("Content-Disposition", "")
    match = re.search(r'filename="?([^";]+)"?', disposition)
    name = match.group(1) if match else f"{organism}_submitted_data.zip"
    return Download(
        re.sub(r"[^A-Za-z0-9._-]", "_", name), response.headers.get("Content-Type", "application/zip"), response
    )


def get_api_docs() -> dict[str, Any]:
    """GET /api-docs: the backend's OpenAPI document (public), used to detect its generation."""
    response = _call("GET", "/api-docs", token=None)
    body = _json(response)
    if not isinstance(body, dict):
        raise _unexpected(response, "/api-docs")
    return body


# --- Edit ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Annotation:
    """A processing error or warning: the fields it concerns (by name; the submitted and the processed ones)."""

    unprocessed_fields: tuple[str, ...]
    processed_fields: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class EntryToEdit:
    """get-data-to-edit: what was submitted (what an edit changes), what processing made of it, and why."""

    accession: str
    version: int
    status: str
    group_id: int
    submission_id: str
    metadata: Mapping[str, str]  # as submitted
    sequences: Mapping[str, str]  # as submitted, by FASTA id
    files: Mapping[str, tuple[tuple[str, str], ...]]  # as submitted: category -> ((fileId, name), …)
    processed_metadata: Mapping[str, Any]
    processed_files: Mapping[str, tuple[tuple[str, str], ...]]  # as processing kept them
    errors: tuple[Annotation, ...]
    warnings: tuple[Annotation, ...]


def _annotations(raw: Any) -> tuple[Annotation, ...]:
    def names(fields: Any) -> tuple[str, ...]:
        return tuple(str(f["name"]) for f in fields or ())

    return tuple(
        Annotation(names(item.get("unprocessedFields")), names(item.get("processedFields")), str(item["message"]))
        for item in raw or ()
    )


def _file_refs(raw: Any) -> dict[str, tuple[tuple[str, str], ...]]:
    """{category: [{fileId, name}]} (null allowed) as {category: ((fileId, name), …)}."""
    return {
        str(category): tuple((str(r["fileId"]), str(r["name"])) for r in refs or ())
        for category, refs in (raw or {}).items()
    }


def get_data_to_edit(token: str, organism: str, accession: str, version: int) -> EntryToEdit:
    """GET /{organism}/get-data-to-edit/{accession}/{version} (contract §5.2).

    Only for processed (or released) entries: for one still awaiting processing the backend answers 500.
    """
    path = f"/{organism}/get-data-to-edit/{accession}/{version}"
    response = _call("GET", path, token=token)
    body = _json(response)
    try:
        submitted = body["submittedData"]
        processed = body.get("processedData") or {}
        return EntryToEdit(
            accession=str(body["accession"]),
            version=int(body["version"]),
            status=str(body["status"]),
            group_id=int(body["groupId"]),
            submission_id=str(body["submissionId"]),
            metadata={str(k): "" if v is None else str(v) for k, v in (submitted.get("metadata") or {}).items()},
            sequences={
                str(k): str(v)
                for k, v in (submitted.get("unalignedNucleotideSequences") or {}).items()
                if v is not None
            },
            files=_file_refs(submitted.get("files")),
            processed_metadata=dict(processed.get("metadata") or {}),
            processed_files=_file_refs(processed.get("files")),
            errors=_annotations(body.get("errors")),
            warnings=_annotations(body.get("warnings")),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _unexpected(response, path) from exc


def submit_edited_data(
    token: str,
    organism: str,
    accession: str,
    version: int,
    metadata: Mapping[str, str],
    sequences: Mapping[str, str],
    files: Mapping[str, Iterable[tuple[str, str]]] | None,
) -> None:
    """POST /{organism}/submit-edited-data (contract §5.3): 204, the entry goes back to RECEIVED.

    The data replace what was submitted, files included: `files` ({category: ((fileId, name), …)})
    must list every file the entry keeps. Never retried.
    """
    data: dict[str, Any] = {"metadata": dict(metadata), "unalignedNucleotideSequences": dict(sequences)}
    data["files"] = (
        None
        if files is None
        else {category: [{"fileId": fid, "name": name} for fid, name in refs] for category, refs in files.items()}
    )
    body = {"accession": accession, "version": version, "data": data}
    _call("POST", f"/{organism}/submit-edited-data", token=token, json_body=body)
