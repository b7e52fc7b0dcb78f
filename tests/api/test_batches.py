"""Batch anchoring through the API: an asynchronous job, its proofs, verification with them,
leaf revocation, refusals, and a job finished after a restart."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.catalogue import certificate_type
from ledger.documents import DocumentKind, document_hash_of, dump_certificate, salt_fields
from ledger.documents.batches import BatchProof, wrap_certificate
from ledger.documents.merkle import MerkleTree
from ledger.identity import make_citizen_id
from ledger.service.batch_jobs import BatchJobs
from ledger.service.database import ServiceDatabase
from ledger.session import LedgerSession
from tests.support.http import bearer
from tests.support.service import PreparedService, prepare_service


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> PreparedService:
    return prepare_service(tmp_path_factory.mktemp("batches"))


def certificate(label: str) -> bytes:
    return dump_certificate(
        salt_fields(
            {"enterprise": f"示例 {label}", "scope": "软件开发"},
            certificate_type="business-licence",
        )
    )


def wait_for(client: TestClient, location: str, token: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        job = client.get(location, headers=bearer(token)).json()
        if job["status"] != "accepted":
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def submit(client: TestClient, token: str, documents: list[tuple[str, bytes]], **form: str) -> Any:
    return client.post(
        "/v1/certificates/batches",
        headers=bearer(token),
        files=[("files", (name, data, "application/octet-stream")) for name, data in documents],
        data={"type": "business-licence", **form},
    )


def test_batch_job_anchors_and_every_document_verifies(
    client: TestClient, prepared: PreparedService
) -> None:
    files = [(f"licence-{i}.txt", f"营业执照 batch api {i}\n".encode()) for i in range(4)]
    wrapped = ("certificate.json", certificate("api batch"))
    response = submit(client, prepared.department_token, [*files, wrapped], expiresAt="2031-12-31")
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "accepted"
    assert accepted["count"] == 5
    location = response.headers["location"]
    assert location == f"/v1/certificates/batches/{accepted['jobId']}"

    job = wait_for(client, location, prepared.department_token)
    assert job["status"] == "done", job
    assert job["root"].startswith("0x")
    assert job["manifest"].startswith("bafk")
    assert job["blockNumber"] > 0
    # Matched to the uploads by position (and hash): the service keeps no file names.
    assert [item["index"] for item in job["items"]] == list(range(5))
    names = [name for name, _data in [*files, wrapped]]
    items = {names[item["index"]]: item for item in job["items"]}
    assert [item["kind"] for item in job["items"]] == ["file"] * 4 + ["certificate"]
    record = client.get(f"/v1/certificates/{job['root']}").json()
    assert record["status"] == "active"
    assert record["expiresAt"] is not None

    for name, data in files:
        item = items[name]
        assert item["documentHash"] == "0x" + document_hash_of(data).hash.hex()
        report = client.post(
            "/v1/verify",
            files={
                "file": (name, data, "text/plain"),
                "proof": ("proof.json", json.dumps(item["proof"]).encode(), "application/json"),
            },
        ).json()
        assert report["verdict"] == "VALID", report
        by_hash = client.post(
            "/v1/verify", json={"documentHash": item["documentHash"], "proof": item["proof"]}
        ).json()
        assert by_hash["verdict"] == "VALID"
    # A structured certificate carries its proof inside.
    proof = BatchProof.from_json(items["certificate.json"]["proof"])
    carried = wrap_certificate(wrapped[1], proof)
    report = client.post("/v1/verify", files={"file": ("c.json", carried, "application/json")})
    assert report.json()["verdict"] == "VALID"

    # Revoking one leaf makes exactly that certificate INVALID.
    target = items["licence-2.txt"]
    revoked = client.post(
        f"/v1/certificates/{target['documentHash']}/revoke",
        headers=bearer(prepared.department_token),
        json={"reason": "fraud", "proof": target["proof"]},
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["documentHash"] == job["root"]
    for name, _data in files:
        item = items[name]
        verdict = client.post(
            "/v1/verify", json={"documentHash": item["documentHash"], "proof": item["proof"]}
        ).json()["verdict"]
        assert verdict == ("INVALID" if name == "licence-2.txt" else "VALID")
    again = client.post(
        f"/v1/certificates/{target['documentHash']}/revoke",
        headers=bearer(prepared.department_token),
        json={"reason": "fraud", "proof": target["proof"]},
    )
    assert again.status_code == 409


def test_batch_job_is_private_to_its_department(
    client: TestClient, prepared: PreparedService
) -> None:
    response = submit(client, prepared.department_token, [("a.txt", b"private batch a")])
    location = response.headers["location"]
    wait_for(client, location, prepared.department_token)
    assert client.get(location, headers=bearer(prepared.other_department_token)).status_code == 404
    assert client.get(location, headers=bearer(prepared.admin_token)).status_code == 200
    assert client.get(location).status_code == 401
    unknown = "/v1/certificates/batches/" + "0" * 24
    assert client.get(unknown, headers=bearer(prepared.department_token)).status_code == 404
    assert (
        client.get(
            "/v1/certificates/batches/nope", headers=bearer(prepared.department_token)
        ).status_code
        == 422
    )


def test_batch_refusals(client: TestClient, prepared: PreparedService) -> None:
    token = prepared.department_token
    assert submit(client, prepared.suspended_department_token, [("a", b"x1")]).status_code == 403
    assert submit(client, "", [("a", b"x2")]).status_code == 401
    same = [("a", b"twice"), ("b", b"twice")]
    assert submit(client, token, same).status_code == 422
    unknown_type = submit(client, token, [("a", b"x3")], type="no-such-type")
    assert unknown_type.status_code == 422
    # Department 3 is not accredited for tax registration.
    not_accredited = submit(client, token, [("a", b"x4")], type="tax-registration")
    assert not_accredited.status_code == 403
    json_body = client.post("/v1/certificates/batches", headers=bearer(token), json={"files": []})
    assert json_body.status_code == 415
    bad_date = submit(client, token, [("a", b"x5")], expiresAt="2031-02-30")
    assert bad_date.status_code == 422


def test_too_many_documents(tmp_path: Path) -> None:
    prepared = prepare_service(tmp_path)
    settings = prepared.settings.model_copy(update={"max_batch_size": 2})
    with TestClient(create_app(settings), raise_server_exceptions=False) as small:
        documents = [(f"{i}.txt", f"too many {i}".encode()) for i in range(3)]
        response = submit(small, prepared.department_token, documents)
        assert response.status_code == 422
        assert "at most 2" in response.json()["detail"]


def test_a_job_left_accepted_is_finished_at_the_next_start(tmp_path: Path) -> None:
    prepared = prepare_service(tmp_path)
    leaves = [document_hash_of(f"restart {i}".encode()).hash for i in range(3)]
    with ServiceDatabase(prepared.settings.service_db_path) as database:
        job = BatchJobs(database).create(
            prepared.department_id,
            "business-licence",
            None,
            [DocumentKind.FILE] * 3,
            leaves,
        )
    with TestClient(create_app(prepared.settings), raise_server_exceptions=False) as restarted:
        done = wait_for(
            restarted, f"/v1/certificates/batches/{job.job_id}", prepared.department_token
        )
    assert done["status"] == "done"
    assert [item["documentHash"] for item in done["items"]] == ["0x" + h.hex() for h in leaves]


def test_a_job_whose_root_landed_before_a_crash_is_not_anchored_twice(tmp_path: Path) -> None:
    prepared = prepare_service(tmp_path)
    leaves = [document_hash_of(f"landed {i}".encode()).hash for i in range(3)]
    tree = MerkleTree.build(leaves)
    with LedgerSession.open(prepared.settings) as session:
        sender = session.department_sender(prepared.department_id)
        receipt = sender.transact(
            session.certificates().anchor_batch(
                tree.root, certificate_type("business-licence").code, 110101
            )
        )
    with ServiceDatabase(prepared.settings.service_db_path) as database:
        job = BatchJobs(database).create(
            prepared.department_id,
            "business-licence",
            None,
            [DocumentKind.FILE] * 3,
            leaves,
        )
    with TestClient(create_app(prepared.settings), raise_server_exceptions=False) as restarted:
        done = wait_for(
            restarted, f"/v1/certificates/batches/{job.job_id}", prepared.department_token
        )
    assert done["status"] == "done"
    assert done["root"] == "0x" + tree.root.hex()
    assert done["blockNumber"] == receipt["blockNumber"]
    assert done["transactionHash"] is None


def test_the_same_documents_again_with_other_terms_fail_as_a_duplicate(
    client: TestClient, prepared: PreparedService
) -> None:
    documents = [("x.txt", b"terms batch x"), ("y.txt", b"terms batch y")]
    first = submit(client, prepared.department_token, documents, expiresAt="2031-12-31")
    done = wait_for(client, first.headers["location"], prepared.department_token)
    assert done["status"] == "done"
    again = submit(client, prepared.department_token, documents, expiresAt="2028-01-01")
    failed = wait_for(client, again.headers["location"], prepared.department_token)
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "duplicate"
    # The batch root is listed with the department's certificates.
    listing = client.get(
        f"/v1/departments/{prepared.department_id}/certificates?limit=200",
        headers=bearer(prepared.department_token),
    ).json()
    assert done["root"] in {item["documentHash"] for item in listing["items"]}


# -- file names (issue 13 item 2) ----------------------------------------------------------------

#: File names as offices make them: the holder's identity number and name.
_PEOPLE: tuple[tuple[str, str], ...] = (
    (make_citizen_id("310104", date(1988, 7, 14), 402), "林晓燕"),
    (make_citizen_id("440305", date(1975, 11, 2), 17), "欧阳建国"),
)


def _name_needles() -> dict[str, bytes]:
    """The names' parts in the spellings a database or a JSON column would keep them."""
    found: dict[str, bytes] = {}
    for index, (number, name) in enumerate(_PEOPLE):
        found[f"id {index}"] = number.encode()
        found[f"name {index} utf-8"] = name.encode()
        found[f"name {index} json"] = json.dumps(name).strip('"').encode()
        found[f"name {index} utf-16-le"] = name.encode("utf-16-le")
    return found


