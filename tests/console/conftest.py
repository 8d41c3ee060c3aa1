"""A live `nectar serve` and headless Chromium (Debian's, launched by path: Playwright downloads no browser).

A failing test leaves a screenshot of its page in tests/console/screenshots/<test>.png; with NECTAR_SCREENSHOTS=1
(`make screenshots`) the tests also save the named screenshots of each page they visit.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import (
    Browser,
    ConsoleMessage,
    Error,
    Page,
    Request,
    Response,
    ViewportSize,
    async_playwright,
    expect,
)

from tests.clients.conftest import start_server, stop_server
from tests.conftest import create_database

SCREENSHOTS = Path(__file__).parent / "screenshots"
KEY = "nectar-console-tests-key"
DESKTOP: ViewportSize = {"width": 1280, "height": 800}


@dataclass
class Console:
    base_url: str
    key: str = KEY
    problems: list[str] = field(default_factory=list)  # console errors, page errors, requests to other origins


@pytest.fixture(scope="session")
async def console_database(server_url: str) -> str:
    """A database of the console's own: the pages show everything of the key's tenant, and other suites' servers
    would otherwise add their chats and datasets to it (the chat page then starts on one of theirs)."""
    return await create_database(server_url)


@pytest.fixture(scope="session")
def console_server(console_database: str) -> Iterator[str]:
    """No LLM upstream: answers come from the built-in `nectar-extractive` model."""
    process, base_url = start_server(
        {"DATABASE_URL": console_database, "NECTAR_API_KEY": KEY, "NECTAR_DATA_DIR": tempfile.mkdtemp()}
    )
    yield base_url
    stop_server(process)


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError("chromium is not installed: `apt-get install chromium` (.ci/run does it)")
    return path


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium_path())
        yield launched
        await launched.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[Any]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keeps each phase's report on the test item, so the page fixture knows whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def watch(page: Page, console: Console) -> None:
    """Script errors, requests elsewhere and server errors are problems. A 4xx is the API answering a bad request
    (a malformed search_query) that the page shows to the user, so the browser's log line about it is not."""

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            console.problems.append(message.text)

    def on_page_error(error: Error) -> None:
        console.problems.append(str(error))

    def on_request(request: Request) -> None:
        if not request.url.startswith((console.base_url, "data:", "blob:")):
            console.problems.append(f"request to another origin: {request.url}")

    def on_response(reply: Response) -> None:
        if reply.status >= 500:
            console.problems.append(f"{reply.status} {reply.url}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    page.on("request", on_request)
    page.on("response", on_response)


@pytest.fixture
async def console(console_server: str) -> Console:
    return Console(console_server)


@pytest.fixture
async def page(browser: Browser, console: Console, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport=DESKTOP, base_url=console.base_url)
    context.set_default_timeout(15_000)
    opened = await context.new_page()
    watch(opened, console)
    yield opened
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(exist_ok=True)
        await opened.screenshot(path=SCREENSHOTS / f"failed-{request.node.name}.png", full_page=True)
    await context.close()


async def settled(page: Page) -> None:
    """Until no API call is out: the page marks `<body aria-busy="true">` while any is."""
    await expect(page.locator("body")).not_to_have_attribute("aria-busy", "true")


async def shot(page: Page, name: str) -> None:
    """The README's screenshots, saved when asked for (`make screenshots`), of the page once its data is in."""
    if os.environ.get("NECTAR_SCREENSHOTS"):
        await settled(page)
        SCREENSHOTS.mkdir(exist_ok=True)
        await page.evaluate("document.getElementById('toast').className = ''")  # a passing notice, not the page
        await page.screenshot(path=SCREENSHOTS / f"{name}.png")


async def sign_in(page: Page, key: str) -> None:
    await page.goto("/")
    await page.get_by_label("API key").fill(key)
    await page.get_by_role("button", name="Sign in").click()
    await page.locator("#nav").wait_for()


async def go(page: Page, section: str) -> None:
    """Through the top navigation, as a user moves between sections. The new section is drawn after the
    `hashchange` event, so this waits for its heading: until then the old section's controls are on the page."""
    await page.locator("#nav").get_by_role("link", name=section, exact=True).click()
    await expect(page.locator("main h1")).to_have_text(section)
