"""A plain-Python model of what the ledger contracts promise, for the stateful invariant tests.

Each class restates one contract's documented rules (the NatSpec of ``contracts/interfaces`` and
the ADRs) as Python: which call must succeed, which must revert and with which error,
and what state a success leaves behind. ``test_invariants.py`` predicts every call's outcome with
this model, sends the call to the chain, and compares the chain with the model after every step.

The model never reads the chain. Where it says an error's name, it is the Solidity name the
contract reverts with (``ledger.errors`` has a class of the same name for each).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from tests.contracts.conftest import OPEN_ENDED, ZERO32, Amendment, Polarity, Status, event_id

#: How many supervisor links the certificate registry and credit ledger follow.
MAX_SUPERVISOR_DEPTH: Final = 4
#: Unretired keys one department may hold.
MAX_SIGNERS: Final = 4
#: Allowed amendments, from ICreditLedger's table: from -> allowed targets.
TRANSITIONS: Final[dict[Amendment, frozenset[Amendment]]] = {
    Amendment.NONE: frozenset(
        {Amendment.CORRECTED, Amendment.WITHDRAWN, Amendment.REPAIRED, Amendment.DISPUTED}
    ),
    Amendment.CORRECTED: frozenset({Amendment.WITHDRAWN, Amendment.REPAIRED, Amendment.DISPUTED}),
    Amendment.WITHDRAWN: frozenset(),
    Amendment.REPAIRED: frozenset({Amendment.WITHDRAWN}),
    Amendment.DISPUTED: frozenset({Amendment.CORRECTED, Amendment.WITHDRAWN, Amendment.UPHELD}),
    Amendment.UPHELD: frozenset({Amendment.WITHDRAWN, Amendment.REPAIRED, Amendment.DISPUTED}),
}

#: ``None`` when a call is predicted to succeed, else the Solidity error it must revert with.
Outcome = str | None


def covers(served: int, region: int) -> bool:
    """GB/T 2260: a department serving ``served`` may act for ``region`` when the region is
    unstated (0), the same, or inside it (a province covers its cities, a city its counties)."""
    if region == 0 or served == region:
        return True
    if served % 10_000 == 0:
        return served // 10_000 == region // 10_000
    if served % 100 == 0:
        return served // 100 == region // 100
    return False


# ----------------------------------------------------------------------------------------------
# Accreditation (DepartmentRegistry and the replicas in the consumers)
# ----------------------------------------------------------------------------------------------


@dataclass
class KeyModel:
    """A signing key's window [valid_from, valid_until), as the registry stores it."""

    department: int
    valid_from: int
    valid_until: int
    retired_early: bool = False
    #: Retired keys leave the department's signer list but keep their record for history.
    retired: bool = False

    def view(self) -> tuple[int, int, int, bool]:
        """``signerKey(signer)``."""
        return (self.department, self.valid_from, self.valid_until, self.retired_early)


@dataclass
class DepartmentModel:
    """A registered department: region, current scopes, suspension, supervisor."""

    region: int
    scopes: set[int]
    suspended: bool = False
    supervisor: int = 0


