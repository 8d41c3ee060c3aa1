"""The console in headless Chromium against a live server: the flows a user goes through, end to end."""

from __future__ import annotations

import asyncio
import re

import httpx
from playwright.async_api import FilePayload, Page, expect

from tests.console.conftest import Console, go, shot, sign_in

DOCUMENTS = [
    ("storage.txt", "Nectar stores vectors in PostgreSQL with the pgvector extension, beside the full-text index."),
    ("bees.md", "# Bees\n\nHoney bees collect nectar from flowers and turn it into honey inside the hive."),
]
QUESTION = "Where does Nectar store vectors?"


def upload_payload() -> list[FilePayload]:
    return [{"name": name, "mimeType": "text/plain", "buffer": text.encode()} for name, text in DOCUMENTS]


async def test_sign_in_refuses_a_wrong_key(page: Page, console: Console) -> None:
    await page.goto("/")
    await shot(page, "sign-in")
    await page.get_by_label("API key").fill("not-a-key")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#sign-in .error")).to_contain_text("refused this API key")
    await expect(page.locator("#nav")).to_be_hidden()
    assert await page.evaluate("localStorage.getItem('nectar.apiKey')") is None


async def test_dataset_upload_parse_and_retrieval(page: Page, console: Console) -> None:
    await sign_in(page, console.key)
    await shot(page, "datasets")
    await page.locator("#new-dataset").get_by_label("Name", exact=True).fill("console-docs")
    await page.get_by_role("button", name="Create dataset").click()
    await expect(page.locator("h1")).to_have_text("console-docs")

    await page.set_input_files("#upload-input", files=upload_payload())
    for name, _ in DOCUMENTS:  # parsed on upload; the page polls the documents list until they are done
        await expect(page.locator(f'tr[data-document="{name}"] .badge')).to_have_text("DONE", timeout=30_000)
        await expect(page.locator(f'tr[data-document="{name}"] td.num')).not_to_have_text("0")
    await shot(page, "dataset")

    await page.get_by_role("link", name="storage.txt").click()
    await expect(page.locator(".chunk .chunk-text").first).to_contain_text("pgvector extension")
    await shot(page, "chunks")

    await go(page, "Retrieval test")
    await page.get_by_label("Question").fill("pgvector vectors")
    await page.locator("#retrieval-form").get_by_label("console-docs").check()
    await page.get_by_role("button", name="Test retrieval").click()
    first = page.locator("#hits .hit").first
    await expect(first).to_contain_text("storage.txt")
    await expect(first.locator(".score")).to_have_text(re.compile(r"similarity \d+\.\d%"))
    await expect(first.locator("mark").first).to_have_text(re.compile("vectors|pgvector", re.IGNORECASE))
    await shot(page, "retrieval")
    assert console.problems == []


async def test_failed_parse_shows_its_reason_and_settings_save(page: Page, console: Console) -> None:
    await sign_in(page, console.key)
    await page.locator("#new-dataset").get_by_label("Name", exact=True).fill("broken-docs")
    await page.get_by_role("button", name="Create dataset").click()
    await expect(page.locator("h1")).to_have_text("broken-docs")
    broken: FilePayload = {"name": "broken.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7 not really"}
    await page.set_input_files("#upload-input", files=[broken])
    row = page.locator('tr[data-document="broken.pdf"]')
    await expect(row.locator(".badge")).to_have_text("FAIL", timeout=30_000)
    await expect(row.locator(".error-text")).not_to_be_empty()
    await expect(row.get_by_role("button", name="Re-parse")).to_be_visible()

    settings = page.locator("#dataset-settings")
    await settings.get_by_label("Name", exact=True).fill("broken-docs-v2")
    await settings.get_by_label("Chunk method").select_option("one")
    await settings.get_by_role("button", name="Save settings").click()
    await expect(page.locator("h1")).to_have_text("broken-docs-v2")
    await page.reload()
    await expect(page.locator("#dataset-settings").get_by_label("Chunk method")).to_have_value("one")
    await settings.get_by_label("Parser config (JSON)").fill("{not json")
    await settings.get_by_role("button", name="Save settings").click()
    await expect(settings.locator(".error")).to_contain_text("not JSON")
    assert console.problems == []


async def parsed_dataset(console: Console, name: str) -> str:
    """A dataset with both documents parsed, made through the API (the upload itself is the test above)."""
    headers = {"Authorization": f"Bearer {console.key}"}
    async with httpx.AsyncClient(base_url=console.base_url + "/api/v1", headers=headers, timeout=30) as api:
        dataset = str((await api.post("/datasets", json={"name": name})).json()["data"]["id"])
        files = [("file", (doc_name, text.encode(), "text/plain")) for doc_name, text in DOCUMENTS]
        docs = (await api.post(f"/datasets/{dataset}/documents", files=files)).json()["data"]
        await api.post(f"/datasets/{dataset}/documents/parse", json={"document_ids": [d["id"] for d in docs]})
        for _ in range(300):  # a chat needs a parsed document in each of its datasets
            listed = (await api.get(f"/datasets/{dataset}/documents")).json()["data"]["docs"]
            if all(doc["run"] == "DONE" for doc in listed):
                return dataset
            await asyncio.sleep(0.1)
    raise AssertionError(f"documents not parsed: {listed}")


