"""Anchoring with a stored copy, the ``storage.copy`` check and erasure (issue 3, ADR 0008).

The suite runs on two setups (ids ``embedded``: embedded chain and embedded store; ``anvil-ipfs``:
anvil and the js-ipfs node shared by the session), so both chains and both stores are covered.
The tests that stop the IPFS node start one of their own (``ipfs_node``), on either chain.
Settings and local secrets are checked at the end, without a chain.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import sqlite3
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final, Literal

import pydantic
import pytest
from multiformats import CID
from pydantic import SecretStr

from ledger import errors
from ledger.catalogue import CertificateType, certificate_type
from ledger.chain.transactions import TransactionSender
from ledger.cli.departments import add_department
from ledger.config import SECRETS_FILE, Settings, write_local_secrets
from ledger.contracts import CertificateRegistryClient
from ledger.documents import document_hash_of, dump_certificate, salt_fields
from ledger.errors import ChainUnavailableError, ConfigurationError
from ledger.identity import make_citizen_id, make_uscc, parse_subject
from ledger.session import LedgerSession
from ledger.storage import StorageUnavailableError
from ledger.storage.cid import cid_from_str
from ledger.storage.embedded import EmbeddedStore
from ledger.storage.factory import close_document_service, open_store
from ledger.storage.ipfs import IpfsStore
from ledger.storage.unixfs import compute_cid
from ledger.storage.vault import (
    DocumentErasedError,
    DocumentService,
    KeyVault,
    StoredDocument,
)
from ledger.verification import CheckName, Outcome, Verdict, VerificationReport, anchored_cid
from ledger.verification import verify_document as _verify_document
from ledger.writes.certificates import Anchored, anchor
from tests.integration.conftest import (
    DEPARTMENT_ID,
    DEPARTMENT_NAME,
    DEPARTMENT_REGION,
    DEPARTMENT_SCOPES,
    Backend,
    BackendKind,
)
from tests.support.anvil import start_anvil
from tests.support.ipfs import IpfsNode, start_ipfs

BUSINESS_LICENCE: Final = certificate_type("business-licence")
CUSTOMS_REGISTRATION: Final = certificate_type("customs-registration")  # never granted
RESIDENCE_CERTIFICATE: Final = certificate_type("residence-certificate")
MARRIAGE_CERTIFICATE: Final = certificate_type("marriage-certificate")  # never granted
CITIZEN: Final = make_citizen_id("110105", date(1988, 3, 14), 417)
CITIZEN_NAME: Final = "欧阳明月"
ENTERPRISE: Final = make_uscc(organisation_code="MA02DK7Q3")

#: Settings read from the environment that would redirect these tests.
_STORAGE_ENVIRONMENT: Final = (
    "LEDGER_IPFS_API",
    "LEDGER_MASTER_KEY",
    "LEDGER_STORE_TIMEOUT",
    "LEDGER_ENCRYPT_TYPES",
)

StoreKind = Literal["embedded", "ipfs"]


@pytest.fixture(autouse=True)
def _clean_storage_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _STORAGE_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


# ----------------------------------------------------------------------------------------------
# Setups
# ----------------------------------------------------------------------------------------------


@dataclass
class DocumentLedger:
    """An initialized ledger whose documents go to ``store_kind`` (``ipfs``: the node ``ipfs``)."""

    backend: Backend
    store_kind: StoreKind
    ipfs: IpfsNode | None

    @property
    def session(self) -> LedgerSession:
        return self.backend.session

    @property
    def documents(self) -> DocumentService:
        return self.session.documents()

    def pins(self) -> set[str]:
        """Every recursive pin of the store (the node's own default pins included)."""
        if self.ipfs is None:
            store = self.documents.store
            assert isinstance(store, EmbeddedStore)
            return set(store.pins())
        answer = self.ipfs.rpc("pin/ls", {"type": "recursive"})
        # js-ipfs lists CIDv1 in base58btc; the store speaks base32.
        return {
            str(CID.decode(key).encode("base32")) if key.startswith("z") else key
            for key in answer["Keys"]
        }

    def block_files(self) -> list[Path]:
        """The files holding the store's blocks."""
        if self.ipfs is None:
            root = self.session.settings.documents_dir / "blocks"
        else:
            root = self.ipfs.repo_dir / "blocks"
        return [path for path in root.rglob("*") if path.is_file()]

    def key_count(self) -> int:
        """Document keys held in the vault (the vault's schema is documented in its module)."""
        self.session.documents()  # the vault exists once opened
        uri = f"file:{self.session.settings.vault_path}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
            return int(connection.execute("SELECT COUNT(*) FROM keys").fetchone()[0])

    def anchor(
        self, data: bytes, kind: CertificateType, *, store: bool = True, holder: str | None = None
    ) -> Anchored:
        session = self.session
        subject = holder or (CITIZEN if kind.personal else ENTERPRISE)
        write = anchor(
            session,
            data,
            kind,
            holder=parse_subject(subject),
            department_id=DEPARTMENT_ID,
            store=store,
        )
        session.send(write)
        return write.facts

    def verify(
        self, data: bytes, *, documents: DocumentService | None = None
    ) -> VerificationReport:
        return _verify_document(data, self.session.context, documents=documents or self.documents)


@contextlib.contextmanager
def open_document_ledger(
    chain: BackendKind,
    root: Path,
    *,
    ipfs: IpfsNode | None = None,
    store_timeout: float = 30.0,
    encrypt_types: tuple[str, ...] = (),
) -> Iterator[DocumentLedger]:
    """A ledger on ``chain`` storing in the embedded store, or on ``ipfs`` when given, with the
    test department registered."""
    root.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        anvil = (
            stack.enter_context(start_anvil(log_path=root / "anvil.log"))
            if chain == "anvil"
            else None
        )
        settings = Settings(
            data_dir=root / "data",
            rpc_url=None if anvil is None else anvil.url,
            ipfs_api=None if ipfs is None else ipfs.api_multiaddr,
            store_timeout=store_timeout,
            encrypt_types=encrypt_types,
        )
        session, _ = LedgerSession.initialize(settings)
        stack.callback(session.close)
        add_department(
            session, DEPARTMENT_ID, DEPARTMENT_REGION, DEPARTMENT_NAME, list(DEPARTMENT_SCOPES)
        )
        backend = Backend(chain, session, settings.data_dir, anvil)
        yield DocumentLedger(backend, "embedded" if ipfs is None else "ipfs", ipfs)


#: Setup ids: chain and store. The IPFS setup shares the session's node, so it keeps to one
#: xdist worker (``--dist loadgroup``) and the node starts once.
SETUPS: Final = (
    pytest.param("embedded", id="embedded"),
    pytest.param("anvil-ipfs", id="anvil-ipfs", marks=pytest.mark.xdist_group("ipfs")),
)


@pytest.fixture(params=SETUPS)
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DocumentLedger]:
    if request.param == "embedded":
        with open_document_ledger("embedded", tmp_path) as opened:
            yield opened
    else:
        node: IpfsNode = request.getfixturevalue("ipfs_session")
        with open_document_ledger("anvil", tmp_path, ipfs=node) as opened:
            yield opened


