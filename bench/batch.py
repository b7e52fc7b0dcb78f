"""Merkle batches: gas per certificate, and wrapping and verification next to OpenAttestation.

Run: ``python bench/batch.py [--backend embedded|anvil] [--runs N] [--skip-oa]``. Prints Markdown
tables (not a test).

**Gas** (first table). For N = 1, 100 and 10,000 certificates: the gas of the one
``anchorBatchedCertificates`` transaction (random document hashes, a business licence batch of
region 110101 expiring in about five years, through
:class:`~ledger.contracts.CertificateRegistryClient` as the CLI and API use it), that gas divided
by N next to OpenAttestation's ``issue(root)`` divided by N (the issue's target: at most 4.8 gas a
certificate at 10,000), and the time to build the tree and every proof
(:class:`~ledger.documents.merkle.MerkleTree`) over random hashes.

**Wrapping and offline verification** (second and third tables), for N = 1,000 and 10,000, each
side in its own language with its own library, on the same N documents with the same values:
``SHAPE`` below, document i with ``-`` and i (six digits) appended to the enterprise name and the
credit code. OpenAttestation's v2 schema requires an ``issuers`` entry, which flattens to 4
salted leaves beside the 5 business fields; our certificate gets the same 4 values as 4 fields
of its own, so both sides salt and hash 9 leaves a document. OpenAttestation runs in node
(``bench/oa_wrap.mjs``, ``@govtechsg/open-attestation`` from node_modules, node from PATH) with
``process.hrtime.bigint()``; ours runs here with ``time.perf_counter()``. Both warm up on a small
batch first, both run with their garbage collectors on, and neither side's timing includes
building the raw documents, serializing the wrapped ones or any file IO.

* *Wrap*, ours: :func:`~ledger.documents.salt_fields` for every document (a fresh 128-bit salt a
  field, the checks, the leaf hashes, the size check), :func:`~ledger.documents.target_hash` of
  each, :meth:`MerkleTree.build <ledger.documents.merkle.MerkleTree.build>` over the N target
  hashes, :meth:`~ledger.documents.merkle.MerkleTree.proofs`, and each certificate's wrapped
  JSON data
  (:func:`~ledger.documents.certificate_to_json`) with its
  :class:`~ledger.documents.batches.BatchProof` attached (root, path, chain id and registry of the
  deployment; no manifest is stored). OpenAttestation: ``wrapDocuments`` (v2) over the N
  documents: a uuid v4 salt a value, schema validation, the leaf hashes and the target hash of
  each, the Merkle tree and every proof attached, giving the wrapped objects in memory.
* *Verify*, ours, from each wrapped certificate's canonical JSON bytes in memory:
  :func:`~ledger.documents.load_certificate` (strict parsing and every check),
  :meth:`BatchProof.from_json <ledger.documents.batches.BatchProof.from_json>` on its proof, the
  proof's chain id and registry compared with the deployment's, and
  :func:`~ledger.documents.merkle.verify_proof` from the recomputed target hash to the root:
  everything ``verify_document`` checks that needs no chain.
  OpenAttestation: ``verifySignature`` on every
  wrapped document (target hash recomputed, proof checked to the Merkle root), on the objects
  ``JSON.parse`` gave (the ratio is taken against this figure, the faster of OpenAttestation's
  two); its JSON.parse + verifySignature from the text is shown beside it. The column "through
  verify_document's steps" is ours as the verifier reads a presented certificate:
  :func:`~ledger.documents.digest_and_proof` (one parse gives the document hash and the embedded
  proof's JSON, no certificate object built), :meth:`BatchProof.from_json
  <ledger.documents.batches.BatchProof.from_json>` on that JSON, then the same proof check.

Throughput is N divided by the mean time of the runs. Targets (issue #5): wrapping at least 3
times OpenAttestation's throughput at 10,000, offline verification at least 2 times.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on the path, where bench/http.py would shadow the
# standard library's http for every later import: the repository root takes its place.
_BENCH = Path(__file__).resolve().parent
sys.path[:] = [str(_BENCH.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _BENCH]

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from statistics import fmean  # noqa: E402
from typing import Any, Final  # noqa: E402

import rfc8785  # noqa: E402
from eth_typing import ChecksumAddress  # noqa: E402

ROOT: Final = Path(__file__).resolve().parents[1]

from bench.gas import OA_ISSUE, REGION, machine_line, open_backend  # noqa: E402
from ledger.catalogue import certificate_type  # noqa: E402
from ledger.cli.departments import add_department  # noqa: E402
from ledger.documents import (  # noqa: E402
    JSONValue,
    certificate_to_json,
    digest_and_proof,
    load_certificate,
    salt_fields,
    target_hash,
)
from ledger.documents.batches import BatchProof  # noqa: E402
from ledger.documents.merkle import MerkleTree, verify_proof  # noqa: E402

SIZES: Final = (1, 100, 10_000)
THROUGHPUT_SIZES: Final = (1_000, 10_000)
WRAP_TARGET: Final = 3.0
VERIFY_TARGET: Final = 2.0
WARM_UP: Final = 200
BUSINESS_LICENCE: Final = certificate_type("business-licence")
DEPARTMENT: Final = 110_950
OA_SCRIPT: Final = ROOT / "bench" / "oa_wrap.mjs"
OA_PACKAGE: Final = ROOT / "node_modules" / "@govtechsg" / "open-attestation" / "package.json"

#: The sample document, synthetic: an OpenAttestation v2 issuer (its schema requires one) and five
#: business-licence fields. The fields named in ``VARY`` get the document's number appended
#: (bench/oa_wrap.mjs applies the same rule).
ISSUER: Final[dict[str, str]] = {
    "name": "Benchmark Market Regulation Office",
    "documentStore": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    "identityProofType": "DNS-TXT",
    "identityProofLocation": "issuer.example",
}
FIELDS: Final[dict[str, str]] = {
    "enterpriseName": "Benchmark Trading Co., Ltd.",
    "creditCode": "BENCH-CODE",
    "scope": "Wholesale of hardware; software development; technical consulting services",
    "validFrom": "2026-01-01",
    "validUntil": "2030-12-31",
}
VARY: Final = ("enterpriseName", "creditCode")
SHAPE: Final = {
    "issuer": {
        "name": ISSUER["name"],
        "documentStore": ISSUER["documentStore"],
        "identityProof": {
            "type": ISSUER["identityProofType"],
            "location": ISSUER["identityProofLocation"],
        },
    },
    "fields": FIELDS,
    "vary": list(VARY),
}


@dataclass(frozen=True)
class Anchor:
    """The deployment a proof names (what the verifier compares it with)."""

    chain_id: int
    registry: ChecksumAddress


@dataclass(frozen=True)
class Throughput:
    """Seconds per run of one side for one N."""

    wrap: list[float]
    verify: list[float]
    verify_as_verifier: list[float] | None = None
    parse_verify: list[float] | None = None


def our_documents(count: int) -> list[dict[str, JSONValue]]:
    """The same documents as bench/oa_wrap.mjs builds, as flat certificate fields (9 leaves)."""
    issuer = {f"issuer{name[0].upper()}{name[1:]}": value for name, value in ISSUER.items()}
    return [
        {
            **issuer,
            **{
                name: f"{value}-{index:06d}" if name in VARY else value
                for name, value in FIELDS.items()
            },
        }
        for index in range(count)
    ]


def our_wrap(
    documents: Sequence[dict[str, JSONValue]], anchor: Anchor
) -> tuple[float, list[dict[str, JSONValue]]]:
    """Salt, hash, build the tree and every proof, attach each proof: seconds and the result."""
    begun = time.perf_counter()
    certificates = [
        salt_fields(fields, certificate_type=BUSINESS_LICENCE.name) for fields in documents
    ]
    tree = MerkleTree.build([target_hash(certificate) for certificate in certificates])
    wrapped: list[dict[str, JSONValue]] = []
    for certificate, path in zip(certificates, tree.proofs(), strict=True):
        document = certificate_to_json(certificate)
        document["proof"] = BatchProof(
            tree.root,
            tuple(path),
            anchor.chain_id,
            anchor.registry,
        ).to_json()
        wrapped.append(document)
    return time.perf_counter() - begun, wrapped


def _proof_holds(doc_hash: bytes, proof: BatchProof, anchor: Anchor) -> bool:
    return (proof.chain_id, proof.registry) == (
        anchor.chain_id,
        anchor.registry,
    ) and verify_proof(doc_hash, proof.path, proof.root)


def our_verify(texts: Sequence[bytes], anchor: Anchor) -> float:
    """Parse every wrapped certificate, recompute its target hash, check its proof: seconds."""
    begun = time.perf_counter()
    for data in texts:
        certificate = load_certificate(data)
        proof = BatchProof.from_json(certificate.proof)
        if not _proof_holds(target_hash(certificate), proof, anchor):
            raise SystemExit("bench/batch.py: a wrapped certificate failed its proof")
    return time.perf_counter() - begun


def our_verify_as_verifier(texts: Sequence[bytes], anchor: Anchor) -> float:
    """The same through verify_document's own steps: digest_and_proof (one reading gives the
    document hash and the embedded proof's JSON), then BatchProof.from_json on that JSON."""
    begun = time.perf_counter()
    for data in texts:
        digest, embedded = digest_and_proof(data)
        if embedded is None:
            raise SystemExit("bench/batch.py: a wrapped certificate carries no proof")
        if not _proof_holds(digest.hash, BatchProof.from_json(embedded), anchor):
            raise SystemExit("bench/batch.py: a wrapped certificate failed its proof")
    return time.perf_counter() - begun