def _database_bytes(prepared: PreparedService) -> bytes:
    path = prepared.settings.service_db_path
    files = (path, path.with_name(path.name + "-wal"))
    return b"".join(file.read_bytes() for file in files if file.exists())


def _leaked(data: bytes) -> list[str]:
    return [label for label, needle in _name_needles().items() if needle in data]


def test_a_batch_keeps_no_file_name(tmp_path: Path) -> None:
    """Uploads named ``<identity number>_<name>.txt``: the job keeps and returns none of it;
    each proof comes back with its upload index and document hash, matching the files sent."""
    prepared = prepare_service(tmp_path)
    files = [
        (f"{number}_{name}.txt", f"营业执照 batch names {index}\n".encode())
        for index, (number, name) in enumerate(_PEOPLE)
    ]
    with TestClient(create_app(prepared.settings), raise_server_exceptions=False) as client:
        response = submit(client, prepared.department_token, files)
        assert response.status_code == 202, response.text
        job = wait_for(client, response.headers["location"], prepared.department_token)
        assert job["status"] == "done", job
        assert _leaked(response.content) == []
        assert _leaked(json.dumps(job, ensure_ascii=False).encode()) == []
        for index, (_name, data) in enumerate(files):
            item = job["items"][index]
            assert set(item) == {"index", "documentHash", "kind", "proof"}
            assert item["index"] == index
            assert item["documentHash"] == "0x" + document_hash_of(data).hash.hex()
            report = client.post(
                "/v1/verify", json={"documentHash": item["documentHash"], "proof": item["proof"]}
            ).json()
            assert report["verdict"] == "VALID"
    assert _leaked(_database_bytes(prepared)) == []


