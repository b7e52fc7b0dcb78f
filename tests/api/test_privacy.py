"""No identity number or credit code leaves the service except to its subject (docs/api.md:
"No problem document, log line or audit row contains an identity number or credit code").

A realistic sequence of calls (tokens for a citizen and an enterprise, anchoring for both,
credit events recorded, looked up, disputed and resolved, the subjects' own routes, public reads,
refusals, and errors for identifiers that differ from a valid one only in the check character)
runs once in process and once against a real uvicorn server with the access log on. Then these
are searched for every spelling of the identifiers (upper and lower case; the first 17
characters alone, which also catch the mistyped variants):

* every log record of every logger, at DEBUG (the access log included on the real server);
* every audit row;
* every response the service gave, problem documents included (with the payload of any JWT in
  it decoded), except the development tokens: JWTs for the subjects themselves, whose payload
  carries the identifier by design;
* the raw bytes of ``service.sqlite3`` and its ``-wal``;
* every file of the data directory, the document store's blocks and the key vault included, for
  the citizens' numbers and the personal names (an enterprise's licence is public and stored in
  clear, so the credit code is not searched there). ``test_no_personal_data_in_the_ipfs_store``
  does the same with documents on a js-ipfs node, searching every block the node serves.

The sequence then takes the people through the window without paper (issue 15,
tests/support/privacy_window.py): a batch naming its holders, consents, the window's check, a
stored copy read, a forged upload carrying a number and a name verified and recorded as false
information, the dispute, the access log and its proof, and every refusal of those routes. The
chain is searched too, credit codes included: its files, and every transaction, log and the
access-log anchor contract's storage as a node serves them (tests/support/privacy_chain.py).

The sequence also anchors business licences (not a personal type) for citizens, sends batches
whose files are named ``<identity number>_<name>.txt`` and asks for paths with an identity
number, a name and a line feed in them (issue 13 items 1 to 3). Names are searched in UTF-8,
UTF-16-LE, GB18030 and percent-encoded; identifiers also in UTF-16-LE and as hex text.

``test_scan_finds_planted_identifiers`` shows that each of these searches finds an identifier
that is there.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import DEV_ISSUER, DEV_KEY_FILE
from ledger.config import Settings
from ledger.identity import USCC_ALPHABET, make_citizen_id
from ledger.service.audit import AuditLog
from ledger.service.database import ServiceDatabase
from tests.support.http import bearer
from tests.support.ipfs import IpfsNode
from tests.support.privacy import make_people as make_store_people
from tests.support.privacy import node_blocks
from tests.support.privacy_chain import chain_files_leaks, served_chain_leaks
from tests.support.privacy_window import STORED_COPY, WindowPeople, window_flow
from tests.support.server import running_server
from tests.support.service import PreparedService, prepare_service

#: Loggers of the HTTP client the tests use (httpx logs each URL it requests): not the service.
_CLIENT_LOGGERS: Final = ("httpx", "httpcore")
#: Loggers that do not propagate to the root logger (so caplog's handler is attached to them).
_UVICORN_LOGGERS: Final = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


def with_check_x() -> str:
    """A synthetic identity number whose check character is X (typed in lower case below)."""
    numbers = (make_citizen_id("440305", date(1975, 11, 2), n) for n in range(1000))
    return next(number for number in numbers if number.endswith("X"))


def wrong_check(identifier: str) -> str:
    alphabet = "0123456789X" if identifier[:17].isdigit() else USCC_ALPHABET
    return identifier[:17] + next(c for c in alphabet if c != identifier[17].upper())


@dataclass(frozen=True)
class People:
    citizen: str
    citizen_x: str
    enterprise: str

    def identifiers(self) -> tuple[str, ...]:
        return (self.citizen, self.citizen_x, self.enterprise)


#: Personal names in the documents, the batch file names and the paths of the sequence.
NAMES: Final = ("林晓燕", "欧阳建国", "司马文博")


def needles(identifiers: tuple[str, ...], names: tuple[str, ...] = NAMES) -> dict[str, bytes]:
    """Every spelling searched for, labelled without the value itself."""
    found: dict[str, bytes] = {}
    for index, identifier in enumerate(identifiers):
        for part, text in (("whole", identifier), ("first-17", identifier[:17])):
            for case, spelled in (("upper", text.upper()), ("lower", text.lower())):
                found[f"identifier {index} ({part}, {case})"] = spelled.encode("ascii")
        for case, spelled in (("upper", identifier.upper()), ("lower", identifier.lower())):
            found[f"identifier {index} (utf-16-le, {case})"] = spelled.encode("utf-16-le")
            found[f"identifier {index} (hex, {case})"] = spelled.encode().hex().encode()
    for index, name in enumerate(names):
        found[f"name {index} (utf-8)"] = name.encode()
        found[f"name {index} (utf-16-le)"] = name.encode("utf-16-le")
        found[f"name {index} (gb18030)"] = name.encode("gb18030")
        found[f"name {index} (json)"] = json.dumps(name).strip('"').encode()
        quoted = urllib.parse.quote(name)
        found[f"name {index} (percent-encoded)"] = quoted.encode()
        found[f"name {index} (percent-encoded, lower)"] = quoted.lower().encode()
    return found


def find(searched: dict[str, bytes], content: str | bytes) -> list[str]:
    data = content.encode("utf-8", "backslashreplace") if isinstance(content, str) else content
    return [label for label, needle in searched.items() if needle in data]


def record_text(record: logging.LogRecord) -> str:
    """Everything a handler could write of ``record``: the message with its arguments, the
    traceback, and every attribute (extras included)."""
    text = logging.Formatter("%(name)s %(levelname)s %(message)s").format(record)
    return text + "\n" + repr(vars(record))


@contextmanager
def capture_all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every logger at DEBUG into caplog, those that do not propagate included."""
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        if isinstance(logging.root.manager.loggerDict[name], logging.Logger):
            caplog.set_level(logging.DEBUG, logger=name)
    attached = []
    for name in _UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        caplog.set_level(logging.DEBUG, logger=name)
        if not logger.propagate:
            logger.addHandler(caplog.handler)
            attached.append(logger)
    try:
        yield
    finally:
        for logger in attached:
            logger.removeHandler(caplog.handler)


