"""Gas used by every ledger write, next to the peer figures of docs/benchmarks.md.

Run: ``python bench/gas.py [--backend embedded|anvil] [--runs N] [--seed N] [--breakdown]``.
Prints Markdown tables (not a test). ``embedded`` (the default) is the py-evm chain of
``ledger init``, in a temporary data directory; ``anvil`` starts the anvil node from node_modules
(cancun rules, like the artifacts). ``--breakdown`` (anvil only) also splits the hot-path
operations' gas by opcode. ``--seed`` fixes the random inputs, so that two commits compare to the
unit.

Every figure is ``gasUsed`` from the transaction receipt, averaged over N runs. Each run goes
through the library the way the CLI and the API do (:class:`~ledger.session.LedgerSession` and
the contract clients) with realistic inputs: a fresh department accredited for the market
regulation scopes, random 32-byte document, evidence and reason hashes, a business licence for
region 110101 expiring in about five years, HMAC subject references of synthetic identifiers, and
36-byte CIDv1 (raw, sha2-256) for the variants that carry a stored copy. The calldata column is
the intrinsic cost of the transaction's input (16 gas per non-zero byte, 4 per zero byte), which
is part of the gas figure, not added to it.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on the path, where bench/http.py would shadow the
# standard library's http for every later import: the repository root takes its place.
_BENCH = Path(__file__).resolve().parent
sys.path[:] = [str(_BENCH.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _BENCH]

import argparse  # noqa: E402
import contextlib  # noqa: E402
import hashlib  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator, Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, date, datetime, timedelta  # noqa: E402
from statistics import fmean  # noqa: E402
from typing import Any, Final  # noqa: E402

from hexbytes import HexBytes  # noqa: E402
from web3 import Web3  # noqa: E402
from web3.types import RPCEndpoint, TxReceipt  # noqa: E402

ROOT: Final = Path(__file__).resolve().parents[1]

from ledger.catalogue import ReasonCode, certificate_type, credit_category  # noqa: E402
from ledger.config import Settings  # noqa: E402
from ledger.contracts import Amendment, CreditLedgerClient, Polarity, deploy  # noqa: E402
from ledger.contracts.artifacts import load_artifact  # noqa: E402
from ledger.documents.merkle import MerkleTree  # noqa: E402
from ledger.identity import SubjectKind, make_citizen_id, make_uscc  # noqa: E402
from ledger.session import LedgerSession, name_hash  # noqa: E402

BUSINESS_LICENCE: Final = certificate_type("business-licence").code
CONTRACT_DEFAULT: Final = credit_category("contract-default").code
#: Dongcheng District, Beijing (GB/T 2260).
REGION: Final = 110101
#: The scopes of a market regulation bureau (as in scripts/seed_demo.py).
MARKET_REGULATION_SCOPES: Final = (
    certificate_type("business-licence").code,
    certificate_type("food-business-licence").code,
    credit_category("false-information").code,
    credit_category("contract-default").code,
)
#: Selector of CreditLedger.setDisclosurePeriod, which deploy() calls once a credit category.
SET_DISCLOSURE_PERIOD: Final = bytes(Web3.keccak(text="setDisclosurePeriod(uint32,uint40)")[:4])
#: CIDv1 prefix: version 1, multicodec raw (0x55), multihash sha2-256 (0x12) of 32 bytes.
CID_PREFIX: Final = bytes((0x01, 0x55, 0x12, 0x20))

# Peer figures (docs/benchmarks.md, "Peer figures"; same compiler family).
OA_ISSUE: Final = 48_168
OA_REVOKE: Final = 50_922
EAS_ATTEST: Final = 180_372
EAS_REVOKE: Final = 76_513
#: The issue's target for a credit record ("a quarter of an EAS attestation", rounded up).
CREDIT_TARGET: Final = 50_000


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    key: str
    label: str
    peer: str = ""
    peer_gas: int | None = None
    target: int | None = None


ROWS: Final = (
    Row("deploy:DepartmentRegistry", "deploy DepartmentRegistry"),
    Row("deploy:CertificateRegistry", "deploy CertificateRegistry"),
    Row("deploy:CreditLedger", "deploy CreditLedger"),
    Row("deploy:setSink", "setSink (one of two)"),
    Row("deploy:setDisclosurePeriod", "setDisclosurePeriod (each period deploy() sets)"),
    Row("deploy:LicenceBundles", "deploy LicenceBundles"),
    Row("deploy:AccessLogAnchors", "deploy AccessLogAnchors"),
    Row("deploy:total", "deployment total (5 contracts + 2 setSink)"),
    Row("registerDepartment", "registerDepartment (4 scopes)"),
    Row("addSigner", "addSigner (pushes 4 grants)"),
    Row(
        "anchorCertificate",
        "anchorCertificate (bare)",
        "OA DocumentStore issue",
        OA_ISSUE,
        OA_ISSUE,
    ),
    Row(
        "anchorCertificateFor",
        "anchorCertificateFor (subject ref + CID)",
        "OA DocumentStore issue",
        OA_ISSUE,
    ),
    Row(
        "anchorBatchedCertificates",
        "anchorBatchedCertificates (one root, any number of certificates)",
        "OA DocumentStore issue",
        OA_ISSUE,
        OA_ISSUE,
    ),
    Row(
        "revokeLeaf", "revokeLeaf (one certificate of 10,000)", "OA DocumentStore revoke", OA_REVOKE
    ),
    Row("revoke", "revoke", "OA DocumentStore revoke", OA_REVOKE, OA_REVOKE),
    Row("suspend", "suspend"),
    Row("reinstate", "reinstate"),
    Row(
        "supersede",
        "supersede (with subject ref + CID)",
        "OA revoke + issue (sum)",
        OA_REVOKE + OA_ISSUE,
    ),
    Row("record", "credit record", "EAS attest", EAS_ATTEST, CREDIT_TARGET),
    Row("recordWithEvidence", "credit recordWithEvidence (CID)", "EAS attest", EAS_ATTEST),
    Row("amend:first", "amend, first amendment (disputed)", "EAS revoke", EAS_REVOKE),
    Row("amend:second", "amend, second amendment (upheld)", "EAS revoke", EAS_REVOKE),
    Row("suspendDepartment", "suspendDepartment (1 key x 4 scopes)"),
    Row("reinstateDepartment", "reinstateDepartment"),
    Row("rotateSigner", "rotateSigner"),
    Row("anchorAccessLog:first", "anchor (access log, the first batch ever)"),
    Row("anchorAccessLog", "anchor (access log, each later batch)"),
)


def calldata_cost(data: bytes) -> int:
    """Intrinsic gas of transaction input: 16 per non-zero byte, 4 per zero byte (EIP-2028)."""
    return sum(16 if byte else 4 for byte in data)


@dataclass(frozen=True)
class Sample:
    """One measured transaction."""

    gas: int
    calldata: int


class Recorder:
    """Collects samples per operation, reading each transaction's input for its calldata cost."""

    def __init__(self, web3: Web3) -> None:
        self.web3 = web3
        self.samples: dict[str, list[Sample]] = {}
        #: Transaction hash of the first sample of each operation (for ``--breakdown``).
        self.first: dict[str, HexBytes] = {}

    def add(self, key: str, receipt: TxReceipt) -> Sample:
        """Record ``receipt`` under ``key``."""
        transaction = self.web3.eth.get_transaction(receipt["transactionHash"])
        sample = Sample(int(receipt["gasUsed"]), calldata_cost(bytes(transaction["input"])))
        self.samples.setdefault(key, []).append(sample)
        self.first.setdefault(key, receipt["transactionHash"])
        return sample

    def add_sum(self, key: str, parts: Sequence[Sample]) -> None:
        """Record the sum of several transactions as one sample (e.g. a whole deployment)."""
        self.samples.setdefault(key, []).append(
            Sample(sum(p.gas for p in parts), sum(p.calldata for p in parts))
        )


