"""End to end through real uvicorn servers on 127.0.0.1.

- A department anchors through the API, a verifier verifies, the department revokes, and the
  verification turns INVALID naming the reason (an acceptance criterion of the service).
- The demo as the README runs it: ``ledger init``, ``scripts/seed_demo.py`` and ``ledger serve``
  as separate processes; the demo credentials work, and the server's log holds no identifier.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import httpx
import pytest

from ledger.config import Settings
from tests.api.test_privacy import find, needles
from tests.support.http import bearer
from tests.support.serve import ServeProcess
from tests.support.server import running_server
from tests.support.service import PreparedService, prepare_service

ROOT: Final = Path(__file__).resolve().parents[2]
LEDGER: Final = Path(sys.executable).with_name("ledger")
#: The demo must answer within this long on a fresh clone (install excluded: it is cached here).
DEMO_DEADLINE_SECONDS: Final = 120
ACCESS_LINE: Final = re.compile(
    r"^\S+ \S+ INFO api\.access: [0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12} "
    r'"([A-Z]+) (\S+)" (\d{3}) \d+\.\dms$',
    re.MULTILINE,
)


@pytest.fixture
def prepared(tmp_path: Path) -> PreparedService:
    return prepare_service(tmp_path)


def check(report: dict[str, Any], name: str) -> dict[str, Any]:
    [line] = [c for c in report["checks"] if c["name"] == name]
    return line


def test_anchor_verify_revoke_verify(prepared: PreparedService) -> None:
    document = "营业执照 e2e anchor → verify → revoke → verify\n".encode()
    with running_server(prepared.settings) as base, httpx.Client(base_url=base, timeout=60) as http:
        anchored = http.post(
            "/v1/certificates",
            headers=bearer(prepared.department_token),
            files={"file": ("licence.txt", document, "text/plain")},
            data={"type": "business-licence", "subject": prepared.enterprise},
        )
        assert anchored.status_code == 201, anchored.text
        doc_hash = anchored.json()["documentHash"]
        assert anchored.headers["location"] == f"/v1/certificates/{doc_hash}"

        first = http.post("/v1/verify", files={"file": ("licence.txt", document, "text/plain")})
        assert first.status_code == 200
        report = first.json()
        assert report["verdict"] == "VALID", report
        assert report["documentHash"] == doc_hash
        assert check(report, "status.current")["outcome"] == "passed"

        revoked = http.post(
            f"/v1/certificates/{doc_hash}/revoke",
            headers=bearer(prepared.department_token),
            json={"reason": "fraud"},
        )
        assert revoked.status_code == 200, revoked.text
        assert revoked.json()["status"] == "revoked"

        second = http.post("/v1/verify", files={"file": ("licence.txt", document, "text/plain")})
        report = second.json()
        assert report["verdict"] == "INVALID"
        status = check(report, "status.current")
        assert status["outcome"] == "failed"
        assert "revoked" in status["detail"]
        assert "fraud" in status["detail"]
        by_hash = http.post("/v1/verify", json={"documentHash": doc_hash}).json()
        assert by_hash["verdict"] == "INVALID"
        public = http.get(f"/v1/certificates/{doc_hash}").json()
        assert public["status"] == "revoked"
        assert public["reason"] == "fraud"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path, float]]:
    """The README's demo, step by step, in processes of its own; yields (base URL, data dir,
    server log, seconds from start until /v1/health answered). The seed's standard output and
    error are kept in ``seed.log`` beside the data directory; the seed then runs again, as
    `make demo` does on a seeded directory (``reseed.log``, the first run's credentials in
    ``first-credentials.json``)."""
    root = tmp_path_factory.mktemp("demo")
    data = root / "demo-data"
    log = root / "serve.log"
    env = {**os.environ, "LEDGER_DEV_ISSUER": "true", "PYTHONUNBUFFERED": "1"}
    env.pop("LEDGER_DATA_DIR", None)
    started = time.monotonic()
    outputs = []
    seed = [sys.executable, str(ROOT / "scripts" / "seed_demo.py"), "--data-dir", str(data)]
    for command in ([str(LEDGER), "--data-dir", str(data), "init"], seed):
        done = subprocess.run(command, check=True, env=env, capture_output=True, timeout=300)
        outputs += [done.stdout, done.stderr]
    (root / "seed.log").write_bytes(b"\n".join(outputs))
    credentials = data / "demo-credentials.json"
    (root / "first-credentials.json").write_bytes(credentials.read_bytes())
    again = subprocess.run(seed, check=True, env=env, capture_output=True, timeout=300)
    (root / "reseed.log").write_bytes(again.stdout + b"\n" + again.stderr)
    server = ServeProcess(data, log, environment={"LEDGER_DEV_ISSUER": "true"})
    server.start(timeout=DEMO_DEADLINE_SECONDS - (time.monotonic() - started))
    try:
        yield server.url, data, log, time.monotonic() - started
    finally:
        server.stop(timeout=30)


def test_demo_serves_seeded_data(demo: tuple[str, Path, Path, float]) -> None:
    base, data, log, elapsed = demo
    assert elapsed < DEMO_DEADLINE_SECONDS
    credentials_path = data / "demo-credentials.json"
    assert credentials_path.stat().st_mode & 0o777 == 0o600
    credentials = json.loads(credentials_path.read_text(encoding="utf-8"))
    tokens = credentials["apiTokens"]
    identifiers = [subject["identifier"] for subject in credentials["subjects"]]
    with httpx.Client(base_url=base, timeout=60) as http:
        assert http.get("/v1/ready").json()["status"] == "ready"
        assert http.get("/v1/whoami", headers=bearer(tokens["admin"])).json() == {"role": "admin"}
        departments = http.get("/v1/departments").json()["items"]
        assert len(departments) == 8
        for department_id, token in tokens["departments"].items():
            who = http.get("/v1/whoami", headers=bearer(token)).json()
            assert who["departmentId"] == int(department_id)
            listing = http.get(
                f"/v1/departments/{department_id}/certificates", headers=bearer(token)
            )
            assert listing.status_code == 200
        listed = sum(
            len(http.get(f"/v1/departments/{d}/certificates", headers=bearer(t)).json()["items"])
            for d, t in tokens["departments"].items()
        )
        assert listed >= 14
        with_events = [s for s in credentials["subjects"] if s["creditEvents"]]
        assert with_events
        for subject in with_events:
            login = http.post("/v1/dev/token", json={"subject": subject["identifier"]})
            assert login.status_code == 200
            history = http.get("/v1/me/credit", headers=bearer(login.json()["token"])).json()
            assert len(history["events"]) == len(subject["creditEvents"])
        bundles = [bundle for s in credentials["subjects"] for bundle in s["bundles"]]
        assert [bundle["complete"] for bundle in bundles] == [True, False]
        for bundle in bundles:
            report = http.get(f"/v1/bundles/{bundle['bundleId']}/verification").json()
            assert report["verdict"] == ("VALID" if bundle["complete"] else "INVALID")
            failed = [c["name"] for c in report["checks"] if c["outcome"] == "failed"]
            assert failed == ([] if bundle["complete"] else ["bundle.parts"])
        for page in ("/", "/services", "/citizen", "/console"):
            response = http.get(page)
            assert response.status_code == 200, page
            assert "text/html" in response.headers["content-type"]
    served_log = log.read_text(encoding="utf-8", errors="replace")
    # The access log, as docs/operations.md shows it: request id, request line, status, time,
    # and no client address.
    access = ACCESS_LINE.findall(served_log)
    assert ("GET", "/v1/health", "200") in access
    assert ("GET", "/console", "200") in access
    lines = [line for line in served_log.splitlines() if " api.access: " in line]
    assert len(lines) == len(access)
    assert not [line for line in lines if "127.0.0.1" in line]
    for identifier in identifiers:
        assert identifier not in served_log
        assert identifier.lower() not in served_log


def test_demo_window_flow_is_seeded(demo: tuple[str, Path, Path, float]) -> None:
    """The window without paper as `make demo` leaves it (scripts/demo_window.py): the forged
    title recorded as false information and disputed, the window's token taking a new consent
    through the real service with a check from another region, the access log anchored; and
    no identity number or name of the demo people in the service database or the seed's
    output."""
    base, data, _log, _elapsed = demo
    credentials = json.loads((data / "demo-credentials.json").read_text(encoding="utf-8"))
    window = credentials["window"]
    [citizen] = [s for s in credentials["subjects"] if s["label"] == window["citizen"]]
    recorded = window["recorded"]
    assert Path(window["forgedToTry"]).is_file()
    with httpx.Client(base_url=base, timeout=60) as http:
        login = http.post("/v1/dev/token", json={"subject": citizen["identifier"]})
        me = bearer(login.json()["token"])
        history = http.get("/v1/me/credit", headers=me).json()
        [event] = [e for e in history["events"] if e["eventId"] == recorded["eventId"]]
        assert (event["category"], event["amendment"]) == ("false-information", "disputed")
        assert event["departmentId"] == window["department"]["departmentId"]
        assert event["evidenceHash"] == recorded["evidenceHash"]
        assert event["evidenceCid"]
        assert event["resolveBy"]

        # The seeded visit is in the access log, anchored, with a proof.
        items = http.get("/v1/me/access-log", headers=me).json()["items"]
        anchored = [item for item in items if item["anchored"]]
        assert {item["action"] for item in anchored} >= {
            "consent.granted",
            "consent.used",
            "window.check",
            "document.read",
            "document.verified",
            "credit.false-information",
        }
        assert {item["window"] for item in anchored} == {"", window["label"]}
        proof = http.get(f"/v1/me/access-log/{anchored[0]['seq']}/proof", headers=me)
        assert proof.status_code == 200, proof.text

        # The window's token takes a new consent: every type VALID, one from another region.
        whoami = http.get("/v1/whoami", headers=bearer(window["token"])).json()
        assert whoami["departmentId"] == window["department"]["departmentId"]
        body = {"service": window["service"], "departmentId": whoami["departmentId"]}
        granted = http.post("/v1/me/consents", headers=me, json=body)
        assert granted.status_code == 201, granted.text
        checked = http.post(
            "/v1/window/checks",
            headers=bearer(window["token"]),
            json={"code": granted.json()["code"]},
        )
        assert checked.status_code == 200, checked.text
        check = checked.json()
        assert check["missing"] == []
        reports = [c["report"] for r in check["requirements"] for c in r["certificates"]]
        assert {report["verdict"] for report in reports} == {"VALID"}
        regions = {report["record"]["region"] for report in reports}
        assert whoami["region"] in regions
        assert len(regions) > 1
        copies = [c for r in check["requirements"] for c in r["certificates"] if c["storedCopy"]]
        assert copies

    # Privacy: the demo people's identifiers and names are in the credentials file only.
    people = [s for s in credentials["subjects"] if s["kind"] == "citizen"]
    searched = needles(
        tuple(s["identifier"] for s in people), tuple(s["name"] for s in credentials["subjects"])
    )
    database = Settings(data_dir=data).service_db_path
    for path in (database, database.with_name(database.name + "-wal")):
        if path.exists():
            assert find(searched, path.read_bytes()) == [], path.name
    everyone = needles(tuple(s["identifier"] for s in credentials["subjects"]))
    seed_log = (data.parent / "seed.log").read_bytes()
    assert b"window" in seed_log
    assert find(everyone, seed_log) == []
    assert find(searched, seed_log) == []


def test_demo_reseeding_keeps_the_window(demo: tuple[str, Path, Path, float]) -> None:
    """A second seed on the seeded directory records no second forgery, files no second
    dispute, anchors nothing new and keeps the window's token."""
    _base, data, _log, _elapsed = demo
    first = json.loads((data.parent / "first-credentials.json").read_text(encoding="utf-8"))
    now = json.loads((data / "demo-credentials.json").read_text(encoding="utf-8"))
    assert now["window"]["token"] == first["window"]["token"]
    assert now["window"]["recorded"] == first["window"]["recorded"]
    [citizen] = [s for s in now["subjects"] if s["label"] == now["window"]["citizen"]]
    assert [e["eventId"] for e in citizen["creditEvents"]].count(
        now["window"]["recorded"]["eventId"]
    ) == 1
    again = (data.parent / "reseed.log").read_text(encoding="utf-8")
    assert "(0 new, 2 already anchored)" in again
    assert "already recorded, already disputed" in again
    assert "nothing new to anchor" in again
