"""Run every benchmark (issues 8, 16, 17 and 20) and print one results table: `make bench`.

Run: .venv/bin/python bench/run_all.py [--runs 3] [--quick] [--out var/bench]
     [--only submit|uploads|validation|load|bombs|review]

Each measure runs in its own subprocess (so one's memory never counts against another's) and
writes JSON into --out; this script adds the machine's description and prints a Markdown table
(also written to <out>/summary.md). --quick uses small sizes, for trying the scripts out.
Exit status 1 if a target was missed. Not part of the test suite: the full run takes ~30 minutes.
The load measure (bench/load.py) needs a PostgreSQL server: $BENCH_DATABASE_URL, or
postgres://portal:portal@127.0.0.1:5432/submitportal_bench by default (see docs/benchmarks.md).
The bombs measure (bench/bombs.py) checks this tree only; its comparison with the code before issue 17
is `bench/bombs.py --before REF` (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import ROOT, log, machine, stop_on_signals, write_json
from load import endpoint_table

BENCH = ROOT / "bench"
STEP_TIMEOUT = 3600


def step(name: str, command: list[str]) -> int:
    log(f"{name}: {' '.join(command)}")
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT)
    try:
        code = process.wait(timeout=STEP_TIMEOUT)
    except (KeyboardInterrupt, subprocess.TimeoutExpired):
        # SIGTERM, not SIGKILL: the measure stops its own servers in its `finally` blocks.
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        raise
    log(f"{name}: exit {code} after {time.perf_counter() - started:.0f} s")
    return code


def row(measure: str, baseline: str, ours: str, theirs: str, ratio: str, target: str, ok: bool | None) -> str:
    verdict = "n/a" if ok is None else ("pass" if ok else "**FAIL**")
    return f"| {measure} | {baseline} | {ours} | {theirs} | {ratio} | {target} | {verdict} |"


def table(
    submit: dict[str, Any] | None,
    uploads: dict[str, Any] | None,
    validation: dict[str, Any] | None,
    load: dict[str, Any] | None = None,
    bombs: dict[str, Any] | None = None,
    review: dict[str, Any] | None = None,
) -> str:
    lines = [
        "| measure | baseline | portal (median) | baseline (median) | ratio | target | result |",
        "|---|---|---|---|---|---|---|",
    ]
    if submit:
        gib = submit["fasta_bytes"] / 2**30
        lines.append(
            row(
                f"1a submit step, {gib:.2f} GiB FASTA",
                "curl -F … to backend",
                f"{submit['submit_median_s']:.2f} s",
                f"{submit['curl_median_s']:.2f} s",
                f"{submit['submit_ratio']:.3f}",
                "≤ 1.15",
                submit["pass"]["submit_ratio"],
            )
        )
        lines.append(
            row(
                "1a portal worker peak RSS",
                "",
                f"{submit['rss_peak_sampled_mb']:.0f} MB",
                "",
                "",
                "< 150 MB",
                submit["pass"]["rss"],
            )
        )
        lines.append(
            row(
                "1b whole way (upload to portal + submit)",
                "curl -F … to backend",
                f"{submit['whole_median_s']:.2f} s",
                f"{submit['curl_median_s']:.2f} s",
                f"{submit['whole_ratio']:.3f}",
                "≤ 2.3",
                submit["pass"]["whole_ratio"],
            )
        )
        lines.append(
            row(
                "1b whole way against this machine's floor",
                "the disk alone + the submit step alone",
                f"{submit['whole_median_s']:.2f} s",
                f"{submit['floor_median_s']:.2f} s",
                f"{submit['floor_ratio']:.3f}",
                "≤ 1.2",
                submit["pass"]["floor_ratio"],
            )
        )
    if uploads:
        for delay, summary in uploads["delays"].items():
            delayed = delay != "0"
            lines.append(
                row(
                    f"2a {uploads['files']} files × {uploads['file_bytes'] // 1000} KB, delay {delay} ms",
                    "Loculus website's way, same browser",
                    f"{summary['portal_many_s_median']:.2f} s",
                    f"{summary['loculus_many_s_median']:.2f} s",
                    f"{summary['many_speedup']:.2f}× faster",
                    "≥ 4× faster" if delayed else "report",
                    summary["many_speedup"] >= 4.0 if delayed else None,
                )
            )
            if "portal_big_mb_s" in summary:
                mib = uploads["big_mib"]
                lines.append(
                    row(
                        f"2b {mib} MiB file, delay {delay} ms",
                        "curl PUTs (6 parallel) + complete",
                        f"{summary['portal_big_mb_s']:.0f} MB/s",
                        f"{summary['curl_big_mb_s']:.0f} MB/s",
                        f"{summary['big_ratio_vs_puts_and_complete']:.2f}",
                        "≥ 0.7",
                        summary["big_ratio_vs_puts_and_complete"] >= 0.7,
                    )
                )
                lines.append(
                    row(
                        f"2b {mib} MiB file, delay {delay} ms",
                        "curl PUTs only (upload left uncompleted)",
                        f"{summary['portal_big_mb_s']:.0f} MB/s",
                        f"{summary['curl_big_puts_mb_s']:.0f} MB/s",
                        f"{summary['big_ratio_vs_puts']:.2f}",
                        "≥ 0.7",
                        summary["big_ratio_vs_puts"] >= 0.7,
                    )
                )
                lines.append(
                    row(
                        f"2b {mib} MiB, PUT phase only (S3 proxy log), delay {delay} ms",
                        "curl PUTs (6 parallel)",
                        f"{summary['portal_big_put_window_s_median']:.2f} s",
                        f"{summary['curl_big_put_window_s_median']:.2f} s",
                        f"{summary['put_phase_ratio']:.2f}",
                        "≥ 0.7",
                        summary["put_phase_ratio"] >= 0.7,
                    )
                )
                lines.append(
                    row(
                        f"2b {mib} MiB file, delay {delay} ms: what the portal adds",
                        "browser ceiling (same browser, same PUTs, no portal)",
                        f"{summary['portal_big_mb_s']:.0f} MB/s",
                        f"{summary['ceiling_big_mb_s']:.0f} MB/s",
                        f"{summary['portal_vs_ceiling']:.2f}",
                        "report",
                        None,
                    )
                )
                lines.append(
                    row(
                        f"2b {mib} MiB file, delay {delay} ms: the portal's own steps (s)",
                        "the ceiling page's own steps",
                        f"{summary['portal_big_own_steps_s_median']:.2f} s",
                        f"{summary['ceiling_big_own_steps_s_median']:.2f} s",
                        f"S3 completion {summary['portal_big_completion_s_median']:.2f} s",
                        "report",
                        None,
                    )
                )
                lines.append(
                    row(
                        f"2b {mib} MiB file, delay {delay} ms: the browser ceiling itself",
                        "curl PUTs only",
                        f"{summary['ceiling_big_mb_s']:.0f} MB/s",
                        f"{summary['curl_big_puts_mb_s']:.0f} MB/s",
                        f"{summary['ceiling_ratio_vs_puts']:.2f}",
                        "report",
                        None,
                    )
                )
    if validation:
        lines.append(
            row(
                "3 validation, 100,000 rows (~300 MB)",
                "",
                f"{validation['mb_per_s']:.1f} MB/s, {validation['rss_mb']:.0f} MB RSS",
                "",
                "",
                "≥ 50 MB/s, < 200 MB",
                validation["ok"],
            )
        )
    if load:
        people = f"4 load: {load['users']} people × {load['files_per_person']} files, {load['database']}"
        slowest = max((r for r in load["endpoints"] if r["purpose"] == "page"), key=lambda r: r["p95_ms"])
        lines.append(row(f"{people}: errors", "", str(len(load["errors"])), "", "", "0", not load["errors"]))
        lines.append(
            row(f"{people}: lost updates", "", str(len(load["lost_updates"])), "", "", "0", not load["lost_updates"])
        )
        lines.append(
            row(
                f"{people}: slowest p95 (`{slowest['route']}`)",
                "",
                f"{slowest['p95_ms']:.0f} ms",
                "",
                "",
                "report",
                None,
            )
        )
        lines.append(
            row(
                f"{people}: portal peak RSS (master + workers)",
                "",
                f"{load['rss']['peak_sum_mb']:.0f} MB",
                "",
                "",
                "report",
                None,
            )
        )
    if bombs:
        for entry in bombs["results"].values():
            after = entry["after"]
            seconds = after.get("seconds")
            lines.append(
                row(
                    f"5 bomb: {entry['what']}",
                    "",
                    f"{'–' if seconds is None else f'{seconds:.2f} s'}, {after['peak_rss_mb']:.0f} MB",
                    "",
                    "",
                    "< 10 s, < 300 MB",
                    seconds is not None and seconds < 10 and after["peak_rss_mb"] < 300,
                )
            )
    if review:
        group = f"6 review, {review['entries']:,} pending"
        for key, words in (
            ("group_first_paint_cold", "group view, first paint (cold)"),
            ("group_first_paint_warm", "group view, first paint (warm)"),
            ("batch_first_paint", f"batch view of {review['batch']}, first paint"),
        ):
            found = review[key]
            ours = f"{found['median_ms']:.0f} ms, {found['backend_calls_median']:.0f} backend calls"
            lines.append(row(f"{group}: {words}", "", ours, "", "", "report", None))
        for key, words in (
            ("group_poll_204", "group view, poll 204"),
            ("group_poll_200", "group view, poll 200"),
            ("batch_poll_204", "batch view, poll 204"),
            ("batch_poll_200", "batch view, poll 200"),
        ):
            found = review[key]
            ours = f"{found['median_ms']:.0f} ms, portal CPU {found['portal_cpu_ms_per_request']:.0f} ms"
            lines.append(row(f"{group}: {words}", "", ours, "", "", "< 300 ms", found["median_ms"] < 300))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes: a try-out, not a measurement")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument(
        "--only", choices=["submit", "uploads", "validation", "load", "bombs", "review"], action="append"
    )
    args = parser.parse_args()
    stop_on_signals()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    wanted = set(args.only or ["submit", "uploads", "validation", "load", "bombs", "review"])
    python = sys.executable
    runs = ["--runs", str(args.runs)]
    info = {"machine_before": machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    codes: dict[str, int] = {}
    results: dict[str, Any] = {}
    if "submit" in wanted:
        size = ["--gib", "0.05"] if args.quick else []
        codes["submit"] = step(
            "measure 1", [python, str(BENCH / "submit.py"), *runs, *size, "--json", str(out / "submit.json")]
        )
        results["submit"] = json.loads((out / "submit.json").read_text()) if (out / "submit.json").exists() else None
    if "uploads" in wanted:
        size = ["--files", "50", "--big-mib", "30"] if args.quick else []
        command = [python, str(BENCH / "browser_uploads.py"), *runs, *size, "--json", str(out / "uploads.json")]
        codes["uploads"] = step("measure 2", command)
        path = out / "uploads.json"
        results["uploads"] = json.loads(path.read_text()) if path.exists() else None
    if "validation" in wanted:
        log(f"measure 3: {python} bench/validation.py {' '.join(runs)}")
        done = subprocess.run(
            [python, str(BENCH / "validation.py"), *runs],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
            check=False,
        )
        print(done.stdout, end="", flush=True)
        codes["validation"] = done.returncode
        match = re.search(r"median ([\d.]+) MB/s over ([\d.]+) MB uncompressed; peak RSS ([\d.]+) MB", done.stdout)
        results["validation"] = (
            {"mb_per_s": float(match[1]), "mb": float(match[2]), "rss_mb": float(match[3]), "ok": done.returncode == 0}
            if match
            else None
        )
    if "load" in wanted:
        # One full run: 20 people at once is the measure itself, repeating it would not make a median.
        size = ["--users", "4", "--entries", "2", "--files-per-entry", "5"] if args.quick else []
        path = out / "load.json"
        path.unlink(missing_ok=True)  # a file from an earlier run must not stand in for this one
        codes["load"] = step("measure 4", [python, str(BENCH / "load.py"), *size, "--json", str(path)])
        results["load"] = json.loads(path.read_text()) if path.exists() else None
    if "bombs" in wanted:
        path = out / "bombs.json"
        path.unlink(missing_ok=True)
        bombs = [python, str(BENCH / "bombs.py"), "--json", str(path)]
        if args.quick:
            bombs += ["--only", "gz-blank-300m", "--only", "xlsx-laughs", "--only", "tsv-100x1m"]
        codes["bombs"] = step("measure 5", bombs)
        results["bombs"] = json.loads(path.read_text()) if path.exists() else None
    if "review" in wanted:
        size = ["--entries", "2000", "--polls", "10", "--profile", "3"] if args.quick else []
        path = out / "review.json"
        path.unlink(missing_ok=True)
        codes["review"] = step("measure 6", [python, str(BENCH / "review.py"), *runs, *size, "--json", str(path)])
        results["review"] = json.loads(path.read_text()) if path.exists() else None
    info["machine_after"] = machine()
    info["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    summary = table(
        results.get("submit"),
        results.get("uploads"),
        results.get("validation"),
        results.get("load"),
        results.get("bombs"),
        results.get("review"),
    )
    if results.get("load"):
        summary += "\n\nMeasure 4 per endpoint:\n\n" + endpoint_table(results["load"])
    write_json(out / "all.json", {**info, "results": results, "exit_codes": codes})
    (out / "summary.md").write_text(summary + "\n", encoding="utf-8")
    print("\n" + summary)
    print(f"\nload average before: {info['machine_before']['loadavg']}; after: {info['machine_after']['loadavg']}")
    print(f"JSON and the table: {out}/")
    return 0 if all(code == 0 for code in codes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