async def test_chat_citation_rating_and_history(page: Page, console: Console) -> None:
    await parsed_dataset(console, "chat-docs")
    await sign_in(page, console.key)
    await go(page, "Chat")
    form = page.locator("#new-chat")
    await form.get_by_label("Name", exact=True).fill("Docs helper")
    await form.get_by_label("chat-docs").check()
    await form.get_by_role("button", name="Create assistant").click()

    await page.get_by_placeholder("Ask Docs helper").fill(QUESTION)
    async with page.expect_response("**/api/v1/chat/completions") as streamed:
        await page.get_by_role("button", name="Send").click()
    assert (await streamed.value).headers["content-type"].startswith("text/event-stream")
    citation = page.locator("#chat-log a.cite").first
    await expect(citation).to_be_visible(timeout=20_000)
    await expect(page.locator("#chat-log .bubble.assistant").last).to_contain_text("pgvector")
    await shot(page, "chat")

    await citation.click()
    await expect(page.locator("#cited-chunk")).to_contain_text("pgvector extension")
    await expect(page.locator("#dialog h2")).to_have_text("storage.txt")
    async with page.expect_download() as downloading:
        await page.get_by_role("button", name="Download the document").click()
    assert (await downloading.value).suggested_filename == "storage.txt"
    await page.locator("#dialog").get_by_role("button", name="Close").click()

    thumbs_up = page.get_by_role("button", name="Thumbs up").last
    await thumbs_up.click()
    await expect(thumbs_up).to_have_attribute("aria-pressed", "true")

    chat_id = re.search(r"#/chat/(\w+)", page.url)
    assert chat_id is not None
    await page.goto(f"/#/history/{chat_id[1]}")  # the chat is the deployment its histories are listed under
    await expect(page.get_by_role("combobox", name="Deployment")).to_have_value(chat_id[1])
    search = page.locator("#search-query")
    await search.fill("input_text:")  # malformed: the error shows right under the box
    await page.get_by_role("button", name="Search").click()
    await expect(page.locator("#history-search + .error")).to_contain_text("search_query")
    await search.fill('input_text:"*store vectors*" AND tag_name:"feedback:like"')
    await page.get_by_role("button", name="Search").click()
    await expect(page.locator("#history-search + .error")).to_be_hidden()
    rows = page.locator("#histories tbody tr[data-history]")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(QUESTION)
    await expect(rows.first.locator(".tag")).to_have_text("feedback:like")
    await shot(page, "history")

    await go(page, "Dashboard")
    await page.get_by_role("combobox", name="Deployment").select_option(chat_id[1])
    await expect(page.locator(".total", has_text="Messages").locator("strong")).to_have_text("1")
    await expect(page.locator(".total", has_text="Likes").locator("strong")).to_have_text("1 / 0")
    await expect(page.locator("#charts svg.chart")).to_have_count(4)
    await shot(page, "dashboard")
    assert console.problems == []


async def answered_chat(console: Console, dataset: str) -> str:
    """A chat over `dataset` with one answered question (a history to curate), through the API."""
    headers = {"Authorization": f"Bearer {console.key}"}
    async with httpx.AsyncClient(base_url=console.base_url + "/api/v1", headers=headers, timeout=30) as api:
        chat = str((await api.post("/chats", json={"name": "Curated", "dataset_ids": [dataset]})).json()["data"]["id"])
        body = {"chat_id": chat, "messages": [{"role": "user", "content": QUESTION}], "stream": False}
        assert (await api.post("/chat/completions", json=body)).json()["code"] == 0
    return chat


