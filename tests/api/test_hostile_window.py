"""Hostile input on the routes of the window without paper (issue 15) against a real uvicorn
server: the window's check, a stored copy read, a handed-over document verified or reported as
false information, the access log and an entry's proof, the anchoring, and a batch's
``holders``. Bodies that are huge, nested past any parser's depth, not JSON, of the wrong types,
with NUL bytes and lone surrogates; paths and sequence numbers past every bound. test_fuzz.py
draws values from the schema, which never sends most of these. Every answer is a 4xx problem
document (never a 5xx) with a code of its own, the one each case names.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import httpx
import pytest

from tests.support.http import bearer
from tests.support.server import running_server
from tests.support.service import PreparedService, prepare_service

pytestmark = pytest.mark.slow

PROBLEM: Final = "application/problem+json"
#: A JSON array nested deeper than any recursive parser goes.
DEEP: Final = "[" * 100_000 + "]" * 100_000
#: As deep as fits under the service's 64 KiB limit on a JSON body.
DEEP_BODY: Final = "[" * 30_000 + "]" * 30_000
#: As deep as fits in a batch proof's 16 KiB.
DEEP_PROOF: Final = "[" * 8_000 + "]" * 8_000
#: A lone surrogate, escaped as JSON may spell it (not encodable as UTF-8).
SURROGATE: Final = '"\\ud800"'


@dataclass(frozen=True)
class Served:
    url: str
    prepared: PreparedService
    department: dict[str, str]
    other: dict[str, str]
    admin: dict[str, str]
    citizen: dict[str, str]
    #: A consent of the citizen taken by department 3's window and live for the module.
    consent_id: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    prepared = prepare_service(tmp_path_factory.mktemp("hostile-window"), rate_limit=0)
    with running_server(prepared.settings) as url, httpx.Client(base_url=url, timeout=60) as http:
        issued = http.post("/v1/dev/token", json={"subject": prepared.citizen})
        citizen = bearer(issued.json()["token"])
        department = bearer(prepared.department_token)
        body = {
            "service": "residence-permit-endorsement",
            "departmentId": prepared.department_id,
            "mode": "visit",
        }
        granted = http.post("/v1/me/consents", headers=citizen, json=body)
        assert granted.status_code == 201, granted.text
        taken = http.post(
            "/v1/window/consents", headers=department, json={"code": granted.json()["code"]}
        )
        assert taken.status_code == 200, taken.text
        yield Served(
            url=url,
            prepared=prepared,
            department=department,
            other=bearer(prepared.other_department_token),
            admin=bearer(prepared.admin_token),
            citizen=citizen,
            consent_id=str(granted.json()["consentId"]),
        )


def assert_refused(response: httpx.Response, status: int, code: str) -> None:
    """A problem document with ``status`` and ``code``; never a server error."""
    assert response.status_code < 500, (response.status_code, response.text[:300])
    assert response.headers.get("content-type", "").startswith(PROBLEM), response.text[:300]
    body: dict[str, Any] = response.json()
    assert (response.status_code, body.get("code")) == (status, code), response.text[:300]


def send(served: Served, method: str, path: str, headers: dict[str, str], **kwargs: Any) -> Any:
    with httpx.Client(base_url=served.url, timeout=60) as http:
        return http.request(method, path, headers=headers, **kwargs)


BOUNDARY: Final = "hostileboundary"


def multipart(*parts: tuple[str, str | None, bytes]) -> tuple[dict[str, str], bytes]:
    """A multipart body of raw parts (name, file name or None, bytes): bytes no client library
    would send (a NUL, a lone surrogate's UTF-8 spelling) go out as they are."""
    body = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        body += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        body += data + b"\r\n"
    body += f"--{BOUNDARY}--\r\n".encode()
    return {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}, body


#: Bodies of POST /v1/window/checks (raw bytes, sent as JSON) and the code each gets.
CHECK_BODIES: Final = [
    pytest.param(b"", 422, "invalid", id="empty"),
    pytest.param(b"{", 400, "bad_request", id="truncated"),
    pytest.param(b"\xff\xfe{}", 400, "bad_request", id="not-utf8"),
    pytest.param(DEEP.encode(), 413, "content_too_large", id="nested-100000"),
    pytest.param(DEEP_BODY.encode(), 400, "bad_request", id="nested-30000"),
    pytest.param(b'{"code": "' + b"A" * 60_000 + b'"}', 422, "invalid", id="long-code"),
    pytest.param(
        b'{"code": "' + b"A" * 2_000_000 + b'"}', 413, "content_too_large", id="huge-code"
    ),
    pytest.param(b'{"code": 12345}', 422, "invalid", id="code-number"),
    pytest.param(b'{"code": ["A"]}', 422, "invalid", id="code-array"),
    pytest.param(b'{"code": null, "consentId": null}', 422, "invalid", id="both-null"),
    pytest.param(b'{"consentId": 1e400}', 422, "invalid", id="consent-float"),
    pytest.param(b'{"consentId": "' + b"0" * 33 + b'"}', 422, "invalid", id="consent-33"),
    pytest.param(b'{"consentId": "0\\u0000' + b"0" * 30 + b'"}', 422, "invalid", id="consent-nul"),
    pytest.param(b'{"consentId": ' + SURROGATE.encode() + b"}", 422, "invalid", id="consent-surr"),
    pytest.param(b'{"code": "ABCDE\\u0000FGHIJ"}', 403, "consent_not_found", id="code-nul"),
    pytest.param(b'{"code": ' + SURROGATE.encode() + b"}", 422, "invalid", id="surr"),
    pytest.param(b'{"code": "\\udfff\\ud800ABCDEFGH"}', 422, "invalid", id="surr-2"),
    pytest.param(b'{"code": "\xed\xa0\x80ABCDEFGH"}', 422, "invalid", id="surr-utf8"),
    pytest.param(b'{"code": "A", "extra": "\\u0000"}', 422, "invalid", id="extra-member"),
    pytest.param(b"[]", 422, "invalid", id="array"),
    pytest.param(b"null", 422, "invalid", id="null"),
]


@pytest.mark.parametrize(("body", "status", "code"), CHECK_BODIES)
def test_window_check_bodies(served: Served, body: bytes, status: int, code: str) -> None:
    headers = {**served.other, "content-type": "application/json"}
    assert_refused(send(served, "POST", "/v1/window/checks", headers, content=body), status, code)


def test_window_check_not_json(served: Served) -> None:
    headers = {**served.other, "content-type": "text/plain"}
    response = send(served, "POST", "/v1/window/checks", headers, content=b"code=ABCDE-FGHIJ")
    assert_refused(response, 415, "unsupported_media_type")


#: Paths of a stored copy: (consent id, document hash) segments, as sent on the wire.
COPY_PATHS: Final = [
    pytest.param("0" * 31, "0x" + "ab" * 32, id="consent-31"),
    pytest.param("0" * 33, "0x" + "ab" * 32, id="consent-33"),
    pytest.param("%00" + "0" * 31, "0x" + "ab" * 32, id="consent-nul"),
    pytest.param("%ED%A0%80" + "0" * 29, "0x" + "ab" * 32, id="consent-surrogate"),
    pytest.param("G" * 32, "0x" + "ab" * 32, id="consent-not-hex"),
    pytest.param("{consent}", "0x" + "ab" * 31, id="hash-short"),
    pytest.param("{consent}", "0x" + "ab" * 33, id="hash-long"),
    pytest.param("{consent}", "0x" + "ab" * 31 + "%00a", id="hash-nul"),
    pytest.param("{consent}", "0x" + "zz" * 32, id="hash-not-hex"),
    pytest.param("{consent}", "0x" + "a" * 100_00, id="hash-huge"),
]


@pytest.mark.parametrize(("consent", "document"), COPY_PATHS)
def test_stored_copy_paths(served: Served, consent: str, document: str) -> None:
    consent = consent.replace("{consent}", served.consent_id)
    path = f"/v1/window/consents/{consent}/documents/{document}"
    assert_refused(send(served, "GET", path, served.department), 422, "invalid")


def test_stored_copy_path_traversal(served: Served) -> None:
    path = f"/v1/window/consents/{served.consent_id}/documents/..%2F..%2Fetc%2Fpasswd"
    assert_refused(send(served, "GET", path, served.department), 404, "not_found")


def _upload_path(served: Served, route: str) -> str:
    return f"/v1/window/consents/{served.consent_id}/{route}"


FILE: Final = ("file", "upload.txt", b"a handed-over document")
#: Forms of the upload routes: (route, parts) and the code each gets.
UPLOADS: Final = [
    pytest.param("verifications", [], 422, "invalid", id="v-nothing"),
    pytest.param(
        "verifications", [FILE, ("proof", "p", b"\x00" * 10)], 422, "invalid_document", id="nul"
    ),
    pytest.param(
        "verifications",
        [FILE, ("proof", "p", DEEP_PROOF.encode())],
        422,
        "invalid_document",
        id="deep",
    ),
    pytest.param(
        "false-information",
        [FILE, ("reason", None, b"forged-document\x00"), ("confirm", None, b"true")],
        422,
        "invalid",
        id="reason-nul",
    ),
    pytest.param(
        "false-information",
        [FILE, ("reason", None, b"forged-document"), ("confirm", None, b"\xed\xa0\x80")],
        422,
        "invalid",
        id="confirm-surrogate",
    ),
    pytest.param(
        "false-information",
        [FILE, ("reason", None, b"x" * 1_000_000), ("confirm", None, b"true")],
        422,
        "invalid",
        id="reason-huge",
    ),
    pytest.param(
        "false-information",
        [("reason", None, b"forged-document"), ("confirm", None, b"true")],
        422,
        "invalid",
        id="no-file",
    ),
]


@pytest.mark.parametrize(("route", "parts", "status", "code"), UPLOADS)
def test_upload_forms(
    served: Served,
    route: str,
    parts: list[tuple[str, str | None, bytes]],
    status: int,
    code: str,
) -> None:
    extra, body = multipart(*parts)
    headers = {**served.department, **extra}
    response = send(served, "POST", _upload_path(served, route), headers, content=body)
    assert_refused(response, status, code)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        pytest.param("multipart/form-data", b"--x\r\n", id="no-boundary"),
        pytest.param("multipart/form-data; boundary=x", b"--x\r\nbroken", id="broken-part"),
        pytest.param("multipart/form-data; boundary=" + "x" * 5000, b"", id="huge-boundary"),
        pytest.param("application/json", json.dumps({"file": "x"}).encode(), id="json"),
    ],
)
def test_upload_bodies_not_multipart(served: Served, content_type: str, body: bytes) -> None:
    for route in ("verifications", "false-information"):
        headers = {**served.department, "content-type": content_type}
        response = send(served, "POST", _upload_path(served, route), headers, content=body)
        assert response.status_code in (400, 415, 422), response.text[:300]
        assert response.headers["content-type"].startswith(PROBLEM)


