"""The ``ledger`` console script, run as a real subprocess against an embedded-chain data directory.

Each subprocess costs a second or two of imports, so data directories are prepared through the
library where the CLI step itself is not under test, and related steps share one test. The restart
tests SIGKILL a writer (the CLI, then a library process that never closes the chain) and verify in
a fresh process.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Final

import pytest

from ledger.documents import document_hash_of
from ledger.identity import citizen_check_character, make_citizen_id
from ledger.session import LedgerSession
from ledger.verification import Verdict, verify_document
from tests.integration.conftest import (
    BUSINESS_LICENCE,
    TAX_VIOLATION,
)
from tests.support.cli import (
    CITIZEN,
    COMMAND_TIMEOUT,
    DEPARTMENT,
    ENTERPRISE,
    EXIT_INVALID,
    LEDGER,
    REGION,
    environment,
    json_of,
    ledger,
    one_error_line,
    prepare,
    settings_for,
    succeeded,
    write,
)
from tests.support.process import free_port

CITIZEN_X: Final = next(
    number
    for number in (make_citizen_id("110105", date(1985, 9, 9), n) for n in range(1000))
    if number.endswith("X")
)


# ----------------------------------------------------------------------------------------------
# Commands
# ----------------------------------------------------------------------------------------------


def test_init_is_idempotent_and_status_describes_the_ledger(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = succeeded(ledger(data_dir, "init"))
    assert first.startswith("ledger deployed on chain 1337")

    again = json_of(ledger(data_dir, "init", "--json"))
    assert again["deployed"] is False
    assert again["chainId"] == 1337
    for address in again["contracts"].values():
        assert address in first  # the same contracts as the first run
    assert again["governance"] in first

    status = json_of(ledger(data_dir, "--json", "status"))
    assert status["chain"] == "embedded"
    assert status["chainId"] == 1337
    assert status["contracts"] == again["contracts"]
    assert status["departments"] == []
    assert status["keys"] == [{"role": "governance", "address": again["governance"]}]
    assert status["head"] >= 5  # three deployments and two sink registrations

    types = json_of(ledger(data_dir, "types", "--json"))
    names = {row["name"] for row in types["scopes"]}
    assert {"business-licence", "tax-violation", "commendation"} <= names


def test_init_adds_the_access_log_anchors_to_an_older_deployment(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    prepare(data_dir, department=False)
    path = data_dir / "deployments.json"
    document = json.loads(path.read_text())
    [entry] = document.values()
    before = dict(entry)
    del entry["AccessLogAnchors"]
    path.write_text(json.dumps(document))

    again = json_of(ledger(data_dir, "init", "--json"))
    assert again["deployed"] is False
    assert again["contracts"]["CertificateRegistry"] == before["CertificateRegistry"]
    [after] = json.loads(path.read_text()).values()
    assert after["AccessLogAnchors"] not in (None, before["AccessLogAnchors"])
    assert after == {**before, "AccessLogAnchors": after["AccessLogAnchors"]}
    with LedgerSession.open(settings_for(data_dir)) as session:
        assert session.access_log_anchors().last_seq() == 0


def test_department_commands(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    prepare(data_dir, department=False)
    added = json_of(
        ledger(
            data_dir,
            *("department", "add", "--id", "3", "--region", "110101"),
            *("--name", "东城区税务局", "--scope", "business-licence"),
            *("--scope", "tax-violation", "--json"),
        )
    )
    assert added["departmentId"] == 3
    assert added["scopes"] == [BUSINESS_LICENCE, TAX_VIOLATION]
    signer = added["signer"]

    suspended = json_of(ledger(data_dir, "department", "suspend", "3", "--json"))
    assert suspended == {"departmentId": 3, "suspended": True}
    (listed,) = json_of(ledger(data_dir, "department", "list", "--json"))["departments"]
    assert listed["suspended"] is True
    assert listed["signers"] == [signer]
    assert sorted(listed["scopes"]) == [BUSINESS_LICENCE, TAX_VIOLATION]

    reinstated = json_of(ledger(data_dir, "department", "reinstate", "3", "--json"))
    assert reinstated == {"departmentId": 3, "suspended": False}

    rotated = json_of(ledger(data_dir, "department", "rotate-key", "3", "--json"))
    assert rotated["retired"] == signer
    assert rotated["signer"] != signer

    text = succeeded(ledger(data_dir, "department", "list"))
    assert text.split() == ["3", "region", "110101", "active", "scopes", "2", "keys", "1"]


def test_anchor_verify_revoke(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    prepare(data_dir)
    licence = write(tmp_path / "licence.txt", f"营业执照 {ENTERPRISE} 北京示例科技有限公司\n")
    modified = write(tmp_path / "modified.txt", f"营业执照 {ENTERPRISE} 北京示例科技有限公司 \n")

    result = ledger(
        data_dir,
        *("anchor", str(licence), "--type", "business-licence"),
        *("--subject", ENTERPRISE, "--expires", "2030-12-31", "--json"),
    )
    anchored = json_of(result)
    digest = anchored["documentHash"]
    assert digest == "0x" + document_hash_of(licence).hash.hex()
    assert anchored["department"] == DEPARTMENT
    assert anchored["region"] == REGION
    assert anchored["expiresAt"] == "2030-12-31T16:00:00+00:00"  # end of the day, China time
    assert ENTERPRISE not in result.stdout + result.stderr

    valid = succeeded(ledger(data_dir, "verify", str(licence)))
    assert valid.splitlines()[0] == f"VALID  {digest}"
    assert "[FAIL]" not in valid

    invalid = ledger(data_dir, "verify", str(modified), "--json")
    assert invalid.returncode == EXIT_INVALID, invalid.stderr
    report = json.loads(invalid.stdout)
    assert report["verdict"] == "INVALID"
    failed = [c["name"] for c in report["checks"] if c["outcome"] == "failed"]
    assert failed == ["anchor.exists"]

    revoked = json_of(ledger(data_dir, "revoke", digest, "--reason", "fraud", "--json"))
    assert revoked["documentHash"] == digest
    assert (revoked["action"], revoked["reason"]) == ("revoke", "fraud")

    after = ledger(data_dir, "verify", str(licence))
    assert after.returncode == EXIT_INVALID, after.stderr
    assert after.stdout.splitlines()[0] == f"INVALID  {digest}"
    assert "revoked (reason: fraud)" in after.stdout


def test_credit_record_amend_history(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    prepare(data_dir)
    evidence = write(tmp_path / "audit.txt", f"稽查报告 {CITIZEN_X}\n")
    award = write(tmp_path / "award.txt", "表彰决定\n")
    decision = write(tmp_path / "decision.txt", "复核决定书\n")
    # Recent: `ledger credit history` lists only events within their disclosure period (ADR 0020).
    occurred = (date.today() - timedelta(days=60)).isoformat()

    first = ledger(
        data_dir,
        *("credit", "record", "--subject", CITIZEN_X, "--category", "tax-violation"),
        *("--severity", "3", "--occurred", occurred, "--evidence", str(evidence), "--json"),
    )
    negative = json_of(first)["eventId"]
    positive = json_of(
        ledger(
            data_dir,
            *("--json", "credit", "record", "--subject", CITIZEN_X.lower()),
            *("--category", "commendation", "--polarity", "positive", "--severity", "2"),
            *("--occurred", "2023-02-01", "--evidence", str(award)),
        )
    )["eventId"]
    amended = json_of(
        ledger(
            data_dir,
            *("credit", "amend", negative, "--status", "disputed"),
            *("--reason", str(decision), "--json"),
        )
    )
    assert amended["status"] == "disputed"

    result = ledger(data_dir, "credit", "history", "--subject", CITIZEN_X.lower(), "--json")
    history = json_of(result)
    # Oldest occurrence first: the commendation of 2023 before the violation of 2024.
    assert [e["eventId"] for e in history["events"]] == [positive, negative]
    assert [e["amendment"] for e in history["events"]] == ["none", "disputed"]
    assert [e["category"] for e in history["events"]] == ["commendation", "tax-violation"]
    assert history["events"][1]["occurredAt"] == f"{occurred}T00:00:00+08:00"
    assert history["score"]["counted"] == [positive, negative]
    assert history["score"]["value"] == 100 - 10 + 2
    for output in (first.stdout, result.stdout, result.stderr):
        assert CITIZEN_X not in output
        assert CITIZEN_X.lower() not in output


# ----------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SharedLedger:
    """A prepared data directory used read-only by the error tests of one worker."""

    data_dir: Path
    anchored: Path
    fresh: Path


@pytest.fixture(scope="module")
def shared_ledger(tmp_path_factory: pytest.TempPathFactory) -> SharedLedger:
    root = tmp_path_factory.mktemp("cli-shared")
    data_dir = root / "data"
    prepare(data_dir)
    anchored = write(root / "anchored.txt", "已登记的营业执照\n")
    fresh = write(root / "fresh.txt", "尚未登记的证明\n")
    session = LedgerSession.open(settings_for(data_dir))
    with session:
        session.department_sender(DEPARTMENT).transact(
            session.certificates().anchor(
                document_hash_of(anchored).hash,
                BUSINESS_LICENCE,
                REGION,
                subject_ref=session.subject_ref(ENTERPRISE),
            )
        )
    return SharedLedger(data_dir, anchored, fresh)


def _february_30() -> str:
    body = "11010119900230123"
    return body + citizen_check_character(body)


def _wrong_check() -> str:
    return CITIZEN[:-1] + ("0" if CITIZEN[-1] != "0" else "1")


def _forbidden_letter(letter: str) -> str:
    return ENTERPRISE[:10] + letter + ENTERPRISE[11:]


#: Malformed identifiers and what the one error line must say about them.
INVALID_IDENTIFIERS: Final = {
    "citizen-wrong-check-character": (_wrong_check(), "wrong check character"),
    "citizen-february-30": (_february_30(), "birth date is not a real calendar date"),
    "wrong-length": (CITIZEN[:-1], "wrong length"),
    **{
        f"uscc-letter-{letter}": (_forbidden_letter(letter), "forbidden letter")
        for letter in "IOZSV"
    },
}


@pytest.mark.parametrize(
    ("identifier", "problem"), INVALID_IDENTIFIERS.values(), ids=list(INVALID_IDENTIFIERS)
)
def test_invalid_identifier_is_one_line_without_the_input(
    shared_ledger: SharedLedger, identifier: str, problem: str
) -> None:
    line = one_error_line(
        ledger(shared_ledger.data_dir, "credit", "history", "--subject", identifier), 2
    )
    assert problem in line
    for spelling in (identifier, identifier.upper(), identifier.lower(), identifier[:-1]):
        assert spelling not in line


ErrorArguments = Callable[[SharedLedger], list[str]]
ERRORS: Final[dict[str, tuple[ErrorArguments, int, str]]] = {
    "unknown-type": (
        lambda s: ["anchor", str(s.fresh), "--type", "driving-licence", "--subject", ENTERPRISE],
        2,
        "unknown certificate type",
    ),
    "bad-hash": (lambda s: ["revoke", "0x12ab", "--reason", "fraud"], 2, "64 hex digits"),
    "missing-file": (
        lambda s: ["verify", str(s.fresh.with_name("missing.pdf"))],
        2,
        "does not exist",
    ),
    "duplicate-anchor": (
        lambda s: [
            "anchor",
            str(s.anchored),
            "--type",
            "business-licence",
            "--subject",
            ENTERPRISE,
        ],
        5,
        "CertificateRegistryAlreadyAnchored",
    ),
    "unauthorized": (
        lambda s: [
            *("anchor", str(s.fresh), "--type", "marriage-certificate"),
            *("--subject", CITIZEN),
        ],
        4,
        "not accredited for marriage-certificate",
    ),
    "node-down": (
        lambda s: ["verify", str(s.anchored), "--rpc", f"http://127.0.0.1:{free_port()}"],
        6,
        "cannot reach the JSON-RPC node",
    ),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_are_one_line_with_their_exit_status(shared_ledger: SharedLedger, name: str) -> None:
    arguments, code, expected = ERRORS[name]
    line = one_error_line(ledger(shared_ledger.data_dir, *arguments(shared_ledger)), code)
    assert expected in line
    assert ENTERPRISE not in line
    assert CITIZEN not in line


def test_second_opener_of_a_data_directory_gets_one_line(shared_ledger: SharedLedger) -> None:
    with LedgerSession.open(settings_for(shared_ledger.data_dir)):
        line = one_error_line(ledger(shared_ledger.data_dir, "status"), 7)
    assert "in use by another process" in line
    assert f"pid {os.getpid()}" in line
    # Released: the next opener succeeds.
    assert json_of(ledger(shared_ledger.data_dir, "status", "--json"))["chain"] == "embedded"


# ----------------------------------------------------------------------------------------------
# Restart after kill -9
# ----------------------------------------------------------------------------------------------


class LineReader:
    """Reads lines from a child's unbuffered stdout with a deadline (no thread, no sleep)."""

    def __init__(self, process: subprocess.Popen[bytes], stderr_path: Path) -> None:
        assert process.stdout is not None
        self.process = process
        self.fd = process.stdout.fileno()
        self.stderr_path = stderr_path
        self.buffer = b""

    def line(self, timeout: float = COMMAND_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self.fd], [], [], max(remaining, 0))
            if not ready:
                raise AssertionError(f"no output within {timeout} s; stderr: {self._stderr()}")
            chunk = os.read(self.fd, 65536)
            if not chunk:
                raise AssertionError(f"child exited early; stderr: {self._stderr()}")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode()

    def _stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")[-2000:]


