"""Measure 4: many people at once, each doing a bulk submission the way the bulk page does it.

Run: .venv/bin/python bench/load.py [--users 20] [--entries 10] [--files-per-entry 10] [--file-kb 64]
     [--big-mib 12] [--database postgresql|sqlite] [--database-url URL] [--json var/bench/load.json]

The portal runs as deployed (gunicorn gthread, 2 workers x 8 threads, DEBUG off, PostgreSQL: a fresh
database on --database-url's server, default $BENCH_DATABASE_URL or DEFAULT_DATABASE_URL, dropped
afterwards) against the sandbox. The sandbox has one account per person (`--extra-users`:
loaduser001 …), and each person creates a group of their own (POST /groups), as a new lab does. The
portal keeps one open draft per user and organism, so sessions of one user would share one draft.

Each person signs in with a session of their own (the sandbox's login form); then all start at
once and do, with the requests the bulk page sends (static/js/extra_file_uploads.js, bulk_form.html):

1. GET /<organism>/submission/bulk/ (302 to a new draft), the page, and its static files;
2. at one instant: the metadata file and the FASTA, each as the raw request body
   (application/octet-stream, the name percent-encoded in X-File-Name) to /drafts/<id>/bulk/metadata
   and …/sequences, and an autosave of the data use terms (POST /drafts/<id>/save);
3. the extra files, one subfolder per entry ID: their names and sizes (POST /drafts/<id>/files/rawReads/),
   then upload URLs in batches of 50 (files/prepare, one batch at a time, the next while fewer than 50
   have URLs), PUTs to S3, 6 files at once (multipart files 6 parts at once; at most 6 connections to
   S3 and 6 to the portal, as Chromium), finished files reported in batches (files/done: at once when
   50 are waiting or nothing else is uploading, else 150 ms after the first); meanwhile a second autosave
   (both confirmations ticked);
4. the submit form: for Open terms first without confirm_open (the page asks), then confirm_open=yes;
   302 to the result page.

The bench reads the draft page after step 2 and before step 4 ("check" requests, counted apart): a
part the portal answered for but no longer holds is a lost update, and the person sends it again (at
most 3 times, counted apart too) so the rest can be measured. After everyone is done it compares
what each person sent with the sandbox's record of the submission (entries, metadata, FASTA, terms,
every extra file linked to its entry by name, its bytes in S3 by SHA-256) and with the portal's result
page and My drafts.

Reports per portal endpoint (URLs grouped by route) count and p50/p95/max latency as the client saw
it and as gunicorn timed it (access log); errors (5xx, unexpected status, request exceptions: must
be 0); lost updates (must be 0); the portal's peak RSS (gunicorn master + workers summed, sampled
every 20 ms) and each process's VmHWM. Exit status 1 if an error or a lost update happened.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import html
import json
import math
import os
import random
import re
import resource
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import requests
from common import (
    HTTP_TIMEOUT,
    ROOT,
    NoDatabaseServer,
    Portal,
    RssSampler,
    check_database_server,
    cpu_seconds,
    csrf_token,
    database_url_default,
    free_port,
    log,
    machine,
    portal,
    redacted,
    sandbox,
    signed_in_session,
    status_kib,
    stop_on_signals,
    write_json,
)
from requests.adapters import HTTPAdapter

from sandbox.launcher import RunningSandbox
from sandbox.people import extra_username

ORGANISM = "ebola-sudan"
CATEGORY = "rawReads"
BUCKET = "loculus-sandbox-private"
# As static/js/extra_file_uploads.js and Chromium.
BATCH = 50
FILES_AT_ONCE = 6
PARTS_AT_ONCE = 6
CONNECTIONS_PER_HOST = 6
ATTEMPTS = 4
FLUSH_DELAY = 0.15
AUTOSAVE_DELAY = 0.3  # hx-trigger="change … delay:300ms"
RECOVERY_ATTEMPTS = 3
RUN_TIMEOUT = 1800.0  # seconds for all people together
GENOME_LENGTH = 18_900
LINE_WIDTH = 80
COUNTRIES = ["Uganda", "Kenya", "Sudan", "Nigeria", "Germany"]
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


# --- What each person sends ----------------------------------------------------------------------------


@dataclass
class ExtraFile:
    path: str  # "<entry id>/<name>": the subfolder links the file to the entry
    entry: str
    size: int
    seed: int
    sha256: str = ""

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[1]

    def content(self) -> bytes:
        return random.Random(self.seed).randbytes(self.size)  # noqa: S311 - test data


@dataclass
class Plan:
    username: str
    number: int
    metadata_name: str
    metadata: bytes
    fasta_name: str
    fasta: bytes
    entries: dict[str, dict[str, str]]  # id → metadata fields
    sequences: dict[str, str]  # id → bases
    files: list[ExtraFile]
    terms: str  # OPEN or RESTRICTED
    restricted_until: str

    def autosave(self, ticked: bool) -> dict[str, str]:
        """The bulk form's fields as the autosave sends them (hx-include="#bulk-form"); unticked boxes are absent."""
        values = {"data_use_terms": self.terms, "restricted_until": self.restricted_until}
        if ticked:
            values.update({"confirmation-no-pii": "on", "confirmation-INSDC-upload-terms": "on"})
        return values


def plan_for(number: int, entries: int, files_per_entry: int, file_kb: int, big_mib: int) -> Plan:
    """Person `number`'s files, terms and extra files: different bytes and values for every person."""
    username = extra_username(number)
    rng = random.Random(number)  # noqa: S311 - reproducible test data
    today = dt.datetime.now(dt.UTC).date()
    ids = [f"{username}-e{e:02d}" for e in range(1, entries + 1)]
    fields: dict[str, dict[str, str]] = {}
    sequences: dict[str, str] = {}
    for e, entry in enumerate(ids, start=1):
        fields[entry] = {
            "sampleCollectionDate": (dt.date(2024, 1, 1) + dt.timedelta(days=number * 13 + e)).isoformat(),
            "geoLocCountry": COUNTRIES[(number + e) % len(COUNTRIES)],
            "geoLocAdmin1": f"Region {number}-{e}",
            "specimenCollectorSampleId": f"{username}-specimen-{e:02d}",
            "hostNameScientific": "Homo sapiens",
            "authors": "Okello, James; Smith, Anna",
        }
        sequences[entry] = "".join(rng.choice("ACGT") for _ in range(GENOME_LENGTH))
    columns = list(next(iter(fields.values())))
    lines = ["\t".join(["id", *columns])] + ["\t".join([entry, *row.values()]) for entry, row in fields.items()]
    fasta = "".join(
        f">{entry}\n" + "".join(bases[i : i + LINE_WIDTH] + "\n" for i in range(0, len(bases), LINE_WIDTH))
        for entry, bases in sequences.items()
    )
    extra: list[ExtraFile] = []
    for entry in ids:
        for k in range(files_per_entry):
            big = big_mib and not extra  # the person's first file, if asked for: a multipart upload
            size = big_mib * 2**20 if big else max(1, int(file_kb * 1024 * rng.uniform(0.5, 1.5)))
            extra.append(ExtraFile(f"{entry}/{entry}_r{k:03d}.fastq", entry, size, number * 1_000_003 + len(extra)))
    for item in extra:
        item.sha256 = hashlib.sha256(item.content()).hexdigest()
    restricted = number % 2 == 0
    return Plan(
        username=username,
        number=number,
        metadata_name=f"metadata {username}.tsv",  # a space, so X-File-Name is percent-encoded
        metadata=("\n".join(lines) + "\n").encode(),
        fasta_name=f"sequences {username}.fasta",
        fasta=fasta.encode(),
        entries=fields,
        sequences=sequences,
        files=extra,
        terms="RESTRICTED" if restricted else "OPEN",
        restricted_until=(today + dt.timedelta(days=30 + number)).isoformat() if restricted else "",
    )


