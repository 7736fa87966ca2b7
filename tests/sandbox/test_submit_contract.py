"""``POST /{organism}/submit``: one case per row of contract §4.4 (and §4.6 for legacy), in both generations.

Each row builds a request, and names the status, title and detail the Loculus backend answers.
Rows that differ between the generations say so; the ``backend`` fixture runs each row once per
generation.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tests.sandbox.helpers import Backend, assert_problem, fasta, tsv

BAD = "Bad Request"
UNPROCESSABLE = "Unprocessable Entity"
HEADER = ["id", "sampleCollectionDate", "geoLocCountry"]
ONE_ROW = tsv(HEADER, ["s1", "2024-03-18", "Uganda"])
ONE_SEQ = fasta(("s1", "ACGTACGT"))

METADATA_EXTENSION_MESSAGE = (
    "Metadata file has wrong extension. Must be .tsv for uncompressed submissions or "
    ".tsv.zst, .tsv.xz, .tsv.gz, .tsv.zip, .tsv.bz2, .tsv.lzma for compressed submissions"
)
SEQUENCE_EXTENSION_MESSAGE = (
    "Sequence file has wrong extension. Must be .fa, .fasta, .seq, .fna, .fas for uncompressed submissions or "
    ".fa.zst, .fasta.zst, .seq.zst, .fna.zst, .fas.zst, .fa.xz, .fasta.xz, .seq.xz, .fna.xz, .fas.xz, "
    ".fa.gz, .fasta.gz, .seq.gz, .fna.gz, .fas.gz, .fa.zip, .fasta.zip, .seq.zip, .fna.zip, .fas.zip, "
    ".fa.bz2, .fasta.bz2, .seq.bz2, .fna.bz2, .fas.bz2, .fa.lzma, .fasta.lzma, .seq.lzma, .fna.lzma, "
    ".fas.lzma for compressed submissions"
)


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@dataclass
class Expected:
    status: int
    title: str
    detail: str
    exact: bool = True


Row = Callable[[Backend], tuple[requests.Response, Expected]]
BOTH: list[object] = []
CURRENT_ONLY: list[object] = []
LEGACY_ONLY: list[object] = []


def row(table: list[object], name: str) -> Callable[[Row], Row]:
    def register(function: Row) -> Row:
        table.append(pytest.param(function, id=name))
        return function

    return register


# --- 0a-0c: Spring-level parameter checks ---------------------------------------------------------------


@row(BOTH, "0a-unknown-organism")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    return b.submit("unknownOrganism", ONE_ROW, ONE_SEQ), Expected(
        400,
        BAD,
        "Invalid organism: unknownOrganism, possible values are: [ebola-sudan, cchf, wastewater, nofiles]",
        exact=False,
    )


@row(BOTH, "0b-metadata-part-missing")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    return b.submit("ebola-sudan", None, ONE_SEQ), Expected(400, BAD, "Required part 'metadataFile' is not present.")


@row(BOTH, "0b-metadata-under-a-wrong-part-name")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    response = b.post(
        "/ebola-sudan/submit",
        data={"groupId": "1", "dataUseTermsType": "OPEN"},
        files={"metadata": ("metadata.tsv", ONE_ROW), "sequenceFile": ("s.fasta", ONE_SEQ)},
    )
    return response, Expected(400, BAD, "Required part 'metadataFile' is not present.")


@row(BOTH, "0b-metadata-as-a-plain-form-field")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    response = b.post(
        "/ebola-sudan/submit",
        data={"groupId": "1", "dataUseTermsType": "OPEN", "metadataFile": ONE_ROW},
        files={"sequenceFile": ("s.fasta", ONE_SEQ)},
    )
    return response, Expected(400, BAD, "Required part 'metadataFile' is not present.")


@row(BOTH, "0c-group-id-missing")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, group_id=None), Expected(
        400, BAD, "Required parameter 'groupId' is not present."
    )


@row(BOTH, "0c-group-id-not-a-number")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, group_id="abc"), Expected(
        400, BAD, "Failed to convert 'groupId' with value: 'abc'"
    )


@row(BOTH, "0c-data-use-terms-type-not-an-enum-value")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, terms="open"), Expected(
        400, BAD, "Failed to convert 'dataUseTermsType' with value: 'open'"
    )


# --- 1-3e: group and data use terms ---------------------------------------------------------------------


@row(BOTH, "1-group-does-not-exist")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, group_id=123456789), Expected(
        404, "Not Found", "Group(s) 123456789 do(es) not exist."
    )


@row(BOTH, "1-group-does-not-exist-for-superuser-either")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, group_id=999, username="superuser"), Expected(
        404, "Not Found", "Group(s) 999 do(es) not exist."
    )


@row(BOTH, "2-not-a-member")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, group_id=3), Expected(
        403, "Forbidden", "User testuser is not a member of group(s) 3. Action not allowed."
    )


@row(BOTH, "3-data-use-terms-missing")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, terms=None), Expected(
        400, BAD, "the 'dataUseTermsType' needs to be provided."
    )


@row(BOTH, "3b-restricted-without-date")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, terms="RESTRICTED"), Expected(
        400, BAD, "The date 'restrictedUntil' must be set if 'dataUseTermsType' is RESTRICTED."
    )


@row(BOTH, "3c-unparsable-date")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, terms="RESTRICTED", restricted_until="2025-13-45"), Expected(
        400, BAD, "The date 'restrictedUntil' must be a valid date in the format YYYY-MM-DD: 2025-13-45."
    )


@row(BOTH, "3d-date-in-the-past")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    yesterday = (today() - dt.timedelta(days=1)).isoformat()
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, terms="RESTRICTED", restricted_until=yesterday), Expected(
        400, BAD, "The date 'restrictedUntil' must be in the future, up to a maximum of 1 year from now."
    )


@row(BOTH, "3e-date-beyond-one-year")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    too_late = (today() + dt.timedelta(days=367)).isoformat()
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, terms="RESTRICTED", restricted_until=too_late), Expected(
        400, BAD, "The date 'restrictedUntil' must not exceed 1 year from today."
    )


# --- 4-7: the metadata file ----------------------------------------------------------------------------


@row(BOTH, "4b-metadata-extension-wrong")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, metadata_name="metadata.txt"), Expected(
        400, BAD, METADATA_EXTENSION_MESSAGE
    )


@row(BOTH, "4b-metadata-extension-is-case-sensitive")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, metadata_name="METADATA.TSV"), Expected(
        400, BAD, METADATA_EXTENSION_MESSAGE
    )


@row(BOTH, "4b-metadata-with-empty-filename")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, metadata_name=""), Expected(400, BAD, METADATA_EXTENSION_MESSAGE)


@row(BOTH, "5-invalid-tsv-quoting")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    metadata = tsv(HEADER, ['"s1"x', "2024-03-18", "Uganda"])
    return b.submit("ebola-sudan", metadata, ONE_SEQ), Expected(
        422,
        UNPROCESSABLE,
        "The metadata file is not a valid TSV file. Common causes include: fields not separated by tabs, "
        "improperly formatted quoted fields, inconsistent number of fields per row, or empty lines. Error: ",
        exact=False,
    )


@row(BOTH, "5-invalid-tsv-unclosed-quote")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    metadata = tsv(HEADER, ['"s1', "2024-03-18", "Uganda"])
    return b.submit("ebola-sudan", metadata, ONE_SEQ), Expected(
        422, UNPROCESSABLE, "The metadata file is not a valid TSV file.", exact=False
    )


@row(BOTH, "5b-no-id-header")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    metadata = tsv(["name", "geoLocCountry"], ["s1", "Uganda"])
    return b.submit("ebola-sudan", metadata, ONE_SEQ), Expected(
        422, UNPROCESSABLE, "The metadata file does not contain either header 'id' or 'submissionId'"
    )


@row(BOTH, "5c-both-id-headers")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    metadata = tsv(["id", "submissionId", "geoLocCountry"], ["s1", "s1", "Uganda"])
    return b.submit("ebola-sudan", metadata, ONE_SEQ), Expected(
        422, UNPROCESSABLE, "The metadata file contains both 'id' and 'submissionId'. Only one is allowed."
    )


@row(CURRENT_ONLY, "5d-duplicate-files-header")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    metadata = tsv(["id", "geoLocCountry", "files.rawReads", "files.rawReads"], ["s1", "Uganda", "", ""])
    return b.submit("ebola-sudan", metadata, ONE_SEQ), Expected(
        422, UNPROCESSABLE, "In metadata file: found duplicate file headers: files.rawReads"
    )


@row(BOTH, "6-empty-id")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    metadata = tsv(HEADER, ["s1", "2024-03-18", "Uganda"], ["", "2024-03-19", "Kenya"])
    return b.submit("ebola-sudan", metadata, ONE_SEQ), Expected(
        422,
        UNPROCESSABLE,
        "Record #2 in the metadata file contains no value for 'id'. Row: ['', '2024-03-19', 'Kenya']",
    )


@row(BOTH, "6b-whitespace-in-id")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    metadata = tsv(HEADER, ["s 1", "2024-03-18", "Uganda"])
    return b.submit("ebola-sudan", metadata, ONE_SEQ), Expected(
        422, UNPROCESSABLE, "Record #1 in the metadata file: the value for 'id' contains whitespace: 's 1'"
    )


@row(BOTH, "6c-empty-fasta-ids-cell")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    metadata = tsv(["id", "fastaIds", "geoLocCountry"], ["iso1", "", "Uganda"])
    return b.submit("cchf", metadata, fasta(("iso1_L", "ACGT"))), Expected(
        422,
        UNPROCESSABLE,
        "In metadata file: record #1: column `fastaIds` is empty. This is invalid. Full record: CSVRecord [",
        exact=False,
    )


@row(BOTH, "6d-duplicate-ids-in-one-fasta-ids-cell")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    metadata = tsv(["id", "fastaIds", "geoLocCountry"], ["iso1", "iso1_L iso1_M iso1_L", "Uganda"])
    return b.submit("cchf", metadata, fasta(("iso1_L", "ACGT"), ("iso1_M", "ACGT"))), Expected(
        422,
        UNPROCESSABLE,
        "In metadata file: record #1 with id 'iso1': found duplicate fasta ids in column 'fastaIds': iso1_L",
    )


def files_cell(b: Backend, cell: str) -> requests.Response:
    metadata = tsv(["id", "geoLocCountry", "files.rawReads"], ["s1", "Uganda", cell])
    return b.submit("ebola-sudan", metadata, ONE_SEQ)


FILE_HINT = "Expected format 'fileName:fileId'. Please also ensure file names do not contain whitespace."


@row(CURRENT_ONLY, "6e-files-token-without-file-id")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    return files_cell(b, "reads.fq"), Expected(
        422,
        UNPROCESSABLE,
        "In metadata file: record #1 with id 's1': file entry 'reads.fq' in column 'files.rawReads' "
        f"is missing a file ID. {FILE_HINT}",
    )


@row(CURRENT_ONLY, "6f-files-token-without-file-name")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    file_id = str(uuid.uuid4())
    return files_cell(b, f":{file_id}"), Expected(
        422,
        UNPROCESSABLE,
        f"In metadata file: record #1 with id 's1': file entry ':{file_id}' in column 'files.rawReads' "
        f"is missing a file name. {FILE_HINT}",
    )


@row(CURRENT_ONLY, "6g-files-token-with-invalid-uuid")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    return files_cell(b, "reads.fq:not-a-uuid"), Expected(
        422,
        UNPROCESSABLE,
        "In metadata file: record #1 with id 's1': file entry 'reads.fq:not-a-uuid' in column 'files.rawReads' "
        "has an invalid file ID 'not-a-uuid'. Expected a UUID.",
    )


@row(CURRENT_ONLY, "6h-files-token-with-short-uuid")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    return files_cell(b, "reads.fq:1-2-3-4-5"), Expected(
        422,
        UNPROCESSABLE,
        "In metadata file: record #1 with id 's1': file entry 'reads.fq:1-2-3-4-5' in column 'files.rawReads' "
        "has an invalid file ID '1-2-3-4-5'. Expected a UUID of length 36 but received a UUID of length 9.",
    )


@row(CURRENT_ONLY, "6i-duplicate-file-names-in-one-cell")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    first, second = uuid.uuid4(), uuid.uuid4()
    return files_cell(b, f"foo.txt:{first} foo.txt:{second}"), Expected(
        422,
        UNPROCESSABLE,
        "In metadata file: record #1 with id 's1': found duplicate file names in column 'files.rawReads': foo.txt",
    )


@row(BOTH, "6j-row-without-metadata")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    return b.submit("ebola-sudan", tsv(["id"], ["s1"]), ONE_SEQ), Expected(
        422, UNPROCESSABLE, "In metadata file: record #1 with id s1 contains no metadata. This is invalid."
    )


@row(BOTH, "7-duplicate-id")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    metadata = tsv(HEADER, ["s1", "2024-03-18", "Uganda"], ["s1", "2024-03-19", "Kenya"])
    return b.submit("ebola-sudan", metadata, ONE_SEQ), Expected(
        422, UNPROCESSABLE, "Metadata file contains at least one duplicate submissionId: ", exact=False
    )


# --- 8-11b: the sequence file --------------------------------------------------------------------------


@row(BOTH, "8-sequence-file-missing")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    return b.submit("ebola-sudan", ONE_ROW), Expected(
        400, BAD, "Submissions for organism ebola-sudan require a sequence file."
    )


@row(BOTH, "8-sequence-file-under-a-wrong-part-name")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    response = b.post(
        "/ebola-sudan/submit",
        data={"groupId": "1", "dataUseTermsType": "OPEN"},
        files={"metadataFile": ("metadata.tsv", ONE_ROW), "sequences": ("s.fasta", ONE_SEQ)},
    )
    return response, Expected(400, BAD, "Submissions for organism ebola-sudan require a sequence file.")


@row(BOTH, "8b-sequence-file-for-organism-without-consensus-sequences")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    return b.submit("wastewater", ONE_ROW, ONE_SEQ), Expected(
        400, BAD, "Sequence uploads are not allowed for organism wastewater."
    )


@row(BOTH, "9-sequence-extension-wrong")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, sequence_name="sequences.txt"), Expected(
        400, BAD, SEQUENCE_EXTENSION_MESSAGE
    )


@row(BOTH, "10-empty-fasta-sequence")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    return b.submit("ebola-sudan", ONE_ROW, ">s1\n\n"), Expected(
        422, UNPROCESSABLE, "FASTA sequence with id `s1` is empty (does not contain at least a single nucleotide)."
    )


@row(BOTH, "10b-duplicate-fasta-id")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    return b.submit("ebola-sudan", ONE_ROW, fasta(("s1", "ACGT"), ("s1 second", "ACGT"))), Expected(
        422, UNPROCESSABLE, "Sequence file contains at least one duplicate submissionId: ", exact=False
    )


@row(BOTH, "11-fasta-id-listed-in-two-rows")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    metadata = tsv(["id", "fastaIds", "geoLocCountry"], ["iso1", "x_L", "Uganda"], ["iso2", "x_L", "Kenya"])
    return b.submit("cchf", metadata, fasta(("x_L", "ACGT"))), Expected(
        422, UNPROCESSABLE, "Metadata file contains duplicate fastaIds."
    )


@row(BOTH, "11b-fasta-id-not-in-metadata")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    return b.submit("ebola-sudan", ONE_ROW, fasta(("s1", "ACGT"), ("notInMetadata", "ACGT"))), Expected(
        422,
        UNPROCESSABLE,
        "Sequence file contains 1 FASTA ids that are not present in the metadata file: 'notInMetadata'",
    )


@row(BOTH, "11b-metadata-id-not-in-fasta")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    metadata = tsv(HEADER, ["s1", "2024-03-18", "Uganda"], ["notInSequences", "2024-03-18", "Kenya"])
    return b.submit("ebola-sudan", metadata, ONE_SEQ), Expected(
        422,
        UNPROCESSABLE,
        "Metadata file contains 1 FASTA ids that are not present in the sequence file: 'notInSequences'. ",
    )


@row(BOTH, "11b-both-directions-and-at-most-ten-shown")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    rows = [["s1", "2024-03-18", "Uganda"]] + [[f"m{i}", "2024-03-18", "Kenya"] for i in range(12)]
    sequences = fasta(("s1", "ACGT"), ("x1", "ACGT"), ("x2", "ACGT"))
    shown = ", ".join(f"'m{i}'" for i in range(10))
    return b.submit("ebola-sudan", tsv(HEADER, *rows), sequences), Expected(
        422,
        UNPROCESSABLE,
        f"Metadata file contains 12 FASTA ids that are not present in the sequence file: {shown}, .... "
        "Sequence file contains 2 FASTA ids that are not present in the metadata file: 'x1', 'x2'",
    )


# --- 13-13i: attached files ------------------------------------------------------------------------------


@row(BOTH, "13-files-for-organism-without-file-support")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    file_id = b.uploaded_file()
    return b.submit("nofiles", ONE_ROW, ONE_SEQ, files={"s1": {"rawReads": [("r.fq", file_id)]}}), Expected(
        400, BAD, "the nofiles organism does not support file submission."
    )


@row(BOTH, "13b-file-name-with-forbidden-character")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    file_id = b.uploaded_file()
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, files={"s1": {"rawReads": [("a<b.fq", file_id)]}}), Expected(
        422,
        UNPROCESSABLE,
        "Invalid filename 'a<b.fq' in category 'rawReads': Filenames may not contain forbidden characters "
        '(< > : " / \\ | ? *).',
    )


@row(BOTH, "13b-file-name-with-colon")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    file_id = b.uploaded_file()
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, files={"s1": {"rawReads": [("a:b.fq", file_id)]}}), Expected(
        422,
        UNPROCESSABLE,
        "Invalid filename 'a:b.fq' in category 'rawReads': Filenames may not contain forbidden characters "
        '(< > : " / \\ | ? *).',
    )


@row(BOTH, "13b-file-name-with-control-character")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    file_id = b.uploaded_file()
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, files={"s1": {"rawReads": [("a\x01b.fq", file_id)]}}), Expected(
        422,
        UNPROCESSABLE,
        "Invalid filename 'a\x01b.fq' in category 'rawReads': Filenames may not contain ASCII control characters 0-31.",
    )


@row(BOTH, "13b-file-name-too-long")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    file_id = b.uploaded_file()
    name = "r" * 256
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, files={"s1": {"rawReads": [(name, file_id)]}}), Expected(
        422, UNPROCESSABLE, f"Invalid filename '{name}' in category 'rawReads': Filenames may not exceed 255 characters"
    )


@row(LEGACY_ONLY, "13b-file-name-empty")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    file_id = b.uploaded_file()
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, files={"s1": {"rawReads": [("", file_id)]}}), Expected(
        422, UNPROCESSABLE, "Invalid filename '' in category 'rawReads': Filenames may not be empty"
    )


@row(CURRENT_ONLY, "13b-file-name-with-whitespace")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    # Tokens split at " ", so the rule is reached by other whitespace (Kotlin's isWhitespace: a no-break space).
    file_id = b.uploaded_file()
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, files={"s1": {"rawReads": [("a\u00a0b.fq", file_id)]}}), Expected(
        422,
        UNPROCESSABLE,
        "Invalid filename 'a\u00a0b.fq' in category 'rawReads': Filenames may not contain whitespace.",
    )


# A space is fine in legacy (the whitespace rule came with files.<category>, Loculus #6922; see
# test_submit_success), but a tab is still an ASCII control character.
@row(LEGACY_ONLY, "13b-file-name-with-a-tab")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    file_id = b.uploaded_file()
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, files={"s1": {"rawReads": [("a\tb.fq", file_id)]}}), Expected(
        422,
        UNPROCESSABLE,
        "Invalid filename 'a\tb.fq' in category 'rawReads': Filenames may not contain ASCII control characters 0-31.",
    )


@row(LEGACY_ONLY, "13c-duplicate-file-names-in-a-category")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    first, second = b.uploaded_file(), b.uploaded_file()
    files = {"s1": {"rawReads": [("foo.txt", first), ("foo.txt", second)]}}
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, files=files), Expected(
        422, UNPROCESSABLE, "The files in category rawReads contain duplicate file names: foo.txt"
    )


@row(BOTH, "13d-category-not-configured")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    file_id = b.uploaded_file()
    files = {"s1": {"unknownCategory": [("r.fq", file_id)]}}
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, files=files), Expected(
        422,
        UNPROCESSABLE,
        "The category unknownCategory is not part of the configured submission categories for ebola-sudan. "
        "Allowed categories are: rawReads.",
    )


@row(BOTH, "13e-multipart-upload-not-completed")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    file_id, item = b.uncompleted_multipart_file()
    upload_id = parse_qs(urlparse(item["urls"][0]).query)["uploadId"][0]
    files = {"s1": {"rawReads": [("r.fq", file_id)]}}
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, files=files), Expected(
        422, UNPROCESSABLE, f"The following multipart uploads have not been completed: ({file_id}, {upload_id})"
    )


@row(BOTH, "13f-file-id-never-requested")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    file_id = str(uuid.uuid4())
    files = {"s1": {"rawReads": [("r.fq", file_id)]}}
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, files=files), Expected(
        422, UNPROCESSABLE, f"The following file IDs do not exist: {file_id}"
    )


@row(BOTH, "13f-file-id-in-upper-case-is-printed-lower-case")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    file_id = str(uuid.uuid4())
    files = {"s1": {"rawReads": [("r.fq", file_id.upper())]}}
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, files=files), Expected(
        422, UNPROCESSABLE, f"The following file IDs do not exist: {file_id}"
    )


@row(BOTH, "13g-file-expired")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    file_id = b.uploaded_file()
    b.sandbox.expire_file(file_id)
    files = {"s1": {"rawReads": [("r.fq", file_id)]}}
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, files=files), Expected(
        422, UNPROCESSABLE, f"The following file IDs are no longer valid because they have expired: {file_id}"
    )


@row(BOTH, "13h-nothing-uploaded-yet")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    file_id = b.requested_file()
    files = {"s1": {"rawReads": [("r.fq", file_id)]}}
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, files=files), Expected(
        422, UNPROCESSABLE, f"No file uploaded for file IDs: {file_id}"
    )


@row(BOTH, "13i-file-of-another-group")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    file_id = b.uploaded_file(group_id=2)
    files = {"s1": {"rawReads": [("r.fq", file_id)]}}
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, files=files), Expected(
        400, BAD, f"File {file_id} does not belong to group 1."
    )


# --- §4.6: legacy-only rows ---------------------------------------------------------------------------


@row(LEGACY_ONLY, "4.6-file-mapping-not-json")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, file_mapping="{not json"), Expected(
        400, BAD, "Failed to parse file mapping."
    )


@row(LEGACY_ONLY, "4.6-file-mapping-with-invalid-file-id")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    mapping = '{"s1": {"rawReads": [{"fileId": "1-2-3-4-5", "name": "r.fq"}]}}'
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, file_mapping=mapping), Expected(
        400, BAD, "Failed to parse file mapping."
    )


@row(LEGACY_ONLY, "4.6-file-mapping-for-organism-without-files")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    return b.submit("nofiles", ONE_ROW, ONE_SEQ, file_mapping="{}"), Expected(
        400, BAD, "the nofiles organism does not support file submission."
    )


@row(LEGACY_ONLY, "4.6-file-mapping-for-unknown-submission-id")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    file_id = b.uploaded_file()
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, files={"foobar": {"rawReads": [("r.fq", file_id)]}}), Expected(
        422, UNPROCESSABLE, "File upload contains 1 submissionIds that are not present in the metadata file: 'foobar'"
    )


@row(LEGACY_ONLY, "4.6-file-checks-run-before-the-metadata-is-read")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    file_id = str(uuid.uuid4())
    files = {"s1": {"rawReads": [("r.fq", file_id)]}}
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, metadata_name="metadata.txt", files=files), Expected(
        422, UNPROCESSABLE, f"The following file IDs do not exist: {file_id}"
    )


@row(CURRENT_ONLY, "current-file-checks-run-after-the-metadata-is-read")
def _(b: Backend) -> tuple[requests.Response, Expected]:
    file_id = str(uuid.uuid4())
    files = {"s1": {"rawReads": [("r.fq", file_id)]}}
    return b.submit("ebola-sudan", ONE_ROW, ONE_SEQ, metadata_name="metadata.txt", files=files), Expected(
        400, BAD, METADATA_EXTENSION_MESSAGE
    )


@pytest.mark.parametrize("case", BOTH)
def test_it_answers_each_contract_row_in_both_generations(backend: Backend, case: Row) -> None:
    response, expected = case(backend)
    assert_problem(response, expected.status, expected.title, expected.detail, exact=expected.exact)
    assert backend.sandbox.submissions() == []


@pytest.mark.parametrize("case", CURRENT_ONLY)
def test_it_answers_each_current_generation_row(current: Backend, case: Row) -> None:
    response, expected = case(current)
    assert_problem(response, expected.status, expected.title, expected.detail, exact=expected.exact)


@pytest.mark.parametrize("case", LEGACY_ONLY)
def test_it_answers_each_legacy_generation_row(legacy: Backend, case: Row) -> None:
    response, expected = case(legacy)
    assert_problem(response, expected.status, expected.title, expected.detail, exact=expected.exact)


def test_a_token_less_submit_is_forbidden_not_unauthorized(backend: Backend) -> None:
    response = backend.submit("ebola-sudan", ONE_ROW, ONE_SEQ, username=None)
    assert response.status_code == 403
    assert not response.headers.get("Content-Type", "").startswith("application/problem+json")


def test_an_unknown_organism_loses_to_a_missing_group_id_as_in_spring(backend: Backend) -> None:
    # Spring resolves the arguments before it validates the organism (README: deliberate order).
    response = backend.submit("unknownOrganism", ONE_ROW, ONE_SEQ, group_id=None)
    assert_problem(response, 400, BAD, "Required parameter 'groupId' is not present.")
