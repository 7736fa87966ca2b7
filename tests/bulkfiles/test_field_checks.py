"""One value of one field, judged as Loculus's pipeline judges it (parse_and_assert_past_date, options)."""

from __future__ import annotations

import datetime as dt

import pytest

from submitportal.bulkfiles.field_checks import FieldProblem, check_value, value_check
from submitportal.loculus.schema import InputField

DATE = InputField("sampleCollectionDate", "Collection date", type="date")
COUNTRY = InputField("geoLocCountry", "Country", options=("Uganda", "Spain", "Côte d'Ivoire"))
TODAY = dt.date(2026, 12, 5)


def judge(field: InputField, value: str) -> FieldProblem | None:
    return check_value(field, value, today=TODAY)


@pytest.mark.parametrize("value", ["2024-03-18", "2024-3-8", "2026-12-05", "1999-12-31", ""])
def test_a_full_date_up_to_today_is_fine(value: str) -> None:
    assert judge(DATE, value) is None


def test_a_date_without_its_day_is_a_warning_that_says_what_loculus_assumes() -> None:
    assert judge(DATE, "2024-03") == FieldProblem(
        "warning",
        "date_incomplete",
        "Collection date (“sampleCollectionDate”) “2024-03”: the day is missing. Loculus will assume the 1st "
        "(2024-03-01); if you know the day, please give the full date (YYYY-MM-DD).",
    )


def test_a_year_alone_is_a_warning_that_says_what_loculus_assumes() -> None:
    assert judge(DATE, "2024") == FieldProblem(
        "warning",
        "date_incomplete",
        "Collection date (“sampleCollectionDate”) “2024”: the month and day are missing. Loculus will assume "
        "January 1st (2024-01-01); if you know them, please give the full date (YYYY-MM-DD).",
    )


def test_a_day_first_date_is_an_error_that_suggests_the_loculus_form() -> None:
    assert judge(DATE, "18/03/2024") == FieldProblem(
        "error",
        "date_not_recognized",
        "Collection date (“sampleCollectionDate”) “18/03/2024”: the date format is not recognized. Loculus reads "
        "dates as YYYY-MM-DD (e.g. 2024-03-18), or YYYY-MM or YYYY when the day or month is not known. "
        "Did you mean 2024-03-18?",
    )


@pytest.mark.parametrize("value", ["2024-13-01", "2024-02-30", "2024-00", "03/04/2024", "March 2024", "24-03-18"])
def test_a_date_the_pipeline_cannot_read_is_an_error_without_a_guess(value: str) -> None:
    problem = judge(DATE, value)
    assert problem is not None
    assert (problem.level, problem.kind) == ("error", "date_not_recognized")
    assert problem.message.endswith("or YYYY-MM or YYYY when the day or month is not known.")


@pytest.mark.parametrize("value", ["2026-12-06", "2027-01", "2027"])
def test_a_date_after_today_is_an_error_even_when_partial(value: str) -> None:
    assert judge(DATE, value) == FieldProblem(
        "error",
        "date_in_future",
        f"Collection date (“sampleCollectionDate”) “{value}” is in the future (today is 2026-12-05). "
        "Please check the date (YYYY-MM-DD).",
    )


def test_today_is_the_utc_date_by_default() -> None:
    today = dt.datetime.now(dt.UTC).date()
    assert check_value(DATE, today.isoformat()) is None
    tomorrow = check_value(DATE, (today + dt.timedelta(days=2)).isoformat())
    assert tomorrow is not None and tomorrow.kind == "date_in_future"


def test_a_listed_option_is_fine() -> None:
    assert judge(COUNTRY, "Côte d'Ivoire") is None


def test_an_option_in_other_case_or_spacing_is_a_warning_with_a_suggestion() -> None:
    assert judge(COUNTRY, "côte  d'ivoire") == FieldProblem(
        "warning",
        "value_not_in_options",
        "“côte  d'ivoire” is not one of the listed values of Country (“geoLocCountry”). Did you mean “Côte d'Ivoire”?",
    )


def test_an_unknown_option_is_a_warning_that_loculus_takes_free_text() -> None:
    assert judge(COUNTRY, "Ugnda") == FieldProblem(
        "warning",
        "value_not_in_options",
        "“Ugnda” is not one of the listed values of Country (“geoLocCountry”). Loculus accepts it as free text, "
        "but please check it.",
    )


def test_a_plain_text_field_has_no_check() -> None:
    assert value_check(InputField("authors", "Authors")) is None
    assert check_value(InputField("authors", "Authors"), "18/03/2024") is None