# --- Every request, timed ---------------------------------------------------------------------------------


@dataclass
class Call:
    user: str
    method: str
    route: str
    purpose: str  # page: what the page sends; check: the bench reads a page; again: a lost part sent again
    status: int | None
    started: float
    seconds: float
    problem: str | None = None
    resent: bool = False  # sent again on a new connection: the server had closed the idle one


def route_of(method: str, url: str) -> str:
    """The URL's route: draft IDs and file numbers replaced, S3 and static files each one route."""
    parts = urlsplit(url)
    path = parts.path
    if "X-Amz-Signature" in parts.query or "partNumber" in parts.query:
        return f"{method} S3 {'part' if 'partNumber' in parts.query else 'object'}"
    if path.startswith("/static/"):
        return f"{method} /static/…"
    path = UUID.sub("<id>", path)
    path = re.sub(r"/file/\d+/", "/file/<pk>/", path)
    return f"{method} {path}"


class Recorder:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.lock = threading.Lock()

    def add(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `share` of all values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered), math.ceil(share * len(ordered))) - 1)]


# --- One person ------------------------------------------------------------------------------------------


def closed_while_idle(error: requests.ConnectionError) -> bool:
    """The server closed the kept-alive connection before reading the request (nothing came back)."""
    text = str(error)
    return "Connection aborted." in text and any(
        reason in text for reason in ("RemoteDisconnected", "ConnectionResetError", "BrokenPipeError")
    )


def file_lost(differences: dict[str, Any]) -> bool:
    return "metadata" in differences or "sequences" in differences


class Aborted(Exception):
    """This person cannot go on (the reason is recorded); the others go on."""


@dataclass
class Job:
    spec: ExtraFile
    pk: int
    target: dict[str, Any] | None = None


