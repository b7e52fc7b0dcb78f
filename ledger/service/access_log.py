"""The access log a citizen or enterprise reads (查询记录): who used or read their records.

Every consent granted, used or revoked, every window check, every stored copy read and every
credit lookup by a department appends one entry: when, which action, the department and the
window (its token's label), the service, and what was read (document hashes, event ids). The
subject is kept by its chain subject reference, never by its identifier.

Tamper evidence (ADR 0028): consecutive entries form batches, and each batch's Merkle root goes
on chain (``AccessLogAnchors``, signed by governance). An entry's leaf is
``leaf_node(keccak256(UTF-8 of the RFC 8785 text of its entry object))`` (:func:`entry_object`,
:func:`entry_leaf`), pairs hashed sorted as every Merkle batch of the ledger
(:mod:`ledger.documents.merkle`). A proof is rebuilt from the batch's rows *as they are now*
(:meth:`AccessLog.proof`), so an entry altered or deleted after its batch was anchored leads to
a root that is not on chain, and :func:`check_inclusion` says NOT INCLUDED.

Not here: sending the anchoring (the service journals it, ``api/access_log_anchoring.py``; the
call is :mod:`ledger.writes.access_log`), HTTP (``api/routes/access_log.py``), the command line
(``ledger access-log verify``, :mod:`ledger.cli.access_log`).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

import rfc8785

from ledger.contracts import AccessLogAnchor
from ledger.documents.keccak import keccak256
from ledger.documents.merkle import MerkleTree, leaf_node, process_proof
from ledger.errors import AccessEntryNotAnchoredError, AccessEntryNotFoundError, ValidationError
from ledger.service.database import ServiceDatabase

__all__ = [
    "ACTIONS",
    "MAX_BATCH",
    "AccessAction",
    "AccessBatch",
    "AccessEntry",
    "AccessLog",
    "EntryProof",
    "Inclusion",
    "canonical_entry",
    "check_inclusion",
    "entry_hash",
    "entry_leaf",
    "entry_object",
]

AccessAction = Literal[
    "consent.granted",
    "consent.used",
    "consent.revoked",
    "window.check",
    "document.read",
    "document.verified",
    "credit.lookup",
    "credit.false-information",
]
ACTIONS: Final[tuple[str, ...]] = get_args(AccessAction)


@dataclass(frozen=True)
class AccessEntry:
    """One entry as stored."""

    seq: int
    at: int
    subject_ref: bytes
    action: AccessAction
    #: The department that acted or, for a consent the subject granted or revoked, the one the
    #: consent names; None for an entry without one.
    department_id: int | None
    #: The label of the department's token: the window (office, counter).
    window: str
    service: str | None
    records: tuple[str, ...]


def _entry(row: tuple[Any, ...]) -> AccessEntry:
    seq, at, subject_ref, action, department_id, window, service, records = row
    assert action in ACTIONS
    return AccessEntry(
        int(seq),
        int(at),
        bytes(subject_ref),
        action,
        None if department_id is None else int(department_id),
        str(window),
        None if service is None else str(service),
        tuple(str(item) for item in json.loads(records)),
    )


#: At most this many entries go into one batch: building its tree and every proof of it stays
#: well under a second; a backlog beyond it is anchored by the next batches.
MAX_BATCH: Final = 10_000
_ENTRIES: Final = (
    "SELECT seq, at, subject_ref, action, department_id, window, service, records FROM access_log "
)
_BATCHES: Final = (
    "SELECT batch_id, first_seq, last_seq, root, state, op_id, block, created_at "
    "FROM access_log_batches "
)

BatchState = Literal["pending", "anchored"]


def entry_object(entry: AccessEntry) -> dict[str, Any]:
    """The entry as the JSON object its leaf is hashed from (exactly these eight members):
    ``seq`` and ``at`` (UTC seconds) integers, ``subject`` the subject reference as ``0x`` and
    64 lower-case hex digits, ``action``, ``department`` (an integer, or null when the subject
    acted), ``window`` (a string, empty when none), ``service`` (a string or null) and
    ``records`` (an array of strings)."""
    return {
        "seq": entry.seq,
        "at": entry.at,
        "subject": "0x" + entry.subject_ref.hex(),
        "action": entry.action,
        "department": entry.department_id,
        "window": entry.window,
        "service": entry.service,
        "records": list(entry.records),
    }


def canonical_entry(value: AccessEntry | Mapping[str, Any]) -> str:
    """The RFC 8785 (JSON Canonicalization Scheme) text of an entry object (or of the object of
    ``entry``): the one text its leaf is hashed from."""
    document = entry_object(value) if isinstance(value, AccessEntry) else dict(value)
    try:
        return rfc8785.dumps(document).decode("utf-8")
    except rfc8785.CanonicalizationError as error:
        raise ValidationError(f"an access-log entry is not canonical JSON: {error}") from None


def entry_hash(value: AccessEntry | Mapping[str, Any]) -> bytes:
    """keccak256 of the UTF-8 bytes of :func:`canonical_entry`: what the batch's tree takes as a
    leaf value."""
    return keccak256(canonical_entry(value).encode("utf-8"))


def entry_leaf(value: AccessEntry | Mapping[str, Any]) -> bytes:
    """The entry's node in its batch's tree: ``keccak256(entry_hash)``
    (:func:`ledger.documents.merkle.leaf_node`)."""
    return leaf_node(entry_hash(value))


@dataclass(frozen=True)
class AccessBatch:
    """Consecutive entries ``first_seq`` to ``last_seq`` (inclusive) whose Merkle root is
    anchored on chain, or being anchored (``pending``)."""

    #: Random; the journaled anchoring's idempotency key, so a resumed batch is never sent twice.
    batch_id: str
    first_seq: int
    last_seq: int
    #: The root as it was anchored (the entries as they were then).
    root: bytes
    state: BatchState
    #: The journaled anchoring (None until it is journaled).
    op_id: str | None
    #: The block of the confirmed anchoring.
    block: int | None
    created_at: int

    def covers(self, seq: int) -> bool:
        return self.first_seq <= seq <= self.last_seq


def _batch(row: tuple[Any, ...]) -> AccessBatch:
    batch_id, first, last, root, state, op_id, block, created_at = row
    assert state in ("pending", "anchored")
    return AccessBatch(
        str(batch_id),
        int(first),
        int(last),
        bytes(root),
        state,
        None if op_id is None else str(op_id),
        None if block is None else int(block),
        int(created_at),
    )


@dataclass(frozen=True)
class EntryProof:
    """An entry's inclusion proof, rebuilt from its batch's rows as they are now."""

    entry: AccessEntry
    #: Siblings from the entry's leaf up to :attr:`root`.
    proof: tuple[bytes, ...]
    #: The root of the batch's current rows: the anchored one unless a row was altered,
    #: deleted or added since.
    root: bytes
    batch: AccessBatch

    @property
    def canonical(self) -> str:
        return canonical_entry(self.entry)

    @property
    def leaf(self) -> bytes:
        return entry_leaf(self.entry)

    @property
    def intact(self) -> bool:
        """Whether the rebuilt root is the one anchored (a cheap check before the chain's)."""
        return self.root == self.batch.root


class AccessLog:
    """Append entries and read a subject's. ``clock`` (UTC seconds) is a parameter for tests."""

    def __init__(self, database: ServiceDatabase, *, clock: Callable[[], float] = time.time):
        self._database = database
        self.clock = clock

    def record(
        self,
        subject_ref: bytes,
        action: AccessAction,
        *,
        department_id: int | None = None,
        window: str = "",
        service: str | None = None,
        records: Sequence[str] = (),
    ) -> AccessEntry:
        """Append one entry and return it."""
        if action not in ACTIONS:
            raise ValueError(f"unknown access-log action {action!r}")
        at = int(self.clock())
        stored = json.dumps(list(records), separators=(",", ":"))
        with self._database.transaction() as connection:
            cursor = connection.execute(
                "INSERT INTO access_log (at, subject_ref, action, department_id, window, "
                "service, records) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (at, subject_ref, action, department_id, window, service, stored),
            )
            seq = cursor.lastrowid
        assert seq is not None
        return AccessEntry(
            seq, at, subject_ref, action, department_id, window, service, tuple(records)
        )

    def of_subject(
        self, subject_ref: bytes, *, limit: int = 200, before: int | None = None
    ) -> list[AccessEntry]:
        """The subject's entries, newest first, strictly before sequence number ``before``."""
        rows = self._database.query(
            "SELECT seq, at, subject_ref, action, department_id, window, service, records "
            "FROM access_log WHERE subject_ref = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
            (subject_ref, (1 << 63) - 1 if before is None else before, limit),
        )
        return [_entry(row) for row in rows]

    def entry(self, subject_ref: bytes, seq: int) -> AccessEntry:
        """The subject's entry ``seq``; AccessEntryNotFoundError when the subject has none (also
        when the entry is another subject's)."""
        rows = self._database.query(
            _ENTRIES + "WHERE seq = ? AND subject_ref = ?",
            (seq, subject_ref),
        )
        if not rows:
            raise AccessEntryNotFoundError("your access log has no entry with this number")
        return _entry(rows[0])

    def entries_between(self, first_seq: int, last_seq: int) -> list[AccessEntry]:
        """Every entry from ``first_seq`` to ``last_seq`` (inclusive) now in the table, in order."""
        rows = self._database.query(
            _ENTRIES + "WHERE seq BETWEEN ? AND ? ORDER BY seq",
            (first_seq, last_seq),
        )
        return [_entry(row) for row in rows]

    def anchored_through(self) -> int:
        """The last sequence number of the anchored batches (0 before the first one): every
        entry up to it is in an anchored batch."""
        rows = self._database.query(
            "SELECT coalesce(max(last_seq), 0) FROM access_log_batches WHERE state = 'anchored'"
        )
        return int(rows[0][0])

    def pending_batch(self) -> AccessBatch | None:
        """The batch whose anchoring is not confirmed yet (at most one at a time)."""
        rows = self._database.query(_BATCHES + "WHERE state = 'pending'")
        return _batch(rows[0]) if rows else None

    def batches(self) -> list[AccessBatch]:
        """Every batch, oldest first."""
        rows = self._database.query(_BATCHES + "ORDER BY first_seq")
        return [_batch(row) for row in rows]

    def next_batch(self, *, limit: int = MAX_BATCH) -> AccessBatch | None:
        """The batch to anchor now: the pending one if any (one at a time: the contract takes
        ranges in order), else a new one over the (at most ``limit``) entries after the last
        batch; None when there are none.

        A new batch starts right after the previous one (``first_seq`` = its ``last_seq`` + 1,
        whatever numbers are missing), so every number up to the last anchored one lies in
        exactly one batch, and a row slipped in later breaks its batch's root."""
        with self._database.transaction() as connection:
            row = connection.execute(_BATCHES + "WHERE state = 'pending'").fetchone()
            if row is not None:
                return _batch(tuple(row))
            after = int(
                connection.execute(
                    "SELECT coalesce(max(last_seq), 0) FROM access_log_batches"
                ).fetchone()[0]
            )
            rows = connection.execute(
                _ENTRIES + "WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, limit),
            ).fetchall()
            if not rows:
                return None
            entries = [_entry(tuple(row)) for row in rows]
            batch = AccessBatch(
                secrets.token_hex(16),
                after + 1,
                entries[-1].seq,
                MerkleTree.build([entry_hash(entry) for entry in entries]).root,
                "pending",
                None,
                None,
                int(self.clock()),
            )
            connection.execute(
                "INSERT INTO access_log_batches (batch_id, first_seq, last_seq, root, state, "
                "op_id, block, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    batch.batch_id,
                    batch.first_seq,
                    batch.last_seq,
                    batch.root,
                    batch.state,
                    None,
                    None,
                    batch.created_at,
                ),
            )
        return batch

    def journaled(self, batch_id: str, op_id: str) -> None:
        """Note the journaled operation that anchors the pending batch ``batch_id``."""
        with self._database.transaction() as connection:
            connection.execute(
                "UPDATE access_log_batches SET op_id = ? WHERE batch_id = ?", (op_id, batch_id)
            )

    def anchored(self, batch_id: str, block: int) -> None:
        """The anchoring of ``batch_id`` is confirmed in ``block``."""
        with self._database.transaction() as connection:
            connection.execute(
                "UPDATE access_log_batches SET state = 'anchored', block = ? WHERE batch_id = ?",
                (block, batch_id),
            )

    def abandon(self, batch_id: str) -> None:
        """The anchoring of the pending batch ``batch_id`` failed: forget the batch, so that its
        entries go into the next one."""
        with self._database.transaction() as connection:
            connection.execute(
                "DELETE FROM access_log_batches WHERE batch_id = ? AND state = 'pending'",
                (batch_id,),
            )

    def oldest_unbatched(self) -> int | None:
        """When the oldest entry not in any batch was made (UTC seconds), or None: the
        periodic anchoring is due an interval after it."""
        rows = self._database.query(
            "SELECT min(at) FROM access_log WHERE seq > "
            "(SELECT coalesce(max(last_seq), 0) FROM access_log_batches)"
        )
        return None if rows[0][0] is None else int(rows[0][0])

    def proof(self, subject_ref: bytes, seq: int) -> EntryProof:
        """The inclusion proof of the subject's entry ``seq``, rebuilt from the rows of its
        anchored batch as they are now.

        AccessEntryNotFoundError when the subject has no such entry, AccessEntryNotAnchoredError
        when its batch is not anchored yet. Nothing is corrected here: an altered, deleted or
        added row gives a root that is not the anchored one, and the check on chain fails."""
        entry = self.entry(subject_ref, seq)
        rows = self._database.query(
            _BATCHES + "WHERE state = 'anchored' AND first_seq <= ? AND last_seq >= ?",
            (seq, seq),
        )
        if not rows:
            raise AccessEntryNotAnchoredError(
                "this entry's batch is not anchored on chain yet; ask again after the next "
                "anchoring"
            )
        batch = _batch(rows[0])
        members = self.entries_between(batch.first_seq, batch.last_seq)
        tree = MerkleTree.build([entry_hash(member) for member in members])
        index = next(i for i, member in enumerate(members) if member.seq == seq)
        return EntryProof(entry, tuple(tree.proof(index)), tree.root, batch)