class Inputs:
    """Where the random inputs come from: the system's generator, or a seeded one (``--seed``)
    so that two commits are measured on the same hashes, CIDs and leaf, and compare to the unit
    (the keys, hence the addresses in some calldata, stay random)."""

    source: random.Random = random.SystemRandom()

    @classmethod
    def token_bytes(cls, size: int) -> bytes:
        """``size`` random bytes."""
        return cls.source.randbytes(size)

    @classmethod
    def randbelow(cls, bound: int) -> int:
        """A random integer in [0, ``bound``)."""
        return cls.source.randrange(bound)


def random_cid() -> bytes:
    """A 36-byte binary CIDv1 (raw leaves, sha2-256), as the document store computes them."""
    return CID_PREFIX + hashlib.sha256(Inputs.token_bytes(64)).digest()


def measure_deployment(session: LedgerSession, recorder: Recorder) -> None:
    """Deploy the contracts once more with the governance key, as ``ledger init`` does."""
    sender = session.governance_sender()
    web3 = session.connection.web3
    first = web3.eth.block_number + 1
    deploy(sender)
    receipts: list[TxReceipt] = []
    for number in range(first, web3.eth.block_number + 1):
        block = web3.eth.get_block(number, full_transactions=True)
        for transaction in block["transactions"]:
            assert not isinstance(transaction, bytes)
            if transaction["from"] != sender.address:
                continue
            receipt = web3.eth.get_transaction_receipt(transaction["hash"])
            # The disclosure periods deploy() sets (docs/adr/0020) are configuration, measured
            # on their own line, not part of the deployment total.
            selector = bytes(web3.eth.get_transaction(transaction["hash"])["input"][:4])
            if selector == SET_DISCLOSURE_PERIOD:
                recorder.add("deploy:setDisclosurePeriod", receipt)
            else:
                receipts.append(receipt)
    if len(receipts) != 7:
        raise RuntimeError(f"expected 7 deployment transactions, found {len(receipts)}")
    keys = (
        "deploy:DepartmentRegistry",
        "deploy:CertificateRegistry",
        "deploy:CreditLedger",
        "deploy:setSink",
        "deploy:setSink",
        "deploy:LicenceBundles",
        "deploy:AccessLogAnchors",
    )
    parts = [recorder.add(key, receipt) for key, receipt in zip(keys, receipts, strict=True)]
    recorder.add_sum("deploy:total", parts)


