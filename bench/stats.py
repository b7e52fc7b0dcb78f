"""Open statistics (ADR 0030): indexing rate and query latency.

Run: ``python bench/stats.py [--certificates N] [--credit N] [--rows N] [--credit-rows N]
[--full]``. Prints a Markdown table (not a test).

**Indexing** (anvil): N certificates anchored (one transaction each, a business licence of
region 110101) and N credit events recorded through the contract clients, then a fresh
:class:`~ledger.stats.StatsIndex` catches up from the deployment's block: events indexed per
second, with the records read in JSON-RPC batches as the service reads them.

**Query latency**: an index file holding ``--rows`` certificate rows and ``--credit-rows`` credit
rows (synthetic: 8 types, 40 counties in 20 provinces, 24 months, every status; written straight
into the file, because what a query costs depends on the rows, not on how they came), then
:func:`~ledger.stats.stats_document` at threshold 5: the first document at a block (SQL grouping
and suppression), and the next ones at the same block (what ``GET /v1/stats`` does between two
catch-ups), as the median and the largest of 50.

``--full`` sets the issue's sizes: 1,000,000 certificate and 100,000 credit rows for the query;
on the chain 1,000,000 anchors take hours to write, so ``--full`` leaves the chain sizes as given.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on the path, where bench/http.py would shadow the
# standard library's http for every later import: the repository root takes its place.
_BENCH = Path(__file__).resolve().parent
sys.path[:] = [str(_BENCH.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _BENCH]

import argparse  # noqa: E402
import hashlib  # noqa: E402
import random  # noqa: E402
import sqlite3  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from contextlib import closing  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

from ledger.catalogue import CERTIFICATE_TYPES, credit_category  # noqa: E402
from ledger.cli.departments import add_department  # noqa: E402
from ledger.config import Settings  # noqa: E402
from ledger.contracts.values import Polarity  # noqa: E402
from ledger.session import LedgerSession  # noqa: E402
from ledger.stats import StatsIndex, stats_document  # noqa: E402
from tests.support.anvil import start_anvil  # noqa: E402

LICENCE = CERTIFICATE_TYPES[0].code
TAX = credit_category("tax-violation").code


def _digest(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def _write(session: LedgerSession, certificates: int, credit: int) -> None:
    add_department(session, 1, 110101, "东城区市场监督管理局", [LICENCE, TAX])
    sender = session.department_sender(1)
    registry, ledger = session.certificates(), session.credit()
    for i in range(certificates):
        sender.transact(registry.anchor(_digest(f"c{i}"), LICENCE, 110101))
    occurred = datetime.now(UTC) - timedelta(days=1)
    for i in range(credit):
        when = occurred + timedelta(seconds=i)
        call = ledger.record(_digest(f"s{i}"), TAX, Polarity.NEGATIVE, 2, when, _digest(f"e{i}"))
        sender.transact(call)


def _fill(path: Path, certificates: int, credit: int, now: int) -> None:
    """Synthetic rows straight into an index file (the schema of ledger/stats/index.py)."""
    chooser = random.Random(16)
    types = [t.code for t in CERTIFICATE_TYPES[:8]]
    counties = [(11 + p) * 10_000 + 101 + c for p in range(20) for c in range(2)]
    month = 30 * 86_400

    def certificate(i: int) -> tuple[object, ...]:
        anchored = now - chooser.randrange(24) * month - chooser.randrange(month)
        status = chooser.choices((1, 2, 3, 4), (90, 2, 5, 3))[0]
        expires = anchored + chooser.randrange(3 * 365) * 86_400 if i % 3 else 0
        changed = min(now, anchored + chooser.randrange(month))
        return (
            i.to_bytes(32, "big"),
            chooser.choice(types),
            chooser.choice(counties),
            anchored,
            expires,
            0,
            status,
            chooser.choice((1, 2, 3)) if status > 1 else 0,
            changed,
        )

    with closing(sqlite3.connect(path)) as connection, connection:
        connection.executemany(
            "INSERT INTO certificates VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (certificate(i) for i in range(certificates)),
        )
        connection.executemany(
            "INSERT INTO credit VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    i.to_bytes(32, "big"),
                    TAX + chooser.randrange(5),
                    int(chooser.random() < 0.1),
                    1 + chooser.randrange(5),
                    now - chooser.randrange(24 * month),
                    chooser.choice((0, 0, 0, 4, 5, 2)),
                    int(chooser.random() < 0.05),
                )
                for i in range(credit)
            ),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--certificates", type=int, default=2_000, help="anchors on the chain")
    parser.add_argument("--credit", type=int, default=200, help="credit events on the chain")
    parser.add_argument("--rows", type=int, default=100_000, help="certificate rows queried")
    parser.add_argument("--credit-rows", type=int, default=10_000, help="credit rows queried")
    parser.add_argument("--full", action="store_true", help="1,000,000 and 100,000 rows")
    options = parser.parse_args()
    if options.full:
        options.rows, options.credit_rows = 1_000_000, 100_000
    with tempfile.TemporaryDirectory() as scratch, start_anvil() as node:
        root = Path(scratch)
        session, _ = LedgerSession.initialize(Settings(data_dir=root / "data", rpc_url=node.url))
        with session:
            _write(session, options.certificates, options.credit)
            index = StatsIndex(root / "chain.sqlite3", session.context)
            started = time.perf_counter()
            index.catch_up()
            indexing = time.perf_counter() - started
            events = options.certificates + options.credit
            scaled = StatsIndex(root / "scaled.sqlite3", session.context)
            now = scaled.catch_up().time
            with closing(sqlite3.connect(scaled.path)) as connection, connection:
                connection.execute("DELETE FROM certificates")
                connection.execute("DELETE FROM credit")
            _fill(scaled.path, options.rows, options.credit_rows, now)
            started = time.perf_counter()
            stats_document(scaled)
            cold = time.perf_counter() - started
            warm = []
            for _ in range(50):
                started = time.perf_counter()
                stats_document(scaled)
                warm.append(time.perf_counter() - started)
    print("| measure | size | result |")
    print("| --- | --- | ---: |")
    print(
        f"| indexing from anvil (catch-up from the deployment) | {options.certificates:,} "
        f"anchors + {options.credit:,} credit events | {events / indexing:,.0f} events/s "
        f"({indexing:.2f} s) |"
    )
    size = f"{options.rows:,} certificates + {options.credit_rows:,} credit events"
    print(f"| first document at a block (SQL + suppression) | {size} | {cold * 1000:,.0f} ms |")
    print(
        f"| next documents at the same block (median / max of 50) | {size} | "
        f"{statistics.median(warm) * 1000:.2f} / {max(warm) * 1000:.2f} ms |"
    )


if __name__ == "__main__":
    main()
