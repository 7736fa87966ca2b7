"""The order the page lists extra files in: by folder, then name, numbers by value, letters without case."""

from __future__ import annotations

from submitportal.file_names import path_order


def test_files_are_listed_by_folder_then_name_with_numbers_by_value() -> None:
    paths = ["s10/a.fq", "s2/b.fq", "S2/a.fq", "s1/r10.fq", "s1/r2.fq", "s1/R1.fq", "notes.txt", "s1-extra/a.fq"]
    assert sorted(paths, key=path_order) == [
        "notes.txt",
        "s1/R1.fq",
        "s1/r2.fq",
        "s1/r10.fq",
        "s1-extra/a.fq",
        "S2/a.fq",  # "S2" and "s2" are one folder name to a reader: their files go together
        "s2/b.fq",
        "s10/a.fq",
    ]


def test_leading_zeros_and_long_numbers_are_ordered_by_value() -> None:
    paths = ["run007.fq", "run7.fq", "run12345678901234567890.fq", "run8.fq"]
    assert sorted(paths, key=path_order) == ["run007.fq", "run7.fq", "run8.fq", "run12345678901234567890.fq"]
