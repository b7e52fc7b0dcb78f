"""The window without paper (一窗受理) in Chromium against a real server, end to end: the
citizen on a phone grants consent and shows the code; the window on a desktop enters it, sees
the required certificates VALID (one from another province's department) or missing, reads a
stored copy, verifies a forged upload and records the false-information event; the citizen then
sees the event with its evidence hash, the window's accesses in 查询记录 (after the access log is
anchored), checks one entry against the chain in the page, sees the check fail once the entry is
edited in the service database, and disputes the event.

Everything goes through the pages and the real routes; only the anchoring of the access log is
asked of the API directly, as governance (the periodic job would do it within the hour).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from random import Random
from typing import Final

import httpx
import pytest
import rfc8785
from playwright.sync_api import Browser, Page, ViewportSize, expect

from ledger.catalogue import certificate_type, scope_codes
from ledger.cli.departments import add_department
from ledger.documents.merkle import process_proof
from ledger.identity import parse_subject
from ledger.session import LedgerSession
from ledger.writes.certificates import anchor
from tests.e2e.browser import open_page, screenshot
from tests.support.http import bearer
from tests.support.server import running_server
from tests.support.service import PreparedService, prepare_service

#: Requires a residence certificate (the prepared citizen holds one, stored) and an identity
#: card (the citizen has none: missing).
SERVICE: Final = "residence-permit-endorsement"
#: A department in another province that issued the citizen a residence certificate too.
FAR_DEPARTMENT: Final = 6
FAR_REGION: Final = 440305
PHONE: Final[ViewportSize] = {"width": 390, "height": 844}
CODE: Final = re.compile(r"^[0-9A-Z]{5}-[0-9A-Z]{5}$")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> PreparedService:
    """The prepared service, and a second residence certificate of the citizen's from a
    department of another province (深圳, region 440305): the window sees both."""
    prepared = prepare_service(tmp_path_factory.mktemp("window-flow"))
    with LedgerSession.open(prepared.settings) as session:
        add_department(
            session,
            FAR_DEPARTMENT,
            FAR_REGION,
            "深圳市南山区公安分局",
            scope_codes(("residence-certificate",)),
        )
        session.send(
            anchor(
                session,
                f"居住证 {prepared.citizen} 深圳市南山区 window flow\n".encode(),
                certificate_type("residence-certificate"),
                holder=parse_subject(prepared.citizen),
                department_id=FAR_DEPARTMENT,
            )
        )
    return prepared


@pytest.fixture(scope="module")
def base_url(service: PreparedService) -> Iterator[str]:
    with running_server(service.settings) as url:
        yield url


def login_citizen(page: Page, base_url: str, subject: str) -> None:
    page.goto(f"{base_url}/citizen")
    page.fill("#subject-input", subject)
    page.click("#dev-submit")
    expect(page.locator("#account")).to_be_visible()


def connect_console(page: Page, base_url: str, token: str) -> None:
    page.goto(f"{base_url}/console")
    page.fill("#token-input", token)
    page.click("#token-submit")
    expect(page.locator("#workspace")).to_be_visible()


def grant_consent(page: Page, service: PreparedService) -> str:
    """Grant the window of department 3 consent for SERVICE; the code shown."""
    page.select_option("#consent-service", SERVICE)
    needs = page.locator("#service-needs")
    expect(needs.locator(".fit[data-type='residence-certificate'] .badge")).to_have_attribute(
        "data-state", "have"
    )
    expect(needs.locator(".fit[data-type='identity-card'] .badge")).to_have_attribute(
        "data-state", "missing"
    )
    page.select_option("#consent-department", str(service.department_id))
    page.check("#consent-mode-visit")
    page.click("#consent-submit")
    code = page.locator("#consent-code")
    expect(code).to_have_text(CODE)
    expect(page.locator("#consent-granted svg.qr")).to_be_visible()
    expect(page.locator("#consent-countdown")).to_have_text(re.compile(r"剩余 (29|30):\d\d"))
    expect(page.locator("#consents .card-item[data-state='active']")).to_have_count(1)
    return code.inner_text()


#: Two Latin letters in a row: an English word (hashes, codes and time zones aside).
LATIN: Final = re.compile(r"[A-Za-z]{2,}")


def words(page: Page, selector: str) -> str:
    """The text a reader sees in ``selector`` without hashes, codes, file names and the time
    zone (the pages name it as Intl writes it: "UTC")."""
    return str(
        page.evaluate(
            """(selector) => {
                const copy = document.querySelector(selector).cloneNode(true);
                const hidden = "code, .consent-code, .file-name, input";
                for (const node of copy.querySelectorAll(hidden)) node.remove();
                document.body.append(copy);
                const text = copy.innerText;
                copy.remove();
                return text.replaceAll("UTC", "");
            }""",
            selector,
        )
    )


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.evaluate("document.documentElement.clientWidth"), width


def test_the_window_flow_from_consent_to_a_recorded_forgery(
    browser: Browser, base_url: str, service: PreparedService
) -> None:
    with (
        open_page(browser) as (citizen, citizen_problems),
        open_page(browser) as (window, window_problems),
    ):
        citizen.set_viewport_size(PHONE)
        login_citizen(citizen, base_url, service.citizen)
        code = grant_consent(citizen, service)
        no_sideways_scroll(citizen)
        screenshot(citizen, "window-flow-consent-phone-zh")

        # The window: the code typed in lower case without its dash still finds the consent.
        connect_console(window, base_url, service.department_token)
        # A code that is nobody's: refused in the page's words (the 403 is expected).
        window_problems.expect("status of 403")
        window.fill("#window-code", "AAAAA-AAAAA")
        window.click("#window-submit")
        expect(window.locator("#error")).to_contain_text("没有这个授权码")
        window.fill("#window-code", code.replace("-", "").lower())
        window.click("#window-submit")
        summary = window.locator("#window-summary")
        expect(summary).to_have_attribute("data-missing", "1")
        expect(summary).to_contain_text("居民身份证")
        residence = window.locator("#window-result tr[data-type='residence-certificate']")
        expect(residence).to_have_count(2)
        held = residence.filter(has_text="东城区市场监督管理局")
        expect(held).to_have_attribute("data-verdict", "VALID")
        far = residence.filter(has_text="深圳市南山区公安分局")
        expect(far).to_have_attribute("data-verdict", "VALID")
        expect(far).to_contain_text(str(FAR_REGION))
        expect(window.locator("#window-result tr[data-type='identity-card'] .badge")).to_have_text(
            "缺少"
        )

        # The stored copy: read under the consent, the residence certificate's own bytes.
        with window.expect_download() as download:
            held.locator("button[data-copy]").click()
        copy = download.value.path()
        assert copy.read_bytes() == service.citizen_certificate
        expect(held.locator(".copy-note")).to_have_text(
            f"已读取 {len(service.citizen_certificate)} 字节"
        )

        # A forged document handed over: INVALID, and recorded once confirmed.
        forged = service.citizen_certificate.replace("张三".encode(), "李四".encode())
        window.set_input_files(
            "#upload-file",
            {"name": "residence.txt", "mimeType": "text/plain", "buffer": forged},
        )
        window.click("#upload-submit")
        expect(window.locator("#upload-verdict")).to_have_attribute("data-verdict", "INVALID")
        expect(window.locator("#forgery-form")).to_be_visible()
        window.select_option("#forgery-reason", "altered-document")
        window.click("#forgery-submit")  # not confirmed: refused on the page
        expect(window.locator("#error")).to_contain_text("请勾选确认")
        window.check("#forgery-confirm")
        window.click("#forgery-submit")
        event = window.locator("#forgery-event")
        expect(event).to_have_text(re.compile(r"^0x[0-9a-f]{64}$"))
        event_id = event.inner_text()
        screenshot(window, "window-flow-console-desktop-zh")
        assert LATIN.findall(words(window, "#window")) == []

        # The access log is anchored (governance; the periodic job would do it).
        anchored = httpx.post(
            f"{base_url}/v1/access-log/anchors",
            headers=bearer(service.admin_token) | {"Prefer": "wait=30"},
            timeout=60,
        )
        assert anchored.status_code == 200, anchored.text

        # The citizen sees the event with its evidence and department, and every access.
        citizen.reload()
        row = citizen.locator(f"#events tr[data-event='{event_id}']")
        expect(row).to_be_visible()
        expect(row.locator(".department")).to_contain_text("东城区市场监督管理局")
        expect(row.locator(".evidence code")).to_have_text(re.compile(r"^0x[0-9a-f]{8}…"))
        log = citizen.locator("#access-log")
        for action in (
            "consent.granted",
            "consent.used",
            "window.check",
            "document.read",
            "document.verified",
            "credit.false-information",
        ):
            expect(log.locator(f".card-item[data-action='{action}']")).not_to_have_count(0)
        read = log.locator(".card-item[data-action='document.read']").first
        expect(read.locator(".access-who")).to_contain_text("东城区市场监督管理局")
        read.locator("button[data-check]").click()
        expect(read.locator(".check-result")).to_have_class(re.compile("check-good"))
        expect(read.locator(".check-result")).to_contain_text("已核验")
        no_sideways_scroll(citizen)
        screenshot(citizen, "window-flow-access-phone-zh")
        for section in ("#apply", "#access", "#events"):
            assert LATIN.findall(words(citizen, section)) == [], section

        # The operator edits that entry in the service database afterwards: the page's check
        # fails, since the batch's root it now leads to is not the one on chain.
        seq = int(read.get_attribute("data-seq") or 0)
        with sqlite3.connect(service.settings.service_db_path) as database:
            changed = database.execute(
                "UPDATE access_log SET window = ? WHERE seq = ?", ("另一个窗口", seq)
            ).rowcount
        assert changed == 1
        citizen.reload()
        edited = log.locator(f".card-item[data-seq='{seq}']")
        expect(edited.locator(".access-who")).to_contain_text("另一个窗口")
        edited.locator("button[data-check]").click()
        expect(edited.locator(".check-result")).to_have_class(re.compile("check-bad"))
        expect(edited.locator(".check-result")).to_contain_text("链上没有这个根的存证")
        expect(citizen.locator("#access-check-status")).to_contain_text("核验未通过")

        # The dispute, from the phone.
        row.locator("button[data-dispute]").click()
        citizen.fill("#dispute-reason", "提交的是原件的扫描件并未改动。")
        citizen.click("#dispute-submit")
        expect(row).to_have_attribute("data-amendment", "disputed")

        # The citizen revokes the consent: the window can no longer act under it.
        citizen.locator("#consents .card-item[data-state='active'] button").click()
        expect(citizen.locator("#consents .card-item[data-state='revoked']")).to_have_count(1)
        window.click("#upload-submit")
        expect(window.locator("#error")).to_contain_text("申请人已撤销该授权")
        assert citizen_problems.unexpected() == []


def test_the_pages_rules_are_the_ledgers(browser: Browser, base_url: str) -> None:
    """What the pages compute themselves agrees with the ledger's own code on cases a single
    flow does not reach: RFC 8785 text (key order by UTF-16 units, escapes, non-ASCII), the
    Merkle fold with pairs sorted (against ledger.documents.merkle), and the consent code as a
    window types or scans it."""
    entry = {
        "seq": 12,
        "at": 1_765_000_000,
        "subject": "0x" + "ab" * 32,
        "action": "document.read",
        "department": 3,
        "window": '东城区 "3号" 窗口\\\n',
        "service": None,
        "records": ["0x" + "01" * 32, "z", "é", "\u2028"],
        "Zeta": {"b": [], "a": True, "\U0001f600": False},
    }
    random = Random(15)
    doc_hash = random.randbytes(32)
    proof = [random.randbytes(32) for _ in range(5)]
    codes = {
        "abcde-12345": "ABCDE-12345",
        " glconsent:7k3qd-9xm2a ": "7K3QD-9XM2A",
        "7K3 QD-9X M2A": "7K3QD-9XM2A",
        "ABCDE-1234": None,
        "ABCDE_12345": None,
        "GLCONSENT:": None,
    }
    with open_page(browser) as (page, _problems):
        page.goto(f"{base_url}/citizen")
        found = page.evaluate(
            """async ([entry, hash, proof, codes]) => {
                const log = await import("/static/accesslog.js");
                const window = await import("/static/window.js");
                return {
                    canonical: log.canonicalJson(entry),
                    root: log.foldProof(hash, proof),
                    codes: codes.map((code) => window.codeOf(code)),
                };
            }""",
            [entry, "0x" + doc_hash.hex(), ["0x" + node.hex() for node in proof], list(codes)],
        )
    assert found["canonical"] == rfc8785.dumps(entry).decode()
    assert found["root"] == "0x" + process_proof(doc_hash, proof).hex()
    assert found["codes"] == list(codes.values())
