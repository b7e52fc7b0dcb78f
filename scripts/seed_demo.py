"""Seed an initialized ledger with demo data: departments, certificates and credit events.

Run: ``python scripts/seed_demo.py --data-dir DIR`` after ``ledger --data-dir DIR init`` (``make
demo`` does both). Running it again changes nothing that is already there: departments, anchors,
status changes, credit events and amendments are each checked on chain before they are sent.

What is seeded (all synthetic) is in ``scripts/demo_data.py``; this module is how, on the chain;
``scripts/demo_window.py`` then seeds the window without paper through the service itself. The
documents go to ``DIR/demo-documents/`` (``scripts/demo_documents.py``); which subject holds which
document, with the identifiers, goes to ``DIR/demo-credentials.json`` (mode 0600) and nowhere
else: standard output shows counts and the window's tour, subjects by label only.
"""

# Chinese text is set with full-width punctuation (commas, colons, brackets), which RUF001
# flags as ambiguous.

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from demo_data import (
    BUNDLE_DAYS,
    BUNDLES,
    CERTIFICATE_BY_NAME,
    CERTIFICATES,
    CREDIT_EVENTS,
    DEPARTMENT_BY_ID,
    DEPARTMENTS,
    REGIONS,
    SUBJECT_BY_LABEL,
    SUBJECTS,
    BundleSpec,
    CertificateSpec,
    CreditSpec,
    DepartmentSpec,
    SubjectSpec,
)
from demo_documents import (
    DocumentFolder,
    StoredDocument,
    amendment_bytes,
    certificate_bytes,
    credit_bytes,
    iso,
)
from demo_window import WindowTally, attach, seed_window, window_summary

from ledger.catalogue import (
    CREDIT_CATEGORIES,
    ReasonCode,
    certificate_type,
    credit_category,
)
from ledger.chain.transactions import TransactionSender
from ledger.cli.departments import add_department
from ledger.config import Settings
from ledger.contracts import (
    CertificateStatus,
    CreditLedgerClient,
)
from ledger.errors import (
    CertificateRegistryAlreadyAnchored,
    ConfigurationError,
    CreditLedgerDuplicateEvent,
    DepartmentRegistryDuplicateDepartment,
    LedgerError,
)
from ledger.files import write_atomically
from ledger.identity import SubjectKind
from ledger.parsing import CHINA_STANDARD_TIME, deadline_of, end_of_day, start_of_day
from ledger.service.database import ServiceDatabase
from ledger.service.tokens import TokenStore
from ledger.session import LedgerSession
from ledger.writes.bundles import file_part, open_bundle

DOCUMENTS_DIR: Final = "demo-documents"
CREDENTIALS_FILE: Final = "demo-credentials.json"
#: Dates on certificates are civil dates in China (UTC+8), as in ``ledger anchor --expires``.
CST: Final = CHINA_STANDARD_TIME

# ----------------------------------------------------------------------------------------------
# Seeding
# ----------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What this run did, and what it found already done."""

    departments_new: int = 0
    departments_existing: int = 0
    scopes_granted: int = 0
    disclosure_set: int = 0
    disclosure_existing: int = 0
    anchored_new: int = 0
    anchored_existing: int = 0
    revoked_new: int = 0
    superseded_new: int = 0
    credit_new: int = 0
    credit_existing: int = 0
    amendments_new: int = 0
    bundles_new: int = 0
    bundles_existing: int = 0
    parts_filed: int = 0


