"""The limits of a check: their defaults are the settings' defaults, and the portal builds them from its settings."""

from __future__ import annotations

from typing import Any

from submitportal import bulk
from submitportal import settings as portal_settings
from submitportal.bulkfiles.limits import Limits, resolve


def test_the_settings_defaults_are_the_limits_defaults() -> None:
    defaults = Limits()
    assert (
        portal_settings.MAX_DECOMPRESSED_SIZE,
        portal_settings.MAX_COMPRESSION_RATIO,
        portal_settings.MAX_METADATA_ROWS,
        portal_settings.MAX_FASTA_RECORDS,
        portal_settings.MAX_METADATA_VALUE_SIZE,
        portal_settings.MAX_METADATA_ROW_SIZE,
    ) == (
        defaults.max_bytes,
        defaults.max_ratio,
        defaults.max_rows,
        defaults.max_records,
        defaults.max_value,
        defaults.max_row,
    )
    assert (defaults.max_bytes, defaults.max_ratio, defaults.max_rows) == (20 * 1024**3, 500, 250_000)
    assert (defaults.max_records, defaults.max_value, defaults.max_row) == (1_000_000, 64 * 1024, 1024 * 1024)


def test_the_portal_builds_its_limits_from_the_settings_of_the_moment(settings: Any) -> None:
    settings.MAX_DECOMPRESSED_SIZE = 10
    settings.MAX_COMPRESSION_RATIO = 20
    settings.MAX_METADATA_ROWS = 30
    settings.MAX_FASTA_RECORDS = 40
    settings.MAX_METADATA_VALUE_SIZE = 50
    settings.MAX_METADATA_ROW_SIZE = 60
    assert bulk.limits() == Limits(max_bytes=10, max_ratio=20, max_rows=30, max_records=40, max_value=50, max_row=60)


def test_an_explicit_max_bytes_wins_over_the_limits() -> None:
    assert resolve(None, None) == Limits()
    assert resolve(Limits(max_rows=5), 7) == Limits(max_rows=5, max_bytes=7)
    assert resolve(Limits(max_bytes=3), None).max_bytes == 3
