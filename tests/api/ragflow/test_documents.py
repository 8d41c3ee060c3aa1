from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from service.db.models import Chunk
from service.runtime import Runtime
from tests.api.ragflow.helpers import Client, call, document, new_dataset, parse, upload, wait_parsed
from tests.conftest import Caller

FAQ = b"How do I reset my password?\nOpen settings and choose reset.\n\nWhere are invoices?\nUnder billing."


async def test_upload_several_files_list_and_download(client: Client, caller: Caller) -> None:
    ds = await new_dataset(client, caller)
    added = await upload(client, caller, ds["id"], ("faq.txt", FAQ), ("notes.md", b"# T\nbody"), ("faq.txt", b"again"))
    assert [d["name"] for d in added] == ["faq.txt", "notes.md", "faq(1).txt"]
    assert added[0]["run"] == "UNSTART" and added[0]["size"] == len(FAQ) and added[0]["suffix"] == "txt"
    listing = await call(
        client, caller, "GET", f"/datasets/{ds['id']}/documents", params={"orderby": "name", "desc": "false"}
    )
    assert listing["data"]["total"] == 3
    assert [d["name"] for d in listing["data"]["docs"]] == ["faq(1).txt", "faq.txt", "notes.md"]
    by_suffix = await call(client, caller, "GET", f"/datasets/{ds['id']}/documents", params={"suffix": "md"})
    assert [d["name"] for d in by_suffix["data"]["docs"]] == ["notes.md"]
    by_keyword = await call(client, caller, "GET", f"/datasets/{ds['id']}/documents", params={"keywords": "FAQ"})
    assert by_keyword["data"]["total"] == 2
    response = await client.get(f"/api/v1/datasets/{ds['id']}/documents/{added[0]['id']}", headers=caller.headers)
    assert response.status_code == 200 and response.content == FAQ
    assert "attachment" in response.headers["content-disposition"]
    dataset = await call(client, caller, "GET", f"/datasets/{ds['id']}")
    assert dataset["data"]["document_count"] == 3


async def test_keywords_match_percent_and_underscore_literally(client: Client, caller: Caller) -> None:
    ds = await new_dataset(client, caller)
    await upload(client, caller, ds["id"], ("a_b.txt", b"one"), ("ab.txt", b"two"), ("100%.txt", b"three"))

    async def names(keywords: str) -> list[str]:
        reply = await call(client, caller, "GET", f"/datasets/{ds['id']}/documents", params={"keywords": keywords})
        return [d["name"] for d in reply["data"]["docs"]]

    assert await names("_") == ["a_b.txt"]
    assert await names("%") == ["100%.txt"]


async def test_upload_errors(client: Client, caller: Caller, runtime: Runtime) -> None:
    ds = await new_dataset(client, caller)
    path = f"/datasets/{ds['id']}/documents"
    assert (await call(client, caller, "POST", path, files=[("other", ("a.txt", b"x"))]))["message"] == "No file part!"
    unsupported = await call(client, caller, "POST", path, files=[("file", ("movie.mp4", b"x"))])
    assert unsupported["code"] == 101 and "not supported" in unsupported["message"]
    big = b"x" * (runtime.settings.max_upload_bytes + 1)
    too_big = await call(client, caller, "POST", path, files=[("file", ("big.txt", big))])
    assert too_big["code"] == 102 and "limit" in too_big["message"]
    listing = await call(client, caller, "GET", path)
    assert listing["data"]["total"] == 0


async def test_update_name_rules_and_enabled(client: Client, caller: Caller) -> None:
    ds = await new_dataset(client, caller)
    first, _ = await upload(client, caller, ds["id"], ("a.txt", b"a"), ("b.txt", b"b"))
    path = f"/datasets/{ds['id']}/documents/{first['id']}"
    renamed = await call(client, caller, "PATCH", path, json={"name": "renamed.txt", "meta_fields": {"author": "x"}})
    assert renamed["data"]["name"] == "renamed.txt" and renamed["data"]["meta_fields"] == {"author": "x"}
    assert (await call(client, caller, "PATCH", path, json={"name": "renamed.pdf"}))["code"] == 101
    assert (await call(client, caller, "PUT", path, json={"name": "b.txt"}))["code"] == 102
    assert (await call(client, caller, "PATCH", path, json={"enabled": 7}))["code"] == 102
    assert (await call(client, caller, "PATCH", path, json={"chunk_count": 5}))["code"] == 102
    disabled = await call(client, caller, "PUT", path, json={"enabled": 0})
    assert disabled["data"]["status"] == "0"
    method = await call(client, caller, "PATCH", path, json={"chunk_method": "one"})
    assert method["data"]["chunk_method"] == "one"


