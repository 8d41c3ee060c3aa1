from __future__ import annotations

from service.domain.assistants import DEFAULT_SYSTEM
from service.runtime import Runtime
from tests.api.ragflow.chat_helpers import NO_AUTH, new_chat, parsed_dataset
from tests.api.ragflow.helpers import Client, call, new_dataset, upload
from tests.conftest import Caller

CHAT_FIELDS = {
    "id",
    "name",
    "description",
    "icon",
    "dataset_ids",
    "kb_names",
    "language",
    "llm_id",
    "llm_setting",
    "prompt_config",
    "prompt_type",
    "similarity_threshold",
    "vector_similarity_weight",
    "top_n",
    "top_k",
    "rerank_id",
    "status",
    "tenant_id",
    "create_time",
    "create_date",
    "update_time",
    "update_date",
}


async def test_create_with_defaults(client: Client, caller: Caller, runtime: Runtime) -> None:
    body = await call(client, caller, "POST", "/chats", json={"name": "  plain  "})
    assert body["code"] == 0 and body["message"] == "success"
    chat = body["data"]
    assert set(chat) == CHAT_FIELDS
    assert chat["name"] == "plain" and chat["tenant_id"] == caller.tenant_id
    assert chat["llm_id"] == runtime.settings.default_llm == "nectar-extractive@Builtin"
    assert chat["description"] == "A helpful Assistant" and chat["prompt_type"] == "simple" and chat["status"] == "1"
    assert chat["dataset_ids"] == [] and chat["kb_names"] == []
    assert (chat["similarity_threshold"], chat["vector_similarity_weight"], chat["top_n"], chat["top_k"]) == (
        0.1,
        0.3,
        6,
        1024,
    )
    assert chat["prompt_config"]["system"] == DEFAULT_SYSTEM
    assert chat["prompt_config"]["prologue"] == "Hi! I'm your assistant. What can I do for you?"
    assert chat["llm_setting"] == {}  # only what was given, as RAGFlow v0.27 answers
    assert isinstance(chat["create_time"], int) and chat["create_date"].endswith("GMT")
    assert len(chat["id"]) == 32


async def test_create_over_parsed_dataset_names_it(client: Client, caller: Caller) -> None:
    ds = await parsed_dataset(client, caller, "insects")
    chat = await new_chat(
        client,
        caller,
        "bees",
        dataset_ids=[ds],
        icon="data:image/png;base64,AAAA",
        llm_setting={"temperature": 0.7},
        prompt_config={"prologue": "Ask me about bees."},
        top_n=3,
    )
    assert chat["dataset_ids"] == [ds] and chat["kb_names"] == ["insects"]
    assert chat["icon"] == "data:image/png;base64,AAAA" and chat["top_n"] == 3
    assert chat["llm_setting"] == {"temperature": 0.7}  # RAGFlow keeps only what was given
    assert chat["prompt_config"]["prologue"] == "Ask me about bees."
    assert chat["prompt_config"]["system"] == DEFAULT_SYSTEM  # missing keys get RAGFlow's defaults


async def test_create_validation(client: Client, caller: Caller, other_caller: Caller) -> None:
    async def error(**body: object) -> tuple[int, str]:
        reply = await call(client, caller, "POST", "/chats", json=body)
        return reply["code"], reply["message"]

    assert await error() == (102, "`name` is required")
    assert await error(name="   ") == (102, "`name` is required")
    assert await error(name=7) == (102, "Chat name must be a string.")
    await new_chat(client, caller, "taken")
    assert await error(name="TAKEN") == (102, "duplicated chat name in creating chat")
    assert await error(name="x", tenant_id="someone") == (102, "`tenant_id` must not be provided")
    assert await error(name="x", llm_id="gpt-9@Nowhere") == (102, "`llm_id` gpt-9@Nowhere doesn't exist")
    assert (await error(name="x", rerank_id="BAAI/bge-reranker-v2-m3"))[0] == 102
    assert await error(name="x", prompt_config="be nice") == (102, "`prompt_config` should be an object.")
    code, message = await error(name="x", similarity_threshold=2)
    assert code == 101 and "similarity_threshold" in message
    assert await error(name="x", dataset_ids="abc") == (102, "`dataset_ids` should be a list.")
    assert await error(name="x", dataset_ids=[1]) == (101, "`dataset_ids` should be a list of strings")

    empty = await new_dataset(client, caller, "unparsed")
    await upload(client, caller, empty["id"], ("a.txt", b"never parsed"))
    assert await error(name="x", dataset_ids=[empty["id"]]) == (
        102,
        f"The dataset {empty['id']} doesn't own parsed file",
    )
    foreign = await new_dataset(client, other_caller, "theirs")
    assert await error(name="x", dataset_ids=[foreign["id"]]) == (102, f"You don't own the dataset {foreign['id']}")
    assert await error(name="x", dataset_ids=["0" * 32]) == (102, f"You don't own the dataset {'0' * 32}")
    listed = await call(client, caller, "GET", "/chats")
    assert [chat["name"] for chat in listed["data"]["chats"]] == ["taken"]


