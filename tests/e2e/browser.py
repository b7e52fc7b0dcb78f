"""Driving Debian's Chromium with Python Playwright, for the browser tests of the web pages.

The browser is the system one (``/usr/bin/chromium``, installed by ``make browser``), not a
Playwright download: nothing is fetched at test time. A missing browser fails the test instead of
skipping it, so a machine without one cannot pass the suite.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, Playwright, ViewportSize

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "SCREENSHOT_DIR",
    "PageProblems",
    "launch_chromium",
    "open_page",
    "screenshot",
]

ROOT: Final = Path(__file__).resolve().parents[2]
CHROMIUM: Final = Path("/usr/bin/chromium")
#: No sandbox (containers without user namespaces), and nothing that phones home.
CHROMIUM_ARGS: Final = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
SCREENSHOT_DIR: Final = ROOT / "test-artifacts" / "screenshots"
#: Wide enough for the two-column layout of the pages.
VIEWPORT: Final[ViewportSize] = {"width": 1280, "height": 900}


def launch_chromium(playwright: Playwright) -> Browser:
    """Headless Chromium from the system; fails (not skips) the test when it is missing."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` to install Chromium")
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS), headless=True
    )


@dataclass
class PageProblems:
    """What went wrong inside a page: uncaught exceptions and console errors.

    Console errors include Content-Security-Policy violations and failed loads; answers the test
    provokes on purpose (a refused login, say) are listed in ``expected`` as patterns.
    """

    exceptions: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    expected: list[re.Pattern[str]] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def on_exception(self, error: Error) -> None:
        self.exceptions.append(str(error))

    def expect(self, pattern: str) -> None:
        """Allow console errors matching ``pattern`` (e.g. a 4xx the test asks for)."""
        self.expected.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        errors = [
            text
            for text in self.console_errors
            if not any(pattern.search(text) for pattern in self.expected)
        ]
        return self.exceptions + errors


@contextmanager
def open_page(browser: Browser, *, locale: str = "zh-CN") -> Iterator[tuple[Page, PageProblems]]:
    """A page in a fresh context (its own sessionStorage and localStorage); on exit, asserts
    that nothing went wrong inside it."""
    context = browser.new_context(locale=locale, viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    page = context.new_page()
    problems = PageProblems()
    page.on("console", problems.on_console)
    page.on("pageerror", problems.on_exception)
    try:
        yield page, problems
    finally:
        context.close()
    assert problems.unexpected() == [], "errors inside the page"


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as ``test-artifacts/screenshots/<name>.png``."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
