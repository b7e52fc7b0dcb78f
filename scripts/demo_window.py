"""Seed the window without paper (一窗受理, issue 15): a consent flow ready to try, one forged
submission recorded and disputed, and the access log anchored once.

Called by ``scripts/seed_demo.py`` after the chain is seeded. Everything here goes through the
service's own routes, in process (the real app and its lifespan, as ``ledger serve`` runs it):
the certificates are anchored with their stored copies by ``POST /v1/certificates``, the consent
is granted and taken by the window, the window's check and stored-copy read, the forged upload's
verification and false-information report, the citizen's dispute and the access log's anchoring
are each one request, so the demo state is what the same steps on the pages leave behind
(consents, access log, evidence vault, write journal), never rows or transactions made here.

Running it again changes nothing that is already there: the certificates are anchored only when
the chain does not know them, and the forged submission only when the citizen's credit history
has no event with its evidence hash (a dispute still missing is filed). What it keeps (the
window's token among them) goes into the credentials file; standard output shows counts only.
"""

# Chinese text is set with full-width punctuation (commas, colons, brackets), which RUF001
# flags as ambiguous.
# ruff: noqa: RUF001

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Final

import httpx
from demo_data import DEPARTMENT_BY_ID, REGIONS, SUBJECT_BY_LABEL, CertificateSpec
from demo_documents import DocumentFolder, StoredDocument, certificate_bytes, iso
from eth_utils.crypto import keccak

from api.app import create_app
from ledger.config import Settings
from ledger.errors import ConfigurationError
from ledger.service.database import ServiceDatabase
from ledger.service.tokens import TokenStore

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

#: The receiving department (accredited for false-information) and its window's token label.
WINDOW_DEPARTMENT: Final = 110001
WINDOW_LABEL: Final = "朝阳区政务服务中心 3号窗口"
#: The service applied for: requires an identity card, accepts a title or residence certificate
#: (both readable as stored copies), for citizens (ledger/data/services.toml).
SERVICE: Final = "individual-business-registration"
#: The applicant: 示例 张三, a Beijing resident with a Shenzhen residence certificate.
CITIZEN: Final = "C1"
#: Anchored through the API with stored copies: the identity card by Beijing's public security
#: (the service's required type, same region as the window) and a Shanghai flat's title (an
#: accepted type from another region, whose stored copy the window reads).
WINDOW_CERTIFICATES: Final = (
    CertificateSpec(
        "C1-identity-card",
        CITIZEN,
        "identity-card",
        110003,
        valid_days=20 * 365,
        details=(("address", "北京市东城区示例胡同 9 号（虚构）"),),
    ),
    CertificateSpec(
        "C1-real-estate-certificate",
        CITIZEN,
        "real-estate-certificate",
        310003,
        details=(
            ("location", "上海市徐汇区示例路 8 号 801 室（虚构）"),
            ("area", "89.50 平方米"),
            ("use", "住宅"),
        ),
    ),
)
#: The title's bytes altered: the first recorded as false information by the seed, the second
#: left for the README tour's window officer to verify and record.
FORGED_RECORDED: Final = "window/C1-real-estate-certificate-forged.json"
FORGED_TO_TRY: Final = "window/C1-real-estate-certificate-altered.json"
_AREA: Final = b"89.50"
_FORGED_AREAS: Final = {FORGED_RECORDED: b"189.50", FORGED_TO_TRY: b"289.50"}


@dataclass
class WindowTally:
    """What this run did for the window, and what it found already done."""

    certificates_new: int = 0
    certificates_existing: int = 0
    forgery_new: bool = False
    dispute_new: bool = False
    anchored: dict[str, Any] | None = None
    entries: int = 0


@dataclass
class WindowResult:
    """The credentials file's ``window`` section and the counts for the summary."""

    section: dict[str, Any]
    tally: WindowTally = field(default_factory=WindowTally)


