"""The pages are served by the real app: every page with its headers and script, and a link to
every other page in each one's navigation (the list here is the list of pages)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.web.pages import CONTENT_SECURITY_POLICY, STATIC_DIR
from tests.support.server import new_ledger

#: Path → the name the page goes by (body data-page, its nav link's data-nav, its script).
PAGES: Final = {
    "/": "verify",
    "/services": "services",
    "/citizen": "citizen",
    "/console": "console",
    "/stats": "stats",
}
NAV_LINK: Final = re.compile(r'<a href="([^"]+)" data-nav="([^"]+)"')


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with TestClient(create_app(new_ledger(tmp_path_factory.mktemp("pages")))) as test_client:
        yield test_client


@pytest.mark.parametrize("path", list(PAGES))
def test_each_page_is_served_with_its_script_and_headers(client: TestClient, path: str) -> None:
    name = PAGES[path]
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert f'<body data-page="{name}">' in response.text
    assert f'<script type="module" src="/static/{name}.js"></script>' in response.text
    assert f'data-i18n="{name}.pageTitle"' in response.text
    assert client.head(path).status_code == 200
    script = client.get(f"/static/{name}.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert (STATIC_DIR / f"{name}.js").is_file()


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_links_to_every_page(client: TestClient, path: str) -> None:
    assert dict(NAV_LINK.findall(client.get(path).text)) == PAGES


def test_the_service_guide_reads_the_service_catalogue(client: TestClient) -> None:
    """What /services shows comes from GET /v1/services, which answers without a token."""
    script = client.get("/static/services.js").text
    assert 'api("/v1/services")' in script
    answer = client.get("/v1/services")
    assert answer.status_code == 200, answer.text
    assert answer.json()["services"]


def test_the_statistics_page_draws_its_own_charts_from_the_statistics(client: TestClient) -> None:
    """/stats reads GET /v1/stats (public) and draws with its own chart module: nothing comes
    from another origin."""
    script = client.get("/static/stats.js").text
    assert 'api("/v1/stats")' in script
    assert "charts.js" in imported_modules(client, "stats.js")
    for module in ("stats.js", "charts.js"):
        assert "http" not in client.get(f"/static/{module}").text.replace(SVG_NAMESPACE, "")
    page = client.get("/stats").text
    for anchor in ('id="stats-asof"', 'id="stats-totals"', 'id="figures-certificates"'):
        assert anchor in page
    assert client.get("/v1/stats").status_code == 200


#: The one URL in the chart module: the SVG namespace, which is a name, never fetched.
SVG_NAMESPACE: Final = "http://www.w3.org/2000/svg"


def test_pages_are_not_api_operations(client: TestClient) -> None:
    assert not set(PAGES) & set(client.get("/openapi.json").json()["paths"])


#: A module import of a page script: ``import … from "./x.js"`` or ``import "./vendor/y.js"``.
MODULE_IMPORT: Final = re.compile(r'^import\s+(?:[^"\']*?\s+from\s+)?"\./([^"]+)";', re.MULTILINE)


def imported_modules(client: TestClient, script: str) -> set[str]:
    """Every module ``script`` loads, transitively, each fetched as the browser would."""
    seen: set[str] = set()
    waiting = [script]
    while waiting:
        name = waiting.pop()
        if name in seen:
            continue
        seen.add(name)
        response = client.get(f"/static/{name}")
        assert response.status_code == 200, name
        assert "javascript" in response.headers["content-type"], name
        waiting.extend(MODULE_IMPORT.findall(response.text))
    return seen


@pytest.mark.parametrize("path", list(PAGES))
def test_every_module_a_page_imports_is_served(client: TestClient, path: str) -> None:
    """A missing or misnamed module fails a page as a whole: every import is served as
    JavaScript (the vendored libraries too)."""
    assert f"{PAGES[path]}.js" in imported_modules(client, f"{PAGES[path]}.js")


def test_the_window_workflow_has_its_sections_and_scripts(client: TestClient) -> None:
    """/citizen grants consent (code and QR) and shows the access log with its proof check;
    /console has the window; the QR code and keccak256 come from vendored files with their
    licence beside them."""
    citizen = client.get("/citizen").text
    for anchor in ('id="consent-form"', 'id="consent-granted"', 'id="consents"', 'id="access-log"'):
        assert anchor in citizen
    console = client.get("/console").text
    for anchor in (
        'id="window-form"',
        'id="upload-form"',
        'id="forgery-form"',
        'id="forgery-confirm"',
    ):
        assert anchor in console
    assert {"consent.js", "accesslog.js", "qr.js", "vendor/qrcode-generator-2.0.4.mjs"} <= (
        imported_modules(client, "citizen.js")
    )
    assert "window.js" in imported_modules(client, "console.js")
    for vendored in ("qrcode-generator-2.0.4", "js-sha3-0.8.0"):
        assert (STATIC_DIR / "vendor" / f"{vendored}.LICENSE.txt").is_file()
    # The page checks an entry against the chain through the read-only JSON-RPC endpoint.
    assert 'api("/v1/rpc"' in client.get("/static/accesslog.js").text
