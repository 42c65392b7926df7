"""Headless Chromium for tests, driven by Playwright: Debian's browser, never a downloaded one."""

import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from playwright.async_api import Browser, Page, Route, async_playwright

CHROMIUM = "/usr/bin/chromium"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """A headless Chromium (``--no-sandbox``: the tests run as root)."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            await browser.close()


async def offline(page: Page) -> list[str]:
    """Refuse every request that leaves the machine, as on a network without internet; the list
    returned fills with the URLs refused."""
    refused: list[str] = []

    async def only_local(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            await route.continue_()
        else:
            refused.append(route.request.url)
            await route.abort("internetdisconnected")

    await page.route("**/*", only_local)
    return refused