async def test_delete_documents(client: Client, caller: Caller, other_caller: Caller) -> None:
    ds = await new_dataset(client, caller)
    docs = await upload(client, caller, ds["id"], ("a.txt", b"a"), ("b.txt", b"b"))
    path = f"/datasets/{ds['id']}/documents"
    assert (await call(client, caller, "DELETE", path, json={}))["code"] == 101
    # RAGFlow v0.27 deletes the documents it finds, then reports the others
    missing = await call(client, caller, "DELETE", path, json={"ids": [docs[0]["id"], "0" * 32]})
    assert missing == {"code": 102, "message": f"Documents not found: ['{'0' * 32}']"}
    assert (await call(client, other_caller, "DELETE", path, json={"delete_all": True}))["code"] == 102
    assert (await call(client, caller, "GET", path))["data"]["total"] == 1
    assert (await call(client, caller, "DELETE", path, json={"ids": [docs[1]["id"]]}))["data"] == {"deleted": 1}


async def test_parse_to_done_then_reparse_without_duplicates(client: Client, caller: Caller, runtime: Runtime) -> None:
    ds = await new_dataset(client, caller, parser_config={"chunk_token_num": 16})
    text = "\n".join(f"Line {i} talks about topic number {i}." for i in range(30)).encode()
    [doc] = await upload(client, caller, ds["id"], ("topics.txt", text))
    [done] = await parse(client, caller, ds["id"], doc["id"])
    assert done["run"] == "DONE" and done["progress"] == 1.0 and done["chunk_count"] > 5
    assert "Task done" in done["progress_msg"] and done["token_count"] > 0 and done["process_duration"] > 0
    # Legacy path (what ragflow-sdk calls) parses again: the chunks are replaced, never doubled.
    assert await call(client, caller, "POST", f"/datasets/{ds['id']}/chunks", json={"document_ids": [doc["id"]]}) == {
        "code": 0
    }
    again = await wait_parsed(client, caller, ds["id"], doc["id"])
    assert again["chunk_count"] == done["chunk_count"]
    async with runtime.sessions() as db:
        stored = await db.scalar(select(func.count()).where(Chunk.document_id == doc["id"]))
    assert stored == done["chunk_count"]
    dataset = await call(client, caller, "GET", f"/datasets/{ds['id']}")
    assert dataset["data"]["chunk_count"] == done["chunk_count"] and dataset["data"]["done_count"] == 1


async def test_corrupt_file_fails_alone(client: Client, caller: Caller) -> None:
    ds = await new_dataset(client, caller)
    bad, good = await upload(client, caller, ds["id"], ("broken.pdf", b"%PDF-1.4 not really"), ("ok.txt", FAQ))
    failed, done = await parse(client, caller, ds["id"], bad["id"], good["id"])
    assert failed["run"] == "FAIL" and failed["progress"] == -1 and "broken.pdf" in failed["progress_msg"]
    assert done["run"] == "DONE" and done["chunk_count"] >= 1


async def test_parse_unknown_document_and_empty_list(client: Client, caller: Caller) -> None:
    ds = await new_dataset(client, caller)
    path = f"/datasets/{ds['id']}/documents/parse"
    assert (await call(client, caller, "POST", path, json={"document_ids": []}))["code"] == 101
    unknown = await call(client, caller, "POST", path, json={"document_ids": ["0" * 32]})
    assert unknown["code"] == 102 and "0" * 32 in unknown["message"]


async def test_stop_cancels_a_running_parse_and_keeps_no_chunks(
    client: Client, caller: Caller, runtime: Runtime
) -> None:
    ds = await new_dataset(client, caller, parser_config={"chunk_token_num": 8})
    big = "\n".join(f"Paragraph {i} about cancelling long parsing jobs." for i in range(3000)).encode()
    [doc] = await upload(client, caller, ds["id"], ("big.txt", big))
    started = await call(
        client, caller, "POST", f"/datasets/{ds['id']}/documents/parse", json={"document_ids": [doc["id"]]}
    )
    assert started["data"]["success_count"] == 1
    stopped = await call(
        client, caller, "POST", f"/datasets/{ds['id']}/documents/stop", json={"document_ids": [doc["id"]]}
    )
    assert stopped["data"] == {"success_count": 1}
    await wait_queue_idle(runtime)
    after = await document(client, caller, ds["id"], doc["id"])
    assert after["run"] == "CANCEL" and after["chunk_count"] == 0 and "Task stopped by user." in after["progress_msg"]
    chunks = await call(client, caller, "GET", f"/datasets/{ds['id']}/documents/{doc['id']}/chunks")
    assert chunks["data"]["total"] == 0
    [idle] = await upload(client, caller, ds["id"], ("idle.txt", b"never parsed"))
    refused = await call(client, caller, "DELETE", f"/datasets/{ds['id']}/chunks", json={"document_ids": [idle["id"]]})
    assert refused["code"] == 102 and refused["data"] == {"error_code": "DOC_STOP_PARSING_INVALID_STATE"}
    current = await call(
        client, caller, "POST", f"/datasets/{ds['id']}/documents/stop", json={"document_ids": [idle["id"]]}
    )
    assert current["data"]["success_count"] == 0 and "not started" in current["data"]["errors"][0]


async def wait_queue_idle(runtime: Runtime, timeout: float = 60) -> None:
    from service.jobs import queue_depth

    for _ in range(int(timeout * 10)):
        async with runtime.sessions() as db:
            depth = await queue_depth(db)
        if not depth.get("queued") and not depth.get("picked"):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"queue still busy: {depth}")