@dataclass
class AccreditationModel:
    """Who may act now, and how governance changes it (docs/architecture.md, "Trust model")."""

    departments: dict[int, DepartmentModel]
    keys: dict[str, KeyModel]

    def signers_of(self, department: int) -> set[str]:
        """The department's unretired keys (``signersOf``)."""
        return {
            signer
            for signer, key in self.keys.items()
            if key.department == department and not key.retired
        }

    def denial(self, signer: str, scope: int, region: int, at: int) -> Outcome:
        """Why ``signer`` may not act for ``scope`` in ``region`` at ``at``, checked in the order
        the consumers name it (``AccreditationCache._revertDenied``); ``None`` if it may."""
        key = self.keys.get(signer)
        if key is None:
            return "AccreditationUnknownSigner"
        if at < key.valid_from:
            return "AccreditationKeyNotYetValid"
        if at >= key.valid_until:
            return "AccreditationKeyExpired"
        department = self.departments[key.department]
        if scope not in department.scopes:
            return "AccreditationScopeNotGranted"
        if department.suspended:
            return "AccreditationDepartmentSuspended"
        if not covers(department.region, region):
            return "AccreditationRegionNotCovered"
        return None

    def acts_for(self, actor: int, issuer: int) -> bool:
        """Whether department ``actor`` is ``issuer`` or one of its supervisors (at most
        ``MAX_SUPERVISOR_DEPTH`` links up)."""
        current = issuer
        for _ in range(MAX_SUPERVISOR_DEPTH + 1):
            if current == actor:
                return True
            current = self.departments[current].supervisor if current in self.departments else 0
            if current == 0:
                return False
        return False

    def denial_for(self, signer: str, scope: int, region: int, issuer: int, at: int) -> Outcome:
        """Like :meth:`denial`, and the signer's department must be the record's issuer or one
        of its supervisors: the rule for changing a record someone else made."""
        denial = self.denial(signer, scope, region, at)
        if denial is not None:
            return denial
        if not self.acts_for(self.keys[signer].department, issuer):
            return "AccreditationNotIssuer"
        return None

    def department_of(self, signer: str) -> int:
        return self.keys[signer].department

    def may_sign_bundles(self, signer: str, at: int) -> bool:
        """LicenceBundles asks less: a key in its window of a department not suspended."""
        key = self.keys.get(signer)
        if key is None or not key.valid_from <= at < key.valid_until:
            return False
        return not self.departments[key.department].suspended

    # -- governance -------------------------------------------------------------------------------

    def add_signer(
        self, department: int, signer: str, valid_from: int, valid_until: int, now: int
    ) -> Outcome:
        """``addSigner``: a never-seen key, a non-empty window that has not ended, at most
        ``MAX_SIGNERS`` unretired keys. 0 means "now" for the start and "open" for the end."""
        outcome = self._check_new_signer(department, signer, valid_from, valid_until, now)
        if outcome is None:
            self._add(department, signer, valid_from, valid_until, now)
        return outcome

    def retire_signer(self, signer: str, now: int) -> Outcome:
        """``retireSigner``: the key's window ends now; what it signed before stays valid."""
        outcome = self._check_retire(signer)
        if outcome is None:
            self._retire(signer, now)
        return outcome

    def rotate_signer(self, old: str, new: str, valid_until: int, now: int) -> Outcome:
        """``rotateSigner``: retire ``old`` and add ``new`` from now, all or nothing."""
        outcome = self._check_retire(old)
        if outcome is not None:
            return outcome
        department = self.keys[old].department
        # The old key leaves the list first, so the signer limit cannot be what fails.
        outcome = self._check_new_signer(department, new, 0, valid_until, now, freeing=1)
        if outcome is None:
            self._retire(old, now)
            self._add(department, new, 0, valid_until, now)
        return outcome

    def set_suspended(self, department: int, suspended: bool) -> Outcome:
        """``suspendDepartment`` / ``reinstateDepartment``: only a change is accepted."""
        if self.departments[department].suspended == suspended:
            return "DepartmentRegistrySuspensionUnchanged"
        self.departments[department].suspended = suspended
        return None

    def set_scope(self, department: int, scope: int, granted: bool) -> Outcome:
        """``grantScopes`` / ``revokeScopes`` of one scope."""
        scopes = self.departments[department].scopes
        if granted and scope in scopes:
            return "DepartmentRegistryDuplicateScope"
        if not granted and scope not in scopes:
            return "DepartmentRegistryScopeNotGranted"
        if granted:
            scopes.add(scope)
        else:
            scopes.discard(scope)
        return None

    def set_supervisor(self, department: int, supervisor: int) -> Outcome:
        """``setSupervisor``: no department may end up supervising itself through the chain."""
        current = supervisor
        while current != 0:
            if current == department:
                return "DepartmentRegistryInvalidSupervisor"
            current = self.departments[current].supervisor
        self.departments[department].supervisor = supervisor
        return None

    def _check_new_signer(
        self,
        department: int,
        signer: str,
        valid_from: int,
        valid_until: int,
        now: int,
        freeing: int = 0,
    ) -> Outcome:
        if signer in self.keys:
            return "DepartmentRegistryInvalidSigner"
        start = now if valid_from == 0 else valid_from
        end = OPEN_ENDED if valid_until == 0 else valid_until
        if end <= start or end <= now:
            return "DepartmentRegistryInvalidWindow"
        if len(self.signers_of(department)) - freeing >= MAX_SIGNERS:
            return "DepartmentRegistryLimitReached"
        return None

    def _add(
        self, department: int, signer: str, valid_from: int, valid_until: int, now: int
    ) -> None:
        start = now if valid_from == 0 else valid_from
        end = OPEN_ENDED if valid_until == 0 else valid_until
        self.keys[signer] = KeyModel(department=department, valid_from=start, valid_until=end)

    def _check_retire(self, signer: str) -> Outcome:
        key = self.keys.get(signer)
        if key is None or key.retired:
            return "DepartmentRegistryUnknownSigner"
        return None

    def _retire(self, signer: str, now: int) -> None:
        key = self.keys[signer]
        if key.valid_until > now:
            key.valid_until = now
            # A key retired before its window opened never signed anything.
            key.retired_early = key.valid_from <= now
        key.valid_from = min(key.valid_from, key.valid_until)
        key.retired = True


