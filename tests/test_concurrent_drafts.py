"""One bulk draft, many requests at the same instant, against the portal as deployed (gunicorn, 2 workers).

What the bulk page sends together — the metadata file, the FASTA, an autosave of the terms, a group
change, extra files added, uploaded to S3 and reported done — is fired at one draft in random
order with small random delays, round after round. After each round the draft must hold exactly
the last thing sent for each part, the check must describe the files the draft now has, and no
request may have failed. Runs on the suite's database: SQLite by default, PostgreSQL in CI's second run.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
import requests

from sandbox.launcher import start_sandbox
from tests.deployed import Deployed, free_port, gunicorn_portal, signed_in_session

pytestmark = pytest.mark.django_db(transaction=True)

ORGANISM = "ebola-sudan"
ROUNDS = 50
GROUPS = (1, 2)
TIMEOUT = 60
HX = {"HX-Request": "true"}
SIGN_INS = 16


@pytest.fixture(scope="module")
def deployed(
    tmp_path_factory: pytest.TempPathFactory, django_db_setup: None, django_db_blocker: Any
) -> Iterator[Deployed]:
    """The portal under gunicorn, with a sandbox of its own that takes its sign-ins (redirects to its origin)."""
    port = free_port()
    with (
        django_db_blocker.unblock(),
        start_sandbox(f"http://127.0.0.1:{port}", extra_args=["--extra-users", str(SIGN_INS)]) as sandbox,
    ):
        env = {"LOCULUS_URL": sandbox.website, "S3_ORIGINS": sandbox.s3, "LOG_LEVEL": "WARNING"}
        folder = tmp_path_factory.mktemp("deployed")
        with gunicorn_portal(folder, env, workers=2, threads=8, port=port) as running:
            yield running


@dataclass(frozen=True)
class Round:
    number: int
    entries: int
    group: int
    restricted: bool
    no_pii: bool
    genome: int = 1  # how many times ACGT: long genomes make some checks slow, so checks overtake each other

    @property
    def ids(self) -> list[str]:
        return [f"s{i}" for i in range(1, self.entries + 1)]

    @property
    def metadata_name(self) -> str:
        return f"metadata_r{self.number}.tsv"

    @property
    def sequences_name(self) -> str:
        return f"sequences_r{self.number}.fasta"

    def metadata(self) -> bytes:
        day = self.number % 28 + 1
        rows = ["id\tsampleCollectionDate\tgeoLocCountry"]
        rows += [f"{entry}\t2024-01-{day:02d}\tUganda" for entry in self.ids]
        return ("\n".join(rows) + "\n").encode()

    def sequences(self) -> bytes:
        return "".join(f">{entry}\n{'ACGT' * self.genome}\n" for entry in self.ids).encode()

    @property
    def restricted_until(self) -> str:
        return f"2027-0{self.number % 9 + 1}-15"

    @property
    def extra_paths(self) -> list[str]:
        return [f"s1/r{self.number}_a.fq", f"s2/r{self.number}_b.fq"]


@dataclass
class Outcome:
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, message: str) -> None:
        with self.lock:
            self.problems.append(message)


def _answer(outcome: Outcome, what: str, response: requests.Response, expected: int) -> bool:
    if response.status_code != expected:
        outcome.add(f"{what}: {response.status_code} {response.text[:300]!r}")
        return False
    return True


def _send_file(session: requests.Session, base: str, kind: str, name: str, body: bytes, outcome: Outcome) -> None:
    headers = {**HX, "Content-Type": "application/octet-stream", "X-File-Name": quote(name)}
    response = session.post(f"{base}/bulk/{kind}", data=body, headers=headers, timeout=TIMEOUT)
    _answer(outcome, f"{kind} upload", response, 200)


def _autosave(session: requests.Session, base: str, plan: Round, outcome: Outcome) -> None:
    data = {
        "data_use_terms": "RESTRICTED" if plan.restricted else "OPEN",
        "restricted_until": plan.restricted_until,
        "confirmation-INSDC-upload-terms": "on",
    }
    if plan.no_pii:
        data["confirmation-no-pii"] = "on"
    response = session.post(f"{base}/save", data=data, headers=HX, timeout=TIMEOUT)
    _answer(outcome, "autosave", response, 204)


def _group(session: requests.Session, base: str, plan: Round, outcome: Outcome) -> None:
    response = session.post(f"{base}/group", data={"group": str(plan.group)}, headers=HX, timeout=TIMEOUT)
    _answer(outcome, "group change", response, 200)


def _extra_files(
    session: requests.Session, base: str, plan: Round, outcome: Outcome, paths: list[str] | None = None
) -> None:
    """Add two extra files, upload them to S3 with the URLs the portal hands out, report them done."""
    contents = {path: f"@{path}\nACGT\n+\nIIII\n".encode() for path in paths or plan.extra_paths}
    listing = json.dumps([{"path": path, "size": len(body)} for path, body in contents.items()])
    added = session.post(f"{base}/files/rawReads/", data={"files": listing}, headers=HX, timeout=TIMEOUT)
    if not _answer(outcome, "extra files added", added, 200):
        return
    if "HX-Trigger" in added.headers:
        outcome.add(f"extra files added: the portal said {added.headers['HX-Trigger']}")
        return
    rows = dict(re.findall(r'data-pk="(\d+)"[^>]*data-path="([^"]+)"', added.text))
    if sorted(rows.values()) != sorted(contents):
        outcome.add(f"extra files added: rows {rows} for {sorted(contents)}")
        return
    if "state-refused" in added.text:
        outcome.add(f"extra files added: refused: {added.text[:500]!r}")
        return
    prepared = session.post(
        f"{base}/files/prepare", data={"files": json.dumps([int(pk) for pk in rows])}, timeout=TIMEOUT
    )
    if not _answer(outcome, "upload URLs", prepared, 200):
        return
    reports = []
    for target in prepared.json()["files"]:
        if target["state"] != "pending":
            continue  # the group changed meanwhile: the row says so
        put = requests.put(
            target["urls"][0], data=contents[rows[str(target["pk"])]], headers=target["headers"], timeout=TIMEOUT
        )
        if not _answer(outcome, "S3 PUT", put, 200):
            return
        reports.append({"pk": target["pk"], "etags": [put.headers["ETag"]]})
    if reports:
        done = session.post(f"{base}/files/done", data={"reports": json.dumps(reports)}, headers=HX, timeout=TIMEOUT)
        _answer(outcome, "uploads reported", done, 200)


def _fire(actions: list[Callable[[], None]], rng: random.Random, outcome: Outcome) -> None:
    """All actions at one instant (a barrier), each after its own small random delay, in random order."""
    rng.shuffle(actions)
    delays = [rng.uniform(0, 0.02) for _ in actions]
    barrier = threading.Barrier(len(actions))

    def run(action: Callable[[], None], delay: float) -> None:
        barrier.wait(timeout=TIMEOUT)
        time.sleep(delay)
        try:
            action()
        except requests.RequestException as exc:
            outcome.add(f"request failed: {exc!r}")

    threads = [threading.Thread(target=run, args=pair) for pair in zip(actions, delays, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT * 3)
        assert not thread.is_alive(), "a request did not finish"


def _check_page(page: str, plan: Round, outcome: Outcome) -> None:
    """The bulk page, as the user sees it after the round."""
    where = f"round {plan.number}"
    chosen = dict(re.findall(r'id="chosen-(metadata|sequences)"><strong>([^<]*)</strong>', page))
    if chosen.get("metadata") != plan.metadata_name:
        outcome.add(f"{where}: the metadata file is {chosen.get('metadata')!r}, not {plan.metadata_name!r}")
    if chosen.get("sequences") != plan.sequences_name:
        outcome.add(f"{where}: the sequence file is {chosen.get('sequences')!r}, not {plan.sequences_name!r}")
    count = plan.entries
    verdict = f"✓ {count} entries and {count} sequences checked: no problems found."
    if verdict not in page:
        found = re.search(r'<div id="file-checks" class="file-checks">(.*?)</div>', page, re.S)
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1) if found else "(no checks)"))[:300]
        outcome.add(f"{where}: the check does not describe the current files: {text!r}")
    _check_terms_and_group(page, plan, outcome)
    _check_extra_rows(page, plan, plan.extra_paths, outcome)


def _check_terms_and_group(page: str, plan: Round, outcome: Outcome) -> None:
    where = f"round {plan.number}"
    restricted = re.search(r'value="RESTRICTED" checked', page) is not None
    if restricted != plan.restricted:
        outcome.add(f"{where}: the terms are {'RESTRICTED' if restricted else 'OPEN'}, last sent the other")
    no_pii = re.search(r'name="confirmation-no-pii"[^>]*checked', page) is not None
    if no_pii != plan.no_pii:
        outcome.add(f"{where}: the no-PII confirmation is {'ticked' if no_pii else 'not ticked'}, last sent the other")
    selected = re.search(r'<option value="(\d+)" selected', page)
    if not selected or int(selected.group(1)) != plan.group:
        outcome.add(f"{where}: the group is {selected and selected.group(1)}, last chosen {plan.group}")


def _check_extra_rows(page: str, plan: Round, paths: list[str], outcome: Outcome) -> None:
    for path in paths:
        row = re.search(rf'data-state="(\w+)"[^>]*data-path="{re.escape(path)}"', page)
        if row is None:
            outcome.add(f"round {plan.number}: the extra file {path} is gone")
        elif row.group(1) not in ("uploaded", "failed"):
            outcome.add(f"round {plan.number}: the extra file {path} is {row.group(1)}")


def _check_stored_state(draft_id: str, plan: Round, outcome: Outcome) -> None:
    """What the requests left in the database, before any page is shown (showing one may check again)."""
    from submitportal.models import BulkCheck, BulkFile, Draft

    draft = Draft.objects.get(pk=draft_id)
    files = {f.kind: f for f in BulkFile.objects.filter(draft=draft)}
    check = BulkCheck.objects.filter(draft=draft).first()
    names = {kind: f.name for kind, f in files.items()}
    if names != {"metadata": plan.metadata_name, "sequences": plan.sequences_name}:
        outcome.add(f"round {plan.number}: the draft holds {names}")
    elif check is None or (check.metadata, check.sequences) != (files["metadata"].stored, files["sequences"].stored):
        outcome.add(f"round {plan.number}: the stored check is not of the draft's files: {check}")
    elif check.summary.get("entries") != plan.entries or check.summary.get("errors"):
        outcome.add(f"round {plan.number}: the stored check says {check.summary}")
    _check_uploads_match_group(draft_id, plan, outcome)


def _check_uploads_match_group(draft_id: str, plan: Round, outcome: Outcome) -> None:
    """A ✓ only for files uploaded for the draft's group; a ✗ only because the group changed."""
    from submitportal.models import Draft, ExtraFile

    draft = Draft.objects.get(pk=draft_id)
    wrong = ExtraFile.objects.filter(draft=draft, status=ExtraFile.Status.UPLOADED).exclude(group_id=draft.group_id)
    for upload in wrong:
        where = f"round {plan.number}: {upload.path}"
        outcome.add(f"{where} shows ✓ for group {upload.group_id} in a draft of group {draft.group_id}")
    failed = ExtraFile.objects.filter(draft=draft, status=ExtraFile.Status.FAILED).exclude(error__contains="group")
    for upload in failed:
        outcome.add(f"round {plan.number}: {upload.path} failed: {upload.error}")