def test_file_names_of_older_jobs_are_dropped(tmp_path: Path) -> None:
    """A service database whose batch jobs kept file names (before issue 13) is migrated at the
    next start: the names are gone from the file and its WAL, and the job is finished and read
    as any other."""
    prepared = prepare_service(tmp_path)
    leaves = [document_hash_of(f"older job {i}".encode()).hash for i in range(2)]
    names = [f"{number}_{name}.txt" for number, name in _PEOPLE]
    path = prepared.settings.service_db_path
    with contextlib.closing(sqlite3.connect(path)) as connection:
        columns = {row[1] for row in connection.execute("PRAGMA table_info(batch_jobs)")}
        if "names" not in columns:  # the schema of the version before
            connection.execute("ALTER TABLE batch_jobs ADD COLUMN names TEXT NOT NULL DEFAULT ''")
        connection.execute(
            "INSERT INTO batch_jobs (job_id, department_id, cert_type, expires_at, names, kinds, "
            "leaves, status, created_at, updated_at) "
            "VALUES ('0123456789abcdef01234567', ?, 'business-licence', NULL, ?, ?, ?, "
            "'accepted', 1, 1)",
            (
                prepared.department_id,
                json.dumps(names, ensure_ascii=False),
                json.dumps(["file", "file"]),
                b"".join(leaves),
            ),
        )
        connection.execute("PRAGMA user_version = 1")
        connection.commit()
    assert _leaked(_database_bytes(prepared))  # the scan sees them where they are

    with TestClient(create_app(prepared.settings), raise_server_exceptions=False) as restarted:
        job = wait_for(
            restarted,
            "/v1/certificates/batches/0123456789abcdef01234567",
            prepared.department_token,
        )
    assert job["status"] == "done", job
    assert [item["index"] for item in job["items"]] == [0, 1]
    assert [item["documentHash"] for item in job["items"]] == ["0x" + h.hex() for h in leaves]
    assert _leaked(_database_bytes(prepared)) == []


