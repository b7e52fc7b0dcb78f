"""The web pages in a real browser (Chromium through Playwright) against a real uvicorn server.

One prepared ledger and one server serve the whole module: department 3 with an anchored
business licence, and a synthetic citizen with a residence certificate and one credit event
(``tests/support/service.py``). Screenshots of each state go to ``test-artifacts/screenshots``.
"""

# The pages set Chinese with full-width brackets (around a region code, say), which RUF001
# flags as ambiguous.
# ruff: noqa: RUF001

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    FilePayload,
    Page,
    Request,
    Route,
    expect,
)

from api.web.pages import CONTENT_SECURITY_POLICY, STATIC_DIR
from ledger.documents import DocumentKind, document_hash_of
from ledger.identity import make_citizen_id
from ledger.verification import CheckName, Outcome
from tests.e2e.browser import open_page, screenshot
from tests.support.server import running_server
from tests.support.service import PreparedService, prepare_service

pytestmark = pytest.mark.xdist_group("e2e-pages")

#: Browser round trips include chain writes on the embedded chain.
expect.set_options(timeout=30_000)

CITIZEN_TOKEN_KEY: Final = "ledger.citizenToken"
DEPARTMENT_TOKEN_KEY: Final = "ledger.departmentToken"
#: Department 3's official name, as ``tests/support/service.py`` registers it.
DEPARTMENT_NAME: Final = "东城区市场监督管理局"
#: The list of departments (not ``/v1/departments/3/certificates``), with or without a query.
DEPARTMENTS_LIST: Final = re.compile(r"/v1/departments(?:\?[^/]*)?$")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> PreparedService:
    return prepare_service(tmp_path_factory.mktemp("pages"))


@pytest.fixture(scope="module")
def base_url(service: PreparedService) -> Iterator[str]:
    with running_server(service.settings) as url:
        yield url


def text_file(name: str, content: bytes) -> FilePayload:
    return {"name": name, "mimeType": "text/plain", "buffer": content}


def hex_hash(value: bytes) -> str:
    return "0x" + value.hex()


def json_file(name: str, content: object) -> FilePayload:
    return {"name": name, "mimeType": "application/json", "buffer": json.dumps(content).encode()}


