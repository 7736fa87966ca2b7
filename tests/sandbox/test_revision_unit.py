"""The download writer of get-submitted-data alone: unique IDs, Commons CSV quoting, jsonb key order."""

from __future__ import annotations

import io

import pytest

from sandbox.revision import jsonb_order, make_unique_ids, tsv_row, tsv_value
from sandbox.submit_validation import iter_metadata_entries, text_lines


def test_repeated_ids_get_the_first_suffix_that_clashes_with_nothing() -> None:
    assert make_unique_ids(["sample", "sample", "sample_1", "sample"]) == ["sample", "sample_2", "sample_1", "sample_3"]
    assert make_unique_ids(["a", "b"]) == ["a", "b"]


@pytest.mark.parametrize(
    ("value", "first", "written"),
    [
        ("plain", False, "plain"),
        ("", False, ""),
        ("", True, '""'),  # an empty first value would make an empty line
        ("#1", False, '"#1"'),  # a value starting with a character up to '#'
        (" lead", False, '" lead"'),
        ("trail ", False, '"trail "'),
        ('say "hi"', False, '"say ""hi"""'),
        ("a\tb", False, '"a\tb"'),
        ("two\nlines", False, '"two\nlines"'),
    ],
)
def test_values_are_quoted_as_commons_csv_minimal_quoting_does(value: str, first: bool, written: str) -> None:
    assert tsv_value(value, first) == written


def test_what_the_writer_quotes_the_revise_parser_reads_back_unchanged() -> None:
    values = ["s1", "LOC_1", " lead", "trail ", 'say "hi"', "a\tb", "two\nlines", "#1", ""]
    header = ["id", "accession", "c1", "c2", "c3", "c4", "c5", "c6", "c7"]
    text = tsv_row(header) + tsv_row(values)
    (entry,) = iter_metadata_entries(text_lines(io.BytesIO(text.encode())), files_columns=True, revision=True)
    assert (entry.submission_id, entry.accession) == ("s1", "LOC_1")
    assert list(entry.metadata.values()) == values[2:]


def test_jsonb_hands_back_shorter_keys_first_then_bytewise() -> None:
    assert jsonb_order(["s_10", "s_9", "b", "a_L", "a_S"]) == ["b", "a_L", "a_S", "s_9", "s_10"]
