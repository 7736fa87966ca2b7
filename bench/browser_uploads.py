"""Measure 2: extra-file uploads in headless Chromium, the portal's bulk page against the Loculus website's way.

Run: .venv/bin/python bench/browser_uploads.py [--runs 3] [--files 1000] [--file-kb 100] [--big-mib 512]
     [--delays 50,0] [--s3 moto|ministack] [--s3-tmpdir DIR] [--json out.json]

Servers: the sandbox with its S3 proxy (presigned URLs point at it), the portal under gunicorn, and
two bench/delay_proxy.py processes: one in front of the portal (it also serves the baseline page at
/_bench/loculus-way.html, so both pages share the origin the bucket's CORS allows), one in front of
the backend for the baseline's backend calls. With a delay of D ms, both proxies and the S3 proxy
(rule {"delay_ms": D}) hold every request D ms before forwarding it; with 0 they only forward.

Per delay and run, each on a reset sandbox with an emptied S3:
* portal, many files: the real bulk page (metadata with files.rawReads naming the files, FASTA), the
  folder chosen with set_input_files on "Upload folder for Raw reads"; timed until every row is ✓.
* Loculus way, many files: bench/static/loculus-way.html in the same browser (per file in turn:
  request-multipart-upload, PUT the 10 MiB parts one at a time, complete-multipart-upload).
* portal, one big file: the same bulk page, a folder with one file; timed until it is ✓.
* browser ceiling, one big file: the same baseline page moving the bytes as the portal page does (6 parts
  at once, XMLHttpRequest PUTs of file slices), its multipart upload requested and completed straight
  with the backend: the same browser with no portal in between. The portal's time over this one is
  what the portal adds; this one's gap to curl is the browser's and the S3 server's.
* curl, one big file: a multipart upload requested from the backend (not timed), then
  `curl --parallel --parallel-max 6 -T part_k URL_k …` PUTs of the same bytes to the same S3 proxy,
  then complete-multipart-upload with the ETags (timed with and without that completion).

The four uploads of the big file take turns at going first (run n starts with the n-th), as the S3
server's speed drifts with its disk. Each browser upload of the big file is split, by the S3 proxy's
log (same clock), into before the first PUT, the PUTs, and after the last PUT; of the last, the
sandbox backend times the S3 server's completion. The rest is the page's own steps (on the portal
page: rows and upload URLs, the report, the portal's backend call, the ✓).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from common import (
    BENCH_TMP,
    HTTP_TIMEOUT,
    PYTHON,
    ROOT,
    clear_s3,
    free_port,
    log,
    median,
    portal,
    sandbox,
    stop_group,
    stop_on_signals,
    write_json,
)
from playwright.sync_api import Page, expect, sync_playwright

from sandbox.launcher import RunningSandbox

ORGANISM = "ebola-sudan"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]
ENTRIES = 10
PART_SIZE = 10 * 1024 * 1024
PARTS_AT_ONCE = 6  # as static/js/extra_file_uploads.js; Chromium opens at most 6 connections per host
UPLOAD_TIMEOUT_MS = 900_000
TARGET_MANY_SPEEDUP = 4.0
TARGET_BIG_THROUGHPUT = 0.7


# --- Test data ------------------------------------------------------------------------------------------


@dataclass
class DataSet:
    metadata: Path
    fasta: Path
    folder: Path
    count: int
    total_bytes: int


def write_pair(folder: Path, files_per_entry: dict[str, list[str]]) -> tuple[Path, Path]:
    metadata = folder / "metadata.tsv"
    fasta = folder / "sequences.fasta"
    lines = ["id\tsampleCollectionDate\tgeoLocCountry\tfiles.rawReads"]
    lines += [f"{entry}\t2024-01-05\tUganda\t{' '.join(names)}" for entry, names in files_per_entry.items()]
    metadata.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fasta.write_text("".join(f">{entry}\nACGTACGTAC\n" for entry in files_per_entry), encoding="ascii")
    return metadata, fasta


def many_files(root: Path, count: int, size: int) -> DataSet:
    """`count` files of `size` bytes, named in a files.rawReads column, spread over ten entries."""
    folder = root / "many"
    folder.mkdir(parents=True)
    rng = random.Random(8)  # noqa: S311 - reproducible test data
    pattern = rng.randbytes(size + count)
    names: dict[str, list[str]] = {f"s{n}": [] for n in range(1, ENTRIES + 1)}
    for number in range(count):
        entry = f"s{number % ENTRIES + 1}"
        name = f"{entry}_{number:05d}.fq"
        names[entry].append(name)
        (folder / name).write_bytes(pattern[number : number + size])  # each file's bytes differ
    (root / "many-data").mkdir()
    metadata, fasta = write_pair(root / "many-data", names)
    return DataSet(metadata, fasta, folder, count, count * size)


def big_file(root: Path, mib: int) -> tuple[DataSet, list[Path]]:
    """One file of `mib` MiB for entry s1, and the same bytes cut into 10 MiB parts for curl."""
    folder = root / "big"
    folder.mkdir(parents=True)
    rng = random.Random(9)  # noqa: S311
    block = rng.randbytes(1 << 20)
    path = folder / "big.bin"
    with open(path, "wb") as out:
        for number in range(mib):
            out.write(block[number % 251 :] + block[: number % 251])  # no two MiB alike
    parts_dir = root / "big-parts"
    parts_dir.mkdir()
    parts = []
    with open(path, "rb") as source:
        number = 0
        while chunk := source.read(PART_SIZE):
            number += 1
            part = parts_dir / f"part{number:05d}"
            part.write_bytes(chunk)
            parts.append(part)
    (root / "big-data").mkdir()
    metadata, fasta = write_pair(root / "big-data", {"s1": ["big.bin"], "s2": []})
    return DataSet(metadata, fasta, folder, 1, path.stat().st_size), parts


# --- The delaying proxies ----------------------------------------------------------------------------------


@dataclass
class DelayProxy:
    url: str
    process: subprocess.Popen[bytes]

    def set_delay(self, ms: float) -> None:
        requests.post(f"{self.url}/_proxy/delay?ms={ms}", timeout=HTTP_TIMEOUT).raise_for_status()


@contextmanager
def delay_proxy(upstream: str, work: Path, name: str, *, port: int = 0, static: Path | None = None) -> Any:
    ready = work / f"{name}.json"
    command = [PYTHON, str(ROOT / "bench" / "delay_proxy.py"), "--upstream", upstream, "--port", str(port)]
    command += ["--ready-file", str(ready)] + (["--static", str(static)] if static else [])
    process = subprocess.Popen(command, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the delaying proxy {name} did not start")
            time.sleep(0.05)
        yield DelayProxy(json.loads(ready.read_text())["url"], process)
    finally:
        stop_group(process)


# --- One measured upload of each kind ------------------------------------------------------------------


def fresh(sb: RunningSandbox, delay_ms: float) -> None:
    """A reset sandbox, an empty S3 and the S3 delay rule (reset clears it)."""
    sb.reset()
    clear_s3(sb)
    if delay_ms:
        sb.set_s3_faults([{"delay_ms": delay_ms}])


def put_span(sb: RunningSandbox) -> tuple[float, float]:
    """(Wall-clock time the first PUT started, the last PUT ended), from the S3 proxy's request log."""
    puts = [entry for entry in sb.s3_log() if entry["method"] == "PUT"]
    if not puts:
        raise RuntimeError("the S3 proxy saw no PUT")
    return min(entry["start"] for entry in puts), max(entry["end"] for entry in puts)


