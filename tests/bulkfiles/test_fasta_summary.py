"""The FASTA summary: what the check keeps of a FASTA file, how it is kept, and random files checked every way."""

from __future__ import annotations

import random
from array import array
from pathlib import Path

import pytest

from submitportal.bulkfiles import fasta_summary
from submitportal.bulkfiles.fasta import FastaOddity
from submitportal.bulkfiles.fasta_summary import FastaSummary, can_follow, summarize_fasta
from submitportal.bulkfiles.limits import Limits
from submitportal.bulkfiles.validate import check_metadata, combine, validate
from submitportal.loculus.schema import FASTA_IDS_FIELD, InputField
from tests.bulkfiles.helpers import followed, organism, validate_all_ways, write


def test_it_keeps_ids_header_lines_empty_records_and_oddities(tmp_path: Path) -> None:
    path = write(tmp_path, "s.fasta", "junk\n>a desc\nACGT\n>b\n>\nAA\n>a\nC\n")
    summary = summarize_fasta(path, "s.fasta")
    assert summary.ids == ("a", "b", "", "a")
    assert list(summary.lines) == [2, 4, 5, 7]
    assert summary.empty == {1}
    assert [o.kind for o in summary.oddities] == ["text_before_first_header"]
    assert (summary.count, summary.unreadable, summary.name) == (4, None, "s.fasta")


def test_an_unreadable_file_keeps_the_records_before_the_damage(tmp_path: Path) -> None:
    path = write(tmp_path, "s.fasta", b">a\nACGT\n>b\nAC\n>c\xff\nA\n")
    summary = summarize_fasta(path, "s.fasta")
    assert summary.ids == ("a", "b")
    assert summary.unreadable is not None and "not valid UTF-8" in summary.unreadable


def test_it_round_trips_through_bytes(tmp_path: Path) -> None:
    summary = FastaSummary(
        name="Proben März.fasta.gz",
        limits=Limits(max_bytes=12345, max_ratio=7, max_rows=3, max_records=11),
        ids=("s1", "", "ü-2", "s1"),
        lines=array("Q", [1, 3, 5, 2**40]),
        empty=frozenset({1, 3}),
        oddities=(FastaOddity("text_before_first_header", 1, "Line 1 …"),),
        unreadable="“x” is damaged.",
    )
    assert FastaSummary.from_bytes(summary.to_bytes()) == summary
    assert FastaSummary.from_bytes(FastaSummary("e.fa").to_bytes()) == FastaSummary("e.fa")
    one_empty_id = FastaSummary("e.fa", Limits(max_bytes=1), ids=("",), lines=array("Q", [1]))
    assert FastaSummary.from_bytes(one_empty_id.to_bytes()) == one_empty_id


def test_its_size_follows_the_records_not_the_sequences(tmp_path: Path) -> None:
    short = write(tmp_path, "short.fasta", "".join(f">s{n}\n{'A' * 10}\n" for n in range(1000)))
    long = write(tmp_path, "long.fasta", "".join(f">s{n}\n{'C' * 20_000}\n" for n in range(1000)))
    small = summarize_fasta(short, "x.fasta").to_bytes()
    large = summarize_fasta(long, "x.fasta").to_bytes()
    assert long.stat().st_size > 1000 * short.stat().st_size
    assert len(large) == len(small)
    assert len(small) < 1000 * (len("s999") + 1 + 8) + 200


def test_bytes_of_another_format_or_damaged_bytes_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = summarize_fasta(write(tmp_path, "s.fasta", ">a\nA\n>b\nC\n"), "s.fasta").to_bytes()
    for damaged in (b"", b"nonsense", data[:-1], data + b"\x00"):
        with pytest.raises(ValueError):
            FastaSummary.from_bytes(damaged)
    monkeypatch.setattr(fasta_summary, "SUMMARY_FORMAT", fasta_summary.SUMMARY_FORMAT + 1)
    with pytest.raises(ValueError, match="format 2"):
        FastaSummary.from_bytes(data)


@pytest.mark.parametrize(
    ("name", "follows"),
    [("s.fasta", True), ("s.fa.gz", True), ("s.fa.zst", True), ("s.fa.xz", True), ("s.fa.zip", False)],
)
def test_every_format_but_zip_can_be_followed(name: str, follows: bool) -> None:
    assert can_follow(name) is follows


def test_a_summary_is_combined_only_by_name_for_an_organism_without_sequences(tmp_path: Path) -> None:
    metadata = write(tmp_path, "m.tsv", "id\tsampleCollectionDate\tgeoLocCountry\ns1\t2024-03-01\tSpain\n")
    checked = check_metadata(organism(consensus=False), metadata, "m.tsv")
    report = combine(organism(consensus=False), checked, FastaSummary("s.fasta", Limits(max_bytes=1)))
    assert [p.kind for p in report.problems] == ["sequences_not_allowed"]


