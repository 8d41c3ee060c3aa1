"""OpsBee evaluation datasets over HTTP: CRUD, items with search_query, and histories curated into items."""

from __future__ import annotations

from urllib.parse import quote

from tests.api.opsbee.helpers import (
    Client,
    call,
    error,
    new_chat_history,
    new_deployment,
    new_qa_history,
    new_tag,
    new_thread,
)
from tests.conftest import Caller


async def test_dataset_crud_and_pagination(client: Client, caller: Caller, other_caller: Caller) -> None:
    made = [
        await call(client, caller, "POST", "/datasets", json={"name": f"set {i}", "type": "qa", "description": ""})
        for i in range(3)
    ]
    assert made[0]["item_count"] == 0 and made[0]["organization_id"] == caller.tenant_id
    page = await call(client, caller, "GET", "/datasets?offset=1&limit=1&offset=1&limit=1")  # the SDK repeats keys
    assert (len(page["datasets"]), page["total"], page["has_next"]) == (1, 3, True)
    renamed = await call(client, caller, "PATCH", f"/datasets/{made[0]['id']}", json={"name": "golden"})
    assert renamed["name"] == "golden" and renamed["type"] == "qa"
    deleted = await call(client, caller, "DELETE", f"/datasets/{made[1]['id']}")
    assert deleted["id"] == made[1]["id"]
    assert "not found" in await error(client, caller, "GET", f"/datasets/{made[1]['id']}", 404)
    assert "type" in await error(client, caller, "POST", "/datasets", 400, json={"name": "x", "type": "chat"})
    await error(client, other_caller, "GET", f"/datasets/{made[0]['id']}", 404)


async def test_items_are_validated_and_searchable(client: Client, caller: Caller) -> None:
    dataset = await call(client, caller, "POST", "/datasets", json={"name": "items", "type": "llm", "description": ""})
    base = f"/datasets/{dataset['id']}/items"
    first = await call(
        client, caller, "POST", base,
        json={"inputs": [{"question": "How warm is a hive?"}], "outputs": [{"answer": "35 C"}],
              "tags": ["bees"], "metadata": [{"source": "wiki"}]},
    )  # fmt: skip
    await call(client, caller, "POST", base, json={"inputs": [{"prompt": "A river?"}], "outputs": [{"a": "Danube"}]})
    assert first["inputs"] == [{"question": "How warm is a hive?"}] and first["tags"] == ["bees"]
    query = quote('input_values:"How warm*" AND tag_values:bees AND metadata_keys:source', safe=":*=")
    found = await call(client, caller, "GET", f"{base}?search_query={query}")
    assert [item["id"] for item in found["items"]] == [first["id"]] and found["total"] == 1
    assert "position" in await error(client, caller, "GET", f"{base}?search_query=input_keys:(", 400)
    assert "inputs" in await error(client, caller, "POST", base, 400, json={"inputs": [], "outputs": [{"a": "b"}]})
    assert (await call(client, caller, "GET", f"/datasets/{dataset['id']}"))["item_count"] == 2
    gone = await call(client, caller, "DELETE", f"{base}/{first['id']}")
    assert gone["id"] == first["id"]
    await error(client, caller, "GET", f"{base}/{first['id']}", 404)


async def test_histories_are_added_as_items(client: Client, caller: Caller) -> None:
    chat = await new_deployment(client, caller, "chat", "support")
    qa = await new_deployment(client, caller, "qa", "faq")
    thread = await new_thread(client, caller, chat["id"], "order questions")
    tag = await new_tag(client, caller, "shipping")
    history = await new_chat_history(
        client, caller, chat["id"], thread["id"], "Where is my order?", "It ships today.",
        tag_ids=[tag["id"]], metadata=[{"channel": "email"}],
    )  # fmt: skip
    qa_history = await new_qa_history(client, caller, qa["id"], "Opening hours?", "9 to 5.")
    dataset = await call(
        client, caller, "POST", "/datasets", json={"name": "curated", "type": "llm", "description": ""}
    )

    path = f"/deployments/{chat['id']}/histories/datasets/{dataset['id']}/items"
    added = await call(client, caller, "POST", path, json={"history_ids": [history["id"]]})
    assert added["message"] == f"Successfully added chat histories to dataset {dataset['id']}"
    qa_path = f"/deployments/{qa['id']}/qa_histories/datasets/{dataset['id']}/items"
    await call(client, caller, "POST", qa_path, json={"history_ids": [qa_history["id"]]})

    items = {
        item["source_history_id"]: item
        for item in (await call(client, caller, "GET", f"/datasets/{dataset['id']}/items"))["items"]
    }
    item = items[history["id"]]
    assert item["inputs"] == [{"thread_name": "order questions"}, {"input_text": "Where is my order?"}]
    assert item["outputs"] == [{"output_text": "It ships today."}]
    assert (item["tags"], item["metadata"]) == (["shipping"], [{"channel": "email"}])
    assert items[qa_history["id"]]["outputs"] == [{"output_text": "9 to 5."}]
    # A QA history through the chat path, an unknown id, an empty list: clear 4xx, nothing added.
    await error(client, caller, "POST", path, 404, json={"history_ids": [qa_history["id"]]})
    await error(client, caller, "POST", path, 400, json={"history_ids": []})
    await error(
        client, caller, "POST", qa_path.replace(qa["id"], chat["id"]), 400, json={"history_ids": [history["id"]]}
    )
    assert (await call(client, caller, "GET", f"/datasets/{dataset['id']}"))["item_count"] == 2
