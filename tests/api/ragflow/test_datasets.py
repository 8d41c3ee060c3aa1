from __future__ import annotations

from typing import Any

from tests.api.ragflow.helpers import Client, call, new_dataset
from tests.conftest import Caller


async def test_create_returns_ragflow_fields(client: Client, caller: Caller) -> None:
    data = await new_dataset(client, caller, "Manuals", description="ops docs")
    assert len(data["id"]) == 32 and data["name"] == "Manuals"
    assert data["embedding_model"] == "all-MiniLM-L6-v2@Builtin"
    assert data["chunk_method"] == "naive" and data["parser_config"]["chunk_token_num"] == 512
    assert (data["document_count"], data["chunk_count"], data["token_num"]) == (0, 0, 0)
    assert data["tenant_id"] == caller.tenant_id and data["permission"] == "me"
    assert isinstance(data["create_time"], int) and data["create_date"].endswith("GMT")


async def test_ext_and_auto_metadata_config_are_kept_and_type_checked(client: Client, caller: Caller) -> None:
    config = {"enabled": True, "fields": [{"name": "author", "type": "string"}]}
    created = await new_dataset(client, caller, "Tagged", ext={"team": "ops"}, auto_metadata_config=config)
    [listed] = (await call(client, caller, "GET", "/datasets", params={"id": created["id"]}))["data"]
    assert (listed["ext"], listed["auto_metadata_config"]) == ({"team": "ops"}, config)
    assert "ext" not in await new_dataset(client, caller, "Plain")  # absent unless given, as RAGFlow answers
    bad = await call(client, caller, "POST", "/datasets", json={"name": "x", "ext": "team=ops"})
    assert bad["code"] == 101 and "ext" in bad["message"]


async def test_duplicate_name_is_renamed_case_insensitively(client: Client, caller: Caller) -> None:
    first = await new_dataset(client, caller, "Notes")
    second = await new_dataset(client, caller, "notes")
    third = await new_dataset(client, caller, "NOTES")
    assert [first["name"], second["name"], third["name"]] == ["Notes", "notes(1)", "NOTES(2)"]


async def test_invalid_bodies_get_code_101_with_field_messages(client: Client, caller: Caller) -> None:
    cases = [
        ({"name": ""}, "name"),
        ({"name": "x" * 129}, "name"),
        ({"name": "a", "unknown": 1}, "unknown"),
        ({"name": 5}, "name"),
        ({"name": "a", "embedding_model": "no-provider"}, "Embedding model identifier"),
        ({"name": "a", "chunk_method": "bogus"}, "chunk_method"),
    ]
    for body, fragment in cases:
        reply = await call(client, caller, "POST", "/datasets", json=body)
        assert reply["code"] == 101 and fragment in reply["message"], (body, reply)
    reply = await call(
        client,
        caller,
        "POST",
        "/datasets",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert reply == {
        "code": 101,
        "message": "Malformed JSON syntax: Missing commas/brackets or invalid encoding",
    }


async def test_unknown_model_and_unsupported_method_are_102(client: Client, caller: Caller) -> None:
    reply = await call(client, caller, "POST", "/datasets", json={"name": "a", "embedding_model": "nope@Builtin"})
    assert reply == {"code": 102, "message": "Model nope@Builtin not found for model embedding"}
    reply = await call(client, caller, "POST", "/datasets", json={"name": "a", "embedding_model": "e-3@OpenAI"})
    assert reply == {"code": 102, "message": "Provider OpenAI not found for model e-3@OpenAI."}
    reply = await call(client, caller, "POST", "/datasets", json={"name": "a", "chunk_method": "paper"})
    assert reply["code"] == 102 and "not supported" in reply["message"]


async def test_list_paginates_orders_and_filters(client: Client, caller: Caller) -> None:
    for index in range(5):
        await new_dataset(client, caller, f"ds{index}")
    page = await call(client, caller, "GET", "/datasets", params={"page": 2, "page_size": 2, "desc": "false"})
    assert page["total_datasets"] == 5 and [d["name"] for d in page["data"]] == ["ds2", "ds3"]
    named = await call(client, caller, "GET", "/datasets", params={"name": "DS4"})
    assert [d["name"] for d in named["data"]] == ["ds4"]
    zero = await call(client, caller, "GET", "/datasets", params={"page_size": 0})
    assert zero["code"] == 101
    bad_order = await call(client, caller, "GET", "/datasets", params={"orderby": "name"})
    assert bad_order["code"] == 101
    status = await call(client, caller, "GET", "/datasets", params={"include_parsing_status": "true"})
    assert status["data"][0]["unstart_count"] == 0 and "done_count" in status["data"][0]


async def test_update_and_delete(client: Client, caller: Caller) -> None:
    data = await new_dataset(client, caller, "before")
    reply = await call(
        client,
        caller,
        "PUT",
        f"/datasets/{data['id']}",
        json={"name": "after", "parser_config": {"chunk_token_num": 128}},
    )
    assert reply["code"] == 0 and reply["data"]["name"] == "after"
    assert reply["data"]["parser_config"]["chunk_token_num"] == 128
    assert reply["data"]["parser_config"]["delimiter"] == "\n"
    assert (await call(client, caller, "PUT", f"/datasets/{data['id']}", json={}))["code"] == 102
    deleted = await call(client, caller, "DELETE", "/datasets", json={"ids": [data["id"]]})
    assert deleted == {"code": 0, "data": {"success_count": 1}}
    gone = await call(client, caller, "GET", f"/datasets/{data['id']}")
    assert gone["code"] == 102


async def test_another_tenant_sees_nothing(client: Client, caller: Caller, other_caller: Caller) -> None:
    mine = await new_dataset(client, caller, "private")
    theirs = await call(client, other_caller, "GET", "/datasets")
    assert theirs["data"] == [] and theirs["total_datasets"] == 0
    attempts: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", f"/datasets/{mine['id']}", {}),
        ("PUT", f"/datasets/{mine['id']}", {"json": {"name": "stolen"}}),
        ("DELETE", "/datasets", {"json": {"ids": [mine["id"]]}}),
        ("GET", f"/datasets/{mine['id']}/documents", {}),
    ]
    for method, path, kwargs in attempts:
        reply = await call(client, other_caller, method, path, **kwargs)
        assert reply["code"] == 102 and "private" not in str(reply), reply
    still = await call(client, caller, "GET", f"/datasets/{mine['id']}")
    assert still["data"]["name"] == "private"


async def test_auth_failures_are_401(client: Client) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": ""}):
        response = await client.get("/api/v1/datasets", headers=headers)
        assert response.status_code == 401
        assert response.json() == {"code": 401, "message": "<Unauthorized '401: Unauthorized'>", "data": None}


async def test_unknown_route_is_ragflow_404(client: Client, caller: Caller) -> None:
    response = await client.get("/api/v1/nothing-here", headers=caller.headers)
    assert response.status_code == 404
    assert response.json() == {
        "code": 404,
        "message": "Not Found: /api/v1/nothing-here",
        "data": None,
        "error": "Not Found",
    }
