"""Measure 1: a proxied submit of a 1 GiB FASTA and its metadata, against curl straight to the backend.

Run: .venv/bin/python bench/submit.py [--runs 3] [--gib 1.0] [--json out.json]

The sandbox backend is switched to its benchmark sink (`POST /_sandbox/sink`): the submit body goes
to disk unparsed at disk speed, and `/_sandbox/last-receive` tells how long receiving took, so
a slow receiver cannot hide the portal's cost. Per run, in this order:

* baseline: `curl -F metadataFile=@… -F sequenceFile=@… -F groupId=1 -F dataUseTermsType=OPEN` with
  the bearer token from the password grant, straight to `{backend}/ebola-sudan/submit`;
* portal, the whole way: curl uploads the FASTA, then the metadata, to the portal's bulk endpoints
  as the bulk page's script does (`POST /drafts/<id>/bulk/sequences|metadata`, the body is the file,
  `Content-Type: application/octet-stream`, its name in `X-File-Name`; the metadata upload checks both files),
  then the submit form is posted (`confirm_open=yes`), which streams the draft's files to the sink.
  "Submit step alone" is that last POST.

The whole way is also set against this machine's **floor**, measured in the same run: the disk alone
(the same FASTA bytes copied in the kernel into a new file beside the portal's uploads: no network,
no Python) plus the submit step alone. Those two the whole way cannot do without, since the draft
keeps the file between its upload and its submit; everything else (the network receive, the
checks, the metadata) is what the portal adds on top. Target: whole way ≤ 1.2 times the floor (the median
of the runs' ratios). For comparison the floor with curl's direct submit instead is printed too.

Memory, not only the disk: this VM hands pages that stayed free for about two seconds back to its
host (virtio-balloon free page reporting), and the host backs them again only when they are next
written, at about 2 s per GiB. So a new 1 GiB file costs 0.3 s when its page-cache pages were freed
just before and 2-3 s when they come from memory the host took back, and which one a step gets
decides the ratio more than anything the portal does. `--memory recycled` (the default, like a
server that has been up for a while) frees 1 GiB right before each of the two timed writes of a new
file, the disk alone and the FASTA upload (the previous run's draft or a spare copy, then the copy
for the disk alone), so both write into recycled pages. `--memory fresh` frees nothing during the
runs and waits 3 s before each, so both write into pages the host has to back first.

Peak RSS of the portal's one gunicorn worker is sampled during each step, and the CPU time of each
of its threads during the FASTA upload: the receive (splice) and the check that follows the file
as it arrives should both be busy at once.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import (
    BENCH_TMP,
    HTTP_TIMEOUT,
    RssSampler,
    cpu_seconds,
    csrf_token,
    free_port,
    log,
    median,
    portal,
    sandbox,
    signed_in_session,
    stop_on_signals,
    write_json,
)

ORGANISM = "ebola-sudan"
GENOME_LENGTH = 18_900  # about an Ebola Sudan genome
LINE_WIDTH = 80
VARIANTS = 64
STEP_TIMEOUT = 1800  # seconds for any one transfer of ~1 GiB
TARGET_SUBMIT_RATIO = 1.15
TARGET_WHOLE_RATIO = 2.3
TARGET_FLOOR_RATIO = 1.2
TARGET_RSS_MB = 150.0
FRESH_WAIT = 3.0  # seconds: longer than the VM's free page reporting delay (2 s)


def generate(folder: Path, size: int) -> tuple[Path, Path, int]:
    """A FASTA of at least `size` bytes (80-column lines) and its metadata; the same bytes every time."""
    rng = random.Random(20261128)  # noqa: S311 - reproducible test data
    genome = "".join(rng.choice("ACGT") for _ in range(GENOME_LENGTH + VARIANTS * 7))
    wrapped = []
    for variant in range(VARIANTS):
        sequence = genome[variant * 7 : variant * 7 + GENOME_LENGTH]
        wrapped.append(
            "".join(sequence[i : i + LINE_WIDTH] + "\n" for i in range(0, GENOME_LENGTH, LINE_WIDTH)).encode()
        )
    fasta = folder / "sequences.fasta"
    metadata = folder / "metadata.tsv"
    written = 0
    entries = 0
    with open(fasta, "wb") as out, open(metadata, "w", encoding="utf-8") as meta:
        meta.write("id\tsampleCollectionDate\tgeoLocCountry\n")
        while written < size:
            entry = f"sample_{entries:06d}"
            header = f">{entry}\n".encode()
            out.write(header)
            out.write(wrapped[entries % VARIANTS])
            written += len(header) + len(wrapped[entries % VARIANTS])
            meta.write(f"{entry}\t2024-{entries % 12 + 1:02d}-{entries % 28 + 1:02d}\tUganda\n")
            entries += 1
    return metadata, fasta, entries


def settle() -> None:
    """Write dirty pages out before a timed step, so it does not pay for the previous step's writes."""
    os.sync()
    time.sleep(0.5)