# --- random submissions, checked every way ---

MULTI = organism(segments=("L", "M", "S"))
MULTI_FIELDS = (*MULTI.input_fields, InputField(FASTA_IDS_FIELD, "FASTA IDs"))
MULTI_WITH_COLUMN = type(MULTI)(**{**MULTI.__dict__, "input_fields": MULTI_FIELDS})


def random_submission(rng: random.Random) -> tuple[str, bytes]:
    """A metadata table and a FASTA that share some IDs, with a little of everything that can be wrong."""
    pool = [f"s{n}" for n in range(rng.randint(1, 40))]
    with_fasta_ids = rng.random() < 0.3
    header = ["id", "sampleCollectionDate", "geoLocCountry"] + ([FASTA_IDS_FIELD] if with_fasta_ids else [])
    rows = ["\t".join(header)]
    for entry in rng.sample(pool, rng.randint(0, len(pool))) + rng.choices(pool, k=rng.randint(0, 2)):
        cells = [
            rng.choice([entry, entry, entry, "", f"{entry} x"]),
            rng.choice(["2024-01-01", ""]),
            rng.choice(["Uganda", "spain", "Atlantis", ""]),
        ]
        if with_fasta_ids:
            cells.append(" ".join(rng.choices([f"{entry}_L", f"{entry}_S", entry, "x"], k=rng.randint(0, 3))))
        rows.append("\t".join(cells))
    metadata = "\n".join(rows) + "\n"
    newline = rng.choice(["\n", "\r\n"])
    parts = []
    if rng.random() < 0.1:
        parts.append(f"stray text{newline}")
    for _ in range(rng.randint(0, 60)):
        fasta_id = rng.choice([*pool, *(f"{p}_L" for p in pool), "", "orphan"])
        header_line = rng.choice([f">{fasta_id}", f">{fasta_id} description", f"> {fasta_id}"])
        sequence = rng.choice(["", "ACGT", "AC GT", "NNNN" * 50, "A" * rng.randint(1, 300)])
        lines = [sequence[i : i + 60] for i in range(0, len(sequence), 60)]
        parts.append(header_line + newline + "".join(line + newline for line in lines))
        if rng.random() < 0.05:
            parts.append(newline)
    data = "".join(parts).encode()
    if rng.random() < 0.05:
        cut = rng.randint(0, len(data))
        data = data[:cut] + rng.choice([b"\x00\x01", b">bad\xff\n"]) + data[cut:]
    return metadata, data


@pytest.mark.parametrize("seed", range(60))
def test_random_submissions_give_the_same_report_every_way(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - test data
    metadata, sequences = random_submission(rng)
    fasta_name = rng.choice(["s.fasta", "s.fasta", "s.fa.gz", "s.fa.zst", "s.fa.xz", "s.fa.bz2", "s.fa.zip"])
    metadata_name = rng.choice(["m.tsv", "m.tsv.gz"])
    of = rng.choice([organism(), MULTI, MULTI_WITH_COLUMN])
    metadata_path = write(tmp_path, metadata_name, metadata)
    sequences_path = write(tmp_path, fasta_name, sequences) if rng.random() < 0.9 else None
    limits = {"max_problems": rng.choice([1, 3, 10, 100]), "max_bytes": rng.choice([200, 2000, 10**9])}
    validate_all_ways(
        of, metadata_path, metadata_name, sequences_path, fasta_name if sequences_path else None, **limits
    )


def test_the_random_submissions_reach_every_fasta_check(tmp_path: Path) -> None:
    """The random files above are worth something only if they make every check speak now and then."""
    seen: set[str] = set()
    for seed in range(60):
        rng = random.Random(seed)  # noqa: S311 - test data
        metadata, sequences = random_submission(rng)
        m = write(tmp_path, "m.tsv", metadata)
        s = write(tmp_path, "s.fasta", sequences)
        seen |= set(validate(organism(), m, "m.tsv", s, "s.fasta", max_problems=1000).counts.by_kind)
    assert {
        "duplicate_fasta_id",
        "empty_sequence",
        "fasta_header_without_id",
        "sequence_without_entry",
        "sequence_missing",
        "text_before_first_header",
        "unreadable_file",
    } <= seen


def test_a_followed_summary_of_a_big_compressed_file_equals_the_one_read_after(tmp_path: Path) -> None:
    data = "".join(f">r{n}\n{'ACGT' * 200}\n" for n in range(5000))
    path = write(tmp_path, "big.fasta.gz", data)
    after = summarize_fasta(path, "big.fasta.gz", max_bytes=10**9)
    assert after.count == 5000
    assert followed(path, "big.fasta.gz", max_bytes=10**9, seed=3) == after