def measure_run(session: LedgerSession, recorder: Recorder, run: int) -> None:
    """One department's life: accredit, anchor, change status, record credit, rotate, suspend."""
    governance = session.governance_sender()
    registry = session.registry()
    department_id = 110_901 + run
    recorder.add(
        "registerDepartment",
        governance.transact(
            registry.register(
                department_id,
                REGION,
                name_hash(f"Benchmark market regulation bureau {run}"),
                list(MARKET_REGULATION_SCOPES),
            )
        ),
    )
    account = session.keystore.create_department_key(department_id)
    recorder.add(
        "addSigner", governance.transact(registry.add_signer(department_id, account.address))
    )

    sender = session.sender_for(account)
    certificates = session.certificates()
    expires = datetime.now(UTC) + timedelta(days=5 * 365)
    holder = session.subject_ref(
        make_uscc(region=str(REGION), organisation_code=f"MA0B{run:05d}"), SubjectKind.ENTERPRISE
    )

    bare = Inputs.token_bytes(32)
    recorder.add(
        "anchorCertificate",
        sender.transact(certificates.anchor(bare, BUSINESS_LICENCE, REGION, expires)),
    )
    tree = MerkleTree.build([Inputs.token_bytes(32) for _ in range(10_000)])
    recorder.add(
        "anchorBatchedCertificates",
        sender.transact(certificates.anchor_batch(tree.root, BUSINESS_LICENCE, REGION, expires)),
    )
    leaf = Inputs.randbelow(len(tree))
    recorder.add(
        "revokeLeaf",
        sender.transact(
            certificates.revoke_leaf(
                tree.root, tree.leaves[leaf], tree.proof(leaf), ReasonCode.FRAUD
            )
        ),
    )
    recorder.add("revoke", sender.transact(certificates.revoke(bare, ReasonCode.ISSUED_IN_ERROR)))

    held = Inputs.token_bytes(32)
    recorder.add(
        "anchorCertificateFor",
        sender.transact(
            certificates.anchor(
                held, BUSINESS_LICENCE, REGION, expires, subject_ref=holder, cid=random_cid()
            )
        ),
    )
    recorder.add("suspend", sender.transact(certificates.suspend(held, ReasonCode.INVESTIGATION)))
    recorder.add("reinstate", sender.transact(certificates.reinstate(held)))
    recorder.add(
        "supersede",
        sender.transact(
            certificates.supersede(
                held,
                Inputs.token_bytes(32),
                ReasonCode.RENEWAL,
                expires + timedelta(days=1),
                subject_ref=holder,
                cid=random_cid(),
            )
        ),
    )

    credit = session.credit()
    citizen = session.subject_ref(
        make_citizen_id(str(REGION), date(1985, 1, 1) + timedelta(days=97 * run), 900 + run),
        SubjectKind.CITIZEN,
    )
    occurred = datetime.now(UTC) - timedelta(days=30 + run)
    evidence = Inputs.token_bytes(32)
    recorder.add(
        "record",
        sender.transact(
            credit.record(citizen, CONTRACT_DEFAULT, Polarity.NEGATIVE, 2, occurred, evidence)
        ),
    )
    event_id = CreditLedgerClient.event_id(citizen, CONTRACT_DEFAULT, occurred, evidence)
    for row, status in (("amend:first", Amendment.DISPUTED), ("amend:second", Amendment.UPHELD)):
        recorder.add(row, sender.transact(credit.amend(event_id, status, Inputs.token_bytes(32))))
    with_evidence = credit.record(
        holder,
        CONTRACT_DEFAULT,
        Polarity.NEGATIVE,
        3,
        occurred,
        Inputs.token_bytes(32),
        evidence_cid=random_cid(),
    )
    recorder.add("recordWithEvidence", sender.transact(with_evidence))

    replacement = session.keystore.create_department_key(department_id)
    recorder.add(
        "rotateSigner",
        governance.transact(registry.rotate_signer(account.address, replacement.address)),
    )
    recorder.add("suspendDepartment", governance.transact(registry.suspend(department_id)))
    recorder.add("reinstateDepartment", governance.transact(registry.reinstate(department_id)))
    measure_access_log(session, recorder)