def put_window(sb: RunningSandbox) -> float:
    """Seconds from the first PUT's start to the last PUT's end."""
    first, last = put_span(sb)
    return last - first


def wait_rows(page: Page, count: int) -> None:
    """Until `count` rows are uploaded (✓); a failed row ends the wait at once."""
    page.wait_for_function(
        """n => {
            const rows = document.querySelectorAll('#files-rawReads [data-file-row]');
            let done = 0;
            for (const row of rows) {
                if (row.dataset.state === 'uploaded') done++;
                else if (row.dataset.state === 'failed' || row.dataset.state === 'refused') return 'failed';
            }
            return done >= n;
        }""",
        arg=count,
        polling=50,
        timeout=UPLOAD_TIMEOUT_MS,
    )
    failed = page.locator('#files-rawReads [data-file-row][data-state="failed"]').count()
    if failed:
        raise RuntimeError(f"{failed} uploads failed on the portal page")


@dataclass
class Timed:
    """One timed upload: its seconds, and where they went (from the S3 proxy's log, same clock)."""

    seconds: float
    before_puts: float  # choosing the folder → the first PUT starts (getting rows and upload URLs)
    puts: float  # the first PUT starts → the last PUT ends (the bytes)
    after_puts: float  # the last PUT ends → done (completion and, on the portal page, the ✓)
    completion: float  # of after_puts, the S3 server's complete-multipart-upload(s), timed by the backend

    @classmethod
    def of(cls, sb: RunningSandbox, started_wall: float, seconds: float) -> Timed:
        first, last = put_span(sb)
        return cls(seconds, first - started_wall, last - first, started_wall + seconds - last, completion_seconds(sb))


