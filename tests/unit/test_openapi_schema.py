"""The published OpenAPI document describes every operation: a security requirement, its query parameters and
request body, a real 200 reply and its family's error body. A new route without a description fails here."""

from __future__ import annotations

import re
from typing import Any, get_args

import httpx
import pytest

from service.api import openapi
from service.api.apps import openapi as apps_openapi
from service.api.openapi import routed_operations
from service.api.ragflow import openapi_queries
from service.api.ragflow.documents import RUN_CODES
from service.app import FAMILIES, create_app
from service.domain.assistants import MEMORY_MODES
from service.settings import Settings

METHODS = ("get", "post", "put", "patch", "delete")
# Writes that take no body: they act on what the path names.
BODILESS_WRITES = {
    ("post", "/api/v1/datasets/{dataset_id}/embedding"),
    ("post", "/apps/{app_id}/publish"),
    ("post", "/apps/{app_id}/cancel-publish"),
    ("post", "/apps/{app_id}/messages/{message_id}/delete"),
    (
        "post",
        "/opsbee-llm/organizations/{organization_id}/deployments/{deployment_id}/histories/{history_id}/datasets/{dataset_id}/items",
    ),
    (
        "post",
        "/opsbee-llm/organizations/{organization_id}/deployments/{deployment_id}/qa_histories/{history_id}/datasets/{dataset_id}/items",
    ),
}
PUBLIC = {"/api/v1/system/healthz", "/v1/system/healthz", "/api/v1/system/ping", "/api/v1/system/version"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app(Settings()).openapi_schema.to_schema()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, item[method]) for path, item in document["paths"].items() for method in METHODS if method in item
    ]


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_every_family_operation_is_published(document: dict[str, Any]) -> None:
    """158 operations at the time of writing; each family's counts as its routers serve them."""
    tags = [operation["tags"] for _, _, operation in operations(document)]
    assert len(tags) >= 158
    counts = {family.name: sum(1 for tag in tags if tag == [family.name]) for family in FAMILIES}
    assert counts["ragflow"] >= 90 and counts["opsbee"] >= 44 and counts["apps"] >= 15
    assert counts["openai"] >= 5 and counts["system"] == 2
    assert sum(counts.values()) == len(tags), "an operation outside every family's description"


def test_every_operation_names_its_security(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {**schemes["bearer"], "type": "http", "scheme": "bearer"}
    assert schemes["basic"]["scheme"] == "basic"
    for method, path, operation in operations(document):
        security = operation.get("security")
        assert security, f"{method} {path} has no security requirement"
        if path in PUBLIC:
            assert security == [{}], path
        elif path.startswith("/opsbee-llm/"):
            assert security == [{"bearer": []}, {"basic": []}], path
        else:
            assert security == [{"bearer": []}], path


def test_every_operation_has_a_real_reply_and_its_family_error(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        responses = operation["responses"]
        ok = responses["200"]["content"]
        for media in ok.values():
            assert media["schema"] not in ({}, None), f"{method} {path}: 200 has no schema"
        errors = [status for status in responses if status != "200"]
        assert errors, f"{method} {path} names no error reply"
        error = responses[errors[0]]["content"]["application/json"]["schema"]
        assert resolve(document, error).get("properties"), f"{method} {path}: the error body is not described"
        assert "Validation Exception" not in str(responses), "Litestar's own error shape is not what families send"


def test_every_write_describes_its_body_and_every_path_parameter_is_listed(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        if method in ("post", "put", "patch") and (method, path) not in BODILESS_WRITES:
            content = operation.get("requestBody", {}).get("content", {})
            assert content, f"{method} {path} describes no request body"
            schema = resolve(document, next(iter(content.values()))["schema"])
            assert schema.get("properties") or schema.get("anyOf"), f"{method} {path}: an empty body schema"
        listed = {param["name"] for param in operation.get("parameters", []) if param["in"] == "path"}
        assert listed == set(re.findall(r"{(\w+)}", path)), f"{method} {path}"


def test_list_routes_publish_their_query_strings(document: dict[str, Any]) -> None:
    def query(path: str, method: str = "get") -> set[str]:
        params = document["paths"][path][method].get("parameters", [])
        return {param["name"] for param in params if param["in"] == "query"}

    assert {"page", "page_size", "orderby", "desc", "name", "id", "ids"} <= query("/api/v1/datasets")
    assert {"run", "suffix", "metadata_condition", "create_time_from"} <= query(
        "/api/v1/datasets/{dataset_id}/documents"
    )
    assert {"offset", "limit", "search_query", "sort_by", "sort_order"} <= query(
        "/opsbee-llm/organizations/{organization_id}/deployments/{deployment_id}/histories"
    )
    assert {"current_page", "page_size"} <= query("/apps/{app_id}/messages")
    runs = next(
        param
        for param in document["paths"]["/api/v1/datasets/{dataset_id}/documents"]["get"]["parameters"]
        if param["name"] == "run"
    )
    assert (runs["schema"]["type"], runs["style"], runs["explode"]) == ("array", "form", True)


def test_no_description_is_left_without_a_route() -> None:
    routed = {openapi.handler_function(handler) for _, _, handler in routed_operations(create_app(Settings()))}
    for family in FAMILIES:
        stale = [function.__qualname__ for function in family.described if function not in routed]
        assert stale == [], f"{family.name} describes handlers no route serves"


def test_published_choices_are_the_ones_the_readers_take() -> None:
    assert set(get_args(openapi_queries.RunState)) == {*RUN_CODES, *RUN_CODES.values()}
    assert set(get_args(apps_openapi.MemoryMode)) == set(MEMORY_MODES)


async def test_the_served_document_is_the_described_one(document: dict[str, Any]) -> None:
    app = create_app(Settings())
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://nectar.test") as client:
        served = (await client.get("/schema/openapi.json")).json()
    assert served == document
    assert served["info"]["title"] == "Nectar"