def jwt_payload(response: httpx.Response) -> str:
    """The decoded payload of a JWT in the response (base64 would hide an identifier)."""
    if not response.headers.get("content-type", "").startswith("application/json"):
        return ""
    body = response.json()
    token = body.get("token") if isinstance(body, dict) else None
    if not isinstance(token, str) or token.count(".") != 2:
        return ""
    return repr(jwt.decode(token, options={"verify_signature": False}))


@dataclass
class Seen:
    """Responses the service gave, by whom they were for."""

    responses: list[tuple[str, httpx.Response]] = field(default_factory=list)

    def add(self, response: httpx.Response, audience: str = "caller") -> httpx.Response:
        self.responses.append((audience, response))
        return response

    def scanned(self) -> Iterator[tuple[str, str]]:
        """(what, text) of every response but the subject's development tokens, and only the
        headers of a stored copy a window read under the applicant's consent."""
        for audience, response in self.responses:
            if audience == "issued-token":
                continue
            what = f"{response.request.method} {response.request.url.path} {response.status_code}"
            headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
            if audience == STORED_COPY:  # the document itself, read under the consent
                yield what, headers
                continue
            yield what, headers + "\n" + response.text + "\n" + jwt_payload(response)


def run_sequence(http: httpx.Client, prepared: PreparedService, people: People) -> Seen:
    """What departments, citizens and the public do in a day, errors included."""
    seen = Seen()
    run = uuid.uuid4().hex
    department = bearer(prepared.department_token)
    other = bearer(prepared.other_department_token)

    def token(subject: str, **extra: str) -> str:
        response = seen.add(
            http.post("/v1/dev/token", json={"subject": subject, **extra}), "issued-token"
        )
        assert response.status_code == 200, response.text
        return str(response.json()["token"])

    citizen = bearer(token(people.citizen_x.lower()))
    enterprise = bearer(token(people.enterprise.lower(), subjectKind="enterprise"))
    first_citizen = bearer(token(people.citizen))

    # Anchoring: the documents themselves carry the identifiers, as real ones do.
    documents = {
        "residence": f"居住证 {people.citizen_x} 林晓燕 {run}\n".encode(),
        "licence-3": f"营业执照 {people.enterprise} 北京示例科技有限公司 {run}\n".encode(),
        "licence-4": f"营业执照 {people.enterprise} 上海分公司 {run}\n".encode(),
    }
    anchors = [
        (department, "residence", "residence-certificate", people.citizen_x.lower(), "citizen"),
        (department, "licence-3", "business-licence", people.enterprise.lower(), ""),
        (other, "licence-4", "business-licence", people.enterprise, "enterprise"),
    ]
    hashes = []
    for headers, name, type_name, subject, kind in anchors:
        form = {"type": type_name, "subject": subject, "expiresAt": "2031-12-31"}
        if kind:
            form["subjectKind"] = kind
        response = seen.add(
            http.post(
                "/v1/certificates",
                headers=headers,
                files={"file": (f"{name}.txt", documents[name], "text/plain")},
                data=form,
            )
        )
        assert response.status_code == 201, response.text
        hashes.append(response.json()["documentHash"])

    personal_writes(http, seen, department, (people.citizen_x.lower(), people.citizen), run)
    identifying_requests(http, seen, department, people.identifiers())

    # Credit events, and who may see them.
    def record(headers: dict[str, str], subject: str, category: str) -> str:
        body = {
            "subject": subject,
            "category": category,
            "polarity": "negative",
            "severity": 2,
            "occurredAt": "2024-04-01",
            "evidenceHash": "0x" + uuid.uuid4().hex * 2,
        }
        response = seen.add(http.post("/v1/credit/events", headers=headers, json=body))
        assert response.status_code == 201, response.text
        seen.add(http.get(response.headers["location"], headers=headers))
        return str(response.json()["eventId"])

    citizen_event = record(department, people.citizen_x.lower(), "false-information")
    record(department, people.enterprise, "contract-default")
    record(other, people.enterprise.lower(), "tax-violation")
    for headers, subject in (
        (department, people.citizen_x),
        (other, people.citizen_x.lower()),
        (other, people.enterprise),
        (department, people.citizen),
    ):
        response = seen.add(
            http.post("/v1/credit/lookup", headers=headers, json={"subject": subject})
        )
        assert response.status_code == 200, response.text
    seen.add(
        http.post(
            "/v1/credit/lookup",
            headers=department,
            json={"subject": people.enterprise, "subjectKind": "enterprise"},
        )
    )

    # The subjects' own routes, a dispute and its resolution.
    for headers in (citizen, enterprise, first_citizen):
        for path in ("/v1/me/certificates", "/v1/me/credit", "/v1/whoami"):
            assert seen.add(http.get(path, headers=headers), "subject").status_code == 200
    dispute = http.post(
        f"/v1/credit/events/{citizen_event}/dispute", headers=citizen, json={"reason": "不是我"}
    )
    assert seen.add(dispute, "subject").status_code == 200, dispute.text
    resolved = http.post(
        f"/v1/credit/events/{citizen_event}/resolve",
        headers=department,
        json={"outcome": "withdrawn", "reason": "evidence was about someone else"},
    )
    assert seen.add(resolved).status_code == 200, resolved.text
    foreign = http.post(
        f"/v1/credit/events/{citizen_event}/dispute", headers=first_citizen, json={"reason": "x"}
    )
    assert seen.add(foreign).status_code == 403

    # The public, and departments reaching for what is not theirs.
    for document_hash in hashes:
        assert seen.add(http.get(f"/v1/certificates/{document_hash}")).status_code == 200
        seen.add(http.post("/v1/verify", json={"documentHash": document_hash}))
    for name, document in documents.items():
        files = {"file": (f"{name}.txt", document, "text/plain")}
        assert seen.add(http.post("/v1/verify", files=files)).json()["verdict"] == "VALID"
    for path in ("/v1/departments", "/v1/departments/3", "/v1/catalogue"):
        seen.add(http.get(path))
    refused = http.post(
        f"/v1/certificates/{hashes[0]}/revoke", headers=other, json={"reason": "fraud"}
    )
    assert seen.add(refused).status_code == 403
    assert seen.add(http.get("/v1/departments/3/certificates", headers=other)).status_code == 403
    assert (
        seen.add(http.get("/v1/departments/3/certificates", headers=department)).status_code == 200
    )

    # Identifiers that differ from valid ones only in the check character.
    for identifier in people.identifiers():
        typo = wrong_check(identifier)
        for body in ({"subject": typo}, {"subject": typo.lower()}):
            response = seen.add(http.post("/v1/credit/lookup", headers=department, json=body))
            assert response.status_code == 422, response.text
            response = seen.add(http.post("/v1/dev/token", json=body))
            assert response.status_code == 422, response.text
        kind = "enterprise" if identifier == people.enterprise else "citizen"
        response = seen.add(
            http.post(
                "/v1/credit/lookup", headers=other, json={"subject": typo, "subjectKind": kind}
            )
        )
        assert response.status_code == 422, response.text
        body = {
            "subject": typo,
            "category": "false-information",
            "polarity": "negative",
            "severity": 1,
            "occurredAt": "2024-04-02",
            "evidenceHash": "0x" + "12" * 32,
        }
        response = seen.add(http.post("/v1/credit/events", headers=department, json=body))
        assert response.status_code == 422, response.text
        response = seen.add(
            http.post(
                "/v1/certificates",
                headers=department,
                files={"file": ("x.txt", f"{run} {typo}".encode(), "text/plain")},
                data={"type": "business-licence", "subject": typo},
            )
        )
        assert response.status_code == 422, response.text
        response = seen.add(
            http.post(
                f"/v1/certificates/{hashes[1]}/supersede",
                headers=department,
                files={"file": ("y.txt", f"{run} renewed {typo}".encode(), "text/plain")},
                data={"reason": "correction", "subject": typo},
            )
        )
        assert response.status_code == 422, response.text
        # A token from the (development) provider whose subject claim has the typo.
        key = serialization.load_pem_private_key(
            (prepared.settings.data_dir / DEV_KEY_FILE).read_bytes(), password=None
        )
        now = int(time.time())
        claims = {"iss": DEV_ISSUER, "aud": "gov-ledger", "sub": typo, "exp": now + 60}
        forged = jwt.encode(claims, key, algorithm="ES256")
        response = seen.add(http.get("/v1/me/credit", headers=bearer(forged)))
        assert response.status_code == 401, response.text

    # The window without paper (issue 15), refusals included.
    tokens = {"department": department, "other": other, "admin": bearer(prepared.admin_token)}
    applicants = WindowPeople(
        citizen=people.citizen_x,
        citizen_token=citizen,
        citizen_name=NAMES[0],
        residence=documents["residence"],
        residence_hash=hashes[0],
        enterprise=people.enterprise,
        enterprise_token=enterprise,
        other_citizen=people.citizen,
        out_of_scope_hash=hashes[1],
    )
    window_flow(http, seen, tokens, applicants, prepared.department_id)
    return seen


