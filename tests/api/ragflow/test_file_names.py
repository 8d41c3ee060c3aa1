"""Uploaded file names: path components stripped, bidi control characters refused, on every route naming one.

Before, `../../etc/passwd.txt` was stored, listed and offered for download under that very name, and a name with
U+202E showed reversed (`report\u202etxt.exe` reads `reportexe.txt`).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from service.domain.file_names import BIDI_CONTROLS
from tests.api.ragflow.helpers import call, new_dataset, upload
from tests.conftest import Caller

BIDI_MESSAGE = "File name must not contain bidirectional control characters ({})."


async def download(client: httpx.AsyncClient, caller: Caller, dataset_id: str, document_id: str) -> httpx.Response:
    response = await client.get(f"/api/v1/datasets/{dataset_id}/documents/{document_id}", headers=caller.headers)
    assert response.status_code == 200, response.text
    return response


async def names(client: httpx.AsyncClient, caller: Caller, dataset_id: str) -> list[str]:
    listed = await call(client, caller, "GET", f"/datasets/{dataset_id}/documents")
    return sorted(doc["name"] for doc in listed["data"]["docs"])


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\x.txt", "x.txt"),
        ("/abs/dir/report.csv", "report.csv"),
        ("docs\\my notes.md", "my notes.md"),  # (Litestar's form parser already took `C:\...` to its last part)
    ],
)
async def test_path_components_are_stripped(client: httpx.AsyncClient, caller: Caller, given: str, stored: str) -> None:
    dataset = await new_dataset(client, caller, "paths")
    [document] = await upload(client, caller, dataset["id"], (given, b"some text"))
    assert document["name"] == stored
    assert await names(client, caller, dataset["id"]) == [stored]
    response = await download(client, caller, dataset["id"], document["id"])
    assert response.headers["content-disposition"] == f"attachment; filename*=UTF-8''{stored.replace(' ', '%20')}"


async def test_bidi_controls_are_refused(client: httpx.AsyncClient, caller: Caller) -> None:
    dataset = await new_dataset(client, caller, "bidi")
    path = f"/datasets/{dataset['id']}/documents"
    for char in sorted(BIDI_CONTROLS):
        files: list[Any] = [("file", (f"report{char}fdp.txt", b"x"))]
        reply = await call(client, caller, "POST", path, files=files)
        assert reply == {"code": 101, "message": BIDI_MESSAGE.format(f"U+{ord(char):04X}")}, reply
    assert len(BIDI_CONTROLS) == 11  # U+202A–U+202E, U+2066–U+2069, U+200E, U+200F
    several: list[Any] = [("file", ("ok.txt", b"x")), ("file", ("\u2067a\u202eb\u2067.txt", b"x"))]
    reply = await call(client, caller, "POST", path, files=several)
    assert reply == {"code": 101, "message": BIDI_MESSAGE.format("U+202E, U+2067")}
    assert await names(client, caller, dataset["id"]) == []  # one bad name refuses the whole upload


@pytest.mark.parametrize("given", ["../", "a/..", "dir\\."])
async def test_a_path_naming_no_file_is_refused(client: httpx.AsyncClient, caller: Caller, given: str) -> None:
    dataset = await new_dataset(client, caller, "folders")
    files: list[Any] = [("file", (given, b"x"))]
    reply = await call(client, caller, "POST", f"/datasets/{dataset['id']}/documents", files=files)
    assert reply == {"code": 101, "message": "File name must name a file, not a folder."}


async def test_a_rename_follows_the_same_rule(client: httpx.AsyncClient, caller: Caller) -> None:
    dataset = await new_dataset(client, caller, "renames")
    [document] = await upload(client, caller, dataset["id"], ("a.txt", b"x"))
    path = f"/datasets/{dataset['id']}/documents/{document['id']}"
    assert (await call(client, caller, "PUT", path, json={"name": "../../b.txt"}))["code"] == 0
    assert await names(client, caller, dataset["id"]) == ["b.txt"]
    refused = await call(client, caller, "PUT", path, json={"name": "b\u202etxt.txt"})
    assert refused == {"code": 101, "message": BIDI_MESSAGE.format("U+202E")}
    assert (await call(client, caller, "PUT", path, json={"name": "sub/b.txt"}))["code"] == 0  # the same name: no-op


async def test_the_draft_upload_route_gets_the_rule_too(
    client: httpx.AsyncClient, caller: Caller, other_caller: Caller
) -> None:
    """The v0.13 draft's `/dataset/{id}/document` shares the domain's upload, and the name it stores."""
    dataset = await new_dataset(client, caller, "draft")
    files: list[Any] = [("file", ("../../etc/passwd.txt", b"root"))]
    reply = await call(client, caller, "POST", f"/dataset/{dataset['id']}/document", files=files)
    assert reply["code"] == 0 and reply["data"][0]["name"] == "passwd.txt", reply
    bidi: list[Any] = [("file", ("x\u200e.txt", b"x"))]
    refused = await call(client, caller, "POST", f"/dataset/{dataset['id']}/document", files=bidi)
    assert refused == {"code": 101, "message": BIDI_MESSAGE.format("U+200E")}
    their_view = await call(client, other_caller, "GET", f"/datasets/{dataset['id']}/documents")
    assert their_view["code"] == 102 and "passwd" not in str(their_view)  # another tenant sees nothing of it
