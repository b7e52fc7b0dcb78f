"""The open statistics (``/stats``) in Chromium against a real server over a seeded chain
(tests/support/stats_seed.py): charts and their data tables in both languages, on a phone and
a desktop; a withheld cell shown as "<5", never as 0; a figure's CSV download holding its table;
and every request the page makes going to its own server.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, Request, ViewportSize, expect

from ledger.config import Settings
from ledger.session import LedgerSession
from tests.e2e.browser import open_page, screenshot
from tests.support.server import running_new_ledger, running_server
from tests.support.stats_seed import seed_statistics

PHONE: Final[ViewportSize] = {"width": 390, "height": 844}
DESKTOP: Final[ViewportSize] = {"width": 1280, "height": 900}
FIGURES: Final = (
    "certificates-by-month",
    "certificates-by-type",
    "certificates-by-province",
    "revoked-by-reason",
    "credit-by-month",
    "credit-by-category",
    "credit-by-severity",
    "disputes-by-outcome",
    "bundles-by-lead",
)
#: Two Latin letters in a row, except the names of the download formats.
LATIN: Final = re.compile(r"(?<![A-Za-z])(?!CSV|JSON)[A-Za-z]{2,}")
HAN: Final = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root: Path = tmp_path_factory.mktemp("stats-page")
    settings = Settings(data_dir=root / "data", rate_limit=0)
    session, _ = LedgerSession.initialize(settings)
    with session:
        seed_statistics(session)
    with running_server(settings) as url:
        yield url


@pytest.fixture(scope="module")
def stats(base_url: str) -> dict[str, Any]:
    answer = httpx.get(f"{base_url}/v1/stats", timeout=30)
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


def same_origin(url: str, base_url: str) -> bool:
    """Whether ``url`` is the server's own (a download's blob: URL carries its page's origin)."""
    parts = urlsplit(url.removeprefix("blob:"))
    return f"{parts.scheme}://{parts.netloc}" == base_url


def open_stats(page: Page, base_url: str, lang: str, requests: list[str]) -> None:
    def record(request: Request) -> None:
        requests.append(request.url)

    page.on("request", record)
    page.goto(f"{base_url}/stats?lang={lang}")
    expect(page.locator("#stats-totals")).not_to_have_attribute("aria-busy", "true")
    expect(page.locator(".stats-figure")).to_have_count(len(FIGURES))


def table_rows(page: Page, figure: str) -> list[list[str]]:
    """The figure's table as its reader sees it: header row, then each row's cells."""
    rows: list[list[str]] = page.locator(f"[data-figure='{figure}'] table tr").evaluate_all(
        "rows => rows.map(row => [...row.cells].map(cell => cell.innerText.trim()))"
    )
    return rows


def check_figures(page: Page) -> None:
    """Each figure: an SVG chart named for readers of screens, a table with a caption, and two
    downloads."""
    for figure in FIGURES:
        card = page.locator(f"[data-figure='{figure}']")
        chart = card.locator("svg.chart")
        expect(chart).to_have_attribute("role", "img")
        assert (chart.get_attribute("aria-label") or "").strip()
        expect(card.locator("table caption")).to_have_text(card.locator("h3").inner_text())
        expect(card.locator("[data-download]")).to_have_count(2)


