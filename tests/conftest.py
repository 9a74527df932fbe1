"""Fixtures every test folder may use: a real browser for UI tests (tests/browser.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import VIEWPORT, launch_options, require


@pytest.fixture
def browser() -> Iterator[Any]:
    """A headless chromium for a sync UI test (Playwright's sync API); fails the test when
    chromium or Playwright is missing.

    Per test, not per session: the sync API keeps its event loop marked as running in this
    thread while it is open, which would make every later async test fail ("Runner.run()
    cannot be called from a running event loop"). A launch costs about a second.
    """
    require()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(**launch_options())
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page (its own cookies and storage) of VIEWPORT size; closed after the test."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        yield context.new_page()
    finally:
        context.close()