def unique_text(label: str) -> bytes:
    """Document bytes no other test stores (the IPFS node is shared)."""
    return f"{label} {secrets.token_hex(8)}\n".encode()


def personal_document(label: str = "居住证") -> bytes:
    return f"{label} {CITIZEN_NAME} {CITIZEN} {secrets.token_hex(8)}\n".encode()


def check(report: VerificationReport, name: CheckName) -> tuple[Outcome, str]:
    found = next(c for c in report.checks if c.name is name)
    return found.outcome, found.detail


class StoreSpy:
    """Records what :meth:`DocumentService.store_document` stored."""

    def __init__(self, service: DocumentService, monkeypatch: pytest.MonkeyPatch) -> None:
        self.stored: list[StoredDocument] = []
        original = service.store_document

        def spy(data: bytes, *, encrypt: bool) -> StoredDocument:
            result = original(data, encrypt=encrypt)
            self.stored.append(result)
            return result

        monkeypatch.setattr(service, "store_document", spy)


# ----------------------------------------------------------------------------------------------
# Anchoring stores the copy and records its CID
# ----------------------------------------------------------------------------------------------


def test_anchor_stores_the_copy_and_records_its_cid(ledger: DocumentLedger) -> None:
    data = unique_text(f"营业执照 {ENTERPRISE}")
    outcome = ledger.anchor(data, BUSINESS_LICENCE)

    assert outcome.doc_hash == document_hash_of(data).hash
    assert outcome.cid == compute_cid(data)  # in clear: the CID Kubo gives the bytes
    assert not outcome.encrypted
    assert outcome.region == DEPARTMENT_REGION
    stat_ = ledger.documents.store.stat(outcome.cid)
    assert stat_.pinned
    assert ledger.documents.fetch_document(outcome.cid) == data

    client = ledger.session.certificates()
    record = client.certificate(outcome.doc_hash)
    assert record is not None
    assert anchored_cid(client, record) == cid_from_str(outcome.cid)
    holder = ledger.session.subject_ref(ENTERPRISE)
    assert (outcome.doc_hash, cid_from_str(outcome.cid)) in [
        (doc_hash, cid) for doc_hash, cid, _ in client.held_by(holder)
    ]

    report = ledger.verify(data)
    assert report.verdict is Verdict.VALID, report.failures
    outcome_, detail = check(report, CheckName.STORED_COPY)
    assert outcome_ is Outcome.PASSED
    assert detail == f"stored copy {outcome.cid} ({len(data)} bytes) matches"


