"""The benchmark sink (`/_sandbox/sink`): submit bodies go to disk unparsed; off, the contract path is unchanged."""

from __future__ import annotations

from pathlib import Path

import requests

from sandbox.launcher import RunningSandbox
from tests.sandbox.helpers import TIMEOUT, Backend, fasta, tsv

HEADER = ["id", "sampleCollectionDate", "geoLocCountry"]


def test_in_sink_mode_a_submit_body_is_stored_whole_and_timed(current: Backend) -> None:
    sandbox = current.sandbox
    assert sandbox.admin("POST", "sink", {"enabled": True})["enabled"] is True
    # Not even valid metadata: the sink does not parse, so a benchmark measures the sender alone.
    response = current.post(
        "/ebola-sudan/submit",
        files={"metadataFile": ("m.tsv", b"not\ta\tschema\n"), "sequenceFile": ("s.fasta", b">x\n" + b"A" * 100_000)},
        data={"groupId": "1", "dataUseTermsType": "OPEN"},
    )
    assert response.status_code == 200, response.text
    (item,) = response.json()
    assert item["accession"].startswith("LOC_") and item["version"] == 1
    last = sandbox.admin("GET", "last-receive")
    assert last["complete"] is True
    assert last["bytes"] == len(response.request.body) > 100_000  # type: ignore[arg-type]
    assert last["seconds"] > 0
    body = (Path(sandbox.state_dir) / "sink-body.bin").read_bytes()
    assert body == response.request.body
    assert sandbox.submissions() == []  # nothing recorded


def test_a_shorter_body_overwrites_a_longer_one_exactly(current: Backend) -> None:
    """The sink reuses its file's blocks (no truncation before writing) and cuts it to the new body."""
    current.sandbox.admin("POST", "sink", {"enabled": True})
    bodies = []
    for size in (300_000, 1_000):
        response = current.post(
            "/ebola-sudan/submit",
            files={"metadataFile": ("m.tsv", b"id\n"), "sequenceFile": ("s.fasta", b">x\n" + b"C" * size)},
            data={"groupId": "1", "dataUseTermsType": "OPEN"},
        )
        assert response.status_code == 200, response.text
        bodies.append(response.request.body)
    assert (Path(current.sandbox.state_dir) / "sink-body.bin").read_bytes() == bodies[-1]
    assert current.sandbox.admin("GET", "last-receive")["bytes"] == len(bodies[-1])  # type: ignore[arg-type]


def test_the_sink_still_checks_the_token(current: Backend) -> None:
    current.sandbox.admin("POST", "sink", {"enabled": True})
    response = current.post("/ebola-sudan/submit", username=None, files={"metadataFile": ("m.tsv", b"x")})
    assert response.status_code == 403


def test_reset_switches_the_sink_off_and_the_contract_path_is_back(loculus_sandbox: RunningSandbox) -> None:
    loculus_sandbox.admin("POST", "sink", {"enabled": True})
    loculus_sandbox.reset()
    assert loculus_sandbox.admin("GET", "sink") == {"enabled": False, "last": None}
    missing = requests.get(f"{loculus_sandbox.backend}/_sandbox/last-receive", timeout=TIMEOUT)
    assert missing.status_code == 404
    current = Backend(loculus_sandbox, "current")
    metadata = tsv(HEADER, ["s1", "2024-03-18", "Uganda"])
    response = current.submit("ebola-sudan", metadata, fasta(("s1", "ACGT")))
    assert response.status_code == 200, response.text
    assert response.json()[0]["submissionId"] == "s1"
    assert len(loculus_sandbox.submissions()) == 1


def test_a_bad_switch_is_refused(loculus_sandbox: RunningSandbox) -> None:
    response = requests.post(f"{loculus_sandbox.backend}/_sandbox/sink", json={"enabled": "yes"}, timeout=TIMEOUT)
    assert response.status_code == 400