def anchor_batch(base_url: str, token: str, documents: dict[str, bytes]) -> dict[str, Any]:
    """Anchor ``documents`` as one Merkle batch through the API; the finished job."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        accepted = http.post(
            "/v1/certificates/batches",
            headers={"Authorization": f"Bearer {token}"},
            files=[("files", (name, data, "text/plain")) for name, data in documents.items()],
            data={"type": "business-licence"},
        )
        assert accepted.status_code == 202, accepted.text
        deadline = time.monotonic() + 60
        while True:
            job: dict[str, Any] = http.get(
                accepted.headers["location"], headers={"Authorization": f"Bearer {token}"}
            ).json()
            if job["status"] != "accepted":
                break
            assert time.monotonic() < deadline, job
            time.sleep(0.1)
    assert job["status"] == "done", job
    return job


def verdict_is(page: Page, verdict: str) -> None:
    """The verification page shows ``verdict`` (the banner is replaced on every new request)."""
    expect(page.locator("#verdict-banner")).to_have_attribute("data-verdict", verdict)


def check_row(page: Page, name: str) -> str | None:
    return page.locator(f"#report tr[data-check='{name}']").get_attribute("data-outcome")


def login_citizen(page: Page, base_url: str, subject: str, *, lang: str | None = None) -> None:
    page.goto(f"{base_url}/citizen" + (f"?lang={lang}" if lang else ""))
    page.fill("#subject-input", subject)
    page.click("#dev-submit")
    expect(page.locator("#account")).to_be_visible()
    expect(page.locator("#certificates")).not_to_have_attribute("aria-busy", "true")
    expect(page.locator("#events")).not_to_have_attribute("aria-busy", "true")


def connect_console(page: Page, base_url: str, token: str, *, lang: str | None = None) -> None:
    page.goto(f"{base_url}/console" + (f"?lang={lang}" if lang else ""))
    page.fill("#token-input", token)
    page.click("#token-submit")
    expect(page.locator("#workspace")).to_be_visible()
    expect(page.locator("#list")).to_have_attribute("aria-busy", "false")


# -------------------------------------------------------------------------------------------------
# (1) Verification page
# -------------------------------------------------------------------------------------------------


def test_verify_page_file_and_hash(
    browser: Browser, service: PreparedService, base_url: str
) -> None:
    with open_page(browser) as (page, _problems):
        page.goto(base_url + "/")
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.locator("h1")).to_have_text("证照核验")

        # The anchored licence, through the page's file input: VALID.
        page.set_input_files("#file-input", files=text_file("licence.txt", service.document))
        verdict_is(page, "VALID")
        expect(page.locator(".verdict-word")).to_contain_text("有效")
        expect(page.locator("#report code.hash")).to_have_text(hex_hash(service.doc_hash))
        assert check_row(page, "anchor.exists") == "passed"
        assert check_row(page, "issuer.accredited") == "passed"
        assert page.locator("#report tr[data-outcome='failed']").count() == 0
        # Every check has a mark, a translated name and the detail text.
        rows = page.locator("#report tr[data-check]")
        assert rows.count() >= 8
        expect(rows.first.locator(".mark-label")).to_have_text("通过")
        expect(page.locator("#report tr[data-check='anchor.exists'] .check-name")).to_contain_text(
            "链上存证"
        )
        expect(page.locator("#report .record")).to_contain_text("营业执照")
        # The issuer by its official name and region, not by number.
        expect(page.locator("#report .record [data-department]")).to_have_text(
            f"{DEPARTMENT_NAME}（110101）"
        )
        expect(page.locator("#report .record")).not_to_contain_text("部门 3")
        screenshot(page, "test_verify_page_file_and_hash-file-valid")

        # A modified copy: INVALID, because nothing is anchored under its hash.
        edited = service.document.replace("北京".encode(), "上海".encode())
        page.set_input_files("#file-input", files=text_file("licence-edited.txt", edited))
        verdict_is(page, "INVALID")
        expect(page.locator(".verdict-word")).to_contain_text("无效")
        assert check_row(page, "anchor.exists") == "failed"
        expect(page.locator("#report tr[data-check='anchor.exists'] .mark-label")).to_have_text(
            "未通过"
        )
        screenshot(page, "test_verify_page_file_and_hash-file-invalid")

        # The anchored hash, pasted: VALID.
        page.fill("#hash-input", hex_hash(service.doc_hash))
        page.click("#hash-submit")
        verdict_is(page, "VALID")
        expect(page.locator("#report code.hash")).to_have_text(hex_hash(service.doc_hash))
        screenshot(page, "test_verify_page_file_and_hash-hash-valid")

        # A hash nobody anchored: INVALID.
        unknown = "0x" + "5a" * 32
        page.fill("#hash-input", unknown)
        page.click("#hash-submit")
        verdict_is(page, "INVALID")
        assert check_row(page, "anchor.exists") == "failed"
        screenshot(page, "test_verify_page_file_and_hash-hash-invalid")

        # Not a hash at all: refused on the page, with the reason, before any request.
        page.fill("#hash-input", "0x12")
        page.click("#hash-submit")
        expect(page.locator("#error")).to_be_visible()
        expect(page.locator("#error")).to_contain_text("64")
        expect(page.locator("#hash-input")).to_have_attribute("aria-invalid", "true")
        screenshot(page, "test_verify_page_file_and_hash-hash-malformed")


def test_verify_page_with_a_batch_proof(
    browser: Browser, service: PreparedService, base_url: str
) -> None:
    documents = {
        f"batch-{index}.txt": f"营业执照 批量存证 浏览器测试 第 {index} 份 batch test\n".encode()
        for index in (1, 2)
    }
    job = anchor_batch(base_url, service.department_token, documents)
    names = list(documents)  # the job knows each file by its upload index, not its name
    items = {names[item["index"]]: item for item in job["items"]}
    first, second = "batch-1.txt", "batch-2.txt"
    first_proof = json_file(f"{first}.proof.json", items[first]["proof"])
    second_proof = json_file(f"{second}.proof.json", items[second]["proof"])
    first_hash = items[first]["documentHash"]

    with open_page(browser) as (page, _problems):
        # What each POST /v1/verify carried: "multipart", or "json" / "json+proof".
        verifications: list[str] = []

        def on_request(request: Request) -> None:
            if not request.url.endswith("/v1/verify"):
                return
            if "json" not in request.headers.get("content-type", ""):
                verifications.append("multipart")
            elif "proof" in (request.post_data_json or {}):
                verifications.append("json+proof")
            else:
                verifications.append("json")

        page.on("request", on_request)
        page.goto(base_url + "/")
        # The optional proof, labelled beside each of the two ways in.
        expect(page.locator("#file-proof-label")).to_have_text("批量存证证明（可选）")
        expect(page.locator("#file-proof-input")).to_have_accessible_name(
            re.compile("^批量存证证明（可选）")
        )
        expect(page.locator("#file-proof-hint")).to_contain_text(".proof.json")
        expect(page.locator("#file-proof-hint")).to_contain_text("结构化证照")
        expect(page.locator("#hash-proof-label")).to_have_text("批量存证证明（可选）")
        expect(page.locator("#file-proof-name")).to_have_text("未附证明")
        expect(page.locator("#file-proof-clear")).to_be_hidden()

        # A batched file alone: nothing is anchored under its own hash.
        page.set_input_files("#file-input", files=text_file(first, documents[first]))
        verdict_is(page, "INVALID")
        assert check_row(page, "anchor.exists") == "failed"
        assert check_row(page, "merkle.proof") == "not_applicable"
        screenshot(page, "test_verify_page_with_a_batch_proof-file-alone")

        # With its proof: verified again at once, through the batch root.
        page.set_input_files("#file-proof-input", files=first_proof)
        verdict_is(page, "VALID")
        expect(page.locator("#file-proof-name")).to_contain_text(f"{first}.proof.json")
        expect(page.locator("#file-proof-clear")).to_be_visible()
        assert check_row(page, "merkle.proof") == "passed"
        assert check_row(page, "anchor.exists") == "passed"
        assert verifications[-1] == "multipart"
        expect(page.locator("#report code.hash")).to_have_text(first_hash)
        expect(page.locator("#report dl.facts").first).to_contain_text(f"{first}.proof.json")
        # Every check of the report by name, in Chinese.
        expect(page.locator("#report tr[data-check='merkle.proof'] .check-name")).to_contain_text(
            "默克尔证明"
        )
        expect(
            page.locator("#report tr[data-check='chain.agreement'] .check-name")
        ).to_contain_text("多节点一致")
        expect(page.locator("#report tr[data-check='storage.copy'] .check-name")).to_contain_text(
            "存储副本比对"
        )
        expect(page.locator("#report .record [data-department]")).to_have_text(
            f"{DEPARTMENT_NAME}（110101）"
        )
        screenshot(page, "test_verify_page_with_a_batch_proof-file-and-proof")

        # With another file's proof: the path does not lead from this file to the root.
        page.set_input_files("#file-proof-input", files=second_proof)
        verdict_is(page, "INVALID")
        expect(page.locator("#file-proof-name")).to_contain_text(f"{second}.proof.json")
        assert check_row(page, "merkle.proof") == "failed"
        screenshot(page, "test_verify_page_with_a_batch_proof-other-proof")

        # The proof removed: the file alone again.
        page.click("#file-proof-clear")
        expect(page.locator("#file-proof-name")).to_have_text("未附证明")
        expect(page.locator("#report tr[data-check='merkle.proof']")).to_have_attribute(
            "data-outcome", "not_applicable"
        )
        verdict_is(page, "INVALID")

        # A file and its proof dropped together on the drop zone.
        transfer = page.evaluate_handle(
            """([name, text, proof]) => {
                const transfer = new DataTransfer();
                transfer.items.add(new File([proof], `${name}.proof.json`));
                transfer.items.add(new File([text], name, { type: "text/plain" }));
                return transfer;
            }""",
            [second, documents[second].decode(), json.dumps(items[second]["proof"])],
        )
        page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
        expect(page.locator("#report code.hash")).to_have_text(items[second]["documentHash"])
        verdict_is(page, "VALID")
        assert check_row(page, "merkle.proof") == "passed"
        expect(page.locator("#file-name")).to_contain_text(second)
        expect(page.locator("#file-proof-name")).to_contain_text(f"{second}.proof.json")

        # A proof that is not JSON: refused on the page, nothing sent.
        before = len(verifications)
        page.set_input_files("#file-proof-input", files=text_file("broken.proof.json", b"{"))
        expect(page.locator("#error")).to_be_visible()
        expect(page.locator("#error")).to_contain_text("不是有效的 JSON")
        expect(page.locator("#file-proof-input")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#verdict-banner")).to_have_count(0)
        assert len(verifications) == before
        screenshot(page, "test_verify_page_with_a_batch_proof-file-proof-not-json")

        # The hash with its proof (JSON, the proof parsed from the file): VALID.
        page.fill("#hash-input", first_hash)
        page.set_input_files("#hash-proof-input", files=first_proof)
        expect(page.locator("#hash-proof-name")).to_contain_text(f"{first}.proof.json")
        page.click("#hash-submit")
        verdict_is(page, "VALID")
        expect(page.locator("#error")).to_be_hidden()
        assert check_row(page, "merkle.proof") == "passed"
        assert verifications[-1] == "json+proof"
        screenshot(page, "test_verify_page_with_a_batch_proof-hash-and-proof")

        # The hash without it: INVALID.
        page.click("#hash-proof-clear")
        page.click("#hash-submit")
        verdict_is(page, "INVALID")
        assert check_row(page, "anchor.exists") == "failed"
        assert verifications[-1] == "json"

        # The hash with a proof file that is not JSON: refused on the page, nothing sent.
        before = len(verifications)
        page.set_input_files("#hash-proof-input", files=text_file("notes.proof.json", b"not json"))
        page.click("#hash-submit")
        expect(page.locator("#error")).to_contain_text("不是有效的 JSON")
        expect(page.locator("#hash-proof-input")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#verdict-banner")).to_have_count(0)
        assert len(verifications) == before
        screenshot(page, "test_verify_page_with_a_batch_proof-hash-proof-not-json")

        # In English: the labels, the error and the checks.
        page.click("#lang-toggle")
        expect(page.locator("#file-proof-label")).to_have_text("Batch proof (optional)")
        expect(page.locator("#hash-proof-name")).to_contain_text("notes.proof.json")
        expect(page.locator("#file-proof-hint")).to_contain_text("wrapped JSON certificate")
        page.click("#hash-submit")
        expect(page.locator("#error")).to_contain_text("not a valid JSON file")
        page.set_input_files("#hash-proof-input", files=first_proof)
        page.click("#hash-submit")
        verdict_is(page, "VALID")
        expect(page.locator("#report tr[data-check='merkle.proof'] .check-name")).to_contain_text(
            "Merkle proof"
        )
        expect(
            page.locator("#report tr[data-check='chain.agreement'] .check-name")
        ).to_contain_text("Nodes agree")
        screenshot(page, "test_verify_page_with_a_batch_proof-english")


# -------------------------------------------------------------------------------------------------
# (2) Citizen page
# -------------------------------------------------------------------------------------------------


def test_citizen_sees_records_and_disputes(
    browser: Browser, service: PreparedService, base_url: str
) -> None:
    with open_page(browser) as (page, _problems):
        page.goto(base_url + "/citizen")
        expect(page.locator("#login")).to_be_visible()
        screenshot(page, "test_citizen_sees_records_and_disputes-login")

        login_citizen(page, base_url, service.citizen)
        expect(page.locator("#session-who")).to_contain_text("已登录")
        expect(page.locator("#session-who")).to_contain_text("个人")
        expect(page.locator("#subject-input")).to_have_value("")

        # The residence certificate issued to the citizen.
        certificate = page.locator(
            f"#certificates tr[data-hash='{hex_hash(service.citizen_certificate_hash)}']"
        )
        expect(certificate).to_contain_text("居住证")
        expect(certificate.locator("[data-department]")).to_have_text(
            f"{DEPARTMENT_NAME}（110101）"
        )
        expect(certificate).to_contain_text("有效")

        # The credit event recorded about the citizen, with the score.
        event = page.locator(f"#events tr[data-event='{hex_hash(service.event_id)}']")
        expect(event).to_contain_text("提供虚假材料")
        expect(event).to_contain_text("失信")
        expect(event).to_have_attribute("data-amendment", "none")
        expect(event.locator(".amendment")).to_have_text("正常")
        expect(event.locator("[data-department]")).to_have_text(f"{DEPARTMENT_NAME}（110101）")
        expect(page.locator("#score-value")).to_have_text(re.compile(r"^\d+$"))
        screenshot(page, "test_citizen_sees_records_and_disputes-records")

        # The bearer token is kept for this tab only: sessionStorage, not localStorage or the URL.
        token = page.evaluate(f"sessionStorage.getItem('{CITIZEN_TOKEN_KEY}')")
        assert isinstance(token, str)
        assert token.count(".") == 2  # a JWT
        assert token not in page.evaluate("JSON.stringify(localStorage)")
        assert token not in page.url

        # Dispute the event: a reason is asked for, then the event shows as disputed.
        event.locator("button[data-dispute]").click()
        dialog = page.locator("#dispute-dialog")
        expect(dialog).to_be_visible()
        page.fill("#dispute-reason", "记录与事实不符。材料已于次日补正。")
        screenshot(page, "test_citizen_sees_records_and_disputes-dispute-dialog")
        page.click("#dispute-submit")
        expect(dialog).to_be_hidden()
        expect(event).to_have_attribute("data-amendment", "disputed")
        expect(event.locator(".amendment")).to_have_text("异议处理中")
        expect(event.locator("button[data-dispute]")).to_have_count(0)
        expect(page.locator("#status")).to_contain_text("异议已提交")
        screenshot(page, "test_citizen_sees_records_and_disputes-disputed")

    # The dispute is on the ledger, not just on the page.
    with httpx.Client(base_url=base_url, timeout=30) as http:
        issued = http.post("/v1/dev/token", json={"subject": service.citizen})
        credit = http.get(
            "/v1/me/credit", headers={"Authorization": f"Bearer {issued.json()['token']}"}
        )
    (recorded,) = credit.json()["events"]
    assert recorded["amendment"] == "disputed"


def test_citizen_sees_events_oldest_first_and_those_no_longer_disclosed_marked(
    browser: Browser, service: PreparedService, base_url: str
) -> None:
    """ADR 0020: a false-information event is disclosed for 3 years after it occurred (the
    default set by `ledger init`); the subject still sees an older one, marked, in its place."""
    citizen = make_citizen_id(sequence=777)
    today = datetime.now(UTC).date()
    old, recent = today - timedelta(days=4 * 365), today - timedelta(days=10)
    ids = {}
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for name, occurred in (("recent", recent), ("old", old)):  # recorded newest first
            response = http.post(
                "/v1/credit/events",
                headers={"Authorization": f"Bearer {service.department_token}"},
                json={
                    "subject": citizen,
                    "category": "false-information",
                    "polarity": "negative",
                    "severity": 1,
                    "occurredAt": occurred.isoformat(),
                    "evidenceHash": "0x" + f"{name:<32}".encode()[:32].hex(),
                },
            )
            assert response.status_code == 201, response.text
            ids[name] = response.json()["eventId"]
    ended = old + timedelta(days=3 * 365)
    with open_page(browser) as (page, _problems):
        login_citizen(page, base_url, citizen)
        rows = page.locator("#events tr[data-event]")
        expect(rows).to_have_count(2)
        assert [rows.nth(i).get_attribute("data-event") for i in range(2)] == [
            ids["old"],
            ids["recent"],
        ]
        first, second = rows.nth(0), rows.nth(1)
        expect(first).to_have_attribute("data-disclosed", "false")
        expect(first.locator(".disclosure")).to_have_text(
            f"自 {ended.year}年{ended.month}月{ended.day}日 起不再公示"
        )
        expect(second).to_have_attribute("data-disclosed", "true")
        expect(second.locator(".disclosure")).to_contain_text("公示至")
        expect(page.locator("#disclosure-note")).to_contain_text("不计入信用分")
        for text in [
            *page.locator("#events .disclosure").all_inner_texts(),
            page.locator("#disclosure-note").inner_text(),
        ]:
            assert not re.search(r"[A-Za-z]", text), text  # the Chinese page says it in Chinese
        expect(page.locator("#score-value")).to_have_text("98")  # only the recent event
        screenshot(page, "test_citizen_sees_events_oldest_first-zh")

        page.click("#lang-toggle")
        expect(first.locator(".disclosure")).to_contain_text("No longer disclosed since")
        expect(second.locator(".disclosure")).to_contain_text("Disclosed until")
        screenshot(page, "test_citizen_sees_events_oldest_first-en")


# -------------------------------------------------------------------------------------------------
# (3) Department console
# -------------------------------------------------------------------------------------------------


def test_console_anchors_and_the_hash_verifies(
    browser: Browser, service: PreparedService, base_url: str, tmp_path: Path
) -> None:
    document = "营业执照 控制台测试 北京示例贸易有限公司 console test\n".encode()
    expected_hash = hex_hash(document_hash_of(document).hash)
    upload = tmp_path / "licence-console.txt"
    upload.write_bytes(document)

    with open_page(browser) as (page, _problems):
        page.goto(base_url + "/console")
        expect(page.locator("#connect")).to_be_visible()
        screenshot(page, "test_console_anchors_and_the_hash_verifies-connect")

        connect_console(page, base_url, service.department_token)
        expect(page.locator("#token-input")).to_have_value("")
        # The caller's department by its official name, its number beside it.
        expect(page.locator("#department-name")).to_have_text(DEPARTMENT_NAME)
        expect(page.locator("#department-id")).to_have_text(
            f"{DEPARTMENT_NAME}（编号 {service.department_id}）"
        )
        expect(page.locator("#department-region")).to_have_text("110101")
        expect(page.locator("#department-scopes .chip")).to_have_count(4)
        # Only the certificate types and credit categories of the department's scopes.
        types = page.locator("#anchor-type option")
        assert sorted(types.evaluate_all("nodes => nodes.map(n => n.value)")) == [
            "business-licence",
            "residence-certificate",
        ]
        categories = page.locator("#credit-category option")
        assert sorted(categories.evaluate_all("nodes => nodes.map(n => n.value)")) == [
            "contract-default",
            "false-information",
        ]
        reasons = page.locator("#revoke-reason option").evaluate_all(
            "nodes => nodes.map(n => n.value)"
        )
        assert {"fraud", "issued-in-error"} <= set(reasons)
        # The department's certificates: the licence and the residence certificate.
        expect(page.locator(f"#list tr[data-hash='{hex_hash(service.doc_hash)}']")).to_be_visible()
        token = page.evaluate(f"sessionStorage.getItem('{DEPARTMENT_TOKEN_KEY}')")
        assert token == service.department_token
        assert token not in page.evaluate("JSON.stringify(localStorage)")

        # Anchor a new licence for the enterprise.
        page.set_input_files("#anchor-file", str(upload))
        expect(page.locator("#anchor-file-name")).to_have_text(upload.name)
        page.select_option("#anchor-type", "business-licence")
        page.fill("#anchor-subject", service.enterprise)
        page.fill("#anchor-expires", "2036-12-31")
        page.click("#anchor-submit")
        expect(page.locator("#anchored-hash")).to_have_text(expected_hash)
        expect(page.locator("#anchor-subject")).to_have_value("")
        expect(page.locator(f"#list tr[data-hash='{expected_hash}']")).to_contain_text("营业执照")
        assert service.enterprise not in page.content()
        screenshot(page, "test_console_anchors_and_the_hash_verifies-anchored")

        # The console's link takes the hash to the verification page (in the fragment): VALID.
        page.click("#anchored-verify")
        page.wait_for_url(re.compile(r"/#0x[0-9a-f]{64}$"))
        verdict_is(page, "VALID")
        expect(page.locator("#report code.hash")).to_have_text(expected_hash)
        # Valid through 31 December (China time), whatever the reader's time zone.
        expect(page.locator("#report .record")).to_contain_text("2036年12月31日")
        screenshot(page, "test_console_anchors_and_the_hash_verifies-verified")

        # And the file itself, uploaded on the verification page: VALID too.
        page.set_input_files("#file-input", str(upload))
        verdict_is(page, "VALID")
        expect(page.locator("#report code.hash")).to_have_text(expected_hash)


def test_console_records_a_credit_event_and_revokes(
    browser: Browser, service: PreparedService, base_url: str, tmp_path: Path
) -> None:
    document = b"business licence to revoke, console test\n"
    upload = tmp_path / "revoke-me.txt"
    upload.write_bytes(document)
    expected_hash = hex_hash(document_hash_of(document).hash)
    with open_page(browser) as (page, _problems):
        connect_console(page, base_url, service.department_token)

        page.set_input_files("#anchor-file", str(upload))
        page.fill("#anchor-subject", service.enterprise)
        page.click("#anchor-submit")
        expect(page.locator("#anchored-hash")).to_have_text(expected_hash)

        # Revoke it from its row in the list: the form is filled in, the reason chosen, and the
        # revocation confirmed in the dialog.
        row = page.locator(f"#list tr[data-hash='{expected_hash}']")
        row.locator("button[data-revoke]").click()
        expect(page.locator("#revoke-hash")).to_have_value(expected_hash)
        page.select_option("#revoke-reason", "issued-in-error")
        page.click("#revoke-submit")
        page.click("#revoke-confirm")
        expect(page.locator("#revoke-result p")).to_have_attribute("data-status", "revoked")
        expect(row).to_have_attribute("data-status", "revoked")

        # A credit event about the enterprise.
        page.fill("#credit-subject", service.enterprise)
        page.select_option("#credit-category", "contract-default")
        page.select_option("#credit-polarity", "negative")
        page.fill("#credit-severity", "3")
        page.fill("#credit-occurred", "2026-01-15")
        page.set_input_files("#credit-evidence", files=text_file("decision.txt", b"decision\n"))
        page.click("#credit-submit")
        expect(page.locator("#credit-result code")).to_have_text(re.compile(r"^0x[0-9a-f]{64}$"))
        expect(page.locator("#credit-subject")).to_have_value("")
        assert service.enterprise not in page.content()
        screenshot(page, "test_console_records_a_credit_event_and_revokes")

        # The revoked licence no longer verifies.
        page.goto(f"{base_url}/#{expected_hash}")
        verdict_is(page, "INVALID")
        assert check_row(page, "status.current") == "failed"


def test_console_pages_through_certificates(
    browser: Browser, service: PreparedService, base_url: str
) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        listing = http.get(
            f"/v1/departments/{service.department_id}/certificates",
            params={"limit": 200},
            headers={"Authorization": f"Bearer {service.department_token}"},
        )
    everything = [item["documentHash"] for item in listing.json()["items"]]
    assert len(everything) >= 2

    with open_page(browser) as (page, _problems):
        # One certificate a page, so that the cursor is followed (the page asks for 20).
        def one_per_page(route: Route) -> None:
            route.continue_(url=re.sub(r"limit=\d+", "limit=1", route.request.url))

        page.route(re.compile(r"/v1/departments/\d+/certificates\?"), one_per_page)
        connect_console(page, base_url, service.department_token)
        rows = page.locator("#list tbody tr")
        expect(rows).to_have_count(1)
        for shown in range(2, len(everything) + 1):
            page.click("#list-more")
            expect(rows).to_have_count(shown)
        expect(page.locator("#list-more")).to_be_hidden()
        assert rows.evaluate_all("nodes => nodes.map(n => n.dataset.hash)") == everything
        expect(page.locator("#list-count")).to_contain_text(str(len(everything)))


def test_console_shows_problems(
    browser: Browser, service: PreparedService, base_url: str, tmp_path: Path
) -> None:
    upload = tmp_path / "suspended.txt"
    upload.write_bytes(b"licence from a suspended department\n")
    with open_page(browser) as (page, problems):
        problems.expect(r"status of 40[13]")
        # A token the service does not know: 401, said in words, and the token form stays.
        page.goto(base_url + "/console")
        page.fill("#token-input", "gld_0123456789abcdef_" + "A" * 43)
        page.click("#token-submit")
        expect(page.locator("#error")).to_contain_text("令牌无效")
        expect(page.locator("#connect")).to_be_visible()
        assert page.evaluate(f"sessionStorage.getItem('{DEPARTMENT_TOKEN_KEY}')") is None

        # A suspended department may connect and read, but every write is refused.
        connect_console(page, base_url, service.suspended_department_token)
        expect(page.locator("#suspended")).to_be_visible()
        page.set_input_files("#anchor-file", str(upload))
        page.fill("#anchor-subject", service.enterprise)
        page.click("#anchor-submit")
        expect(page.locator("#error")).to_contain_text("本部门已被暂停")
        expect(page.locator("#anchor-result")).to_be_empty()
        assert service.enterprise not in page.content()
        screenshot(page, "test_console_shows_problems-suspended")


def test_console_credit_evidence_is_a_file_fingerprinted_in_the_browser(
    browser: Browser, service: PreparedService, base_url: str
) -> None:
    """Evidence is required and chosen as a file; only its keccak256 (the ledger's file rule,
    the same as ``ledger credit record --evidence``) leaves the browser."""
    evidence = f"处罚决定书 console evidence test {time.time_ns()}\n".encode()
    fingerprint = hex_hash(document_hash_of(evidence).hash)
    certificate = {"version": "gov-ledger/cert/v1", "fields": {}}
    with open_page(browser) as (page, _problems):
        sent: list[Request] = []
        page.on("request", lambda request: sent.append(request))
        connect_console(page, base_url, service.department_token)
        page.fill("#credit-subject", service.enterprise)
        page.select_option("#credit-category", "contract-default")
        page.fill("#credit-occurred", "2026-02-03")

        # Without evidence: said at once, nothing sent.
        sent.clear()
        page.click("#credit-submit")
        expect(page.locator("#error")).to_contain_text("请选择证据文件")
        assert [request.url for request in sent if request.method == "POST"] == []

        # A structured certificate's hash follows the certificate rule: not computed here.
        page.set_input_files("#credit-evidence", files=json_file("cert.json", certificate))
        expect(page.locator("#credit-evidence-hash")).to_contain_text("结构化证照")
        expect(page.locator("#credit-evidence")).to_have_attribute("aria-invalid", "")

        page.set_input_files("#credit-evidence", files=text_file("决定书.txt", evidence))
        expect(page.locator("#credit-evidence-name")).to_have_text("决定书.txt")
        expect(page.locator("#credit-evidence-fingerprint")).to_have_text(fingerprint)
        screenshot(page, "test_console_credit_evidence-chosen")
        sent.clear()
        page.click("#credit-submit")
        result = page.locator("#credit-result code")
        expect(result).to_have_text(re.compile(r"^0x[0-9a-f]{64}$"))
        event_id = result.text_content()
        # The form is ready for the next event: no evidence chosen.
        expect(page.locator("#credit-evidence-name")).to_have_text("未选择文件")
        posts = [request for request in sent if request.method == "POST"]
        assert [request.url for request in posts] == [f"{base_url}/v1/credit/events"]
        assert json.loads(posts[0].post_data or "{}")["evidenceHash"] == fingerprint
        # The evidence itself never left the page.
        assert all(evidence not in (request.post_data_buffer or b"") for request in sent)

    with httpx.Client(base_url=base_url, timeout=30) as http:
        recorded = http.get(
            f"/v1/credit/events/{event_id}",
            headers={"Authorization": f"Bearer {service.department_token}"},
        )
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["evidenceHash"] == fingerprint


def test_console_revocation_needs_a_reason_and_a_confirmation(
    browser: Browser, service: PreparedService, base_url: str
) -> None:
    document = f"licence revoked after confirmation {time.time_ns()}\n".encode()
    with httpx.Client(base_url=base_url, timeout=30) as http:
        anchored = http.post(
            "/v1/certificates",
            headers={"Authorization": f"Bearer {service.department_token}"},
            files={"file": ("licence.txt", document, "text/plain")},
            data={"type": "business-licence", "subject": service.enterprise},
        )
    assert anchored.status_code == 201, anchored.text
    document_hash = anchored.json()["documentHash"]
    dialog = "#revoke-dialog"
    with open_page(browser) as (page, _problems):
        connect_console(page, base_url, service.department_token)
        row = page.locator(f"#list tr[data-hash='{document_hash}']")
        row.locator("button[data-revoke]").click()
        expect(page.locator("#revoke-hash")).to_have_value(document_hash)
        # No reason is preselected, and the form says one is required.
        expect(page.locator("#revoke-reason")).to_have_value("")
        expect(page.locator("label[for='revoke-reason']")).to_contain_text("必填")
        page.click("#revoke-submit")
        expect(page.locator("#error")).to_contain_text("请选择撤销原因")
        expect(page.locator(dialog)).not_to_be_visible()
        expect(page.locator("#revoke-reason")).to_have_attribute("aria-invalid", "true")

        # With a reason: a modal dialog names what is about to happen; Escape cancels it.
        page.select_option("#revoke-reason", "fraud")
        page.click("#revoke-submit")
        confirm = page.get_by_role("dialog", name="确认撤销证照")
        expect(confirm).to_be_visible()
        expect(confirm).to_contain_text(document_hash)
        expect(confirm).to_contain_text("营业执照")
        expect(confirm).to_contain_text("欺诈")
        expect(page.locator("#revoke-cancel")).to_be_focused()
        screenshot(page, "test_console_revocation-dialog")
        page.keyboard.press("Escape")
        expect(page.locator(dialog)).not_to_be_visible()
        expect(page.locator("#status")).to_have_text("已取消，证照未撤销。")
        expect(row).to_have_attribute("data-status", "active")

        # Cancel by its button, then confirm.
        page.click("#revoke-submit")
        page.click("#revoke-cancel")
        expect(page.locator(dialog)).not_to_be_visible()
        expect(row).to_have_attribute("data-status", "active")
        page.click("#revoke-submit")
        page.click("#revoke-confirm")
        expect(page.locator("#revoke-result p")).to_have_attribute("data-status", "revoked")
        expect(row).to_have_attribute("data-status", "revoked")
        # Ready for the next revocation: no reason chosen.
        expect(page.locator("#revoke-reason")).to_have_value("")


#: A Latin letter: a Chinese page's error says everything in Chinese.
LATIN: Final = re.compile(r"[A-Za-z]")


def test_console_errors_never_show_contract_error_names(
    browser: Browser, service: PreparedService, base_url: str
) -> None:
    """A refusal is said in the page's language from the problem's code and, for a contract's
    refusal, its translated reason: never the service's English text or a Solidity error name."""
    with open_page(browser) as (page, problems):
        problems.expect(r"status of 40[39]")
        # Department 4 tries to revoke department 3's licence: refused, in Chinese only.
        connect_console(page, base_url, service.other_department_token)
        page.fill("#revoke-hash", hex_hash(service.doc_hash))
        page.select_option("#revoke-reason", "fraud")
        page.click("#revoke-submit")
        page.click("#revoke-confirm")
        error = page.locator("#error")
        expect(error).to_be_visible()
        assert LATIN.search(error.inner_text()) is None, error.inner_text()
        assert page.locator("#revoke-result").inner_text() == ""

        # A contract's refusal as the service words it, with and without a translation.
        answers = iter(
            [
                (
                    403,
                    "not_authorized",
                    "The signing key's department is neither the record's issuer nor one of "
                    "its supervisors [AccreditationNotIssuer: docHash=0x01]",
                ),
                (409, "some_new_code", "Something new [SomeFutureContractError]"),
            ]
        )

        def refuse(route: Route) -> None:
            status, code, detail = next(answers)
            route.fulfill(
                status=status,
                content_type="application/problem+json",
                body=json.dumps({"status": status, "code": code, "detail": detail}),
            )

        page.route(re.compile(r"/v1/certificates/0x[0-9a-f]{64}/revoke$"), refuse)
        for expected in ("既不是该记录的签发部门", "与当前状态冲突"):
            page.click("#revoke-submit")
            page.click("#revoke-confirm")
            expect(error).to_contain_text(expected)
            assert LATIN.search(error.inner_text()) is None, error.inner_text()
        screenshot(page, "test_console_errors_never_show_contract_error_names-zh")

        # In English: the translated reason, still no Solidity name.
        page.click("#lang-toggle")
        answers = iter([(403, "not_authorized", "The signing key … [AccreditationNotIssuer]")])
        page.click("#revoke-submit")
        page.click("#revoke-confirm")
        expect(error).to_contain_text("You are not allowed to do this.")
        expect(error).to_contain_text("neither the record's issuer nor one of its supervisors")
        assert "Accreditation" not in error.inner_text()