def test_personal_copy_is_stored_as_ciphertext_only(ledger: DocumentLedger) -> None:
    certificate = salt_fields(
        {"name": CITIZEN_NAME, "identityNumber": CITIZEN, "address": "北京市东城区示例胡同 7 号"},
        certificate_type="residence-certificate",
    )
    structured = dump_certificate(certificate)
    scanned = personal_document()
    outcomes = [
        ledger.anchor(structured, RESIDENCE_CERTIFICATE),
        ledger.anchor(scanned, RESIDENCE_CERTIFICATE),
    ]

    for data, outcome in zip((structured, scanned), outcomes, strict=True):
        assert outcome.encrypted
        assert outcome.cid is not None
        blob = ledger.documents.store.get(outcome.cid)
        assert data not in blob
        assert ledger.documents.fetch_document(outcome.cid) == data
        report = ledger.verify(data)
        assert report.verdict is Verdict.VALID, report.failures
        result, detail = check(report, CheckName.STORED_COPY)
        assert result is Outcome.PASSED
        assert "(decrypted, " in detail

    needles = [
        CITIZEN.encode(),
        CITIZEN.lower().encode(),
        CITIZEN_NAME.encode(),
        CITIZEN.encode("utf-16-le"),
        CITIZEN_NAME.encode("utf-16-le"),
    ]
    files = ledger.block_files()
    assert files
    for path in files:
        content = path.read_bytes()
        assert not any(needle in content for needle in needles), path
    # The scan can see: the same bytes stored in clear are found.
    planted = ledger.documents.store_document(scanned, encrypt=False)
    assert any(CITIZEN.encode() in path.read_bytes() for path in ledger.block_files())
    ledger.documents.store.unpin(planted.cid)


#: An individual business (个体工商户): a credit code of authority 9, category 2.
INDIVIDUAL_BUSINESS: Final = make_uscc("9", "2", "110101", "L12345678")


def _verifier_without_the_keys(ledger: DocumentLedger, root: Path) -> DocumentService:
    """The same store behind a vault of its own (another master key): no document key."""
    elsewhere = Settings(
        data_dir=root,
        ipfs_api=ledger.session.settings.ipfs_api,
        master_key=SecretStr(secrets.token_hex(32)),
    )
    store = (
        open_store(elsewhere)
        if ledger.ipfs is not None
        else EmbeddedStore(ledger.session.settings.documents_dir)
    )
    return DocumentService(store, KeyVault(elsewhere.vault_path, elsewhere.master_key_bytes()))