def window_token(settings: Settings, previous: Mapping[str, Any]) -> str:
    """The window's department token (label :data:`WINDOW_LABEL`): an earlier run's while it
    still authenticates for the department, else a new one (the service keeps only hashes)."""
    with ServiceDatabase(settings.service_db_path) as database:
        store = TokenStore(database)
        token = previous.get("token")
        if isinstance(token, str):
            record = store.authenticate(token)
            if record and record.department_id == WINDOW_DEPARTMENT:
                return token
        return store.issue("department", WINDOW_DEPARTMENT, label=WINDOW_LABEL).secret


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class _Client:
    """Requests to the in-process service; a refusal ends the seeding with its problem."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def call(self, method: str, url: str, *expected: int, **kwargs: Any) -> httpx.Response:
        response: httpx.Response = self.client.request(method, url, **kwargs)
        if response.status_code not in expected:
            # The problem's code and title only: its detail is the service's, never an identifier.
            problem = response.json() if response.content else {}
            raise ConfigurationError(
                f"{method} {url} answered {response.status_code} "
                f"{problem.get('code', '')}: {problem.get('title', '')}"
            )
        return response


def _forged(original: bytes, relative: str, _dates: Mapping[str, str | None]) -> bytes:
    """The title with its area changed: it parses as the original does, its hash is anchored
    nowhere, so the window finds it INVALID and forgery suspected."""
    forged = original.replace(_AREA, _FORGED_AREAS[relative], 1)
    if forged == original:
        raise ConfigurationError("the demo title has no area to alter")
    return forged


def _section(
    stored: Mapping[str, StoredDocument], forged: Mapping[str, StoredDocument], token: str
) -> dict[str, Any]:
    department = DEPARTMENT_BY_ID[WINDOW_DEPARTMENT]
    return {
        "note": "The window without paper: README.md's tour, docs/guide-*.md (window sections).",
        "service": SERVICE,
        "citizen": CITIZEN,
        "department": {
            "departmentId": WINDOW_DEPARTMENT,
            "name": department.name,
            "regionName": REGIONS[department.region],
        },
        "label": WINDOW_LABEL,
        "token": token,
        "certificates": [
            {
                "name": spec.name,
                "type": spec.type_name,
                "department": spec.department_id,
                "path": str(stored[spec.name].path),
                "hash": "0x" + stored[spec.name].digest.hex(),
            }
            for spec in WINDOW_CERTIFICATES
        ],
        "forgedToTry": str(forged[FORGED_TO_TRY].path),
    }


@dataclass
class _Flow:
    """One consent's visit at the window, driven through the routes."""

    api: _Client
    departments: Mapping[str, str]
    citizen: dict[str, str]
    window: dict[str, str]
    tally: WindowTally

    def anchor(self, spec: CertificateSpec, document: StoredDocument, holder: str) -> None:
        """Anchor one certificate with its stored copy unless the chain has it."""
        shown = "0x" + document.digest.hex()
        if self.api.client.get(f"/v1/certificates/{shown}").status_code == 200:
            self.tally.certificates_existing += 1
            return
        token = self.departments[str(spec.department_id)]
        fields = {"type": spec.type_name, "subject": holder, "subjectKind": "citizen"}
        if document.dates.get("validUntil"):
            fields["expiresAt"] = str(document.dates["validUntil"])
        self.api.call(
            "POST",
            "/v1/certificates",
            201,
            headers=_bearer(token),
            files={"file": ("certificate.json", document.path.read_bytes(), "application/json")},
            data=fields,
        )
        self.tally.certificates_new += 1

    def event_of(self, evidence: bytes) -> dict[str, Any] | None:
        """The citizen's event whose evidence is ``evidence``, if one was recorded."""
        wanted = "0x" + keccak(evidence).hex()
        history = self.api.call("GET", "/v1/me/credit", 200, headers=self.citizen).json()
        found = [event for event in history["events"] if event.get("evidenceHash") == wanted]
        return found[0] if found else None

    def visit(self, title: StoredDocument, forged: bytes) -> str:
        """Consent, the window's check, the stored copy, the forged upload verified and recorded:
        the event's id."""
        body = {"service": SERVICE, "departmentId": WINDOW_DEPARTMENT, "mode": "visit"}
        granted = self.api.call("POST", "/v1/me/consents", 201, headers=self.citizen, json=body)
        code = granted.json()["code"]
        check = self.api.call(
            "POST", "/v1/window/checks", 200, headers=self.window, json={"code": code}
        ).json()
        if check["missing"]:
            raise ConfigurationError(f"the window's check misses {', '.join(check['missing'])}")
        consent = check["consentId"]
        shown = "0x" + title.digest.hex()
        self.api.call(
            "GET", f"/v1/window/consents/{consent}/documents/{shown}", 200, headers=self.window
        )
        upload = {"file": ("upload.json", forged, "application/json")}
        verified = self.api.call(
            "POST",
            f"/v1/window/consents/{consent}/verifications",
            200,
            headers=self.window,
            files=upload,
        ).json()
        if not verified["forgerySuspected"]:
            raise ConfigurationError("the forged demo title is not suspected of forgery")
        recorded = self.api.call(
            "POST",
            f"/v1/window/consents/{consent}/false-information",
            201,
            headers=self.window,
            files=upload,
            data={"reason": "altered-document", "confirm": "true"},
        )
        self.tally.forgery_new = True
        return str(recorded.json()["eventId"])

    def dispute(self, event_id: str) -> None:
        reason = "提交的不动产权证书为本人从网上下载的原件，面积未作改动（演示异议）"
        self.api.call(
            "POST",
            f"/v1/credit/events/{event_id}/dispute",
            200,
            headers=self.citizen,
            json={"reason": reason},
        )
        self.tally.dispute_new = True


