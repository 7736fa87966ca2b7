"""Parsing the entries of `files.<category>` cells: name, name::path and name:fileId."""

from __future__ import annotations

import pytest

from submitportal.bulkfiles.filerefs import FileEntryProblem, FileRef, parse_file_entry

UUID = "8d8ac610-566d-4ef0-9c22-186b2a5ed793"
WHITESPACE_NOTE = "File names and paths may not contain whitespace, so spaces separate one file entry from the next."


def test_a_plain_name_is_the_uploaded_file_at_that_path() -> None:
    assert parse_file_entry("reads_1.fastq.gz") == FileRef("reads_1.fastq.gz", "reads_1.fastq.gz", None)


def test_name_and_path_point_into_the_uploaded_folder() -> None:
    assert parse_file_entry("r1.fq::sample1/run 2/r1.fq".replace(" ", "_")) == FileRef(
        "r1.fq", "sample1/run_2/r1.fq", None
    )


def test_a_path_is_normalised_but_kept_relative() -> None:
    assert parse_file_entry("r1.fq::./sample1//r1.fq") == FileRef("r1.fq", "sample1/r1.fq", None)


def test_name_and_file_id_reuse_an_existing_file_with_the_id_in_lower_case() -> None:
    assert parse_file_entry(f"r1.fq:{UUID.upper()}") == FileRef("r1.fq", None, UUID)


def test_a_file_id_is_split_off_at_the_last_colon_and_the_name_keeps_the_others() -> None:
    parsed = parse_file_entry(f"a:b.fq:{UUID}")
    assert parsed == FileEntryProblem(
        "invalid_file_name",
        'Loculus would refuse the file name “a:b.fq”: File names may not contain any of these characters: < > : " / '
        "\\ | ? *",
    )


@pytest.mark.parametrize("file_id", ["1234", "1-2-3-4-5", UUID[:-1], UUID + "0", "g" * 8 + UUID[8:]])
def test_a_file_id_must_be_a_36_character_uuid(file_id: str) -> None:
    assert parse_file_entry(f"r1.fq:{file_id}") == FileEntryProblem(
        "invalid_file_id",
        f"in “r1.fq:{file_id}”, the part after the colon, “{file_id}”, is not a Loculus file ID (a UUID of 36 "
        "characters such as 8d8ac610-566d-4ef0-9c22-186b2a5ed793). To refer to a file in a subfolder of your "
        "upload, write name::path (two colons).",
    )


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (
            "r1.fq::",
            "the file entry “r1.fq::” has an empty path. Please write it as name::path, e.g. "
            f"reads.fastq::sample1/reads.fastq. {WHITESPACE_NOTE}",
        ),
        (
            "::sample1/r1.fq",
            "the file entry “::sample1/r1.fq” has an empty name. Please write it as name::path, e.g. "
            f"reads.fastq::sample1/reads.fastq. {WHITESPACE_NOTE}",
        ),
        (
            f":{UUID}",
            f"the file entry “:{UUID}” has no file name before the colon. Please write it as name:fileId. "
            f"{WHITESPACE_NOTE}",
        ),
    ],
)
def test_malformed_entries_say_what_form_is_expected(token: str, message: str) -> None:
    assert parse_file_entry(token) == FileEntryProblem("malformed_file_entry", message)


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (
            "r.fq::../secret/r.fq",
            "the path “../secret/r.fq” in “r.fq::../secret/r.fq” contains “..”. Paths must stay inside the folder "
            "you upload, e.g. sample1/reads.fastq.",
        ),
        (
            "r.fq::a/../../r.fq",
            "the path “a/../../r.fq” in “r.fq::a/../../r.fq” contains “..”. Paths must stay inside the folder "
            "you upload, e.g. sample1/reads.fastq.",
        ),
        (
            "r.fq::/etc/passwd",
            "the path “/etc/passwd” in “r.fq::/etc/passwd” is absolute. Paths are relative to the folder you "
            "upload, e.g. sample1/reads.fastq.",
        ),
        (
            "r.fq::C:/data/r.fq",
            "the path “C:/data/r.fq” in “r.fq::C:/data/r.fq” is absolute. Paths are relative to the folder you "
            "upload, e.g. sample1/reads.fastq.",
        ),
        (
            "r.fq::sample1\\r.fq",
            "the path “sample1\\r.fq” in “r.fq::sample1\\r.fq” contains a backslash (\\). Please separate "
            "folders with a slash (/), e.g. sample1/r.fq.",
        ),
    ],
)
def test_paths_that_leave_the_uploaded_folder_are_refused(token: str, message: str) -> None:
    assert parse_file_entry(token) == FileEntryProblem("unsafe_file_path", message)


def test_a_path_into_a_hidden_folder_is_refused_because_uploads_skip_it() -> None:
    assert parse_file_entry("r.fq::.cache/r.fq") == FileEntryProblem(
        "hidden_file_path",
        "the path “.cache/r.fq” in “r.fq::.cache/r.fq” is a hidden file or lies in a hidden folder (its name starts "
        "with a dot). Folder uploads leave hidden files out, so it could never be found; please rename it.",
    )


def test_a_plain_name_with_a_slash_gets_the_name_path_form_as_advice() -> None:
    assert parse_file_entry("sample1/r1.fq") == FileEntryProblem(
        "invalid_file_name",
        "Loculus would refuse the file name “sample1/r1.fq”: File names may not contain any of these characters: < > "
        ': " / \\ | ? * To use a file from a subfolder, write r1.fq::sample1/r1.fq.',
    )


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("r|1.fq", 'File names may not contain any of these characters: < > : " / \\ | ? *'),
        ("r\x01.fq", "File names may not contain control characters."),
        ("x" * 256, "File names may not be longer than 255 characters (this one has 256)."),
        ("r\u00a01.fq", "File names may not contain spaces or other whitespace."),
    ],
)
def test_names_loculus_would_refuse_are_refused_with_its_rule(name: str, rule: str) -> None:
    quoted = name if len(name) <= 60 else name[:60] + "…"  # a message quotes at most 60 characters
    assert parse_file_entry(name) == FileEntryProblem(
        "invalid_file_name", f"Loculus would refuse the file name “{quoted}”: {rule}"
    )


def test_unusual_but_valid_names_pass() -> None:
    assert parse_file_entry("Résumé_(v2)[final].fq") == FileRef("Résumé_(v2)[final].fq", "Résumé_(v2)[final].fq")