@dataclass
class Person:
    plan: Plan
    site: str
    recorder: Recorder
    group_id: int
    session: requests.Session
    s3: requests.Session = field(default_factory=requests.Session)
    draft: str = ""
    page_url: str = ""
    csrf: str = ""
    rows: dict[str, int] = field(default_factory=dict)  # path → file pk
    unreported: set[str] = field(default_factory=set)  # paths whose files/done request failed
    second_autosave: int | None = None  # its status
    lost: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    submitted: bool = False
    result_page: str = ""
    drafts_page: str = ""
    finished_at: float = 0.0

    def __post_init__(self) -> None:
        # At most 6 connections to each host, as Chromium: a 7th request waits for a free one.
        for session, prefix in ((self.session, f"{self.site}/"), (self.s3, "http://")):
            session.mount(prefix, HTTPAdapter(pool_connections=2, pool_maxsize=CONNECTIONS_PER_HOST, pool_block=True))

    @property
    def name(self) -> str:
        return self.plan.username

    # --- requests -------------------------------------------------------------------------------

    def call(
        self,
        method: str,
        url: str,
        *,
        ok: tuple[int, ...] = (200,),
        purpose: str = "page",
        session: requests.Session | None = None,
        **kwargs: Any,
    ) -> requests.Response | None:
        """One request, timed to the end of its body; an unexpected status or an exception is recorded.

        A request on a kept-alive connection that the server closed meanwhile (gunicorn closes idle
        ones after 2 s) is sent once more on a new connection, as Chromium does; it counts as resent.
        """
        started = time.perf_counter()
        status = None
        problem = None
        response = None
        resent = False
        for attempt in (1, 2):
            try:
                response = (session or self.session).request(
                    method, url, timeout=HTTP_TIMEOUT, allow_redirects=False, **kwargs
                )
            except requests.ConnectionError as error:
                if attempt == 1 and closed_while_idle(error):
                    resent = True
                    continue
                problem = f"{type(error).__name__}: {error}"
            except requests.RequestException as error:
                problem = f"{type(error).__name__}: {error}"
            else:
                status = response.status_code
                if status not in ok:
                    problem = f"answered {status}, expected {' or '.join(map(str, ok))}: {brief(response.text)}"
            break
        seconds = time.perf_counter() - started
        route = route_of(method, url)
        self.recorder.add(Call(self.name, method, route, purpose, status, started, seconds, problem, resent))
        if problem:
            self.problems.append(f"{route_of(method, url)}: {problem}")
        return response

    def htmx(self, target: str | None = None, trigger: str | None = None) -> dict[str, str]:
        """The headers htmx adds, and the CSRF token the page sends once with hx-headers on <body>."""
        headers = {"HX-Request": "true", "HX-Current-URL": self.page_url, "X-CSRFToken": self.csrf}
        if target:
            headers["HX-Target"] = target
        if trigger:
            headers["HX-Trigger"] = trigger
        return headers

    def url(self, path: str) -> str:
        return f"{self.site}{path}"

    def send_file(self, kind: str, purpose: str = "page") -> requests.Response | None:
        name, body = (
            (self.plan.metadata_name, self.plan.metadata)
            if kind == "metadata"
            else (self.plan.fasta_name, self.plan.fasta)
        )
        headers = {
            **self.htmx(target="data-files"),
            "Content-Type": "application/octet-stream",
            "X-File-Name": quote(name, safe=""),  # as encodeURIComponent
        }
        return self.call(
            "POST", self.url(f"/drafts/{self.draft}/bulk/{kind}"), data=body, headers=headers, purpose=purpose
        )

    def autosave(self, ticked: bool, purpose: str = "page") -> requests.Response | None:
        data = {"csrfmiddlewaretoken": self.csrf, **self.plan.autosave(ticked)}
        return self.call(
            "POST", self.url(f"/drafts/{self.draft}/save"), ok=(204,), data=data, headers=self.htmx(), purpose=purpose
        )

    def read_draft(self, purpose: str = "check") -> DraftPage | None:
        response = self.call("GET", self.page_url, purpose=purpose)
        return DraftPage.parse(response.text) if response is not None and response.status_code == 200 else None

    # --- the flow ----------------------------------------------------------------------------------

    def run(self, start: threading.Barrier) -> None:
        try:
            start.wait(timeout=RUN_TIMEOUT)
            self.open_page()
            self.send_data_files()
            autosave = self.register_files()
            self.upload(autosave)
            self.check_before_submit()
            self.submit()
        except Aborted as reason:
            self.problems.append(f"gave up: {reason}")
        except Exception as error:  # noqa: BLE001 - recorded: one person's surprise must not end the others' run
            self.problems.append(f"gave up on an unexpected {type(error).__name__}: {error}")
        finally:
            self.finished_at = time.perf_counter()

    def open_page(self) -> None:
        response = self.call("GET", self.url(f"/{ORGANISM}/submission/bulk/"), ok=(302,))
        location = response.headers.get("Location", "") if response is not None else ""
        match = UUID.search(location)
        if not match:
            raise Aborted(f"the bulk page did not redirect to a new draft (Location {location!r})")
        self.draft = match.group(0)
        self.page_url = urljoin(self.site + "/", location)
        page = self.call("GET", self.page_url)
        if page is None or page.status_code != 200:
            raise Aborted("the bulk page did not open")
        self.csrf = csrf_token(self.session, page.text)
        for asset in dict.fromkeys(re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)):
            self.call("GET", self.url(asset))

    def expected_page(self, ticked: bool) -> dict[str, Any]:
        count = len(self.plan.entries)
        return {
            "metadata": self.plan.metadata_name,
            "sequences": self.plan.fasta_name,
            "report": (count, count),
            # One autosave sends all three: the terms, the date and the two confirmations.
            "terms": (self.plan.terms, self.plan.restricted_until, (ticked, ticked)),
        }

    def compare(self, page: DraftPage | None, expected: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
        """Parts of the draft page that differ from what was sent: part → (sent, shown)."""
        if page is None:
            return {"page": ("the draft page", "no page")}
        shown = page.as_dict()
        return {key: (value, shown.get(key)) for key, value in expected.items() if shown.get(key) != value}

    def send_data_files(self) -> None:
        """Metadata, FASTA and an autosave of the terms at one instant, as a person choosing both files does."""
        together = threading.Barrier(3)
        answers: dict[str, requests.Response | None] = {}

        def at_once(part: str, send: Callable[[], requests.Response | None]) -> None:
            try:
                together.wait(timeout=HTTP_TIMEOUT)
            except threading.BrokenBarrierError:
                pass
            answers[part] = send()

        sends: dict[str, Callable[[], requests.Response | None]] = {
            "metadata": lambda: self.send_file("metadata"),
            "sequences": lambda: self.send_file("sequences"),
            "terms": lambda: self.autosave(ticked=False),
        }
        threads = [threading.Thread(target=at_once, args=item, daemon=True) for item in sends.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=HTTP_TIMEOUT * 2)
        sent = {part: answer.status_code if answer is not None else None for part, answer in answers.items()}
        expected = self.expected_page(ticked=False)
        # What to send again for each part the draft lacks; the metadata upload checks both files.
        resend = {"sequences": "sequences", "terms": "terms"}
        actions: dict[str, Callable[[], requests.Response | None]] = {
            "metadata": lambda: self.send_file("metadata", "again"),
            "sequences": lambda: self.send_file("sequences", "again"),
            "terms": lambda: self.autosave(False, "again"),
        }
        for attempt in range(RECOVERY_ATTEMPTS + 1):
            differences = self.compare(self.read_draft(), expected)
            if not differences:
                return
            if attempt == 0:
                # A part whose own request failed is an error (recorded), not a lost update. Without one of
                # its files the report cannot describe both: that follows from the missing file and is not
                # counted again; a wrong report beside both files is a loss of its own.
                failed = {part for part, status in sent.items() if status not in (200, 204)}
                report = differences.get("report")
                counted = {
                    part: difference
                    for part, difference in differences.items()
                    if part not in failed and (part != "report" or not (file_lost(differences) or failed))
                }
                for part, (wanted, shown) in counted.items():
                    self.lost.append(
                        {
                            "user": self.name,
                            "draft": self.draft,
                            "step": "metadata + FASTA + autosave at once",
                            "part": part,
                            "sent": wanted,
                            "draft_shows": shown,
                            "answers": sent,
                            **({"report_shows": report[1]} if report and part != "report" else {}),
                        }
                    )
            if attempt == RECOVERY_ATTEMPTS:
                break
            for name in dict.fromkeys(resend.get(part, "metadata") for part in differences):
                actions[name]()
        raise Aborted(f"the draft still lacks {sorted(differences)} after sending it again {RECOVERY_ATTEMPTS} times")

    def register_files(self) -> threading.Thread:
        """The folder's names and sizes; the second autosave (both boxes ticked) starts meanwhile."""
        listing = [{"path": f.path, "size": f.size} for f in self.plan.files]
        autosave = threading.Thread(target=self.later_autosave, daemon=True)
        autosave.start()
        response = self.call(
            "POST",
            self.url(f"/drafts/{self.draft}/files/{CATEGORY}/"),
            data={"files": json.dumps(listing)},
            headers=self.htmx(target=f"files-{CATEGORY}"),
        )
        if response is None or response.status_code != 200:
            raise Aborted("the extra files were not registered")
        rows = {path: (int(pk), state) for pk, state, path in rows_in(response.text)}
        self.rows = {path: pk for path, (pk, _) in rows.items()}
        if "HX-Trigger" in response.headers:
            self.problems.append(f"registering the files: the portal says {response.headers['HX-Trigger']}")
        wanted = {f.path for f in self.plan.files}
        not_pending = {path: state for path, (_, state) in rows.items() if state != "pending"}
        if set(rows) != wanted or not_pending:
            missing = sorted(wanted - set(rows))[:5]
            raise Aborted(
                f"registered files differ: missing {missing}, not pending {dict(list(not_pending.items())[:5])}"
            )
        return autosave

    def later_autosave(self) -> None:
        # The person ticks both confirmations while the files upload (the autosave waits 300 ms).
        time.sleep(AUTOSAVE_DELAY + random.Random(self.plan.number).uniform(0, 1.0))  # noqa: S311
        answer = self.autosave(ticked=True)
        self.second_autosave = answer.status_code if answer is not None else None

    def upload(self, autosave: threading.Thread) -> None:
        jobs = [Job(spec, self.rows[spec.path]) for spec in self.plan.files]
        Uploads(self, jobs).run()
        autosave.join(timeout=HTTP_TIMEOUT * 2)

    def prepare(self, jobs: list[Job]) -> dict[int, dict[str, Any]]:
        """Upload URLs for a batch, as askForUrls: 4 attempts, 1 s, 2 s, 4 s apart."""
        data = {"files": json.dumps([job.pk for job in jobs]), "fresh": "no"}
        headers = {"X-CSRFToken": self.csrf, "Accept": "application/json"}
        for attempt in range(1, ATTEMPTS + 1):
            response = self.call("POST", self.url(f"/drafts/{self.draft}/files/prepare"), data=data, headers=headers)
            if response is not None and response.status_code == 200:
                return {int(target["pk"]): target for target in response.json()["files"]}
            if attempt < ATTEMPTS:
                time.sleep(0.5 * 2**attempt)
        raise Aborted("no upload URLs after 4 attempts")

    def put(self, url: str, body: bytes, headers: dict[str, str]) -> requests.Response:
        """One PUT as putWithRetry: 4 attempts for network errors and 5xx, 412 counts as uploaded."""
        for attempt in range(1, ATTEMPTS + 1):
            response = self.call("PUT", url, ok=(200, 412), session=self.s3, data=body, headers=headers)
            if response is not None and response.status_code < 500:
                if response.status_code >= 400 and response.status_code != 412:
                    raise Aborted(f"S3 refused a PUT ({response.status_code})")
                return response
            if attempt < ATTEMPTS:
                time.sleep(0.4 * 2 ** (attempt - 1))
        raise Aborted("a PUT to S3 failed 4 times")

    def put_file(self, job: Job) -> list[str]:
        target = job.target or {}
        content = job.spec.content()
        if target.get("method") == "single":
            self.put(target["urls"][0], content, dict(target.get("headers") or {}))
            return []
        part_size = int(target["partSize"])
        urls = list(target["urls"])

        def part(index: int) -> str:
            answer = self.put(urls[index], content[index * part_size : (index + 1) * part_size], {})
            etag = answer.headers.get("ETag")
            if not etag:
                raise Aborted("S3 gave no ETag for a part")
            return etag

        with ThreadPoolExecutor(min(PARTS_AT_ONCE, len(urls))) as parts:
            return list(parts.map(part, range(len(urls))))

    def report_done(self, items: list[tuple[Job, list[str]]]) -> None:
        reports = [{"pk": job.pk, "etags": etags} for job, etags in items]
        first = f"file-{items[0][0].pk}"
        response = self.call(
            "POST",
            self.url(f"/drafts/{self.draft}/files/done"),
            data={"reports": json.dumps(reports)},
            headers=self.htmx(target=first, trigger=first),
        )
        if response is None or response.status_code != 200:
            self.unreported.update(job.spec.path for job, _ in items)  # an error, recorded: not a lost update
            return
        states = {int(pk): state for pk, state, _ in rows_in(response.text)}
        for job, _ in items:
            if states.get(job.pk) != "uploaded":
                self.problems.append(f"files/done: {job.spec.path} came back {states.get(job.pk)!r}, not uploaded")

    def report_failed(self, job: Job, reason: str) -> None:
        self.call(
            "POST",
            self.url(f"/drafts/{self.draft}/file/{job.pk}/failed"),
            data={"reason": reason},
            headers=self.htmx(target=f"file-{job.pk}", trigger=f"file-{job.pk}"),
        )

    def check_before_submit(self) -> None:
        expected = self.expected_page(ticked=True)
        wanted_rows = dict.fromkeys((f.path for f in self.plan.files), "uploaded")
        for attempt in range(RECOVERY_ATTEMPTS + 1):
            page = self.read_draft()
            differences = self.compare(page, expected)
            if page is not None and page.rows != wanted_rows:
                wrong = {
                    path: page.rows.get(path)
                    for path in wanted_rows
                    if page.rows.get(path) != "uploaded" and path not in self.unreported
                }
                if wrong:
                    differences["files"] = ("100% uploaded", dict(list(wrong.items())[:5]) | {"count": len(wrong)})
            if page is not None and page.linked != len(self.plan.files):
                differences["links"] = (len(self.plan.files), page.linked)
            if not differences:
                return
            if attempt == 0:
                for part, (wanted, shown) in differences.items():
                    if part == "terms" and self.second_autosave != 204:
                        continue  # the autosave itself failed: an error, recorded
                    self.lost.append(
                        {
                            "user": self.name,
                            "draft": self.draft,
                            "step": "extra files registered, uploaded and reported; second autosave",
                            "part": part,
                            "sent": wanted,
                            "draft_shows": shown,
                        }
                    )
            if set(differences) - {"terms"} or attempt == RECOVERY_ATTEMPTS:
                break  # lost files or data files are not sent again here; the submit will tell what happens
            self.autosave(True, "again")

    def submit(self) -> None:
        form = {"csrfmiddlewaretoken": self.csrf, **self.plan.autosave(ticked=True)}
        submit_url = self.url(f"/{ORGANISM}/submission/bulk/{self.draft}/")
        if self.plan.terms == "OPEN":
            # "Upload and proceed": the page asks to confirm Open terms first.
            asked = self.call("POST", submit_url, data=form)
            if asked is None or "Continue under Open terms" not in asked.text:
                raise Aborted("the submit did not ask to confirm Open terms")
            form["confirm_open"] = "yes"
        answer = self.call("POST", submit_url, data=form, ok=(302,))
        location = answer.headers.get("Location", "") if answer is not None else ""
        if not location.endswith("/result"):
            raise Aborted(f"the submit was not accepted ({answer.status_code if answer is not None else 'no answer'})")
        self.submitted = True
        result = self.call("GET", urljoin(self.site + "/", location))
        self.result_page = result.text if result is not None else ""
        drafts = self.call("GET", self.url("/drafts/"), purpose="check")
        self.drafts_page = drafts.text if drafts is not None else ""


class Uploads:
    """static/js/extra_file_uploads.js for one page: URLs in batches, 6 files at once, finished files reported
    in batches."""

    def __init__(self, person: Person, jobs: list[Job]) -> None:
        self.person = person
        self.condition = threading.Condition()
        self.waiting = deque(jobs)
        self.ready: deque[Job] = deque()
        self.preparing = False
        self.uploading = 0
        self.finished: list[tuple[Job, list[str]]] = []
        self.timer: threading.Timer | None = None
        self.reporters: list[threading.Thread] = []
        self.gave_up: str | None = None

    def run(self) -> None:
        deadline = time.monotonic() + RUN_TIMEOUT
        threads = [threading.Thread(target=self.prepare_loop, daemon=True)]
        threads += [threading.Thread(target=self.upload_loop, daemon=True) for _ in range(FILES_AT_ONCE)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=max(1.0, deadline - time.monotonic()))
        self.flush()
        for reporter in list(self.reporters):
            reporter.join(timeout=max(1.0, deadline - time.monotonic()))
        if any(thread.is_alive() for thread in threads + self.reporters):
            raise Aborted(f"the uploads did not finish within {RUN_TIMEOUT:.0f} s")
        if self.gave_up:
            raise Aborted(self.gave_up)

    def prepare_loop(self) -> None:
        while True:
            with self.condition:
                while self.waiting and len(self.ready) >= BATCH and not self.gave_up:
                    self.condition.wait(timeout=1)
                if not self.waiting or self.gave_up:
                    self.condition.notify_all()
                    return
                batch = [self.waiting.popleft() for _ in range(min(BATCH, len(self.waiting)))]
                self.preparing = True
            try:
                targets = self.person.prepare(batch)
            except Aborted as reason:
                with self.condition:
                    self.gave_up = str(reason)
                    self.preparing = False
                    self.condition.notify_all()
                return
            with self.condition:
                for job in batch:
                    target = targets.get(job.pk)
                    if target and target.get("state") == "pending":
                        job.target = target
                        self.ready.append(job)
                    else:
                        state = target.get("state") if target else "missing"
                        self.person.problems.append(f"files/prepare: {job.spec.path} came back {state!r}")
                self.preparing = False
                self.condition.notify_all()

    def upload_loop(self) -> None:
        while True:
            with self.condition:
                while not self.ready and (self.waiting or self.preparing) and not self.gave_up:
                    self.condition.wait(timeout=1)
                if not self.ready or self.gave_up:
                    return
                job = self.ready.popleft()
                self.uploading += 1
                self.condition.notify_all()  # fewer than a batch may be ready now: the next prepare
            try:
                etags = self.person.put_file(job)
            except Aborted as reason:
                with self.condition:
                    self.uploading -= 1
                self.person.report_failed(job, f"The upload failed: {reason}")
                continue
            with self.condition:
                self.uploading -= 1
                self.finished.append((job, etags))
                now = len(self.finished) >= BATCH or self.uploading == 0
                if not now and self.timer is None:
                    self.timer = threading.Timer(FLUSH_DELAY, self.flush)
                    self.timer.daemon = True
                    self.timer.start()
            if now:
                self.flush()

    def flush(self) -> None:
        with self.condition:
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            items, self.finished = self.finished, []
            if not items:
                return
            # Like htmx.ajax: the request goes out at once, beside any still under way.
            reporter = threading.Thread(target=self.person.report_done, args=(items,), daemon=True)
            self.reporters.append(reporter)
        reporter.start()


# --- Reading the portal's pages ---------------------------------------------------------------------------


def rows_in(text: str) -> list[tuple[str, str, str]]:
    """(pk, state, path) of every file row in an HTML fragment."""
    found = []
    for match in re.finditer(r"<tr id=\"file-(\d+)\"[^>]*>", text):
        tag = match.group(0)
        state = re.search(r'data-state="([^"]*)"', tag)
        path = re.search(r'data-path="([^"]*)"', tag)
        if state and path:
            found.append((match.group(1), state.group(1), html.unescape(path.group(1))))
    return found


@dataclass
class DraftPage:
    metadata: str | None
    sequences: str | None
    report: tuple[int, int] | str | None
    terms: str | None
    restricted_until: str | None
    confirmations: tuple[bool, bool]
    rows: dict[str, str]
    linked: int

    @classmethod
    def parse(cls, text: str) -> DraftPage:
        def chosen(kind: str) -> str | None:
            match = re.search(rf'id="chosen-{kind}"><strong>(.*?)</strong>', text)
            return html.unescape(match.group(1)) if match else None

        match = re.search(r"✓ (\d+) entr(?:y|ies) and (\d+) sequences? checked: no problems found", text)
        report: tuple[int, int] | str | None = (int(match.group(1)), int(match.group(2))) if match else None
        if report is None:
            problem = re.search(r'id="file-checks"[^>]*>(.*?)</div>', text, re.S)
            report = " ".join(re.sub(r"<[^>]+>", " ", problem.group(1)).split())[:300] if problem else None
        terms = next((value for value in ("OPEN", "RESTRICTED") if f'value="{value}" checked' in text), None)
        until = re.search(r'name="restricted_until" value="([^"]*)"', text)
        linked = re.search(r"✓ (\d+) files? linked to entries", text)
        return cls(
            metadata=chosen("metadata"),
            sequences=chosen("sequences"),
            report=report or None,
            terms=terms,
            restricted_until=until.group(1) if until else None,
            confirmations=(
                'name="confirmation-no-pii" checked' in text,
                'name="confirmation-INSDC-upload-terms" checked' in text,
            ),
            rows={path: state for _, state, path in rows_in(text)},
            linked=int(linked.group(1)) if linked else 0,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "metadata": self.metadata,
            "sequences": self.sequences,
            "report": self.report,
            "terms": (self.terms, self.restricted_until, self.confirmations),
        }


def brief(text: str, limit: int = 300) -> str:
    plain = " ".join(re.sub(r"<[^>]+>", " ", text).split())
    return plain[:limit]


# --- After the run: what the sandbox and the portal hold --------------------------------------------------


def parse_fasta(text: str) -> dict[str, str]:
    sequences: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith(">"):
            current = line[1:].split()[0]
            sequences[current] = []
        elif current is not None:
            sequences[current].append(line.strip())
    return {key: "".join(parts) for key, parts in sequences.items()}


def verify(
    person: Person, records: list[dict[str, Any]], s3_objects: dict[str, tuple[int, str]]
) -> list[dict[str, Any]]:
    """What the submission and the portal's pages hold that differs from what the person sent."""
    plan = person.plan
    lost: list[dict[str, Any]] = []

    def differs(part: str, sent: Any, holds: Any, where: str = "the sandbox's record") -> None:
        lost.append(
            {"user": plan.username, "draft": person.draft, "step": where, "part": part, "sent": sent, "holds": holds}
        )

    if not person.submitted:
        return lost  # the person gave up (recorded as an error); there is nothing to compare
    if len(records) != 1:
        differs("submission", "one submission", f"{len(records)} submissions")
        if not records:
            return lost
    record = records[-1]
    if record["groupId"] != person.group_id:
        differs("group", person.group_id, record["groupId"])
    terms = {"type": plan.terms} | ({"restrictedUntil": plan.restricted_until} if plan.restricted_until else {})
    if record["dataUseTerms"] != terms:
        differs("terms", terms, record["dataUseTerms"])
    entries = {entry["submissionId"]: entry for entry in record["entries"]}
    if set(entries) != set(plan.entries):
        differs("entries", sorted(plan.entries), sorted(entries))
    files_by_entry: dict[str, dict[str, ExtraFile]] = {}
    for spec in plan.files:
        files_by_entry.setdefault(spec.entry, {})[spec.name] = spec
    portal_ids = dict(
        re.findall(r"<li>([^<]+?) <span class=\"muted\">\([^)]*, file ID <code>([^<]+)</code>", person.result_page)
    )
    portal_ids = {html.unescape(path): file_id for path, file_id in portal_ids.items()}
    for entry_id, fields in plan.entries.items():
        entry = entries.get(entry_id)
        if entry is None:
            continue
        held = {key: entry["metadata"].get(key) for key in fields}
        if held != fields:
            differs(f"metadata of {entry_id}", fields, held)
        if entry.get("fastaIds") not in ([entry_id], None):
            differs(f"FASTA IDs of {entry_id}", [entry_id], entry.get("fastaIds"))
        refs = entry.get("files", {}).get(CATEGORY, [])
        wanted = files_by_entry.get(entry_id, {})
        if sorted(ref["name"] for ref in refs) != sorted(wanted):
            differs(f"extra files of {entry_id}", sorted(wanted), sorted(ref["name"] for ref in refs))
        for ref in refs:
            spec = wanted.get(ref["name"])
            if spec is None:
                continue
            size, digest = s3_objects.get(ref["fileId"], (None, None))
            if (size, digest) != (spec.size, spec.sha256):
                differs(f"bytes of {spec.path}", (spec.size, spec.sha256[:16]), (size, (digest or "")[:16]), "S3")
            if portal_ids.get(spec.path) != ref["fileId"]:
                differs(f"file ID of {spec.path}", ref["fileId"], portal_ids.get(spec.path), "the portal's result page")
    stored = record.get("sequenceFile") or {}
    held_sequences = parse_fasta(Path(stored["path"]).read_text()) if stored.get("path") else {}
    if held_sequences != plan.sequences:
        differs("FASTA", f"{len(plan.sequences)} sequences", f"{len(held_sequences)} sequences, or other bases")
    accessions = {entry["submissionId"]: entry["accession"] for entry in record["entries"]}
    shown = dict(re.findall(r"<tr><td>([^<]+)</td><td><code>([^<.]+)\.\d+</code>", person.result_page))
    if shown != accessions:
        differs("accessions", accessions, shown, "the portal's result page")
    row = re.search(r"<tr>\s*<td>Ebola Sudan</td>(.*?)</tr>", person.drafts_page, re.S)
    cells = [brief(cell) for cell in re.findall(r"<td>(.*?)</td>", row.group(1), re.S)] if row else []
    count = f"{len(plan.entries)} entr{'y' if len(plan.entries) == 1 else 'ies'}"
    wanted_row = [f"{plan.metadata_name} ({count})", str(len(plan.files))]
    if cells[1:3] != wanted_row or "Submitted" not in (cells[4] if len(cells) > 4 else ""):
        differs("My drafts", [*wanted_row, "Submitted"], cells[1:5], "the portal's My drafts page")
    return lost


def s3_contents(sb: RunningSandbox, file_ids: list[str]) -> dict[str, tuple[int, str]]:
    """Size and SHA-256 of each object files/<fileId> in the sandbox's bucket."""
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=sb.s3_direct,
        aws_access_key_id="test",
        aws_secret_access_key="test",  # noqa: S106 - the sandbox's dummy credentials
        region_name="us-east-1",
    )

    def read(file_id: str) -> tuple[str, tuple[int, str]]:
        body = s3.get_object(Bucket=BUCKET, Key=f"files/{file_id}")["Body"].read()
        return file_id, (len(body), hashlib.sha256(body).hexdigest())

    with ThreadPoolExecutor(8) as pool:
        return dict(pool.map(read, file_ids))