def no_sideways_scroll(page: Page) -> None:
    """The page fits its width (once the charts are redrawn for a new size)."""
    page.wait_for_function(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    width = page.locator(".chart").first.evaluate("svg => svg.getBoundingClientRect().width")
    assert width <= page.evaluate("document.documentElement.clientWidth"), width


def shown_text(page: Page) -> str:
    return str(
        page.evaluate(
            """() => [".brand", "nav", "main", "footer"]
                .map((selector) => document.querySelector(selector).innerText).join("\\n")"""
        )
    )


def test_the_chinese_statistics_show_charts_tables_and_withheld_cells(
    browser: Browser, base_url: str, stats: dict[str, Any]
) -> None:
    requests: list[str] = []
    with open_page(browser, locale="zh-CN") as (page, _problems):
        page.set_viewport_size(PHONE)
        open_stats(page, base_url, "zh", requests)
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.locator("h1")).to_have_text("开放统计")
        expect(page.locator("nav [data-nav='stats']")).to_have_attribute("aria-current", "page")
        expect(page.locator("#stats-asof")).to_contain_text(f"截至区块 {stats['asOf']['block']}")
        expect(page.locator("#stats-threshold")).to_contain_text("<5")
        check_figures(page)

        # Guangdong has three certificates: "<5" in its row, drawn as a withheld bar, not as 0.
        rows = table_rows(page, "certificates-by-province")
        assert rows[0] == ["省级行政区", "存证", "撤销"]
        guangdong = next(row for row in rows if row[0] == "广东省")
        assert guangdong[1] == "<5"
        figure = page.locator("[data-figure='certificates-by-province']")
        withheld = figure.locator("rect.chart-bar-withheld[data-value='<5']")
        assert withheld.count() >= 1
        assert float(withheld.first.get_attribute("width") or 0) > 0
        expect(figure.locator("td.withheld", has_text="<5").first).to_be_visible()
        # Beijing's count protects Guangdong's: withheld, in words, not "<5" (it is not small);
        # and only withheld cells are styled so, never a number.
        beijing = next(row for row in rows if row[0] == "北京市")
        assert beijing[1] == "不公开"
        styled = page.locator("td.withheld").all_inner_texts()
        assert styled
        assert {text.strip() for text in styled} <= {"<5", "不公开"}
        # Names from the catalogue and the region table, in Chinese.
        assert [row[0] for row in table_rows(page, "certificates-by-type")[1:]] == [
            "营业执照",
            "居住证",
        ]
        assert LATIN.findall(shown_text(page)) == []
        no_sideways_scroll(page)
        screenshot(page, "stats-phone-zh")

        # The CSV download holds the table, cell for cell.
        with page.expect_download() as download:
            figure.locator("[data-download='csv']").click()
        saved = Path(download.value.path()).read_text(encoding="utf-8-sig")
        assert list(csv.reader(io.StringIO(saved))) == rows
        assert download.value.suggested_filename == (
            f"stats-certificates-by-province-block-{stats['asOf']['block']}.csv"
        )

        page.set_viewport_size(DESKTOP)
        check_figures(page)
        no_sideways_scroll(page)
        screenshot(page, "stats-desktop-zh")
    assert requests
    assert [url for url in requests if not same_origin(url, base_url)] == []


def test_the_english_statistics_are_english_with_a_json_download(
    browser: Browser, base_url: str, stats: dict[str, Any]
) -> None:
    requests: list[str] = []
    with open_page(browser, locale="en") as (page, _problems):
        page.set_viewport_size(DESKTOP)
        open_stats(page, base_url, "en", requests)
        expect(page.locator("h1")).to_have_text("Open statistics")
        expect(page.locator("#stats-asof")).to_contain_text(f"As of block {stats['asOf']['block']}")
        check_figures(page)
        rows = table_rows(page, "certificates-by-province")
        assert ["Guangdong", "<5", "0"] in rows
        # Departments go by their official (Chinese) names in both languages.
        names = httpx.get(f"{base_url}/v1/departments", timeout=30).json()["items"]
        text = shown_text(page)
        for department in names:
            text = text.replace(department["name"], "")
        assert HAN.findall(text) == []
        no_sideways_scroll(page)
        screenshot(page, "stats-desktop-en")

        # The JSON download is the answer's rows for the figure, with its block and threshold.
        with page.expect_download() as download:
            page.locator("[data-figure='disputes-by-outcome'] [data-download='json']").click()
        saved = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
        assert saved["asOf"] == stats["asOf"]
        assert saved["threshold"] == stats["threshold"]
        assert saved["rows"] == stats["credit"]["disputes"]

        page.set_viewport_size(PHONE)
        check_figures(page)
        no_sideways_scroll(page)
        screenshot(page, "stats-phone-en")
    assert [url for url in requests if not same_origin(url, base_url)] == []


def test_a_new_ledger_shows_zero_totals_and_says_it_has_no_data(
    browser: Browser, tmp_path: Path
) -> None:
    """Before anything is anchored: totals of 0, each figure says so, nothing fails."""
    with running_new_ledger(tmp_path) as url, open_page(browser, locale="en") as (page, _):
        page.goto(f"{url}/stats?lang=en")
        expect(page.locator(".stats-figure")).to_have_count(len(FIGURES))
        expect(page.locator(".stats-figure .empty")).to_have_count(len(FIGURES))
        expect(page.locator("#stats-asof")).to_contain_text("As of block")
        expect(page.locator("[data-part='certificates'] dd").first).to_have_text("0")