def wait_for_batch(http: httpx.Client, seen: Seen, location: str, headers: dict[str, str]) -> Any:
    deadline = time.monotonic() + 60
    while True:
        response = seen.add(http.get(location, headers=headers))
        assert response.status_code == 200, response.text
        if response.json()["status"] != "accepted":
            return response.json()
        assert time.monotonic() < deadline, response.text
        time.sleep(0.05)


def personal_writes(
    http: httpx.Client,
    seen: Seen,
    department: dict[str, str],
    citizens: tuple[str, ...],
    run: str,
    names: tuple[str, ...] = NAMES,
) -> list[str]:
    """What offices send about people that is not of a personal type: a business licence of
    each citizen (a sole trader) and its renewal, and a batch of files named ``<identity
    number>_<name>.txt``. Returns the CIDs stored (the copies and the batch manifest)."""
    cids: list[str] = []
    for index, citizen in enumerate(citizens):
        name = names[index % len(names)]
        licence = f"营业执照 个体工商户 经营者 {name} 公民身份号码 {citizen} {run}\n"
        form = {"type": "business-licence", "subject": citizen, "subjectKind": "citizen"}
        files = {"file": (f"{citizen}_{name}.txt", licence.encode(), "text/plain")}
        response = seen.add(
            http.post("/v1/certificates", headers=department, files=files, data=form)
        )
        assert response.status_code == 201, response.text
        assert response.json()["encrypted"] is True, response.text
        cids.append(response.json()["cid"])
        renewed = licence.replace("营业执照", "营业执照 (换发)").encode("utf-16-le")
        response = seen.add(
            http.post(
                f"/v1/certificates/{response.json()['documentHash']}/supersede",
                headers=department,
                files={"file": (f"{citizen}_{name}_换发.txt", renewed, "text/plain")},
                data={"reason": "renewal", "subject": citizen},
            )
        )
        assert response.status_code == 201, response.text
        assert response.json()["encrypted"] is True, response.text
        cids.append(response.json()["cid"])
    parts = [
        (
            "files",
            (f"{citizen}_{names[index % len(names)]}.txt", f"{citizen} {run} {index}".encode()),
        )
        for index, citizen in enumerate(citizens)
    ]
    response = seen.add(
        http.post(
            "/v1/certificates/batches",
            headers=department,
            files=parts,
            data={"type": "business-licence"},
        )
    )
    assert response.status_code == 202, response.text
    job = wait_for_batch(http, seen, response.headers["location"], department)
    assert job["status"] == "done", job
    assert [item["index"] for item in job["items"]] == list(range(len(parts)))
    cids.append(job["manifest"])
    return cids