# -------------------------------------------------------------------------------------------------
# (4) English
# -------------------------------------------------------------------------------------------------


def test_english_switch(browser: Browser, service: PreparedService, base_url: str) -> None:
    with open_page(browser) as (page, _problems):
        # ?lang=en switches and is remembered.
        page.goto(base_url + "/?lang=en")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("h1")).to_have_text("Verify a certificate")
        expect(page.locator("nav [data-nav='citizen']")).to_have_text("Citizens & enterprises")
        expect(page).to_have_title(re.compile("^Verify a certificate"))
        page.fill("#hash-input", hex_hash(service.doc_hash))
        page.click("#hash-submit")
        verdict_is(page, "VALID")
        expect(page.locator(".verdict-word")).to_contain_text("Valid")
        expect(page.locator("#report tr[data-check='anchor.exists'] .check-name")).to_contain_text(
            "Anchored on chain"
        )
        expect(page.locator("#report .record")).to_contain_text("Business licence")
        expect(page.locator("#report .record [data-department]")).to_have_text(
            f"{DEPARTMENT_NAME} (110101)"
        )
        screenshot(page, "test_english_switch-verify")

        # The choice is kept (localStorage) on the next page, without the parameter.
        page.goto(base_url + "/console")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("h1")).to_have_text("Department console")
        connect_console(page, base_url, service.department_token)
        expect(page.locator("#anchor-type option[value='business-licence']")).to_have_text(
            "Business licence"
        )
        expect(page.locator("#department-id")).to_have_text(
            f"{DEPARTMENT_NAME} (no. {service.department_id})"
        )
        expect(page.locator(f"#list tr[data-hash='{hex_hash(service.doc_hash)}']")).to_contain_text(
            "Active"
        )
        screenshot(page, "test_english_switch-console")

        # The toggle switches back to Chinese, in place, data included.
        page.click("#lang-toggle")
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.locator("h1")).to_have_text("部门工作台")
        expect(page.locator("#anchor-type option[value='business-licence']")).to_have_text(
            "营业执照"
        )
        expect(page.locator("#department-id")).to_have_text(
            f"{DEPARTMENT_NAME}（编号 {service.department_id}）"
        )
        assert "lang=zh" in page.url
        assert page.evaluate("localStorage.getItem('ledger.lang')") == "zh"

        # The citizen page in English, logged in as the enterprise.
        login_citizen(page, base_url, service.enterprise, lang="en")
        expect(page.locator("#session-who")).to_have_text("Logged in as an enterprise")
        certificate = page.locator(f"#certificates tr[data-hash='{hex_hash(service.doc_hash)}']")
        expect(certificate).to_contain_text("Business licence")
        screenshot(page, "test_english_switch-citizen")


