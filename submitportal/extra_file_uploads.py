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

from submitportal import drafts, file_names
from submitportal.loculus import client, plain_words
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


def add_files(draft: Draft, category: str, selected: list[Selected]) -> list[ExtraFile] | None:
    """Record the chosen files (replacing any at the same path), refusing those Loculus would not take.

    No upload URL is asked for yet: the browser asks for them in batches just before it uploads
    (prepare), because they expire after 30 minutes. Which entry a file belongs to is not decided
    here: that is judged from the current metadata whenever the page shows it (bulk.current_plans).
    None: the draft is no longer open.
    """
    chosen = {item.path: item for item in selected if not file_names.is_hidden(item.path)}
    with drafts.changing(draft) as locked:
        if locked.draft.status != Draft.Status.OPEN:
            return None
        ExtraFile.objects.filter(draft=draft, category=category, path__in=list(chosen)).delete()
        records = []
        for item in chosen.values():
            problem = _problem(item.path, item.size)
            records.append(
                ExtraFile(
                    draft=locked.draft,
                    category=category,
                    path=item.path,
                    size=item.size,
                    group_id=locked.draft.group_id,
                    status=ExtraFile.Status.REFUSED if problem else ExtraFile.Status.PENDING,
                    error=problem or "",
                )
            )
        created = ExtraFile.objects.bulk_create(records)
        locked.draft.save(update_fields=["updated_at"])
    return created


GROUP_CHANGED = "The submitting group changed while this upload was being prepared. Please retry."
NO_ADDRESS = "Loculus did not hand out an upload address for this file. Please retry."


def prepare(token: str, draft: Draft, pks: list[int], *, fresh: bool = False) -> list[ExtraFile]:
    """Upload URLs for these files of the draft, asked for now: reused while valid for its group, else new.

    `fresh` forces new URLs (the browser was refused with the old ones). Loculus is asked without the
    draft's lock; the URLs are kept only for files still waiting, and only if the draft's group is
    still the one they were asked for. Returns the files as they are now.
    """
    group_id = Draft.objects.filter(pk=draft.pk).values_list("group_id", flat=True).first()
    waiting = list(
        ExtraFile.objects.filter(
            draft=draft, pk__in=pks, status__in=(ExtraFile.Status.PENDING, ExtraFile.Status.FAILED)
        )
    )
    stale = [f for f in waiting if fresh or not _usable(f, group_id)]
    targets, failure = request_urls(token, group_id, stale)
    with drafts.changing(draft) as locked:
        if locked.draft.status == Draft.Status.OPEN:
            now = {f.pk: f for f in ExtraFile.objects.filter(draft=draft, pk__in=[f.pk for f in waiting])}
            for f in waiting:
                current = now.get(f.pk)
                if current is None or current.status not in (ExtraFile.Status.PENDING, ExtraFile.Status.FAILED):
                    continue  # removed, uploaded or refused meanwhile
                if f in stale:
                    target = targets.get(f.pk)
                    if locked.draft.group_id != group_id:
                        # The URLs are for the old group. Files of the old group were marked by the group change.
                        if current.group_id == locked.draft.group_id:
                            _set(current, status=ExtraFile.Status.FAILED, error=GROUP_CHANGED)
                    elif target is None:
                        _set(current, status=ExtraFile.Status.FAILED, error=failure or NO_ADDRESS)
                    else:
                        _set(current, **_with_target(current, target, group_id))
                elif current.status == ExtraFile.Status.FAILED and current.group_id == locked.draft.group_id:
                    _set(current, status=ExtraFile.Status.PENDING, error="")
    return list(ExtraFile.objects.filter(draft=draft, pk__in=pks))


def _set(upload: ExtraFile, **fields: object) -> None:
    for name, value in fields.items():
        setattr(upload, name, value)
    ExtraFile.objects.filter(pk=upload.pk).update(**fields)


def _usable(upload: ExtraFile, group_id: int | None) -> bool:
    return bool(
        upload.urls
        and upload.group_id == group_id
        and upload.urls_expire_at is not None
        and upload.urls_expire_at - EXPIRY_MARGIN > timezone.now()
    )


Target = client.UploadTarget | client.MultipartTarget


def request_urls(token: str, group_id: int | None, files: list[ExtraFile]) -> tuple[dict[int, Target], str]:
    """Fresh upload URLs for these files, for the group, in as few backend calls as possible.

    Files below the threshold get single-PUT URLs (one call for all of them); larger ones get
    multipart URLs (one call per part count). Returns the targets by file, and why the missing
    ones have none.
    """
    if group_id is None:  # Loculus would answer "Required parameter 'groupId' is not present."
        return {}, plain_words.NO_GROUP
    small = [f for f in files if f.size < settings.UPLOAD_MULTIPART_THRESHOLD]
    by_parts: dict[int, list[ExtraFile]] = defaultdict(list)
    for f in files:
        if f.size >= settings.UPLOAD_MULTIPART_THRESHOLD:
            by_parts[part_plan(f.size)[1]].append(f)
    targets: dict[int, Target] = {}
    failure = ""
    asks: list[tuple[list[ExtraFile], Callable[[], Sequence[Target]]]] = []
    if small:
        asks.append((small, lambda: client.request_upload(token, group_id=group_id, number_files=len(small))))
    for count, batch in by_parts.items():
        asks.append(
            (
                batch,
                lambda batch=batch, count=count: client.request_multipart_upload(
                    token, group_id=group_id, number_files=len(batch), number_parts=count
                ),
            )
        )
    for batch, ask in asks:
        try:
            answer = ask()
        except client.Unauthorized:
            raise  # the user signs in again; the middleware keeps the page
        except client.LoculusError as exc:
            said = plain_words.explain(exc, doing="upload addresses")
            failure = said or f"Loculus did not hand out an upload address: {exc.detail}"
            continue
        _learn_origins(answer, when="prepare")
        targets.update({f.pk: target for f, target in zip(batch, answer, strict=True)})
    return targets, failure