# ----------------------------------------------------------------------------------------------
# Certificates (CertificateRegistry)
# ----------------------------------------------------------------------------------------------


@dataclass
class CertificateModel:
    """One anchored certificate and everything that happened to it."""

    issuer: int
    cert_type: int
    region: int
    anchored_at: int
    expires_at: int
    anchored_block: int
    #: The key that anchored it (for the history check).
    anchored_by: str
    #: The holder's subject reference, when it was anchored for one.
    holder: bytes | None
    status: Status = Status.ACTIVE
    reason_code: int = 0
    successor: bytes = ZERO32
    #: (status, reason code, acting department) of every CertificateStatusChanged, in order.
    changes: list[tuple[int, int, int]] = field(default_factory=list)

    def view(self) -> tuple[int, ...]:
        """``certificateOf(docHash)`` (kind 0: a single document)."""
        return (
            self.issuer,
            self.cert_type,
            self.region,
            self.anchored_at,
            self.expires_at,
            self.anchored_block,
            int(self.status),
            0,
            self.reason_code,
        )

    def usable_at(self, at: int) -> bool:
        """Active and not expired at ``at`` (what a bundle part must be)."""
        return self.status is Status.ACTIVE and (self.expires_at == 0 or at < self.expires_at)


#: ``certificateOf`` of a hash nothing was anchored under.
EMPTY_CERTIFICATE: Final = (0, 0, 0, 0, 0, 0, 0, 0, 0)

#: Which statuses each lifecycle call accepts (ICertificateRegistry: active -> suspended <->
#: active -> revoked; revoked and superseded are final).
ACCEPTED_STATUSES: Final[dict[str, frozenset[Status]]] = {
    "suspend": frozenset({Status.ACTIVE}),
    "reinstate": frozenset({Status.SUSPENDED}),
    "revoke": frozenset({Status.ACTIVE, Status.SUSPENDED}),
    "supersede": frozenset({Status.ACTIVE, Status.SUSPENDED}),
}
#: The status each lifecycle call leaves behind.
RESULTING_STATUS: Final[dict[str, Status]] = {
    "suspend": Status.SUSPENDED,
    "reinstate": Status.ACTIVE,
    "revoke": Status.REVOKED,
    "supersede": Status.SUPERSEDED,
}