async def test_older_body_shape_is_translated(client: Client, caller: Caller) -> None:
    ds = await parsed_dataset(client, caller)
    chat = await new_chat(
        client,
        caller,
        "seed-shape",
        avatar="icon.png",
        knowledgebases=[{"id": ds, "name": "kb"}],
        llm={"model_name": "nectar-extractive@Builtin", "temperature": 0.5, "max_tokens": 512, "top_p": None},
        prompt={
            "similarity_threshold": 0.25,
            "keywords_similarity_weight": 0.7,
            "top_n": 4,
            "top_k": 512,
            "variables": [{"key": "knowledge", "optional": True}],
            "rerank_model": "",
            "empty_response": "Nothing about that.",
            "opener": "Hello there!",
            "show_quote": False,
            "prompt": "Answer from: {knowledge}",
        },
    )
    assert chat["icon"] == "icon.png" and chat["dataset_ids"] == [ds]
    assert chat["llm_id"] == "nectar-extractive@Builtin"
    assert chat["llm_setting"]["temperature"] == 0.5 and chat["llm_setting"]["max_tokens"] == 512
    assert chat["similarity_threshold"] == 0.25 and chat["vector_similarity_weight"] == 0.3
    assert chat["top_n"] == 4 and chat["top_k"] == 512 and chat["rerank_id"] == ""
    prompt = chat["prompt_config"]
    assert prompt["system"] == "Answer from: {knowledge}" and prompt["prologue"] == "Hello there!"
    assert prompt["quote"] is False and prompt["empty_response"] == "Nothing about that."
    assert prompt["parameters"] == [{"key": "knowledge", "optional": True}]

    # what ragflow-sdk 0.22 sends when nothing is chosen: model_name None → the default model
    sdk = await new_chat(client, caller, "sdk-022", llm={"model_name": None, "temperature": 0.1}, prompt={})
    assert sdk["llm_id"] == "nectar-extractive@Builtin"


async def test_list_filters_orders_and_pages(client: Client, caller: Caller) -> None:
    for name in ("gamma", "alpha", "beta-one", "delta"):
        await new_chat(client, caller, name)

    async def names(**params: object) -> list[str]:
        reply = await call(client, caller, "GET", "/chats", params=params)
        assert reply["code"] == 0, reply
        assert reply["data"]["total"] >= len(reply["data"]["chats"])
        return [chat["name"] for chat in reply["data"]["chats"]]

    assert await names() == ["delta", "beta-one", "alpha", "gamma"]  # newest first
    assert await names(desc="false") == ["gamma", "alpha", "beta-one", "delta"]
    assert await names(orderby="name", desc="false") == ["alpha", "beta-one", "delta", "gamma"]
    assert await names(orderby="name", desc="false", page=2, page_size=3) == ["gamma"]
    assert await names(keywords="ta") == ["delta", "beta-one"]
    assert await names(name="alpha") == ["alpha"]
    assert await names(name="alpha", keywords="zzz") == ["alpha"]  # exact filters win over keywords
    everything = await call(client, caller, "GET", "/chats", params={"page_size": 1})
    assert everything["data"]["total"] == 4 and len(everything["data"]["chats"]) == 1
    chat_id = everything["data"]["chats"][0]["id"]
    assert await names(id=chat_id) == ["delta"]
    too_big = await call(client, caller, "GET", "/chats", params={"page_size": 101})
    assert too_big["code"] == 101
    bad_order = await call(client, caller, "GET", "/chats", params={"orderby": "size"})
    assert bad_order["code"] == 101


async def test_keywords_match_percent_and_underscore_literally(client: Client, caller: Caller) -> None:
    for name in ("a_b", "ab", "100%", "x"):
        await new_chat(client, caller, name)

    async def names(keywords: str) -> list[str]:
        reply = await call(client, caller, "GET", "/chats", params={"keywords": keywords, "orderby": "name"})
        return [chat["name"] for chat in reply["data"]["chats"]]

    assert await names("_") == ["a_b"]
    assert await names("%") == ["100%"]


async def test_get_and_tenant_isolation(client: Client, caller: Caller, other_caller: Caller) -> None:
    chat = await new_chat(client, caller, "mine")
    got = await call(client, caller, "GET", f"/chats/{chat['id']}")
    assert got == {"code": 0, "message": "success", "data": chat}
    assert await call(client, other_caller, "GET", f"/chats/{chat['id']}") == NO_AUTH
    assert await call(client, caller, "GET", f"/chats/{'0' * 32}") == NO_AUTH
    for method in ("PUT", "PATCH"):
        assert await call(client, other_caller, method, f"/chats/{chat['id']}", json={"name": "stolen"}) == NO_AUTH
    assert await call(client, other_caller, "DELETE", f"/chats/{chat['id']}") == NO_AUTH
    theirs = await call(client, other_caller, "GET", "/chats")
    assert theirs["data"] == {"chats": [], "total": 0}
    denied = await call(client, other_caller, "DELETE", "/chats", json={"ids": [chat["id"]]})
    assert denied == {"code": 102, "message": f"Chat({chat['id']}) not found."}
    assert (await call(client, caller, "GET", f"/chats/{chat['id']}"))["code"] == 0