def identifying_requests(
    http: httpx.Client,
    seen: Seen,
    department: dict[str, str],
    identifiers: tuple[str, ...],
    names: tuple[str, ...] = NAMES,
) -> None:
    """Paths that carry an identity number, a name or a line feed: each is refused (4xx), and
    none of it may reach a log line or a problem document."""
    for identifier in identifiers:
        for path in (
            f"/v1/certificates/{identifier}",
            f"/v1/certificates/{identifier.lower()}",
            f"/v1/certificates/0x%0a{identifier}",
            f"/v1/certificates/%0a{identifier}%0d%0aforged",
            f"/v1/certificates/batches/{identifier}",
            f"/v1/credit/events/{identifier}",
            f"/v1/no-such-route/{identifier}",
        ):
            response = seen.add(http.get(path, headers=department))
            assert 400 <= response.status_code < 500, (response.status_code, response.text)
    for name in names:
        for path in (f"/v1/certificates/{name}", f"/v1/{name}/%0a"):
            response = seen.add(http.get(path))
            assert 400 <= response.status_code < 500, (response.status_code, response.text)


def database_files(prepared: PreparedService) -> list[Path]:
    path = prepared.settings.service_db_path
    return [p for p in (path, path.with_name(path.name + "-wal")) if p.exists()]


