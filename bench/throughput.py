"""Anchors per second: raw web3, through the write journal, and end to end through the API.

Run: ``python bench/throughput.py [--backend embedded|anvil|both] [--count N] [--clients C]``.
Prints one Markdown table per backend (not a test).

For each backend, in one run, on one fresh ledger (a department accredited for business
licences, its key funded):

* **raw web3**: N ``anchorCertificate`` transactions of random hashes, one after another, each
  gas-estimated, signed with the department's key, sent raw and its receipt awaited
  (:class:`~ledger.chain.transactions.TransactionSender`: what every write did before the
  journal). No journal.
* **journal**: N operations of the same call accepted into the write journal, then sent by the
  transaction manager (:mod:`ledger.service.transactions`): per operation one accept, gas
  estimation, nonce allocation, signing, the ``sent`` record with the raw bytes, the broadcast,
  the receipt and the ``confirmed`` record, every record one committed SQLite transaction (WAL,
  ``synchronous=FULL``). Timed from the first accept to the last confirmation. The issue's
  target: the journal costs at most 20% of the raw rate (journal >= 0.8 times raw).
* **API single**: N ``POST /v1/certificates`` (a 60-byte file each, stored in the document
  store as a department would, with an ``Idempotency-Key``) from C concurrent HTTP clients to a
  ``ledger serve`` process on loopback, each answered 201 after confirmation.
* **API batch**: the same N documents' worth as batch jobs of 100 files
  (``POST /v1/certificates/batches``), from C clients, until every job is ``done``: certificates
  per second.

Rates are counts divided by wall-clock seconds (``time.perf_counter``).
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
import os  # noqa: E402
import secrets  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator, Mapping, Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any, Final  # noqa: E402

ROOT: Final = Path(__file__).resolve().parents[1]

import httpx  # noqa: E402

from ledger.catalogue import certificate_type  # noqa: E402
from ledger.chain.transactions import TransactionSender  # noqa: E402
from ledger.cli.departments import add_department  # noqa: E402
from ledger.config import Settings  # noqa: E402
from ledger.service.calls import Call  # noqa: E402
from ledger.service.database import ServiceDatabase  # noqa: E402
from ledger.service.journal import Journal  # noqa: E402
from ledger.service.tokens import TokenStore  # noqa: E402
from ledger.service.transactions import TransactionManager  # noqa: E402
from ledger.session import LedgerSession  # noqa: E402
from tests.support.serve import ServerDidNotStartError, serving  # noqa: E402

DEPARTMENT: Final = 7
REGION: Final = 110101
LICENCE: Final = certificate_type("business-licence")
BATCH: Final = 100


@dataclass(frozen=True)
class Row:
    name: str
    count: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.count / self.seconds


def raw_rate(session: LedgerSession, count: int) -> Row:
    sender = session.department_sender(DEPARTMENT)
    certificates = session.certificates()
    begun = time.perf_counter()
    for _ in range(count):
        sender.transact(certificates.anchor(secrets.token_bytes(32), LICENCE.code, REGION))
    return Row("raw web3 (estimate, sign, send, receipt)", count, time.perf_counter() - begun)


def journal_rate(session: LedgerSession, data_dir: Path, count: int) -> Row:
    with ServiceDatabase(data_dir / "bench-journal.sqlite3") as database:
        journal = Journal(database)

        def signer(spec: Mapping[str, Any]) -> TransactionSender:
            return session.department_sender(int(spec["department"]))

        manager = TransactionManager(session.context, journal, signer, chain_lock=threading.RLock())
        reader = session.certificates()
        begun = time.perf_counter()
        for _ in range(count):
            function = reader.anchor(secrets.token_bytes(32), LICENCE.code, REGION)
            call = Call.from_function(function, session.deployment, {"department": DEPARTMENT})
            journal.accept("certificate.anchor", {"call": call.to_json()}, department_id=DEPARTMENT)
        while manager.process():
            pass
        seconds = time.perf_counter() - begun
        counts = journal.counts()
        if counts != {"confirmed": count}:
            raise SystemExit(f"bench/throughput.py: journal ended as {counts}")
    return Row("journal (accept, send, confirm; 3 fsyncs each)", count, seconds)


def api_single(url: str, token: str, enterprise: str, count: int, clients: int) -> Row:
    jobs = list(range(count))
    lock = threading.Lock()
    failures: list[str] = []

    def client() -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            while True:
                with lock:
                    if not jobs:
                        return
                    jobs.pop()
                response = http.post(
                    "/v1/certificates",
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Idempotency-Key": str(uuid.uuid4()),
                    },
                    files={"file": ("l.txt", f"营业执照 throughput {uuid.uuid4()}\n".encode())},
                    data={"type": LICENCE.name, "subject": enterprise},
                )
                if response.status_code != 201:
                    failures.append(f"{response.status_code} {response.text[:200]}")

    seconds = _run(client, clients)
    if failures:
        raise SystemExit(f"bench/throughput.py: {len(failures)} failed, e.g. {failures[0]}")
    return Row(f"API single (POST /v1/certificates, {clients} clients)", count, seconds)


def api_batch(url: str, token: str, count: int, clients: int) -> Row:
    batches = list(range(max(1, count // BATCH)))
    lock = threading.Lock()
    failures: list[str] = []

    def client() -> None:
        with httpx.Client(base_url=url, timeout=300) as http:
            while True:
                with lock:
                    if not batches:
                        return
                    batches.pop()
                files = [
                    ("files", (f"l{i}.txt", f"营业执照 batch {uuid.uuid4()}\n".encode()))
                    for i in range(BATCH)
                ]
                headers = {"Authorization": f"Bearer {token}"}
                response = http.post(
                    "/v1/certificates/batches",
                    headers=headers,
                    files=files,
                    data={"type": LICENCE.name},
                )
                if response.status_code != 202:
                    failures.append(f"{response.status_code} {response.text[:200]}")
                    continue
                location = response.headers["location"]
                while True:
                    job = http.get(location, headers=headers).json()
                    if job["status"] != "accepted":
                        if job["status"] != "done":
                            failures.append(str(job.get("error")))
                        break
                    time.sleep(0.02)

    seconds = _run(client, clients)
    if failures:
        raise SystemExit(f"bench/throughput.py: {len(failures)} batch(es) failed: {failures[0]}")
    done = max(1, count // BATCH) * BATCH
    return Row(f"API batch ({BATCH} a job, {clients} clients), certificates", done, seconds)


def _run(target: Any, clients: int) -> float:
    threads = [threading.Thread(target=target) for _ in range(clients)]
    begun = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - begun


@contextlib.contextmanager
def chain(backend: str) -> Iterator[tuple[str | None, str]]:
    if backend == "embedded":
        yield None, "embedded (py-evm through eth-tester, SQLite)"
        return
    from tests.support.anvil import start_anvil

    with start_anvil() as node:
        yield node.url, "anvil (HTTP JSON-RPC, automine)"


def measure(backend: str, count: int, clients: int) -> tuple[str, list[Row]]:
    from ledger.identity import make_uscc

    with tempfile.TemporaryDirectory(prefix="throughput-") as tmp, chain(backend) as (rpc, label):
        data_dir = Path(tmp) / "data"
        settings = Settings(data_dir=data_dir, rpc_url=rpc)
        session, _ = LedgerSession.initialize(settings)
        with session:
            add_department(session, DEPARTMENT, REGION, "东城区市场监督管理局", [LICENCE.code])
            session.department_sender(DEPARTMENT)  # unlock and fund outside the timings
            rows = [raw_rate(session, count), journal_rate(session, data_dir, count)]
        with ServiceDatabase(settings.service_db_path) as database:
            token = TokenStore(database).issue("department", DEPARTMENT).secret
        try:
            with serving(data_dir, rpc) as served:
                rows.append(api_single(served.url, token, make_uscc(), count, clients))
                rows.append(api_batch(served.url, token, count * 5, clients))
        except ServerDidNotStartError as error:
            raise SystemExit(f"bench/throughput.py: {error}") from None
    return label, rows


def render(label: str, rows: Sequence[Row]) -> list[str]:
    raw = rows[0].rate
    lines = [
        f"**{label}**",
        "",
        "| path | anchors | seconds | per second | vs raw web3 |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row.name} | {row.count:,} | {row.seconds:.2f} | {row.rate:,.1f} | "
            f"{row.rate / raw:.2f}x |"
        )
    journal = rows[1].rate / raw
    verdict = "PASS" if journal >= 0.8 else "MISS"
    lines += ["", f"Journal cost: {1 - journal:+.0%} of the raw rate (target ≤ 20%): {verdict}", ""]
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backend", choices=("embedded", "anvil", "both"), default="both")
    parser.add_argument("--count", type=int, default=300, help="anchors per path (default 300)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    args = parser.parse_args(argv)
    backends = ("embedded", "anvil") if args.backend == "both" else (args.backend,)
    started = time.perf_counter()
    output: list[str] = []
    for backend in backends:
        label, rows = measure(backend, args.count, args.clients)
        output += render(label, rows)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    print(
        f"throughput, commit {commit}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {time.perf_counter() - started:.0f} s\n"
    )
    print("\n".join(output))


if __name__ == "__main__":
    main()