# -------------------------------------------------------------------------------------------------
# (5) Departments' names
# -------------------------------------------------------------------------------------------------


def test_department_names_are_fetched_once(
    browser: Browser, service: PreparedService, base_url: str
) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        listed = {item["id"]: item for item in http.get("/v1/departments").json()["items"]}
    assert listed[service.department_id]["name"] == DEPARTMENT_NAME

    with open_page(browser) as (page, _problems):
        asked: list[str] = []
        page.on(
            "request",
            lambda request: (
                asked.append(request.url) if DEPARTMENTS_LIST.search(request.url) else None
            ),
        )
        page.goto(base_url + "/")
        issuer = page.locator("#report .record [data-department]")
        for document in (service.document, service.citizen_certificate):
            page.set_input_files("#file-input", files=text_file("certificate.txt", document))
            verdict_is(page, "VALID")
            expect(page.locator("#report code.hash")).to_have_text(
                hex_hash(document_hash_of(document).hash)
            )
            expect(issuer).to_have_text(f"{DEPARTMENT_NAME}（110101）")
        # Once per page load, however many reports name a department.
        assert len(asked) == 1


def test_department_numbers_when_names_are_unavailable(
    browser: Browser, service: PreparedService, base_url: str
) -> None:
    """A slow or failing /v1/departments never holds a page back: departments show by number."""
    with open_page(browser) as (page, _problems):
        held: list[Route] = []

        def hold(route: Route) -> None:
            held.append(route)  # answered later, by hand

        page.route(DEPARTMENTS_LIST, hold)
        page.goto(base_url + "/")
        page.fill("#hash-input", hex_hash(service.doc_hash))
        page.click("#hash-submit")
        verdict_is(page, "VALID")
        issuer = page.locator("#report .record [data-department]")
        expect(issuer).to_have_text("部门 3")
        assert len(held) == 1
        screenshot(page, "test_department_numbers_when_names_are_unavailable-verify-waiting")
        # When the list answers at last, the issuer is named in place.
        held[0].continue_()
        expect(issuer).to_have_text(f"{DEPARTMENT_NAME}（110101）")
        verdict_is(page, "VALID")

    with open_page(browser) as (page, problems):
        problems.expect(r"status of 503")

        def unavailable(route: Route) -> None:
            route.fulfill(
                status=503,
                content_type="application/problem+json",
                body='{"title": "Service Unavailable", "status": 503, "code": "unavailable"}',
            )

        page.route(DEPARTMENTS_LIST, unavailable)
        login_citizen(page, base_url, service.citizen)
        certificate = page.locator(
            f"#certificates tr[data-hash='{hex_hash(service.citizen_certificate_hash)}']"
        )
        expect(certificate.locator("[data-department]")).to_have_text("部门 3（行政区划 110101）")
        event = page.locator(f"#events tr[data-event='{hex_hash(service.event_id)}']")
        expect(event.locator("[data-department]")).to_have_text("部门 3")
        expect(page.locator("#error")).to_be_hidden()
        screenshot(page, "test_department_numbers_when_names_are_unavailable-citizen")

        connect_console(page, base_url, service.department_token)
        expect(page.locator("#department-id")).to_have_text(str(service.department_id))
        expect(page.locator("#department-name")).to_have_count(0)
        expect(page.locator(f"#list tr[data-hash='{hex_hash(service.doc_hash)}']")).to_be_visible()
        expect(page.locator("#error")).to_be_hidden()


