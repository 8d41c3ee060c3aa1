"""How the console is served: its security headers, NECTAR_CONSOLE=0, a phone-sized screen."""

from __future__ import annotations

from typing import cast

import httpx
import pytest
from playwright.async_api import Browser, Page, ViewportSize, expect

from service.app import create_app
from service.settings import Settings
from tests.conftest import ASGIApp
from tests.console.conftest import Console, go, settled, shot, sign_in, watch

PHONE: ViewportSize = {"width": 390, "height": 844}


async def get(settings: Settings, path: str) -> httpx.Response:
    """Through the app alone (no database is needed to serve static files)."""
    transport = httpx.ASGITransport(app=cast(ASGIApp, create_app(settings)))
    async with httpx.AsyncClient(transport=transport, base_url="http://nectar.test") as client:
        return await client.get(path)


async def test_page_and_assets_carry_a_same_origin_script_policy() -> None:
    for path in ("/", "/console/js/app.js", "/console/style.css"):
        reply = await get(Settings(), path)
        assert reply.status_code == 200, path
        policy = reply.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "default-src 'none'" in policy and "connect-src 'self'" in policy
        assert reply.headers["x-content-type-options"] == "nosniff"
    assert (await get(Settings(), "/")).headers["content-type"].startswith("text/html")


async def test_console_off_serves_nothing_and_stays_out_of_the_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NECTAR_CONSOLE", "0")
    off = Settings.from_env()
    assert off.console is False
    assert (await get(off, "/")).status_code == 404
    assert (await get(off, "/console/js/app.js")).status_code == 404
    assert (await get(Settings(), "/console/../settings.py")).status_code == 404
    paths = create_app(Settings()).openapi_schema.to_schema()["paths"]
    assert not [path for path in paths if path == "/" or path.startswith("/console")]


async def test_browser_refuses_inline_script(page: Page, console: Console) -> None:
    await sign_in(page, console.key)
    ran = await page.evaluate(
        """() => new Promise((resolve) => {
            document.addEventListener("securitypolicyviolation", () => resolve(window.injected === 1), { once: true });
            const script = document.createElement("script");
            script.textContent = "window.injected = 1";
            document.head.append(script);
        })"""
    )
    assert ran is False


async def test_phone_width_has_no_sideways_scroll(browser: Browser, console: Console) -> None:
    context = await browser.new_context(viewport=PHONE, base_url=console.base_url, is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    page = await context.new_page()
    watch(page, console)
    try:
        await sign_in(page, console.key)
        for link, heading in [
            ("Datasets", "Datasets"),
            ("Retrieval test", "Retrieval test"),
            ("Chat", "Chat"),
            ("History", "History"),
            ("Dashboard", "Dashboard"),
        ]:
            await go(page, link)
            await expect(page.locator("h1")).to_have_text(heading)
            await settled(page)  # the section's data is in: what a phone shows of it is what is measured
            overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{link}: {overflow}px wider than the screen"
            await shot(page, f"phone-{link.split()[0].lower()}")
        assert console.problems == []
    finally:
        await context.close()