def _start(deployed: Deployed, kind: str) -> tuple[int, random.Random, requests.Session, str, str, str]:
    """A random seed (printed on failure, to replay the order), its generator, a signed-in session, and a
    new draft of this kind ("bulk" or "form"): its id, page URL and base URL for its requests."""
    seed = random.randrange(2**32)  # noqa: S311 - a test's random order, not a secret
    session = signed_in_session(deployed.url, "testuser")
    opened = session.get(f"{deployed.url}/{ORGANISM}/submission/{kind}/", allow_redirects=False, timeout=TIMEOUT)
    assert opened.status_code == 302, opened.text[:300]
    draft_id = re.search(rf"/{kind}/([0-9a-f-]{{36}})/", opened.headers["Location"]).group(1)
    page_url = f"{deployed.url}{opened.headers['Location']}"
    return seed, random.Random(seed), session, draft_id, page_url, f"{deployed.url}/drafts/{draft_id}"  # noqa: S311


def _assert_nothing_lost(deployed: Deployed, outcome: Outcome, seed: int, failed_rounds: int) -> None:
    """No round lost anything, and the portal logged no error (every 500 is logged, with its traceback)."""
    errors = [line for line in deployed.log_text().splitlines() if "Traceback" in line or " ERROR " in line]
    summary = f"seed {seed}: {failed_rounds} of {ROUNDS} rounds lost something or failed"
    assert not outcome.problems and not errors, "\n".join([summary, *outcome.problems[:40], *errors[:10]])


