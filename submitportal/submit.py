"""Sending a draft to Loculus: the metadata TSV, the FASTA and the file links, streamed to /submit.

One submit per draft: the draft is claimed (OPEN → SUBMITTING) in one UPDATE before anything is
sent, so a double click or a second tab cannot submit it twice.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from pathlib import Path

from django.utils import timezone

from submitportal import tsv
from submitportal.loculus import client, files_protocol
from submitportal.loculus.instance import FASTA_IDS_FIELD, ID_FIELD, Organism
from submitportal.models import Draft, ExtraFile
from submitportal.single_entry import Entry, form_fields

log = logging.getLogger("submitportal.submit")


class SubmitRefused(Exception):
    """The portal will not send this draft yet. The message says why and what to do."""


def claim(draft: Draft) -> None:
    """OPEN → SUBMITTING, or SubmitRefused. From here on nothing of the draft changes but its outcome."""
    claimed = Draft.objects.filter(pk=draft.pk, status=Draft.Status.OPEN).update(status=Draft.Status.SUBMITTING)
    draft.refresh_from_db()
    if not claimed:
        if draft.status == Draft.Status.SUBMITTED:
            raise SubmitRefused("This entry has already been submitted.")
        raise SubmitRefused("This entry is being submitted right now (perhaps from another tab). Please wait.")


def release(draft: Draft) -> None:
    Draft.objects.filter(pk=draft.pk, status=Draft.Status.SUBMITTING).update(status=Draft.Status.OPEN)


def ready_files(draft: Draft) -> list[ExtraFile]:
    """The draft's extra files, all uploaded for its group; refuses (in words) while any is not."""
    files = list(draft.files.all())
    not_ready = [f for f in files if f.status != ExtraFile.Status.UPLOADED]
    if not_ready:
        names = ", ".join(f.path for f in not_ready[:5]) + (" …" if len(not_ready) > 5 else "")
        raise SubmitRefused(
            f"{len(not_ready)} extra file(s) are not uploaded yet ({names}). Please wait for every file to show ✓, "
            "retry the ones that failed, or remove them."
        )
    if any(f.group_id != draft.group_id for f in files):
        raise SubmitRefused("Some extra files were uploaded for another submitting group. Please upload them again.")
    return files


def file_links(draft: Draft, submission_id: str) -> list[files_protocol.FileLink]:
    """The draft's uploaded files as links to its one entry."""
    return [files_protocol.FileLink(submission_id, f.category, f.name, f.file_id) for f in ready_files(draft)]


def wire_for(organism: Organism, links: list[files_protocol.FileLink]) -> files_protocol.Wire:
    choice = files_protocol.current_choice()
    if links and choice.protocol is None:
        raise SubmitRefused(choice.refusal)
    return files_protocol.Wire(choice.protocol, [c.name for c in organism.file_categories], links)


def write_single_entry(
    organism: Organism, entry: Entry, wire: files_protocol.Wire, directory: Path
) -> tuple[Path, Path | None]:
    """metadata.tsv (one row) and sequences.fasta for one entry."""
    names = [f.name for f in form_fields(organism) if f.name != ID_FIELD]
    header = [ID_FIELD, *names]
    row = [entry.submission_id, *(entry.metadata.get(name, "") for name in names)]
    if organism.is_multi_segment:
        header.append(FASTA_IDS_FIELD)
        row.append(" ".join(entry.fasta_ids))
    header.extend(wire.columns)
    row.extend(wire.cells(entry.submission_id))
    metadata = directory / "metadata.tsv"
    with metadata.open("w", encoding="utf-8", newline="") as out:
        tsv.write_row(out, header)
        tsv.write_row(out, row)
    if not organism.consensus_sequences:
        return metadata, None
    sequences = directory / "sequences.fasta"
    with sequences.open("w", encoding="utf-8", newline="") as out:
        for fasta_id, sequence in entry.sequences:
            tsv.write_fasta_record(out, fasta_id, sequence)
    return metadata, sequences


def record_result(draft: Draft, result: list[client.SubmittedEntry], wire: files_protocol.Wire) -> None:
    draft.status = Draft.Status.SUBMITTED
    draft.result = {
        "entries": [{"submissionId": e.submission_id, "accession": e.accession, "version": e.version} for e in result],
        "groupId": draft.group_id,
        "filesProtocol": wire.protocol.value if wire.protocol else None,
    }
    draft.unclear_submit_at = None
    Draft.objects.filter(pk=draft.pk, status=Draft.Status.SUBMITTING).update(
        status=draft.status, result=draft.result, unclear_submit_at=None, updated_at=timezone.now()
    )


def submit_single_entry(
    token: str, draft: Draft, organism: Organism, entry: Entry, terms: client.DataUseTerms
) -> list[client.SubmittedEntry]:
    """Send one entry with its extra files. Raises SubmitRefused or a client.LoculusError."""
    claim(draft)
    try:
        links = file_links(draft, entry.submission_id)
        wire = wire_for(organism, links)
        with tempfile.TemporaryDirectory(prefix="submitportal-") as tmp:
            metadata_path, fasta_path = write_single_entry(organism, entry, wire, Path(tmp))
            with (
                metadata_path.open("rb") as metadata,
                fasta_path.open("rb") if fasta_path else contextlib.nullcontext() as fasta,
            ):
                result = client.submit(
                    token,
                    organism.key,
                    group_id=int(draft.group_id or 0),
                    metadata=client.UploadPart("metadata.tsv", metadata, "text/tab-separated-values"),
                    sequences=client.UploadPart("sequences.fasta", fasta, "text/plain") if fasta else None,
                    data_use_terms=terms,
                    file_mapping=wire.file_mapping(),
                )
    except BaseException:
        release(draft)
        raise
    record_result(draft, result, wire)
    log.info(
        "draft %s submitted: %s", draft.pk, ", ".join(f"{e.submission_id}={e.accession}.{e.version}" for e in result)
    )
    return result
