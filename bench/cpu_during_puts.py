"""Diagnosis for measure 2b: the CPU each kind of process uses while the 512 MiB file's bytes move.

Run: .venv/bin/python bench/cpu_during_puts.py [--rounds 3] [--s3 ministack|moto] [--big-mib 512]

Not part of `make bench`. Starts the servers as bench/browser_uploads.py does (no delay) and, per
round, uploads the big file with the browser ceiling page, the portal page and curl, while a thread
reads every process's user + system time from /proc/<pid>/stat and the machine's busy time from
/proc/stat every 0.1 s. For each upload it prints the bytes phase (first PUT's start to last PUT's
end, from the S3 proxy's log) and the CPU-seconds spent in it by Chromium, the sandbox (backend, S3
server and its proxy), the portal and the rest. A process that ends inside the window (curl) is not
counted by name; the machine's busy time still includes it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import browser_uploads as bu
from common import BENCH_TMP, stop_on_signals

TICK = os.sysconf("SC_CLK_TCK")
Sample = tuple[float, int, dict[tuple[str, str], int]]  # wall time, machine busy jiffies, (pid, kind) → jiffies


def kind_of(command: str) -> str:
    if "chrom" in command:
        return "chromium"
    if "-m sandbox" in command or "ministack" in command:
        return "sandbox"
    if "gunicorn" in command:
        return "portal"
    return "other"


def sample() -> Sample:
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    busy = sum(fields) - fields[3]
    per_process: dict[tuple[str, str], int] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        per_process[(pid, kind_of(command))] = int(stat[11]) + int(stat[12])
    return time.time(), busy, per_process


class Sampler:
    def __init__(self) -> None:
        self.samples: list[Sample] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stopped.wait(0.1):
            self.samples.append(sample())

    def window(self, start: float, end: float) -> tuple[float, float, dict[str, float]]:
        """(Seconds sampled, machine CPU-seconds, CPU-seconds per kind) over the samples around start..end."""
        before = max((s for s in self.samples if s[0] <= start), key=lambda s: s[0])
        after = min((s for s in self.samples if s[0] >= end), key=lambda s: s[0])
        kinds: dict[str, float] = {}
        for key, jiffies in after[2].items():
            kinds[key[1]] = kinds.get(key[1], 0) + (jiffies - before[2].get(key, 0)) / TICK
        return after[0] - before[0], (after[1] - before[1]) / TICK, kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--s3", choices=["moto", "ministack"], default="ministack")
    parser.add_argument("--big-mib", type=int, default=512)
    args = parser.parse_args()
    stop_on_signals()
    work = Path(tempfile.mkdtemp(prefix="bench-cpu-", dir=BENCH_TMP))
    sampler = Sampler()
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, work, ignore_errors=True)
        big, parts = bu.big_file(work, args.big_mib)
        running = stack.enter_context(bu.servers(work, args.s3))
        sb, page = running.sb, running.page
        sampler.thread.start()
        stack.callback(sampler.stopped.set)
        for number in range(1, args.rounds + 1):
            for kind in ("ceiling", "portal", "curl"):
                bu.fresh(sb, 0)
                bu.big_upload(kind, page, running.front.url, sb, running.back.url, big, parts)
                first, last = bu.put_span(sb)
                time.sleep(0.3)  # a sample after the window
                wall, busy, kinds = sampler.window(first, last)
                named = ", ".join(f"{name} {seconds:.2f}" for name, seconds in sorted(kinds.items()) if seconds)
                print(
                    f"round {number}, {kind}: bytes phase {last - first:.2f} s; in the {wall:.2f} s sampled the "
                    f"machine was busy {busy:.2f} CPU-s ({busy / wall:.2f} of {os.cpu_count()} cores): {named}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
