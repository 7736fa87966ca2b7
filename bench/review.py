"""Issue 20: what the review page costs for a group with 10,000 pending entries.

Run: .venv/bin/python bench/review.py [--entries 10000] [--batch 200] [--awaiting 100] [--runs 5]
     [--polls 50] [--profile 10] [--json var/bench/review.json]     (~1.5 min for 10,000 entries)

The portal runs as deployed (gunicorn gthread, 1 worker x 8 threads, DEBUG off, SQLite; its log at
INFO so that it logs every backend call) against the sandbox, everything on 127.0.0.1. Setup, with
processing instant (POST /_sandbox/config processing_delay_seconds=0):

1. testuser's group 1 gets `entries - batch - awaiting` entries of ebola-sudan, submitted straight to the
   sandbox's backend in chunks of 1,000 with testuser's token: every 10th has a letter J in its sequence
   (an error), every 10th+1 a date of only a month, "2024-03" (a warning); the rest pass. One
   get-sequences call then moves them all to PROCESSED;
2. processing is held (delay 3,600 s), and one real bulk submit of `batch` entries goes through the
   portal as the bulk page sends it (the draft, the metadata and FASTA as raw bodies, the form with the
   terms, both acknowledgements and the Open terms confirmed): its result page is the batch view;
3. `awaiting` more entries straight to the backend. The group now holds `entries` pending entries, of
   which `batch + awaiting` await processing, so both views keep polling.

Measures, each over --runs requests (median, p95, max), one request at a time, client-side wall time:

a) first paint of the group view (GET of the full page, 50 a page): cold = a page of entries the portal
   has not seen yet (a different page number each run, so every processed entry's get-data-to-edit is
   asked for: the details cache is empty for them), warm = the same page again at once, and "again" =
   all --runs pages once more after all were seen (what the details cache holds); with the number of
   backend calls each made and the time the backend took for them (the portal's "backend GET … in N ms"
   log lines between the request's start and end, summed: 8 run at once) and CPU per request;
b) a refresh of the group view: the poll the page sends every 2 s (HX-Request, ?…&poll=1&state=…&digest=…)
   when nothing changed (204: the group's counts alone are read, and at most every 30 s the list) and
   when something changed (200: a stale state and no digest, so the list is read and the live region
   rendered; the entries' details are cached, as on a page already seen);
c) the same for the batch view (the result page of the batch), first paint and its two polls;
d) CPU seconds per refresh, over --polls polls of each kind: the portal's worker (user + system) and
   the sandbox's process (the backend's own cost, which is not ours and differs from Loculus's);
e) once: the batch poll that finds the batch processed (processing released: the sandbox processes the
   awaiting entries, the portal fetches the details of the page's 50 entries);
f) --profile N: before e), where a batch poll's time goes: review.batch_listing run N times in this
   process with Django set up as the portal's (same SQLite file, so the same details cache) under
   cProfile, and its steps timed apart (the fetch of get-sequences, json.loads, client.get_sequences),
   besides the read a poll could make instead (get-sequences of the group's unprocessed entries only);
   and what a 200 poll adds to a 204: the group view's live region (50 cards) rendered N times, timed,
   then N times under cProfile.

The sandbox is not Loculus: its get-sequences filters a Python list and serialises JSON per call, where
Loculus queries PostgreSQL; its speed is not Loculus's. Writes --json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urljoin

import requests
from common import (
    HTTP_TIMEOUT,
    ROOT,
    Portal,
    cpu_seconds,
    csrf_token,
    free_port,
    log,
    machine,
    median,
    portal,
    sandbox,
    signed_in_session,
    stop_on_signals,
    write_json,
)
from load import percentile

from sandbox.launcher import RunningSandbox
from tests.sandbox.helpers import Backend, fasta, tsv

ORGANISM = "ebola-sudan"
GROUP = 1
CHUNK = 1000
PAGE_SIZE = 50
HOLD_SECONDS = 3600.0  # processing delay that keeps the last entries unprocessed for the whole run
SETUP_TIMEOUT = 600.0
HEADER = ["id", "sampleCollectionDate", "geoLocCountry"]
BACKEND_CALL = re.compile(r"backend (GET|POST) (\S+) -> (\d+) in (\d+) ms")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ALL_FILTERS = "f=1&awaiting=1&errors=1&noIssues=1&warnings=1"


def rows(prefix: str, start: int, count: int) -> tuple[str, str]:
    """Metadata and FASTA of `count` entries: every 10th with an error (J), every 10th+1 a warning (a month)."""
    lines, records = [], []
    for i in range(start, start + count):
        ident = f"{prefix}{i:05d}"
        lines.append([ident, "2024-03" if i % 10 == 1 else "2024-03-18", "Uganda"])
        records.append((ident, ("ACGJ" if i % 10 == 0 else "ACGT") * 25))
    return tsv(HEADER, *lines), fasta(*records)


def submit_direct(backend: Backend, prefix: str, count: int) -> None:
    for start in range(0, count, CHUNK):
        metadata, sequences = rows(prefix, start, min(CHUNK, count - start))
        response = backend.submit(ORGANISM, metadata, sequences, group_id=GROUP)
        if response.status_code != 200:
            raise RuntimeError(f"the backend refused chunk {start}: {response.status_code} {response.text[:300]}")
        log(f"  {prefix}: {start + min(CHUNK, count - start)} of {count} submitted")


def status_counts(backend: Backend) -> dict[str, int]:
    """The group's counts by status (one get-sequences call of size 0: it also moves processing along)."""
    response = backend.get(f"/{ORGANISM}/get-sequences?groupIdsFilter={GROUP}&page=0&size=0")
    response.raise_for_status()
    return dict(response.json()["statusCounts"])


