"""The client of ``AccessLogAnchors`` (the tamper evidence of the citizens' access log, 查询记录)
and its value type :class:`AccessLogAnchor`.

It builds the call that anchors a batch's Merkle root with its sequence range (sending it is the
caller's: governance signs it) and reads anchored batches back. Which entries a batch holds, how
their leaves are hashed and the proofs are kept off chain, in :mod:`ledger.service.access_log`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from web3.contract.contract import ContractFunction
from web3.types import BlockIdentifier

from ledger.chain.transactions import rpc_guard
from ledger.contracts.context import ChainContext
from ledger.contracts.deployment import contract
from ledger.contracts.values import _LAST_REPRESENTABLE, _bytes32
from ledger.errors import NotDeployedError, ValidationError

__all__ = [
    "AccessLogAnchor",
    "AccessLogAnchorsClient",
]

#: The contract keeps sequence numbers as uint64.
_SEQ_LIMIT: Final = 1 << 64


@dataclass(frozen=True)
class AccessLogAnchor:
    """An anchored batch of the access log (``IAccessLogAnchors.Anchor``): the log entries
    ``first_seq`` to ``last_seq`` (inclusive) and when their root was anchored."""

    first_seq: int
    last_seq: int
    anchored_at: datetime

    def covers(self, seq: int) -> bool:
        """Whether the entry numbered ``seq`` falls in this batch's range."""
        return self.first_seq <= seq <= self.last_seq


def _seq(value: int, what: str) -> int:
    """A sequence number as the contract takes it (uint64); ValidationError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _SEQ_LIMIT:
        raise ValidationError(f"{what} must be an integer from 0 to 2^64 - 1")
    return value


class AccessLogAnchorsClient:
    """The access log's anchors: the call that anchors a batch (governance's), and the reads
    that check a root and the last sequence number anchored."""

    def __init__(self, context: ChainContext) -> None:
        address = context.deployment.access_log
        if address is None:
            raise NotDeployedError(
                "this deployment has no access-log anchor contract; run `ledger init` to add it"
            )
        self.context = context
        self.contract = contract(context.web3, "AccessLogAnchors", address)

    def version(self) -> str:
        """The contract's ``VERSION()`` (semantic versioning): which version of the contract this
        client talks to."""
        return str(rpc_guard(lambda: self.contract.functions.VERSION().call()))

    def anchor(self, root: bytes, first_seq: int, last_seq: int) -> ContractFunction:
        """The call that anchors ``root`` as the Merkle root of the entries ``first_seq`` to
        ``last_seq`` (inclusive); the contract refuses a zero or reused root, an empty or
        reversed range, and a range not after the last one anchored (named errors)."""
        return self.contract.functions.anchor(
            _bytes32(root, "Merkle root"),
            _seq(first_seq, "first sequence number"),
            _seq(last_seq, "last sequence number"),
        )

    def anchor_of(
        self, root: bytes, *, block: BlockIdentifier = "latest"
    ) -> AccessLogAnchor | None:
        """The batch anchored under ``root`` (as of ``block``), or None when it never was."""
        digest = _bytes32(root, "Merkle root")
        first, last, anchored = rpc_guard(
            lambda: self.contract.functions.anchorOf(digest).call(block_identifier=block)
        )
        if anchored == 0:
            return None
        return AccessLogAnchor(
            first_seq=int(first),
            last_seq=int(last),
            anchored_at=datetime.fromtimestamp(min(int(anchored), _LAST_REPRESENTABLE), UTC),
        )

    def last_seq(self, *, block: BlockIdentifier = "latest") -> int:
        """The last sequence number anchored (0 before the first batch): the next batch starts
        above it."""
        return int(
            rpc_guard(lambda: self.contract.functions.lastSeq().call(block_identifier=block))
        )