@contextlib.contextmanager
def spawn(
    args: list[str], stderr_path: Path
) -> Iterator[tuple[subprocess.Popen[bytes], LineReader]]:
    """Start a child with unbuffered output; always SIGKILL and reap it afterwards."""
    env = environment({"PYTHONUNBUFFERED": "1"})
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=env
        )
    try:
        yield process, LineReader(process, stderr_path)
    finally:
        kill(process)


def kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            stream.close()


def test_anchor_killed_after_reporting_is_durable(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    prepare(data_dir)
    licence = write(tmp_path / "licence.txt", f"营业执照 {ENTERPRISE} 重启测试\n")
    modified = write(tmp_path / "modified.txt", f"营业执照 {ENTERPRISE} 重启测试!\n")

    command = [
        *(str(LEDGER), "--data-dir", str(data_dir), "anchor", str(licence)),
        *("--type", "business-licence", "--subject", ENTERPRISE, "--expires", "2030-12-31"),
    ]
    with spawn(command, tmp_path / "anchor.stderr") as (process, reader):
        line = reader.line()
        kill(process)  # the session may still be open; it may already be exiting - fine
    assert line.startswith("anchored 0x"), line
    digest = line.split()[1]

    valid = succeeded(ledger(data_dir, "verify", str(licence)))
    assert valid.splitlines()[0] == f"VALID  {digest}"
    invalid = ledger(data_dir, "verify", str(modified))
    assert invalid.returncode == EXIT_INVALID, invalid.stderr
    assert "no anchor for this document hash" in invalid.stdout


#: Anchors through the library, reports each, then blocks forever with the chain still open.
ANCHORING_CHILD: Final = """
import sys
from pathlib import Path
from ledger.catalogue import certificate_type
from ledger.config import Settings
from ledger.documents import document_hash_of
from ledger.session import LedgerSession

data_dir, documents, prefix, count, department, region = sys.argv[1:7]
session = LedgerSession.open(Settings(data_dir=Path(data_dir)))
client = session.certificates()
sender = session.department_sender(int(department))
code = certificate_type("business-licence").code
print("ready", flush=True)
for index in range(int(count)):
    path = Path(documents) / f"{prefix}-{index:03d}.txt"
    path.write_text(f"licence {prefix} {index}\\n", encoding="utf-8")
    digest = document_hash_of(path).hash
    sender.transact(client.anchor(digest, code, int(region)))
    print(f"anchored 0x{digest.hex()} {path}", flush=True)
print("done", flush=True)
sys.stdin.read()  # never close the chain: the test kills this process
"""


#: (documents the child would anchor, lines read before the kill): the first child is killed
#: while idle, the others in the middle of their next anchor.
KILL_ROUNDS: Final = ((4, 4), (40, 3), (40, 7))


def test_library_writer_killed_without_closing_loses_nothing_reported(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    documents = tmp_path / "documents"
    documents.mkdir()
    prepare(data_dir)
    reported: list[tuple[str, Path]] = []

    for number, (count, kill_after) in enumerate(KILL_ROUNDS):
        command = [
            *(sys.executable, "-c", ANCHORING_CHILD, str(data_dir), str(documents)),
            *(f"round{number}", str(count), str(DEPARTMENT), str(REGION)),
        ]
        with spawn(command, tmp_path / f"child{number}.stderr") as (process, reader):
            assert reader.line() == "ready"
            for _ in range(kill_after):
                _, reported_digest, reported_path = reader.line().split()
                reported.append((reported_digest, Path(reported_path)))
            if kill_after == count:
                assert reader.line() == "done"  # killed while idle, chain open
            kill(process)  # otherwise killed in the middle of the next anchor

        # A new process sees every reported anchor.
        last_digest, last_path = reported[-1]
        output = succeeded(ledger(data_dir, "verify", str(last_path)))
        assert output.splitlines()[0] == f"VALID  {last_digest}"
        with LedgerSession.open(settings_for(data_dir)) as session:
            for digest, path in reported:
                report = verify_document(path.read_bytes(), session.context)
                assert report.verdict is Verdict.VALID, (path.name, report.failures)
                assert report.document_hash is not None
                assert "0x" + report.document_hash.hex() == digest
            tampered = verify_document(last_path.read_bytes() + b"#", session.context)
            assert tampered.verdict is Verdict.INVALID

    assert len(reported) == sum(kill_after for _, kill_after in KILL_ROUNDS)
