"""The state machine of the contract invariant tests (used by ``test_invariants.py``).

``LedgerMachine`` drives the four contracts on eth-tester through random sequences of governance
changes (suspensions, scopes, keys with validity windows, rotations, supervisors), time travel,
anchoring and lifecycle changes, credit records and amendments, and joint-licensing bundles, each
attempted by any of ten accounts. Before every call the model in ``invariant_model.py`` predicts
success or the exact custom error; the call is then mined either way (a refused call is a mined,
reverted transaction) and its events compared with the model's. After every step the
``@invariant`` methods compare the chain with the model; ``teardown`` sweeps what they narrowed
down to the step's reach.

Every run starts from a world's baseline snapshot (``invariant_variants.World``), which already
holds the cast's paperwork (:func:`with_cast`), so that each run is reproducible and cheap.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Final, TypeVar

from eth_tester.exceptions import TransactionFailed
from hexbytes import HexBytes
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
)
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import Web3Exception
from web3.types import BlockIdentifier, TxReceipt

from tests.contracts.conftest import (
    BEIJING,
    BEIJING_DISTRICTS,
    BUSINESS_LICENCE,
    CITY,
    COMMENDATION,
    DEPARTMENTS,
    DISTRICT,
    DONGCHENG,
    FOOD_PERMIT,
    GAS,
    PROVINCE,
    PUDONG,
    SHANGHAI,
    SHANGHAI_BUREAU,
    TAX_COMPLIANCE,
    XICHENG,
    ZERO32,
    Amendment,
    Polarity,
    Status,
    certificate_terms,
    credit_terms,
    decode_failure,
    digest,
    event_id,
    events,
)
from tests.contracts.invariant_model import (
    EMPTY_CERTIFICATE,
    RESULTING_STATUS,
    AccreditationModel,
    BundleModel,
    BundlesModel,
    CertificateModel,
    CertificatesModel,
    CreditEventModel,
    CreditModel,
    DepartmentModel,
    KeyModel,
    Outcome,
)
from tests.contracts.invariant_variants import Cast, World

# ----------------------------------------------------------------------------------------------
# The vocabulary of the machine (printed in falsifying examples, so readable names)
# ----------------------------------------------------------------------------------------------

DAY: Final = 86_400
#: Accounts that attempt things. The department keys come first so that shrinking moves towards
#: them; spare keys become department keys only when governance adds them.
ACTORS: Final = (
    "district",
    "province",
    "city",
    "shanghai",
    "spare 1",
    "spare 2",
    "spare 3",
    "spare 4",
    "outsider",
    "governance",
)
DEPARTMENT_KEYS: Final = ACTORS[:4]
SPARE_KEYS: Final = ACTORS[4:8]
DEPARTMENT_IDS: Final = {
    "district": DISTRICT,
    "province": PROVINCE,
    "city": CITY,
    "shanghai": SHANGHAI_BUREAU,
}
#: Roles resolved against the record acted on: a current key of the record's issuer (recorder,
#: part department). The falsifying example then reads "revoke by its issuer" or "by outsider".
ISSUER: Final = "its issuer"
RECORDER: Final = "its recorder"
PART_DEPARTMENT: Final = "its department"
#: For file_part: the first active certificate of the part's department and type, if any.
MATCHING: Final = "a matching certificate"
#: For retire_signer: retire without a successor.
NOBODY: Final = "nobody"
#: A department id governance never registered (bundle parts naming it are invalid).
UNREGISTERED: Final = 99
CERT_TYPES: Final = {"business licence": BUSINESS_LICENCE, "food permit": FOOD_PERMIT}
CATEGORIES: Final = {"tax compliance": TAX_COMPLIANCE, "commendation": COMMENDATION}
SCOPES: Final = {**CERT_TYPES, **CATEGORIES}
#: A certificate's region relative to the anchoring key's department (GB/T 2260 codes).
REGION_CHOICES: Final = ("its own region", "a county within it", "another province")
COUNTY_WITHIN: Final = {
    BEIJING: XICHENG,
    BEIJING_DISTRICTS: DONGCHENG,
    DONGCHENG: DONGCHENG,
    SHANGHAI: PUDONG,
}
HOLDERS: Final = ("holder A", "holder B", "holder C")
NO_HOLDER: Final = "no holder"
#: Document hashes the machine can name (``document 0`` ...); teardown checks every one.
DOCUMENT_POOL: Final = 12
#: Expiry of a new certificate, as seconds from now (None: never; 0: already expired).
EXPIRIES: Final[dict[str, int | None]] = {
    "never": None,
    "in an hour": 3_600,
    "in a day": DAY,
    "in a month": 30 * DAY,
    "already": 0,
}
#: Start of a new key's window relative to now (None: "now", passed to the registry as 0).
OPENS: Final[dict[str, int | None]] = {
    "now": None,
    "an hour ago": -3_600,
    "in an hour": 3_600,
    "tomorrow": DAY,
}
#: Length of a new key's window (None: open-ended).
LASTS: Final[dict[str, int | None]] = {
    "open-ended": None,
    "a second": 1,
    "an hour": 3_600,
    "a day": DAY,
}
WAITS: Final = (1, 60, 3_600, DAY, 30 * DAY)
KEY_EDGES: Final = (
    "just before it opens",
    "as it opens",
    "just before it closes",
    "as it closes",
)
EXPIRY_EDGES: Final = ("just before it expires", "as it expires")
#: What governance may do to a department (one rule, so governance is a minority of steps).
DEPARTMENT_CHANGES: Final = (
    "suspend",
    "reinstate",
    *(f"{verb} {scope}" for scope in SCOPES for verb in ("withdraw", "grant")),
    *(f"supervised by {department}" for department in DEPARTMENT_IDS),
    "unsupervised",
)
#: When a credit event occurred: fixed moments (so the same event can be recorded twice) or
#: moments relative to now.
OCCURRED: Final = ("a day before the start", "at the start", "just now", "in an hour")
SEVERITIES: Final = (1, 3, 5, 0, 6)
REASONS: Final = (11, 0)
PARTS: Final = (
    ("district", "business licence"),
    ("province", "food permit"),
    ("city", "business licence"),
    ("shanghai", "business licence"),
    ("province", "business licence"),
    ("unregistered", "business licence"),
)
DEADLINES: Final = {"in a day": DAY, "in a month": 30 * DAY, "in an hour": 3_600, "already": 0}
#: The paperwork every run starts with: (department, type, expiry, holder) per certificate...
CAST_CERTIFICATES: Final = (
    ("district", "business licence", "never", "holder A"),
    ("province", "business licence", "in a month", "holder B"),
    ("city", "business licence", "never", NO_HOLDER),
    ("shanghai", "business licence", "in a day", "holder C"),
    ("province", "food permit", "in a day", "holder A"),
)
#: ... and (department, holder, category, polarity, severity) per credit event.
CAST_EVENTS: Final = (
    ("district", "holder A", "tax compliance", Polarity.NEGATIVE, 3),
    ("province", "holder B", "commendation", Polarity.POSITIVE, 2),
    ("city", "holder C", "tax compliance", Polarity.NEGATIVE, 4),
)
#: ... and (lead department, parts, how many parts are filed) per bundle.
CAST_BUNDLES: Final = (
    ("province", (("province", "food permit"),), 1),
    ("district", (("district", "business licence"), ("province", "food permit")), 0),
)
#: Refusals the registry's history must repeat for the same moment (isAuthorized ignores region
#: and issuer, and an unknown key may later be added with a window that starts in the past).
HISTORY_REFUSALS: Final = frozenset(
    {
        "AccreditationKeyNotYetValid",
        "AccreditationKeyExpired",
        "AccreditationScopeNotGranted",
        "AccreditationDepartmentSuspended",
    }
)


def favouring(first: str, others: tuple[str, ...]) -> st.SearchStrategy[str]:
    """``first`` half the time, else any of ``others``: steers runs towards calls that can
    succeed without ruling the rest out (and shrinks towards ``first``)."""
    return st.one_of(st.just(first), st.sampled_from(others))


#: Mostly the department keys; any account now and then.
actors = st.one_of(st.sampled_from(DEPARTMENT_KEYS), st.sampled_from(ACTORS))
#: Mostly never-seen accounts, for new keys.
new_keys = st.one_of(st.sampled_from(SPARE_KEYS), st.sampled_from(ACTORS))
departments = st.sampled_from(tuple(DEPARTMENT_IDS))
reasons = st.sampled_from(REASONS)
holders = st.sampled_from((*HOLDERS, NO_HOLDER))


def document_hash(number: int) -> bytes:
    return digest(f"document {number}")


def subject_ref(holder: str) -> bytes:
    return digest(f"subject reference of {holder}")


def cid_of(doc_hash: bytes) -> bytes:
    """A stand-in binary CID (CIDv1, raw codec prefix) for a document's stored copy."""
    return bytes.fromhex("0155") + doc_hash[:8]