@pytest.mark.parametrize("failures", [0, 1], ids=["late", "fails-once"])
def test_issuer_is_named_when_the_departments_list_is_late_or_fails_once(
    browser: Browser, service: PreparedService, base_url: str, failures: int
) -> None:
    """The verdict never waits for the departments' names, and the issuer is named as soon as
    they arrive: late (after the report), or after a first answer that failed (a busy or
    rate-limited service), which the page asks again for."""
    with open_page(browser) as (page, problems):
        problems.expect(r"status of 429")
        asked: list[str] = []

        def late(route: Route) -> None:
            asked.append(route.request.url)
            if len(asked) <= failures:
                route.fulfill(
                    status=429,
                    headers={"Retry-After": "1"},
                    content_type="application/problem+json",
                    body='{"status": 429, "code": "too_many_requests"}',
                )
                return
            time.sleep(1.5)  # slower than the report
            route.continue_()

        page.route(DEPARTMENTS_LIST, late)
        page.goto(f"{base_url}/#{hex_hash(service.doc_hash)}")
        verdict_is(page, "VALID")
        issuer = page.locator("#report .record [data-department]")
        expect(issuer).to_have_text(f"{DEPARTMENT_NAME}（110101）", timeout=15_000)
        assert len(asked) == failures + 1
        expect(page.locator("#error")).to_be_hidden()