@dataclass
class Seeder:
    """Brings one ledger to the demo state, step by step, skipping what is already there."""

    session: LedgerSession
    folder: DocumentFolder
    today: date
    tally: Tally = field(default_factory=Tally)
    documents: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    credit_events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    bundles: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _senders: dict[int, TransactionSender] = field(default_factory=dict)
    _refs: dict[str, bytes] = field(default_factory=dict)

    def sender(self, department_id: int) -> TransactionSender:
        """The department's signing key (unlocked once per run)."""
        if department_id not in self._senders:
            self._senders[department_id] = self.session.department_sender(department_id)
        return self._senders[department_id]

    def subject_ref(self, label: str) -> bytes:
        """HMAC subject reference of a demo subject."""
        if label not in self._refs:
            spec = SUBJECT_BY_LABEL[label]
            self._refs[label] = self.session.subject_ref(spec.identifier, spec.kind)
        return self._refs[label]

    # -- governance ---------------------------------------------------------------------------

    def departments(self) -> None:
        """Register each department with a signing key, or complete one left half-done."""
        registry = self.session.registry()
        for spec in DEPARTMENTS:
            codes = spec.scope_codes()
            record = registry.department(spec.department_id)
            if record is None:
                try:
                    add_department(self.session, spec.department_id, spec.region, spec.name, codes)
                    self.tally.departments_new += 1
                    continue
                except DepartmentRegistryDuplicateDepartment:
                    record = registry.department(spec.department_id)
                    if record is None:
                        raise
            self.tally.departments_existing += 1
            if record.region != spec.region:
                raise ConfigurationError(
                    f"department {spec.department_id} is already registered for region "
                    f"{record.region}, not {spec.region}; seed a fresh data directory"
                )
            governance = self.session.governance_sender()
            missing = [
                code for code in codes if code not in set(registry.scopes(spec.department_id))
            ]
            if missing:
                governance.transact(registry.grant_scopes(spec.department_id, missing))
                self.tally.scopes_granted += len(missing)
            if not registry.signers(spec.department_id):
                # An earlier run stopped between registering and accrediting the first key.
                account = self.session.keystore.create_department_key(spec.department_id)
                governance.transact(registry.add_signer(spec.department_id, account.address))

    def disclosure_periods(self) -> None:
        """Governance sets each category's public disclosure period from the catalogue.

        ``ledger init`` sets them when it deploys (ADR 0020), so on a fresh data directory this
        only checks them; a directory initialized before that gets them here."""
        credit = self.session.credit()
        governance: TransactionSender | None = None
        for category in CREDIT_CATEGORIES:
            seconds = category.disclosure_days * 86_400
            if credit.disclosure_period(category.code) == seconds:
                self.tally.disclosure_existing += 1
                continue
            governance = governance or self.session.governance_sender()
            governance.transact(credit.set_disclosure_period(category.code, seconds))
            self.tally.disclosure_set += 1

    # -- certificates -------------------------------------------------------------------------

    def certificates(self) -> None:
        """Anchor every demo certificate for its holder; revoke and supersede as planned."""
        for spec in CERTIFICATES:
            subject = SUBJECT_BY_LABEL[spec.holder]
            valid_until = self.today + timedelta(days=spec.valid_days) if spec.valid_days else None
            suffix = ".json" if certificate_type(spec.type_name).personal else ".txt"
            stored = self.folder.ensure(
                f"certificates/{spec.name}{suffix}",
                {"issuedOn": self.today.isoformat(), "validUntil": iso(valid_until)},
                functools.partial(certificate_bytes, spec, subject),
            )
            self._anchor(spec, stored)
            self.documents.setdefault(spec.holder, []).append(
                {
                    "name": spec.name,
                    "type": spec.type_name,
                    "department": spec.department_id,
                    "path": str(stored.path),
                    "hash": "0x" + stored.digest.hex(),
                }
            )

    def _anchor(self, spec: CertificateSpec, stored: StoredDocument) -> None:
        certificates = self.session.certificates()
        sender = self.sender(spec.department_id)
        kind = certificate_type(spec.type_name)
        region = spec.region or DEPARTMENT_BY_ID[spec.department_id].region
        expiry = stored.dates.get("validUntil")
        expires_at = end_of_day(date.fromisoformat(expiry)) if expiry else None
        holder = self.subject_ref(spec.holder)
        if certificates.certificate(stored.digest) is not None:
            self.tally.anchored_existing += 1
        elif spec.supersedes is not None:
            old = self._anchored_hash(spec.supersedes)
            current = certificates.certificate(old)
            if current is None or current.status not in (
                CertificateStatus.ACTIVE,
                CertificateStatus.SUSPENDED,
            ):
                raise ConfigurationError(f"{spec.supersedes} cannot be superseded any more")
            sender.transact(
                certificates.supersede(
                    old, stored.digest, ReasonCode.RENEWAL, expires_at, subject_ref=holder
                )
            )
            self.tally.anchored_new += 1
            self.tally.superseded_new += 1
        else:
            try:
                sender.transact(
                    certificates.anchor(
                        stored.digest, kind.code, region, expires_at, subject_ref=holder
                    )
                )
                self.tally.anchored_new += 1
            except CertificateRegistryAlreadyAnchored:
                self.tally.anchored_existing += 1
        if spec.revoke is not None:
            record = certificates.certificate(stored.digest)
            if record is not None and record.status is CertificateStatus.ACTIVE:
                sender.transact(certificates.revoke(stored.digest, spec.revoke))
                self.tally.revoked_new += 1

    def _anchored_hash(self, name: str) -> bytes:
        for documents in self.documents.values():
            for entry in documents:
                if entry["name"] == name:
                    return bytes.fromhex(str(entry["hash"])[2:])
        raise ConfigurationError(f"{name} must be anchored before it can be superseded")

    # -- credit -------------------------------------------------------------------------------

    def credit(self) -> None:
        """Record each credit event and bring its amendments up to date."""
        for spec in CREDIT_EVENTS:
            subject = SUBJECT_BY_LABEL[spec.subject]
            evidence = self.folder.ensure(
                f"evidence/{spec.name}.txt",
                {"occurredOn": (self.today - timedelta(days=spec.days_ago)).isoformat()},
                functools.partial(credit_bytes, spec, subject),
            )
            sender = self.sender(spec.department_id)
            event_id, done = self._record(sender, spec, evidence)
            decisions = self._amend(sender, spec, event_id, done)
            self.credit_events.setdefault(spec.subject, []).append(
                {
                    "name": spec.name,
                    "eventId": "0x" + event_id.hex(),
                    "category": credit_category(spec.category).name,
                    "polarity": spec.polarity.name.lower(),
                    "severity": spec.severity,
                    "department": spec.department_id,
                    "evidence": {"path": str(evidence.path), "hash": "0x" + evidence.digest.hex()},
                    "amendments": [
                        {"status": status.name.lower(), "decision": path}
                        for status, path in zip(spec.amendments, decisions, strict=True)
                    ],
                }
            )

    def _record(
        self, sender: TransactionSender, spec: CreditSpec, evidence: StoredDocument
    ) -> tuple[bytes, int]:
        """Record the event unless it is on chain: its id, and how many amendments it has."""
        occurred_at = start_of_day(date.fromisoformat(str(evidence.dates["occurredOn"])))
        category = credit_category(spec.category)
        reference = self.subject_ref(spec.subject)
        event_id = CreditLedgerClient.event_id(
            reference, category.code, occurred_at, evidence.digest
        )
        credit = self.session.credit()
        event = credit.event(event_id)
        if event is not None:
            self.tally.credit_existing += 1
            return event_id, event.amendment_count
        try:
            sender.transact(
                credit.record(
                    reference,
                    category.code,
                    spec.polarity,
                    spec.severity,
                    occurred_at,
                    evidence.digest,
                )
            )
            self.tally.credit_new += 1
        except CreditLedgerDuplicateEvent:
            self.tally.credit_existing += 1
        return event_id, 0

    def _amend(
        self, sender: TransactionSender, spec: CreditSpec, event_id: bytes, done: int
    ) -> list[str]:
        """Send the planned amendments after the first ``done``: the decision documents' paths."""
        decisions: list[str] = []
        for step, status in enumerate(spec.amendments):
            decided = self.today - timedelta(days=max(spec.days_ago - 20 * (step + 1), 0))
            reason = self.folder.ensure(
                f"decisions/{spec.name}-{step + 1}-{status.name.lower()}.txt",
                {"decidedOn": decided.isoformat()},
                functools.partial(amendment_bytes, spec, status),
            )
            decisions.append(str(reason.path))
            if step >= done:
                sender.transact(self.session.credit().amend(event_id, status, reason.digest))
                self.tally.amendments_new += 1
        return decisions

    # -- joint licensing ----------------------------------------------------------------------

    def joint_licensing(self) -> None:
        """Open each demo bundle (once: an earlier run's is found by its enterprise, lead and
        parts) and file the parts it plans to have filed."""
        reader = self.session.bundles()
        for spec in BUNDLES:
            holder = SUBJECT_BY_LABEL[spec.holder]
            needed = [self._part(name) for name in spec.parts]
            bundle_id = self._existing_bundle(spec, needed)
            if bundle_id is None:
                deadline = deadline_of(self.today + timedelta(days=BUNDLE_DAYS))
                opening = open_bundle(self.session, spec.lead, holder.identifier, deadline, needed)
                self.sender(spec.lead).transact(opening.function)
                bundle_id = opening.facts.bundle_id
                self.tally.bundles_new += 1
            else:
                self.tally.bundles_existing += 1
            bundle = reader.bundle(bundle_id)
            if bundle is None:
                raise ConfigurationError(f"bundle {spec.name} was opened but cannot be read")
            for index, name in enumerate(spec.parts):
                if name in spec.filed and bundle.parts[index].doc_hash is None:
                    department = CERTIFICATE_BY_NAME[name].department_id
                    filing = file_part(
                        self.session, department, bundle_id, index, self._anchored_hash(name)
                    )
                    self.sender(department).transact(filing.function)
                    self.tally.parts_filed += 1
            self.bundles.setdefault(spec.holder, []).append(
                {
                    "name": spec.name,
                    "bundleId": "0x" + bundle_id.hex(),
                    "lead": spec.lead,
                    "parts": list(spec.parts),
                    "complete": reader.is_complete(bundle_id),
                }
            )

    def _part(self, name: str) -> tuple[int, int]:
        spec = CERTIFICATE_BY_NAME[name]
        return spec.department_id, certificate_type(spec.type_name).code

    def _existing_bundle(self, spec: BundleSpec, needed: list[tuple[int, int]]) -> bytes | None:
        reader = self.session.bundles()
        for bundle_id in reader.opened_for(self.subject_ref(spec.holder)):
            bundle = reader.bundle(bundle_id)
            if bundle is None or bundle.lead != spec.lead:
                continue
            if [(part.department_id, part.cert_type) for part in bundle.parts] == needed:
                return bundle_id
        return None

    # -- the credentials file -----------------------------------------------------------------

    def credentials(self) -> dict[str, Any]:
        """Everything a demo user needs to act as a department or look up a subject."""
        deployment = self.session.deployment
        departments = [self._department_entry(spec) for spec in DEPARTMENTS]
        subjects = [self._subject_entry(subject) for subject in SUBJECTS]
        return {
            "note": (
                "Synthetic demo data: every identifier was generated with a valid check character "
                "and belongs to no one. Keep this file private anyway (mode 0600): it maps "
                "identifiers to subject references and holds the demo API tokens."
            ),
            "apiTokens": None,
            "citizenLogin": {
                "page": "/citizen",
                "how": (
                    "The demo runs the development identity provider (LEDGER_DEV_ISSUER): on the "
                    "citizen page, type the identifier of one of the subjects below, or POST "
                    '{"subject": IDENTIFIER} to /v1/dev/token for a bearer token.'
                ),
            },
            "generatedAt": datetime.now(UTC).isoformat(timespec="seconds"),
            "chain": {
                "chainId": deployment.chain_id,
                "location": self.session.connection.location,
                "DepartmentRegistry": deployment.department_registry,
                "CertificateRegistry": deployment.certificate_registry,
                "CreditLedger": deployment.credit_ledger,
                "LicenceBundles": deployment.licence_bundles,
                "AccessLogAnchors": deployment.access_log,
            },
            "governanceKey": self.session.keystore.governance().address,
            "departments": departments,
            "subjects": subjects,
        }

    def _department_entry(self, spec: DepartmentSpec) -> dict[str, Any]:
        """A department as the credentials file shows it, with its keys on chain and on disk."""
        return {
            "departmentId": spec.department_id,
            "name": spec.name,
            "kind": spec.kind,
            "region": spec.region,
            "regionName": REGIONS[spec.region],
            "scopes": list(spec.scopes),
            "activeKeys": self.session.registry().signers(spec.department_id),
            "localKeys": [
                record.address
                for record in self.session.keystore.department_keys(spec.department_id)
            ],
        }

    def _subject_entry(self, subject: SubjectSpec) -> dict[str, Any]:
        """A subject with what it holds: documents (with their status now), events, bundles."""
        reader = self.session.certificates()
        documents = []
        for entry in self.documents.get(subject.label, []):
            record = reader.certificate(bytes.fromhex(str(entry["hash"])[2:]))
            status = record.status.name.lower() if record else "not anchored"
            documents.append({**entry, "status": status})
        return {
            "label": subject.label,
            "name": subject.name,
            "kind": subject.kind.value,
            "identifier": subject.identifier,
            "subjectRef": "0x" + self.subject_ref(subject.label).hex(),
            "documents": documents,
            "creditEvents": self.credit_events.get(subject.label, []),
            "bundles": self.bundles.get(subject.label, []),
        }


