"""The access log's tamper evidence (ledger/service/access_log.py): the entry object and its leaf,
batches, proofs rebuilt from the rows as they are, and the inclusion check, against a fake of
the anchor contract (a dictionary of anchored roots)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pydantic
import pytest
from eth_utils.crypto import keccak

from api.access_log_anchoring import next_delay
from ledger.config import Settings
from ledger.contracts import AccessLogAnchor
from ledger.documents.merkle import verify_proof
from ledger.errors import AccessEntryNotAnchoredError, AccessEntryNotFoundError, ValidationError
from ledger.service.access_log import (
    AccessBatch,
    AccessEntry,
    AccessLog,
    canonical_entry,
    check_inclusion,
    entry_hash,
    entry_leaf,
    entry_object,
)
from ledger.service.database import ServiceDatabase

ALICE = bytes.fromhex("11" * 32)
BOB = bytes.fromhex("22" * 32)
WINDOW = "东城区 3号窗口"


class FakeAnchors:
    """The anchor contract as a dictionary: what AccessLogAnchorsClient.anchor_of reads."""

    def __init__(self) -> None:
        self.roots: dict[bytes, AccessLogAnchor] = {}

    def anchor(self, batch: AccessBatch) -> None:
        moment = datetime.fromtimestamp(batch.created_at, UTC)
        self.roots[batch.root] = AccessLogAnchor(batch.first_seq, batch.last_seq, moment)

    def anchor_of(self, root: bytes) -> AccessLogAnchor | None:
        return self.roots.get(root)


class Clock:
    def __init__(self) -> None:
        self.now = 1_765_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def database(tmp_path: Path) -> Iterator[ServiceDatabase]:
    with ServiceDatabase(tmp_path / "service.sqlite3") as opened:
        yield opened


@pytest.fixture
def log(database: ServiceDatabase) -> AccessLog:
    return AccessLog(database, clock=Clock())


def anchored_batch(log: AccessLog, chain: FakeAnchors) -> AccessBatch:
    """What the service does: the next batch, anchored, its operation confirmed."""
    batch = log.next_batch()
    assert batch is not None
    chain.anchor(batch)
    log.journaled(batch.batch_id, "op-" + batch.batch_id)
    log.anchored(batch.batch_id, 42)
    return batch


def proof_document(log: AccessLog, subject: bytes, seq: int) -> dict[str, Any]:
    """The proof as the API answers it (JSON)."""
    proof = log.proof(subject, seq)
    document: dict[str, Any] = json.loads(
        json.dumps(
            {
                "entry": entry_object(proof.entry),
                "canonical": proof.canonical,
                "leaf": "0x" + proof.leaf.hex(),
                "proof": ["0x" + sibling.hex() for sibling in proof.proof],
                "root": "0x" + proof.root.hex(),
                "anchor": {"firstSeq": proof.batch.first_seq, "lastSeq": proof.batch.last_seq},
            }
        )
    )
    return document


# -- the entry object and its leaf --------------------------------------------------------------


def test_leaf_is_keccak_of_keccak_of_the_rfc8785_text() -> None:
    service = "residence-permit-endorsement"
    entry = AccessEntry(7, 1_765_000_000, ALICE, "consent.used", 3, WINDOW, service, ())
    canonical = canonical_entry(entry)
    assert canonical == (
        '{"action":"consent.used","at":1765000000,"department":3,"records":[],"seq":7,'
        '"service":"residence-permit-endorsement","subject":"0x' + "11" * 32 + '",'
        '"window":"' + WINDOW + '"}'
    )
    # An independent checker's way: keys sorted, no blanks, UTF-8 as is, keccak256 twice.
    independent = json.dumps(
        entry_object(entry), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert independent == canonical
    assert entry_hash(entry) == keccak(canonical.encode("utf-8"))
    assert entry_leaf(entry) == keccak(keccak(canonical.encode("utf-8")))
    assert entry_leaf(entry_object(entry)) == entry_leaf(entry)


def test_entry_object_has_exactly_the_eight_members() -> None:
    entry = AccessEntry(1, 5, BOB, "consent.granted", None, "", None, ("0x" + "ab" * 32,))
    assert entry_object(entry) == {
        "seq": 1,
        "at": 5,
        "subject": "0x" + "22" * 32,
        "action": "consent.granted",
        "department": None,
        "window": "",
        "service": None,
        "records": ["0x" + "ab" * 32],
    }


# -- batches ------------------------------------------------------------------------------------


def test_batches_are_consecutive_and_one_pending_at_a_time(log: AccessLog) -> None:
    assert log.next_batch() is None
    for _ in range(3):
        log.record(ALICE, "credit.lookup", department_id=3, window=WINDOW)
    first = log.next_batch()
    assert first is not None
    assert (first.first_seq, first.last_seq, first.state) == (1, 3, "pending")
    log.record(BOB, "credit.lookup", department_id=3)
    assert log.next_batch() == first  # pending: the same batch, never a second one
    log.anchored(first.batch_id, 10)
    assert log.anchored_through() == 3
    second = log.next_batch()
    assert second is not None
    assert (second.first_seq, second.last_seq) == (4, 4)


def test_a_failed_batch_is_given_up_and_its_entries_go_into_the_next(log: AccessLog) -> None:
    log.record(ALICE, "credit.lookup")
    failed = log.next_batch()
    assert failed is not None
    log.abandon(failed.batch_id)
    log.record(ALICE, "credit.lookup")
    retried = log.next_batch()
    assert retried is not None
    assert retried.batch_id != failed.batch_id
    assert (retried.first_seq, retried.last_seq) == (1, 2)


def test_a_batch_holds_at_most_its_limit(log: AccessLog) -> None:
    for _ in range(5):
        log.record(ALICE, "credit.lookup")
    batch = log.next_batch(limit=2)
    assert batch is not None
    assert (batch.first_seq, batch.last_seq) == (1, 2)


def test_a_batch_starts_after_the_last_one_whatever_numbers_are_missing(
    log: AccessLog, database: ServiceDatabase
) -> None:
    chain = FakeAnchors()
    for _ in range(3):
        log.record(ALICE, "credit.lookup")
    anchored_batch(log, chain)
    with database.transaction() as connection:  # numbers 4 to 9 never used
        connection.execute("UPDATE sqlite_sequence SET seq = 9 WHERE name = 'access_log'")
    log.record(ALICE, "credit.lookup")
    batch = log.next_batch()
    assert batch is not None
    assert (batch.first_seq, batch.last_seq) == (4, 10)


# -- proofs -------------------------------------------------------------------------------------


def test_proof_of_an_anchored_entry_checks(log: AccessLog) -> None:
    chain = FakeAnchors()
    for index in range(5):
        subject = ALICE if index % 2 else BOB
        log.record(subject, "credit.lookup", department_id=3, records=[str(index)])
    batch = anchored_batch(log, chain)
    for seq in (2, 4):
        proof = log.proof(ALICE, seq)
        assert proof.intact
        assert proof.root == batch.root
        assert verify_proof(entry_hash(proof.entry), proof.proof, batch.root)
        inclusion = check_inclusion(proof_document(log, ALICE, seq), chain.anchor_of)
        assert inclusion.included, inclusion.reason
        assert (inclusion.seq, inclusion.root) == (seq, batch.root)


def test_proof_of_anothers_or_no_entry_is_not_found(log: AccessLog) -> None:
    log.record(ALICE, "credit.lookup")
    anchored_batch(log, FakeAnchors())
    with pytest.raises(AccessEntryNotFoundError):
        log.proof(BOB, 1)
    with pytest.raises(AccessEntryNotFoundError):
        log.proof(ALICE, 2)


def test_no_proof_before_the_batch_is_anchored(log: AccessLog) -> None:
    log.record(ALICE, "credit.lookup")
    with pytest.raises(AccessEntryNotAnchoredError):
        log.proof(ALICE, 1)
    assert log.next_batch() is not None  # pending is not anchored either
    with pytest.raises(AccessEntryNotAnchoredError):
        log.proof(ALICE, 1)


def _tamper(database: ServiceDatabase, statement: str, *parameters: object) -> None:
    with sqlite3.connect(database.path) as connection:
        connection.execute(statement, parameters)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE access_log SET window = 'elsewhere' WHERE seq = 2",
        "UPDATE access_log SET records = '[]' WHERE seq = 3",
        "UPDATE access_log SET at = at + 1 WHERE seq = 2",
        "DELETE FROM access_log WHERE seq = 3",
        "INSERT INTO access_log (seq, at, subject_ref, action) "
        "VALUES (5, 1, x'00', 'credit.lookup')",
    ],
    ids=["window", "records", "time", "delete-neighbour", "insert-in-a-gap"],
)
def test_a_row_changed_after_anchoring_breaks_the_proof(
    log: AccessLog, database: ServiceDatabase, statement: str
) -> None:
    chain = FakeAnchors()
    for _ in range(3):
        log.record(ALICE, "credit.lookup", department_id=3, window=WINDOW, records=["0x01"])
    with database.transaction() as connection:  # numbers 4 and 5 never used: a gap
        connection.execute("UPDATE sqlite_sequence SET seq = 5 WHERE name = 'access_log'")
    log.record(ALICE, "credit.lookup")  # 6
    batch = anchored_batch(log, chain)
    assert (batch.first_seq, batch.last_seq) == (1, 6)
    assert check_inclusion(proof_document(log, ALICE, 2), chain.anchor_of).included
    _tamper(database, statement)
    proof = log.proof(ALICE, 2)
    assert not proof.intact
    inclusion = check_inclusion(proof_document(log, ALICE, 2), chain.anchor_of)
    assert not inclusion.included
    assert inclusion.reason == "the root is not anchored on chain"


# -- the inclusion check ------------------------------------------------------------------------


@pytest.fixture
def chain() -> FakeAnchors:
    return FakeAnchors()


@pytest.fixture
def document(log: AccessLog, chain: FakeAnchors) -> dict[str, Any]:
    """The proof of entry 2 of an anchored batch of three."""
    for _ in range(3):
        log.record(ALICE, "consent.used", department_id=3, window=WINDOW, service="x")
    anchored_batch(log, chain)
    return proof_document(log, ALICE, 2)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d["entry"].update(window="x"), "the canonical text is not the RFC 8785 text"),
        (
            lambda d: d.update(canonical=d["canonical"].replace(":", ": ", 1)),
            "the canonical text is not the RFC 8785 text",
        ),
        (lambda d: d.update(leaf="0x" + "00" * 32), "the leaf is not"),
        (lambda d: d["proof"].reverse() or d["proof"].append("0x" + "00" * 32), "the proof does"),
        (lambda d: d.update(root="0x" + "00" * 32), "the proof does not lead"),
    ],
    ids=["entry", "canonical", "leaf", "proof", "root"],
)
def test_each_mismatch_is_not_included_with_its_reason(
    document: dict[str, Any], chain: FakeAnchors, change: Any, reason: str
) -> None:
    assert check_inclusion(document, chain.anchor_of).included
    change(document)
    inclusion = check_inclusion(document, chain.anchor_of)
    assert not inclusion.included
    assert inclusion.reason.startswith(reason)


def test_a_seq_outside_the_anchored_range_is_not_included(
    document: dict[str, Any], chain: FakeAnchors
) -> None:
    root = bytes.fromhex(document["root"][2:])
    anchor = chain.roots[root]
    chain.roots[root] = AccessLogAnchor(
        anchor.first_seq + 5, anchor.last_seq + 5, anchor.anchored_at
    )
    inclusion = check_inclusion(document, chain.anchor_of)
    assert not inclusion.included
    assert "not for entry 2" in inclusion.reason


@pytest.mark.parametrize(
    "broken",
    [
        [],
        {"entry": {}},
        {"entry": {"seq": 0}, "canonical": ""},
        {"entry": {"seq": 1}, "canonical": "", "proof": "0x"},
        {"entry": {"seq": 1}, "canonical": "", "proof": ["0x12"], "leaf": "0x", "root": "0x"},
        {"entry": {"seq": True}, "canonical": "", "proof": []},
    ],
)
def test_a_document_that_is_no_proof_is_invalid(broken: Any, chain: FakeAnchors) -> None:
    with pytest.raises(ValidationError):
        check_inclusion(broken, chain.anchor_of)


# -- the periodic anchoring's schedule -----------------------------------------------------------


def test_anchoring_is_due_an_interval_after_the_oldest_entry_waiting(log: AccessLog) -> None:
    now = 1_000_000.0
    assert next_delay(log, 3600, now) == 3600  # nothing waits: look again in an interval
    log.clock = lambda: now - 600
    log.record(ALICE, "credit.lookup")
    log.clock = lambda: now - 60
    log.record(ALICE, "credit.lookup")
    assert next_delay(log, 3600, now) == 3000
    assert next_delay(log, 300, now) == -300  # overdue: now
    batch = log.next_batch()
    assert batch is not None
    assert next_delay(log, 3600, now) == 0  # a pending batch is finished at once
    log.anchored(batch.batch_id, 1)
    assert next_delay(log, 3600, now) == 3600


@pytest.mark.parametrize(
    ("value", "valid"), [("0", False), ("1", True), ("1440", True), ("1441", False), ("x", False)]
)
def test_the_anchoring_interval_is_a_setting_of_one_minute_to_a_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, valid: bool
) -> None:
    monkeypatch.setenv("LEDGER_ACCESS_LOG_ANCHOR_MINUTES", value)
    if valid:
        assert Settings(data_dir=tmp_path).access_log_anchor_minutes == int(value)
    else:
        with pytest.raises(pydantic.ValidationError):
            Settings(data_dir=tmp_path)


def test_the_anchoring_interval_defaults_to_an_hour(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LEDGER_ACCESS_LOG_ANCHOR_MINUTES", raising=False)
    assert Settings(data_dir=tmp_path).access_log_anchor_minutes == 60