def test_a_bulk_draft_keeps_the_last_of_everything_sent_at_once(deployed: Deployed) -> None:
    seed, rng, session, draft_id, page_url, base = _start(deployed, "bulk")
    first = Round(0, 3, GROUPS[0], False, True)
    setup = Outcome()
    _send_file(session, base, "metadata", first.metadata_name, first.metadata(), setup)
    _send_file(session, base, "sequences", first.sequences_name, first.sequences(), setup)
    assert not setup.problems, setup.problems

    outcome = Outcome()
    failed_rounds = 0
    for number in range(1, ROUNDS + 1):
        genome = rng.choice([1, 1000, 250_000, 1_000_000])
        plan = Round(number, rng.randint(2, 5), rng.choice(GROUPS), rng.random() < 0.5, rng.random() < 0.5, genome)
        before = len(outcome.problems)
        actions: list[Callable[[], None]] = [
            lambda plan=plan: _send_file(session, base, "metadata", plan.metadata_name, plan.metadata(), outcome),
            lambda plan=plan: _send_file(session, base, "sequences", plan.sequences_name, plan.sequences(), outcome),
            lambda plan=plan: _autosave(session, base, plan, outcome),
            lambda plan=plan: _group(session, base, plan, outcome),
            lambda plan=plan: _extra_files(session, base, plan, outcome),
        ]
        _fire(actions, rng, outcome)
        _check_stored_state(draft_id, plan, outcome)
        page = session.get(page_url, timeout=TIMEOUT)
        assert page.status_code == 200, page.text[:500]
        _check_page(page.text, plan, outcome)
        failed_rounds += len(outcome.problems) > before

    _assert_nothing_lost(deployed, outcome, seed, failed_rounds)