def demo_tokens(settings: Settings, credentials: Path) -> dict[str, Any]:
    """The admin token and one token per demo department.

    Only hashes are kept by the service, so a token cannot be shown again: tokens of an earlier
    run are read back from the credentials file and kept while they still authenticate; missing
    or revoked ones are issued anew.
    """
    try:
        previous = json.loads(credentials.read_text(encoding="utf-8")).get("apiTokens") or {}
    except (OSError, ValueError, AttributeError):
        previous = {}
    with ServiceDatabase(settings.service_db_path) as database:
        store = TokenStore(database)

        def valid(token: object, department_id: int | None) -> str | None:
            if not isinstance(token, str):
                return None
            record = store.authenticate(token)
            return token if record and record.department_id == department_id else None

        admin = valid(previous.get("admin"), None) or store.issue("admin", label="demo").secret
        old_departments = previous.get("departments") or {}
        departments = {
            str(spec.department_id): valid(
                old_departments.get(str(spec.department_id)), spec.department_id
            )
            or store.issue("department", spec.department_id, label="demo").secret
            for spec in DEPARTMENTS
        }
    return {"admin": admin, "departments": departments}


def write_private_json(path: Path, document: Mapping[str, Any]) -> None:
    """Write ``document`` to ``path`` with mode 0600 from the start (never readable by others)."""
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    write_atomically(path, text.encode("utf-8"), mode=0o600)


