"""Extra files: asking Loculus for upload URLs, and recording how each upload went.

The browser never talks to the Loculus backend. It tells the portal which files it has (names
and sizes only); the portal asks the backend for presigned URLs for the draft's group, in as few
calls as possible, and records them against the draft. The browser PUTs the bytes to S3 and
reports back; the portal completes multipart uploads with the backend and only then marks the
file uploaded. Names Loculus would refuse are refused here, before any byte moves.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from submitportal import file_names
from submitportal.loculus import client
from submitportal.models import Draft, ExtraFile

log = logging.getLogger("submitportal.uploads")

MIB = 1024 * 1024
MAX_PARTS = 10_000
# URLs closer than this to their expiry are replaced before an upload starts with them.
EXPIRY_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class Selected:
    """A file the browser has: its path (inside the chosen folder, or just the name) and size."""

    path: str
    size: int


def part_plan(size: int) -> tuple[int, int]:
    """(part size, part count) for a multipart upload, as the Loculus website computes it."""
    part_size = settings.UPLOAD_PART_SIZE
    count = max(1, math.ceil(size / part_size))
    if count > MAX_PARTS:
        part_size = math.ceil(size / MAX_PARTS)
        count = math.ceil(size / part_size)
    return part_size, count


def _expiry_of(url: str) -> datetime:
    """When a presigned URL stops working, read from its own X-Amz-Date and X-Amz-Expires."""
    query = parse_qs(urlsplit(url).query)
    try:
        signed = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        return signed + timedelta(seconds=int(query["X-Amz-Expires"][0]))
    except (KeyError, ValueError, IndexError):
        return timezone.now() + timedelta(minutes=30)


def _problem(path: str, size: int) -> str | None:
    if path.startswith("/") or any(part in ("", ".", "..") for part in path.split("/")):
        return "File paths must stay inside the chosen folder: no “..”, no leading “/”, no empty folder names."
    name = path.rsplit("/", 1)[-1]
    problem = file_names.problem_with(name)
    if problem:
        return problem
    if size <= 0:
        return "This file is empty (0 bytes). Loculus does not store empty files; please check you chose the right one."
    if size > settings.UPLOAD_MAX_FILE_SIZE:
        limit = settings.UPLOAD_MAX_FILE_SIZE / 2**30
        return f"This file is larger than this portal accepts ({limit:g} GiB)."
    return None


def add_files(
    draft: Draft, category: str, selected: list[Selected], refusals: dict[str, str] | None = None
) -> list[ExtraFile]:
    """Record the chosen files (replacing any at the same path), refusing those Loculus would not take.

    No upload URL is asked for yet: the browser asks for them in batches just before it uploads
    (prepare), because they expire after 30 minutes. `refusals` are reasons found by the caller
    (e.g. a file that belongs to no entry), by path.
    """
    refusals = refusals or {}
    records: list[ExtraFile] = []
    for item in selected:
        if file_names.is_hidden(item.path):
            continue
        ExtraFile.objects.filter(draft=draft, category=category, path=item.path).delete()
        problem = _problem(item.path, item.size) or refusals.get(item.path)
        records.append(
            ExtraFile.objects.create(
                draft=draft,
                category=category,
                path=item.path,
                size=item.size,
                group_id=draft.group_id,
                status=ExtraFile.Status.REFUSED if problem else ExtraFile.Status.PENDING,
                error=problem or "",
            )
        )
    return records


def prepare(token: str, draft: Draft, files: list[ExtraFile], *, fresh: bool = False) -> list[ExtraFile]:
    """Upload URLs for these files, asked for now: reused while valid for the draft's group, else new.

    `fresh` forces new URLs (the browser was refused with the old ones).
    """
    waiting = [f for f in files if f.status in (ExtraFile.Status.PENDING, ExtraFile.Status.FAILED)]
    stale = [f for f in waiting if fresh or not _usable(f)]
    for f in waiting:
        if f not in stale and f.status != ExtraFile.Status.PENDING:
            f.status = ExtraFile.Status.PENDING
            f.error = ""
            f.save(update_fields=["status", "error"])
    for f in stale:
        f.status = ExtraFile.Status.PENDING  # request_urls marks the ones Loculus refuses as failed
    request_urls(token, draft, stale)
    return files


def _usable(upload: ExtraFile) -> bool:
    return bool(
        upload.urls
        and upload.group_id == upload.draft.group_id
        and upload.urls_expire_at is not None
        and upload.urls_expire_at - EXPIRY_MARGIN > timezone.now()
    )


def request_urls(token: str, draft: Draft, files: list[ExtraFile]) -> None:
    """Fresh upload URLs for these files, for the draft's group, in as few backend calls as possible.

    Files below the threshold get single-PUT URLs (one call for all of them); larger ones get
    multipart URLs (one call per part count).
    """
    small = [f for f in files if f.size < settings.UPLOAD_MULTIPART_THRESHOLD]
    by_parts: dict[int, list[ExtraFile]] = defaultdict(list)
    for f in files:
        if f.size >= settings.UPLOAD_MULTIPART_THRESHOLD:
            by_parts[part_plan(f.size)[1]].append(f)
    if small:
        _fill(small, lambda: client.request_upload(token, group_id=draft.group_id, number_files=len(small)))
    for count, batch in by_parts.items():
        _fill(
            batch,
            lambda batch=batch, count=count: client.request_multipart_upload(
                token, group_id=draft.group_id, number_files=len(batch), number_parts=count
            ),
        )


def _fill(files: list[ExtraFile], ask: Callable[[], Sequence[client.UploadTarget | client.MultipartTarget]]) -> None:
    try:
        targets = ask()
    except client.Unauthorized:
        raise  # the user signs in again; the middleware keeps the page
    except client.LoculusError as exc:
        for f in files:
            f.status = ExtraFile.Status.FAILED
            f.error = f"Loculus did not hand out an upload address: {exc.detail}"
            f.save(update_fields=["status", "error"])
        return
    now = timezone.now()
    _check_origins(targets)
    for f, target in zip(files, targets, strict=True):
        f.file_id = target.file_id
        f.group_id = f.draft.group_id
        if isinstance(target, client.UploadTarget):
            f.method = ExtraFile.Method.SINGLE
            f.urls = [target.url]
            f.headers = dict(target.headers)
            f.part_size = None
        else:
            f.method = ExtraFile.Method.MULTIPART
            f.urls = list(target.urls)
            f.headers = {}
            f.part_size = part_plan(f.size)[0]
        f.urls_expire_at = min(_expiry_of(url) for url in f.urls) if f.urls else now
        f.status = ExtraFile.Status.PENDING
        f.error = ""
        f.save()


UNLISTED_ORIGINS_KEY = "unlisted-s3-origins"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _check_origins(targets: Sequence[client.UploadTarget | client.MultipartTarget]) -> None:
    """Upload URLs must point at an origin the CSP lets browsers connect to (S3_ORIGINS), or uploads fail."""
    urls = [t.url for t in targets if isinstance(t, client.UploadTarget)]
    urls += [t.urls[0] for t in targets if isinstance(t, client.MultipartTarget) and t.urls]
    unlisted = {_origin(url) for url in urls} - set(settings.S3_ORIGINS)
    if not unlisted:
        return
    known = set(cache.get(UNLISTED_ORIGINS_KEY) or ())
    for origin in sorted(unlisted - known):
        log.warning(
            "Loculus hands out upload URLs at %s, which S3_ORIGINS does not list: browsers will refuse to upload "
            "there (Content Security Policy). Add it to S3_ORIGINS.",
            origin,
        )
    cache.set(UNLISTED_ORIGINS_KEY, sorted(known | unlisted), None)


def unlisted_origins() -> list[str]:
    """Upload origins seen that S3_ORIGINS does not list (for the About page)."""
    return [origin for origin in cache.get(UNLISTED_ORIGINS_KEY) or () if origin not in settings.S3_ORIGINS]


def mark_uploaded(token: str, upload: ExtraFile, etags: list[str]) -> ExtraFile:
    """The browser says the bytes are in S3. Multipart uploads are completed with Loculus first."""
    if upload.status == ExtraFile.Status.UPLOADED:
        return upload
    if upload.method == ExtraFile.Method.MULTIPART:
        if len(etags) != len(upload.urls) or not all(etags):
            return mark_failed(upload, "The browser did not report every part of this file. Please retry.")
        try:
            client.complete_multipart_upload(token, [client.CompletedUpload(upload.file_id, tuple(etags))])
        except client.Unauthorized:
            raise
        except client.Rejected as exc:
            if "already been completed" not in exc.detail:
                return mark_failed(upload, f"Loculus could not put the parts together: {exc.detail}")
        except client.LoculusError as exc:
            return mark_failed(upload, f"Loculus could not put the parts together: {exc.detail}")
    return _uploaded(upload)


def mark_many_uploaded(token: str, reports: list[tuple[ExtraFile, list[str]]]) -> list[ExtraFile]:
    """Many files the browser finished: one backend call completes all the multipart ones."""
    done: list[ExtraFile] = []
    completions: list[tuple[ExtraFile, list[str]]] = []
    for upload, etags in reports:
        if upload.status != ExtraFile.Status.PENDING:
            done.append(upload)
        elif upload.method == ExtraFile.Method.MULTIPART:
            if len(etags) != len(upload.urls) or not all(etags):
                done.append(mark_failed(upload, "The browser did not report every part of this file. Please retry."))
            else:
                completions.append((upload, etags))
        else:
            done.append(_uploaded(upload))
    if completions:
        try:
            client.complete_multipart_upload(
                token, [client.CompletedUpload(upload.file_id, tuple(etags)) for upload, etags in completions]
            )
        except client.Unauthorized:
            raise
        except client.LoculusError:
            # Not atomic across files: complete them one by one to tell which one failed and why.
            done.extend(mark_uploaded(token, upload, etags) for upload, etags in completions)
        else:
            done.extend(_uploaded(upload) for upload, _ in completions)
    return done


def _uploaded(upload: ExtraFile) -> ExtraFile:
    upload.status = ExtraFile.Status.UPLOADED
    upload.error = ""
    upload.uploaded_at = timezone.now()
    upload.save(update_fields=["status", "error", "uploaded_at"])
    log.info("draft %s: %s/%s uploaded as file %s", upload.draft_id, upload.category, upload.path, upload.file_id)
    return upload


def mark_failed(upload: ExtraFile, reason: str) -> ExtraFile:
    if upload.status == ExtraFile.Status.UPLOADED:
        return upload
    upload.status = ExtraFile.Status.FAILED
    upload.error = reason[:1000] or "The upload failed."
    upload.save(update_fields=["status", "error"])
    return upload


def retry(upload: ExtraFile) -> ExtraFile:
    """Back in the queue; the browser prepares it again (fresh URLs if the old ones are stale)."""
    if upload.status in (ExtraFile.Status.UPLOADED, ExtraFile.Status.REFUSED):
        return upload
    upload.status = ExtraFile.Status.PENDING
    upload.error = ""
    upload.save(update_fields=["status", "error"])
    return upload


def regroup(draft: Draft, group_name: str) -> int:
    """The draft's group changed: files uploaded for another group must be uploaded again."""
    others = (
        ExtraFile.objects.filter(draft=draft).exclude(group_id=draft.group_id).exclude(status=ExtraFile.Status.REFUSED)
    )
    count = others.update(
        status=ExtraFile.Status.FAILED,
        error=f"This file was uploaded for another submitting group. Please upload it again for {group_name}.",
        urls=[],
    )
    return count
