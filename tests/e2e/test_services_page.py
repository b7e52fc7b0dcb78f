"""The service guide (``/services``, 办事指南) in Chromium against a real server and the real
``GET /v1/services``: each service as a card with what it checks, the filter, both languages, and
a phone-sized screen without sideways scrolling.

What the page should show is read from the API in the test (titles, types), so the test follows
the catalogue; one service is named by its code, which is permanent (ledger/data/services.toml).
"""

# The Chinese page writes its counts with a full-width comma, which RUF001 flags as ambiguous.
# ruff: noqa: RUF001

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.e2e.browser import open_page, screenshot
from tests.support.server import running_new_ledger

#: 企业开办: a joint licensing service for citizens and enterprises.
KNOWN: Final = "enterprise-establishment"
PHONE: Final[ViewportSize] = {"width": 390, "height": 844}
DESKTOP: Final[ViewportSize] = {"width": 1280, "height": 800}
#: Two Latin letters in a row: an English word (the Chinese page may hold digits: the version).
LATIN: Final = re.compile(r"[A-Za-z]{2,}")
HAN: Final = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_new_ledger(tmp_path_factory.mktemp("services")) as url:
        yield url


@pytest.fixture(scope="module")
def catalogue(base_url: str) -> dict[str, Any]:
    answer = httpx.get(f"{base_url}/v1/services", timeout=30)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert len(body["services"]) >= 10
    return body


def service_named(catalogue: dict[str, Any], code: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        entry for entry in catalogue["services"] if entry["code"] == code
    ]
    [entry] = found
    return entry


def cards(page: Page) -> list[str]:
    """The codes of the cards shown, in order."""
    return [
        str(code)
        for code in page.locator("#services .service-card").evaluate_all(
            "nodes => nodes.map(node => node.dataset.code)"
        )
    ]


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.evaluate("document.documentElement.clientWidth"), width


def shown_text(page: Page) -> str:
    """What a reader sees in the header, navigation and main part (the language switch, written
    in the other language on purpose, left out)."""
    return str(
        page.evaluate(
            """() => [".brand", "nav", "main", "footer"]
                .map((selector) => document.querySelector(selector).innerText).join("\\n")"""
        )
    )


def open_services(page: Page, base_url: str, lang: str, total: int) -> None:
    page.goto(f"{base_url}/services?lang={lang}")
    expect(page.locator("#services")).not_to_have_attribute("aria-busy", "true")
    expect(page.locator("#services .service-card")).to_have_count(total)


def test_the_chinese_guide_lists_the_services_and_filters_them(
    browser: Browser, base_url: str, catalogue: dict[str, Any]
) -> None:
    services = catalogue["services"]
    known = service_named(catalogue, KNOWN)
    with open_page(browser, locale="zh-CN") as (page, _problems):
        page.set_viewport_size(PHONE)
        open_services(page, base_url, "zh", len(services))
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.locator("h1")).to_have_text("办事指南")
        expect(page).to_have_title(re.compile("^办事指南"))
        expect(page.locator("nav [data-nav='services']")).to_have_attribute("aria-current", "page")
        expect(page.locator("#service-count")).to_have_text(f"共 {len(services)} 项")
        assert cards(page) == [entry["code"] for entry in services]

        # The known service: its Chinese title, whom it serves, what it checks, its bundle.
        card = page.locator(f"#services .service-card[data-code='{KNOWN}']")
        expect(card.locator("h3")).to_have_text(known["titleZh"])
        expect(card.locator(".service-summary")).to_have_text(known["summaryZh"])
        expect(card.locator(".tag[data-kind]")).to_have_text(
            [{"citizen": "个人", "enterprise": "企业"}[kind] for kind in known["subjectKinds"]]
        )
        for part, types in (
            ("requires", known["requires"]),
            ("accepts", known["accepts"]),
            ("bundleParts", known["bundleParts"] or []),
        ):
            expect(card.locator(f".type-list-{part} .type-chip")).to_have_text(
                [entry["titleZh"] for entry in types]
            )
        assert known["requires"], "a service always requires something"
        no_sideways_scroll(page)
        screenshot(page, "services-phone-zh")

        # Entirely Chinese: no English word anywhere a reader looks.
        assert LATIN.findall(shown_text(page)) == []

        # A certificate's name finds the services that check it (in any of their lists).
        wanted = known["requires"][0]
        page.fill("#service-query", wanted["titleZh"])
        naming = [
            entry["code"]
            for entry in services
            if any(
                item["type"] == wanted["type"]
                for item in entry["requires"] + entry["accepts"] + (entry["bundleParts"] or [])
            )
        ]
        expect(page.locator("#services .service-card")).to_have_count(len(naming))
        assert cards(page) == naming
        expect(page.locator("#service-count")).to_have_text(
            f"显示 {len(naming)} 项，共 {len(services)} 项"
        )

        # Whom it serves, on top of the words: enterprises only.
        page.locator(".segmented label", has_text="企业").click()
        both = [
            code
            for code in naming
            if "enterprise" in service_named(catalogue, code)["subjectKinds"]
        ]
        expect(page.locator("#services .service-card")).to_have_count(len(both))
        assert cards(page) == both

        # Nothing matches: said so, not an empty page.
        page.fill("#service-query", "没有这种事项")
        expect(page.locator("#services .service-card")).to_have_count(0)
        expect(page.locator("#services .service-empty")).to_be_visible()
        no_sideways_scroll(page)


def test_the_english_guide_is_english_and_fits_a_phone(
    browser: Browser, base_url: str, catalogue: dict[str, Any]
) -> None:
    services = catalogue["services"]
    known = service_named(catalogue, KNOWN)
    with open_page(browser, locale="en") as (page, _problems):
        page.set_viewport_size(PHONE)
        open_services(page, base_url, "en", len(services))
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("h1")).to_have_text("Service guide")
        card = page.locator(f"#services .service-card[data-code='{KNOWN}']")
        expect(card.locator("h3")).to_have_text(known["titleEn"])
        expect(card.locator(".type-list-requires .type-chip")).to_have_text(
            [entry["titleEn"] for entry in known["requires"]]
        )
        assert HAN.findall(shown_text(page)) == []
        no_sideways_scroll(page)
        screenshot(page, "services-phone-en")

        # An English word finds the service by its English title; the filter keeps through a
        # switch of language, and the cards come back in Chinese.
        page.fill("#service-query", known["titleEn"])
        expect(page.locator("#services .service-card")).to_have_count(1)
        page.click("#lang-toggle")
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(card.locator("h3")).to_have_text(known["titleZh"])
        expect(page.locator("#services .service-card")).to_have_count(1)

        # On a desktop: several cards a row, still no sideways scrolling.
        page.click("#lang-toggle")
        page.fill("#service-query", "")
        page.set_viewport_size(DESKTOP)
        expect(page.locator("#services .service-card")).to_have_count(len(services))
        tops = page.locator("#services .service-card").evaluate_all(
            "nodes => nodes.slice(0, 3).map(node => node.getBoundingClientRect().top)"
        )
        assert tops[0] == tops[1] == tops[2]
        no_sideways_scroll(page)
        screenshot(page, "services-desktop-en")
