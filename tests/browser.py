"""Debian's chromium, headless, driven by Playwright for Python: the UI tests' browser.

    def test_report(page):                    # tests/conftest.py: a fresh page per test
        page.goto(url); page.click("text=Log in")

    async def test_live(csms):                # inside a running asyncio loop (async tests)
        async with async_browser() as browser:
            page = await browser.new_page()

The sync API (the `browser`/`page` fixtures) drives its own event loop, so it cannot run inside
pytest-asyncio's: async tests use `async_browser()`, and one of those launches per test (the
loop scope is per function). The browser is Debian's package (`apt-get install chromium`, as
.ci/run does), never Playwright's download (`playwright install`). A missing chromium or
Playwright fails the test with a message saying what to install: a UI test that skips silently
proves nothing.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

__all__ = ["CHROMIUM", "LAUNCH_ARGS", "async_browser", "launch_options", "require"]

#: The distribution's chromium; CHARGEBENCH_CHROMIUM points elsewhere
CHROMIUM = Path(os.environ.get("CHARGEBENCH_CHROMIUM", "/usr/bin/chromium"))
#: Headless in a container as root, nothing fetched from the network behind the test's back
LAUNCH_ARGS = (
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-quic", "--no-first-run", "--disable-sync",
)
#: Page size of screenshots (docs/screenshots/*.png)
VIEWPORT = {"width": 1200, "height": 900}


def require() -> None:
    """Fail (not skip) the calling test unless Playwright and chromium are installed."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        pytest.fail("browser tests need Playwright for Python: pip install -e '.[test]'",
                    pytrace=False)
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"browser tests need chromium at {CHROMIUM}: apt-get install -y chromium "
                    "(Debian's package; .ci/run installs it; CHARGEBENCH_CHROMIUM overrides the "
                    "path)", pytrace=False)


def launch_options() -> dict[str, Any]:
    return {"executable_path": str(CHROMIUM), "headless": True, "args": list(LAUNCH_ARGS)}


@contextlib.asynccontextmanager
async def async_browser() -> AsyncIterator[Any]:
    """A headless chromium for an async test (Playwright's async API), closed on exit."""
    require()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(**launch_options())
        try:
            yield browser
        finally:
            await browser.close()