# -- holders (ADR 0026) -------------------------------------------------------------------------

_ALICE = make_citizen_id("320102", date(1991, 3, 5), 431)
_BOB = make_citizen_id("320102", date(1992, 4, 6), 432)


def _submit_with_holders(
    client: TestClient, token: str, documents: list[bytes], holders: str
) -> Any:
    return client.post(
        "/v1/certificates/batches",
        headers=bearer(token),
        files=[("files", (f"{i}.txt", data, "text/plain")) for i, data in enumerate(documents)],
        data={"type": "business-licence", "holders": holders},
    )


def _mine(client: TestClient, subject: str) -> list[dict[str, Any]]:
    token = client.post("/v1/dev/token", json={"subject": subject}).json()["token"]
    response = client.get("/v1/me/certificates", headers=bearer(token))
    assert response.status_code == 200, response.text
    return [item for item in response.json()["items"] if item["proof"] is not None]


def test_a_batchs_holders_see_their_certificates_and_nobody_else_does(
    client: TestClient, prepared: PreparedService
) -> None:
    documents = [f"营业执照 batch holders {i}\n".encode() for i in range(3)]
    response = _submit_with_holders(
        client,
        prepared.department_token,
        documents,
        json.dumps([{"subject": _ALICE, "subjectKind": "citizen"}, None, {"subject": _ALICE}]),
    )
    assert response.status_code == 202, response.text
    job = wait_for(client, response.headers["location"], prepared.department_token)
    assert job["status"] == "done", job
    items = job["items"]
    assert {item["documentHash"] for item in _mine(client, _ALICE)} == {
        items[0]["documentHash"],
        items[2]["documentHash"],
    }
    alices = {item["documentHash"]: item for item in _mine(client, _ALICE)}
    assert alices[items[0]["documentHash"]]["proof"] == items[0]["proof"]
    assert alices[items[0]["documentHash"]]["status"] == "active"
    assert alices[items[0]["documentHash"]]["departmentId"] == prepared.department_id
    assert _mine(client, _BOB) == []

    # A leaf revoked alone shows revoked; its batch's other leaf stays active.
    revoked = client.post(
        f"/v1/certificates/{items[2]['documentHash']}/revoke",
        headers=bearer(prepared.department_token),
        json={"reason": "fraud", "proof": items[2]["proof"]},
    )
    assert revoked.status_code == 200, revoked.text
    statuses = {item["documentHash"]: item["status"] for item in _mine(client, _ALICE)}
    assert statuses == {items[0]["documentHash"]: "active", items[2]["documentHash"]: "revoked"}

    # The identity number is nowhere: not in the answers, the manifest or the database.
    service = client.app.state.service  # type: ignore[attr-defined]
    manifest = service.session.documents().fetch_document(job["manifest"])
    for data in (response.content, json.dumps(job).encode(), manifest, _database_bytes(prepared)):
        assert _ALICE.encode() not in data