def measure_access_log(session: LedgerSession, recorder: Recorder) -> None:
    """Anchor one access-log batch (an hour's entries, here 1,000) the way the periodic job does;
    the first batch ever writes the last sequence number from zero, so it is measured apart."""
    governance = session.governance_sender()
    anchors = session.access_log_anchors()
    if anchors.last_seq() == 0:
        recorder.add(
            "anchorAccessLog:first",
            governance.transact(anchors.anchor(Inputs.token_bytes(32), 1, 1_000)),
        )
    first = anchors.last_seq() + 1
    recorder.add(
        "anchorAccessLog",
        governance.transact(anchors.anchor(Inputs.token_bytes(32), first, first + 999)),
    )


# ----------------------------------------------------------------------------------------------
# Backends and reporting
# ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def open_backend(name: str, *, trace: bool = False) -> Iterator[tuple[LedgerSession, str]]:
    """An initialized ledger on a throw-away chain, and a line describing that chain.

    ``trace`` starts anvil with step tracing, so that ``debug_traceTransaction`` returns opcodes.
    """
    with tempfile.TemporaryDirectory(prefix="gas-bench-") as tmp:
        if name == "embedded":
            session, _ = LedgerSession.initialize(Settings(data_dir=Path(tmp), rpc_url=None))
            with session:
                fork = _embedded_fork(session)
                yield session, f"embedded (py-evm {fork} through eth-tester, SQLite in a temp dir)"
            return
        from tests.support.anvil import DEFAULT_HARDFORK, anvil_binary, start_anvil

        version = _first_line([str(anvil_binary()), "--version"])
        with start_anvil(extra_args=["--steps-tracing"] if trace else []) as node:
            session, _ = LedgerSession.initialize(Settings(data_dir=Path(tmp), rpc_url=node.url))
            with session:
                yield session, f"anvil ({version}, hardfork {DEFAULT_HARDFORK}, HTTP JSON-RPC)"