def completion_seconds(sb: RunningSandbox) -> float:
    """Seconds the S3 server spent completing multipart uploads since the last reset (the backend times them)."""
    return sum(end - start for start, end in (f["completion"] for f in sb.admin("GET", "files") if f["completion"]))


def portal_upload(page: Page, front: str, sb: RunningSandbox, data: DataSet) -> Timed:
    """From choosing the folder on the bulk page until every file is ✓. Then the draft is submitted (untimed)."""
    page.goto(f"{front}/{ORGANISM}/submission/bulk/")
    page.wait_for_load_state("load")
    page.get_by_label("Sequence file", exact=True).set_input_files(data.fasta)
    expect(page.locator("#chosen-sequences")).to_contain_text(data.fasta.name, timeout=60_000)
    page.get_by_label("Metadata file", exact=True).set_input_files(data.metadata)
    expect(page.locator("#file-checks")).to_contain_text("no problems found", timeout=60_000)
    started_wall, started = time.time(), time.perf_counter()
    page.get_by_label("Upload folder for Raw reads").set_input_files(data.folder)
    wait_rows(page, data.count)
    timed = Timed.of(sb, started_wall, time.perf_counter() - started)
    # Submitting closes the draft, so the next run gets a new one; it also checks every file is linked.
    sb.clear_s3_faults()
    page.get_by_label("I confirm that I have the legal right to submit this data").check()
    page.get_by_label("I confirm I have not and will not submit this data independently to INSDC").check()
    page.get_by_role("button", name="Upload and proceed to Approval").click()
    page.get_by_role("button", name="Continue under Open terms").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Your submission reached", timeout=120_000)
    record = sb.submissions()[-1]
    linked = sum(len(entry["files"].get("rawReads", [])) for entry in record["entries"])
    if linked != data.count:
        raise RuntimeError(f"the submission links {linked} files, not {data.count}")
    return timed


def loculus_way(
    page: Page,
    front: str,
    sb: RunningSandbox,
    backend: str,
    data: DataSet,
    *,
    parts_at_once: int = 1,
    transport: str = "fetch",
) -> Timed:
    """Seconds from choosing the folder on the baseline page until its loop is done.

    The defaults are the Loculus website's way; PARTS_AT_ONCE over "xhr" is the browser ceiling."""
    page.goto(f"{front}/_bench/loculus-way.html")
    token = sb.access_token()
    config = {"backend": backend, "token": token, "groupId": 1, "partsAtOnce": parts_at_once, "transport": transport}
    page.evaluate("c => window.configureLoculusWay(c)", config)
    started_wall, started = time.time(), time.perf_counter()
    page.locator("#folder").set_input_files(data.folder)
    page.wait_for_function("() => window.loculusWay.done", polling=50, timeout=UPLOAD_TIMEOUT_MS)
    seconds = time.perf_counter() - started
    outcome = page.evaluate("() => window.loculusWay")
    if outcome["error"] or outcome["files"] != data.count:
        raise RuntimeError(f"the baseline page failed: {outcome}")
    return Timed.of(sb, started_wall, seconds)