def measure_ours(count: int, anchor: Anchor) -> tuple[float, float, float]:
    seconds, wrapped = our_wrap(our_documents(count), anchor)
    texts = [rfc8785.dumps(document) for document in wrapped]
    return seconds, our_verify(texts, anchor), our_verify_as_verifier(texts, anchor)


def check_node() -> str:
    """node's version; exits with a clear message when node or the package is missing."""
    node = shutil.which("node")
    if node is None:
        raise SystemExit(
            "bench/batch.py: node is not on PATH; the comparison with OpenAttestation runs "
            "bench/oa_wrap.mjs with it (install Node 20 or later, or pass --skip-oa)"
        )
    if not OA_PACKAGE.is_file():
        raise SystemExit(
            "bench/batch.py: node_modules/@govtechsg/open-attestation is missing: run `npm ci` "
            "(it is a devDependency in package.json), or pass --skip-oa"
        )
    return subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()


def measure_oa(count: int) -> dict[str, Any]:
    """One run of bench/oa_wrap.mjs (its own warm-up, then the timed batch)."""
    node = shutil.which("node")
    assert node is not None
    done = subprocess.run(
        [node, str(OA_SCRIPT), str(count), json.dumps(SHAPE)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"bench/batch.py: bench/oa_wrap.mjs failed:\n{done.stderr.strip()}")
    result: dict[str, Any] = json.loads(done.stdout)
    if result.get("n") != count:
        raise SystemExit("bench/batch.py: bench/oa_wrap.mjs measured another N")
    return result


def _rate(count: int, seconds: Sequence[float]) -> float:
    return count / fmean(seconds)


def _target(size: int, ratio: float | None, target: float) -> str:
    if size != THROUGHPUT_SIZES[-1] or ratio is None:
        return "-"
    return "PASS" if ratio >= target else "MISS"


def throughput_tables(ours: dict[int, Throughput], oa: dict[int, Throughput] | None) -> list[str]:
    lines = [
        "| certificates (N) | ours (ms) | ours per second | OA wrapDocuments (ms) | "
        "OA per second | ratio | target (>= 3x at 10,000) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for size in THROUGHPUT_SIZES:
        mine = _rate(size, ours[size].wrap)
        theirs = _rate(size, oa[size].wrap) if oa else None
        ratio = mine / theirs if theirs else None
        lines.append(
            f"| {size:,} | {fmean(ours[size].wrap) * 1000:,.0f} | {mine:,.0f} | "
            + (
                f"{fmean(oa[size].wrap) * 1000:,.0f} | {theirs:,.0f} | "
                if oa and theirs
                else "- | - | "
            )
            + (f"{ratio:.2f} | " if ratio else "- | ")
            + f"{_target(size, ratio, WRAP_TARGET)} |"
        )
    lines += [
        "",
        "| certificates (N) | ours per second | ours through verify_document's steps | "
        "OA verifySignature per second | OA JSON.parse + verifySignature | ratio | "
        "target (>= 2x at 10,000) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for size in THROUGHPUT_SIZES:
        mine = _rate(size, ours[size].verify)
        as_verifier = ours[size].verify_as_verifier
        assert as_verifier is not None
        theirs = _rate(size, oa[size].verify) if oa else None
        parse = oa[size].parse_verify if oa else None
        ratio = mine / theirs if theirs else None
        lines.append(
            f"| {size:,} | {mine:,.0f} | {_rate(size, as_verifier):,.0f} | "
            + (f"{theirs:,.0f} | " if theirs else "- | ")
            + (f"{_rate(size, parse):,.0f} | " if parse else "- | ")
            + (f"{ratio:.2f} | " if ratio else "- | ")
            + f"{_target(size, ratio, VERIFY_TARGET)} |"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backend", choices=("embedded", "anvil"), default="embedded")
    parser.add_argument("--runs", type=int, default=3, help="batches per size (default 3)")
    parser.add_argument(
        "--skip-oa",
        action="store_true",
        help="leave out OpenAttestation's figures (only for a machine without node)",
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    node_version = None if args.skip_oa else check_node()
    started = time.perf_counter()
    rows: list[str] = []
    with open_backend(args.backend) as (session, description):
        add_department(
            session, DEPARTMENT, REGION, "Benchmark batch office", [BUSINESS_LICENCE.code]
        )
        client = session.certificates()
        sender = session.department_sender(DEPARTMENT)
        anchor = Anchor(session.deployment.chain_id, session.deployment.certificate_registry)
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
                receipt = sender.transact(
                    client.anchor_batch(tree.root, BUSINESS_LICENCE.code, REGION, expires)
                )
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
    gas_elapsed = time.perf_counter() - started

    measure_ours(WARM_UP, anchor)  # imports, compiled patterns, caches: like node's warm-up
    ours: dict[int, Throughput] = {}
    oa: dict[int, Throughput] | None = None if args.skip_oa else {}
    oa_version = None
    for size in THROUGHPUT_SIZES:
        wrap: list[float] = []
        verify: list[float] = []
        as_verifier: list[float] = []
        oa_runs: list[dict[str, Any]] = []
        for _ in range(args.runs):  # the two sides take turns, so that noise falls on both
            seconds = measure_ours(size, anchor)
            wrap.append(seconds[0])
            verify.append(seconds[1])
            as_verifier.append(seconds[2])
            if oa is not None:
                oa_runs.append(measure_oa(size))
        ours[size] = Throughput(wrap, verify, as_verifier)
        if oa is not None:
            oa_version = str(oa_runs[0]["version"])
            oa[size] = Throughput(
                [run["wrapSeconds"] for run in oa_runs],
                [run["verifySeconds"] for run in oa_runs],
                parse_verify=[run["parseVerifySeconds"] for run in oa_runs],
            )
    elapsed = time.perf_counter() - started

    print(machine_line(description))
    print(
        f"measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.runs} batch(es) a size, "
        f"{gas_elapsed:.1f} s\n"
    )
    print(
        "| certificates (N) | gas of the anchoring transaction | gas per certificate | "
        "OA issue(root) / N | ratio | target (<= 4.8 at 10,000) | tree + all proofs (ms) | "
        "proofs checked per second |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
    print("\n".join(rows))
    print()
    print(
        f"wrapping and offline verification, 9 leaves a certificate, {args.runs} run(s) a size, "
        f"{elapsed - gas_elapsed:.1f} s: Python {platform.python_version()}; "
        + (
            "OpenAttestation not run (--skip-oa)"
            if oa is None
            else f"node {node_version}, @govtechsg/open-attestation {oa_version}"
        )
        + "\n"
    )
    print("\n".join(throughput_tables(ours, oa)))


if __name__ == "__main__":
    main()
