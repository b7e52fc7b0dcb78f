"""A ledger with something of every kind the open statistics count (ADR 0030): certificates
of several types and provinces (one province with only three, to be suppressed), revoked
with reasons, suspended, superseded and one expiring soon, a batch with a revoked leaf, credit
events disputed to each outcome, and bundles completed and overdue.

Written straight through the contract clients with each department's key: the figures read
only the chain, whichever path wrote it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from ledger.catalogue import ReasonCode, certificate_type, credit_category
from ledger.cli.departments import add_department
from ledger.contracts.values import Amendment, Polarity
from ledger.documents.merkle import MerkleTree
from ledger.session import LedgerSession

BEIJING: Final = 1
SHENZHEN: Final = 2
LICENCE: Final = certificate_type("business-licence").code
RESIDENCE: Final = certificate_type("residence-certificate").code
TAX: Final = credit_category("tax-violation").code
DEFAULT: Final = credit_category("contract-default").code
COMMENDATION: Final = credit_category("commendation").code
#: Certificates anchored in Guangdong (province 440000): under the default threshold.
SMALL_PROVINCE_COUNT: Final = 3


@dataclass(frozen=True)
class Seeded:
    """What was written, for the tests to compare with the published figures."""

    anchored: int
    small_province: int


def _hash(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def _now(session: LedgerSession) -> datetime:
    block = session.connection.web3.eth.get_block("latest")
    return datetime.fromtimestamp(int(block["timestamp"]), UTC)


def seed_statistics(session: LedgerSession, advance: Callable[[int], None] | None = None) -> Seeded:
    """Write the statistics' fixture; ``advance(seconds)`` moves the chain's clock on (anvil)
    so that a bundle passes its deadline unfinished (skipped when None)."""
    add_department(
        session, BEIJING, 110101, "东城区市场监督管理局", [LICENCE, TAX, DEFAULT, COMMENDATION]
    )
    add_department(session, SHENZHEN, 440305, "南山区公安分局", [RESIDENCE])
    beijing = session.department_sender(BEIJING)
    shenzhen = session.department_sender(SHENZHEN)
    certificates = session.certificates()
    soon = _now(session) + timedelta(days=30)
    holder = _hash("enterprise reference")
    hashes = [_hash(f"licence {i}") for i in range(12)]
    for i, digest in enumerate(hashes):
        expiry = soon if i == 11 else None
        beijing.transact(certificates.anchor(digest, LICENCE, 110101, expiry, subject_ref=holder))
    for i in range(SMALL_PROVINCE_COUNT):
        shenzhen.transact(certificates.anchor(_hash(f"residence {i}"), RESIDENCE, 440305))
    for digest in hashes[:6]:
        beijing.transact(certificates.revoke(digest, ReasonCode.FRAUD))
    beijing.transact(certificates.revoke(hashes[6], ReasonCode.ISSUED_IN_ERROR))
    beijing.transact(certificates.suspend(hashes[7], ReasonCode.INVESTIGATION))
    beijing.transact(
        certificates.supersede(hashes[8], _hash("licence 8 renewed"), ReasonCode.RENEWAL)
    )
    leaves = [_hash(f"batched {i}") for i in range(4)]
    tree = MerkleTree.build(leaves)
    beijing.transact(certificates.anchor_batch(tree.root, LICENCE, 110101))
    beijing.transact(
        certificates.revoke_leaf(tree.root, leaves[0], tree.proof(0), ReasonCode.FRAUD)
    )
    _credit(session)
    _bundles(session, hashes[9:11], holder, advance)
    return Seeded(
        anchored=len(hashes) + 1 + SMALL_PROVINCE_COUNT, small_province=SMALL_PROVINCE_COUNT
    )


def _credit(session: LedgerSession) -> None:
    """Eleven events: negative and positive, disputed to every outcome."""
    beijing = session.department_sender(BEIJING)
    credit = session.credit()
    occurred = _now(session) - timedelta(days=10)
    ids = []
    for i in range(11):
        category, polarity = (
            (COMMENDATION, Polarity.POSITIVE)
            if i >= 8
            else ((TAX if i % 2 else DEFAULT), Polarity.NEGATIVE)
        )
        subject = _hash(f"subject {i}")
        evidence = _hash(f"evidence {i}")
        when = occurred + timedelta(seconds=i)
        beijing.transact(credit.record(subject, category, polarity, 1 + i % 5, when, evidence))
        ids.append(credit.event_id(subject, category, when, evidence))
    reason = _hash("decision")
    for event_id, outcome in zip(
        ids, (Amendment.UPHELD, Amendment.WITHDRAWN, Amendment.UPHELD, None), strict=False
    ):
        beijing.transact(credit.amend(event_id, Amendment.DISPUTED, reason))
        if outcome is not None:
            beijing.transact(credit.amend(event_id, outcome, reason))


def _bundles(
    session: LedgerSession,
    licences: list[bytes],
    holder: bytes,
    advance: Callable[[int], None] | None,
) -> None:
    """Two bundles completed (one part each), one left open past its deadline."""
    beijing = session.department_sender(BEIJING)
    bundles = session.bundles()
    deadline = _now(session) + timedelta(days=2)
    for i, licence in enumerate(licences):
        bundle_id = _hash(f"bundle {i}")
        beijing.transact(bundles.open(bundle_id, holder, deadline, [(BEIJING, LICENCE)]))
        beijing.transact(bundles.file_part(bundle_id, 0, licence))
    beijing.transact(bundles.open(_hash("bundle late"), holder, deadline, [(BEIJING, LICENCE)]))
    if advance is not None:
        advance(3 * 86_400)