def test_the_deployed_portal_runs_without_debug(deployed: Deployed) -> None:
    missing = requests.get(f"{deployed.url}/no-such-page/", timeout=TIMEOUT)
    assert missing.status_code == 404
    assert "Traceback" not in missing.text and "DEBUG = True" not in missing.text


def test_a_form_draft_keeps_the_last_of_everything_sent_at_once(deployed: Deployed) -> None:
    """The single-entry form: autosaves from two tabs, a group change and extra files, at one instant."""
    seed, rng, session, draft_id, page_url, base = _start(deployed, "form")
    outcome = Outcome()
    failed_rounds = 0
    for number in range(1, ROUNDS + 1):
        plan = Round(number, 1, rng.choice(GROUPS), rng.random() < 0.5, rng.random() < 0.5)
        before = len(outcome.problems)
        typed = {"id": f"sample-{number}", "geoLocCountry": "Uganda", "sequence-main": "ACGT" * number}

        def autosave_fields(typed: dict[str, str] = typed) -> None:
            answer = session.post(f"{base}/save", data=typed, headers=HX, timeout=TIMEOUT)
            _answer(outcome, "autosave of the fields", answer, 204)

        def extra_files(plan: Round = plan) -> None:
            paths = [f"r{plan.number}_a.fq", f"r{plan.number}_b.fq"]
            _extra_files(session, base, plan, outcome, paths)

        actions: list[Callable[[], None]] = [
            autosave_fields,
            lambda plan=plan: _autosave(session, base, plan, outcome),  # the terms, as a second tab sends them
            lambda plan=plan: _group(session, base, plan, outcome),
            extra_files,
        ]
        _fire(actions, rng, outcome)
        page = session.get(page_url, timeout=TIMEOUT)
        assert page.status_code == 200, page.text[:500]
        where = f"round {number}"
        for name, value in typed.items():
            shown = re.search(rf'name="{re.escape(name)}"[^>]*?(?:value="([^"]*)"|>([^<]*)</textarea>)', page.text)
            if shown is None or value not in (shown.group(1), shown.group(2)):
                outcome.add(f"{where}: {name} shows {shown and (shown.group(1) or shown.group(2))!r}, not {value!r}")
        _check_terms_and_group(page.text, plan, outcome)
        _check_extra_rows(page.text, plan, [f"r{number}_a.fq", f"r{number}_b.fq"], outcome)
        _check_uploads_match_group(draft_id, plan, outcome)
        failed_rounds += len(outcome.problems) > before

    _assert_nothing_lost(deployed, outcome, seed, failed_rounds)


def test_people_signing_in_at_the_same_moment_all_get_in(deployed: Deployed) -> None:
    """Each sign-in writes its user, session and tokens: on SQLite these writers wait for each other."""
    results: dict[str, str] = {}
    barrier = threading.Barrier(SIGN_INS)

    def one(username: str) -> None:
        barrier.wait(timeout=TIMEOUT)
        try:
            session = signed_in_session(deployed.url, username)
            results[username] = str(session.get(f"{deployed.url}/drafts/", timeout=TIMEOUT).status_code)
        except (AssertionError, requests.RequestException) as exc:
            results[username] = repr(exc)[:300]

    names = [f"loaduser{n:03d}" for n in range(1, SIGN_INS + 1)]
    threads = [threading.Thread(target=one, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT * 2)
    assert results == dict.fromkeys(names, "200")
    assert " ERROR " not in deployed.log_text()