def bulk_submit(session: requests.Session, site: str, count: int) -> str:
    """One bulk submit of `count` entries through the portal, as the bulk page sends it; the result page's URL."""
    opened = session.get(f"{site}/{ORGANISM}/submission/bulk/", allow_redirects=False, timeout=HTTP_TIMEOUT)
    match = UUID.search(opened.headers.get("Location", ""))
    if opened.status_code != 302 or not match:
        raise RuntimeError(f"the bulk page did not make a draft ({opened.status_code})")
    draft = match.group(0)
    page_url = urljoin(site + "/", opened.headers["Location"])
    csrf = csrf_token(session, session.get(page_url, timeout=HTTP_TIMEOUT).text)
    metadata, sequences = rows("batch", 0, count)
    for kind, name, body in (("metadata", "batch.tsv", metadata), ("sequences", "batch.fasta", sequences)):
        headers = {
            "HX-Request": "true",
            "HX-Target": "data-files",
            "HX-Current-URL": page_url,
            "X-CSRFToken": csrf,
            "Content-Type": "application/octet-stream",
            "X-File-Name": quote(name, safe=""),
        }
        sent = session.post(f"{site}/drafts/{draft}/bulk/{kind}", data=body.encode(), headers=headers, timeout=60)
        if sent.status_code != 200:
            raise RuntimeError(f"the portal refused the {kind} file: {sent.status_code} {sent.text[:300]}")
    form = {
        "csrfmiddlewaretoken": csrf,
        "data_use_terms": "OPEN",
        "restricted_until": "",
        "confirmation-no-pii": "on",
        "confirmation-INSDC-upload-terms": "on",
        "confirm_open": "yes",
    }
    answer = session.post(
        f"{site}/{ORGANISM}/submission/bulk/{draft}/", data=form, allow_redirects=False, timeout=SETUP_TIMEOUT
    )
    location = answer.headers.get("Location", "")
    if answer.status_code != 302 or not location.endswith("/result"):
        raise RuntimeError(f"the bulk submit was not accepted ({answer.status_code}): {answer.text[:500]}")
    return urljoin(site + "/", location)


def poll_of(page_html: str) -> tuple[str, str]:
    """(the poll's URL, the query it adds: state and digest) as the page's #review-live element carries them."""
    live = re.search(r'<section id="review-live"[^>]*>', page_html, re.S)
    if not live:
        raise RuntimeError("no #review-live region on the page")
    url = re.search(r'hx-get="([^"]+)"', live.group(0))
    vals = re.search(r"hx-vals='([^']+)'", live.group(0))
    if not url or not vals:
        raise RuntimeError("the review region does not poll: nothing awaits processing?")
    return html.unescape(url.group(1)), urlencode(json.loads(html.unescape(vals.group(1))))


# --- Measuring -----------------------------------------------------------------------------------------


@dataclass
class Sample:
    seconds: float
    status: int
    backend_calls: int
    backend_ms: float
    body_bytes: int


