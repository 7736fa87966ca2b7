"""Small HTTP helpers for talking to the sandbox as a Loculus client would."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import requests

from sandbox.launcher import RunningSandbox

TIMEOUT = 60
PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


def tsv(*rows: list[str] | tuple[str, ...]) -> str:
    return "".join("\t".join(row) + "\n" for row in rows)


def fasta(*entries: tuple[str, str]) -> str:
    return "".join(f">{header}\n{sequence}\n" for header, sequence in entries)


def assert_problem(response: requests.Response, status: int, title: str, detail: str, *, exact: bool = True) -> None:
    """A ProblemDetail answer with this status, title and detail (exact, or contained)."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert set(body) == PROBLEM_KEYS
    assert body["type"] == "about:blank"
    assert body["title"] == title
    assert body["status"] == status
    assert body["instance"] == requests.utils.urlparse(response.url).path
    if exact:
        assert body["detail"] == detail
    else:
        assert detail in body["detail"], body["detail"]


@dataclass
class Backend:
    sandbox: RunningSandbox
    generation: str
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.sandbox.backend

    def token(self, username: str = "testuser") -> str:
        if username not in self.tokens:
            self.tokens[username] = self.sandbox.access_token(username)
        return self.tokens[username]

    def headers(self, username: str | None = "testuser") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username)}"} if username else {}

    def get(self, path: str, username: str | None = "testuser", **kwargs: Any) -> requests.Response:
        return requests.get(self.url + path, headers=self.headers(username), timeout=TIMEOUT, **kwargs)

    def post(self, path: str, username: str | None = "testuser", **kwargs: Any) -> requests.Response:
        headers = {**self.headers(username), **kwargs.pop("headers", {})}
        return requests.post(self.url + path, headers=headers, timeout=TIMEOUT, **kwargs)

    # --- files ------------------------------------------------------------------------------

    def request_upload(
        self, group_id: int = 1, number_files: int = 1, username: str = "testuser"
    ) -> list[dict[str, Any]]:
        response = self.post(f"/files/request-upload?groupId={group_id}&numberFiles={number_files}", username)
        assert response.status_code == 200, response.text
        return list(response.json())

    def uploaded_file(
        self, group_id: int = 1, content: bytes = b"@r1\nACGT\n+\nIIII\n", username: str = "testuser"
    ) -> str:
        """Request an upload URL, PUT content with the returned headers, and return the file ID."""
        item = self.request_upload(group_id, username=username)[0]
        put = requests.put(item["url"], data=content, headers=item["headers"], timeout=TIMEOUT)
        assert put.status_code == 200, put.text
        return str(item["fileId"])

    def requested_file(self, group_id: int = 1) -> str:
        """A file ID whose upload URL was requested but never used."""
        return str(self.request_upload(group_id)[0]["fileId"])

    def uncompleted_multipart_file(self, group_id: int = 1) -> tuple[str, dict[str, Any]]:
        response = self.post(f"/files/request-multipart-upload?groupId={group_id}&numberParts=1")
        assert response.status_code == 200, response.text
        item = response.json()[0]
        return str(item["fileId"]), item

    # --- submit -------------------------------------------------------------------------------

    def submit(
        self,
        organism: str,
        metadata: str | bytes | None,
        sequences: str | bytes | None = None,
        *,
        group_id: int | str | None = 1,
        terms: str | None = "OPEN",
        restricted_until: str | None = None,
        metadata_name: str = "metadata.tsv",
        sequence_name: str = "sequences.fasta",
        files: dict[str, dict[str, list[tuple[str, str]]]] | None = None,
        file_mapping: str | None = None,
        username: str | None = "testuser",
        params_in_query: bool = False,
    ) -> requests.Response:
        """POST /{organism}/submit. ``files`` (submissionId -> category -> [(name, fileId)]) is
        attached the generation's way: ``files.<category>`` columns, or a legacy fileMapping part."""
        if files and metadata is not None:
            if self.generation == "current":
                metadata = add_file_columns(str(metadata), files)
            else:
                file_mapping = json.dumps(
                    {
                        sid: {cat: [{"fileId": fid, "name": name} for name, fid in refs] for cat, refs in cats.items()}
                        for sid, cats in files.items()
                    }
                )
        parts: dict[str, Any] = {}
        if metadata is not None:
            parts["metadataFile"] = (metadata_name, metadata)
        if sequences is not None:
            parts["sequenceFile"] = (sequence_name, sequences)
        fields: dict[str, str] = {}
        if group_id is not None:
            fields["groupId"] = str(group_id)
        if terms is not None:
            fields["dataUseTermsType"] = terms
        if restricted_until is not None:
            fields["restrictedUntil"] = restricted_until
        if file_mapping is not None:
            fields["fileMapping"] = file_mapping
        if params_in_query:
            return self.post(f"/{organism}/submit", username, params=fields, files=parts or {"none": ("", b"")})
        return self.post(f"/{organism}/submit", username, data=fields, files=parts or {"none": ("", b"")})

    def revise(
        self,
        organism: str,
        metadata: str | bytes | None,
        sequences: str | bytes | None = None,
        *,
        metadata_name: str = "metadata.tsv",
        sequence_name: str = "sequences.fasta",
        files: dict[str, dict[str, list[tuple[str, str]]]] | None = None,
        file_mapping: str | None = None,
        username: str | None = "testuser",
    ) -> requests.Response:
        """POST /{organism}/revise; ``files`` attached the generation's way, as for :meth:`submit`."""
        if files and metadata is not None:
            if self.generation == "current":
                metadata = add_file_columns(str(metadata), files)
            else:
                file_mapping = legacy_file_mapping(files)
        parts: dict[str, Any] = {}
        if metadata is not None:
            parts["metadataFile"] = (metadata_name, metadata)
        if sequences is not None:
            parts["sequenceFile"] = (sequence_name, sequences)
        fields = {"fileMapping": file_mapping} if file_mapping is not None else {}
        return self.post(f"/{organism}/revise", username, data=fields, files=parts or {"none": ("", b"")})


def legacy_file_mapping(files: dict[str, dict[str, list[tuple[str, str]]]]) -> str:
    return json.dumps(
        {
            sid: {cat: [{"fileId": fid, "name": name} for name, fid in refs] for cat, refs in cats.items()}
            for sid, cats in files.items()
        }
    )


def add_file_columns(metadata: str, files: dict[str, dict[str, list[tuple[str, str]]]]) -> str:
    lines = metadata.rstrip("\n").split("\n")
    header = lines[0].split("\t")
    categories = list(dict.fromkeys(cat for cats in files.values() for cat in cats))
    id_index = header.index("id") if "id" in header else header.index("submissionId")
    out = ["\t".join(header + [f"files.{cat}" for cat in categories])]
    for line in lines[1:]:
        cells = line.split("\t")
        row_files = files.get(cells[id_index], {})
        out.append("\t".join(cells + [" ".join(f"{n}:{i}" for n, i in row_files.get(cat, [])) for cat in categories]))
    return "\n".join(out) + "\n"