@pytest.mark.parametrize("holder", [CITIZEN, INDIVIDUAL_BUSINESS], ids=["citizen", "household"])
def test_a_natural_persons_document_is_sealed_whatever_its_type(
    ledger: DocumentLedger, holder: str, tmp_path: Path
) -> None:
    """Issue 13 item 1: a business licence (not a personal type) held by a citizen, or by an
    individual business, names a person: it is stored as ciphertext only, its replacement too;
    the issuer's verifier decrypts and matches it, a verifier without the key is told why it
    cannot check the copy, and the certificate stays VALID for both."""
    assert not BUSINESS_LICENCE.personal
    licence = personal_document(f"营业执照 经营者 {holder}")
    renewed = personal_document(f"营业执照 (换发) 经营者 {holder}")
    first = ledger.anchor(licence, BUSINESS_LICENCE, holder=holder)
    replacement = anchor(
        ledger.session,
        renewed,
        BUSINESS_LICENCE,
        holder=parse_subject(holder),
        department_id=DEPARTMENT_ID,
        supersedes=(first.doc_hash, 4),
    )
    ledger.session.send(replacement)
    second = replacement.facts
    needles = [holder.encode(), CITIZEN.encode(), CITIZEN_NAME.encode()]
    for data, outcome in ((licence, first), (renewed, second)):
        assert outcome.encrypted
        assert outcome.cid is not None
        assert outcome.cid != compute_cid(data)
        blob = ledger.documents.store.get(outcome.cid)
        assert not [needle for needle in needles if needle in blob]
        assert ledger.documents.fetch_document(outcome.cid) == data
    assert ledger.key_count() == 2

    report = ledger.verify(renewed)
    assert report.verdict is Verdict.VALID, report.failures
    result, detail = check(report, CheckName.STORED_COPY)
    assert (result, "(decrypted, " in detail) == (Outcome.PASSED, True)

    other = _verifier_without_the_keys(ledger, tmp_path / "other-verifier")
    try:
        report = ledger.verify(renewed, documents=other)
        assert report.verdict is Verdict.VALID, report.failures
        assert check(report, CheckName.STORED_COPY) == (
            Outcome.NOT_APPLICABLE,
            f"stored copy {second.cid} is encrypted and its key is not held by this verifier",
        )
    finally:
        close_document_service(other)


def test_an_organisations_licence_stays_in_clear(ledger: DocumentLedger) -> None:
    """The holder only widens encryption: an enterprise's licence is public and stays in clear
    (its CID is the one Kubo gives its bytes)."""
    data = unique_text(f"营业执照 {ENTERPRISE}")
    outcome = ledger.anchor(data, BUSINESS_LICENCE, holder=ENTERPRISE)
    assert (outcome.encrypted, outcome.cid) == (False, compute_cid(data))


def test_policy_encrypts_listed_enterprise_types(tmp_path: Path) -> None:
    with open_document_ledger("embedded", tmp_path, encrypt_types=("business-licence",)) as ledger:
        organisation = parse_subject(ENTERPRISE)
        assert ledger.session.settings.encrypts(BUSINESS_LICENCE, organisation)
        assert not ledger.session.settings.encrypts(CUSTOMS_REGISTRATION, organisation)
        data = unique_text(f"营业执照 {ENTERPRISE}")
        outcome = ledger.anchor(data, BUSINESS_LICENCE)
        assert outcome.encrypted
        assert outcome.cid != compute_cid(data)
        assert check(ledger.verify(data), CheckName.STORED_COPY)[0] is Outcome.PASSED


def test_anchor_without_storing(ledger: DocumentLedger) -> None:
    data = unique_text("不存档的证明")
    pins = ledger.pins()
    outcome = ledger.anchor(data, BUSINESS_LICENCE, store=False)
    assert (outcome.cid, outcome.encrypted) == (None, False)
    assert ledger.pins() == pins

    report = ledger.verify(data)
    assert report.verdict is Verdict.VALID
    assert check(report, CheckName.STORED_COPY) == (
        Outcome.NOT_APPLICABLE,
        "no stored copy was anchored with this record",
    )


# ----------------------------------------------------------------------------------------------
# The storage.copy check
# ----------------------------------------------------------------------------------------------