@dataclass(frozen=True)
class Inclusion:
    """The outcome of checking an entry's proof against the chain."""

    included: bool
    #: Why not (empty when included).
    reason: str = ""
    seq: int | None = None
    root: bytes | None = None
    anchor: AccessLogAnchor | None = None


def _hex32(value: object, what: str) -> bytes:
    if not isinstance(value, str) or len(value) != 66 or not value.startswith("0x"):
        raise ValidationError(f"{what} must be 0x and 64 hex digits")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise ValidationError(f"{what} must be 0x and 64 hex digits") from None


def _proof_parts(document: object) -> tuple[dict[str, Any], str, bytes, list[bytes], bytes]:
    """The entry, canonical text, leaf, proof and root of a proof document (the answer of
    ``GET /v1/me/access-log/{seq}/proof``); ValidationError when it is not one."""
    if not isinstance(document, dict):
        raise ValidationError("an access-log proof is a JSON object")
    entry, canonical, proof = (
        document.get("entry"),
        document.get("canonical"),
        document.get("proof"),
    )
    if not isinstance(entry, dict) or not isinstance(canonical, str):
        raise ValidationError("an access-log proof has an entry object and its canonical text")
    seq = entry.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise ValidationError("the entry's seq must be a positive integer")
    if not isinstance(proof, list):
        raise ValidationError("an access-log proof's proof is a list of 0x hashes")
    siblings = [_hex32(item, "a proof element") for item in proof]
    return (
        entry,
        canonical,
        _hex32(document.get("leaf"), "leaf"),
        siblings,
        _hex32(document.get("root"), "root"),
    )