# --- The run ----------------------------------------------------------------------------------------------


def create_group(sb: RunningSandbox, username: str, number: int) -> int:
    """The person's own group, created as the Loculus website's "Create group" page does (POST /groups)."""
    body = {
        "groupName": f"Load Lab {number:03d}",
        "institution": f"Load Institute {number:03d}",
        "address": {
            "line1": f"{number} Lab Road",
            "line2": "",
            "city": "Entebbe",
            "state": "",
            "postalCode": "00256",
            "country": "Uganda",
        },
        "contactEmail": f"{username}@sandbox.loculus.invalid",
    }
    token = sb.access_token(username)
    response = requests.post(
        f"{sb.backend}/groups", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=HTTP_TIMEOUT
    )
    response.raise_for_status()
    return int(response.json()["groupId"])


def access_times(path: Path | None) -> dict[str, list[float]]:
    """Seconds per route, as gunicorn timed each request (its access log: method, path, status, µs)."""
    times: dict[str, list[float]] = {}
    if path is None or not path.exists():
        return times
    for line in path.read_text(errors="replace").splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3].isdigit():
            times.setdefault(route_of(parts[0], parts[1]), []).append(int(parts[3]) / 1e6)
    return times


def exceptions_in(log_path: Path) -> list[str]:
    """Each traceback in gunicorn's log, in one line: the request, the exception, the portal's deepest frame
    (the innermost one of submitportal/); and gunicorn's own errors (a worker that timed out or died)."""
    found: list[str] = []
    lines = log_path.read_text(errors="replace").splitlines() if log_path.exists() else []
    request = ""
    last = ""  # of chained tracebacks ("During handling of the above exception …") the last is what was raised
    for index, line in enumerate(lines):
        if "[CRITICAL]" in line or "[ERROR]" in line:
            found.append(line)
        if "Internal Server Error:" in line or "Error handling request" in line:
            if last:
                found.append(last)
                last = ""
            request = line.split(": ", 1)[-1] if "Internal Server Error:" in line else line
        if line.startswith("Traceback"):
            end = index + 1
            frame = ""
            while end < len(lines) and (lines[end].startswith((" ", "\t")) or not lines[end].strip()):
                where = re.match(r'\s*File ".*/(submitportal/[^"]+)", line (\d+), in (\S+)', lines[end])
                if where:
                    frame = f" (in {where.group(3)}, {where.group(1)}:{where.group(2)})"
                end += 1
            if end < len(lines):
                last = f"{request}: {lines[end]}{frame}".strip(": ")
    return [*found, last] if last else found


