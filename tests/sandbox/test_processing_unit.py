"""The sandbox pipeline's rules alone, without a running sandbox (sandbox/processing.py)."""

from __future__ import annotations

import datetime as dt
import io

from sandbox.organisms import ORGANISMS
from sandbox.processing import check_date, process_entry, read_sequences

TODAY = dt.date(2026, 12, 5)


def messages(annotations: list[dict[str, object]]) -> list[object]:
    return [a["message"] for a in annotations]


def test_today_is_not_in_the_future_but_tomorrow_is() -> None:
    assert check_date("date", "2026-12-05", TODAY) == ("2026-12-05", [], [])
    assert check_date("date", "2026-12-06", TODAY) == (
        "2026-12-06",
        [],
        ["Metadata field date:'2026-12-06' is in the future."],
    )


def test_a_year_alone_is_completed_to_january_first_with_a_warning() -> None:
    assert check_date("date", "2025", TODAY) == (
        "2025-01-01",
        ["Metadata field date:'2025' - Month and day are missing. Assuming January 1st."],
        [],
    )


def test_options_match_regardless_of_case_and_spacing_and_give_the_configured_spelling() -> None:
    metadata = {"sampleCollectionDate": "2024-01-02", "geoLocCountry": "  south   AFRICA "}
    processed = process_entry(ORGANISMS["ebola-sudan"], metadata, {}, TODAY)
    assert processed.metadata["geoLocCountry"] == "South Africa"
    assert (processed.errors, processed.warnings, processed.result) == ([], [], "NO_ISSUES")


def test_lower_case_and_ambiguous_nucleotides_pass_but_other_letters_do_not() -> None:
    metadata = {"sampleCollectionDate": "2024-01-02", "geoLocCountry": "Kenya"}
    fine = process_entry(ORGANISMS["ebola-sudan"], metadata, {"s1": "acgtNRYKM-"}, TODAY)
    assert fine.result == "NO_ISSUES"
    bad = process_entry(ORGANISMS["ebola-sudan"], metadata, {"s1": "ACGT*E"}, TODAY)
    assert messages(bad.errors) == ["Sequence s1 contains characters that are not IUPAC nucleotide codes: *, E."]
    assert bad.result == "HAS_ERRORS"


def test_errors_outrank_warnings_in_the_processing_result() -> None:
    metadata = {"sampleCollectionDate": "2024-01", "geoLocCountry": ""}
    processed = process_entry(ORGANISMS["ebola-sudan"], metadata, {}, TODAY)
    assert messages(processed.errors) == ["Metadata field geoLocCountry is required."]
    assert len(processed.warnings) == 1
    assert processed.result == "HAS_ERRORS"


def test_a_float_field_that_is_not_a_number_is_an_error() -> None:
    wastewater = ORGANISMS["wastewater"]
    float_field = next(f for f in wastewater.fields if f.type == "float")
    metadata = {f.name: "x" if f is float_field else "" for f in wastewater.fields}
    processed = process_entry(wastewater, metadata, {}, TODAY)
    assert f"Invalid float value: x for field {float_field.name}." in messages(processed.errors)


def test_fasta_records_are_read_with_wrapped_lines_joined() -> None:
    binary = io.BytesIO(b">s1 a description\nACGT\nAC\n\n>s2\r\nGG\r\n")
    assert read_sequences(binary) == {"s1": "ACGTAC", "s2": "GG"}
