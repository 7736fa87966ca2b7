"""What a submit sends: its parts (metadata TSV, FASTA, how extra files go), and what they need.

Each kind of draft builds its parts once the draft is claimed: `entry_parts` here (one entry from
the form) and `bulk.parts` (files). Both use what is here and nothing of submitportal.submit, which
runs the submit and calls them: a submit goes down from the view, never back up.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from submitportal import tsv
from submitportal.loculus import client, files_protocol
from submitportal.loculus.schema import ACCESSION_FIELD, FASTA_IDS_FIELD, ID_FIELD, Organism
from submitportal.models import Draft, ExtraFile
from submitportal.single_entry import Entry, form_fields


class SubmitRefused(Exception):
    """The portal will not send this draft yet. The message says why and what to do."""


@dataclass(frozen=True)
class Parts:
    """What one submit sends: the metadata TSV, the FASTA (if the organism takes sequences), how files go."""

    metadata: client.UploadPart
    sequences: client.UploadPart | None
    wire: files_protocol.Wire


# Builds a draft's parts once it is claimed; what it opens, the ExitStack closes after the send.
PartsMaker = Callable[[contextlib.ExitStack], Parts]


def ready_files(draft: Draft) -> list[ExtraFile]:
    """The draft's extra files, all uploaded for its group; refuses (in words) while any is not."""
    files = list(draft.extra_files.all())
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
    return _write_files(organism, entry, [*header, *wire.columns], [*row, *wire.cells(entry.submission_id)], directory)


def _write_files(
    organism: Organism, entry: Entry, header: list[str], row: list[str], directory: Path
) -> tuple[Path, Path | None]:
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


Writer = Callable[[files_protocol.Wire, Path], tuple[Path, Path | None]]


def _one_entry_parts(draft: Draft, organism: Organism, entry: Entry, write: Writer) -> PartsMaker:
    """The parts of a draft of one entry, written by `write`, with the draft's files linked to it."""

    def make(stack: contextlib.ExitStack) -> Parts:
        wire = wire_for(organism, file_links(draft, entry.submission_id))
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="submitportal-")))
        metadata_path, fasta_path = write(wire, directory)
        metadata = client.UploadPart(
            "metadata.tsv", stack.enter_context(metadata_path.open("rb")), "text/tab-separated-values"
        )
        if fasta_path is None:
            return Parts(metadata, None, wire)
        fasta = client.UploadPart("sequences.fasta", stack.enter_context(fasta_path.open("rb")), "text/plain")
        return Parts(metadata, fasta, wire)

    return make


def entry_parts(draft: Draft, organism: Organism, entry: Entry) -> PartsMaker:
    """The parts of a single-entry draft: its one entry written as TSV and FASTA, its files linked to it."""
    return _one_entry_parts(
        draft, organism, entry, lambda wire, directory: write_single_entry(organism, entry, wire, directory)
    )


@dataclass(frozen=True)
class EditedData:
    """What submit-edited-data sends for an edit draft: it replaces what the entry had, files included."""

    metadata: dict[str, str]
    sequences: dict[str, str]
    files: dict[str, list[tuple[str, str]]] | None  # category -> [(fileId, name)]; None: no extra files here


def edited_data(draft: Draft, organism: Organism, entry: Entry, submitted: Mapping[str, str]) -> EditedData:
    """An edit draft's entry as Loculus takes it back.

    As the Loculus website does: every submitted metadata key is sent again (those the form does not
    show too), a field the user left empty is sent empty only if it was submitted. Files: those kept
    and those uploaded here (all of them, or the edit would drop the rest), refused while any uploads.
    """
    metadata = dict(submitted)
    for name, value in entry.metadata.items():
        if value or name in metadata:
            metadata[name] = value
    files: dict[str, list[tuple[str, str]]] | None = None
    if organism.files_enabled:
        files = {}
        for extra in ready_files(draft):
            files.setdefault(extra.category, []).append((extra.file_id, extra.name))
    return EditedData(metadata, dict(entry.sequences), files)


def write_revision(
    organism: Organism,
    accession: str,
    entry: Entry,
    submitted: Mapping[str, str],
    wire: files_protocol.Wire,
    directory: Path,
) -> tuple[Path, Path | None]:
    """metadata.tsv (one row, `accession` first) and sequences.fasta for a revision of one released entry.

    A column left out of a revision empties that field (contract §4.3), so every submitted field is
    written again, those the form does not show too. FASTA ids: those the entry was submitted with; a
    `fastaIds` column names them unless the one record is called as the entry's ID.
    """
    metadata_values = dict(submitted)
    for name, value in entry.metadata.items():
        if value or name in metadata_values:
            metadata_values[name] = value
    names = sorted(metadata_values)
    header = [ACCESSION_FIELD, ID_FIELD, *names]
    row = [accession, entry.submission_id, *(metadata_values[name] for name in names)]
    fasta_ids = [fasta_id for fasta_id, _ in entry.sequences]
    if organism.consensus_sequences and fasta_ids != [entry.submission_id]:
        header.append(FASTA_IDS_FIELD)
        row.append(" ".join(fasta_ids))
    return _write_files(organism, entry, [*header, *wire.columns], [*row, *wire.cells(entry.submission_id)], directory)


def revision_parts(draft: Draft, organism: Organism, entry: Entry, submitted: Mapping[str, str]) -> PartsMaker:
    """The parts of a revision of one released entry (an EDIT draft with `revise`): its files kept and new."""
    return _one_entry_parts(
        draft,
        organism,
        entry,
        lambda wire, directory: write_revision(organism, draft.accession, entry, submitted, wire, directory),
    )