#: Names of the values a falsifying example mentions, for readable failure messages.
_NAMES: Final = {
    **{document_hash(number): f"document {number}" for number in range(DOCUMENT_POOL)},
    **{subject_ref(holder): f"<{holder}>" for holder in HOLDERS},
}


def readable(value: object) -> str:
    """``document 4`` for a pool hash, ``<holder A>`` for a subject reference, short hex for
    other bytes, ``repr`` otherwise."""
    if isinstance(value, bytes | bytearray):
        return _NAMES.get(bytes(value), f"0x{bytes(value).hex()[:12]}…")
    return repr(value)


def readable_event(name: str, arguments: dict[str, Any]) -> str:
    """``CertificateStatusChanged(docHash=document 4, status=3, ...)``."""
    listed = ", ".join(f"{key}={readable(value)}" for key, value in arguments.items())
    return f"{name}({listed})"


def _plain(value: object) -> object:
    """Comparable event argument: bytes for byte strings, tuples for structs and arrays."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, Mapping):
        return tuple(_plain(item) for item in value.values())
    if isinstance(value, list | tuple):
        return tuple(_plain(item) for item in value)
    return value


# ----------------------------------------------------------------------------------------------
# Step bookkeeping
# ----------------------------------------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])


def counted(function: F) -> F:
    """Count the rule as an executed step, and mark the machine unclean until it returns (so
    teardown does not pile a second failure on top of the first)."""

    @functools.wraps(function)
    def run(self: LedgerMachine, *args: Any, **kwargs: Any) -> Any:
        self.world.steps += 1
        self.rule_name = function.__name__
        self.touched_departments, self.touched_keys = set(), set()
        self.clean = False
        result = function(self, *args, **kwargs)
        self.clean = True
        return result

    return run  # type: ignore[return-value]


def guarded(function: F) -> F:
    """Mark the machine unclean while an invariant runs, for the same reason."""

    @functools.wraps(function)
    def run(self: LedgerMachine) -> Any:
        self.clean = False
        function(self)
        self.clean = True

    return run  # type: ignore[return-value]


# ----------------------------------------------------------------------------------------------
# The machine
# ----------------------------------------------------------------------------------------------


class LedgerMachine(RuleBasedStateMachine):
    """The four contracts against the model, one step at a time. Bind ``world`` with
    :func:`machine_on`; every run starts from the world's baseline snapshot."""

    world: ClassVar[World]

    documents = Bundle("documents")
    credit_events = Bundle("credit_events")
    licence_bundles = Bundle("licence_bundles")

    def __init__(self) -> None:
        super().__init__()
        self.world.reset()
        self.chain = self.world.chain
        self.start = self.world.start
        self.accreditation = AccreditationModel(
            departments={
                department: DepartmentModel(region=region, scopes=set(scopes))
                for department, (region, scopes) in DEPARTMENTS.items()
            },
            keys={
                key: KeyModel(department=view[0], valid_from=view[1], valid_until=view[2])
                for key, view in self.world.initial_keys.items()
            },
        )
        self.accreditation.departments[DISTRICT].supervisor = PROVINCE
        self.certificates = CertificatesModel()
        self.credit = CreditModel()
        self.licensing = BundlesModel()
        #: Every event the three record-keeping contracts emitted: (contract, name, arguments).
        self.journal: list[tuple[str, str, dict[str, object]]] = []
        #: Revoked records as their revocation left them.
        self.revoked: dict[bytes, tuple[int, ...]] = {}
        #: (signer, scope, timestamp, department, region, authorized) judgements to hold forever.
        self.history: list[tuple[str, int, int, int | None, int, bool]] = []
        self.history_checked = 0
        if self.world.cast is not None:
            # The baseline already holds the cast's paperwork (see with_cast): start from the
            # model state that goes with it.
            for name, value in copy.deepcopy(self.world.cast.model).items():
                setattr(self, name, value)
        #: Departments and keys governance acted on since the invariants last looked.
        self.touched_departments: set[int] = set()
        self.touched_keys: set[str] = set()
        #: Contracts a transaction changed in this run; hashes a step named (see _check_records).
        self.changed: set[str] = set()
        self.named: set[bytes] = set()
        #: Teardown's pass: the invariants check everything, not only what a step touched.
        self.sweeping = False
        self.clean = True
        self.rule_name = ""
        self.last_outcome = ""
        #: Views read since the last change of their contract (see _view); the baseline's are
        #: the same in every run.
        self._views: dict[tuple[str, str, tuple[object, ...]], Any] = (
            dict(self.world.cast.views) if self.world.cast is not None else {}
        )
        self._clock: int | None = None

    #: The model state a run starts from, restored by __init__ (see with_cast).
    MODEL_STATE: ClassVar = (
        "accreditation",
        "certificates",
        "credit",
        "licensing",
        "journal",
        "revoked",
        "history",
        "history_checked",
    )

    # -- chain access ------------------------------------------------------------------------------

    def now(self) -> int:
        """The pending block's timestamp: when the next transaction runs."""
        if self._clock is None:
            self._clock = self.chain.now()
        return self._clock

    def _label_of(self, address: str) -> str:
        return next(
            label for label, contract in self._contracts().items() if contract.address == address
        )

    def _contracts(self) -> dict[str, Contract]:
        return {
            "registry": self.chain.registry,
            "certificates": self.chain.certificates,
            "credit": self.chain.credit,
            "bundles": self.world.bundles,
        }

    def _view(self, label: str, name: str, *arguments: object) -> Any:
        """A view of one contract, cached until a transaction to that contract succeeds (a
        reverted one changes nothing). Time-dependent views are not read through here. The
        registry also writes replicas into the consumers: teardown re-reads those afresh."""
        key = (label, name, arguments)
        if key not in self._views:
            self._views[key] = _plain(self._contracts()[label].functions[name](*arguments).call())
        return self._views[key]

    def _certificate(self, doc_hash: bytes) -> tuple[int, ...]:
        """``certificateOf``, as the tuple :meth:`CertificateModel.view` returns."""
        return self._view("certificates", "certificateOf", doc_hash)  # type: ignore[no-any-return]

    def _changed(self, label: str) -> None:
        """A transaction to ``label`` succeeded: forget what was read of it."""
        self.changed.add(label)
        self._views = {key: value for key, value in self._views.items() if key[0] != label}

    def _send(
        self, function: ContractFunction, actor: str, expected: Outcome, what: str
    ) -> TxReceipt | None:
        """Mine ``function`` from ``actor`` and require the model's prediction: success, or a
        revert with exactly the predicted error (named by the same call at the pending block),
        mined as a transaction that emits and changes nothing.

        Every attempt is mined so each owns its second: history judged "at the second of an
        attempt" is then well defined. A wrong prediction fails at one place, so Hypothesis
        treats every such failure as one bug and shrinks them together. Returns the receipt of
        a success, None for a revert.
        """
        self.last_outcome = expected or "ok"
        self.world.outcomes[f"{self.rule_name}: {self.last_outcome}"] += 1
        sender = self.world.actors[actor]
        now = self.now()
        refusal = self._refusal(function, sender) if expected is not None else None
        receipt = self._transact(function, sender)
        assert self.chain.timestamp_of(receipt) == now, f"{what}: not mined at the pending time"
        if receipt["status"] == 1:
            got = "success"
        else:
            if expected is None:
                refusal = self._refusal(function, sender)  # replayed a second later
            got = refusal or "a revert it does not name"
        wanted = expected or "success"
        if got != wanted:
            answer = got
            if got == "success":
                emitted = [
                    readable_event(name, arguments)
                    for contract in self._contracts().values()
                    for name, arguments in events(contract, receipt)
                ]
                answer = f"success, emitting {', '.join(emitted)}"
            raise AssertionError(
                f"{what}: the model expected {wanted}, the chain answered {answer}"
            )
        if expected is not None:
            assert not receipt["logs"], f"{what}: a reverted call emitted"
            return None
        self._changed(self._label_of(function.address))
        return receipt

    def _refusal(self, function: ContractFunction, sender: str) -> str | None:
        """The custom error ``function`` reverts with at the pending block (None: no revert)."""
        try:
            function.call({"from": sender}, block_identifier="pending")
        except (TransactionFailed, Web3Exception) as exc:
            decoded = decode_failure(exc)
            return type(decoded).__name__ if decoded is not None else repr(exc)
        return None

    def _transact(self, function: ContractFunction, sender: str) -> TxReceipt:
        tx_hash = function.transact({"from": sender, "gas": GAS})
        self._clock = None
        return self.chain.w3.eth.get_transaction_receipt(tx_hash)

    def _expect_events(
        self, contract_name: str, receipt: TxReceipt, expected: list[tuple[str, dict[str, Any]]]
    ) -> None:
        """The call emitted exactly ``expected`` (and nothing from the other record keepers);
        journal it."""
        emitting = {log["address"] for log in receipt["logs"]}
        for name, contract in self._contracts().items():
            if name == "registry":
                continue
            emitted = [
                (event, {key: _plain(value) for key, value in arguments.items()})
                for event, arguments in (
                    events(contract, receipt) if contract.address in emitting else []
                )
            ]
            wanted = (
                [(event, {k: _plain(v) for k, v in args.items()}) for event, args in expected]
                if name == contract_name
                else []
            )
            assert emitted == wanted, f"{name} emitted {emitted}, the model expected {wanted}"
            self.journal.extend((name, event, arguments) for event, arguments in emitted)

    def _travel_to(self, timestamp: int) -> None:
        if timestamp > self.now():
            self.chain.travel_to(timestamp)
            self._clock = timestamp

    def _governance(
        self,
        function: ContractFunction,
        expected: Outcome,
        what: str,
        departments: tuple[int, ...] = (),
        keys: tuple[str, ...] = (),
    ) -> TxReceipt | None:
        """A governance call; the departments and keys it acts on are checked afterwards."""
        self.touched_departments.update(departments)
        self.touched_keys.update(keys)
        return self._send(function, "governance", expected, what)

    # -- resolving the vocabulary ------------------------------------------------------------------

    def _key_of(self, department: int) -> str:
        """The first account (in ACTORS order) holding an unretired key of ``department``, else
        one that held a key of it, else the outsider."""
        keys = self.accreditation.keys
        held = [name for name in ACTORS if self.world.actors[name] in keys]
        for name in held:
            key = keys[self.world.actors[name]]
            if key.department == department and not key.retired:
                return name
        for name in held:
            if keys[self.world.actors[name]].department == department:
                return name
        return "outsider"

    def _resolve(self, actor: str, department: int) -> tuple[str, str]:
        """(account name, how to describe it) for an account or a role."""
        if actor in (ISSUER, RECORDER, PART_DEPARTMENT):
            name = self._key_of(department)
            return name, f"{actor} ({name})"
        return actor, actor

    def _region(self, signer: str, choice: str) -> int:
        key = self.accreditation.keys.get(signer)
        served = self.accreditation.departments[key.department].region if key else DONGCHENG
        if choice == "its own region":
            return served
        if choice == "a county within it":
            return COUNTY_WITHIN.get(served, served)
        return PUDONG if served // 10_000 != SHANGHAI // 10_000 else DONGCHENG

    # -- the cast's paperwork ----------------------------------------------------------------------

    @initialize(target=documents)
    def adopt_the_cast_licences(self) -> object:
        """Every run starts with each department's business licence in its own region and a
        province food permit that expires in a day (anchored once, in the baseline)."""
        return multiple(*self.world.cast.documents) if self.world.cast else multiple()

    @initialize(target=credit_events)
    def adopt_the_cast_events(self) -> object:
        """And with a few credit events about the holders, recorded a day before the start."""
        return multiple(*self.world.cast.events) if self.world.cast else multiple()

    @initialize(target=licence_bundles)
    def adopt_the_cast_bundles(self) -> object:
        """And with two bundles: the permit alone, filed (complete until the permit expires,
        is suspended or revoked), and a licence plus the permit, not filed yet."""
        return multiple(*self.world.cast.bundles) if self.world.cast else multiple()

    def issue_the_cast_paperwork(self) -> tuple[list[bytes], list[bytes], list[bytes]]:
        """Anchor CAST_CERTIFICATES, record CAST_EVENTS and open (and file) CAST_BUNDLES through
        the same code as the rules (so the model checks them); :func:`with_cast` does this once
        per world."""
        self.rule_name = "cast paperwork"
        documents = []
        for number, (actor, cert_type, expiry, holder) in enumerate(CAST_CERTIFICATES):
            doc_hash = self._anchor(actor, number, cert_type, "its own region", expiry, holder)
            assert doc_hash is not None
            documents.append(doc_hash)
        recorded = []
        for number, (actor, holder, category, polarity, severity) in enumerate(CAST_EVENTS):
            identifier = self._record(
                actor,
                holder,
                category,
                polarity,
                severity,
                "a day before the start",
                evidence=100 + number,
                with_cid=bool(number % 2),
            )
            assert identifier is not None
            recorded.append(identifier)
        bundles = []
        for number, (actor, parts, filed) in enumerate(CAST_BUNDLES):
            bundle_id = self._open_bundle(
                actor, 100 + number, "holder A", list(parts), "in a month"
            )
            assert bundle_id is not None
            for index in range(filed):
                assert self._file_part(PART_DEPARTMENT, bundle_id, index, MATCHING)
            bundles.append(bundle_id)
        return documents, recorded, bundles

    # -- time --------------------------------------------------------------------------------------

    @rule(seconds=st.sampled_from(WAITS))
    @counted
    def wait(self, seconds: int) -> None:
        """Time passes (keys open and close, certificates expire, deadlines pass)."""
        self._travel_to(self.now() + seconds)

    @rule(actor=actors, edge=st.sampled_from(KEY_EDGES))
    @counted
    def wait_for_key_edge(self, actor: str, edge: str) -> None:
        """Move to the exact second a key's window opens or closes, or just before it."""
        key = self.accreditation.keys.get(self.world.actors[actor])
        if key is None:
            return
        target = {
            "just before it opens": key.valid_from - 1,
            "as it opens": key.valid_from,
            "just before it closes": key.valid_until - 1,
            "as it closes": key.valid_until,
        }[edge]
        if target < self.start + 400 * DAY:  # open-ended windows close in the year 36812
            self._travel_to(target)

    @rule(doc_hash=documents, edge=st.sampled_from(EXPIRY_EDGES))
    @counted
    def wait_for_expiry(self, doc_hash: bytes, edge: str) -> None:
        """Move to the second a certificate expires, or just before it."""
        expires_at = self.certificates.records[doc_hash].expires_at
        if expires_at:
            self._travel_to(expires_at - 1 if edge == "just before it expires" else expires_at)

    # -- governance --------------------------------------------------------------------------------

    @rule(
        department=departments,
        change=st.sampled_from(DEPARTMENT_CHANGES),
        by=favouring("governance", ACTORS),
    )
    @counted
    def govern_department(self, department: str, change: str, by: str) -> None:
        """Governance suspends or reinstates a department, grants or withdraws a scope, or
        names its supervisor; anyone else asking is refused (Ownable)."""
        department_id = DEPARTMENT_IDS[department]
        functions = self.chain.registry.functions
        verb, _, target = change.partition(" ")
        if change in ("suspend", "reinstate"):
            suspended = change == "suspend"
            function = (
                functions.suspendDepartment if suspended else functions.reinstateDepartment
            )(department_id)
            model_change: Callable[[], Outcome] = functools.partial(
                self.accreditation.set_suspended, department_id, suspended
            )
        elif verb in ("grant", "withdraw"):
            scope = SCOPES[target]
            change_scopes = functions.grantScopes if verb == "grant" else functions.revokeScopes
            function = change_scopes(department_id, [scope])
            model_change = functools.partial(
                self.accreditation.set_scope, department_id, scope, verb == "grant"
            )
        else:
            supervisor = DEPARTMENT_IDS.get(change.removeprefix("supervised by "), 0)
            function = functions.setSupervisor(department_id, supervisor)
            model_change = functools.partial(
                self.accreditation.set_supervisor, department_id, supervisor
            )
        expected = model_change() if by == "governance" else "OwnableUnauthorizedAccount"
        self.touched_departments.add(department_id)
        self._send(function, by, expected, f"{change} {department} by {by}")

    @rule(
        department=departments,
        signer=new_keys,
        opens=st.sampled_from(tuple(OPENS)),
        lasts=st.sampled_from(tuple(LASTS)),
    )
    @counted
    def add_signer(self, department: str, signer: str, opens: str, lasts: str) -> None:
        """Governance gives a department a key with a validity window."""
        now = self.now()
        address = self.world.actors[signer]
        offset, length = OPENS[opens], LASTS[lasts]
        valid_from = 0 if offset is None else now + offset
        start = now if offset is None else now + offset
        valid_until = 0 if length is None else start + length
        department_id = DEPARTMENT_IDS[department]
        expected = self.accreditation.add_signer(
            department_id, address, valid_from, valid_until, now
        )
        function = self.chain.registry.functions.addSigner(
            department_id, address, valid_from, valid_until
        )
        receipt = self._governance(
            function, expected, f"add {signer} to {department}", (department_id,), (address,)
        )
        if receipt is not None:
            key = self.accreditation.keys[address]
            assert events(self.chain.registry, receipt) == [
                (
                    "SignerAdded",
                    {
                        "departmentId": department_id,
                        "signer": address,
                        "validFrom": key.valid_from,
                        "validUntil": key.valid_until,
                    },
                )
            ]

    @rule(
        signer=actors,
        successor=st.one_of(st.just(NOBODY), new_keys),
        lasts=st.sampled_from(tuple(LASTS)),
    )
    @counted
    def retire_signer(self, signer: str, successor: str, lasts: str) -> None:
        """Governance retires a key now (it signs nothing from the next second on), or rotates
        it: the successor's window opens now and lasts ``lasts``."""
        now = self.now()
        address = self.world.actors[signer]
        known = self.accreditation.keys.get(address)
        departments = (known.department,) if known is not None else ()
        functions = self.chain.registry.functions
        if successor == NOBODY:
            expected = self.accreditation.retire_signer(address, now)
            function = functions.retireSigner(address)
            keys: tuple[str, ...] = (address,)
        else:
            new_address = self.world.actors[successor]
            length = LASTS[lasts]
            valid_until = 0 if length is None else now + length
            expected = self.accreditation.rotate_signer(address, new_address, valid_until, now)
            function = functions.rotateSigner(address, new_address, valid_until)
            keys = (address, new_address)
        what = f"retire {signer}" + ("" if successor == NOBODY else f" for {successor}")
        receipt = self._governance(function, expected, what, departments, keys)
        if receipt is not None:
            key = self.accreditation.keys[address]
            retired = events(self.chain.registry, receipt)[0]
            assert retired == (
                "SignerRetired",
                {"departmentId": key.department, "signer": address, "validUntil": key.valid_until},
            )

    # -- certificates ------------------------------------------------------------------------------

    @rule(
        target=documents,
        actor=actors,
        document=st.integers(len(CAST_CERTIFICATES), DOCUMENT_POOL - 1),
        cert_type=favouring("business licence", tuple(CERT_TYPES)),
        region=favouring("its own region", REGION_CHOICES),
        expiry=favouring("never", tuple(EXPIRIES)),
        holder=holders,
    )
    @counted
    def anchor(
        self, actor: str, document: int, cert_type: str, region: str, expiry: str, holder: str
    ) -> object:
        """Only a key accredited now (in its window, department not suspended, scope for the
        type, region covered) anchors, and only a hash not anchored before."""
        doc_hash = self._anchor(actor, document, cert_type, region, expiry, holder)
        return multiple() if doc_hash is None else doc_hash

    def _anchor(
        self, actor: str, document: int, cert_type: str, region: str, expiry: str, holder: str
    ) -> bytes | None:
        now = self.now()
        signer = self.world.actors[actor]
        doc_hash = document_hash(document)
        self.named.add(doc_hash)
        offset = EXPIRIES[expiry]
        expires_at = 0 if offset is None else now + offset
        type_scope = CERT_TYPES[cert_type]
        region_code = self._region(signer, region)
        expected = self.certificates.anchor_outcome(
            self.accreditation, signer, doc_hash, type_scope, region_code, expires_at, now
        )
        terms = certificate_terms(type_scope, region_code, expires_at)
        functions = self.chain.certificates.functions
        if holder == NO_HOLDER:
            function = functions.anchorCertificate(doc_hash, terms)
        else:
            function = functions.anchorCertificateFor(
                doc_hash, terms, subject_ref(holder), cid_of(doc_hash)
            )
        self._note_refusal(expected, signer, type_scope, now)
        receipt = self._send(function, actor, expected, f"anchor document {document} by {actor}")
        if receipt is None:
            return None
        issuer = self.accreditation.department_of(signer)
        self.certificates.records[doc_hash] = CertificateModel(
            issuer=issuer,
            cert_type=type_scope,
            region=region_code,
            anchored_at=now,
            expires_at=expires_at,
            anchored_block=int(receipt["blockNumber"]),
            anchored_by=signer,
            holder=None if holder == NO_HOLDER else subject_ref(holder),
        )
        self._expect_events("certificates", receipt, [self._anchored_event(doc_hash, holder)])
        self.history.append((signer, type_scope, now, issuer, region_code, True))
        return doc_hash

    @rule(actor=favouring(ISSUER, ACTORS), doc_hash=documents, reason=reasons)
    @counted
    def suspend(self, actor: str, doc_hash: bytes, reason: int) -> None:
        """Only the issuer or its supervisor, accredited now, suspends an active certificate."""
        function = self.chain.certificates.functions.suspend(doc_hash, reason)
        self._change("suspend", actor, doc_hash, reason, function)

    @rule(actor=favouring(ISSUER, ACTORS), doc_hash=documents)
    @counted
    def reinstate(self, actor: str, doc_hash: bytes) -> None:
        """Only the issuer or its supervisor, accredited now, reinstates a suspended one."""
        function = self.chain.certificates.functions.reinstate(doc_hash)
        self._change("reinstate", actor, doc_hash, 0, function)

    @rule(actor=favouring(ISSUER, ACTORS), doc_hash=documents, reason=reasons)
    @counted
    def revoke(self, actor: str, doc_hash: bytes, reason: int) -> None:
        """Only the issuer or its supervisor, accredited now, revokes; revoked is final."""
        function = self.chain.certificates.functions.revoke(doc_hash, reason)
        self._change("revoke", actor, doc_hash, reason, function)

    def _change(
        self, action: str, actor: str, doc_hash: bytes, reason: int, function: ContractFunction
    ) -> None:
        now = self.now()
        record = self.certificates.records[doc_hash]
        name, described = self._resolve(actor, record.issuer)
        signer = self.world.actors[name]
        expected = self.certificates.change_outcome(
            self.accreditation, action, signer, doc_hash, reason, now
        )
        self._note_refusal(expected, signer, record.cert_type, now)
        what = f"{action} of {readable(doc_hash)} by {described}"
        receipt = self._send(function, name, expected, what)
        if receipt is None:
            return
        acting = self.accreditation.department_of(signer)
        status = RESULTING_STATUS[action]
        record.status, record.reason_code = status, reason
        record.changes.append((int(status), reason, acting))
        self._expect_events(
            "certificates",
            receipt,
            [
                (
                    "CertificateStatusChanged",
                    {"docHash": doc_hash, "status": status, "reasonCode": reason, "actor": acting},
                )
            ],
        )
        self.history.append((signer, record.cert_type, now, None, 0, True))
        if status is Status.REVOKED:
            self.revoked[doc_hash] = record.view()

    @rule(
        target=documents,
        actor=favouring(ISSUER, ACTORS),
        old_hash=documents,
        document=st.integers(0, DOCUMENT_POOL - 1),
        expiry=favouring("never", tuple(EXPIRIES)),
        holder=holders,
        reason=reasons,
    )
    @counted
    def supersede(
        self,
        actor: str,
        old_hash: bytes,
        document: int,
        expiry: str,
        holder: str,
        reason: int,
    ) -> object:
        """Renewal: the issuer or supervisor marks the old record superseded and anchors the new
        one (same type and region, the actor's department as issuer) in one call."""
        now = self.now()
        old = self.certificates.records[old_hash]
        name, described = self._resolve(actor, old.issuer)
        signer = self.world.actors[name]
        new_hash = document_hash(document)
        self.named.add(new_hash)
        offset = EXPIRIES[expiry]
        expires_at = 0 if offset is None else now + offset
        expected = self.certificates.supersede_outcome(
            self.accreditation, signer, old_hash, new_hash, expires_at, reason, now
        )
        subject, cid = (
            (ZERO32, b"") if holder == NO_HOLDER else (subject_ref(holder), cid_of(new_hash))
        )
        function = self.chain.certificates.functions.supersede(
            old_hash, new_hash, expires_at, subject, cid, reason
        )
        self._note_refusal(expected, signer, old.cert_type, now)
        what = f"supersede of {readable(old_hash)} by {described}"
        receipt = self._send(function, name, expected, what)
        if receipt is None:
            return multiple()
        acting = self.accreditation.department_of(signer)
        old.status, old.reason_code, old.successor = Status.SUPERSEDED, reason, new_hash
        old.changes.append((int(Status.SUPERSEDED), reason, acting))
        self.certificates.records[new_hash] = CertificateModel(
            issuer=acting,
            cert_type=old.cert_type,
            region=old.region,
            anchored_at=now,
            expires_at=expires_at,
            anchored_block=int(receipt["blockNumber"]),
            anchored_by=signer,
            holder=None if holder == NO_HOLDER else subject,
        )
        self._expect_events(
            "certificates",
            receipt,
            [
                (
                    "CertificateStatusChanged",
                    {
                        "docHash": old_hash,
                        "status": Status.SUPERSEDED,
                        "reasonCode": reason,
                        "actor": acting,
                    },
                ),
                self._anchored_event(new_hash, holder),
                ("CertificateSuperseded", {"oldHash": old_hash, "newHash": new_hash}),
            ],
        )
        self.history.append((signer, old.cert_type, now, acting, old.region, True))
        return new_hash

    @staticmethod
    def _anchored_event(doc_hash: bytes, holder: str) -> tuple[str, dict[str, Any]]:
        if holder == NO_HOLDER:
            return ("CertificateAnchored", {"docHash": doc_hash})
        return (
            "CertificateAnchoredFor",
            {"subjectRef": subject_ref(holder), "docHash": doc_hash, "cid": cid_of(doc_hash)},
        )

    def _note_refusal(self, expected: Outcome, signer: str, scope: int, now: int) -> None:
        """A refusal for a reason the registry keeps history of must stay a refusal for ever."""
        if expected in HISTORY_REFUSALS:
            self.history.append((signer, scope, now, None, 0, False))

    # -- credit ------------------------------------------------------------------------------------

    @rule(
        target=credit_events,
        actor=actors,
        holder=st.sampled_from(HOLDERS),
        category=favouring("tax compliance", tuple(CATEGORIES)),
        polarity=st.sampled_from(Polarity),
        severity=st.sampled_from(SEVERITIES),
        occurred=st.sampled_from(OCCURRED),
        evidence=st.integers(0, 2),
        with_cid=st.booleans(),
    )
    @counted
    def record(
        self,
        actor: str,
        holder: str,
        category: str,
        polarity: Polarity,
        severity: int,
        occurred: str,
        evidence: int,
        with_cid: bool,
    ) -> object:
        """Only a key accredited now for the category records a credit event, once."""
        identifier = self._record(
            actor, holder, category, polarity, severity, occurred, evidence, with_cid
        )
        return multiple() if identifier is None else identifier

    def _record(
        self,
        actor: str,
        holder: str,
        category: str,
        polarity: Polarity,
        severity: int,
        occurred: str,
        evidence: int,
        with_cid: bool,
    ) -> bytes | None:
        now = self.now()
        signer = self.world.actors[actor]
        occurred_at = {
            "a day before the start": self.start - DAY,
            "at the start": self.start,
            "just now": now,
            "in an hour": now + 3_600,
        }[occurred]
        subject, evidence_hash = subject_ref(holder), digest(f"evidence {evidence}")
        category_scope = CATEGORIES[category]
        expected = self.credit.record_outcome(
            self.accreditation,
            signer,
            subject,
            category_scope,
            severity,
            occurred_at,
            evidence_hash,
            now,
        )
        terms = credit_terms(category_scope, polarity, severity, occurred_at)
        functions = self.chain.credit.functions
        cid = cid_of(evidence_hash)
        function = (
            functions.recordWithEvidence(subject, terms, evidence_hash, cid)
            if with_cid
            else functions.record(subject, terms, evidence_hash)
        )
        self._note_refusal(expected, signer, category_scope, now)
        receipt = self._send(function, actor, expected, f"record by {actor}")
        if receipt is None:
            return None
        identifier = event_id(subject, category_scope, occurred_at, evidence_hash)
        recorder = self.accreditation.department_of(signer)
        self.credit.events[identifier] = CreditEventModel(
            recorder=recorder,
            category=category_scope,
            polarity=polarity,
            severity=severity,
            occurred_at=occurred_at,
            recorded_at=now,
            subject=subject,
            evidence=evidence_hash,
            recorded_by=signer,
        )
        arguments: dict[str, Any] = {
            "eventId": identifier,
            "subjectRef": subject,
            "evidenceHash": evidence_hash,
        }
        if with_cid:
            arguments["evidenceCid"] = cid
        name = "CreditEventRecordedWithEvidence" if with_cid else "CreditEventRecorded"
        self._expect_events("credit", receipt, [(name, arguments)])
        self.history.append((signer, category_scope, now, recorder, 0, True))
        return identifier

    @rule(
        actor=favouring(RECORDER, ACTORS),
        identifier=credit_events,
        status=st.sampled_from(Amendment),
        with_reason=st.just(True) | st.booleans(),
    )
    @counted
    def amend(self, actor: str, identifier: bytes, status: Amendment, with_reason: bool) -> None:
        """The recorder or its supervisor amends along the transition table; the event itself
        is untouched and the amendment is appended."""
        now = self.now()
        event = self.credit.events[identifier]
        name, described = self._resolve(actor, event.recorder)
        signer = self.world.actors[name]
        reason_hash = digest(f"decision {status.name}") if with_reason else ZERO32
        expected = self.credit.amend_outcome(
            self.accreditation, signer, identifier, status, reason_hash, now
        )
        function = self.chain.credit.functions.amend(identifier, status, reason_hash)
        self._note_refusal(expected, signer, event.category, now)
        receipt = self._send(function, name, expected, f"amend to {status.name} by {described}")
        if receipt is None:
            return
        acting = self.accreditation.department_of(signer)
        event.amendments.append((int(status), acting, now, reason_hash))
        self._expect_events(
            "credit",
            receipt,
            [
                (
                    "CreditEventAmended",
                    {
                        "eventId": identifier,
                        "status": status,
                        "reasonHash": reason_hash,
                        "actor": acting,
                    },
                )
            ],
        )

    # -- bundles -----------------------------------------------------------------------------------

    @rule(
        target=licence_bundles,
        actor=actors,
        bundle=st.integers(0, 2),
        holder=st.sampled_from(HOLDERS),
        parts=st.lists(st.sampled_from(PARTS), min_size=1, max_size=3),
        deadline=st.sampled_from(tuple(DEADLINES)),
    )
    @counted
    def open_bundle(
        self,
        actor: str,
        bundle: int,
        holder: str,
        parts: list[tuple[str, str]],
        deadline: str,
    ) -> object:
        """A current key of an unsuspended department opens a bundle of distinct parts."""
        bundle_id = self._open_bundle(actor, bundle, holder, parts, deadline)
        return multiple() if bundle_id is None else bundle_id

    def _open_bundle(
        self,
        actor: str,
        bundle: int,
        holder: str,
        parts: list[tuple[str, str]],
        deadline: str,
    ) -> bytes | None:
        now = self.now()
        signer = self.world.actors[actor]
        bundle_id = digest(f"bundle {bundle}")
        part_ids = [
            (DEPARTMENT_IDS.get(department, UNREGISTERED), CERT_TYPES[cert_type])
            for department, cert_type in parts
        ]
        deadline_at = now + DEADLINES[deadline]
        expected = self.licensing.open_outcome(
            self.accreditation, signer, bundle_id, deadline_at, part_ids, now
        )
        subject = subject_ref(holder)
        function = self.world.bundles.functions.openBundle(
            bundle_id, subject, deadline_at, part_ids
        )
        receipt = self._send(function, actor, expected, f"open bundle {bundle} by {actor}")
        if receipt is None:
            return None
        lead = self.accreditation.department_of(signer)
        self.licensing.bundles[bundle_id] = BundleModel(
            lead=lead, subject=subject, deadline=deadline_at, opened_at=now, parts=part_ids
        )
        self._expect_events(
            "bundles",
            receipt,
            [
                (
                    "BundleOpened",
                    {
                        "bundleId": bundle_id,
                        "subjectRef": subject,
                        "lead": lead,
                        "deadline": deadline_at,
                        "parts": part_ids,
                    },
                )
            ],
        )
        return bundle_id

    @rule(
        actor=favouring(PART_DEPARTMENT, ACTORS),
        bundle_id=licence_bundles,
        index=st.integers(0, 2),
        doc_hash=st.just(MATCHING) | documents,
    )
    @counted
    def file_part(self, actor: str, bundle_id: bytes, index: int, doc_hash: object) -> None:
        """The part's department files an active certificate it issued of the part's type."""
        self._file_part(actor, bundle_id, index, doc_hash)

    def _file_part(self, actor: str, bundle_id: bytes, index: int, doc_hash: object) -> bool:
        now = self.now()
        bundle = self.licensing.bundles[bundle_id]
        department, cert_type = bundle.parts[index] if index < len(bundle.parts) else (0, 0)
        name, described = self._resolve(actor, department)
        signer = self.world.actors[name]
        if doc_hash == MATCHING:
            doc_hash = next(
                (
                    candidate
                    for candidate, record in self.certificates.records.items()
                    if record.status is Status.ACTIVE
                    and (record.issuer, record.cert_type) == (department, cert_type)
                ),
                document_hash(DOCUMENT_POOL),  # never anchored: a mismatch
            )
        assert isinstance(doc_hash, bytes)
        expected = self.licensing.file_outcome(
            self.accreditation, self.certificates, signer, bundle_id, index, doc_hash, now
        )
        function = self.world.bundles.functions.filePart(bundle_id, index, doc_hash)
        receipt = self._send(function, name, expected, f"file part {index} by {described}")
        if receipt is None:
            return False
        bundle.filed[index] = doc_hash
        filed: list[tuple[str, dict[str, Any]]] = [
            (
                "BundlePartFiled",
                {
                    "bundleId": bundle_id,
                    "index": index,
                    "docHash": doc_hash,
                    "departmentId": department,
                },
            )
        ]
        if len(bundle.filed) == len(bundle.parts):
            bundle.completed_at = now
            filed.append(("BundleCompleted", {"bundleId": bundle_id}))
        self._expect_events("bundles", receipt, filed)
        return True

    # -- invariants --------------------------------------------------------------------------------

    @invariant()
    @guarded
    def records_change_only_as_the_model_allows(self) -> None:
        """Certificate records read exactly as the model says: the accepted anchorings and
        changes are there, and nothing an unauthorized or refused call attempted left a trace
        (a hash it named still reads empty). A superseded record names its successor. Teardown
        sweeps every hash the machine can name."""
        self._check_records()

    @invariant()
    @guarded
    def revoked_is_final(self) -> None:
        """A revoked certificate never leaves revoked: its record is, field for field, what the
        revocation left, whatever was attempted on it since."""
        for doc_hash, frozen in self.revoked.items():
            assert frozen[6] == Status.REVOKED
            assert self._certificate(doc_hash) == frozen, "a revoked record changed"

    @invariant()
    @guarded
    def credit_events_are_append_only(self) -> None:
        """A credit event is never changed or removed: ``eventOf`` returns the fields it was
        recorded with, ``amendmentOf`` counts every accepted amendment and shows the latest, and
        the event's CreditEventAmended log is the model's amendment list, in order."""
        amended: dict[bytes, list[tuple[object, ...]]] = {}
        for contract, name, arguments in self.journal:
            if contract == "credit" and name == "CreditEventAmended":
                amended.setdefault(arguments["eventId"], []).append(  # type: ignore[arg-type]
                    (arguments["status"], arguments["actor"], arguments["reasonHash"])
                )
        for identifier, event in self.credit.events.items():
            assert self._view("credit", "eventOf", identifier) == event.view(), "event changed"
            assert self._view("credit", "amendmentOf", identifier) == event.amendment_view()
            assert amended.get(identifier, []) == [
                (status, actor, reason) for status, actor, _, reason in event.amendments
            ], "the amendment log is not the model's, appended in order"

    @invariant()
    @guarded
    def indexes_agree_with_events(self) -> None:
        """Counts and subject indexes read from the emitted events agree with the views: one
        anchoring event per record, the certificates held by each subject reference
        (CertificateAnchoredFor) and the credit history of each subject (CreditEventRecorded*)
        are the model's, each indexed record exists in the contracts' views, each record's
        CertificateStatusChanged events end in its current status, and each bundle's filing
        events match its stored count and completion."""
        anchored: list[bytes] = []
        held: dict[bytes, list[bytes]] = {}
        recorded: dict[bytes, list[bytes]] = {}
        changes: dict[bytes, list[tuple[int, int, int]]] = {}
        filed: dict[bytes, int] = {}
        completed: set[bytes] = set()
        for contract, name, arguments in self.journal:
            args: dict[str, Any] = arguments
            if name in ("CertificateAnchored", "CertificateAnchoredFor"):
                anchored.append(args["docHash"])
                if name == "CertificateAnchoredFor":
                    held.setdefault(args["subjectRef"], []).append(args["docHash"])
            elif name == "CertificateStatusChanged":
                changes.setdefault(args["docHash"], []).append(
                    (args["status"], args["reasonCode"], args["actor"])
                )
            elif contract == "credit" and name.startswith("CreditEventRecorded"):
                recorded.setdefault(args["subjectRef"], []).append(args["eventId"])
            elif name == "BundlePartFiled":
                filed[args["bundleId"]] = filed.get(args["bundleId"], 0) + 1
            elif name == "BundleCompleted":
                completed.add(args["bundleId"])
        assert len(anchored) == len(set(anchored)) == len(self.certificates.records)
        assert set(anchored) == set(self.certificates.records)
        assert held == self.certificates.holders(), "certificates by subject differ"
        assert recorded == self.credit.subjects(), "credit history by subject differs"
        for doc_hash in anchored:
            view = self._certificate(doc_hash)
            assert view[6] != Status.NONE, "an anchoring event without a record"
            history = changes.get(doc_hash, [])
            assert history == self.certificates.records[doc_hash].changes
            assert view[6] == (history[-1][0] if history else Status.ACTIVE)
        for identifier in (i for identifiers in recorded.values() for i in identifiers):
            assert self._view("credit", "eventOf", identifier)[5] != 0, "an event without record"
        for bundle_id in self.licensing.bundles:
            stored = self._view("bundles", "bundleOf", bundle_id)
            assert stored[2] == filed.get(bundle_id, 0), "filed count differs from the events"
            assert (stored[5] != 0) == (bundle_id in completed)

    @invariant()
    @guarded
    def accreditation_matches_the_model(self) -> None:
        """Only governance changes accreditation, and only as asked: each department and key
        governance acted on (or was asked to) reads as the model says — region, supervisor,
        suspension, scopes, signer list, and the key's window, which for a retired or
        rotated-out key ends at its retirement. (Teardown checks all of them.)"""
        if self.sweeping and "registry" in self.changed:
            everyone = set(self.accreditation.departments)
            self._check_accreditation(everyone, set(self.world.actors.values()))
        else:
            self._check_accreditation(self.touched_departments, self.touched_keys)

    @invariant()
    @guarded
    def history_keeps_every_judgement(self) -> None:
        """Accreditation is judged at the moment of recording and later changes never rewrite
        it: each key that anchored, changed, recorded or amended was authorized for the scope at
        that second (``isAuthorized``), each issuing department for the scope and region
        (``isDepartmentAuthorized``), and each key refused for its window, scope or suspension
        stays refused at that second, whatever rotations and suspensions came after. Checked
        for new judgements, and again for a department whenever governance acted on it."""
        if self.sweeping and "registry" in self.changed:
            self.history_checked = 0
            self._check_history(set(self.accreditation.departments))
        else:
            self._check_history(self.touched_departments)

    @invariant()
    @guarded
    def bundle_completeness_matches_its_parts(self) -> None:
        """A bundle is complete exactly when every part is filed and each filed certificate is
        active and unexpired, at the latest block and at the pending one; its stored counts and
        parts are the model's."""
        functions = self.world.bundles.functions
        moments: dict[BlockIdentifier, int] = {"latest": self.now() - 1, "pending": self.now()}
        for bundle_id, bundle in self.licensing.bundles.items():
            assert self._view("bundles", "bundleOf", bundle_id) == bundle.view()
            for index, part in enumerate(bundle.parts):
                stored, doc_hash = self._view("bundles", "partOf", bundle_id, index)
                assert (stored, doc_hash) == (part, bundle.filed.get(index, ZERO32))
            for block, at in moments.items():
                complete = functions.isComplete(bundle_id).call(block_identifier=block)
                assert complete is bundle.complete_at(self.certificates, at), (
                    f"isComplete at the {block!r} block is {complete}"
                )
                assert complete is self._complete_from_views(bundle, at)

    def teardown(self) -> None:
        """At the end of a clean run, check everything the per-step invariants narrowed down to
        what a step touched: every document hash, event, department, key and judgement of each
        contract a transaction changed (the registry's replica writes make the consumers count
        as changed with it). Then ask the node the way an indexer does (logs filtered by the
        indexed subject topic) for the same per-subject answers. (with_cast checked the
        baseline, which every run starts from, the same way.)"""
        if not self.clean:
            return
        stale = set(self.changed)
        if "registry" in stale:
            stale |= {"certificates", "credit"}
        self._views = {key: value for key, value in self._views.items() if key[0] not in stale}
        self.sweeping = True
        for check in self.invariants:
            check.function(self)
        baseline_events = len(self.world.cast.model["journal"]) if self.world.cast else -1
        if len(self.journal) != baseline_events:
            self._check_node_indexes()

    # -- checks shared by the invariants and teardown ----------------------------------------------

    def _check_records(self) -> None:
        """Each step: the model's records and the hashes the step named (a refused call is a
        reverted transaction, which cannot write elsewhere). Sweeping: every hash of the pool,
        so a successful call that wrote a record nobody named is caught too."""
        if self.sweeping:
            names = {document_hash(number) for number in range(DOCUMENT_POOL)}
        else:
            names = set(self.certificates.records) | self.named
        self.named = set()
        for doc_hash in sorted(names):
            record = self.certificates.records.get(doc_hash)
            expected = record.view() if record is not None else EMPTY_CERTIFICATE
            assert self._certificate(doc_hash) == expected, (
                f"the record of {doc_hash.hex()} differs"
            )
            if record is not None and record.status is Status.SUPERSEDED:
                successor = self._view("certificates", "successorOf", doc_hash)
                assert successor == record.successor

    def _check_accreditation(self, departments: set[int], keys: set[str]) -> None:
        for department_id in sorted(departments):
            department = self.accreditation.departments[department_id]
            (region, supervisor, _, suspended, scope_count, signer_count), _ = self._view(
                "registry", "departmentOf", department_id
            )
            signers = self.accreditation.signers_of(department_id)
            assert (region, supervisor, suspended, scope_count, signer_count) == (
                department.region,
                department.supervisor,
                department.suspended,
                len(department.scopes),
                len(signers),
            ), f"department {department_id} differs"
            assert set(self._view("registry", "scopesOf", department_id)) == department.scopes
            assert set(self._view("registry", "signersOf", department_id)) == signers
        for address in sorted(keys):
            key = self.accreditation.keys.get(address)
            expected = key.view() if key is not None else (0, 0, 0, False)
            assert self._view("registry", "signerKey", address) == expected, "key differs"

    def _check_history(self, departments: set[int]) -> None:
        """Judgements not checked yet, and all of those whose key belongs to ``departments``."""
        for position, judgement in enumerate(self.history):
            signer, scope, at, department, region, authorized = judgement
            key_department = self.accreditation.keys[signer].department
            if position < self.history_checked and key_department not in departments:
                continue
            assert self._view("registry", "isAuthorized", signer, scope, at) is authorized, (
                f"the history of a key of department {key_department} for scope {scope:#x} "
                f"at {at} is no longer {authorized}"
            )
            if department is not None:
                assert self._view(
                    "registry", "isDepartmentAuthorized", department, scope, region, at
                )
        self.history_checked = len(self.history)

    def _check_node_indexes(self) -> None:
        """The per-subject answers a node gives for the blocks after the baseline (whose own
        answers with_cast checked) are the rest of the model's lists."""
        subject_topics = [f"0x{subject_ref(holder).hex()}" for holder in HOLDERS]
        baseline = self.world.cast.model if self.world.cast is not None else None
        queries = (
            # (contract, events, position of the subjectRef topic, model's lists, baseline's)
            (
                self.chain.certificates,
                ("CertificateAnchoredFor",),
                1,
                self.certificates.holders(),
                baseline["certificates"].holders() if baseline else {},
            ),
            (
                self.chain.credit,
                ("CreditEventRecorded", "CreditEventRecordedWithEvidence"),
                2,
                self.credit.subjects(),
                baseline["credit"].subjects() if baseline else {},
            ),
        )
        for contract, names, position, expected, before in queries:
            decoders = {
                bytes(HexBytes(contract.events[name]().topic)): contract.events[name]()
                for name in names
            }
            topics: list[Any] = [[f"0x{topic.hex()}" for topic in decoders], None, None]
            topics[position] = subject_topics
            logs = self.chain.w3.eth.get_logs(
                {
                    "address": contract.address,
                    "fromBlock": self.world.baseline_block + 1,
                    "topics": topics[: position + 1],
                }
            )
            found: dict[bytes, list[bytes]] = {}
            for log in logs:
                arguments = decoders[bytes(log["topics"][0])].process_log(log)["args"]
                identifier = (
                    arguments["docHash"] if "docHash" in arguments else arguments["eventId"]
                )
                found.setdefault(bytes(arguments["subjectRef"]), []).append(bytes(identifier))
            for subject in (subject_ref(holder) for holder in HOLDERS):
                answer = before.get(subject, []) + found.get(subject, [])
                assert answer == expected.get(subject, []), (
                    f"a node's answer for a subject's {names[0]} events differs from the model"
                )

    def _complete_from_views(self, bundle: BundleModel, at: int) -> bool:
        """Completeness recomputed from the certificate registry's views alone."""
        if len(bundle.filed) != len(bundle.parts):
            return False
        for doc_hash in bundle.filed.values():
            view = self._certificate(doc_hash)
            status, expires_at = view[6], view[4]
            if status != Status.ACTIVE or (expires_at != 0 and expires_at <= at):
                return False
        return True


def machine_on(world: World, name: str = "LedgerMachine") -> type[LedgerMachine]:
    """The machine bound to ``world`` (a subclass, so each world keeps its own class)."""
    return type(name, (LedgerMachine,), {"world": world})


def with_cast(world: World) -> World:
    """Do the cast's paperwork once on ``world`` (checking every invariant), then make the
    result the baseline every run starts from, with the model state that goes with it."""
    machine = machine_on(world)()
    documents, events_recorded, bundles = machine.issue_the_cast_paperwork()
    for check in machine.invariants:
        check.function(machine)
    machine.teardown()
    world.chain.tester.mine_blocks()  # an empty block on top reverts fastest
    world.baseline = world.chain.tester.take_snapshot()
    world.start = world.chain.now()
    world.baseline_block = world.chain.w3.eth.block_number
    machine._views.clear()  # the empty block changed nothing, but read it all afresh
    for check in machine.invariants:
        check.function(machine)
    world.cast = Cast(
        documents=tuple(documents),
        events=tuple(events_recorded),
        bundles=tuple(bundles),
        model={name: getattr(machine, name) for name in LedgerMachine.MODEL_STATE},
        views=dict(machine._views),
    )
    return world