def test_verify_with_a_boundary_past_the_parsers_limit(served: Served) -> None:
    """POST /v1/verify reads an upload as the window does: a boundary of more than 256 bytes
    (python-multipart refuses it when the parser is built) is a malformed body, not a 500."""
    headers = {"content-type": "multipart/form-data; boundary=" + "x" * 300}
    assert_refused(send(served, "POST", "/v1/verify", headers, content=b""), 400, "bad_request")
    url = _upload_path(served, "verifications")
    response = send(served, "POST", url, {**served.department, **headers}, content=b"")
    assert_refused(response, 400, "bad_request")


@pytest.mark.parametrize(
    "seq",
    ["0", "-1", str(2**63), str(2**64), "abc", "1.5", "%D9%A1", "1e3", "%00", "9" * 400],
)
def test_proof_sequence_numbers(served: Served, seq: str) -> None:
    response = send(served, "GET", f"/v1/me/access-log/{seq}/proof", served.citizen)
    assert_refused(response, 422, "invalid")


@pytest.mark.parametrize("seq", [str(10**9), str(2**63 - 1)])
def test_proof_of_no_entry_of_the_caller(served: Served, seq: str) -> None:
    response = send(served, "GET", f"/v1/me/access-log/{seq}/proof", served.citizen)
    assert_refused(response, 404, "access_entry_not_found")


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "-1"},
        {"limit": str(2**63)},
        {"limit": str(2**64)},
        {"limit": "ten"},
        {"cursor": "not base64!"},
        {"cursor": ""},
        {"cursor": "=" * 8},
        {"cursor": "LTE"},  # "-1"
        {"cursor": "OTIyMzM3MjAzNjg1NDc3NTgwOA"},  # 2^63
        {"cursor": "MTg0NDY3NDQwNzM3MDk1NTE2MTY"},  # 2^64
        {"cursor": "7aCA"},  # a lone surrogate in UTF-8
        {"cursor": "AA"},  # NUL
        {"cursor": "\x00"},
        {"cursor": "A" * 8_000},
    ],
)
def test_access_log_queries(served: Served, params: dict[str, str]) -> None:
    response = send(served, "GET", "/v1/me/access-log", served.citizen, params=params)
    assert_refused(response, 422, "invalid")


