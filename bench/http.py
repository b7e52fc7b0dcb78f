"""HTTP throughput and latency: a trivial route next to ``POST /v1/verify`` by hash.

Run: ``python bench/http.py [--connections 8] [--seconds 10] [--backend embedded|anvil]``.
Prints a Markdown table (not a test).

One ``ledger serve`` process (one uvicorn worker, rate limits off, access log on) on a fresh
ledger with a department and an anchored licence; the load generator is autocannon (npm, from
node_modules) on loopback (driven by ``bench/loadgen.js``), with N connections kept alive, each
sending its next request as soon as the last is answered. In one run, against the same server:
``GET /v1/health`` (the trivial route: no body, no chain), then ``POST /v1/verify`` with the
licence's hash as JSON (the fast path of issue #7: the report from the verification index,
brought current by one read of the chain's head and a log scan when blocks have passed). Each
measurement follows a two-second warm-up of the same request. Requests per second is
autocannon's mean over the seconds of the run; the latency percentiles (nearest rank), mean and
maximum are over every answer's time as autocannon measured it, in milliseconds with their
fractions (autocannon's own percentiles count whole milliseconds: 4.9 ms as 4).

Targets (issue #7): verify at least half the trivial route's rate, and its p99 at most 5 ms, at
8 connections.
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
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any, Final  # noqa: E402

ROOT: Final = Path(__file__).resolve().parents[1]

import httpx  # noqa: E402

from tests.support.serve import ServerDidNotStartError, serving  # noqa: E402
from tests.support.service import prepare_service  # noqa: E402

AUTOCANNON: Final = ROOT / "node_modules" / "autocannon"
LOADGEN: Final = ROOT / "bench" / "loadgen.js"


@dataclass(frozen=True)
class Result:
    route: str
    requests_per_second: float
    p50: float
    p99: float
    mean: float
    max: float
    requests: int
    errors: int


def autocannon(url: str, connections: int, seconds: int, *, body: bytes | None = None) -> Any:
    command = ["node", str(LOADGEN), url, str(connections), str(seconds)]
    if body is not None:
        command.append(body.decode())
    finished = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 60, cwd=ROOT
    )
    return json.loads(finished.stdout)


def measure(
    route: str, url: str, connections: int, seconds: int, body: bytes | None = None
) -> Result:
    autocannon(url, connections, 2, body=body)  # warm-up
    data = autocannon(url, connections, seconds, body=body)
    return Result(
        route=route,
        requests_per_second=float(data["rate"]),
        p50=float(data["p50"]),
        p99=float(data["p99"]),
        mean=float(data["mean"]),
        max=float(data["max"]),
        requests=int(data["total"]),
        errors=int(data["errors"]),
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--backend", choices=("embedded", "anvil"), default="embedded")
    args = parser.parse_args(argv)
    if not AUTOCANNON.exists():
        raise SystemExit("bench/http.py: autocannon is missing; run `npm ci`")
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="http-bench-")))
        rpc_url = None
        if args.backend == "anvil":
            from tests.support.anvil import start_anvil

            rpc_url = stack.enter_context(start_anvil()).url
        prepared = prepare_service(tmp, rpc_url=rpc_url, rate_limit=0)
        try:
            url = stack.enter_context(serving(prepared.settings.data_dir, rpc_url)).url
        except ServerDidNotStartError as error:
            raise SystemExit(f"bench/http.py: {error}") from None
        body = json.dumps({"documentHash": "0x" + prepared.doc_hash.hex()}).encode()
        check = httpx.post(
            f"{url}/v1/verify", content=body, headers={"content-type": "application/json"}
        )
        if check.json()["verdict"] != "VALID":
            raise SystemExit(f"bench/http.py: the licence does not verify: {check.text}")
        results = [
            measure("GET /v1/health", f"{url}/v1/health", args.connections, args.seconds),
            measure(
                "POST /v1/verify (hash)", f"{url}/v1/verify", args.connections, args.seconds, body
            ),
        ]
    trivial, verify = results
    ratio = verify.requests_per_second / trivial.requests_per_second
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    print(
        f"http, commit {commit}, {args.backend}, {args.connections} connections, "
        f"{args.seconds} s a route, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {time.perf_counter() - started:.0f} s\n"
    )
    print("| route | requests/s | p50 ms | p99 ms | mean ms | max ms | requests | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for result in results:
        print(
            f"| {result.route} | {result.requests_per_second:,.0f} | {result.p50:.2f} | "
            f"{result.p99:.2f} | {result.mean:.2f} | {result.max:.1f} | {result.requests:,} | "
            f"{result.errors} |"
        )
    rate_ok = "PASS" if ratio >= 0.5 else "MISS"
    p99_ok = "PASS" if verify.p99 <= 5 else "MISS"
    print(
        f"\nverify / trivial rate: {ratio:.2f} (target >= 0.5): {rate_ok}; "
        f"verify p99 {verify.p99:.2f} ms (target <= 5 ms): {p99_ok}"
    )


if __name__ == "__main__":
    main()