def endpoint_rows(calls: list[Call], server: dict[str, list[float]]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[Call]] = {}
    order = {"page": 0, "again": 1, "check": 2}  # what the page sends, in the order it first sends it; then the rest
    for call in sorted(calls, key=lambda c: (order[c.purpose], c.started)):
        groups.setdefault((call.route, call.purpose), []).append(call)
    rows = []
    for (route, purpose), members in groups.items():
        seconds = [c.seconds for c in members]
        row: dict[str, Any] = {
            "route": route,
            "purpose": purpose,
            "count": len(members),
            "p50_ms": percentile(seconds, 0.5) * 1000,
            "p95_ms": percentile(seconds, 0.95) * 1000,
            "max_ms": max(seconds) * 1000,
            "errors": sum(1 for c in members if c.problem),
            "resent": sum(1 for c in members if c.resent),
        }
        timed = server.get(route)
        if timed and purpose == "page":
            row["server"] = {
                "count": len(timed),
                "p50_ms": percentile(timed, 0.5) * 1000,
                "p95_ms": percentile(timed, 0.95) * 1000,
                "max_ms": max(timed) * 1000,
            }
        rows.append(row)
    return rows


def endpoint_table(result: dict[str, Any]) -> str:
    lines = [
        "| endpoint | requests | p50 ms | p95 ms | max ms | gunicorn p50 / p95 / max ms | errors | resent |",
        "|---|---|---|---|---|---|---|---|",
    ]
    labels = {"page": "", "check": " *(bench check)*", "again": " *(sent again)*"}
    for row in result["endpoints"]:
        server = row.get("server")
        timed = f"{server['p50_ms']:.0f} / {server['p95_ms']:.0f} / {server['max_ms']:.0f}" if server else ""
        lines.append(
            f"| `{row['route']}`{labels[row['purpose']]} | {row['count']} | {row['p50_ms']:.0f} | "
            f"{row['p95_ms']:.0f} | {row['max_ms']:.0f} | {timed} | {row['errors']} | {row['resent']} |"
        )
    return "\n".join(lines)


