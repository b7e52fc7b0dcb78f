"""Merkle batches: gas per certificate and the cost of building trees and proofs.

Run: ``python bench/batch.py [--backend embedded|anvil] [--runs N]``. Prints Markdown tables (not
a test). For N = 1, 100 and 10,000 certificates: the gas of the one ``anchorBatchedCertificates``
transaction (random document hashes, a business licence batch of region 110101 expiring in about
five years, through :class:`~ledger.contracts.CertificateRegistryClient` as the CLI and API use
it), that gas divided by N next to OpenAttestation's ``issue(root)`` divided by N (the issue's
target: at most 4.8 gas a certificate at 10,000), and the time to build the tree and every proof
(:class:`~ledger.merkle.MerkleTree`, keccak through pycryptodome). The wrapping and verification
throughput comparisons with OpenAttestation's own tools come with wrapped certificates.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import fmean
from typing import Final

ROOT: Final = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from gas import OA_ISSUE, REGION, machine_line, open_backend  # noqa: E402

from ledger.catalogue import certificate_type  # noqa: E402
from ledger.merkle import MerkleTree, verify_proof  # noqa: E402

SIZES: Final = (1, 100, 10_000)
BUSINESS_LICENCE: Final = certificate_type("business-licence").code
DEPARTMENT: Final = 110_950


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backend", choices=("embedded", "anvil"), default="embedded")
    parser.add_argument("--runs", type=int, default=3, help="batches per size (default 3)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    started = time.perf_counter()
    rows: list[str] = []
    with open_backend(args.backend) as (session, description):
        session.add_department(DEPARTMENT, REGION, "Benchmark batch office", [BUSINESS_LICENCE])
        client = session.certificates(session.department_sender(DEPARTMENT))
        expires = datetime.now(UTC) + timedelta(days=5 * 365)
        for size in SIZES:
            gas: list[int] = []
            build: list[float] = []
            check: list[float] = []
            for _ in range(args.runs):
                leaves = [secrets.token_bytes(32) for _ in range(size)]
                begun = time.perf_counter()
                tree = MerkleTree.build(leaves)
                proofs = tree.proofs()
                build.append(time.perf_counter() - begun)
                begun = time.perf_counter()
                assert all(
                    verify_proof(leaf, proofs[i], tree.root) for i, leaf in enumerate(leaves)
                )
                check.append(time.perf_counter() - begun)
                receipt = client.anchor_batch(tree.root, BUSINESS_LICENCE, REGION, expires)
                gas.append(int(receipt["gasUsed"]))
            mean_gas = fmean(gas)
            per = mean_gas / size
            oa_per = OA_ISSUE / size
            target = "PASS" if size != 10_000 or max(gas) / size <= OA_ISSUE / size else "MISS"
            rows.append(
                f"| {size:,} | {mean_gas:,.0f} | {per:,.2f} | {oa_per:,.2f} | "
                f"{per / oa_per:.3f} | {target if size == 10_000 else '-'} | "
                f"{fmean(build) * 1000:,.1f} | {size / fmean(check):,.0f} |"
            )
    elapsed = time.perf_counter() - started
    print(machine_line(description))
    print(
        f"measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.runs} batch(es) a size, "
        f"{elapsed:.1f} s\n"
    )
    print(
        "| certificates (N) | gas of the anchoring transaction | gas per certificate | "
        "OA issue(root) / N | ratio | target (<= 4.8 at 10,000) | tree + all proofs (ms) | "
        "proofs checked per second |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
