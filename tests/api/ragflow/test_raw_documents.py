"""`/api/v1/documents/{id}` and `/documents/{id}/preview`: a document's file by id alone, RAGFlow v0.27's GET routes
(its test_document_raw_routes.py), within the caller's tenant."""

from __future__ import annotations

import pytest

from tests.api.ragflow.helpers import Client, call, new_dataset, upload
from tests.conftest import Caller

CONTENT = "Über Bienen.\nBees make honey.".encode()


async def uploaded(client: Client, caller: Caller, name: str = "bienen notes.txt") -> tuple[str, str]:
    ds = await new_dataset(client, caller)
    [doc] = await upload(client, caller, ds["id"], (name, CONTENT))
    return ds["id"], doc["id"]


async def test_download_by_id_is_the_file_as_an_attachment(client: Client, caller: Caller) -> None:
    _, document_id = await uploaded(client, caller)
    response = await client.get(f"/api/v1/documents/{document_id}", headers=caller.headers)
    assert response.status_code == 200 and response.content == CONTENT
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["content-disposition"] == "attachment; filename*=UTF-8''bienen%20notes.txt"


async def test_preview_serves_it_inline(client: Client, caller: Caller) -> None:
    _, document_id = await uploaded(client, caller, "report.pdf")
    response = await client.get(f"/api/v1/documents/{document_id}/preview", headers=caller.headers)
    assert response.status_code == 200 and response.content == CONTENT
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == "inline; filename*=UTF-8''report.pdf"


@pytest.mark.parametrize("suffix", ["", "/preview"])
async def test_unknown_id_is_document_not_found(client: Client, caller: Caller, suffix: str) -> None:
    for document_id in ("invalid_document_id", "0" * 32, "x" * 300):
        reply = await call(client, caller, "GET", f"/documents/{document_id}{suffix}")
        assert reply == {"code": 102, "message": "document not found"}


@pytest.mark.parametrize("suffix", ["", "/preview"])
async def test_another_tenants_document_is_not_found(
    client: Client, caller: Caller, other_caller: Caller, suffix: str
) -> None:
    _, document_id = await uploaded(client, caller)
    reply = await call(client, other_caller, "GET", f"/documents/{document_id}{suffix}")
    assert reply == {"code": 102, "message": "document not found"}


async def test_a_deleted_document_is_gone(client: Client, caller: Caller) -> None:
    dataset_id, document_id = await uploaded(client, caller)
    deleted = await call(client, caller, "DELETE", f"/datasets/{dataset_id}/documents", json={"ids": [document_id]})
    assert deleted["code"] == 0
    assert await call(client, caller, "GET", f"/documents/{document_id}") == {
        "code": 102,
        "message": "document not found",
    }


@pytest.mark.parametrize("key", [None, "ragflow-not-a-key"])
async def test_without_a_valid_key_it_is_401(client: Client, caller: Caller, key: str | None) -> None:
    _, document_id = await uploaded(client, caller)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = await client.get(f"/api/v1/documents/{document_id}", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"code": 401, "message": "<Unauthorized '401: Unauthorized'>", "data": None}


async def test_only_get_is_served_there(client: Client, caller: Caller) -> None:
    """RAGFlow serves GET only at /documents/{id}: a DELETE is refused and deletes nothing."""
    _, document_id = await uploaded(client, caller)
    response = await client.delete(f"/api/v1/documents/{document_id}", headers=caller.headers)
    assert response.status_code == 405
    assert response.json() == {"code": 405, "message": "Method Not Allowed", "data": None}
    still = await client.get(f"/api/v1/documents/{document_id}", headers=caller.headers)
    assert still.status_code == 200 and still.content == CONTENT


@pytest.mark.parametrize(
    "path",
    [
        "/documents/images/not-a-valid-image-id",
        "/documents/doc-1/images/imagetemps-page-1.png",
        "/documents/doc-1/thumbnail",
    ],
)
async def test_ragflows_other_document_routes_check_the_key_first(client: Client, caller: Caller, path: str) -> None:
    """Routes RAGFlow has under /documents/{id} that this server does not serve: 401 without a key, then 404."""
    without = await client.get("/api/v1" + path)
    assert without.status_code == 401 and without.json()["code"] == 401
    served = await client.get("/api/v1" + path, headers=caller.headers)
    assert served.status_code == 404 and served.json()["message"] == f"Not Found: /api/v1{path}"