def data_dir_leaks(settings: Settings, identifiers: tuple[str, ...]) -> list[str]:
    """Every file of the data directory (document store, key vault, chain, service database)
    searched for the citizens' ``identifiers`` and the names: documents of enterprises are
    public and stored in clear, so their credit codes are not searched here."""
    searched = needles(identifiers)
    found: list[str] = []
    root = settings.data_dir
    files = sorted(path for path in root.rglob("*") if path.is_file())
    assert any(path.is_relative_to(settings.documents_dir) for path in files)
    for path in files:
        where = path.relative_to(root)
        found += [f"file {where}: {label}" for label in find(searched, path.read_bytes())]
    return found


def chain_leaks(prepared: PreparedService, searched: dict[str, bytes]) -> list[str]:
    """The chain's files and what a node serves of it, for every identifier (credit codes
    included) and name. The prepared licence's hash is searched too: the scan must find it
    (anchored in a transaction's input and an event), or it read nothing."""
    planted = {**searched, "known": prepared.doc_hash}

    def finder(data: bytes) -> list[str]:
        return find(planted, data)

    read, found = served_chain_leaks(prepared.settings, finder)
    assert read > 50, "the chain was not read"
    found += chain_files_leaks(prepared.settings, finder)
    assert any(entry.endswith(": known") and "transaction input" in entry for entry in found)
    assert any(entry.endswith(": known") and " log " in entry for entry in found)
    return [entry for entry in found if not entry.endswith(": known")]


def leaks(
    searched: dict[str, bytes],
    caplog: pytest.LogCaptureFixture,
    audit: list[Any],
    seen: Seen,
    files: list[Path],
) -> list[str]:
    found: list[str] = []
    for record in caplog.records:
        if record.name.partition(".")[0] in _CLIENT_LOGGERS:
            continue  # the test's own client, which names every URL it asks for
        found += [f"log {record.name}: {label}" for label in find(searched, record_text(record))]
    for row in audit:
        found += [f"audit row {row.seq}: {label}" for label in find(searched, repr(row))]
    for what, text in seen.scanned():
        found += [f"response {what}: {label}" for label in find(searched, text)]
    for path in files:
        found += [f"file {path.name}: {label}" for label in find(searched, path.read_bytes())]
    return found


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> PreparedService:
    return prepare_service(tmp_path_factory.mktemp("privacy"), rate_limit=0)


@pytest.fixture(scope="module")
def people(prepared: PreparedService) -> People:
    return People(prepared.citizen, with_check_x(), prepared.enterprise)


