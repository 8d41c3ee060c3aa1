"""Listing histories: offset/limit/total/has_next, sort_by/sort_order, and search_query through the compiler,
with the query string exactly as abeja-sdk formats it (unencoded `*`, `:`, `>=`, `+`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from service.domain import history_search
from tests.api.opsbee.helpers import (
    Client,
    call,
    error,
    history_body,
    new_chat_history,
    new_deployment,
    new_qa_history,
    new_tag,
    new_thread,
)
from tests.conftest import Caller

LIST_KEYS = {
    "organization_id", "deployment_id", "histories", "offset", "limit", "sort_by", "sort_order", "total", "has_next",
}  # fmt: skip


def sdk_query(search_query: str) -> str:
    """What `requests` makes of the SDK's unencoded search_query: spaces and quotes escaped, the rest raw."""
    return search_query.replace(" ", "%20").replace('"', "%22")


async def corpus(client: Client, caller: Caller) -> tuple[str, dict[str, dict[str, Any]]]:
    """A chat deployment with five histories over two threads: (deployment id, {input_text: history})."""
    deployment = await new_deployment(client, caller)
    one, two = (
        await new_thread(client, caller, deployment["id"], "one"),
        await new_thread(client, caller, deployment["id"], "two"),
    )
    urgent, calm = await new_tag(client, caller, "urgent", "red"), await new_tag(client, caller, "calm", "blue")
    rows = [
        (one, "beekeeping basics", 5, [urgent], [{"source": "web"}]),
        (one, "Bees and honey", 2, [urgent], [{"source": "mail"}]),
        (two, "bee stings", 3, [calm], []),
        (two, "rust on iron", 8, [urgent], [{"source": "web"}, {"lang": "en"}]),
        (two, "honey prices", 1, [], []),
    ]
    made = {}
    for thread, question, count, tags, metadata in rows:
        fields = {
            "input_token_count": count,
            "output_token_count": 10 - count,
            "tag_ids": [t["id"] for t in tags],
            "metadata": metadata,
        }
        made[question] = await new_chat_history(
            client, caller, deployment["id"], thread["id"], question, f"answer to {question}", **fields
        )
    return deployment["id"], made


async def search(client: Client, caller: Caller, deployment_id: str, query: str = "", **params: Any) -> dict[str, Any]:
    suffix = f"search_query={sdk_query(query)}&" if query else ""
    extra = "&".join(f"{key}={value}" for key, value in params.items())
    return await call(client, caller, "GET", f"/deployments/{deployment_id}/histories?{suffix}{extra}")  # type: ignore[no-any-return]


def inputs(listed: dict[str, Any]) -> list[str]:
    return [history["input_text"] for history in listed["histories"]]


async def test_pagination_and_defaults(client: Client, caller: Caller) -> None:
    deployment_id, made = await corpus(client, caller)
    listed = await search(client, caller, deployment_id)
    assert set(listed) == LIST_KEYS
    assert (listed["organization_id"], listed["deployment_id"]) == (caller.tenant_id, deployment_id)
    assert (listed["offset"], listed["limit"], listed["sort_by"], listed["sort_order"]) == (
        0,
        1000,
        "updated_at",
        "desc",
    )
    assert (listed["total"], listed["has_next"]) == (5, False)
    assert inputs(listed) == list(reversed(made))  # newest update first
    pages = [await search(client, caller, deployment_id, offset=offset, limit=2) for offset in (0, 2, 4)]
    assert [(page["total"], page["has_next"], len(page["histories"])) for page in pages] == [
        (5, True, 2),
        (5, True, 2),
        (5, False, 1),
    ]
    assert [text for page in pages for text in inputs(page)] == inputs(listed)
    beyond = await search(client, caller, deployment_id, offset=10, limit=2)
    assert (beyond["total"], beyond["has_next"], beyond["histories"]) == (5, False, [])
    twice = await call(
        client,
        caller,
        "GET",
        f"/deployments/{deployment_id}/histories?offset=1&limit=1&offset=1&limit=1&sort_by=id&sort_order=asc&sort_by=id&sort_order=asc",
    )
    assert (twice["offset"], twice["limit"], twice["total"], len(twice["histories"])) == (1, 1, 5, 1)