def _embedded_fork(session: LedgerSession) -> str:
    """The py-evm fork the embedded chain runs (its gas schedule), or "unknown"."""
    try:
        provider: Any = session.connection.web3.provider
        return str(provider.ethereum_tester.backend.chain.get_vm().fork)
    except AttributeError:
        return "unknown fork"


def _output(command: Sequence[str]) -> str | None:
    """Standard output of ``command`` run in the repository, or None when it fails."""
    try:
        return subprocess.run(
            list(command), capture_output=True, text=True, check=True, cwd=ROOT
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _first_line(command: Sequence[str]) -> str:
    output = _output(command)
    return output.splitlines()[0] if output else "unknown"


def machine_line(backend: str) -> str:
    """Commit, Python, compiler and chain: what the figures depend on."""
    commit = _first_line(["git", "rev-parse", "HEAD"])
    changes = _output(["git", "status", "--porcelain", "--", "contracts", "ledger/artifacts"])
    state = (
        "contracts and artifacts as committed"
        if changes == ""
        else "UNCOMMITTED changes to contracts or artifacts"
        if changes
        else "working tree unknown"
    )
    compiler = load_artifact("CertificateRegistry")
    settings = compiler.compiler_settings
    optimizer = settings.get("optimizer", {})
    return (
        f"commit {commit} ({state}); Python {platform.python_version()}; "
        f"solc {compiler.compiler_version} (evm {settings.get('evmVersion')}, "
        f"viaIR {settings.get('viaIR')}, optimizer runs {optimizer.get('runs')}); "
        f"backend {backend}"
    )


def _gas(value: float) -> str:
    return f"{round(value):,}"


def render(samples: dict[str, list[Sample]], runs: int) -> list[str]:
    """The Markdown table and its notes."""
    header = (
        "| operation | our gas | calldata gas | peer operation | peer gas | ratio | target "
        "| range |"
    )
    lines = [header, "| --- | ---: | ---: | --- | ---: | ---: | --- | ---: |"]
    for row in ROWS:
        measured = samples.get(row.key, [])
        if not measured:
            continue
        gas = fmean(s.gas for s in measured)
        calldata = fmean(s.calldata for s in measured)
        low, high = min(s.gas for s in measured), max(s.gas for s in measured)
        spread = "-" if low == high else f"{low:,}-{high:,}"
        peer_gas = _gas(row.peer_gas) if row.peer_gas else ""
        ratio = f"{gas / row.peer_gas:.2f}" if row.peer_gas else ""
        target = ""
        if row.target is not None:
            verdict = "PASS" if high <= row.target else "MISS"
            target = f"{verdict} (<= {row.target:,})"
        lines.append(
            f"| {row.label} | {_gas(gas)} | {_gas(calldata)} | {row.peer or '-'} | "
            f"{peer_gas or '-'} | {ratio or '-'} | {target or '-'} | {spread} |"
        )
    record = samples.get("record")
    notes = [
        "",
        f"{runs} run(s) per operation; our gas is the mean of gasUsed, range is min-max when the "
        "runs differ (zero bytes in random hashes make calldata vary). A target passes when "
        "every run is within it.",
    ]
    if record:
        quarter = EAS_ATTEST / 4
        worst = max(s.gas for s in record)
        notes.append(
            f"Credit record target {CREDIT_TARGET:,} is the issue's rounding of a quarter EAS "
            f"attestation; the exact quarter is {_gas(quarter)}, which the worst run "
            f"({worst:,}) {'meets' if worst <= quarter else 'does not meet'}."
        )
    return lines + notes


#: Operations whose gas ``--breakdown`` splits by opcode, in table order.
BREAKDOWN_KEYS: Final = ("anchorCertificate", "anchorCertificateFor", "revoke", "record")


def breakdown(web3: Web3, recorder: Recorder) -> list[str]:
    """Where the gas of the hot-path operations goes, from anvil's opcode trace (first run)."""
    keys = [key for key in BREAKDOWN_KEYS if key in recorder.first]
    labels = {row.key: row.label for row in ROWS}
    columns: list[dict[str, str]] = []
    for key in keys:
        tx_hash = recorder.first[key]
        receipt = web3.eth.get_transaction_receipt(tx_hash)
        calldata = calldata_cost(bytes(web3.eth.get_transaction(tx_hash)["input"]))
        response = web3.provider.make_request(
            RPCEndpoint("debug_traceTransaction"),
            [tx_hash.to_0x_hex(), {"enableMemory": False, "enableReturnData": False}],
        )
        steps = response["result"]["structLogs"]
        if not steps:
            raise RuntimeError("anvil returned no opcode steps (start it with --steps-tracing)")
        top = [step for step in steps if step["depth"] == 1]
        if any(step["op"] in {"CALL", "STATICCALL", "DELEGATECALL"} for step in top):
            raise RuntimeError(f"{key} calls another contract; the breakdown does not cover it")
        loads = [int(step["gasCost"]) for step in top if step["op"] == "SLOAD"]
        stores = sum(int(step["gasCost"]) for step in top if step["op"] == "SSTORE")
        logs = sum(int(step["gasCost"]) for step in top if str(step["op"]).startswith("LOG"))
        hashing = sum(int(step["gasCost"]) for step in top if step["op"] == "KECCAK256")
        gas_used = int(receipt["gasUsed"])
        other = gas_used - 21_000 - calldata - sum(loads) - stores - logs - hashing
        cold = sum(1 for cost in loads if cost == 2_100)
        columns.append(
            {
                "transaction base": "21,000",
                "calldata (16/4 per byte)": f"{calldata:,}",
                "SLOAD": f"{sum(loads):,} ({cold} cold, {len(loads) - cold} warm)",
                "SSTORE": f"{stores:,}",
                "LOG": f"{logs:,}",
                "KECCAK256": f"{hashing:,}",
                "everything else (dispatch, decoding, checks)": f"{other:,}",
                "gasUsed": f"{gas_used:,}",
            }
        )
    lines = [
        "| component | " + " | ".join(labels[key] for key in keys) + " |",
        "| --- |" + " ---: |" * len(keys),
    ]
    for component in columns[0] if columns else {}:
        lines.append(
            f"| {component} | " + " | ".join(column[component] for column in columns) + " |"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backend", choices=("embedded", "anvil"), default="embedded")
    parser.add_argument("--runs", type=int, default=5, help="runs per operation (default 5)")
    parser.add_argument(
        "--seed",
        type=int,
        help="draw the random hashes from a generator seeded with this (to compare two commits)",
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also split the hot-path operations' gas by opcode (anvil only: needs its tracer)",
    )
    args = parser.parse_args(argv)
    runs: int = args.runs
    if runs < 1:
        parser.error("--runs must be at least 1")
    if args.breakdown and args.backend != "anvil":
        parser.error("--breakdown needs --backend anvil (the embedded chain has no tracer)")

    if args.seed is not None:
        Inputs.source = random.Random(args.seed)

    started = time.perf_counter()
    with open_backend(args.backend, trace=args.breakdown) as (session, description):
        web3 = session.connection.web3
        recorder = Recorder(web3)
        for run in range(runs):
            measure_deployment(session, recorder)
            measure_run(session, recorder, run)
        head = session.chain_head()
        split = breakdown(web3, recorder) if args.breakdown else []
    elapsed = time.perf_counter() - started

    print(machine_line(description))
    print(f"measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {head} blocks, {elapsed:.1f} s\n")
    print("\n".join(render(recorder.samples, runs)))
    if split:
        print("\nGas by opcode, first run (anvil debug_traceTransaction):\n")
        print("\n".join(split))


if __name__ == "__main__":
    main()