def test_no_identifier_leaves_in_process(
    prepared: PreparedService, people: People, caplog: pytest.LogCaptureFixture
) -> None:
    searched = needles(people.identifiers())
    with capture_all_logs(caplog):
        with TestClient(create_app(prepared.settings), raise_server_exceptions=False) as client:
            seen = run_sequence(client, prepared, people)
            service = client.app.state.service  # type: ignore[attr-defined]
            audit = service.audit.entries(limit=100_000)
            files_open = {path: path.read_bytes() for path in database_files(prepared)}
        files_closed = database_files(prepared)
    assert len(seen.responses) > 60
    assert len(audit) > 30
    assert {row.action for row in audit} >= {
        "certificate.anchor",
        "credit.record",
        "credit.history.read",
        "credit.dispute",
        "credit.resolve",
        "dev.token",
    }
    assert any(record.name.startswith("web3") for record in caplog.records), "DEBUG not captured"
    found = leaks(searched, caplog, audit, seen, files_closed)
    for path, data in files_open.items():
        found += [f"file {path.name} (service open): {label}" for label in find(searched, data)]
    found += data_dir_leaks(prepared.settings, (people.citizen, people.citizen_x))
    found += chain_leaks(prepared, searched)
    assert found == [], "\n".join(sorted(set(found)))


def test_no_identifier_leaves_a_real_server(
    prepared: PreparedService, people: People, caplog: pytest.LogCaptureFixture
) -> None:
    """The access log names every request line: no identifier may be in one, nor the
    client's address."""
    searched = needles(people.identifiers())
    with running_server(prepared.settings) as base, capture_all_logs(caplog):
        with httpx.Client(base_url=base, timeout=60) as http:
            seen = run_sequence(http, prepared, people)
        # The same process holds the service: read its audit log through a second connection.
        with ServiceDatabase(prepared.settings.service_db_path) as database:
            audit = AuditLog(database).entries(limit=100_000)
        files = database_files(prepared)
        contents = {path: path.read_bytes() for path in files}
    access = [record for record in caplog.records if record.name == "api.access"]
    lines = [record.getMessage() for record in access]
    assert len(access) >= len(seen.responses), "the access log was not captured"
    assert any('"POST /v1/credit/lookup" 200' in line for line in lines)
    assert any('"POST /v1/dev/token" 200' in line for line in lines)
    assert not [line for line in lines if "127.0.0.1" in line], "a client address was logged"
    found = leaks(searched, caplog, audit, seen, [])
    for path, data in contents.items():
        found += [f"file {path.name}: {label}" for label in find(searched, data)]
    found += data_dir_leaks(prepared.settings, (people.citizen, people.citizen_x))
    found += chain_leaks(prepared, searched)
    assert found == [], "\n".join(sorted(set(found)))