@pytest.mark.parametrize(
    ("sort_by", "key"),
    [
        ("input_token_count", lambda h: (h["input_token_count"], h["id"])),
        ("output_token_count", lambda h: (h["output_token_count"], h["id"])),
        ("input_text", lambda h: (h["input_text"], h["id"])),
        ("id", lambda h: (h["id"],)),
        ("thread_id", lambda h: (h["thread_id"], h["id"])),
        ("created_at", lambda h: (h["created_at"], h["id"])),
    ],
)
async def test_sort_by_and_order(client: Client, caller: Caller, sort_by: str, key: Any) -> None:
    deployment_id, made = await corpus(client, caller)
    ascending = await search(client, caller, deployment_id, sort_by=sort_by, sort_order="asc")
    descending = await search(client, caller, deployment_id, sort_by=sort_by, sort_order="desc")
    expected = sorted(made.values(), key=key)
    if sort_by == "input_text":  # the database collation decides text order: check it is consistent instead
        expected = [made[text] for text in inputs(ascending)]
    assert [h["id"] for h in ascending["histories"]] == [h["id"] for h in expected]
    assert [h["id"] for h in descending["histories"]] == [h["id"] for h in reversed(expected)]
    assert (ascending["sort_by"], ascending["sort_order"]) == (sort_by, "asc")


async def test_bad_sort_is_400(client: Client, caller: Caller) -> None:
    deployment_id, _ = await corpus(client, caller)
    assert "sort_by" in await error(client, caller, "GET", f"/deployments/{deployment_id}/histories?sort_by=name", 400)
    assert "sort_order" in await error(
        client, caller, "GET", f"/deployments/{deployment_id}/histories?sort_order=up", 400
    )
    qa = await new_deployment(client, caller, "qa", name="qa-sort")
    assert "sort_by" in await error(
        client, caller, "GET", f"/deployments/{qa['id']}/qa_histories?sort_by=thread_id", 400
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('input_text:"bee*" AND input_token_count:>=3 AND tag_name:urgent', {"beekeeping basics"}),
        ('input_text:"bee*"', {"beekeeping basics", "Bees and honey", "bee stings"}),
        ("input_text:*honey*", {"Bees and honey", "honey prices"}),
        ('input_text:"honey prices"', {"honey prices"}),
        ("output_text:*iron", {"rust on iron"}),
        ("input_token_count:<3", {"Bees and honey", "honey prices"}),
        ("input_token_count:>5 OR output_token_count:9", {"rust on iron", "honey prices"}),
        ("tag_name:calm OR (tag_name:urgent AND metadata_key:lang)", {"bee stings", "rust on iron"}),
        ("metadata_key:source AND metadata_value:web", {"beekeeping basics", "rust on iron"}),
        ("metadata_value:mail", {"Bees and honey"}),
        ("tag_name:nothing", set()),
        ("created_at:>=2000-01-01T00:00:00+09:00 AND updated_at:<2999-01-01", None),  # `+` arrives raw
        ('input_text:"\'; DROP TABLE messages; --"', set()),  # an injection attempt is only a string
    ],
)
@pytest.mark.parametrize("driver_limit", [history_search.DRIVER_LIMIT, 0], ids=["by-ids", "scan"])
async def test_search_query(
    client: Client,
    caller: Caller,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    expected: set[str] | None,
    driver_limit: int,
) -> None:
    """Both strategies (tag/metadata ids looked up first, or a scan of the deployment) find the same histories."""
    monkeypatch.setattr(history_search, "DRIVER_LIMIT", driver_limit)
    deployment_id, made = await corpus(client, caller)
    listed = await search(client, caller, deployment_id, query)
    assert set(inputs(listed)) == (set(made) if expected is None else expected)
    assert listed["total"] == len(listed["histories"])


async def test_search_by_ids(client: Client, caller: Caller) -> None:
    deployment_id, made = await corpus(client, caller)
    target = made["bee stings"]
    assert inputs(await search(client, caller, deployment_id, f"history_id:{target['id']}")) == ["bee stings"]
    tag_id = target["tags"][0]["id"]
    assert inputs(await search(client, caller, deployment_id, f"tag_id:{tag_id}")) == ["bee stings"]
    metadata_id = made["rust on iron"]["metadata"][1]["id"]
    assert inputs(await search(client, caller, deployment_id, f"metadata_id:{metadata_id}")) == ["rust on iron"]