def copy_in_kernel(source: Path, target: Path) -> float:
    """Seconds to copy `source` into the new file `target` with copy_file_range/sendfile, no user-space copy."""
    started = time.perf_counter()
    with open(source, "rb") as src, open(target, "wb") as out:
        size = os.fstat(src.fileno()).st_size
        sent = 0
        while sent < size:
            count = os.sendfile(out.fileno(), src.fileno(), sent, size - sent)
            if not count:
                break
            sent += count
    return time.perf_counter() - started


def before_new_file(memory: str, free: Callable[[], None]) -> None:
    """Right before a timed write of a new 1 GiB file: give it recycled pages (`free` them now, let the
    disk discard their blocks) or pages the host must back (free nothing, wait past the reporting delay)."""
    if memory == "recycled":
        free()
        os.sync()
    else:
        time.sleep(FRESH_WAIT)


class ThreadCpuSampler:
    """The CPU seconds each thread of a process spent during a step (sampled every 20 ms, so threads that
    end within the step are counted too, up to their last sample)."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid = pid
        self.interval = interval
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self, initial: bool = False) -> None:
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            try:
                seconds = cpu_seconds_of(task / "stat")
            except (OSError, ValueError):
                continue  # the thread ended
            tid = int(task.name)
            self.first.setdefault(tid, seconds if initial else 0.0)  # threads born during the step start at 0
            self.last[tid] = seconds

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> ThreadCpuSampler:
        self._sample(initial=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sample()

    def busiest(self, count: int = 2) -> list[float]:
        """The CPU seconds of the `count` busiest threads during the step, busiest first."""
        spent = sorted((self.last[tid] - self.first[tid] for tid in self.last), reverse=True)
        return (spent + [0.0] * count)[:count]


def cpu_seconds_of(stat: Path) -> float:
    fields = stat.read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def delete_draft(session: Any, url: str, draft: str, csrf: str) -> None:
    deleted = session.post(
        f"{url}/drafts/{draft}/delete", headers={"X-CSRFToken": csrf}, allow_redirects=False, timeout=HTTP_TIMEOUT
    )
    assert deleted.status_code == 302, deleted.status_code


def raw_upload(path: Path) -> list[str]:
    """curl arguments that send a file as the bulk page's script does: the body is the file (streamed)."""
    content_type = "Content-Type: application/octet-stream"
    return ["-X", "POST", "-T", str(path), "-H", content_type, "-H", f"X-File-Name: {path.name}"]


def curl(*args: str) -> tuple[float, str]:
    """Run curl; return its own total time and the body it printed."""
    marker = "\n__TIME__"
    done = subprocess.run(
        ["curl", "-sS", "--fail-with-body", "-H", "Expect:", "-w", marker + "%{time_total}", *args],
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"curl failed ({done.returncode}): {done.stderr.strip()} {done.stdout[-500:]}")
    body, _, seconds = done.stdout.rpartition(marker)
    return float(seconds), body