def _documents(
    folder: DocumentFolder, today: date
) -> tuple[dict[str, StoredDocument], dict[str, StoredDocument]]:
    """The window's certificates and the two forged titles, written once and reused."""
    citizen = SUBJECT_BY_LABEL[CITIZEN]
    stored = {
        spec.name: folder.ensure(
            f"window/{spec.name}.json",
            {
                "issuedOn": today.isoformat(),
                "validUntil": iso(today + timedelta(days=spec.valid_days))
                if spec.valid_days
                else None,
            },
            functools.partial(certificate_bytes, spec, citizen),
        )
        for spec in WINDOW_CERTIFICATES
    }
    original = stored["C1-real-estate-certificate"].path.read_bytes()
    forged = {
        relative: folder.ensure(relative, {}, functools.partial(_forged, original, relative))
        for relative in _FORGED_AREAS
    }
    return stored, forged


def seed_window(
    settings: Settings, folder: DocumentFolder, today: date, credentials: dict[str, Any]
) -> WindowResult:
    """Bring the window workflow to the demo state through the service (see the module)."""
    tokens = credentials["apiTokens"]
    token = window_token(settings, credentials.get("window") or {})
    citizen = SUBJECT_BY_LABEL[CITIZEN]
    stored, forged = _documents(folder, today)
    title = stored["C1-real-estate-certificate"]
    result = WindowResult(_section(stored, forged, token))
    # Every write waits for its confirmation (a 202 would leave the flow half done).
    app = create_app(settings.model_copy(update={"dev_issuer": True, "write_wait": 60.0}))
    with warnings.catch_warnings():
        # Starlette's notice that its test client will move off httpx says nothing to the demo.
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    with TestClient(app, raise_server_exceptions=True) as client:
        api = _Client(client)
        login = api.call("POST", "/v1/dev/token", 200, json={"subject": citizen.identifier})
        citizen_auth = _bearer(login.json()["token"])
        flow = _Flow(api, tokens["departments"], citizen_auth, _bearer(token), result.tally)
        for spec in WINDOW_CERTIFICATES:
            flow.anchor(spec, stored[spec.name], citizen.identifier)
        for entry in result.section["certificates"]:
            entry["status"] = api.call("GET", f"/v1/certificates/{entry['hash']}", 200).json()[
                "status"
            ]
        evidence = forged[FORGED_RECORDED].path.read_bytes()
        event = flow.event_of(evidence)
        event_id = event["eventId"] if event else flow.visit(title, evidence)
        if event is None or event["amendment"] == "none":
            flow.dispute(event_id)
        anchoring = api.call(
            "POST", "/v1/access-log/anchors", 200, headers=_bearer(tokens["admin"])
        ).json()
        result.tally.anchored = anchoring.get("batch")
        log = api.call("GET", "/v1/me/access-log", 200, headers=flow.citizen).json()
        result.tally.entries = len(log["items"])
    result.section["recorded"] = {
        "eventId": event_id,
        "forgedDocument": str(forged[FORGED_RECORDED].path),
        "evidenceHash": "0x" + keccak(evidence).hex(),
        "disputed": True,
    }
    return result