async def test_long_non_ascii_metadata_is_found_by_its_digest(client: Client, caller: Caller) -> None:
    """Past a B-tree entry's size, and multibyte: our md5 of the searched text must equal the stored one."""
    deployment_id, _ = await corpus(client, caller)
    thread = await new_thread(client, caller, deployment_id, "long")
    value = "蜂蜜と花粉 " * 400 + "Ünïcode"  # 6,409 bytes in UTF-8
    fields = {"metadata": [{"ノート": value}]}
    await new_chat_history(client, caller, deployment_id, thread["id"], "long note", "a", **fields)
    encoded = quote(f'metadata_value:"{value}" AND metadata_key:ノート', safe="")
    listed = await call(client, caller, "GET", f"/deployments/{deployment_id}/histories?search_query={encoded}")
    assert inputs(listed) == ["long note"]
    assert inputs(await search(client, caller, deployment_id, f'metadata_value:"{value[:-1]}"')) == []


async def test_search_paginates_with_total(client: Client, caller: Caller) -> None:
    deployment_id, _ = await corpus(client, caller)
    page = await search(
        client,
        caller,
        deployment_id,
        "tag_name:urgent",
        offset=0,
        limit=2,
        sort_by="input_token_count",
        sort_order="asc",
    )
    assert (page["total"], page["has_next"], inputs(page)) == (3, True, ["Bees and honey", "beekeeping basics"])
    for query in ("tag_name:urgent", "input_text:*e*"):  # looked up by ids, and scanned
        beyond = await search(client, caller, deployment_id, query, offset=10, limit=2)
        assert (beyond["total"] > 0, beyond["has_next"], beyond["histories"]) == (True, False, [])
        assert beyond["total"] == (await search(client, caller, deployment_id, query))["total"]


@pytest.mark.parametrize(
    ("query", "position"),
    [
        ("input_text:", 11),
        ("input_text:bee AND", 18),
        ('input_text:"open', 11),
        ("colour:red", 0),
        ("input_token_count:>=many", 20),
        ("(tag_name:urgent", 16),
        ("input_text:>3", 11),
    ],
)
async def test_malformed_query_is_400_naming_the_position(
    client: Client, caller: Caller, query: str, position: int
) -> None:
    deployment_id = (await new_deployment(client, caller))["id"]
    path = f"/deployments/{deployment_id}/histories?search_query={sdk_query(query)}"
    assert f"position {position}" in await error(client, caller, "GET", path, 400)


@pytest.mark.parametrize("driver_limit", [2, 3])
async def test_a_tag_just_past_the_lookup_limit_is_never_cut_short(
    client: Client, caller: Caller, monkeypatch: pytest.MonkeyPatch, driver_limit: int
) -> None:
    """Three histories carry `urgent`: looked up by id at a limit of 3, scanned at 2; all three either way."""
    monkeypatch.setattr(history_search, "DRIVER_LIMIT", driver_limit)
    deployment_id, _ = await corpus(client, caller)
    listed = await search(client, caller, deployment_id, "tag_name:urgent")
    assert (len(inputs(listed)), listed["total"]) == (3, 3)


async def test_tagged_histories_of_other_deployments_and_deleted_ones_stay_out(client: Client, caller: Caller) -> None:
    """A tag's ids span the organization; the search by them still keeps to the deployment's visible histories."""
    deployment_id, made = await corpus(client, caller)
    other = await new_deployment(client, caller, name="other")
    thread = await new_thread(client, caller, other["id"])
    urgent_id = made["rust on iron"]["tags"][0]["id"]
    await new_chat_history(client, caller, other["id"], thread["id"], "elsewhere", "a", tag_ids=[urgent_id])
    rust = made["rust on iron"]
    await call(
        client, caller, "DELETE", f"/deployments/{deployment_id}/threads/{rust['thread_id']}/histories/{rust['id']}"
    )
    listed = await search(client, caller, deployment_id, "tag_name:urgent AND input_token_count:>=1")
    assert (set(inputs(listed)), listed["total"]) == ({"beekeeping basics", "Bees and honey"}, 2)