@dataclass
class Series:
    samples: list[Sample] = field(default_factory=list)
    portal_cpu_s: float | None = None  # per request
    sandbox_cpu_s: float | None = None

    def summary(self) -> dict[str, Any]:
        ms = [s.seconds * 1000 for s in self.samples]
        return {
            "n": len(ms),
            "median_ms": median(ms),
            "p95_ms": percentile(ms, 0.95),
            "max_ms": max(ms),
            "statuses": sorted({s.status for s in self.samples}),
            "backend_calls_median": median([s.backend_calls for s in self.samples]),
            "backend_ms_median": median([s.backend_ms for s in self.samples]),
            "body_kb_median": median([s.body_bytes / 1000 for s in self.samples]),
            "portal_cpu_ms_per_request": None if self.portal_cpu_s is None else self.portal_cpu_s * 1000,
            "sandbox_cpu_ms_per_request": None if self.sandbox_cpu_s is None else self.sandbox_cpu_s * 1000,
        }


class Meter:
    """Timed requests, one at a time, with the backend calls the portal logged meanwhile."""

    def __init__(self, site: Portal, sb: RunningSandbox, session: requests.Session) -> None:
        self.portal = site
        self.sandbox = sb
        self.session = session

    def portal_cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.portal.worker_pids())

    def sandbox_cpu(self) -> float:
        return cpu_seconds(self.sandbox.process.pid)

    def get(self, url: str, *, htmx: bool = False, expect: int | None = 200) -> tuple[Sample, str]:
        headers = {"HX-Request": "true", "HX-Target": "review-live"} if htmx else {}
        offset = self.portal.log_path.stat().st_size
        started = time.perf_counter()
        response = self.session.get(url, headers=headers, timeout=HTTP_TIMEOUT, allow_redirects=False)
        seconds = time.perf_counter() - started
        if expect is not None and response.status_code != expect:
            raise RuntimeError(f"GET {url}: {response.status_code}, not {expect}: {response.text[:300]}")
        with self.portal.log_path.open("rb") as lines:
            lines.seek(offset)
            calls = BACKEND_CALL.findall(lines.read().decode(errors="replace"))
        backend_ms = sum(float(call[3]) for call in calls)
        sample = Sample(seconds, response.status_code, len(calls), backend_ms, len(response.content))
        return sample, response.text

    def series(self, count: int, request: Callable[[int], Sample], *, cpu: bool = False) -> Series:
        result = Series()
        portal_before, sandbox_before = self.portal_cpu(), self.sandbox_cpu()
        for run in range(count):
            result.samples.append(request(run))
        if cpu:
            result.portal_cpu_s = (self.portal_cpu() - portal_before) / count
            result.sandbox_cpu_s = (self.sandbox_cpu() - sandbox_before) / count
        return result