def summary(result: dict[str, Any]) -> str:
    rss = result["rss"]
    cpu = result["cpu_s"]
    cores = os.cpu_count() or 1
    hwm = ", ".join(f"{name} {mb:.0f} MB" for name, mb in rss["hwm_mb"].items())
    verdict = {True: "pass", False: "**FAIL**"}
    lines = [
        endpoint_table(result),
        "",
        f"{result['users']} people × {result['files_per_person']} extra files on {result['database']}, "
        f"gunicorn gthread {result['workers']} workers × {result['threads']} threads, DEBUG off: "
        f"{result['submitted']} of {result['users']} submitted in {result['wall_s']:.1f} s "
        f"({result['requests']['portal']} portal requests, {result['requests']['s3']} S3 requests, "
        f"{result['bytes_to_s3'] / 2**20:.0f} MiB to S3).",
        f"errors: {len(result['errors'])} (must be 0: {verdict[not result['errors']]}); "
        f"lost updates: {len(result['lost_updates'])} (must be 0: {verdict[not result['lost_updates']]}).",
        f"portal peak RSS (master + workers, sampled): {rss['peak_sum_mb']:.0f} MB; VmHWM: {hwm}.",
        f"CPU-seconds in the {result['wall_s']:.0f} s: portal {cpu['portal']:.1f}, "
        + (f"its PostgreSQL connections {cpu['database']:.1f}, " if cpu["database"] is not None else "")
        + f"sandbox {cpu['sandbox']:.1f}, "
        f"this bench {cpu['bench']:.1f}, the whole machine {cpu['machine']:.1f} of {cores * result['wall_s']:.0f}; "
        f"{result['resent']} requests resent after the server closed an idle connection (as Chromium does).",
        f"load average before: {result['machine_before']['loadavg']}; after: {result['machine']['loadavg']}.",
    ]
    if result["workers_restarted"]:
        lines.append("gunicorn restarted a worker during the run: its RSS is not in the sampled peak.")
    for error in result["errors"][:20]:
        lines.append(f"error: {error}")
    for lost in result["lost_updates"][:20]:
        lines.append(f"lost update: {json.dumps(lost, ensure_ascii=False)}")
    for line in result["portal_exceptions"][:20]:
        lines.append(f"portal log: {line}")
    return "\n".join(lines)