_WRONG_CHECK = _ALICE[:-1] + ("0" if _ALICE[-1] != "0" else "1")


@pytest.mark.parametrize(
    ("holders", "code"),
    [
        ([{"subject": _WRONG_CHECK}], "invalid_identifier"),
        ([{"subject": _ALICE, "subjectKind": "enterprise"}], "invalid_identifier"),
        ([{"subject": _ALICE}, {"subject": _BOB}], "invalid"),
        ([{"subject": _ALICE, "subjectKind": "person"}], "invalid"),
        ([{"subject": _ALICE, "name": "林晓燕"}], "invalid"),
        ([_ALICE], "invalid"),
        ({"subject": _ALICE}, "invalid"),
        ('[{"subject": "' + _ALICE + '"', "invalid"),
    ],
)
def test_a_malformed_holder_is_refused_without_echo(
    client: TestClient, prepared: PreparedService, holders: Any, code: str
) -> None:
    text = holders if isinstance(holders, str) else json.dumps(holders, ensure_ascii=False)
    document = f"营业执照 refused holder {text}\n".encode()
    response = _submit_with_holders(client, prepared.department_token, [document], text)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    for secret in (_ALICE, _BOB, _WRONG_CHECK, "林晓燕"):
        assert secret not in response.text


def test_a_job_with_holders_whose_root_landed_before_a_crash_indexes_them(tmp_path: Path) -> None:
    """The job keeps its holders' references across a restart: settled on a root already
    anchored, it still stores the tagged manifest and indexes the holder."""
    from ledger.documents.batches import parse_manifest

    prepared = prepare_service(tmp_path)
    leaves = [document_hash_of(f"landed with holders {i}".encode()).hash for i in range(2)]
    tree = MerkleTree.build(leaves)
    with LedgerSession.open(prepared.settings) as session:
        reference = session.subject_ref(_ALICE)
        session.department_sender(prepared.department_id).transact(
            session.certificates().anchor_batch(
                tree.root, certificate_type("business-licence").code, 110101
            )
        )
    with ServiceDatabase(prepared.settings.service_db_path) as database:
        job = BatchJobs(database).create(
            prepared.department_id,
            "business-licence",
            None,
            [DocumentKind.FILE] * 2,
            leaves,
            [None, reference],
        )
    with TestClient(create_app(prepared.settings), raise_server_exceptions=False) as restarted:
        done = wait_for(
            restarted, f"/v1/certificates/batches/{job.job_id}", prepared.department_token
        )
        assert done["status"] == "done", done
        assert [item["documentHash"] for item in _mine(restarted, _ALICE)] == [
            "0x" + leaves[1].hex()
        ]
        service = restarted.app.state.service  # type: ignore[attr-defined]
        manifest = parse_manifest(service.session.documents().fetch_document(done["manifest"]))
    assert manifest.leaves_of(reference) == (leaves[1],)