async def test_chunk_editing_and_document_controls(page: Page, console: Console) -> None:
    dataset = await parsed_dataset(console, "edit-docs")
    await sign_in(page, console.key)
    await page.goto(f"/#/datasets/{dataset}")
    row = page.locator('tr[data-document="storage.txt"]')
    await expect(row.locator(".badge")).to_have_text("DONE", timeout=30_000)
    async with page.expect_download() as downloading:
        await row.get_by_role("button", name="Download").click()
    saved = await downloading.value
    assert saved.suggested_filename == "storage.txt"
    assert DOCUMENTS[0][1] in (await saved.path()).read_text(encoding="utf-8")
    async with page.expect_response(lambda reply: reply.request.method == "PATCH"):
        await row.get_by_title("enabled").uncheck()
    await page.reload()  # what the server now says
    await expect(page.locator('tr[data-document="storage.txt"]').get_by_title("enabled")).not_to_be_checked()

    await page.get_by_role("link", name="storage.txt").click()
    chunk = page.locator(".chunk").first
    await chunk.get_by_role("button", name="Edit").click()
    await chunk.locator("textarea").fill("Vectors live in PostgreSQL (pgvector), edited in the console.")
    await chunk.get_by_role("button", name="Save").click()
    await expect(page.locator(".chunk .chunk-text").first).to_have_text(re.compile("edited in the console"))
    await page.locator(".chunk").first.get_by_label("available").uncheck()
    await expect(page.locator(".chunk").first).to_have_class(re.compile(r"\boff\b"))
    await page.get_by_placeholder("New chunk text").fill("A chunk written by hand about hive temperature.")
    await page.get_by_role("button", name="Add chunk").click()
    await expect(page.locator(".pager")).to_contain_text("(2 chunks)")
    await page.get_by_placeholder("Search chunks").fill("hive temperature")
    await page.get_by_role("button", name="Search").click()
    await expect(page.locator(".chunk")).to_have_count(1)
    await expect(page.locator(".chunk .chunk-text")).to_contain_text("written by hand")
    assert console.problems == []


def long_document() -> FilePayload:
    """Text enough for a parse of many seconds (hundreds of chunks to embed), so it can be stopped midway."""
    words = [f"hive{i % 997} nectar{i % 389} comb{i % 101}" for i in range(60_000)]
    return {"name": "long.txt", "mimeType": "text/plain", "buffer": " ".join(words).encode()}


async def test_a_running_parse_stops(page: Page, console: Console) -> None:
    await sign_in(page, console.key)
    await page.locator("#new-dataset").get_by_label("Name", exact=True).fill("stopped-docs")
    await page.get_by_role("button", name="Create dataset").click()
    await expect(page.locator("h1")).to_have_text("stopped-docs")
    await page.set_input_files("#upload-input", files=[long_document()])
    row = page.locator('tr[data-document="long.txt"]')
    await expect(row.locator(".badge")).to_have_text("RUNNING", timeout=30_000)
    await row.get_by_role("button", name="Stop").click()
    await expect(row.locator(".badge")).to_have_text("CANCEL", timeout=30_000)
    await expect(row.get_by_role("button", name="Re-parse")).to_be_visible()
    await page.reload()  # what the server now says
    await expect(page.locator('tr[data-document="long.txt"] .badge')).to_have_text("CANCEL")
    assert console.problems == []


async def test_history_tags_metadata_dataset_and_export(page: Page, console: Console) -> None:
    chat = await answered_chat(console, await parsed_dataset(console, "curation-docs"))
    await sign_in(page, console.key)
    await page.goto(f"/#/history/{chat}")
    row = page.locator("#histories tbody tr[data-history]")
    await expect(row).to_have_count(1)

    await row.get_by_role("button", name="Open").click()
    dialog = page.locator("#dialog")
    await dialog.get_by_placeholder("new tag").fill("reviewed")
    await dialog.get_by_role("button", name="Create tag").click()
    await expect(dialog.get_by_label("reviewed")).to_be_checked()
    await dialog.get_by_role("button", name="Save tags").click()
    await expect(row.locator(".tag")).to_have_text("reviewed")
    await dialog.get_by_placeholder("key").fill("ticket")
    await dialog.get_by_placeholder("value").fill("SUP-42")
    await dialog.get_by_role("button", name="Add", exact=True).click()
    await expect(dialog.locator("li", has_text="ticket")).to_contain_text("SUP-42")
    await shot(page, "history-detail")
    await dialog.get_by_role("button", name="Close").click()

    await row.get_by_label("select").check()
    await page.get_by_placeholder("new evaluation dataset").fill("golden answers")
    await page.get_by_role("button", name="Create", exact=True).click()
    await expect(page.locator("select[name=eval-dataset]")).to_contain_text("golden answers (0)")
    await page.get_by_role("button", name="Add selected").click()
    await expect(page.locator("select[name=eval-dataset]")).to_contain_text("golden answers (1)")

    await page.locator("#search-query").fill('tag_name:"reviewed" AND metadata_value:"SUP-42"')
    await page.get_by_role("button", name="Search").click()
    await expect(row).to_have_count(1)
    async with page.expect_download() as downloading:
        await page.get_by_role("button", name="Export CSV").click()
    saved = await downloading.value
    assert saved.suggested_filename.endswith(".csv")
    exported = (await saved.path()).read_text(encoding="utf-8")
    assert QUESTION in exported and "reviewed" in exported
    assert console.problems == []