def check_inclusion(
    document: object, anchor_of: Callable[[bytes], AccessLogAnchor | None]
) -> Inclusion:
    """Whether the proof ``document`` shows its entry anchored on chain, ``anchor_of`` reading
    the chain (``AccessLogAnchorsClient.anchor_of``).

    In order: the canonical text is the entry's RFC 8785 text; the leaf is
    ``keccak256(keccak256(canonical))``; the proof leads from it to the root; the chain knows
    that root; the entry's ``seq`` lies in the range anchored with it. Any mismatch is NOT
    INCLUDED with its reason; a document that is not a proof at all is a ValidationError."""
    entry, canonical, leaf, proof, root = _proof_parts(document)
    seq = int(entry["seq"])

    def refused(reason: str) -> Inclusion:
        return Inclusion(False, reason, seq, root)

    if canonical_entry(entry) != canonical:
        return refused("the canonical text is not the RFC 8785 text of the entry")
    value = keccak256(canonical.encode("utf-8"))
    if leaf_node(value) != leaf:
        return refused("the leaf is not keccak256(keccak256(canonical text))")
    if process_proof(value, proof) != root:
        return refused("the proof does not lead from the leaf to the root")
    anchor = anchor_of(root)
    if anchor is None:
        return refused("the root is not anchored on chain")
    if not anchor.covers(seq):
        return Inclusion(
            False,
            f"the root is anchored for entries {anchor.first_seq} to {anchor.last_seq}, "
            f"not for entry {seq}",
            seq,
            root,
            anchor,
        )
    return Inclusion(True, "", seq, root, anchor)