def _with_target(upload: ExtraFile, target: Target, group_id: int | None) -> dict[str, object]:
    if isinstance(target, client.UploadTarget):
        urls = [target.url]
        fields = {"method": ExtraFile.Method.SINGLE, "headers": dict(target.headers), "part_size": None}
    else:
        urls = list(target.urls)
        fields = {"method": ExtraFile.Method.MULTIPART, "headers": {}, "part_size": part_plan(upload.size)[0]}
    return {
        **fields,
        "file_id": target.file_id,
        "group_id": group_id,
        "urls": urls,
        "urls_expire_at": min(_expiry_of(url) for url in urls) if urls else timezone.now(),
        "status": ExtraFile.Status.PENDING,
        "error": "",
    }


# --- Where uploads go: the origins of the upload URLs, learned ------------------------------------
#
# The browser PUTs straight to S3, so the page's Content Security Policy must list the S3 origin in
# connect-src before the first PUT; a page cannot widen its own policy afterwards. The portal learns
# the origin of the configured backend's upload URLs from every batch of URLs it is handed, and, so
# that no page meets an origin it does not allow, asks for one upload URL while it renders the first
# page with uploads if it knows none yet (upload_origins_for_page).
#
# They are kept in the shared database cache, without expiry, by backend URL: a handful of entries
# in that cache, so nothing culls them, and if the cache is cleared they are learned again the same
# way. A fact that can be asked for again needs no table of its own.
ORIGINS_KEY = "upload-origins"


def _origins_key() -> str:
    return f"{ORIGINS_KEY}:{client.backend_url()}"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def learned_origins() -> list[str] | None:
    """The origins of the upload URLs the configured backend has handed out; None: none seen yet."""
    known = cache.get(_origins_key())
    return list(known) if known is not None else None


def allowed_origins() -> list[str]:
    """What connect-src lists for uploads: S3_ORIGINS, then the origins learned from the backend."""
    configured = list(settings.S3_ORIGINS)
    return configured + [origin for origin in learned_origins() or () if origin not in configured]


def _learn_origins(targets: Sequence[Target], *, when: str) -> None:
    """Remember the origins of these upload URLs. `when`: "page" (before a page is sent) or "prepare"."""
    urls = [t.url for t in targets if isinstance(t, client.UploadTarget)]
    urls += [url for t in targets if isinstance(t, client.MultipartTarget) for url in t.urls[:1]]
    seen = {_origin(url) for url in urls}
    known = learned_origins()
    new = seen - set(known or ())
    if not new:
        return
    cache.set(_origins_key(), sorted(set(known or ()) | seen), None)
    for origin in sorted(new):
        if when == "prepare" and origin not in settings.S3_ORIGINS:
            # Pages sent before now do not allow it: their uploads there fail until they are reloaded.
            log.warning(
                "Loculus now hands out upload URLs at %s: learned and allowed for pages from now on; "
                "pages already open must be reloaded to upload there.",
                origin,
            )
        else:
            log.info("Loculus hands out upload URLs at %s: learned, and allowed in connect-src.", origin)


def upload_origins_for_page(token: str, group_id: int | None) -> list[str]:
    """The origins a page with uploads allows (its connect-src), learned first if none is known yet.

    If the portal has not yet seen an upload URL of the configured backend, it asks for one (for the
    page's group, or the user's first group): one call, once; the file ID it gets is never used and
    no object is ever put behind it. If that fails, the page goes without; its uploads will learn the origin,
    and a page that meets an origin it does not allow says so.
    """
    if learned_origins() is None:
        try:
            if group_id is None:
                groups = client.get_user_groups(token)
                group_id = groups[0].group_id if groups else None
            if group_id is not None:
                _learn_origins(client.request_upload(token, group_id=group_id, number_files=1), when="page")
        except client.LoculusError as exc:
            log.info("Could not ask Loculus where uploads go (%s); the uploads themselves will tell.", exc.detail)
    return allowed_origins()


@dataclass(frozen=True)
class Finished:
    """The browser's report of one file whose bytes are in S3."""

    pk: int
    etags: list[str]
    file_id: str | None = None  # the file the browser uploaded to (as prepare gave it)


MOVED_ON = (
    "The upload address of this file changed while it was uploading (the submitting group changed?). Please retry."
)