def window_summary(tally: WindowTally) -> list[str]:
    """The summary's lines for the window: what was done, then the tour's steps (no
    identifier: the citizen is named by label, the token is in the credentials file)."""
    department = DEPARTMENT_BY_ID[WINDOW_DEPARTMENT].name
    forgery = "recorded now" if tally.forgery_new else "already recorded"
    dispute = "disputed now" if tally.dispute_new else "already disputed"
    batch = tally.anchored
    anchored = (
        f"entries {batch['firstSeq']}-{batch['lastSeq']} anchored now"
        if batch
        else "nothing new to anchor"
    )
    return [
        f"  window         个体工商户登记 ({SERVICE}) at {department}, "
        f'token "{WINDOW_LABEL}" (credentials: window.token)',
        f"                 {len(WINDOW_CERTIFICATES)} certificates of {CITIZEN} with stored copies "
        f"({tally.certificates_new} new, {tally.certificates_existing} already anchored)",
        f"                 a forged title as false information: {forgery}, {dispute}",
        f"                 access log: {tally.entries} entries of {CITIZEN}; {anchored}",
        "  try the window (README.md, 'The window without paper'):",
        f"    1. /citizen on a phone, 演示身份认证 as {CITIZEN} (its identifier: subjects[] in "
        f"the credentials file); 办理事项: 个体工商户登记, {department}; 授权并生成授权码",
        "    2. /console, 连接部门账户 with window.token; 窗口受理: the code; identity card "
        "(北京市) and title (上海市, another region) VALID; open the title's stored copy",
        f"    3. 核验申请人提交的材料: demo-documents/{FORGED_TO_TRY}: INVALID, forgery "
        "suspected; 记录虚假信息",
        "    4. /citizen again: 我的信用记录 (the seeded event already disputed; dispute the new "
        "one), 查询记录: check an entry against the chain",
    ]


def attach(credentials: dict[str, Any], result: WindowResult) -> None:
    """Write the window's section into the credentials document, and list its certificates and
    event with the citizen's own (``subjects[]``), so a subject's entry stays the whole of what
    was seeded for it."""
    credentials["window"] = result.section
    [entry] = [s for s in credentials["subjects"] if s["label"] == CITIZEN]
    known = {document["name"] for document in entry["documents"]}
    entry["documents"] += [
        certificate
        for certificate in result.section["certificates"]
        if certificate["name"] not in known
    ]
    recorded = result.section["recorded"]
    entry["creditEvents"].append(
        {
            "name": f"{CITIZEN}-false-information-at-the-window",
            "eventId": recorded["eventId"],
            "category": "false-information",
            "polarity": "negative",
            "department": WINDOW_DEPARTMENT,
            "evidence": {"path": recorded["forgedDocument"], "hash": recorded["evidenceHash"]},
            "amendments": [{"status": "disputed"}],
        }
    )
