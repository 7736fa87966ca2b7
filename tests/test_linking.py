"""Which uploaded file belongs to which entry: by files.<category> column, or by one subfolder per ID."""

from __future__ import annotations

from submitportal.bulkfiles.filerefs import FileRef
from submitportal.linking import plan

IDS = ["s1", "s2", "s3"]
UUID = "8d8ac610-566d-4ef0-9c22-186b2a5ed793"


def test_a_column_links_names_and_paths_and_reuses_file_ids() -> None:
    refs = {
        "s1": {"rawReads": [FileRef("r1.fq", "r1.fq"), FileRef("reads.fq", "lane1/s2.fq")]},
        "s2": {"rawReads": [FileRef("old.fq", None, UUID)]},
    }
    result = plan("rawReads", IDS, refs, True, ["r1.fq", "lane1/s2.fq", "stray.fq"])
    assert result.layout == "columns"
    assert result.linked == {"r1.fq": [("s1", "r1.fq")], "lane1/s2.fq": [("s1", "reads.fq")]}
    assert result.reused == [("s2", "old.fq", UUID)]
    assert list(result.unreferenced) == ["stray.fq"]
    assert "files.rawReads column" in result.unreferenced["stray.fq"]
    assert result.missing == []


def test_a_file_named_by_two_entries_is_linked_to_both() -> None:
    refs = {
        "s1": {"rawReads": [FileRef("shared.fq", "shared.fq")]},
        "s3": {"rawReads": [FileRef("shared.fq", "shared.fq")]},
    }
    result = plan("rawReads", IDS, refs, True, ["shared.fq"])
    assert result.linked == {"shared.fq": [("s1", "shared.fq"), ("s3", "shared.fq")]}


def test_a_named_file_that_was_not_chosen_is_missing() -> None:
    refs = {"s1": {"rawReads": [FileRef("r1.fq", "r1.fq"), FileRef("r2.fq", "run/r2.fq")]}}
    result = plan("rawReads", IDS, refs, True, ["r1.fq"])
    assert result.missing == ["run/r2.fq"]
    assert result.blocking


def test_without_a_column_each_subfolder_is_an_entry() -> None:
    result = plan("rawReads", IDS, {}, False, ["s1/a.fq", "s1/b.fq", "s3/c.fq"])
    assert result.layout == "folders"
    assert result.linked == {"s1/a.fq": [("s1", "a.fq")], "s1/b.fq": [("s1", "b.fq")], "s3/c.fq": [("s3", "c.fq")]}
    assert not result.blocking


def test_a_subfolder_that_matches_no_id_is_named() -> None:
    result = plan("rawReads", IDS, {}, False, ["s9/a.fq"])
    assert result.unreferenced == {"s9/a.fq": "The folder “s9” matches no ID in the metadata."}


def test_files_outside_or_deeper_than_an_entry_folder_are_refused() -> None:
    result = plan("rawReads", IDS, {}, False, ["loose.fq", "s1/lane1/a.fq"])
    assert "not in a subfolder" in result.unreferenced["loose.fq"]
    assert "not in a folder inside it" in result.unreferenced["s1/lane1/a.fq"]
