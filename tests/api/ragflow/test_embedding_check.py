"""`POST /datasets/{id}/embedding/check` and `POST /datasets/{id}/embedding` as RAGFlow v0.27 answers them: stored
chunks re-embedded with the named model and compared (cosine, ≥ 0.9 on average is a safe switch), and a re-embed
of every document."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from service.db.models import Chunk
from service.runtime import Runtime
from tests.api.ragflow.helpers import Client, call, document, new_dataset, upload, wait_parsed
from tests.conftest import Caller

BUILTIN = "all-MiniLM-L6-v2@Builtin"


async def dataset_with_chunks(client: Client, caller: Caller, *contents: str) -> tuple[str, list[str]]:
    ds = await new_dataset(client, caller)
    [doc] = await upload(client, caller, ds["id"], ("notes.txt", b"x"))
    path = f"/datasets/{ds['id']}/documents/{doc['id']}/chunks"
    ids = []
    for content in contents:
        added = await call(client, caller, "POST", path, json={"content": content})
        assert added["code"] == 0, added
        ids.append(added["data"]["chunk"]["id"])
    return ds["id"], ids


def check_path(dataset_id: str) -> str:
    return f"/datasets/{dataset_id}/embedding/check"


async def test_the_datasets_own_model_matches_its_stored_vectors(client: Client, caller: Caller) -> None:
    dataset_id, chunk_ids = await dataset_with_chunks(client, caller, "Bees make honey.", "Ants build nests.")
    reply = await call(client, caller, "POST", check_path(dataset_id), json={"embd_id": BUILTIN})
    assert reply["code"] == 0, reply
    summary, results = reply["data"]["summary"], reply["data"]["results"]
    assert {k: summary[k] for k in ("kb_id", "model", "sampled", "valid")} == {
        "kb_id": dataset_id,
        "model": BUILTIN,
        "sampled": 2,
        "valid": 2,
    }
    assert summary["min_cos_sim"] > 0.999 and summary["avg_cos_sim"] > 0.999 and summary["max_cos_sim"] <= 1.000001
    assert summary["match_mode"] == "content_only"
    assert sorted(result["chunk_id"] for result in results) == sorted(chunk_ids)
    assert {(r["doc_name"], r["vector_field"], r["vector_dim"]) for r in results} == {("notes.txt", "q_384_vec", 384)}


async def test_check_num_bounds_the_sample(client: Client, caller: Caller) -> None:
    dataset_id, _ = await dataset_with_chunks(client, caller, "one", "two", "three")
    reply = await call(client, caller, "POST", check_path(dataset_id), json={"embd_id": BUILTIN, "check_num": 2})
    assert reply["data"]["summary"]["sampled"] == 2 and len(reply["data"]["results"]) == 2


async def test_the_model_is_reported_as_named(client: Client, caller: Caller) -> None:
    dataset_id, _ = await dataset_with_chunks(client, caller, "Bees make honey.")
    named = "all-MiniLM-L6-v2@builtin"
    reply = await call(client, caller, "POST", check_path(dataset_id), json={"embd_id": named, "check_num": "3"})
    assert reply["code"] == 0 and reply["data"]["summary"]["model"] == named


async def test_vectors_from_another_space_are_not_effective(client: Client, caller: Caller, runtime: Runtime) -> None:
    dataset_id, [chunk_id] = await dataset_with_chunks(client, caller, "Bees make honey.")
    async with runtime.sessions() as db:  # as if another model had embedded it
        await db.execute(update(Chunk).where(Chunk.id == chunk_id).values(embedding=[1.0] + [0.0] * 383))
        await db.commit()
    reply = await call(client, caller, "POST", check_path(dataset_id), json={"embd_id": BUILTIN})
    assert reply["code"] == 10
    assert reply["message"] == (
        "Embedding model switch failed: the average similarity between old and new vectors is below 0.9, "
        "indicating incompatible vector spaces."
    )
    assert reply["data"]["summary"]["valid"] == 1 and reply["data"]["summary"]["avg_cos_sim"] < 0.9
    assert reply["data"]["results"][0]["chunk_id"] == chunk_id


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "`embd_id` is required."),
        ({}, "`embd_id` is required."),
        ({"embd_id": ""}, "`embd_id` is required."),
        ({"embd_id": 5}, "`embd_id` should be a string"),
        ({"embd_id": BUILTIN, "check_num": "many"}, "`check_num` should be a positive integer"),
        ({"embd_id": BUILTIN, "check_num": 0}, "`check_num` should be a positive integer"),
        ({"embd_id": "text-embedding-3@OpenAI"}, "Provider OpenAI not found for model text-embedding-3@OpenAI."),
        ({"embd_id": "bge-m3@Builtin"}, "Model bge-m3@Builtin not found for model embedding"),
        ({"embd_id": "no-provider"}, "embedding model identifier must follow <model_name>@<provider> format"),
    ],
)
async def test_refusals(client: Client, caller: Caller, body: dict[str, Any] | None, message: str) -> None:
    dataset_id, _ = await dataset_with_chunks(client, caller, "Bees make honey.")
    reply = await call(client, caller, "POST", check_path(dataset_id), json=body)
    assert reply == {"code": 102, "message": message}


async def test_a_dataset_without_chunks_has_nothing_to_compare(client: Client, caller: Caller) -> None:
    ds = await new_dataset(client, caller)
    reply = await call(client, caller, "POST", check_path(ds["id"]), json={"embd_id": BUILTIN})
    assert reply == {"code": 102, "message": "No embedded chunks are available to compare."}


async def test_unavailable_chunks_are_not_sampled(client: Client, caller: Caller) -> None:
    dataset_id, [chunk_id] = await dataset_with_chunks(client, caller, "Bees make honey.")
    [doc] = (await call(client, caller, "GET", f"/datasets/{dataset_id}/documents"))["data"]["docs"]
    path = f"/datasets/{dataset_id}/documents/{doc['id']}/chunks/{chunk_id}"
    assert (await call(client, caller, "PATCH", path, json={"available": False}))["code"] == 0
    reply = await call(client, caller, "POST", check_path(dataset_id), json={"embd_id": BUILTIN})
    assert reply == {"code": 102, "message": "No embedded chunks are available to compare."}


async def test_run_embedding_parses_every_document_again(client: Client, caller: Caller) -> None:
    ds = await new_dataset(client, caller)
    path = f"/datasets/{ds['id']}/embedding"
    assert await call(client, caller, "POST", path) == {"code": 102, "message": f"No documents in Dataset {ds['id']}"}
    docs = await upload(client, caller, ds["id"], ("a.txt", b"Bees make honey."), ("b.txt", b"Ants build nests."))
    assert await call(client, caller, "POST", path) == {"code": 0, "data": {"scheduled_count": 2}}
    for doc in docs:
        parsed = await wait_parsed(client, caller, ds["id"], doc["id"])
        assert parsed["run"] == "DONE" and parsed["chunk_count"] == 1
    check = await call(client, caller, "POST", check_path(ds["id"]), json={"embd_id": BUILTIN})
    assert check["code"] == 0 and check["data"]["summary"]["valid"] == 2


async def test_another_tenants_dataset_is_refused(client: Client, caller: Caller, other_caller: Caller) -> None:
    dataset_id, _ = await dataset_with_chunks(client, caller, "Bees make honey.")
    refused = {"code": 102, "message": "no authorization"}
    assert await call(client, other_caller, "POST", check_path(dataset_id), json={"embd_id": BUILTIN}) == refused
    assert await call(client, other_caller, "POST", f"/datasets/{dataset_id}/embedding") == refused
    [doc] = (await call(client, caller, "GET", f"/datasets/{dataset_id}/documents"))["data"]["docs"]
    assert (await document(client, caller, dataset_id, doc["id"]))["run"] == "UNSTART"  # nothing was re-run
