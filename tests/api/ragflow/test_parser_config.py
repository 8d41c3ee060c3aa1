"""`parser_config` validated as RAGFlow v0.27 does (its test_create_dataset.py cases), on datasets and documents.

Every refusal is code 101 `Field: <parser_config.x> - Message: <...> - Value: <...>`.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.ragflow.helpers import Client, call, new_dataset, parse, upload
from tests.conftest import Caller

ACCEPTED: list[dict[str, Any]] = [
    {"auto_keywords": 0},
    {"auto_keywords": 32},
    {"auto_questions": 10},
    {"chunk_token_num": 1},
    {"chunk_token_num": 2048},
    {"delimiter": " "},
    {"html4excel": True},
    {"layout_recognize": "Plain Text"},
    {"tag_kb_ids": ["1", "2"]},
    {"topn_tags": 10},
    {"filename_embd_weight": 1.0},
    {"task_page_size": None},
    {"pages": [[1, 100]]},
    {"graphrag": {"use_graphrag": True}},
    {"graphrag": {"entity_types": ["age", "sex"]}},
    {"graphrag": {"method": "general"}},
    {"graphrag": {"method": "ner"}},
    {"graphrag": {"community": True, "resolution": True}},
    {"raptor": {"use_raptor": True}},
    {"raptor": {"prompt": "Who are you?"}},
    {"raptor": {"max_token": 2048, "threshold": 0.0, "max_cluster": 1024, "random_seed": 0}},
    {"parent_child": {"use_parent_child": True, "children_delimiter": "。"}},
]

REFUSED: list[tuple[dict[str, Any], str, str]] = [
    ({"auto_keywords": -1}, "auto_keywords", "Input should be greater than or equal to 0"),
    ({"auto_keywords": 33}, "auto_keywords", "Input should be less than or equal to 32"),
    ({"auto_keywords": 3.14}, "auto_keywords", "Input should be a valid integer"),
    ({"auto_questions": "string"}, "auto_questions", "Input should be a valid integer"),
    ({"chunk_token_num": 0}, "chunk_token_num", "Input should be greater than or equal to 1"),
    ({"chunk_token_num": 2049}, "chunk_token_num", "Input should be less than or equal to 2048"),
    ({"chunk_token_num": True}, "chunk_token_num", "Input should be a valid integer"),
    ({"delimiter": ""}, "delimiter", "String should have at least 1 character"),
    ({"html4excel": "string"}, "html4excel", "Input should be a valid boolean"),
    ({"tag_kb_ids": "1,2"}, "tag_kb_ids", "Input should be a valid list"),
    ({"tag_kb_ids": [1, 2]}, "tag_kb_ids.0", "Input should be a valid string"),
    ({"topn_tags": 0}, "topn_tags", "Input should be greater than or equal to 1"),
    ({"filename_embd_weight": 1.1}, "filename_embd_weight", "Input should be less than or equal to 1"),
    ({"filename_embd_weight": "string"}, "filename_embd_weight", "Input should be a valid number"),
    ({"task_page_size": 0}, "task_page_size", "Input should be greater than or equal to 1"),
    ({"pages": ["1,2"]}, "pages.0", "Input should be a valid list"),
    ({"pages": [["a", "b"]]}, "pages.0.0", "Input should be a valid integer"),
    ({"graphrag": {"use_graphrag": "string"}}, "graphrag.use_graphrag", "Input should be a valid boolean"),
    ({"graphrag": {"entity_types": [1]}}, "graphrag.entity_types.0", "Input should be a valid string"),
    ({"graphrag": {"method": "unknown"}}, "graphrag.method", "Input should be 'light', 'general' or 'ner'"),
    ({"graphrag": {"method": None}}, "graphrag.method", "Input should be 'light', 'general' or 'ner'"),
    ({"raptor": {"prompt": " "}}, "raptor.prompt", "String should have at least 1 character"),
    ({"raptor": {"max_token": 2049}}, "raptor.max_token", "Input should be less than or equal to 2048"),
    ({"raptor": {"threshold": -0.1}}, "raptor.threshold", "Input should be greater than or equal to 0"),
    ({"raptor": {"max_cluster": 3.14}}, "raptor.max_cluster", "Input should be a valid integer"),
    ({"raptor": {"random_seed": -1}}, "raptor.random_seed", "Input should be greater than or equal to 0"),
    ({"parent_child": {"use_parent_child": "x"}}, "parent_child.use_parent_child", "Input should be a valid boolean"),
    ({"parent_child": {"children_delimiter": ""}}, "parent_child.children_delimiter", "at least 1 character"),
    ({"unknown_key": 1}, "unknown_key", "Extra inputs are not permitted"),
    ({"raptor": {"unknown_key": 1}}, "raptor.unknown_key", "Extra inputs are not permitted"),
]


@pytest.mark.parametrize("config", ACCEPTED, ids=[str(c) for c in ACCEPTED])
async def test_valid_configs_are_kept(client: Client, caller: Caller, config: dict[str, Any]) -> None:
    stored = (await new_dataset(client, caller, parser_config=config))["parser_config"]
    for key, value in config.items():
        if isinstance(value, dict):
            assert {k: stored[key][k] for k in value} == value
        else:
            assert stored[key] == value
    assert "raptor" in stored and "graphrag" in stored  # filled in when not given, as RAGFlow does


@pytest.mark.parametrize(("config", "field", "message"), REFUSED, ids=[r[1] + ":" + r[2] for r in REFUSED])
async def test_invalid_configs_are_refused_with_ragflows_message(
    client: Client, caller: Caller, config: dict[str, Any], field: str, message: str
) -> None:
    reply = await call(client, caller, "POST", "/datasets", json={"name": "x", "parser_config": config})
    assert reply["code"] == 101, reply
    assert reply["message"].startswith(f"Field: <parser_config.{field}> - Message: <"), reply["message"]
    assert message in reply["message"]


async def test_the_exact_text_of_a_refusal(client: Client, caller: Caller) -> None:
    reply = await call(client, caller, "POST", "/datasets", json={"name": "x", "parser_config": {"auto_keywords": -1}})
    assert reply == {
        "code": 101,
        "message": "Field: <parser_config.auto_keywords> - Message: <Input should be greater than or equal to 0> "
        "- Value: <-1>",
    }


async def test_a_config_over_65535_characters_is_refused(client: Client, caller: Caller) -> None:
    body = {"name": "x", "parser_config": {"delimiter": "a" * 65536}}
    reply = await call(client, caller, "POST", "/datasets", json=body)
    assert reply["code"] == 101
    assert "Parser config exceeds size limit (max 65,535 characters). Current size: " in reply["message"]
    assert reply["message"].endswith("aaa...>")  # the value echoed, cut at 128 characters


async def test_a_given_sub_object_is_kept_whole_with_its_defaults(client: Client, caller: Caller) -> None:
    stored = (await new_dataset(client, caller, parser_config={"raptor": {"use_raptor": True}}))["parser_config"]
    assert stored["raptor"]["use_raptor"] is True and stored["raptor"]["max_cluster"] == 64
    assert stored["graphrag"]["use_graphrag"] is False and stored["chunk_token_num"] == 512


@pytest.mark.parametrize("empty", [{}, None])
async def test_empty_or_null_means_the_chunk_methods_defaults(client: Client, caller: Caller, empty: Any) -> None:
    default = (await new_dataset(client, caller, "default"))["parser_config"]
    assert (await new_dataset(client, caller, "given", parser_config=empty))["parser_config"] == default


async def test_updates_and_document_patches_are_validated_the_same_way(client: Client, caller: Caller) -> None:
    ds = await new_dataset(client, caller)
    put = await call(client, caller, "PUT", f"/datasets/{ds['id']}", json={"parser_config": {"topn_tags": 11}})
    assert put["code"] == 101 and put["message"].startswith("Field: <parser_config.topn_tags>")
    [doc] = await upload(client, caller, ds["id"], ("a.txt", b"some text"))
    path = f"/datasets/{ds['id']}/documents/{doc['id']}"
    patched = await call(client, caller, "PATCH", path, json={"parser_config": {"chunk_token_num": 0}})
    assert patched["code"] == 101 and patched["message"].startswith("Field: <parser_config.chunk_token_num>")
    kept = await call(client, caller, "PATCH", path, json={"parser_config": {"chunk_token_num": 64}})
    assert kept["code"] == 0 and kept["data"]["parser_config"]["chunk_token_num"] == 64


async def test_a_switched_on_step_that_is_not_run_is_said_in_the_log(client: Client, caller: Caller) -> None:
    ds = await new_dataset(client, caller, parser_config={"raptor": {"use_raptor": True}})
    [doc] = await upload(client, caller, ds["id"], ("a.txt", b"Bees make honey."))
    [parsed] = await parse(client, caller, ds["id"], doc["id"])
    assert parsed["run"] == "DONE"
    assert "RAPTOR is on in parser_config, but this server does not run it: skipped." in parsed["progress_msg"]
    assert "GraphRAG" not in parsed["progress_msg"]
