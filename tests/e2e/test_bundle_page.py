"""The verification page checks a joint licensing bundle (issue 13, item 4), in Chromium against
a real uvicorn server.

The bundle is planted before the server starts: its one part was filed straight to the bundle
contract (around the library's holder check) with a licence held by another enterprise, which
the contract alone cannot see. The page must show the bundle INVALID, with the ``bundle.parts``
detail naming the part, and list the part with its certificate VALID on its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.browser import open_page, screenshot
from tests.support.server import running_server
from tests.support.service import PreparedService, file_foreign_part, prepare_service

pytestmark = pytest.mark.xdist_group("e2e-pages")

expect.set_options(timeout=30_000)


@dataclass(frozen=True)
class Planted:
    """A bundle of ``prepared.enterprise`` whose part 0 is another enterprise's licence."""

    prepared: PreparedService
    bundle_id: str
    foreign: str


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Planted:
    prepared = prepare_service(tmp_path_factory.mktemp("bundle-page"))
    part = file_foreign_part(prepared, "MA0PAGE02")
    return Planted(prepared, "0x" + part.bundle_id.hex(), "0x" + part.foreign.hex())


@pytest.fixture(scope="module")
def base_url(planted: Planted) -> Iterator[str]:
    with running_server(planted.prepared.settings) as url:
        yield url


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_verify_page_fails_a_bundle_naming_the_part_held_by_another(
    browser: Browser, planted: Planted, base_url: str, lang: str
) -> None:
    department = planted.prepared.department_id
    detail = (
        f"part 0 (business-licence of department {department}) {planted.foreign}: "
        "the certificate is not held by the bundle's enterprise"
    )
    with open_page(browser) as (page, _problems):
        page.goto(f"{base_url}/?lang={lang}#bundle={planted.bundle_id}")
        banner = page.locator("#verdict-banner")
        expect(banner).to_have_attribute("data-verdict", "INVALID")
        row = page.locator("#report tr[data-check='bundle.parts']")
        expect(row).to_have_attribute("data-outcome", "failed")
        expect(row.locator(".check-detail")).to_have_text(detail)
        part = page.locator("#report tr.bundle-part[data-part='0']")
        expect(part).to_have_attribute("data-verdict", "VALID")
        expect(part).to_contain_text(planted.foreign[:10])
        expect(page.locator("#report .bundle-parts caption")).to_have_text(
            "组合证照各部分" if lang == "zh" else "Bundle parts"
        )
        assert planted.prepared.enterprise not in page.content()
        screenshot(page, f"verify-bundle-foreign-part-{lang}")

    # The form takes the id too (without its 0x), and refuses what is not one.
    with open_page(browser) as (page, _problems):
        page.goto(f"{base_url}/?lang={lang}")
        page.fill("#bundle-input", "not a bundle id")
        page.click("#bundle-submit")
        expect(page.locator("#error")).to_be_visible()
        expect(page.locator("#bundle-input")).to_have_attribute("aria-invalid", "true")
        page.fill("#bundle-input", planted.bundle_id[2:])
        page.click("#bundle-submit")
        expect(page.locator("#verdict-banner")).to_have_attribute("data-verdict", "INVALID")
        expect(page.locator("#bundle-input")).to_have_value(planted.bundle_id)