# -------------------------------------------------------------------------------------------------
# (6) Privacy
# -------------------------------------------------------------------------------------------------


def test_identity_number_never_in_the_page(
    browser: Browser, service: PreparedService, base_url: str
) -> None:
    with open_page(browser) as (page, problems):
        # A mistyped number (wrong check character) is refused without being echoed.
        wrong = service.citizen[:-1] + ("0" if service.citizen[-1] != "0" else "1")
        problems.expect(r"status of 422")
        page.goto(base_url + "/citizen")
        page.fill("#subject-input", wrong)
        page.click("#dev-submit")
        expect(page.locator("#error")).to_be_visible()
        assert wrong not in (page.locator("#error").text_content() or "")
        assert wrong not in page.content()
        screenshot(page, "test_identity_number_never_in_the_page-refused")

        login_citizen(page, base_url, service.citizen)
        expect(page.locator("#events tr[data-event]")).to_have_count(1)
        expect(page.locator("#subject-input")).to_have_value("")
        assert service.citizen not in page.content()
        assert service.citizen not in page.url
        assert service.citizen not in page.evaluate("JSON.stringify(localStorage)")
        screenshot(page, "test_identity_number_never_in_the_page-logged-in")

        # Redrawn in the other language: still nowhere.
        page.click("#lang-toggle")
        expect(page.locator("#session-who")).to_have_text("Logged in as a citizen")
        assert service.citizen not in page.content()

        # Logging out forgets the token and the records.
        page.click("#logout")
        expect(page.locator("#login")).to_be_visible()
        assert page.evaluate(f"sessionStorage.getItem('{CITIZEN_TOKEN_KEY}')") is None
        expect(page.locator("#events tr")).to_have_count(0)
        assert service.citizen not in page.content()

        # The second guard: anything shaped like an identifier in a server message is masked.
        masked = page.evaluate(
            """async ([citizen, enterprise]) => {
                const { redact } = await import("/static/common.js");
                return redact(`subject ${citizen} or ${enterprise} refused`);
            }""",
            [service.citizen, service.enterprise],
        )
        assert service.citizen not in masked
        assert service.enterprise not in masked
        assert masked.startswith("subject ")

    # Another synthetic citizen, with nothing recorded: empty tables, nothing echoed.
    stranger = make_citizen_id(sequence=456)
    with open_page(browser) as (page, _problems):
        login_citizen(page, base_url, stranger)
        expect(page.locator("#certificates .empty")).to_be_visible()
        expect(page.locator("#events .empty")).to_be_visible()
        assert stranger not in page.content()


