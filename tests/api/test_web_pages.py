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


def test_pages_are_not_api_operations(client: TestClient) -> None:
    assert not set(PAGES) & set(client.get("/openapi.json").json()["paths"])
