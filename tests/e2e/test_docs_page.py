"""The API documentation page (``/docs``) in Chromium with no network but the service:
everything it needs comes from the service itself (ADR 0022)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from api.docs import ASSETS_URL
from tests.e2e.browser import open_page, screenshot
from tests.support.server import running_new_ledger

#: The service under test; any other host is "the internet", which the test takes away.
LOCAL = re.compile(r"^https?://(127\.0\.0\.1|localhost)(:\d+)?/")


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_new_ledger(tmp_path_factory.mktemp("docs")) as url:
        yield url


def offline(page: Page) -> list[str]:
    """Refuse every request to another host, as on a network without the internet; the list
    of refused URLs."""
    refused: list[str] = []

    def refuse(route: Route) -> None:
        if LOCAL.match(route.request.url):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    page.route("**/*", refuse)
    return refused


def test_swagger_ui_renders_offline(browser: Browser, base_url: str) -> None:
    with open_page(browser) as (page, _problems):
        refused = offline(page)
        page.goto(f"{base_url}/docs")
        # The operations of the API, rendered by Swagger UI from /openapi.json.
        verify = page.locator(".opblock-summary-path[data-path='/v1/verify']")
        expect(verify.first).to_be_visible()
        assert page.locator(".opblock").count() > 20
        expect(page.locator(".information-container .title")).to_contain_text(
            "Government certificate and credit ledger"
        )
        screenshot(page, "test_swagger_ui_renders_offline")
        assert refused == []


def test_documentation_assets_are_the_pinned_package(base_url: str) -> None:
    """The pages name the service's own copies, which it serves with a script content type."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        html = http.get("/docs").text
        assert f"{ASSETS_URL}/swagger-ui-bundle.js" in html
        assert "cdn.jsdelivr.net" not in html
        assert http.get("/redoc").status_code == 404
        script = http.get(f"{ASSETS_URL}/swagger-ui-bundle.js")
        assert script.status_code == 200
        assert "javascript" in script.headers["content-type"]
        # Swagger UI 5: the first major version that renders OpenAPI 3.1 (FastAPI's).
        assert re.search(r'PACKAGE_VERSION:"5\.\d+\.\d+"', script.text)
        assert http.get("/openapi.json").json()["openapi"].startswith("3.1")