# -------------------------------------------------------------------------------------------------
# Headers and assets
# -------------------------------------------------------------------------------------------------


def test_pages_send_the_security_policy(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for path in ("/", "/services", "/citizen", "/console", "/stats"):
            page = http.get(path)
            assert page.status_code == 200
            assert page.headers["content-type"].startswith("text/html")
            assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
            assert page.headers["x-content-type-options"] == "nosniff"
            # No inline script or style: every <script> has a src, no style attribute or element.
            assert re.search(r"<script(?![^>]*\bsrc=)", page.text) is None
            assert re.search(r"<style|\sstyle=", page.text) is None
        schema = http.get("/openapi.json").json()
        assert not {"/", "/services", "/citizen", "/console", "/stats"} & set(schema["paths"])
        script = http.get("/static/verify.js")
        assert script.status_code == 200
        assert "javascript" in script.headers["content-type"]


def test_assets_are_all_local() -> None:
    external = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//""")
    imports = re.compile(r"""(?:from|import)\s*\(?\s*["'](?!\./)""")
    for asset in STATIC_DIR.rglob("*"):
        if asset.is_dir():
            continue
        text = asset.read_text(encoding="utf-8")
        assert external.search(text) is None, asset.name
        if asset.suffix == ".js":
            assert imports.search(text) is None, asset.name
            assert "innerHTML" not in text, asset.name


#: Calls that take a dictionary key as a literal argument (besides ``t("…")``).
KEYED_CALLS: Final = re.compile(
    r'(?:\bt\(|showError\([^,()]+,|setMessage\(|logout\(|disconnect\()\s*"([\w.-]+)"'
)


def test_dictionary_has_every_string_in_both_languages() -> None:
    """Every key the pages use literally is in the dictionary, in Chinese and in English."""
    source = (STATIC_DIR / "i18n.js").read_text(encoding="utf-8")
    zh = source[source.index("  zh: {") : source.index("  en: {")]
    en = source[source.index("  en: {") : source.index("\n};\n")]
    key = re.compile(r'^\s+"([\w. -]+)":', re.MULTILINE)
    zh_keys, en_keys = set(key.findall(zh)), set(key.findall(en))
    assert zh_keys == en_keys
    used: set[str] = set()
    for page in (STATIC_DIR.parent / "pages").glob("*.html"):
        used |= set(re.findall(r'data-i18n(?:-[\w-]+)?="([^"@]+)"', page.read_text("utf-8")))
    for script in STATIC_DIR.glob("*.js"):
        used |= set(KEYED_CALLS.findall(script.read_text("utf-8")))
    assert len(used) > 100
    assert used <= zh_keys


def test_every_value_of_a_report_has_a_name_in_both_languages() -> None:
    """The names of the checks, outcomes and document kinds a report can hold are translated."""
    source = (STATIC_DIR / "i18n.js").read_text(encoding="utf-8")
    zh = source[source.index("  zh: {") : source.index("  en: {")]
    en = source[source.index("  en: {") : source.index("\n};\n")]
    key = re.compile(r'^\s+"([\w. -]+)":', re.MULTILINE)
    wanted = {
        *(f"check.{name}" for name in CheckName),
        *(f"outcome.{outcome}" for outcome in Outcome),
        *(f"kind.{kind}" for kind in DocumentKind),
    }
    assert wanted <= set(key.findall(zh))
    assert wanted <= set(key.findall(en))
