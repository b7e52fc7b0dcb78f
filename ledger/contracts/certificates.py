"""The client of ``CertificateRegistry``: anchoring (one document, a batch root, for a holder),
the lifecycle writes (suspend, reinstate, revoke, supersede, revoke one leaf of a batch), and the
reads of records, successors and anchoring events.

It packs the anchoring terms like the contract does and builds the calls: a write method returns
the web3 call and sends nothing (the use cases of :mod:`ledger.writes` hand it to the CLI or the
service's journal; a test sends it with its own sender). Documents, Merkle trees and verification
verdicts are not here (see :mod:`ledger.documents`, :mod:`ledger.documents.merkle`,
:mod:`ledger.verification`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from web3.contract.contract import ContractFunction
from web3.types import BlockIdentifier

from ledger.chain.transactions import rpc_guard
from ledger.contracts.context import ChainContext
from ledger.contracts.deployment import contract
from ledger.contracts.layout import CERT_TERMS_REGION_SHIFT, CERT_TERMS_TYPE_SHIFT
from ledger.contracts.values import (
    CertificateRecord,
    CertificateStatus,
    LeafStatus,
    RecordKind,
    _bytes32,
    _seconds,
    _time,
)
from ledger.errors import ValidationError

__all__ = ["CertificateRegistryClient"]


class CertificateRegistryClient:
    """Anchoring and lifecycle of certificates."""

    def __init__(self, context: ChainContext) -> None:
        self.context = context
        self.contract = contract(
            context.web3, "CertificateRegistry", context.deployment.certificate_registry
        )

    @staticmethod
    def encode_terms(cert_type: int, region: int, expires_at: datetime | None) -> int:
        """Pack anchoring terms like ``CertificateRegistry.encodeTerms``."""
        if not 0 < cert_type < 1 << 32 or not 100000 <= region <= 999999:
            raise ValidationError("certificate type or region out of range")
        return (
            (cert_type << CERT_TERMS_TYPE_SHIFT)
            | (region << CERT_TERMS_REGION_SHIFT)
            | _seconds(expires_at)
        )

    def version(self) -> str:
        """The contract's ``VERSION()`` (semantic versioning): which version of the contract this
        client talks to."""
        return str(rpc_guard(lambda: self.contract.functions.VERSION().call()))

    def anchor(
        self,
        doc_hash: bytes,
        cert_type: int,
        region: int,
        expires_at: datetime | None = None,
        *,
        subject_ref: bytes | None = None,
        cid: bytes | None = None,
    ) -> ContractFunction:
        """The call that anchors a document hash; with ``subject_ref`` or ``cid`` it is keyed to
        its holder (``anchorCertificateFor``), else bare (``anchorCertificate``)."""
        terms = self.encode_terms(cert_type, region, expires_at)
        digest = _bytes32(doc_hash, "document hash")
        if subject_ref is None and not cid:
            function: ContractFunction = self.contract.functions.anchorCertificate(digest, terms)
            return function
        holder = _bytes32(subject_ref, "subject reference") if subject_ref else bytes(32)
        function = self.contract.functions.anchorCertificateFor(digest, terms, holder, cid or b"")
        return function

    def anchor_batch(
        self, root: bytes, cert_type: int, region: int, expires_at: datetime | None = None
    ) -> ContractFunction:
        """The call that anchors the Merkle root of a batch of certificates sharing type,
        region and expiry."""
        terms = self.encode_terms(cert_type, region, expires_at)
        function: ContractFunction = self.contract.functions.anchorBatchedCertificates(
            _bytes32(root, "batch root"), terms
        )
        return function

    def revoke_leaf(
        self, root: bytes, doc_hash: bytes, proof: Sequence[bytes], reason: int
    ) -> ContractFunction:
        """The call that revokes one certificate of a batch (its Merkle proof shows it is in
        the batch)."""
        function: ContractFunction = self.contract.functions.revokeLeaf(
            _bytes32(root, "batch root"),
            _bytes32(doc_hash, "document hash"),
            [_bytes32(node, "proof element") for node in proof],
            reason,
        )
        return function

    def leaf_status(
        self,
        root: bytes,
        doc_hash: bytes,
        proof: Sequence[bytes],
        *,
        block: BlockIdentifier = "latest",
    ) -> LeafStatus:
        """Status of one certificate of a batch (NONE when the proof does not lead to a root)."""
        status, reason, revoked_by, revoked_at = rpc_guard(
            lambda: self.contract.functions.leafStatusOf(
                _bytes32(root, "batch root"),
                _bytes32(doc_hash, "document hash"),
                [_bytes32(node, "proof element") for node in proof],
            ).call(block_identifier=block)
        )
        return LeafStatus(
            CertificateStatus(status), int(reason), int(revoked_by) or None, _time(revoked_at)
        )

    def suspend(self, doc_hash: bytes, reason: int) -> ContractFunction:
        """The call that suspends an active certificate."""
        function: ContractFunction = self.contract.functions.suspend(
            _bytes32(doc_hash, "document hash"), reason
        )
        return function

    def reinstate(self, doc_hash: bytes) -> ContractFunction:
        """The call that reinstates a suspended certificate."""
        function: ContractFunction = self.contract.functions.reinstate(
            _bytes32(doc_hash, "document hash")
        )
        return function

    def revoke(self, doc_hash: bytes, reason: int) -> ContractFunction:
        """The call that revokes a certificate for good."""
        function: ContractFunction = self.contract.functions.revoke(
            _bytes32(doc_hash, "document hash"), reason
        )
        return function

    def supersede(
        self,
        old_hash: bytes,
        new_hash: bytes,
        reason: int,
        expires_at: datetime | None = None,
        *,
        subject_ref: bytes | None = None,
        cid: bytes | None = None,
    ) -> ContractFunction:
        """The call that replaces ``old_hash`` by ``new_hash`` (same type and region)."""
        function: ContractFunction = self.contract.functions.supersede(
            _bytes32(old_hash, "document hash"),
            _bytes32(new_hash, "document hash"),
            _seconds(expires_at),
            _bytes32(subject_ref, "subject reference") if subject_ref else bytes(32),
            cid or b"",
            reason,
        )
        return function

    def certificate(
        self, doc_hash: bytes, *, block: BlockIdentifier = "latest"
    ) -> CertificateRecord | None:
        """The anchored record, or None when the hash was never anchored."""
        digest = _bytes32(doc_hash, "document hash")
        raw = rpc_guard(
            lambda: self.contract.functions.certificateOf(digest).call(block_identifier=block)
        )
        issuer, cert_type, region, anchored_at, expires_at, anchored_block, status, kind, reason = (
            raw
        )
        if status == CertificateStatus.NONE:
            return None
        return CertificateRecord(
            doc_hash=digest,
            issuer=issuer,
            cert_type=cert_type,
            region=region,
            anchored_at=datetime.fromtimestamp(anchored_at, UTC),
            expires_at=_time(expires_at),
            anchored_block=anchored_block,
            status=CertificateStatus(status),
            kind=RecordKind(kind),
            reason_code=reason,
        )

    def successor(self, doc_hash: bytes) -> bytes | None:
        """The replacement of a superseded certificate."""
        value = bytes(
            rpc_guard(
                lambda: self.contract.functions.successorOf(
                    _bytes32(doc_hash, "document hash")
                ).call()
            )
        )
        return None if value == bytes(32) else value

    def anchored_between(self, first: int, last: int) -> list[tuple[bytes, int, int]]:
        """(document hash or batch root, block, log index) of every anchor in blocks
        ``first``..``last``."""
        events = self.contract.events
        found: list[tuple[bytes, int, int]] = []
        anchors = (
            events.CertificateAnchored,
            events.CertificateAnchoredFor,
            events.CertificateBatchAnchored,
        )
        for event_type in anchors:

            def fetch(event_type: Any = event_type) -> Any:
                return event_type.get_logs(from_block=first, to_block=last)

            found.extend(
                (
                    bytes(log["args"].get("docHash", log["args"].get("root", b""))),
                    int(log["blockNumber"]),
                    int(log["logIndex"]),
                )
                for log in rpc_guard(fetch)
            )
        return sorted(found, key=lambda item: (item[1], item[2]))

    def anchored_for(self, record: CertificateRecord) -> tuple[bytes, bytes] | None:
        """(subject reference, binary CID) anchored with ``record`` by its
        ``CertificateAnchoredFor`` event, or None when it was anchored without one (bare).

        The registry keeps neither in storage (ADR 0003: no SSTORE for them on the hot path),
        only in that event. Its only topic is the subject reference, so the event is found by
        the document hash in its data; the record says in which block it was anchored, and the
        event was emitted by that very transaction, so one block's logs are read, not the chain's.
        A zero subject reference (a supersession naming no holder) is returned as is.
        """
        block = record.anchored_block
        events = rpc_guard(
            lambda: self.contract.events.CertificateAnchoredFor.get_logs(
                from_block=block, to_block=block
            )
        )
        for event in events:
            if bytes(event["args"]["docHash"]) == record.doc_hash:
                return bytes(event["args"]["subjectRef"]), bytes(event["args"]["cid"])
        return None

    def held_by(self, subject_ref: bytes) -> list[tuple[bytes, bytes, int]]:
        """(document hash, CID, block) of every certificate anchored for ``subject_ref``."""
        events = rpc_guard(
            lambda: self.contract.events.CertificateAnchoredFor.get_logs(
                argument_filters={"subjectRef": _bytes32(subject_ref, "subject reference")},
                from_block=self.context.deployment.block,
            )
        )
        return [
            (bytes(e["args"]["docHash"]), bytes(e["args"]["cid"]), int(e["blockNumber"]))
            for e in events
        ]