def run(runs: int, size: int, memory: str) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-submit-", dir=BENCH_TMP))
    try:
        started = time.perf_counter()
        metadata, fasta, entries = generate(work, size)
        fasta_bytes = fasta.stat().st_size
        log(
            f"generated {entries:,} entries: FASTA {fasta_bytes / 2**30:.3f} GiB, metadata "
            f"{metadata.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s"
        )
        port = free_port()
        origin = f"http://127.0.0.1:{port}"
        with sandbox(origin) as sb, portal(sb, port) as site:
            token = sb.access_token("testuser")
            (worker,) = site.worker_pids()
            session = signed_in_session(site.url)
            rows = []
            curl_submit = [
                "-H", f"Authorization: Bearer {token}",
                "-F", f"metadataFile=@{metadata}", "-F", f"sequenceFile=@{fasta}",
                "-F", "groupId=1", "-F", "dataUseTermsType=OPEN",
                f"{sb.backend}/{ORGANISM}/submit",
            ]  # fmt: skip
            # The sink records nothing, so one reset serves every run. One untimed body first: the
            # sink overwrites its file in place, and the first body would pay for allocating it.
            sb.reset()
            sb.admin("POST", "sink", {"enabled": True})
            curl(*curl_submit)
            spare = site.folder / "tmp" / "spare.bin"  # freed for the first run's disk alone
            copy_in_kernel(fasta, spare)
            kept: list[Path] = []  # --memory fresh: the copies for the disk alone, deleted at the end
            previous_draft: str | None = None
            for number in range(1, runs + 1):
                settle()
                # Baseline: the same multipart request, straight to the backend.
                curl_seconds, _ = curl(*curl_submit)
                curl_receive = sb.admin("GET", "last-receive")
                assert curl_receive["complete"], curl_receive

                # The portal: a new bulk draft, its files uploaded with curl, then the submit form.
                page = session.get(f"{site.url}/{ORGANISM}/submission/bulk/", timeout=HTTP_TIMEOUT)
                match = re.search(r"/submission/bulk/([0-9a-f-]{36})/$", page.url)
                assert match, page.url
                draft = match.group(1)
                csrf = csrf_token(session, page.text)
                cookies = "; ".join(f"{name}={value}" for name, value in session.cookies.items())
                upload_args = ["-H", f"Cookie: {cookies}", "-H", f"X-CSRFToken: {csrf}", "-o", "/dev/null"]
                # The disk's share of receiving the FASTA: the same bytes copied in the kernel into a new
                # file beside the portal's uploads (no network, no Python per byte).
                settle()
                if previous_draft is None:
                    before_new_file(memory, spare.unlink)
                else:
                    before_new_file(memory, functools.partial(delete_draft, session, site.url, previous_draft, csrf))
                floor_copy = site.folder / "tmp" / f"disk-floor-{number}.bin"
                disk_floor = copy_in_kernel(fasta, floor_copy)
                settle()
                if memory == "fresh":
                    kept.append(floor_copy)
                before_new_file(memory, floor_copy.unlink)
                upload_cpu = cpu_seconds(worker)
                with RssSampler([worker]) as upload_rss:
                    with ThreadCpuSampler(worker) as threads:
                        t0 = time.perf_counter()
                        curl(*upload_args, *raw_upload(fasta), f"{site.url}/drafts/{draft}/bulk/sequences")
                        t1 = time.perf_counter()
                    fasta_cpu = cpu_seconds(worker) - upload_cpu
                    curl(*upload_args, *raw_upload(metadata), f"{site.url}/drafts/{draft}/bulk/metadata")
                    t2 = time.perf_counter()
                upload_cpu = cpu_seconds(worker) - upload_cpu
                form = {
                    "data_use_terms": "OPEN",
                    "restricted_until": "",
                    "confirmation-no-pii": "on",
                    "confirmation-INSDC-upload-terms": "on",
                    "confirm_open": "yes",
                }
                settle()
                with RssSampler([worker]) as submit_rss:
                    t3 = time.perf_counter()
                    answer = session.post(
                        f"{site.url}/{ORGANISM}/submission/bulk/{draft}/",
                        data=form,
                        headers={"X-CSRFToken": csrf},
                        allow_redirects=False,
                        timeout=STEP_TIMEOUT,
                    )
                    t4 = time.perf_counter()
                if answer.status_code != 302 or not answer.headers.get("Location", "").endswith("/result"):
                    raise RuntimeError(f"the submit was not accepted ({answer.status_code}): {answer.text[:2000]}")
                if memory == "recycled":
                    previous_draft = draft  # its pages are freed right before the next run's disk alone
                portal_receive = sb.admin("GET", "last-receive")
                assert portal_receive["complete"], portal_receive
                whole = (t2 - t0) + (t4 - t3)
                floor = disk_floor + (t4 - t3)
                busiest = threads.busiest(2)
                row = {
                    "run": number,
                    "curl_s": curl_seconds,
                    "curl_body_bytes": curl_receive["bytes"],
                    "sink_receive_curl_s": curl_receive["seconds"],
                    "disk_floor_fasta_s": disk_floor,
                    "upload_fasta_s": t1 - t0,
                    "upload_worker_cpu_s": upload_cpu,
                    "upload_fasta_worker_cpu_s": fasta_cpu,
                    "upload_fasta_cores_busy": fasta_cpu / (t1 - t0),
                    "upload_fasta_busiest_threads_cpu_s": busiest,
                    "upload_metadata_and_check_s": t2 - t1,
                    "submit_s": t4 - t3,
                    "whole_s": whole,
                    "floor_s": floor,
                    "floor_ratio": whole / floor,
                    "floor_curl_s": disk_floor + curl_seconds,
                    "floor_curl_ratio": whole / (disk_floor + curl_seconds),
                    "portal_body_bytes": portal_receive["bytes"],
                    "sink_receive_portal_s": portal_receive["seconds"],
                    "rss_upload_mb": upload_rss.peak_mb,
                    "rss_submit_mb": submit_rss.peak_mb,
                }
                rows.append(row)
                log(
                    f"run {number}: curl {curl_seconds:.2f} s (sink {curl_receive['seconds']:.2f} s); portal submit "
                    f"{row['submit_s']:.2f} s (sink {portal_receive['seconds']:.2f} s), whole {whole:.2f} s "
                    f"(FASTA upload {row['upload_fasta_s']:.2f} s, metadata + check "
                    f"{row['upload_metadata_and_check_s']:.2f} s; worker CPU {upload_cpu:.2f} s); the disk alone "
                    f"{disk_floor:.2f} s, floor {floor:.2f} s, whole / floor {whole / floor:.2f}; during the FASTA "
                    f"upload worker CPU {fasta_cpu:.2f} s = {row['upload_fasta_cores_busy']:.2f} cores, busiest "
                    f"threads {busiest[0]:.2f} + {busiest[1]:.2f} s; RSS upload {upload_rss.peak_mb:.0f} MB, "
                    f"submit {submit_rss.peak_mb:.0f} MB"
                )
            for copy in kept:
                copy.unlink()
            hwm = RssSampler([worker]).hwm_mb()
            sb.admin("POST", "sink", {"enabled": False})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    curl_median = median([r["curl_s"] for r in rows])
    submit_median = median([r["submit_s"] for r in rows])
    whole_median = median([r["whole_s"] for r in rows])
    rss_peak = max(max(r["rss_submit_mb"], r["rss_upload_mb"]) for r in rows)
    floor_ratio = median([r["floor_ratio"] for r in rows])
    return {
        "fasta_bytes": fasta_bytes,
        "entries": entries,
        "runs": rows,
        "curl_median_s": curl_median,
        "submit_median_s": submit_median,
        "whole_median_s": whole_median,
        "sink_receive_curl_median_s": median([r["sink_receive_curl_s"] for r in rows]),
        "sink_receive_portal_median_s": median([r["sink_receive_portal_s"] for r in rows]),
        "upload_fasta_median_s": median([r["upload_fasta_s"] for r in rows]),
        "disk_floor_fasta_median_s": median([r["disk_floor_fasta_s"] for r in rows]),
        "upload_metadata_and_check_median_s": median([r["upload_metadata_and_check_s"] for r in rows]),
        "submit_ratio": submit_median / curl_median,
        "whole_ratio": whole_median / curl_median,
        "floor_median_s": median([r["floor_s"] for r in rows]),
        "floor_ratio": floor_ratio,
        "floor_curl_ratio": median([r["floor_curl_ratio"] for r in rows]),
        "upload_fasta_cores_busy_median": median([r["upload_fasta_cores_busy"] for r in rows]),
        "rss_peak_sampled_mb": rss_peak,
        "rss_worker_hwm_mb": hwm,
        "targets": {
            "submit_ratio": TARGET_SUBMIT_RATIO,
            "whole_ratio": TARGET_WHOLE_RATIO,
            "floor_ratio": TARGET_FLOOR_RATIO,
            "rss_mb": TARGET_RSS_MB,
        },
        "pass": {
            "submit_ratio": submit_median / curl_median <= TARGET_SUBMIT_RATIO,
            "whole_ratio": whole_median / curl_median <= TARGET_WHOLE_RATIO,
            "floor_ratio": floor_ratio <= TARGET_FLOOR_RATIO,
            "rss": rss_peak < TARGET_RSS_MB,
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--gib", type=float, default=1.0, help="FASTA size in GiB (small values for a quick try)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument(
        "--memory",
        choices=["recycled", "fresh"],
        default="recycled",
        help="which pages the two timed writes of a new file get (see the module's docstring)",
    )
    args = parser.parse_args()
    stop_on_signals()
    result = run(args.runs, int(args.gib * 2**30), args.memory)
    result["memory"] = args.memory
    print(
        f"submit step: portal {result['submit_median_s']:.2f} s vs curl {result['curl_median_s']:.2f} s, "
        f"ratio {result['submit_ratio']:.3f} (target <= {TARGET_SUBMIT_RATIO})\n"
        f"whole way: {result['whole_median_s']:.2f} s, ratio {result['whole_ratio']:.3f} "
        f"(target <= {TARGET_WHOLE_RATIO})\n"
        f"whole way against this machine's floor (the disk alone + the submit step alone, "
        f"{result['floor_median_s']:.2f} s): ratio {result['floor_ratio']:.3f} (target <= {TARGET_FLOOR_RATIO}); "
        f"with curl's direct submit in the floor instead {result['floor_curl_ratio']:.3f}\n"
        f"cores busy in the worker during the FASTA upload: {result['upload_fasta_cores_busy_median']:.2f}\n"
        f"portal worker peak RSS {result['rss_peak_sampled_mb']:.0f} MB (target < {TARGET_RSS_MB:.0f})"
    )
    if args.json:
        write_json(args.json, result)
    return 0 if all(result["pass"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
