"""CID throughput of the embedded store next to plain sha256, in the same run (issue 3).

Run: ``python bench/cid.py [--runs N]``. Prints a Markdown table (not a test). For 1 MiB and
100 MiB of random bytes it times, best of N (default 3):

- ``sha256``: one ``hashlib.sha256`` over the whole buffer, the ceiling for any CID computation;
- ``CID``: :func:`ledger.storage.unixfs.build_dag` as ``ipfs add --cid-version=1 --raw-leaves``
  computes it (256 KiB raw leaves, balanced dag-pb tree), keeping no blocks and writing nothing;
- ``put``: :meth:`ledger.storage.embedded.EmbeddedStore.put` into a fresh temporary directory, so
  every block is written, fsynced and renamed, then the root pinned.

sha256 and CID are timed alternately in each run, each timing repeated to cover 64 MiB.

The target (issue 3) is CID throughput of at least 0.85x sha256's; ``put`` depends on the disk.
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
import os  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import ssl  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Final  # noqa: E402

ROOT: Final = Path(__file__).resolve().parents[1]

from ledger.storage.embedded import EmbeddedStore  # noqa: E402
from ledger.storage.unixfs import build_dag  # noqa: E402

MIB: Final = 1024 * 1024
SIZES: Final = (1 * MIB, 100 * MIB)
TARGET: Final = 0.85
#: Each sha256 / CID timing covers at least this many bytes.
REPEAT_BYTES: Final = 64 * MIB


def seconds_per_call(action: Callable[[], object], repeat: int) -> float:
    """Mean seconds of ``repeat`` back-to-back calls (one timing, so timer overhead vanishes)."""
    started = time.perf_counter()
    for _ in range(repeat):
        action()
    return (time.perf_counter() - started) / repeat


def measure(size: int, runs: int, scratch: Path) -> tuple[float, float, float]:
    """Seconds for sha256, CID and put of ``size`` random bytes, best of ``runs`` each.

    sha256 and CID alternate within each run, so a noisy neighbour slows both alike; each timing
    repeats the call until it covers :data:`REPEAT_BYTES`, so 1 MiB is not a sub-millisecond
    measurement. ``put`` goes once per run into an empty store (a second put would find every
    block already there).
    """
    data = os.urandom(size)
    repeat = max(1, REPEAT_BYTES // size)
    store_dir = scratch / "store"
    sha = cid = put = float("inf")
    for _ in range(runs):
        sha = min(sha, seconds_per_call(lambda: hashlib.sha256(data).digest(), repeat))
        cid = min(cid, seconds_per_call(lambda: build_dag(data, keep_blocks=False), repeat))
        shutil.rmtree(store_dir, ignore_errors=True)
        put = min(put, seconds_per_call(lambda: EmbeddedStore(store_dir).put(data), 1))
    shutil.rmtree(store_dir, ignore_errors=True)
    return sha, cid, put


def _mib_per_s(size: int, seconds: float) -> str:
    return f"{size / MIB / seconds:,.0f}"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine_line() -> str:
    """What the figures depend on: commit, Python, OpenSSL (hashlib's sha256), CPU."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return (
        f"commit {commit}; Python {platform.python_version()}; {ssl.OPENSSL_VERSION}; "
        f"{os.cpu_count()} CPUs, {_cpu_model()}; {platform.system()} {platform.release()}"
    )


def render(rows: list[tuple[int, float, float, float]], runs: int) -> list[str]:
    lines = [
        f"| size | sha256 MiB/s | CID MiB/s | CID / sha256 | >= {TARGET} | put MiB/s |",
        "| ---: | ---: | ---: | ---: | :---: | ---: |",
    ]
    for size, sha, cid, put in rows:
        ratio = sha / cid
        verdict = "PASS" if ratio >= TARGET else "MISS"
        lines.append(
            f"| {size // MIB} MiB | {_mib_per_s(size, sha)} | {_mib_per_s(size, cid)} | "
            f"{ratio:.2f} | {verdict} | {_mib_per_s(size, put)} |"
        )
    lines.append("")
    lines.append(
        f"Best of {runs} runs each (sha256 and CID repeated to {REPEAT_BYTES // MIB} MiB per "
        "timing); MiB/s = 2^20 bytes per second."
    )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print; exit status 1 when a size misses the target."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (default 3)")
    args = parser.parse_args(argv)
    runs: int = args.runs
    if runs < 1:
        parser.error("--runs must be at least 1")

    with tempfile.TemporaryDirectory(prefix="cid-bench-") as scratch:
        rows = [(size, *measure(size, runs, Path(scratch))) for size in SIZES]

    print(machine_line())
    print(f"measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    print("\n".join(render(rows, runs)))
    return 0 if all(sha / cid >= TARGET for _, sha, cid, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
