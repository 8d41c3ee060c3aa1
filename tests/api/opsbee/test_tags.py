"""Tags: CRUD per organization, the colour palette (default grey), unique names."""

from __future__ import annotations

import pytest

from tests.api.opsbee.helpers import Client, call, error, new_chat_history, new_deployment, new_tag, new_thread
from tests.conftest import Caller

TAG_KEYS = {"id", "organization_id", "name", "description", "color", "created_at", "updated_at"}
PALETTE = (
    "red",
    "orange",
    "yellow",
    "olive",
    "green",
    "teal",
    "blue",
    "violet",
    "purple",
    "pink",
    "brown",
    "grey",
    "black",
)


async def test_create_get_update_delete(client: Client, caller: Caller) -> None:
    tag = await new_tag(client, caller, "OK", "green")
    assert set(tag) == TAG_KEYS
    assert (tag["name"], tag["description"], tag["color"], tag["organization_id"]) == (
        "OK", "OK tag", "green", caller.tenant_id,
    )  # fmt: skip
    path = f"/tags/{tag['id']}"
    assert await call(client, caller, "GET", path) == tag
    # The SDK's update_tag sends every field; without a colour it sends grey.
    updated = await call(client, caller, "PATCH", path, json={"name": "Fine", "description": "", "color": "grey"})
    assert (updated["name"], updated["description"], updated["color"]) == ("Fine", "", "grey")
    recolored = await call(client, caller, "PATCH", path, json={"color": "red"})
    assert (recolored["name"], recolored["color"]) == ("Fine", "red")
    assert await call(client, caller, "DELETE", path) == {"message": f"tag {tag['id']} was deleted."}
    await error(client, caller, "GET", path, 404)


@pytest.mark.parametrize("color", PALETTE)
async def test_every_palette_colour(client: Client, caller: Caller, color: str) -> None:
    assert (await new_tag(client, caller, f"tag-{color}", color))["color"] == color


async def test_default_colour_and_validation(client: Client, caller: Caller) -> None:
    assert (await call(client, caller, "POST", "/tags", json={"name": "plain"}))["color"] == "grey"
    assert (await call(client, caller, "POST", "/tags", json={"name": "empty", "color": ""}))["color"] == "grey"
    assert "color" in await error(client, caller, "POST", "/tags", 400, json={"name": "x", "color": "magenta"})
    assert "name" in await error(client, caller, "POST", "/tags", 400, json={"name": "  "})
    assert "already exists" in await error(client, caller, "POST", "/tags", 409, json={"name": "plain"})
    other = await new_tag(client, caller, "other")
    await error(client, caller, "PATCH", f"/tags/{other['id']}", 409, json={"name": "plain"})
    await error(client, caller, "PATCH", f"/tags/{other['id']}", 400, json={"color": "gray"})


async def test_list_paginates(client: Client, caller: Caller) -> None:
    for name in ("a", "b", "c"):
        await new_tag(client, caller, name)
    first = await call(client, caller, "GET", "/tags?offset=0&limit=2&offset=0&limit=2")
    assert (first["organization_id"], first["offset"], first["limit"], first["has_next"]) == (
        caller.tenant_id,
        0,
        2,
        True,
    )
    rest = await call(client, caller, "GET", "/tags?offset=2&limit=2")
    assert rest["has_next"] is False
    assert {tag["name"] for tag in first["tags"] + rest["tags"]} == {"a", "b", "c"}


async def test_tags_are_per_organization(client: Client, caller: Caller, other_caller: Caller) -> None:
    theirs = await new_tag(client, other_caller, "shared-name")
    await new_tag(client, caller, "shared-name")  # the same name in another organization is fine
    await error(client, caller, "GET", f"/tags/{theirs['id']}", 404)
    await error(client, caller, "DELETE", f"/tags/{theirs['id']}", 404)
    deployment = await new_deployment(client, caller)
    thread = await new_thread(client, caller, deployment["id"])
    path = f"/deployments/{deployment['id']}/threads/{thread['id']}/histories"
    body = {"input_text": "q", "output_text": "a", "tag_ids": [theirs["id"]]}
    assert theirs["id"] in await error(client, caller, "POST", path, 400, json=body)


async def test_deleting_a_tag_untags_histories(client: Client, caller: Caller) -> None:
    deployment = await new_deployment(client, caller)
    thread = await new_thread(client, caller, deployment["id"])
    keep, drop = await new_tag(client, caller, "keep"), await new_tag(client, caller, "drop")
    history = await new_chat_history(
        client, caller, deployment["id"], thread["id"], "q", "a", tag_ids=[keep["id"], drop["id"]]
    )
    assert {tag["name"] for tag in history["tags"]} == {"keep", "drop"}
    await call(client, caller, "DELETE", f"/tags/{drop['id']}")
    path = f"/deployments/{deployment['id']}/threads/{thread['id']}/histories/{history['id']}"
    assert [tag["name"] for tag in (await call(client, caller, "GET", path))["tags"]] == ["keep"]