def mark_uploaded(token: str, draft: Draft, reports: list[Finished]) -> list[ExtraFile]:
    """Files the browser finished. Multipart uploads are completed with Loculus (one call for all of them)
    before the files are marked uploaded; a file changed meanwhile (removed, regrouped, given new
    URLs) keeps what the other request gave it. Returns the files as they are now.
    """
    by_pk = {report.pk: report for report in reports}
    files = list(ExtraFile.objects.filter(draft=draft, pk__in=list(by_pk), status=ExtraFile.Status.PENDING))
    verdicts: dict[int, str] = {}  # pk → "" (uploaded) or why not
    completions: list[ExtraFile] = []
    for upload in files:
        report = by_pk[upload.pk]
        if report.file_id and report.file_id != upload.file_id:
            verdicts[upload.pk] = MOVED_ON
        elif upload.method == ExtraFile.Method.MULTIPART:
            if len(report.etags) != len(upload.urls) or not all(report.etags):
                verdicts[upload.pk] = "The browser did not report every part of this file. Please retry."
            else:
                completions.append(upload)
        else:
            verdicts[upload.pk] = ""
    if completions:
        verdicts.update(_complete(token, completions, by_pk))
    with drafts.changing(draft) as locked:
        group_id = locked.draft.group_id
        for upload in ExtraFile.objects.filter(draft=draft, pk__in=list(verdicts), status=ExtraFile.Status.PENDING):
            before = next(f for f in files if f.pk == upload.pk)
            if upload.file_id != before.file_id or upload.group_id != group_id:
                continue  # new URLs or another group meanwhile: not what the browser uploaded
            if verdicts[upload.pk]:
                _set(upload, status=ExtraFile.Status.FAILED, error=verdicts[upload.pk][:1000])
            else:
                _set(upload, status=ExtraFile.Status.UPLOADED, error="", uploaded_at=timezone.now())
                log.info("draft %s: %s/%s uploaded as file %s", draft.pk, upload.category, upload.path, upload.file_id)
    return list(ExtraFile.objects.filter(draft=draft, pk__in=list(by_pk)))


def _complete(token: str, uploads: list[ExtraFile], by_pk: dict[int, Finished]) -> dict[int, str]:
    """Complete multipart uploads with Loculus; why each one failed ("" if it did not)."""
    if len(uploads) > 1:
        try:
            client.complete_multipart_upload(
                token, [client.CompletedUpload(f.file_id, tuple(by_pk[f.pk].etags)) for f in uploads]
            )
            return {f.pk: "" for f in uploads}
        except client.Unauthorized:
            raise
        except client.LoculusError as exc:
            # Not atomic across files: completing them one by one tells which one failed and why.
            log.info("draft %s: completing %d uploads at once failed (%s)", uploads[0].draft_id, len(uploads), exc)
    verdicts = {}
    for upload in uploads:
        try:
            client.complete_multipart_upload(
                token, [client.CompletedUpload(upload.file_id, tuple(by_pk[upload.pk].etags))]
            )
            verdicts[upload.pk] = ""
        except client.Unauthorized:
            raise
        except client.LoculusError as exc:
            if isinstance(exc, client.Rejected) and "already been completed" in exc.detail:
                verdicts[upload.pk] = ""  # a retried report: the first one completed it
                continue
            said = plain_words.explain(exc, doing=f"completing the upload of {upload.path}")
            verdicts[upload.pk] = said or f"Loculus could not put the parts together: {exc.detail}"
    return verdicts


def mark_failed(draft: Draft, pk: int, reason: str) -> None:
    """The browser gave up on a file; an uploaded file stays uploaded."""
    ExtraFile.objects.filter(draft=draft, pk=pk, status=ExtraFile.Status.PENDING).update(
        status=ExtraFile.Status.FAILED, error=reason[:1000] or "The upload failed."
    )


def retry(draft: Draft, pk: int) -> None:
    """Back in the queue; the browser prepares it again (fresh URLs if the old ones are stale)."""
    with drafts.changing(draft) as locked:
        if locked.draft.status == Draft.Status.OPEN:
            ExtraFile.objects.filter(draft=draft, pk=pk, status=ExtraFile.Status.FAILED).update(
                status=ExtraFile.Status.PENDING, error=""
            )


def remove(draft: Draft, pk: int) -> bool:
    """Remove a file from the draft (False: the draft is no longer open)."""
    with drafts.changing(draft) as locked:
        if locked.draft.status != Draft.Status.OPEN:
            return False
        ExtraFile.objects.filter(draft=draft, pk=pk).delete()
        locked.draft.save(update_fields=["updated_at"])
    return True


def regroup(locked: drafts.Locked, group_name: str) -> int:
    """The draft's group changed (under its lock): files uploaded for another group must be uploaded again."""
    others = (
        ExtraFile.objects.filter(draft=locked.draft)
        .exclude(group_id=locked.draft.group_id)
        .exclude(status=ExtraFile.Status.REFUSED)
    )
    return others.update(
        status=ExtraFile.Status.FAILED,
        error=f"This file was uploaded for another submitting group. Please upload it again for {group_name}.",
        urls=[],
    )