def database_backends(site: Portal) -> dict[int, float]:
    """CPU-seconds so far of each PostgreSQL server process serving the portal's database (its title names it)."""
    if site.database != "postgresql":
        return {}
    name = urlsplit(site.database_url).path.strip("/")
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres:") and f" {name} " in title:
            found[int(pid)] = cpu_seconds(int(pid))
    return found


def cpu_now(site: Portal, portal_pids: list[int], sandbox_pid: int) -> dict[str, Any]:
    """CPU-seconds so far: the portal's processes, the sandbox, this bench (all its threads), the machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    busy = sum(fields) - fields[3] - fields[4]  # all but idle and iowait
    return {
        "portal": sum(cpu_seconds(pid) for pid in portal_pids),
        "database": database_backends(site),
        "sandbox": cpu_seconds(sandbox_pid),
        "bench": usage.ru_utime + usage.ru_stime,
        "machine": busy / os.sysconf("SC_CLK_TCK"),
    }


def cpu_spent(site: Portal, before: dict[str, Any], after: dict[str, Any]) -> dict[str, float | None]:
    spent: dict[str, float | None] = {
        key: after[key] - before[key] for key in ("portal", "sandbox", "bench", "machine")
    }
    # Connections opened during the run started from nothing; those still open at the end are counted.
    # SQLite works inside the portal's processes.
    database = after["database"].items()
    spent["database"] = (
        sum(cpu - before["database"].get(pid, 0.0) for pid, cpu in database) if site.database != "sqlite" else None
    )
    return spent


def commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "(unknown)"
    return done.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def run(args: argparse.Namespace) -> dict[str, Any]:
    plans = [
        plan_for(number, args.entries, args.files_per_entry, args.file_kb, args.big_mib)
        for number in range(1, args.users + 1)
    ]
    total_bytes = sum(f.size for plan in plans for f in plan.files)
    count = len(plans[0].files)
    log(
        f"{args.users} people, each {args.entries} entries and {count} extra files "
        f"({total_bytes / 2**20:.0f} MiB in all)"
    )
    before = machine()
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    port = free_port()
    recorder = Recorder()
    postgres = args.database_url if args.database == "postgresql" else None
    with ExitStack() as stack:
        sb = stack.enter_context(sandbox(f"http://127.0.0.1:{port}", extra_users=args.users))
        site = stack.enter_context(
            portal(
                sb,
                port,
                workers=args.workers,
                threads=args.threads,
                postgres=postgres,
                access_log=True,
            )
        )
        log(f"portal on {site.database} at {site.url} ({args.workers} workers × {args.threads} threads, DEBUG off)")
        # Before the measure, one after another: people do not all sign in within the same instant (and
        # on SQLite concurrent sign-ins can fail today, see docs/benchmarks.md).
        groups = [create_group(sb, plan.username, plan.number) for plan in plans]
        sessions = [signed_in_session(site.url, plan.username) for plan in plans]
        people = [
            Person(plan, site.url, recorder, group, session)
            for plan, group, session in zip(plans, groups, sessions, strict=True)
        ]
        workers = site.worker_pids()
        start = threading.Barrier(len(people) + 1)
        threads = [threading.Thread(target=person.run, args=(start,), daemon=True) for person in people]
        for thread in threads:
            thread.start()
        portal_pids = [site.process.pid, *workers]
        with RssSampler(portal_pids) as sampler:
            start.wait(timeout=HTTP_TIMEOUT)
            began = time.perf_counter()
            cpu_before = cpu_now(site, portal_pids, sb.process.pid)
            log(f"{len(people)} people started at once")
            deadline = time.monotonic() + RUN_TIMEOUT
            for thread in threads:
                thread.join(timeout=max(0.0, deadline - time.monotonic()))
            ended = max((person.finished_at for person in people if person.finished_at), default=time.perf_counter())
            cpu_after = cpu_now(site, portal_pids, sb.process.pid)
        stuck = [person.name for person, thread in zip(people, threads, strict=True) if thread.is_alive()]
        log(f"all done in {ended - began:.1f} s" + (f"; still running: {stuck}" if stuck else ""))
        hwm_mb = {"master": (status_kib(site.process.pid, "VmHWM") or 0) / 1024}
        for index, pid in enumerate(workers, start=1):
            hwm_mb[f"worker {index}"] = (status_kib(pid, "VmHWM") or 0) / 1024
        restarted = sorted(site.worker_pids()) != sorted(workers)
        records = sb.submissions()
        by_user: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            by_user.setdefault(record["submitter"], []).append(record)
        file_ids = [
            ref["fileId"]
            for record in records
            for entry in record["entries"]
            for refs in entry.get("files", {}).values()
            for ref in refs
        ]
        log(f"checking {len(records)} submissions and {len(file_ids)} files in S3")
        objects = s3_contents(sb, file_ids)
        lost = [item for person in people for item in person.lost]
        for person in people:
            lost += verify(person, by_user.get(person.name, []), objects)
        server = access_times(site.access_log)
        exceptions = exceptions_in(site.log_path)
    calls = recorder.calls
    errors = [f"{person.name}: {problem}" for person in people for problem in person.problems]
    errors += [f"{name}: did not finish within {RUN_TIMEOUT:.0f} s" for name in stuck]
    s3_calls = [c for c in calls if " S3 " in c.route]
    return {
        "commit": commit(),
        "started": started,
        "machine_before": before,
        "machine": machine(),
        "users": args.users,
        "entries_per_person": args.entries,
        "files_per_person": len(plans[0].files),
        "file_kb": args.file_kb,
        "big_mib": args.big_mib,
        "bytes_to_s3": total_bytes,
        "database": site.database,
        "database_url": redacted(args.database_url) if postgres else None,
        "workers": args.workers,
        "threads": args.threads,
        "wall_s": ended - began,
        "submitted": sum(person.submitted for person in people),
        "requests": {"portal": len(calls) - len(s3_calls), "s3": len(s3_calls)},
        "endpoints": endpoint_rows(calls, server),
        "errors": errors,
        "lost_updates": lost,
        "portal_exceptions": exceptions,
        "rss": {"peak_sum_mb": sampler.peak_mb, "hwm_mb": hwm_mb},
        # CPU-seconds spent during the run; "machine" includes everyone else's work on it.
        "cpu_s": cpu_spent(site, cpu_before, cpu_after),
        "resent": sum(1 for call in calls if call.resent),
        "workers_restarted": restarted,
        "people": [
            {
                "user": person.name,
                "draft": person.draft,
                "group": person.group_id,
                "terms": person.plan.terms,
                "submitted": person.submitted,
                "seconds": person.finished_at - began if person.finished_at else None,
                "lost": len(person.lost),
                "problems": person.problems,
            }
            for person in people
        ],
        "pass": {"errors": not errors, "lost_updates": not lost},
        # Every request: seconds since the start, person, route, purpose, status, seconds it took, resent, problem.
        "calls": [
            [
                round(c.started - began, 4),
                c.user,
                c.route,
                c.purpose,
                c.status,
                round(c.seconds, 4),
                c.resent,
                c.problem,
            ]
            for c in sorted(calls, key=lambda c: c.started)
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20, help="people at once, each with an account and a group")
    parser.add_argument("--entries", type=int, default=10, help="entries (metadata rows, sequences) per person")
    parser.add_argument("--files-per-entry", type=int, default=10, help="extra files in each entry's subfolder")
    parser.add_argument("--file-kb", type=int, default=64, help="mean size of an extra file (0.5x to 1.5x)")
    parser.add_argument(
        "--big-mib", type=int, default=12, help="each person's first extra file has this size (0: none)"
    )
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument(
        "--database-url",
        default=database_url_default(),
        help="PostgreSQL server and role (the database is created fresh, with a unique suffix, and dropped); "
        "default $BENCH_DATABASE_URL or %(default)s",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--json", type=Path, default=ROOT / "var" / "bench" / "load.json")
    args = parser.parse_args()
    if not 1 <= args.users <= 999 or args.entries < 1 or args.files_per_entry < 1 or args.file_kb < 1:
        parser.error("--users must be 1 to 999; --entries, --files-per-entry and --file-kb at least 1")
    stop_on_signals()
    if args.database == "postgresql":
        try:
            check_database_server(args.database_url)
        except NoDatabaseServer as problem:
            print(f"bench/load.py: {problem}", file=sys.stderr)
            return 2
    result = run(args)
    write_json(args.json, result)
    print(summary(result))
    print(f"\nJSON: {args.json}")
    return 0 if all(result["pass"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