@dataclass(frozen=True)
class SeedResult:
    """What :func:`seed` reports back."""

    tally: Tally
    credentials: Path
    chain_id: int
    documents_created: int
    window: WindowTally


def _previous_window(credentials: Path) -> dict[str, Any]:
    """The ``window`` section an earlier run wrote (its token is kept while it works)."""
    try:
        section = json.loads(credentials.read_text(encoding="utf-8")).get("window")
    except (OSError, ValueError, AttributeError):
        return {}
    return section if isinstance(section, dict) else {}


def seed(data_dir: Path, rpc_url: str | None) -> SeedResult:
    """Bring the initialized ledger in ``data_dir`` to the demo state: the chain first, then
    (the session closed, as the service opens its own) the window workflow through the
    service (``scripts/demo_window.py``)."""
    data_dir = data_dir.resolve()
    overrides: dict[str, Any] = {"data_dir": data_dir}
    if rpc_url:
        overrides["rpc_url"] = rpc_url
    settings = Settings(**overrides)
    credentials = data_dir / CREDENTIALS_FILE
    with LedgerSession.open(settings) as session:
        folder = DocumentFolder(data_dir / DOCUMENTS_DIR)
        seeder = Seeder(session, folder, datetime.now(CST).date())
        seeder.departments()
        seeder.disclosure_periods()
        seeder.certificates()
        seeder.credit()
        seeder.joint_licensing()
        document = seeder.credentials()
        previous = _previous_window(credentials)
        document["apiTokens"] = demo_tokens(session.settings, credentials)
        write_private_json(credentials, document)
        chain_id = session.deployment.chain_id
    window = seed_window(settings, folder, seeder.today, {**document, "window": previous})
    attach(document, window)
    write_private_json(credentials, document)
    return SeedResult(seeder.tally, credentials, chain_id, folder.created, window.tally)


