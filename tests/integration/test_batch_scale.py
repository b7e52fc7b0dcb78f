"""Acceptance of issue #5 at full size: one batch of 10,000 certificates anchors in one
transaction; every leaf verifies on chain; revoking one leaf makes exactly that leaf INVALID."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from ledger.catalogue import ReasonCode, certificate_type
from ledger.cli.departments import add_department
from ledger.config import Settings
from ledger.contracts import CertificateStatus
from ledger.documents.merkle import verify_proof
from ledger.session import LedgerSession
from ledger.writes.certificates import anchor_hashes

SIZE = 10_000
LICENCE = certificate_type("business-licence")


@pytest.mark.slow
def test_ten_thousand_certificates_in_one_transaction(tmp_path: Path) -> None:
    session, _ = LedgerSession.initialize(Settings(data_dir=tmp_path / "data"))
    with session:
        add_department(session, 21, 110101, "东城区市场监督管理局", [LICENCE.code])
        leaves = [secrets.token_bytes(32) for _ in range(SIZE)]
        head = session.chain_head()
        write = anchor_hashes(session, leaves, LICENCE, department_id=21)
        receipt = session.send(write)
        outcome = write.facts
        # One transaction: one block, one receipt, for all of them.
        assert receipt["status"] == 1
        assert session.chain_head() == head + 1
        assert receipt["gasUsed"] / SIZE <= 48_168 / SIZE
        reader = session.certificates()

        def statuses() -> list[CertificateStatus]:
            return [
                reader.leaf_status(outcome.root, leaf, proof.path).status
                for leaf, proof in zip(leaves, outcome.proofs, strict=True)
            ]

        assert all(
            verify_proof(leaf, proof.path, outcome.root)
            for leaf, proof in zip(leaves, outcome.proofs, strict=True)
        )
        # Every leaf is read on chain once, after the revocation: that single pass shows each of
        # the other 9,999 verifying and exactly the revoked one not (20,000 reads took twice as
        # long for nothing more).
        revoked = secrets.randbelow(SIZE)
        session.department_sender(21).transact(
            session.certificates().revoke_leaf(
                outcome.root, leaves[revoked], outcome.proofs[revoked].path, ReasonCode.FRAUD
            )
        )
        after = statuses()
        assert after[revoked] is CertificateStatus.REVOKED
        assert [i for i, status in enumerate(after) if status is not CertificateStatus.ACTIVE] == [
            revoked
        ]
