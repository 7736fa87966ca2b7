"""Benchmark: hostile and oversized bulk files (issue 17): wall time and peak RSS of the check of each.

Run: .venv/bin/python bench/bombs.py [--before REF] [--timeout 240] [--only NAME …] [--json FILE]

Each bomb is written to a temporary folder (deterministic bytes), then checked as the portal checks
it: `check_metadata` for a metadata file, `summarize_fasta` for a FASTA file, each in a fresh
subprocess whose peak RSS is read from /proc (VmHWM; sampled by this process too, so a check that
is stopped at --timeout still has one). --before REF also checks every bomb with the code of git
ref REF (exported with `git archive` to a temporary folder, removed afterwards; run with
OPENPYXL_DEFUSEDXML=False, as that code ran before defusedxml was installed). Prints a Markdown
table; exits 1 if a check of this tree took 10 s or more or peaked over 300 MB. Not part of the test
suite: the bombs take ~1 GB of disk, and --before takes ~15 minutes (its checks of the 20 GiB
bombs are stopped at --timeout).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import zstandard

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
GIB = 1024 * MIB
BLOCK = 64 * MIB
MAX_SECONDS = 10.0
MAX_RSS_MB = 300.0
HEADER = b"id\tsampleCollectionDate\tgeoLocCountry\n"


def _repeated_members(path: Path, head: bytes, total: int, compress: Callable[[bytes], bytes]) -> None:
    """`head` then `total` bytes of blank lines, as concatenated gzip members or zstd frames (one file to
    the reader), so a 20 GiB bomb is written in a second from one compressed 64 MiB block."""
    block = compress(b"\n" * BLOCK)
    with path.open("wb") as out:
        out.write(compress(head))
        for _ in range(total // BLOCK):
            out.write(block)


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, 9)


def _zstd(data: bytes) -> bytes:
    return zstandard.ZstdCompressor(level=19).compress(data)


def _workbook(path: Path, sheet: str, strings: str) -> None:
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006/relationships"
    types = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{types}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{types}.worksheet+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{types}.sharedStrings+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<?xml version="1.0"?><Relationships xmlns="{package}"><Relationship Id="rId1" '
            f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0"?><workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
            '<sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0"?><Relationships xmlns="{package}">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": sheet.replace("MAIN", main),
        "xl/sharedStrings.xml": strings.replace("MAIN", main),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


ROWS = (
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
    '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>3</v></c></row>'
)


def _strings(*values: str) -> str:
    return '<?xml version="1.0"?><sst xmlns="MAIN">' + "".join(f"<si><t>{v}</t></si>" for v in values) + "</sst>"


def _laughs(path: Path) -> None:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{n + 1} "{(f"&lol{n};" if n else "&lol;") * 10}">' for n in range(9)
    )
    sheet = (
        f'<?xml version="1.0"?><!DOCTYPE lolz [{entities}]><worksheet xmlns="MAIN"><sheetData>{ROWS}'
        '<row r="3"><c r="A3" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>'
    )
    _workbook(path, sheet, _strings("id", "geoLocCountry", "s1", "Uganda"))


def _long_cell(path: Path) -> None:
    sheet = f'<?xml version="1.0"?><worksheet xmlns="MAIN"><sheetData>{ROWS}</sheetData></worksheet>'
    _workbook(path, sheet, _strings("id", "geoLocCountry", "s1", "x" * (64 * MIB)))


def _rows(path: Path, count: int, distinct: bool) -> None:
    row = b"s1\t2024-01-01\tUganda, Kampala district\n"
    with gzip.open(path, "wb", compresslevel=6 if distinct else 9) as out:
        out.write(HEADER)
        for start in range(0, count, 100_000):
            if distinct:
                out.write(b"".join(b"s%d\t2024\tUganda\n" % n for n in range(start, min(count, start + 100_000))))
            else:
                out.write(row * min(100_000, count - start))


def _long_values(path: Path) -> None:
    with path.open("wb") as out:
        out.write(HEADER)
        for n in range(100):
            out.write(b"s%d\t2024-01-01\t" % n + b"x" * 1_000_000 + b"\n")  # the row fits in 1 MiB


def _zip(path: Path, total: int) -> None:
    block = b"\n" * BLOCK
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("m.tsv", "w", force_zip64=True) as member:
            member.write(HEADER)
            for _ in range(total // BLOCK):
                member.write(block)


# name → (file name, kind, what it is, how to write it)
BOMBS: dict[str, tuple[str, str, str, Callable[[Path], None]]] = {
    "gz-blank-300m": (
        "m.tsv.gz",
        "metadata",
        "metadata .tsv.gz: 300 MiB of blank lines",
        lambda p: _repeated_members(p, HEADER, 300 * MIB + BLOCK - 1, _gzip),
    ),
    "gz-blank-20g": (
        "m.tsv.gz",
        "metadata",
        "metadata .tsv.gz: 20 GiB of blank lines (the 20 GiB limit)",
        lambda p: _repeated_members(p, HEADER, 20 * GIB - BLOCK, _gzip),
    ),
    "rows-6m-same": (
        "m.tsv.gz",
        "metadata",
        "metadata .tsv.gz: 6 million short rows, all alike",
        lambda p: _rows(p, 6_000_000, False),
    ),
    "rows-6m-distinct": (
        "m.tsv.gz",
        "metadata",
        "metadata .tsv.gz: 6 million short rows, each its own ID",
        lambda p: _rows(p, 6_000_000, True),
    ),
    "xlsx-laughs": ("m.xlsx", "metadata", "XLSX: billion laughs in the sheet", _laughs),
    "xlsx-64m-cell": ("m.xlsx", "metadata", "XLSX: one cell of 64 MiB", _long_cell),
    "tsv-100x1m": ("m.tsv", "metadata", "metadata .tsv: 100 rows × a 1 MB country", _long_values),
    "fasta-blank": (
        "s.fasta.gz",
        "sequences",
        "FASTA .fasta.gz: 300 MiB of blank lines",
        lambda p: _repeated_members(p, b">s1\nACGT\n", 300 * MIB + BLOCK - 1, _gzip),
    ),
    "zstd-20g": (
        "s.fasta.zst",
        "sequences",
        "FASTA .fasta.zst: 20 GiB of blank lines",
        lambda p: _repeated_members(p, b">s1\nACGT\n", 20 * GIB - BLOCK, _zstd),
    ),
    "zip-4g": ("m.tsv.zip", "metadata", "metadata .tsv.zip: 4 GiB of blank lines", lambda p: _zip(p, 4 * GIB)),
}
# Checked again with the compression-ratio bound off: the time then follows the content, not a refusal.
RATIO_OFF = ("gz-blank-300m", "fasta-blank")


def child(path: str, name: str, kind: str, ratio_off: bool) -> None:
    """One measured check, in its own process; prints JSON. Runs against whichever tree is on sys.path."""
    from submitportal.bulkfiles.validate import check_metadata, summarize_fasta
    from submitportal.loculus.schema import InputField, Organism

    extra = {}
    if ratio_off:
        from submitportal.bulkfiles.limits import Limits

        extra = {"limits": Limits(max_ratio=2**62)}
    organism = Organism(
        key="bench",
        display_name="Benchmark virus",
        input_fields=(
            InputField("id", "ID", required=True),
            InputField("sampleCollectionDate", "Collection date", required=True, type="date"),
            InputField("geoLocCountry", "Country", required=True, options=("Uganda", "Spain")),
        ),
        consensus_sequences=True,
        segments=("main",),
        max_sequences_per_entry=1,
        files_enabled=False,
        file_categories=(),
    )
    started = time.perf_counter()
    try:
        if kind == "metadata":
            report = check_metadata(organism, path, name, **extra).report
            unreadable = next((p.message for p in report.problems if p.kind == "unreadable_file"), None)
            messages = [p.message for p in report.problems]
            count = len(report.entries)
        else:
            summary = summarize_fasta(path, name, **extra)
            unreadable, messages, count = summary.unreadable, [summary.unreadable or ""], summary.count
        outcome = f"refused: {unreadable}" if unreadable else f"checked: {count:,} {kind} records"
    except Exception as exc:  # noqa: BLE001 - the outcome of the old code may be an exception: report it
        outcome, messages = f"exception: {type(exc).__name__}: {exc}", []
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_rss_mb": _vm_hwm_kib(os.getpid()) / 1024,
                "outcome": outcome,
                "report_chars": sum(len(m) for m in messages),
            }
        )
    )


def _vm_hwm_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(tree: Path, path: Path, name: str, kind: str, *, ratio_off: bool, timeout: float, old: bool) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    if old:
        env["OPENPYXL_DEFUSEDXML"] = "False"  # as the old code ran: defusedxml was not installed
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(path), name, kind]
    if ratio_off:
        command.append("--ratio-off")
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    while process.poll() is None:
        peak = max(peak, _vm_hwm_kib(process.pid))
        if time.perf_counter() - started > timeout:
            process.kill()
            process.wait(timeout=30)
            return {
                "seconds": time.perf_counter() - started,
                "peak_rss_mb": peak / 1024,
                "outcome": f"stopped after {timeout:.0f} s (still reading)",
                "report_chars": None,
                "timed_out": True,
            }
        time.sleep(0.05)
    out, err = process.communicate()
    if process.returncode != 0:
        return {"seconds": None, "peak_rss_mb": peak / 1024, "outcome": f"crashed: {err.strip()[-300:]}"}
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mb"] = max(result["peak_rss_mb"], peak / 1024)
    return result


def export(ref: str, folder: Path) -> Path:
    """The tree of git ref `ref`, exported (no worktree, nothing in .git changes)."""
    tree = folder / f"tree-{ref}"
    tree.mkdir()
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def _cell(result: dict | None) -> str:
    if not result:
        return "–"
    seconds = "–" if result.get("seconds") is None else f"{result['seconds']:.2f} s"
    return f"{seconds}, {result['peak_rss_mb']:.0f} MB"


def _outcome(result: dict | None) -> str:
    if not result:
        return "–"
    text = result["outcome"]
    text = text if len(text) <= 110 else text[:110] + "…"
    chars = result.get("report_chars")
    return text + (f" (messages: {chars:,} characters)" if chars else "")


def table(results: dict[str, dict]) -> str:
    lines = [
        "| bomb | file size | before: time, peak RSS | before: outcome | after: time, peak RSS | after: outcome |",
        "|---|---|---|---|---|---|",
    ]
    for entry in results.values():
        size = entry["file_bytes"]
        shown = f"{size / MIB:.1f} MiB" if size >= MIB else f"{size / 1024:.0f} KiB"
        lines.append(
            f"| {entry['what']} | {shown} | {_cell(entry.get('before'))} | {_outcome(entry.get('before'))} "
            f"| {_cell(entry['after'])} | {_outcome(entry['after'])} |"
        )
        if "after_ratio_off" in entry:
            lines.append(
                f"| … the same, compression-ratio bound off | | | | {_cell(entry['after_ratio_off'])} "
                f"| {_outcome(entry['after_ratio_off'])} |"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="also check every bomb with this git ref's code, e.g. c92e0a7")
    parser.add_argument("--timeout", type=float, default=240.0, help="stop a check after this many seconds")
    parser.add_argument("--only", action="append", choices=sorted(BOMBS), help="only these bombs")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--ratio-off", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, ratio_off=args.ratio_off)
        return 0
    chosen = args.only or list(BOMBS)
    results: dict[str, dict] = {}
    loadavg_before = Path("/proc/loadavg").read_text().strip()
    base = Path(os.environ.get("BENCH_TMP", tempfile.gettempdir()))
    with tempfile.TemporaryDirectory(prefix="bombs-", dir=base) as temporary:
        folder = Path(temporary)
        old_tree = export(args.before, folder) if args.before else None
        for key in chosen:
            name, kind, what, make = BOMBS[key]
            path = folder / key / name
            path.parent.mkdir()
            make(path)
            entry: dict = {"what": what, "file_bytes": path.stat().st_size}
            print(f"{key}: {path.stat().st_size:,} bytes", file=sys.stderr, flush=True)
            entry["after"] = measure(ROOT, path, name, kind, ratio_off=False, timeout=args.timeout, old=False)
            if key in RATIO_OFF:
                entry["after_ratio_off"] = measure(
                    ROOT, path, name, kind, ratio_off=True, timeout=args.timeout, old=False
                )
            if old_tree is not None:
                entry["before"] = measure(old_tree, path, name, kind, ratio_off=False, timeout=args.timeout, old=True)
            print(f"  {json.dumps(entry)}", file=sys.stderr, flush=True)
            results[key] = entry
            path.unlink()
    loadavg_after = Path("/proc/loadavg").read_text().strip()
    print(table(results))
    print(f"\nload average before: {loadavg_before}; after: {loadavg_after}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        summary = {"results": results, "loadavg_before": loadavg_before, "loadavg_after": loadavg_after}
        args.json.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    ok = all(
        (entry["after"].get("seconds") or 1e9) < MAX_SECONDS and entry["after"]["peak_rss_mb"] < MAX_RSS_MB
        for entry in results.values()
    )
    print(
        f"targets (this tree): every check < {MAX_SECONDS:.0f} s and < {MAX_RSS_MB:.0f} MB peak RSS: "
        + ("ok" if ok else "FAILED")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
