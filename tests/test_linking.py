"""Which uploaded file belongs to which entry: named in its files.<category> cell, or from its subfolder."""

from __future__ import annotations

from submitportal.bulkfiles.filerefs import FileRef
from submitportal.linking import COLUMN, FOLDER, Link, plan

IDS = ["s1", "s2", "s3"]
UUID = "8d8ac610-566d-4ef0-9c22-186b2a5ed793"


def uploaded(*paths: str) -> dict[str, str]:
    return dict.fromkeys(paths, "uploaded")


def test_a_column_links_names_and_paths_and_reuses_file_ids() -> None:
    refs = {
        "s1": {"rawReads": [FileRef("r1.fq", "r1.fq"), FileRef("reads.fq", "lane1/s2.fq")]},
        "s2": {"rawReads": [FileRef("old.fq", None, UUID)]},
    }
    result = plan("rawReads", IDS, refs, True, uploaded("r1.fq", "lane1/s2.fq", "stray.fq"))
    assert result.linked == {"r1.fq": [Link("s1", "r1.fq", COLUMN)], "lane1/s2.fq": [Link("s1", "reads.fq", COLUMN)]}
    assert result.reused == [("s2", "old.fq", UUID)]
    assert result.unreferenced == {
        "stray.fq": "No entry names this file in the files.rawReads column, and it is not in a subfolder named after "
        "an entry's ID. Name it in the metadata (as its name, or as name::path), or remove it."
    }
    assert result.missing == []
    assert (result.by_column, result.by_folder, result.without_files) == (["s1", "s2"], [], ["s3"])


def test_a_file_named_by_two_entries_is_linked_to_both() -> None:
    refs = {
        "s1": {"rawReads": [FileRef("shared.fq", "shared.fq")]},
        "s3": {"rawReads": [FileRef("shared.fq", "shared.fq")]},
    }
    result = plan("rawReads", IDS, refs, True, uploaded("shared.fq"))
    assert result.linked == {"shared.fq": [Link("s1", "shared.fq", COLUMN), Link("s3", "shared.fq", COLUMN)]}


def test_a_named_file_that_was_not_chosen_is_missing() -> None:
    refs = {"s1": {"rawReads": [FileRef("r1.fq", "r1.fq"), FileRef("r2.fq", "run/r2.fq")]}}
    result = plan("rawReads", IDS, refs, True, uploaded("r1.fq"))
    assert result.missing == ["run/r2.fq"]
    assert result.blocking


def test_without_a_column_each_subfolder_is_an_entry() -> None:
    result = plan("rawReads", IDS, {}, False, uploaded("s1/a.fq", "s1/b.fq", "s3/c.fq"))
    assert result.linked == {
        "s1/a.fq": [Link("s1", "a.fq", FOLDER)],
        "s1/b.fq": [Link("s1", "b.fq", FOLDER)],
        "s3/c.fq": [Link("s3", "c.fq", FOLDER)],
    }
    assert (result.by_column, result.by_folder, result.without_files) == ([], ["s1", "s3"], ["s2"])
    assert not result.blocking


def test_an_empty_cell_takes_the_entrys_subfolder_while_a_filled_cell_decides_for_its_entry() -> None:
    """The templates carry an empty files.rawReads column: the subfolder layout must still work with it."""
    refs = {"s2": {"rawReads": [FileRef("reads.fq", "lane/s2.fq")]}}
    files = uploaded("s1/a.fq", "lane/s2.fq", "s2/extra.fq", "s3/c.fq")
    result = plan("rawReads", IDS, refs, True, files)
    assert result.linked == {
        "s1/a.fq": [Link("s1", "a.fq", FOLDER)],
        "lane/s2.fq": [Link("s2", "reads.fq", COLUMN)],
        "s3/c.fq": [Link("s3", "c.fq", FOLDER)],
    }
    assert result.unreferenced == {
        "s2/extra.fq": "Entry “s2” names its files in the files.rawReads column, and this file is not among them. "
        "Name it there (as name::path), or empty that cell to take every file of the folder “s2”."
    }
    assert (result.by_column, result.by_folder, result.without_files) == (["s2"], ["s1", "s3"], [])


def test_an_empty_column_with_every_file_in_subfolders_links_them_all() -> None:
    result = plan("rawReads", IDS, {}, True, uploaded("s1/a.fq", "s2/b.fq"))
    assert set(result.linked) == {"s1/a.fq", "s2/b.fq"}
    assert not result.blocking


def test_a_file_a_cell_names_belongs_to_that_entry_even_inside_another_entrys_folder() -> None:
    refs = {"s2": {"rawReads": [FileRef("borrowed.fq", "s1/a.fq")]}}
    result = plan("rawReads", IDS, refs, True, uploaded("s1/a.fq", "s1/b.fq"))
    assert result.linked == {"s1/a.fq": [Link("s2", "borrowed.fq", COLUMN)], "s1/b.fq": [Link("s1", "b.fq", FOLDER)]}


def test_a_subfolder_that_matches_no_id_is_named() -> None:
    result = plan("rawReads", IDS, {}, False, uploaded("s9/a.fq"))
    assert result.unreferenced == {"s9/a.fq": "The folder “s9” matches no ID in the metadata."}
    with_column = plan("rawReads", IDS, {}, True, uploaded("s9/a.fq"))
    assert with_column.unreferenced == {
        "s9/a.fq": "The folder “s9” matches no ID in the metadata and no entry names this file in the "
        "files.rawReads column."
    }


def test_files_outside_or_deeper_than_an_entry_folder_are_not_linked() -> None:
    result = plan("rawReads", IDS, {}, False, uploaded("loose.fq", "s1/lane1/a.fq"))
    assert result.unreferenced["loose.fq"] == (
        "The metadata has no files.rawReads column, so files must sit in a subfolder named after their entry's ID "
        "(e.g. sample1/reads.fastq). This one is not in a subfolder."
    )
    assert result.unreferenced["s1/lane1/a.fq"] == (
        "Files must sit directly in their entry's folder “s1”, not in a folder inside it."
    )


def test_the_plan_counts_linked_files_by_their_upload_state() -> None:
    files = {"s1/a.fq": "uploaded", "s1/b.fq": "pending", "s2/c.fq": "failed", "s9/d.fq": "uploaded"}
    result = plan("rawReads", IDS, {}, False, files)
    assert result.linked_in("uploaded") == ["s1/a.fq"]  # s9/d.fq is uploaded but linked to nothing
    assert result.linked_in("pending") == ["s1/b.fq"]
    assert result.linked_in("failed") == ["s2/c.fq"]
    assert list(result.unreferenced) == ["s9/d.fq"]
