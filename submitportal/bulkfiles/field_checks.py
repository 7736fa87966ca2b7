"""One value of one metadata field, judged as Loculus's processing pipeline will judge it.

The bulk check (every row of a table) and the single-entry form both ask `check_value`, so the same
value gets the same level and the same words in both places. Plain Python, no Django.

Dates follow the pipeline's `parse_and_assert_past_date` (preprocessing/nextclade, processing_functions.py):
`YYYY-MM-DD` is fine, `YYYY-MM` and `YYYY` are taken with a warning (the pipeline assumes the 1st, or
January 1st), anything else is an error ("Date format is not recognized"), and so is a date after today
(UTC): "is in the future". Values outside a field's list of options are warnings: the backend stores
free text, and the form on the Loculus website accepts it. (An instance whose pipeline runs
`process_options` on a field refuses them there; /loculus-info does not say which fields it does.)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from submitportal.bulkfiles.limits import short

if TYPE_CHECKING:
    from submitportal.loculus.schema import InputField

__all__ = ["FieldProblem", "ValueCheck", "check_value", "value_check"]

# The pipeline's formats, tried in this order, with the warning each gives (None: fine).
_DATE_FORMATS: tuple[tuple[str, str | None], ...] = (
    ("%Y-%m-%d", None),
    ("%Y-%m", "day"),
    ("%Y", "month and day"),
)
# Nearly every date is YYYY-MM-DD in ASCII digits: read without strptime (which accepts the same, slower).
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
# Day-first dates as lab spreadsheets write them (18/03/2024, 18.03.2024), to suggest the Loculus form.
_DAY_FIRST = re.compile(r"([0-9]{1,2})[/.]([0-9]{1,2})[/.]([0-9]{4})")


@dataclass(frozen=True)
class FieldProblem:
    """What is wrong with a value: `level` as in a bulk report, `kind` as a report counts it, `message` a sentence."""

    level: Literal["error", "warning"]
    kind: str
    message: str


ValueCheck = Callable[[str], "FieldProblem | None"]


def value_check(input_field: InputField, *, today: dt.date | None = None) -> ValueCheck | None:
    """The check of this field's values, made once for a whole table; None if there is nothing to check.

    The check returns the problem with a value, or None. An empty value is never a problem here (a
    required field is checked apart). `today` is the date (UTC) a date may not be after; by default the
    current one. When a partial date is also in the future, the error is returned (the pipeline gives both).
    """
    if input_field.type == "date":
        until = today or dt.datetime.now(dt.UTC).date()
        return lambda value: _check_date(input_field, value, until) if value else None
    if input_field.options:
        allowed = frozenset(input_field.options)
        by_standard = {_standard(option): option for option in reversed(input_field.options)}
        return lambda value: None if not value or value in allowed else _option_warning(input_field, value, by_standard)
    return None


def check_value(input_field: InputField, value: str, *, today: dt.date | None = None) -> FieldProblem | None:
    """The problem with one value of `input_field`, or None (see `value_check`)."""
    check = value_check(input_field, today=today)
    return None if check is None else check(value)


def _label(input_field: InputField) -> str:
    return f"{input_field.display_name} (“{input_field.name}”)"


def _parse_date(value: str) -> tuple[dt.date, str | None] | None:
    """The date the pipeline reads from `value` and what it says was missing, or None if it reads none."""
    iso = _ISO_DATE.fullmatch(value)
    if iso is not None:
        try:
            return dt.date(int(iso[1]), int(iso[2]), int(iso[3])), None
        except ValueError:
            return None  # e.g. 2024-13-01: neither YYYY-MM nor YYYY fits it either
    for date_format, missing in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, date_format).date(), missing
        except ValueError:
            continue
    return None


def _check_date(input_field: InputField, value: str, today: dt.date) -> FieldProblem | None:
    label, quoted = _label(input_field), short(value)
    parsed = _parse_date(value)
    if parsed is None:
        return FieldProblem(
            "error",
            "date_not_recognized",
            f"{label} “{quoted}”: the date format is not recognized. Loculus reads dates as YYYY-MM-DD "
            f"(e.g. 2024-03-18), or YYYY-MM or YYYY when the day or month is not known.{_suggestion(value)}",
        )
    date, missing = parsed
    if date > today:
        return FieldProblem(
            "error",
            "date_in_future",
            f"{label} “{quoted}” is in the future (today is {today.isoformat()}). Please check the date (YYYY-MM-DD).",
        )
    if missing == "day":
        return FieldProblem(
            "warning",
            "date_incomplete",
            f"{label} “{quoted}”: the day is missing. Loculus will assume the 1st ({date.isoformat()}); if you know "
            "the day, please give the full date (YYYY-MM-DD).",
        )
    if missing is not None:
        return FieldProblem(
            "warning",
            "date_incomplete",
            f"{label} “{quoted}”: the month and day are missing. Loculus will assume January 1st "
            f"({date.isoformat()}); if you know them, please give the full date (YYYY-MM-DD).",
        )
    return None


def _suggestion(value: str) -> str:
    """' Did you mean 2024-03-18?' for 18/03/2024 (day first, as the day is over 12), else ''."""
    match = _DAY_FIRST.fullmatch(value)
    if match is None:
        return ""
    first, second, year = int(match[1]), int(match[2]), int(match[3])
    if first <= 12 < second:
        first, second = second, first  # month first, as 03/18/2024
    elif second > 12 or first <= 12:
        return ""  # neither a month nor unambiguous (03/04/2024)
    try:
        return f" Did you mean {dt.date(year, second, first).isoformat()}?"
    except ValueError:
        return ""


def _standard(option: str) -> str:
    # As the pipeline's standardize_option compares options: case and runs of whitespace do not count.
    return " ".join(option.lower().split())


def _option_warning(input_field: InputField, value: str, by_standard: dict[str, str]) -> FieldProblem:
    suggestion = by_standard.get(_standard(value))
    hint = f"Did you mean “{suggestion}”?" if suggestion else "Loculus accepts it as free text, but please check it."
    return FieldProblem(
        "warning",
        "value_not_in_options",
        f"“{short(value)}” is not one of the listed values of {_label(input_field)}. {hint}",
    )