def curl_big(sb: RunningSandbox, token: str, parts: list[Path]) -> tuple[float, float, float, float]:
    """Seconds for the PUTs, for PUTs + completion, the PUT window in the S3 log, the S3 server's completion.

    curl runs the PUTs in parallel as the page does."""
    answer = requests.post(
        f"{sb.backend}/files/request-multipart-upload",
        params={"groupId": 1, "numberFiles": 1, "numberParts": len(parts)},
        headers={"Authorization": f"Bearer {token}"},
        timeout=HTTP_TIMEOUT,
    )
    answer.raise_for_status()
    (target,) = answer.json()
    command = ["curl", "-sS", "--fail", "--parallel", "--parallel-max", str(PARTS_AT_ONCE), "-H", "Expect:"]
    command += ["-w", "%{url_effective} %header{etag}\\n", "-o", "/dev/null"]
    for part, url in zip(parts, target["urls"], strict=True):
        command += ["-T", str(part), url]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=UPLOAD_TIMEOUT_MS / 1000, check=False)
    puts = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"curl failed: {done.stderr[-1000:]}")
    etag_of = dict(line.rsplit(" ", 1) for line in done.stdout.strip().splitlines())
    etags = [etag_of[url] for url in target["urls"]]
    body = json.dumps([{"fileId": target["fileId"], "etags": etags}])
    completed = subprocess.run(
        [
            "curl",
            "-sS",
            "--fail",
            "-o",
            "/dev/null",
            "-H",
            f"Authorization: Bearer {token}",
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            body,
            f"{sb.backend}/files/complete-multipart-upload",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    total = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"completing the curl upload failed: {completed.stderr}")
    return puts, total, put_window(sb), completion_seconds(sb)


BIG_KINDS = ("portal", "ceiling", "loculus", "curl")


def rotated(items: tuple[str, ...], by: int) -> tuple[str, ...]:
    by %= len(items)
    return items[by:] + items[:by]


def big_upload(
    kind: str, page: Page, front: str, sb: RunningSandbox, backend: str, big: DataSet, parts: list[Path]
) -> dict[str, float]:
    """One timed upload of the big file, its keys prefixed with `{kind}_big`."""
    if kind == "portal":
        return steps("portal_big", portal_upload(page, front, sb, big))
    if kind == "ceiling":
        timed = loculus_way(page, front, sb, backend, big, parts_at_once=PARTS_AT_ONCE, transport="xhr")
        return steps("ceiling_big", timed)
    if kind == "loculus":
        return steps("loculus_big", loculus_way(page, front, sb, backend, big))
    puts, total, window, completion = curl_big(sb, sb.access_token(), parts)
    return {
        "curl_big_puts_s": puts,
        "curl_big_s": total,
        "curl_big_put_window_s": window,
        "curl_big_completion_s": completion,
    }


def steps(prefix: str, timed: Timed) -> dict[str, float]:
    return {
        f"{prefix}_s": timed.seconds,
        f"{prefix}_before_puts_s": timed.before_puts,
        f"{prefix}_put_window_s": timed.puts,
        f"{prefix}_after_puts_s": timed.after_puts,
        f"{prefix}_completion_s": timed.completion,
        # What is neither the bytes nor the S3 server's completion: the page's and the portal's own steps.
        f"{prefix}_own_steps_s": timed.before_puts + timed.after_puts - timed.completion,
    }


# --- The whole measure ---------------------------------------------------------------------------------------


def sign_in_browser(page: Page, front: str) -> None:
    page.goto(f"{front}/{ORGANISM}/submission/")
    page.get_by_label("Username or email").fill("testuser")
    page.get_by_label("Password").fill("testuser")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Sign In").click()


@dataclass
class Servers:
    sb: RunningSandbox
    front: DelayProxy  # in front of the portal; also serves the baseline page
    back: DelayProxy  # in front of the backend, for the baseline page's backend calls
    page: Page  # signed in to the portal through `front`


@contextmanager
def servers(work: Path, s3: str = "moto", s3_tmpdir: Path | None = None) -> Iterator[Servers]:
    """The sandbox, the portal, both delaying proxies (no delay yet) and a signed-in Chromium page."""
    portal_port, front_port = free_port(), free_port()
    with ExitStack() as stack:
        sb = stack.enter_context(sandbox(f"http://127.0.0.1:{front_port}", s3_proxy=True, s3=s3, tmpdir=s3_tmpdir))
        site = stack.enter_context(portal(sb, portal_port))
        static = ROOT / "bench" / "static"
        front = stack.enter_context(delay_proxy(site.url, work, "front", port=front_port, static=static))
        back = stack.enter_context(delay_proxy(sb.backend, work, "back"))
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        stack.callback(browser.close)
        page = browser.new_page()
        page.set_default_timeout(60_000)
        sign_in_browser(page, front.url)
        yield Servers(sb, front, back, page)


def run(
    runs: int, count: int, file_size: int, big_mib: int, delays: list[float], s3: str, s3_tmpdir: Path | None
) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-uploads-", dir=BENCH_TMP))
    results: dict[str, Any] = {"files": count, "file_bytes": file_size, "big_mib": big_mib, "s3": s3, "delays": {}}
    try:
        many = many_files(work, count, file_size) if count else None
        big, parts = (big_file(work, big_mib)) if big_mib else (None, [])
        log(f"generated {count} files of {file_size:,} bytes and a {big_mib} MiB file in {work}")
        with servers(work, s3, s3_tmpdir) as running:
            sb, front, back, page = running.sb, running.front, running.back, running.page
            for delay in delays:
                front.set_delay(delay)
                back.set_delay(delay)
                rows: list[dict[str, float]] = []
                for number in range(1, runs + 1):
                    row: dict[str, float] = {}
                    if many is not None:
                        fresh(sb, delay)
                        row["portal_many_s"] = portal_upload(page, front.url, sb, many).seconds
                        fresh(sb, delay)
                        row["loculus_many_s"] = loculus_way(page, front.url, sb, back.url, many).seconds
                    if big is not None:
                        # The S3 server's speed drifts (its disk): each run starts with another of the four.
                        for kind in rotated(BIG_KINDS, number - 1):
                            fresh(sb, delay)
                            row.update(big_upload(kind, page, front.url, sb, back.url, big, parts))
                    rows.append(row)
                    log(f"delay {delay:g} ms, run {number}: " + ", ".join(f"{k} {v:.2f}" for k, v in row.items()))
                fresh(sb, 0)
                summary: dict[str, Any] = {"runs": rows}
                for key in rows[0]:
                    summary[f"{key}_median"] = median([r[key] for r in rows])
                if many is not None:
                    summary["many_speedup"] = summary["loculus_many_s_median"] / summary["portal_many_s_median"]
                if big is not None:
                    mb = big.total_bytes / 1e6
                    summary["portal_big_mb_s"] = mb / summary["portal_big_s_median"]
                    summary["curl_big_puts_mb_s"] = mb / summary["curl_big_puts_s_median"]
                    summary["curl_big_mb_s"] = mb / summary["curl_big_s_median"]
                    summary["big_ratio_vs_puts"] = summary["portal_big_mb_s"] / summary["curl_big_puts_mb_s"]
                    summary["big_ratio_vs_puts_and_complete"] = summary["portal_big_mb_s"] / summary["curl_big_mb_s"]
                    summary["loculus_big_mb_s"] = mb / summary["loculus_big_s_median"]
                    # The same browser with no portal in between: what the portal adds, and what no page can beat.
                    summary["ceiling_big_mb_s"] = mb / summary["ceiling_big_s_median"]
                    summary["portal_vs_ceiling"] = summary["portal_big_mb_s"] / summary["ceiling_big_mb_s"]
                    summary["ceiling_ratio_vs_puts"] = summary["ceiling_big_mb_s"] / summary["curl_big_puts_mb_s"]
                    # The bytes-moving phase alone, from the S3 proxy's log: no moto completion in it.
                    summary["put_phase_ratio"] = (
                        summary["curl_big_put_window_s_median"] / summary["portal_big_put_window_s_median"]
                    )
                results["delays"][str(int(delay))] = summary
    finally:
        shutil.rmtree(work, ignore_errors=True)
    delayed = results["delays"].get("50") or next(iter(results["delays"].values()))
    results["targets"] = {"many_speedup_with_delay": TARGET_MANY_SPEEDUP, "big_ratio": TARGET_BIG_THROUGHPUT}
    results["pass"] = {}
    if count:
        results["pass"]["many_speedup_with_delay"] = delayed["many_speedup"] >= TARGET_MANY_SPEEDUP
    if big_mib:
        results["pass"]["big_ratio"] = all(
            summary["big_ratio_vs_puts"] >= TARGET_BIG_THROUGHPUT for summary in results["delays"].values()
        )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--files", type=int, default=1000, help="0 skips the many small files")
    parser.add_argument("--file-kb", type=int, default=100, help="size of each small file in KB (1000 bytes)")
    parser.add_argument("--big-mib", type=int, default=512, help="0 skips the big file")
    parser.add_argument("--delays", default="50,0", help="comma-separated delays in ms")
    parser.add_argument("--s3", choices=["moto", "ministack"], default="moto", help="the sandbox's S3 server")
    parser.add_argument("--s3-tmpdir", type=Path, help="the sandbox's TMPDIR (moto spools objects there)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    stop_on_signals()
    delays = [float(value) for value in args.delays.split(",")]
    result = run(args.runs, args.files, args.file_kb * 1000, args.big_mib, delays, args.s3, args.s3_tmpdir)
    for delay, summary in result["delays"].items():
        line = f"delay {delay} ms (S3: {args.s3})"
        if args.files:
            line += (
                f"; {args.files} files: portal {summary['portal_many_s_median']:.2f} s, Loculus way "
                f"{summary['loculus_many_s_median']:.2f} s, {summary['many_speedup']:.2f}x"
            )
        if args.big_mib:
            line += (
                f"; {args.big_mib} MiB: portal {summary['portal_big_mb_s']:.0f} MB/s, curl PUTs "
                f"{summary['curl_big_puts_mb_s']:.0f} MB/s ({summary['big_ratio_vs_puts']:.2f}x), curl PUTs + complete "
                f"{summary['curl_big_mb_s']:.0f} MB/s ({summary['big_ratio_vs_puts_and_complete']:.2f}x); "
                f"PUT phase portal {summary['portal_big_put_window_s_median']:.2f} s vs curl "
                f"{summary['curl_big_put_window_s_median']:.2f} s ({summary['put_phase_ratio']:.2f}x); browser ceiling "
                f"{summary['ceiling_big_mb_s']:.0f} MB/s (portal {summary['portal_vs_ceiling']:.2f}x of it; it is "
                f"{summary['ceiling_ratio_vs_puts']:.2f}x curl PUTs); own steps (neither PUTs nor the S3 "
                f"server's completion) portal {summary['portal_big_own_steps_s_median']:.2f} s, ceiling "
                f"{summary['ceiling_big_own_steps_s_median']:.2f} s; S3 completion portal "
                f"{summary['portal_big_completion_s_median']:.2f} s, curl "
                f"{summary['curl_big_completion_s_median']:.2f} s; "
                f"Loculus way {summary['loculus_big_mb_s']:.0f} MB/s"
            )
        print(line)
    if args.json:
        write_json(args.json, result)
    return 0 if all(result["pass"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