def test_storage_copy_mismatch_and_missing_copy_fail(ledger: DocumentLedger) -> None:
    """An anchor naming a copy of other content, or a copy the store lacks, fails the check."""
    session = ledger.session
    client = session.certificates()
    sender = session.department_sender(DEPARTMENT_ID)
    holder = session.subject_ref(ENTERPRISE)

    other = ledger.documents.store_document(unique_text("另一份文件"), encrypt=False)
    mismatched = unique_text("营业执照 甲")
    sender.transact(
        client.anchor(
            document_hash_of(mismatched).hash,
            BUSINESS_LICENCE.code,
            DEPARTMENT_REGION,
            subject_ref=holder,
            cid=cid_from_str(other.cid),
        )
    )
    report = ledger.verify(mismatched)
    assert report.verdict is Verdict.INVALID
    assert check(report, CheckName.STORED_COPY) == (
        Outcome.FAILED,
        f"stored copy {other.cid} does not match the anchored hash",
    )

    never_stored = compute_cid(unique_text("从未存储"))
    missing = unique_text("营业执照 乙")
    sender.transact(
        client.anchor(
            document_hash_of(missing).hash,
            BUSINESS_LICENCE.code,
            DEPARTMENT_REGION,
            subject_ref=holder,
            cid=cid_from_str(never_stored),
        )
    )
    report = ledger.verify(missing)
    assert report.verdict is Verdict.INVALID
    assert [c.name for c in report.failures] == [CheckName.STORED_COPY]
    assert check(report, CheckName.STORED_COPY)[1] == (
        f"stored copy {never_stored} is not in the document store"
    )


def test_storage_copy_without_a_store_or_without_the_key(
    ledger: DocumentLedger, tmp_path: Path
) -> None:
    """A verifier with no store skips the check; one whose vault lacks the key of an encrypted
    copy cannot check it (not applicable), but still checks copies stored in clear."""
    personal = personal_document()
    ledger.anchor(personal, RESIDENCE_CERTIFICATE)
    public = unique_text(f"营业执照 {ENTERPRISE}")
    ledger.anchor(public, BUSINESS_LICENCE)

    bare = _verify_document(personal, ledger.session.context)
    assert bare.verdict is Verdict.VALID
    assert check(bare, CheckName.STORED_COPY) == (
        Outcome.NOT_APPLICABLE,
        "not checked: this verifier has no document store",
    )

    elsewhere = Settings(
        data_dir=tmp_path / "other-verifier",
        ipfs_api=ledger.session.settings.ipfs_api,
        master_key=SecretStr(secrets.token_hex(32)),
    )
    store = (
        open_store(elsewhere)
        if ledger.ipfs is not None
        else EmbeddedStore(ledger.session.settings.documents_dir)  # a copy of the same blocks
    )
    other = DocumentService(store, KeyVault(elsewhere.vault_path, elsewhere.master_key_bytes()))
    try:
        report = ledger.verify(personal, documents=other)
        assert report.verdict is Verdict.VALID
        result, detail = check(report, CheckName.STORED_COPY)
        assert result is Outcome.NOT_APPLICABLE
        assert detail.endswith("is encrypted and its key is not held by this verifier")
        assert check(ledger.verify(public, documents=other), CheckName.STORED_COPY)[0] is (
            Outcome.PASSED
        )
    finally:
        close_document_service(other)


# ----------------------------------------------------------------------------------------------
# Failures: nothing half done
# ----------------------------------------------------------------------------------------------