@dataclass
class CertificatesModel:
    """The certificate registry's records, keyed by document hash."""

    records: dict[bytes, CertificateModel] = field(default_factory=dict)

    def anchor_outcome(
        self,
        accreditation: AccreditationModel,
        signer: str,
        doc_hash: bytes,
        cert_type: int,
        region: int,
        expires_at: int,
        now: int,
    ) -> Outcome:
        """Only a key accredited now for the type and region anchors; a hash is anchored once;
        an expiry must be in the future."""
        denial = accreditation.denial(signer, cert_type, region, now)
        if denial is not None:
            return denial
        return self._new_record_outcome(doc_hash, expires_at, now)

    def change_outcome(
        self,
        accreditation: AccreditationModel,
        action: str,
        signer: str,
        doc_hash: bytes,
        reason_code: int,
        now: int,
    ) -> Outcome:
        """Only the issuer or a supervisor, accredited now for the record's type and region,
        changes a record, and only from a status the action accepts."""
        record = self.records.get(doc_hash)
        if record is None:
            return "CertificateRegistryUnknownCertificate"
        denial = accreditation.denial_for(
            signer, record.cert_type, record.region, record.issuer, now
        )
        if denial is not None:
            return denial
        if record.status not in ACCEPTED_STATUSES[action]:
            return "CertificateRegistryInvalidStatus"
        if action != "reinstate" and reason_code == 0:
            return "CertificateRegistryMissingReason"
        return None

    def supersede_outcome(
        self,
        accreditation: AccreditationModel,
        signer: str,
        old_hash: bytes,
        new_hash: bytes,
        expires_at: int,
        reason_code: int,
        now: int,
    ) -> Outcome:
        """A change of the old record, then an anchoring of the new one by the same actor."""
        outcome = self.change_outcome(
            accreditation, "supersede", signer, old_hash, reason_code, now
        )
        if outcome is not None:
            return outcome
        return self._new_record_outcome(new_hash, expires_at, now)

    def _new_record_outcome(self, doc_hash: bytes, expires_at: int, now: int) -> Outcome:
        if expires_at != 0 and expires_at <= now:
            return "CertificateRegistryInvalidExpiry"
        if doc_hash in self.records:
            return "CertificateRegistryAlreadyAnchored"
        return None

    def holders(self) -> dict[bytes, list[bytes]]:
        """Document hashes anchored for each subject reference, in anchoring order."""
        found: dict[bytes, list[bytes]] = {}
        for doc_hash, record in self.records.items():
            if record.holder is not None:
                found.setdefault(record.holder, []).append(doc_hash)
        return found


# ----------------------------------------------------------------------------------------------
# Credit events (CreditLedger)
# ----------------------------------------------------------------------------------------------


@dataclass
class CreditEventModel:
    """A credit event as recorded (never to change) and its amendments (only ever appended)."""

    recorder: int
    category: int
    polarity: Polarity
    severity: int
    occurred_at: int
    recorded_at: int
    subject: bytes
    evidence: bytes
    recorded_by: str
    #: (status, acting department, timestamp, reason hash) of every amendment, in order.
    amendments: list[tuple[int, int, int, bytes]] = field(default_factory=list)

    def view(self) -> tuple[int, ...]:
        """``eventOf(eventId)``."""
        return (
            self.recorder,
            self.category,
            int(self.polarity),
            self.severity,
            self.occurred_at,
            self.recorded_at,
        )

    def amendment_view(self) -> tuple[int, int, int, int]:
        """``amendmentOf(eventId)``: the latest amendment and how many there were."""
        if not self.amendments:
            return (0, 0, 0, 0)
        status, actor, at, _ = self.amendments[-1]
        return (status, actor, at, len(self.amendments))

    @property
    def status(self) -> Amendment:
        return Amendment(self.amendments[-1][0]) if self.amendments else Amendment.NONE


@dataclass
class CreditModel:
    """The credit ledger's events, keyed by event id, in recording order."""

    events: dict[bytes, CreditEventModel] = field(default_factory=dict)

    def record_outcome(
        self,
        accreditation: AccreditationModel,
        signer: str,
        subject: bytes,
        category: int,
        severity: int,
        occurred_at: int,
        evidence: bytes,
        now: int,
    ) -> Outcome:
        """A key accredited now for the category records; severity 1 to 5; nothing recorded in
        advance; the same (subject, category, time, evidence) only once."""
        denial = accreditation.denial(signer, category, 0, now)
        if denial is not None:
            return denial
        if not 1 <= severity <= 5:
            return "CreditLedgerInvalidSeverity"
        if occurred_at > now:
            return "CreditLedgerOccurredInFuture"
        if event_id(subject, category, occurred_at, evidence) in self.events:
            return "CreditLedgerDuplicateEvent"
        return None

    def amend_outcome(
        self,
        accreditation: AccreditationModel,
        signer: str,
        identifier: bytes,
        status: Amendment,
        reason_hash: bytes,
        now: int,
    ) -> Outcome:
        """The recorder or a supervisor amends, with a reason, along the transition table;
        only a negative event can be repaired."""
        event = self.events.get(identifier)
        if event is None:
            return "CreditLedgerUnknownEvent"
        denial = accreditation.denial_for(signer, event.category, 0, event.recorder, now)
        if denial is not None:
            return denial
        if reason_hash == ZERO32:
            return "CreditLedgerMissingReason"
        if status not in TRANSITIONS[event.status] or (
            status is Amendment.REPAIRED and event.polarity is not Polarity.NEGATIVE
        ):
            return "CreditLedgerInvalidTransition"
        return None

    def subjects(self) -> dict[bytes, list[bytes]]:
        """Event ids recorded about each subject reference, in recording order."""
        found: dict[bytes, list[bytes]] = {}
        for identifier, event in self.events.items():
            found.setdefault(event.subject, []).append(identifier)
        return found