def measure(args: argparse.Namespace) -> dict[str, Any]:
    direct = args.entries - args.batch - args.awaiting
    if direct < 0:
        raise SystemExit("--entries must be at least --batch + --awaiting")
    port = free_port()
    results: dict[str, Any] = {
        "entries": args.entries,
        "batch": args.batch,
        "awaiting": args.batch + args.awaiting,
        "runs": args.runs,
        "polls": args.polls,
        "page_size": PAGE_SIZE,
        "machine": machine(),
    }
    with sandbox(f"http://127.0.0.1:{port}") as sb, portal(sb, port, log_level="INFO") as site:
        backend = Backend(sb, "current")
        sb.configure(processing_delay_seconds=0)
        log(f"setup: {direct} entries straight to the backend, processed at once")
        started = time.perf_counter()
        submit_direct(backend, "e", direct)
        counted = time.perf_counter()
        counts = status_counts(backend)
        log(f"  processed: {counts} (processing took {time.perf_counter() - counted:.1f} s)")
        sb.configure(processing_delay_seconds=HOLD_SECONDS)
        session = signed_in_session(site.url)
        log(f"setup: one bulk submit of {args.batch} entries through the portal, processing held")
        batch_started = time.perf_counter()
        result_url = bulk_submit(session, site.url, args.batch)
        results["bulk_submit_s"] = time.perf_counter() - batch_started
        log(f"setup: {args.awaiting} more entries straight to the backend, processing held")
        submit_direct(backend, "w", args.awaiting)
        counts = status_counts(backend)
        results["setup_s"] = time.perf_counter() - started
        results["status_counts"] = counts
        log(f"  the group: {counts}; setup took {results['setup_s']:.0f} s")
        if sum(counts.values()) != args.entries:
            raise RuntimeError(f"the group holds {sum(counts.values())} entries, not {args.entries}")

        meter = Meter(site, sb, session)
        group_url = f"{site.url}/{ORGANISM}/submission/{GROUP}/review/"
        pages = -(-direct // PAGE_SIZE)
        if args.runs + 1 > pages:
            raise SystemExit(f"--runs {args.runs} needs more than {pages} pages of processed entries")

        def page_url(page: int) -> str:
            return f"{group_url}?{ALL_FILTERS}&page={page}&size={PAGE_SIZE}"

        log(f"a) group view, first paint: {args.runs} cold pages (1…{args.runs}), each at once again (warm)")
        page_html = ""

        def paint(run: int) -> Sample:
            nonlocal page_html
            sample, page_html = meter.get(page_url(run + 1))
            return sample

        cold, warm = Series(), Series()
        cpu = {"cold": [0.0, 0.0], "warm": [0.0, 0.0]}  # portal, sandbox CPU seconds
        for run in range(args.runs):
            for kind, series in (("cold", cold), ("warm", warm)):
                portal_before, sandbox_before = meter.portal_cpu(), meter.sandbox_cpu()
                series.samples.append(paint(run))
                cpu[kind][0] += meter.portal_cpu() - portal_before
                cpu[kind][1] += meter.sandbox_cpu() - sandbox_before
        cold.portal_cpu_s, cold.sandbox_cpu_s = (value / args.runs for value in cpu["cold"])
        warm.portal_cpu_s, warm.sandbox_cpu_s = (value / args.runs for value in cpu["warm"])
        if "Review pending submissions" not in page_html:
            raise RuntimeError("the group view lacks its heading")
        results["group_first_paint_cold"] = cold.summary()
        results["group_first_paint_warm"] = warm.summary()
        log(f"   the same {args.runs} pages once more, after all were seen (the details cache's capacity)")
        again = meter.series(args.runs, paint, cpu=True)
        results["group_first_paint_again"] = again.summary()
        log(
            f"   cold {cold.summary()['median_ms']:.0f} ms, warm {warm.summary()['median_ms']:.0f} ms, "
            f"again {again.summary()['median_ms']:.0f} ms (medians; backend calls "
            f"{cold.summary()['backend_calls_median']:.0f} / {warm.summary()['backend_calls_median']:.0f} / "
            f"{again.summary()['backend_calls_median']:.0f})"
        )

        results.update(polls(meter, "group", site.url, page_html, args.polls))

        log(f"c) batch view (result page of {args.batch} entries), first paint")
        result_html = ""

        def result_page(_run: int) -> Sample:
            nonlocal result_html
            sample, result_html = meter.get(result_url)
            return sample

        first = meter.series(args.runs, result_page, cpu=True)
        shown = f"0 of {args.batch} sequences processed in this submission"
        if shown not in result_html:
            raise RuntimeError(f"the batch view does not say {shown!r}")
        results["batch_first_paint"] = first.summary()
        results.update(polls(meter, "batch", site.url, result_html, args.polls))

        if args.profile:
            results["batch_poll_profile"] = profile_batch_listing(sb, site, backend, args.profile)

        log("e) processing released: the batch poll that finds the batch processed")
        poll_url, state = poll_of(result_html)
        sb.configure(processing_delay_seconds=0)
        portal_before, sandbox_before = meter.portal_cpu(), meter.sandbox_cpu()
        sample, text = meter.get(f"{site.url}{poll_url}&{state}", htmx=True)
        if "Passed QC" not in text:
            raise RuntimeError("the batch poll after processing shows no processed entry")
        done = Series([sample], meter.portal_cpu() - portal_before, meter.sandbox_cpu() - sandbox_before)
        results["batch_poll_processed"] = done.summary()
        log(f"   {sample.seconds * 1000:.0f} ms, {sample.backend_calls} backend calls")
    return results


def profile_batch_listing(sb: RunningSandbox, site: Portal, backend: Backend, runs: int) -> dict[str, Any]:
    """Where a batch poll's time goes: the portal's listing code in this process, under cProfile.

    Django is set up here as the portal is (its settings from the same environment, its SQLite file, so
    the same details cache); the listing is what render_live computes before it compares the state.
    """
    import cProfile
    import io
    import os
    import pstats

    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "submitportal.settings",
            "LOCULUS_URL": sb.website,
            "S3_ORIGINS": sb.s3,
            "DEBUG": "false",
            "SECRET_KEY": "bench-profile-" + "x" * 50,
            "ALLOWED_HOSTS": "127.0.0.1,testserver",
            "DATABASE_URL": f"sqlite:///{site.folder / 'db.sqlite3'}",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from submitportal import review
    from submitportal.loculus import client, instance

    log(f"   profile: the batch view's listing {runs} times in this process")
    token = backend.token()
    organism = instance.get_instance().organism(ORGANISM)
    every = backend.get(f"/{ORGANISM}/get-sequences?groupIdsFilter={GROUP}").json()["sequenceEntries"]
    submitted = [item for item in every if str(item["submissionId"]).startswith("batch")]

    def listing() -> None:
        review.batch_listing(token, organism, GROUP, submitted, {}, review.Filters(), 0, PAGE_SIZE)

    # "awaiting_only": the read a poll could make instead (the group's unprocessed entries, with the
    # group's counts), the proposal in docs/benchmarks.md.
    timings: dict[str, list[float]] = {"fetch": [], "json": [], "get_sequences": [], "listing": [], "awaiting_only": []}
    url = f"{sb.backend}/{ORGANISM}/get-sequences"
    params = {"groupIdsFilter": GROUP, "statusesFilter": ",".join(review.PENDING)}
    size = 0
    for _ in range(runs):
        started = time.perf_counter()
        body = requests.get(url, params=params, headers=backend.headers(), timeout=HTTP_TIMEOUT).content
        timings["fetch"].append(time.perf_counter() - started)
        size = len(body)
        started = time.perf_counter()
        json.loads(body)
        timings["json"].append(time.perf_counter() - started)
        started = time.perf_counter()
        client.get_sequences(token, ORGANISM, group_ids=[GROUP], statuses=review.PENDING)
        timings["get_sequences"].append(time.perf_counter() - started)
        started = time.perf_counter()
        listing()
        timings["listing"].append(time.perf_counter() - started)
        started = time.perf_counter()
        client.get_sequences(token, ORGANISM, group_ids=[GROUP], statuses=review.AWAITING)
        timings["awaiting_only"].append(time.perf_counter() - started)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        listing()
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(15)
    top = text.getvalue()
    log("   " + "\n   ".join(top.strip().splitlines()[:40]))
    render = profile_group_render(token, organism, runs)
    return {
        **render,
        "runs": runs,
        "get_sequences_body_kb": size / 1000,
        "entries_in_body": len(every),
        **{f"{name}_ms_median": median(values) * 1000 for name, values in timings.items()},
        "pstats_by_tottime": top,
    }


def profile_group_render(token: str, organism: Any, runs: int) -> dict[str, Any]:
    """What a 200 poll of the group view adds to a 204: rendering the live region of 50 cards, under cProfile.

    Called from profile_batch_listing, with Django set up."""
    import cProfile
    import io
    import pstats

    from django.contrib.auth.models import AnonymousUser
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from submitportal.loculus import client
    from submitportal.views import review as views

    group = next(g for g in client.get_user_groups(token) if g.group_id == GROUP)
    query = dict(item.split("=") for item in ALL_FILTERS.split("&")) | {"page": "1", "size": str(PAGE_SIZE)}
    request = RequestFactory().get(f"/{ORGANISM}/submission/{GROUP}/review/", query)
    request.user = AnonymousUser()
    scope = views.Scope(request, organism, group, None)
    listing = scope.listing(token)
    context = views.live_context(scope, listing)
    size = len(render_to_string(f"{views.TEMPLATE}#live", context, request))  # compiles and caches the template
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        render_to_string(f"{views.TEMPLATE}#live", context, request)
        seconds.append(time.perf_counter() - started)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        render_to_string(f"{views.TEMPLATE}#live", context, request)
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(12)
    log(f"   the group's live region ({len(listing.cards)} cards, {size / 1000:.0f} KB) rendered in-process:")
    log("   " + "\n   ".join(text.getvalue().strip().splitlines()[:30]))
    return {
        "render_cards": len(listing.cards),
        "render_kb": size / 1000,
        "render_ms_median": median(seconds) * 1000,
        "render_pstats_by_tottime": text.getvalue(),
    }


def polls(meter: Meter, name: str, site: str, page_html: str, count: int) -> dict[str, Any]:
    """The view's poll `count` times as nothing changed (204) and as something did (200), with CPU per poll."""
    poll_url, state = poll_of(page_html)
    letter = "b" if name == "group" else "c"
    log(f"{letter}) {name} view: {count} polls with nothing changed (204), {count} with something changed (200)")
    same = f"{site}{poll_url}&{state}"
    stale = f"{site}{poll_url}&state=stale"
    unchanged = meter.series(count, lambda _: meter.get(same, htmx=True, expect=204)[0], cpu=True)
    changed = meter.series(count, lambda _: meter.get(stale, htmx=True, expect=200)[0], cpu=True)
    log(
        f"   204: {unchanged.summary()['median_ms']:.0f} ms, 200: {changed.summary()['median_ms']:.0f} ms (medians); "
        f"portal CPU {unchanged.summary()['portal_cpu_ms_per_request']:.0f} / "
        f"{changed.summary()['portal_cpu_ms_per_request']:.0f} ms per poll"
    )
    return {f"{name}_poll_204": unchanged.summary(), f"{name}_poll_200": changed.summary()}


ROWS = [
    ("group_first_paint_cold", "group view, first paint, cold (a page not seen before)"),
    ("group_first_paint_warm", "group view, first paint, warm (the same page again at once)"),
    ("group_first_paint_again", "group view, first paint, the same pages again after all were seen"),
    ("group_poll_204", "group view, poll, nothing changed (204)"),
    ("group_poll_200", "group view, poll, something changed (200)"),
    ("batch_first_paint", "batch view (result page), first paint"),
    ("batch_poll_204", "batch view, poll, nothing changed (204)"),
    ("batch_poll_200", "batch view, poll, something changed (200)"),
    ("batch_poll_processed", "batch view, the poll that finds the batch processed (once)"),
]


def table(results: dict[str, Any]) -> str:
    def cpu(value: float | None) -> str:
        return "" if value is None else f"{value:.0f}"

    lines = [
        "| request | n | median ms | p95 ms | max ms | backend calls | backend ms | KB "
        "| portal CPU ms | sandbox CPU ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, words in ROWS:
        s = results.get(key)
        if not s:
            continue
        lines.append(
            f"| {words} | {s['n']} | {s['median_ms']:.0f} | {s['p95_ms']:.0f} | {s['max_ms']:.0f} | "
            f"{s['backend_calls_median']:.0f} | {s['backend_ms_median']:.0f} | {s['body_kb_median']:.0f} | "
            f"{cpu(s['portal_cpu_ms_per_request'])} | {cpu(s['sandbox_cpu_ms_per_request'])} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000, help="pending entries in the group")
    parser.add_argument("--batch", type=int, default=200, help="entries of the one bulk submit through the portal")
    parser.add_argument("--awaiting", type=int, default=100, help="entries left unprocessed besides the batch")
    parser.add_argument("--runs", type=int, default=5, help="first paints of each kind")
    parser.add_argument("--polls", type=int, default=50, help="polls of each kind (CPU is divided by these)")
    parser.add_argument(
        "--profile", type=int, default=10, help="profile the batch listing this many times in-process (0: not)"
    )
    parser.add_argument("--json", type=Path, default=ROOT / "var" / "bench" / "review.json")
    args = parser.parse_args()
    stop_on_signals()
    results = measure(args)
    results["loadavg_after"] = Path("/proc/loadavg").read_text().strip()
    write_json(args.json, results)
    print(table(results))
    profile = results.get("batch_poll_profile")
    if profile:
        print(
            f"\nThe batch listing in-process (medians of {profile['runs']}): get-sequences of the whole group "
            f"({profile['entries_in_body']} entries, {profile['get_sequences_body_kb']:.0f} KB) fetched in "
            f"{profile['fetch_ms_median']:.0f} ms, json.loads {profile['json_ms_median']:.0f} ms, "
            f"client.get_sequences {profile['get_sequences_ms_median']:.0f} ms, "
            f"review.batch_listing {profile['listing_ms_median']:.0f} ms; client.get_sequences of the group's "
            f"unprocessed entries only {profile['awaiting_only_ms_median']:.0f} ms.\n\n{profile['pstats_by_tottime']}"
            f"\nThe group view's live region ({profile['render_cards']} cards, {profile['render_kb']:.0f} KB) "
            f"rendered in-process in {profile['render_ms_median']:.0f} ms (median; then under cProfile:)\n\n"
            f"{profile['render_pstats_by_tottime']}"
        )
    print(f"\nJSON: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