def test_duplicate_is_refused_before_storing(
    ledger: DocumentLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = personal_document()
    ledger.anchor(data, RESIDENCE_CERTIFICATE)
    pins, keys = ledger.pins(), ledger.key_count()
    spy = StoreSpy(ledger.documents, monkeypatch)

    with pytest.raises(errors.CertificateRegistryAlreadyAnchored):
        ledger.anchor(data, RESIDENCE_CERTIFICATE)
    assert spy.stored == []
    assert (ledger.pins(), ledger.key_count()) == (pins, keys)


def test_a_type_not_accredited_is_refused_before_storing(
    ledger: DocumentLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Authorization before existence (ADR 0023): refused in words, nothing stored."""
    pins, keys = ledger.pins(), ledger.key_count()
    spy = StoreSpy(ledger.documents, monkeypatch)

    with pytest.raises(errors.NotAuthorizedError, match="not accredited for marriage-cert"):
        ledger.anchor(personal_document(MARRIAGE_CERTIFICATE.title_zh), MARRIAGE_CERTIFICATE)
    assert spy.stored == []
    assert (ledger.pins(), ledger.key_count()) == (pins, keys)


def _accreditation_withdrawn_meanwhile(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pre-check passes; the contract refuses (governance withdrew the scope meanwhile)."""
    monkeypatch.setattr(
        "ledger.writes.certificates.require_accreditation", lambda *args, **kwargs: None
    )


def _not_anchored_yet_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pre-check misses an anchor made meanwhile (another process won the race)."""
    original = CertificateRegistryClient.certificate
    calls = {"count": 0}

    def racing(self: CertificateRegistryClient, doc_hash: bytes, **kwargs: Any) -> Any:
        calls["count"] += 1
        return None if calls["count"] == 1 else original(self, doc_hash, **kwargs)

    monkeypatch.setattr(CertificateRegistryClient, "certificate", racing)


#: How a stored document's anchoring fails, and the error it fails with.
LATE_FAILURES: Final[dict[str, tuple[CertificateType, type[Exception], bool]]] = {
    # type, error, whether the same hash is anchored meanwhile by someone else
    "not-accredited": (MARRIAGE_CERTIFICATE, errors.AccreditationScopeNotGranted, False),
    "duplicate-found-late": (
        RESIDENCE_CERTIFICATE,
        errors.CertificateRegistryAlreadyAnchored,
        True,
    ),
}


@pytest.mark.parametrize("failure", list(LATE_FAILURES))
def test_anchoring_failure_after_storing_discards_the_copy(
    ledger: DocumentLedger, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    kind, error, raced = LATE_FAILURES[failure]
    data = personal_document(kind.title_zh)
    digest = document_hash_of(data).hash
    if raced:
        ledger.anchor(data, kind, store=False)
        _not_anchored_yet_once(monkeypatch)
    else:
        _accreditation_withdrawn_meanwhile(monkeypatch)
    pins, keys = ledger.pins(), ledger.key_count()
    spy = StoreSpy(ledger.documents, monkeypatch)

    with pytest.raises(error):
        ledger.anchor(data, kind)

    [stored] = spy.stored
    assert stored.encrypted
    assert ledger.pins() == pins  # the copy's pin is gone
    assert ledger.key_count() == keys  # and so is its key
    assert ledger.documents.vault.is_erased(stored.cid)
    with pytest.raises(DocumentErasedError):
        ledger.documents.fetch_document(stored.cid)
    record = ledger.session.certificates().certificate(digest)
    if raced:
        assert record is not None  # the winner's anchor, which names no copy of ours
        assert anchored_cid(ledger.session.certificates(), record) is None
    else:
        assert record is None


def test_failed_anchor_keeps_a_clear_copy_others_may_share(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Identical clear bytes share one CID and pin: discarding them could drop another's copy."""
    with open_document_ledger("embedded", tmp_path) as ledger:
        data = unique_text(f"报关单位备案 {ENTERPRISE}")
        earlier = ledger.documents.store_document(data, encrypt=False)
        _accreditation_withdrawn_meanwhile(monkeypatch)
        with pytest.raises(errors.AccreditationScopeNotGranted):
            ledger.anchor(data, CUSTOMS_REGISTRATION)
        assert earlier.cid in ledger.pins()
        assert ledger.documents.fetch_document(earlier.cid) == data


def test_chain_failure_of_unknown_outcome_keeps_the_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the node stops answering, the transaction may still land: the copy it names stays."""
    with open_document_ledger("embedded", tmp_path) as ledger:
        spy = StoreSpy(ledger.documents, monkeypatch)

        def no_answer(*_args: Any, **_kwargs: Any) -> Any:
            raise ChainUnavailableError("no receipt before the timeout; the transaction may land")

        monkeypatch.setattr(TransactionSender, "transact", no_answer)
        with pytest.raises(ChainUnavailableError) as failed:
            ledger.anchor(personal_document(), RESIDENCE_CERTIFICATE)
        [stored] = spy.stored
        assert failed.value.__notes__ == [
            f"the stored copy {stored.cid} was kept: the transaction may still land"
        ]
        assert stored.cid in ledger.pins()
        assert ledger.documents.vault.get_key(stored.cid) is not None


#: Chain and how the IPFS node goes down.
NODE_DOWN: Final = (
    pytest.param("embedded", "stop", id="embedded-stop"),
    pytest.param("anvil", "kill", id="anvil-kill"),
)


@pytest.mark.parametrize(("chain", "how"), NODE_DOWN)
def test_ipfs_node_down(chain: BackendKind, how: str, ipfs_node: IpfsNode, tmp_path: Path) -> None:
    """With the node down: verification fails storage.copy, and anchoring fails before anything
    reaches the chain or the vault; once the node is back, the same anchoring succeeds."""
    with open_document_ledger(
        chain, tmp_path / "ledger", ipfs=ipfs_node, store_timeout=5
    ) as ledger:
        stored_before = personal_document("结婚前")
        ledger.anchor(stored_before, RESIDENCE_CERTIFICATE)
        pins, keys = ledger.pins(), ledger.key_count()
        data = personal_document()
        digest = document_hash_of(data).hash
        head = ledger.session.chain_head()

        if how == "stop":
            ipfs_node.stop()
        else:
            ipfs_node.kill()

        report = ledger.verify(stored_before)
        assert report.verdict is Verdict.INVALID
        result, detail = check(report, CheckName.STORED_COPY)
        assert result is Outcome.FAILED
        assert detail.startswith("document store unreachable: IPFS node at 127.0.0.1:")

        with pytest.raises(StorageUnavailableError):
            ledger.anchor(data, RESIDENCE_CERTIFICATE)
        assert ledger.session.certificates().certificate(digest) is None
        assert ledger.key_count() == keys
        if chain == "embedded":  # anvil mines nothing without transactions either
            assert ledger.session.chain_head() == head

        with start_ipfs(
            ipfs_node.repo_dir, ipfs_node.port, log_path=tmp_path / "again.log"
        ) as again:
            ledger.ipfs = again
            assert ledger.pins() == pins  # no orphan pin
            outcome = ledger.anchor(data, RESIDENCE_CERTIFICATE)
            assert ledger.pins() == pins | {outcome.cid}
            report = ledger.verify(data)
            assert report.verdict is Verdict.VALID, report.failures
            assert check(ledger.verify(stored_before), CheckName.STORED_COPY)[0] is Outcome.PASSED


# ----------------------------------------------------------------------------------------------
# Erasure
# ----------------------------------------------------------------------------------------------


def test_erasure_keeps_the_anchor_verifying_the_holders_copy(ledger: DocumentLedger) -> None:
    holders_copy = personal_document()
    outcome = ledger.anchor(holders_copy, RESIDENCE_CERTIFICATE)
    assert outcome.cid is not None
    documents = ledger.documents

    documents.erase(outcome.cid)
    documents.erase(outcome.cid)  # idempotent

    with pytest.raises(DocumentErasedError):
        documents.fetch_document(outcome.cid)
    assert outcome.cid not in ledger.pins()
    erased_at = documents.vault.erased_at(outcome.cid)
    assert erased_at is not None

    report = ledger.verify(holders_copy)
    assert report.verdict is Verdict.VALID, report.failures
    assert check(report, CheckName.STORED_COPY) == (
        Outcome.NOT_APPLICABLE,
        f"erased on {erased_at.isoformat()}: the stored copy is gone; the presented copy was "
        "verified against the anchor",
    )
    assert check(report, CheckName.ANCHORED)[0] is Outcome.PASSED


# ----------------------------------------------------------------------------------------------
# Settings and local secrets (no chain)
# ----------------------------------------------------------------------------------------------

GOOD_KEY: Final = "5f0c3a9e4d1b7a26c8e3f9015b7d2a4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f1a3b"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("00" * 32, "placeholder"),
        ("ab" * 32, "placeholder"),
        ("0123456789abcdef" * 4, "placeholder"),
        (GOOD_KEY[:-2], "must be 32 bytes"),
        (GOOD_KEY + "00", "must be 32 bytes"),
        ("zz" * 32, "must be hex-encoded"),
    ],
    ids=["zeros", "repeated-pair", "counting", "short", "long", "not-hex"],
)
def test_master_key_placeholders_are_refused(tmp_path: Path, value: str, problem: str) -> None:
    settings = Settings(data_dir=tmp_path, master_key=SecretStr(value))
    with pytest.raises(ConfigurationError, match=problem) as refused:
        settings.master_key_bytes()
    assert value not in str(refused.value)


def test_master_key_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="no document master key"):
        Settings(data_dir=tmp_path).master_key_bytes()
    monkeypatch.setenv("LEDGER_MASTER_KEY", "0x" + GOOD_KEY)
    assert Settings(data_dir=tmp_path).master_key_bytes() == bytes.fromhex(GOOD_KEY)
    monkeypatch.delenv("LEDGER_MASTER_KEY")
    write_local_secrets(tmp_path)
    stored = json.loads((tmp_path / SECRETS_FILE).read_text(encoding="utf-8"))["master_key"]
    assert Settings(data_dir=tmp_path).master_key_bytes() == bytes.fromhex(stored)
    with pytest.raises(ConfigurationError, match="equals the pepper"):
        Settings(
            data_dir=tmp_path, pepper=SecretStr(GOOD_KEY), master_key=SecretStr(GOOD_KEY)
        ).master_key_bytes()


def test_local_secrets_gain_a_master_key_and_keep_the_rest(tmp_path: Path) -> None:
    """A data directory made before documents were stored keeps its pepper and password."""
    path = tmp_path / SECRETS_FILE
    old = {"pepper": secrets.token_hex(32), "keystore_password": secrets.token_urlsafe(32)}
    path.write_text(json.dumps(old), encoding="utf-8")
    path.chmod(0o600)

    assert write_local_secrets(tmp_path) is True
    document = json.loads(path.read_text(encoding="utf-8"))
    assert {k: document[k] for k in old} == old
    assert len(bytes.fromhex(document["master_key"])) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert write_local_secrets(tmp_path) is False
    assert json.loads(path.read_text(encoding="utf-8")) == document


def test_local_secrets_only_those_the_environment_lacks(tmp_path: Path) -> None:
    assert write_local_secrets(tmp_path, ["master_key"]) is True
    assert set(json.loads((tmp_path / SECRETS_FILE).read_text(encoding="utf-8"))) == {"master_key"}


def test_initialize_adds_the_master_key_to_an_older_data_directory(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    old = {"pepper": secrets.token_hex(32), "keystore_password": secrets.token_urlsafe(32)}
    (data_dir / SECRETS_FILE).write_text(json.dumps(old), encoding="utf-8")
    session, _ = LedgerSession.initialize(Settings(data_dir=data_dir))
    with session:
        document = json.loads((data_dir / SECRETS_FILE).read_text(encoding="utf-8"))
        assert document["pepper"] == old["pepper"]
        assert session.settings.master_key_bytes() == bytes.fromhex(document["master_key"])


def test_encrypt_types_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LEDGER_ENCRYPT_TYPES", " business-licence, tax-registration ,")
    settings = Settings(data_dir=tmp_path)
    assert settings.encrypt_types == ("business-licence", "tax-registration")
    organisation = parse_subject(ENTERPRISE)
    assert settings.encrypts(BUSINESS_LICENCE, organisation)
    assert settings.encrypts(RESIDENCE_CERTIFICATE, organisation)  # personal: always
    assert not settings.encrypts(CUSTOMS_REGISTRATION, organisation)
    assert settings.encrypts(CUSTOMS_REGISTRATION, parse_subject(CITIZEN))  # a person: always
    monkeypatch.setenv("LEDGER_ENCRYPT_TYPES", "business-licence,driving-licence")
    with pytest.raises(pydantic.ValidationError, match="unknown certificate type"):
        Settings(data_dir=tmp_path)
    monkeypatch.setenv("LEDGER_ENCRYPT_TYPES", "")
    assert Settings(data_dir=tmp_path).encrypt_types == ()


def test_store_selection(tmp_path: Path) -> None:
    embedded = Settings(data_dir=tmp_path, ipfs_api=" ")
    assert embedded.ipfs_api is None
    store = open_store(embedded)
    assert isinstance(store, EmbeddedStore)
    assert store.directory == tmp_path / "documents"
    remote = Settings(data_dir=tmp_path, ipfs_api="/ip4/127.0.0.1/tcp/5001/http", store_timeout=7)
    node_store = open_store(remote)
    assert isinstance(node_store, IpfsStore)
    node_store.close()