# ----------------------------------------------------------------------------------------------
# Joint licensing (LicenceBundles)
# ----------------------------------------------------------------------------------------------


@dataclass
class BundleModel:
    """A bundle: the (department, type) parts it needs and what was filed for each."""

    lead: int
    subject: bytes
    deadline: int
    opened_at: int
    parts: list[tuple[int, int]]
    filed: dict[int, bytes] = field(default_factory=dict)
    completed_at: int = 0

    def view(self) -> tuple[object, ...]:
        """``bundleOf(bundleId)``."""
        return (
            self.lead,
            len(self.parts),
            len(self.filed),
            self.opened_at,
            self.deadline,
            self.completed_at,
            self.subject,
        )

    def complete_at(self, certificates: CertificatesModel, at: int) -> bool:
        """Every part filed, and each filed certificate active and unexpired at ``at``."""
        return len(self.filed) == len(self.parts) and all(
            certificates.records[doc_hash].usable_at(at) for doc_hash in self.filed.values()
        )


@dataclass
class BundlesModel:
    """The open bundles, keyed by bundle id."""

    bundles: dict[bytes, BundleModel] = field(default_factory=dict)

    def open_outcome(
        self,
        accreditation: AccreditationModel,
        signer: str,
        bundle_id: bytes,
        deadline: int,
        parts: list[tuple[int, int]],
        now: int,
    ) -> Outcome:
        """A current key of an unsuspended department opens a fresh bundle with a future
        deadline and 1 to 16 distinct parts of registered departments."""
        if not accreditation.may_sign_bundles(signer, now):
            return "LicenceBundlesNotAuthorized"
        if bundle_id in self.bundles:
            return "LicenceBundlesInvalidBundle"
        if deadline <= now:
            return "LicenceBundlesInvalidDeadline"
        if not 1 <= len(parts) <= 16 or len(set(parts)) != len(parts):
            return "LicenceBundlesInvalidParts"
        if any(department not in accreditation.departments for department, _ in parts):
            return "LicenceBundlesInvalidParts"
        return None

    def file_outcome(
        self,
        accreditation: AccreditationModel,
        certificates: CertificatesModel,
        signer: str,
        bundle_id: bytes,
        index: int,
        doc_hash: bytes,
        now: int,
    ) -> Outcome:
        """The part's own department files, before the deadline, once, an active single
        certificate it issued of the part's type."""
        bundle = self.bundles.get(bundle_id)
        if bundle is None:
            return "LicenceBundlesUnknownBundle"
        if index >= len(bundle.parts):
            return "LicenceBundlesUnknownPart"
        if not accreditation.may_sign_bundles(signer, now):
            return "LicenceBundlesNotAuthorized"
        department, cert_type = bundle.parts[index]
        if accreditation.department_of(signer) != department:
            return "LicenceBundlesWrongDepartment"
        if now > bundle.deadline:
            return "LicenceBundlesDeadlinePassed"
        if index in bundle.filed:
            return "LicenceBundlesPartAlreadyFiled"
        record = certificates.records.get(doc_hash)
        if (
            record is None
            or record.status is not Status.ACTIVE
            or record.issuer != department
            or record.cert_type != cert_type
        ):
            return "LicenceBundlesPartMismatch"
        return None
