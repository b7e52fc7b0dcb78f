"""The client of ``LicenceBundles`` (joint licensing, ADR 0011) and its value types:
:class:`Bundle` and :class:`BundlePart`.

It builds the calls that open bundles and file parts (sending them is the caller's:
:mod:`ledger.writes.bundles` prepares them) and reads bundles; whether a bundle verifies (every
part live, held by the bundle's enterprise) is decided in :mod:`ledger.verification`, not here.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from web3.contract.contract import ContractFunction
from web3.types import BlockIdentifier

from ledger.catalogue import certificate_type_label
from ledger.chain.transactions import rpc_guard
from ledger.contracts.context import ChainContext
from ledger.contracts.deployment import contract
from ledger.contracts.values import (
    _bytes32,
    _seconds,
    _time,
)
from ledger.errors import NotDeployedError

__all__ = [
    "Bundle",
    "BundlePart",
    "LicenceBundlesClient",
]


@dataclass(frozen=True)
class BundlePart:
    """One required licence of a bundle, and the certificate filed for it (None: not yet)."""

    department_id: int
    cert_type: int
    doc_hash: bytes | None

    def label(self, index: int) -> str:
        """How messages name the part: ``part 1 (tax-registration of department 22)``."""
        return (
            f"part {index} ({certificate_type_label(self.cert_type)} of department "
            f"{self.department_id})"
        )


@dataclass(frozen=True)
class Bundle:
    """A joint licensing bundle (``ILicenceBundles.Bundle``) with its parts."""

    bundle_id: bytes
    lead: int
    subject_ref: bytes
    opened_at: datetime
    deadline: datetime
    completed_at: datetime | None
    parts: tuple[BundlePart, ...]

    @property
    def filed(self) -> int:
        return sum(1 for part in self.parts if part.doc_hash is not None)

    def holder_problem(self, holder: bytes | None) -> str | None:
        """Why a certificate anchored for the subject reference ``holder`` (None: anchored
        without one) cannot be a part of this bundle, or None when it can (ADR 0019)."""
        if holder == self.subject_ref:
            return None
        if holder is None or holder == bytes(32):
            return "the certificate was anchored without a holder, not for the bundle's enterprise"
        return "the certificate is not held by the bundle's enterprise"


class LicenceBundlesClient:
    """Joint licensing (ADR 0011): the calls that open a bundle and file parts; reads bundles."""

    def __init__(self, context: ChainContext) -> None:
        address = context.deployment.licence_bundles
        if address is None:
            raise NotDeployedError(
                "this deployment has no joint licensing contract; run `ledger init` to add it"
            )
        self.context = context
        self.contract = contract(context.web3, "LicenceBundles", address)

    def version(self) -> str:
        """The contract's ``VERSION()`` (semantic versioning): which version of the contract this
        client talks to."""
        return str(rpc_guard(lambda: self.contract.functions.VERSION().call()))

    def open(
        self,
        bundle_id: bytes,
        subject_ref: bytes,
        deadline: datetime,
        parts: Sequence[tuple[int, int]],
    ) -> ContractFunction:
        """The call that opens a bundle naming (department, certificate type) parts; its
        signer's department leads it."""
        return self.contract.functions.openBundle(
            _bytes32(bundle_id, "bundle id"),
            _bytes32(subject_ref, "subject reference"),
            _seconds(deadline),
            [list(part) for part in parts],
        )

    def file_part(self, bundle_id: bytes, index: int, doc_hash: bytes) -> ContractFunction:
        """The call that files its signer's department's certificate as part ``index``."""
        return self.contract.functions.filePart(
            _bytes32(bundle_id, "bundle id"), index, _bytes32(doc_hash, "document hash")
        )

    def bundle(self, bundle_id: bytes, *, block: BlockIdentifier = "latest") -> Bundle | None:
        """The bundle and its parts (as of ``block``), or None when unknown."""
        digest = _bytes32(bundle_id, "bundle id")
        lead, count, _filed, opened, deadline, completed, subject = rpc_guard(
            lambda: self.contract.functions.bundleOf(digest).call(block_identifier=block)
        )
        if opened == 0:
            return None
        parts = []
        functions = self.contract.functions

        def part_of(index: int) -> Any:
            return functions.partOf(digest, index).call(block_identifier=block)

        for index in range(count):
            (department, cert_type), filed = rpc_guard(functools.partial(part_of, index))
            filed_hash = bytes(filed)
            parts.append(
                BundlePart(department, cert_type, None if filed_hash == bytes(32) else filed_hash)
            )
        return Bundle(
            bundle_id=digest,
            lead=lead,
            subject_ref=bytes(subject),
            opened_at=datetime.fromtimestamp(opened, UTC),
            deadline=datetime.fromtimestamp(deadline, UTC),
            completed_at=_time(completed),
            parts=tuple(parts),
        )

    def is_complete(self, bundle_id: bytes, *, block: BlockIdentifier = "latest") -> bool:
        """Every part filed, and every filed certificate active and unexpired (live)."""
        return bool(
            rpc_guard(
                lambda: self.contract.functions.isComplete(_bytes32(bundle_id, "bundle id")).call(
                    block_identifier=block
                )
            )
        )

    def opened_for(self, subject_ref: bytes) -> list[bytes]:
        """Ids of the bundles opened for ``subject_ref``, oldest first."""
        reference = _bytes32(subject_ref, "subject reference")
        event_type = self.contract.events.BundleOpened
        logs = rpc_guard(
            lambda: event_type.get_logs(
                argument_filters={"subjectRef": reference},
                from_block=self.context.deployment.block,
            )
        )
        return [bytes(log["args"]["bundleId"]) for log in logs]

    def last_filing_block(self, bundle_id: bytes, *, until: int | None = None) -> int | None:
        """The block of the bundle's latest ``BundlePartFiled`` event up to block ``until``
        (None: no part filed yet)."""
        digest = _bytes32(bundle_id, "bundle id")
        event_type = self.contract.events.BundlePartFiled
        last = "latest" if until is None else until
        logs = rpc_guard(
            lambda: event_type.get_logs(
                argument_filters={"bundleId": digest},
                from_block=self.context.deployment.block,
                to_block=last,
            )
        )
        return max((int(log["blockNumber"]) for log in logs), default=None)
