"""Governance's write on the citizens' access log (查询记录, ADR 0028): anchoring a batch's
Merkle root with its range of entries on ``AccessLogAnchors``, signed by the governance key
(:data:`~ledger.writes.prepared.GOVERNANCE`), like every governance write.

Which entries a batch holds and its root are :mod:`ledger.service.access_log`'s; the service
journals the prepared write (``api/access_log_anchoring.py``), which is the only sender.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ledger.writes.prepared import GOVERNANCE, PreparedWrite

if TYPE_CHECKING:
    from ledger.session import LedgerSession

__all__ = ["BatchAnchored", "anchor_batch"]


@dataclass(frozen=True)
class BatchAnchored:
    """What anchoring a batch of the access log reports."""

    root: bytes
    first_seq: int
    last_seq: int


def anchor_batch(
    session: LedgerSession, root: bytes, first_seq: int, last_seq: int
) -> PreparedWrite[BatchAnchored]:
    """Prepare anchoring ``root`` for the entries ``first_seq`` to ``last_seq``.

    NotDeployedError when the deployment has no anchor contract (``ledger init`` adds it);
    the contract refuses a zero or reused root and a range not after the last one anchored,
    as the journaled operation's failure."""
    function = session.access_log_anchors().anchor(root, first_seq, last_seq)
    return PreparedWrite(function, GOVERNANCE, BatchAnchored(root, first_seq, last_seq))