@pytest.mark.xdist_group("ipfs")
def test_no_personal_data_in_the_ipfs_store(
    ipfs_session: IpfsNode, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The citizens' writes and identifying requests of :func:`run_sequence` with documents on
    a js-ipfs node: no number or name in any block the node serves for the stored CIDs, in the
    node's repo, the data directory, the service database, a log record or a response. The
    people are made up for this test (the node is shared with other tests)."""
    prepared = prepare_service(tmp_path, rate_limit=0, ipfs_api=ipfs_session.api_multiaddr)
    people = make_store_people()
    identifiers = tuple(person.citizen_id for person in people)
    names = tuple(person.name for person in people)
    searched = needles(identifiers, names)
    seen = Seen()
    department = bearer(prepared.department_token)
    app = create_app(prepared.settings)
    with capture_all_logs(caplog), TestClient(app, raise_server_exceptions=False) as client:
        typed = tuple(identifier.lower() for identifier in identifiers)
        cids = personal_writes(client, seen, department, typed, uuid.uuid4().hex, names)
        identifying_requests(client, seen, department, identifiers, names)
    blocks = node_blocks(ipfs_session)(cids)
    assert len(blocks) >= len(cids)
    found = leaks(searched, caplog, [], seen, database_files(prepared))
    for index, block in enumerate(blocks):
        found += [f"block {index} served by the node: {label}" for label in find(searched, block)]
    for path in sorted(ipfs_session.repo_dir.rglob("*")):
        if path.is_file():
            found += [
                f"node file {path.name}: {label}" for label in find(searched, path.read_bytes())
            ]
    for path in sorted(prepared.settings.data_dir.rglob("*")):
        if path.is_file():
            found += [f"file {path.name}: {label}" for label in find(searched, path.read_bytes())]
    assert found == [], "\n".join(sorted(set(found)))


def test_scan_finds_planted_identifiers(
    prepared: PreparedService,
    people: People,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    """Each search finds an identifier where it is: in a request body, a log record, an audit
    row, a response and a database file (its WAL included)."""
    searched = needles(people.identifiers())
    with capture_all_logs(caplog):
        with TestClient(create_app(prepared.settings), raise_server_exceptions=False) as client:
            lookup = client.post(
                "/v1/credit/lookup",
                headers=bearer(prepared.department_token),
                json={"subject": people.citizen_x.lower()},
            )
            assert lookup.status_code == 200
            issued = client.post("/v1/dev/token", json={"subject": people.enterprise})
        logging.getLogger("tests.privacy.planted").debug("looked up %s", people.citizen)
    # The request carried the identifier (typed in lower case); the response did not.
    in_request = find(searched, lookup.request.content)
    assert "identifier 1 (whole, lower)" in in_request
    assert "identifier 1 (whole, upper)" not in in_request
    assert find(searched, lookup.text) == []
    # A development token carries it in its payload (the reason those responses are skipped).
    payload = jwt.decode(issued.json()["token"], options={"verify_signature": False})
    assert "identifier 2 (whole, upper)" in find(searched, str(payload))
    seen = Seen()
    seen.add(issued, "issued-token")
    assert list(seen.scanned()) == []
    seen.add(issued)
    # A stored copy a window read under consent: its headers are scanned, not the document.
    copy = httpx.Response(
        200,
        content=people.citizen.encode(),
        headers={"content-disposition": f'attachment; filename="{people.citizen_x}.bin"'},
        request=httpx.Request("GET", "http://testserver/v1/window/consents/c/documents/d"),
    )
    copies = Seen()
    copies.add(copy, STORED_COPY)
    in_copy = [label for _what, text in copies.scanned() for label in find(searched, text)]
    assert "identifier 1 (whole, upper)" in in_copy
    assert "identifier 0 (whole, upper)" not in in_copy
    with ServiceDatabase(tmp_path / "planted.sqlite3") as database:
        log = AuditLog(database)
        log.append(request_id="r", actor="admin", action="x", outcome=200, target=people.enterprise)
        planted_rows = log.entries()
        connection = sqlite3.connect(database.path)
        connection.execute("CREATE TABLE notes (text TEXT)")
        connection.execute("INSERT INTO notes VALUES (?)", (wrong_check(people.citizen),))
        connection.commit()
        wal = tmp_path / "planted.sqlite3-wal"
        assert wal.exists()
        found = leaks(searched, caplog, planted_rows, seen, [wal])
        connection.close()
    assert "log tests.privacy.planted: identifier 0 (whole, upper)" in found
    assert "audit row 1: identifier 2 (whole, upper)" in found
    assert any(entry.startswith("response POST /v1/dev/token 200") for entry in found)
    assert "file planted.sqlite3-wal: identifier 0 (first-17, upper)" in found
    # A document block holding a number and a name in the encodings of a Windows export.
    planted_dir = Settings(data_dir=tmp_path / "planted-data")
    block = planted_dir.documents_dir / "blocks" / "planted"
    block.parent.mkdir(parents=True)
    block.write_bytes(f"{people.citizen_x} {NAMES[1]}".encode("utf-16-le"))
    in_store = data_dir_leaks(planted_dir, (people.citizen, people.citizen_x))
    assert "file documents/blocks/planted: identifier 1 (utf-16-le, upper)" in in_store
    assert "file documents/blocks/planted: name 1 (utf-16-le)" in in_store
    assert not any(entry.startswith("log ") and "planted" not in entry for entry in found)


def test_problem_never_echoes_member_names(prepared: PreparedService, people: People) -> None:
    with TestClient(create_app(prepared.settings), raise_server_exceptions=False) as client:
        response = client.post(
            "/v1/credit/lookup",
            headers=bearer(prepared.department_token),
            json={"subject": people.enterprise, people.citizen: "the citizen, by mistake"},
        )
    assert response.status_code == 422
    assert find(needles(people.identifiers()), response.text) == []