def test_anchoring_takes_governance_only_and_ignores_a_body(served: Served) -> None:
    for headers in (served.department, served.citizen):
        response = send(served, "POST", "/v1/access-log/anchors", headers, content=DEEP_BODY)
        assert_refused(response, 403, "not_authorized")
    response = send(served, "POST", "/v1/access-log/anchors", {}, content=b"\x00")
    assert_refused(response, 401, "unauthenticated")
    headers = {**served.admin, "content-type": "application/json"}
    response = send(served, "POST", "/v1/access-log/anchors", headers, content=DEEP_BODY)
    assert response.status_code in (200, 202, 400), response.text[:300]
    response = send(served, "POST", "/v1/access-log/anchors", served.admin)
    assert response.status_code in (200, 202), response.text[:300]


#: ``holders`` texts of a three-document batch and the code each gets.
HOLDERS: Final = [
    pytest.param("x" * 200_001, 422, "invalid", id="huge"),
    pytest.param(DEEP[:150_000] + DEEP[-50_000:], 422, "invalid", id="nested"),
    pytest.param("{not json", 422, "invalid", id="not-json"),
    pytest.param("42", 422, "invalid", id="number"),
    pytest.param('"[null, null, null]"', 422, "invalid", id="string"),
    pytest.param('{"0": null}', 422, "invalid", id="object"),
    pytest.param("[null, null]", 422, "invalid", id="short"),
    pytest.param("[1, 2, 3]", 422, "invalid", id="numbers"),
    pytest.param('[{"subject": 1}, null, null]', 422, "invalid", id="subject-number"),
    pytest.param('[{"subject": null}, null, null]', 422, "invalid", id="subject-null"),
    pytest.param('[{"subject": "\\u0000"}, null, null]', 422, "invalid_identifier", id="nul"),
    pytest.param('[{"subject": ' + SURROGATE + "}, null, null]", 422, "invalid", id="surrogate"),
    pytest.param(
        '[{"subject": "{citizen}", "subjectKind": 7}, null, null]', 422, "invalid", id="kind-number"
    ),
    pytest.param(
        '[{"subject": "{citizen}", "subjectKind": "alien"}, null, null]',
        422,
        "invalid",
        id="kind-unknown",
    ),
    pytest.param('[{"subject": "{citizen}", "x": 1}, null, null]', 422, "invalid", id="extra"),
    pytest.param("[NaN, null, null]", 422, "invalid", id="nan"),
]


@pytest.mark.parametrize(("holders", "status", "code"), HOLDERS)
def test_batch_holders(served: Served, holders: str, status: int, code: str) -> None:
    text = holders.replace("{citizen}", served.prepared.citizen)
    files = [("files", (f"{i}.txt", f"hostile holders {i} {code}".encode())) for i in range(3)]
    response = send(
        served,
        "POST",
        "/v1/certificates/batches",
        served.department,
        files=files,
        data={"type": "business-licence", "holders": text},
    )
    assert_refused(response, status, code)
    assert served.prepared.citizen not in response.text


def test_batch_holders_with_raw_nul_and_surrogate_bytes(served: Served) -> None:
    """The field's bytes themselves: a NUL and a lone surrogate's UTF-8 spelling, raw."""
    extra, body = multipart(
        *(("files", f"{i}.txt", f"raw holders {i}".encode()) for i in range(3)),
        ("type", None, b"business-licence"),
        ("holders", None, b'[{"subject": "\x00\xed\xa0\x80"}, null, null]'),
    )
    headers = {**served.department, **extra}
    response = send(served, "POST", "/v1/certificates/batches", headers, content=body)
    assert response.status_code in (400, 422), response.text[:300]
    assert response.headers["content-type"].startswith(PROBLEM)