def summary(result: SeedResult, documents: Path, elapsed: float) -> str:
    """Counts only: identifiers never reach standard output."""
    t = result.tally
    enterprises = sum(1 for s in SUBJECTS if s.kind is SubjectKind.ENTERPRISE)
    revoked = sum(1 for c in CERTIFICATES if c.revoke is not None)
    superseded = sum(1 for c in CERTIFICATES if c.supersedes is not None)
    amendments = sum(len(c.amendments) for c in CREDIT_EVENTS)
    files = sum(1 for path in documents.rglob("*") if path.is_file()) - 1  # minus the manifest
    granted = f"; {t.scopes_granted} missing scope(s) granted" if t.scopes_granted else ""
    return "\n".join(
        [
            f"demo data on chain {result.chain_id}",
            f"  departments    {len(DEPARTMENTS)} in {len(REGIONS)} regions "
            f"({t.departments_new} new, {t.departments_existing} already registered{granted})",
            f"  disclosure     {len(CREDIT_CATEGORIES)} credit categories "
            f"({t.disclosure_set} set now, {t.disclosure_existing} already set)",
            f"  subjects       {len(SUBJECTS)} synthetic: {enterprises} enterprises, "
            f"{len(SUBJECTS) - enterprises} citizens",
            f"  certificates   {len(CERTIFICATES)} anchored ({t.anchored_new} new, "
            f"{t.anchored_existing} already anchored); {revoked} revoked ({t.revoked_new} now), "
            f"{superseded} superseded ({t.superseded_new} now)",
            f"  credit events  {len(CREDIT_EVENTS)} ({t.credit_new} new, {t.credit_existing} "
            f"already recorded); {amendments} amendments ({t.amendments_new} new)",
            f"  bundles        {len(BUNDLES)} joint licensing ({t.bundles_new} new, "
            f"{t.bundles_existing} already open); {t.parts_filed} part(s) filed now",
            f"  documents      {files} in {documents} ({result.documents_created} written now)",
            *window_summary(result.window),
            f"  credentials    {result.credentials} (mode 0600; identifiers are only there)",
            f"  took {elapsed:.1f} s",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Seed and print a summary."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("LEDGER_DATA_DIR", "ledger-data")),
        help="data directory of an initialized ledger (default: $LEDGER_DATA_DIR or ledger-data)",
    )
    parser.add_argument("--rpc", dest="rpc_url", help="JSON-RPC URL instead of the embedded chain")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        result = seed(args.data_dir, args.rpc_url)
    except LedgerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(summary(result, args.data_dir / DOCUMENTS_DIR, time.perf_counter() - started))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