async def test_other_tenants_tags_do_not_match(client: Client, caller: Caller, other_caller: Caller) -> None:
    deployment_id, _ = await corpus(client, caller)
    await new_tag(client, other_caller, "calm")
    assert inputs(await search(client, caller, deployment_id, "tag_name:calm")) == ["bee stings"]


async def test_qa_list_searches_and_sorts(client: Client, caller: Caller) -> None:
    deployment = await new_deployment(client, caller, "qa")
    for question, count in (("alpha", 3), ("beta", 1), ("gamma", 2)):
        await new_qa_history(client, caller, deployment["id"], question, "a", input_token_count=count)
    query = "search_query=input_token_count:%3E=2&sort_by=input_token_count&sort_order=asc"
    path = f"/deployments/{deployment['id']}/qa_histories?{query}"
    listed = await call(client, caller, "GET", path)
    assert set(listed) == LIST_KEYS | {"thread_id", "thread_name"}
    assert (inputs(listed), listed["total"]) == (["gamma", "alpha"], 2)
    assert listed["thread_name"] == "QA thread"


async def test_created_at_copied_from_a_response_matches(client: Client, caller: Caller) -> None:
    deployment = await new_deployment(client, caller)
    thread = await new_thread(client, caller, deployment["id"])
    made = await call(
        client,
        caller,
        "POST",
        f"/deployments/{deployment['id']}/threads/{thread['id']}/histories",
        json=history_body("q", "a"),
    )
    listed = await search(client, caller, deployment["id"], f'created_at:"{made["created_at"]}"')
    assert inputs(listed) == ["q"]


async def test_form_encoded_query_and_unicode_case(client: Client, caller: Caller) -> None:
    """`params=` clients write spaces as `+`; wildcards fold case beyond ASCII."""
    deployment = await new_deployment(client, caller)
    thread = await new_thread(client, caller, deployment["id"])
    await new_chat_history(client, caller, deployment["id"], thread["id"], "Éclair recipe", "a", input_token_count=4)
    await new_chat_history(client, caller, deployment["id"], thread["id"], "C++ tips", "b", input_token_count=4)
    path = f"/deployments/{deployment['id']}/histories"
    form = await call(
        client, caller, "GET", path, params={"search_query": 'input_text:"éclair*" AND input_token_count:4'}
    )
    assert inputs(form) == ["Éclair recipe"]
    plus = await call(client, caller, "GET", path, params={"search_query": 'input_text:"C++*"'})  # `+` sent as %2B
    assert inputs(plus) == ["C++ tips"]
    raw = await call(client, caller, "GET", f"{path}?search_query=input_text:%22c++%20tips%22")  # the SDK's way
    assert inputs(raw) == []  # exact match is case-sensitive
    raw = await call(client, caller, "GET", f"{path}?search_query=input_text:%22C++%20tips%22")
    assert inputs(raw) == ["C++ tips"]


@pytest.mark.parametrize(
    ("pattern", "found"),
    [
        ("*50% OFF_sale*", True),  # case folded; `%` and `_` taken literally
        ("*5_% off*", False),  # `_` is not "any character"
        ("*50%*sale*", True),
        ("*0x off*", False),
        ("*\\\\ now", True),  # a backslash, written `\\` inside quotes
        ("*ÜBER*", True),  # beyond ASCII
    ],
)
async def test_wildcards_keep_like_metacharacters_literal(
    client: Client, caller: Caller, pattern: str, found: bool
) -> None:
    deployment = await new_deployment(client, caller)
    thread = await new_thread(client, caller, deployment["id"])
    await new_chat_history(client, caller, deployment["id"], thread["id"], "50% off_sale über \\ now", "a")
    await new_chat_history(client, caller, deployment["id"], thread["id"], "5x% off", "b")
    listed = await call(
        client,
        caller,
        "GET",
        f"/deployments/{deployment['id']}/histories",
        params={"search_query": f'input_text:"{pattern}"'},
    )
    assert inputs(listed) == (["50% off_sale über \\ now"] if found else [])