async def test_patch_merges_put_replaces(client: Client, caller: Caller) -> None:
    chat = await new_chat(client, caller, "editable", llm_setting={"temperature": 0.2, "max_tokens": 100})
    path = f"/chats/{chat['id']}"
    patched = await call(
        client,
        caller,
        "PATCH",
        path,
        json={"name": "edited", "prompt_config": {"prologue": "Hey."}, "llm_setting": {"top_p": 0.9}, "top_n": 2},
    )
    assert patched["code"] == 0, patched
    data = patched["data"]
    assert data["name"] == "edited" and data["top_n"] == 2
    assert data["prompt_config"]["prologue"] == "Hey." and data["prompt_config"]["system"] == DEFAULT_SYSTEM
    assert data["llm_setting"] == {**chat["llm_setting"], "top_p": 0.9}
    assert data["update_time"] >= chat["update_time"]

    replaced = await call(
        client, caller, "PUT", path, json={"llm_setting": {"temperature": 0.9}, "prompt_config": {"quote": False}}
    )
    assert replaced["code"] == 0, replaced
    data = replaced["data"]
    assert data["llm_setting"] == {"temperature": 0.9}  # replaced, not merged
    assert data["prompt_config"]["quote"] is False
    assert data["prompt_config"]["prologue"] == "Hi! I'm your assistant. What can I do for you?"  # back to default
    assert data["name"] == "edited" and data["top_n"] == 2  # fields not given are kept

    kept = await call(client, caller, "PATCH", path, json={"name": None, "top_k": 100})
    assert kept["data"]["name"] == "edited" and kept["data"]["top_k"] == 100  # null: left as it is

    other = await new_chat(client, caller, "other")
    clash = await call(client, caller, "PATCH", path, json={"name": "OTHER"})
    assert clash["code"] == 102 and "Duplicated chat name" in clash["message"]
    assert (await call(client, caller, "PATCH", path, json={"name": ""}))["code"] == 102
    unknown = await call(client, caller, "PUT", path, json={"llm_id": "nope@Nowhere"})
    assert unknown == {"code": 102, "message": "`llm_id` nope@Nowhere doesn't exist"}
    assert (await call(client, caller, "GET", f"/chats/{other['id']}"))["data"]["name"] == "other"

    # the older update body (ragflow-sdk 0.22's Chat.update uses PUT)
    legacy = await call(client, caller, "PUT", path, json={"prompt": {"opener": "Welcome back."}, "avatar": "a.png"})
    assert legacy["data"]["prompt_config"]["prologue"] == "Welcome back." and legacy["data"]["icon"] == "a.png"


async def test_delete_one_many_all(client: Client, caller: Caller) -> None:
    chats = [await new_chat(client, caller, f"c{i}") for i in range(6)]
    ids = [chat["id"] for chat in chats]
    assert await call(client, caller, "DELETE", f"/chats/{ids[0]}") == {"code": 0, "message": "success", "data": True}
    assert await call(client, caller, "GET", f"/chats/{ids[0]}") == NO_AUTH
    assert await call(client, caller, "DELETE", "/chats", json={"ids": [ids[1], ids[2]]}) == {
        "code": 0,
        "message": "success",
        "data": {"success_count": 2},
    }
    # RAGFlow v0.27 deletes the chats it finds and reports the others (code 0 once any was deleted)
    partial = await call(client, caller, "DELETE", "/chats", json={"ids": [ids[3], ids[0]]})
    assert partial == {
        "code": 0,
        "message": "Partially deleted 1 chats with 1 errors",
        "data": {"success_count": 1, "errors": [f"Chat({ids[0]}) not found."]},
    }
    missing = await call(client, caller, "DELETE", "/chats", json={"ids": [ids[0]]})
    assert missing == {"code": 102, "message": f"Chat({ids[0]}) not found."}
    assert (await call(client, caller, "DELETE", "/chats", json={"chat_id": ids[4]}))["data"] == {"success_count": 1}
    assert (await call(client, caller, "DELETE", "/chats"))["data"] == {}
    assert (await call(client, caller, "DELETE", "/chats", json={"ids": []}))["data"] == {}
    assert (await call(client, caller, "DELETE", "/chats", json={"delete_all": True}))["data"] == {"success_count": 1}
    assert (await call(client, caller, "GET", "/chats"))["data"] == {"chats": [], "total": 0}
