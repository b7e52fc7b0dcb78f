"""The certificate commands: ``ledger anchor`` (store the document, anchor its hash and CID),
``ledger anchor-batch`` (one Merkle batch for many documents) and ``ledger revoke``,
``suspend`` and ``reinstate``.

Not here: checking a certificate (:mod:`ledger.cli.verify`), joint licensing bundles
(:mod:`ledger.cli.bundles`), the stored documents themselves (:mod:`ledger.cli.documents`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import click

from ledger.catalogue import certificate_type, reason_code
from ledger.cli.app import cli
from ledger.cli.common import (
    State,
    department_for,
    department_option,
    emit,
    json_option,
    load_proof,
    open_session,
    subject_kind_of,
    to_hex,
)
from ledger.errors import InvalidIdentifierError, ValidationError
from ledger.files import write_atomically
from ledger.identity import Subject, SubjectKind, parse_subject
from ledger.parsing import parse_day_end, parse_hash
from ledger.writes import certificates as writes

__all__ = ["anchor", "anchor_batch_command", "reinstate", "revoke", "suspend"]


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--type", "type_name", required=True, help="Certificate type, e.g. business-licence.")
@click.option("--subject", required=True, help="Holder's identity number or credit code.")
@click.option("--subject-kind", type=click.Choice([k.value for k in SubjectKind]), default=None)
@click.option("--expires", help="Last day of validity (YYYY-MM-DD, China time).")
@click.option(
    "--region", type=click.IntRange(100000, 999999), help="Region (default: the department's)."
)
@department_option
@click.option(
    "--no-store",
    is_flag=True,
    help="Anchor the fingerprint only, without storing the document or recording a CID.",
)
@json_option
@click.pass_obj
def anchor(
    state: State,
    file: Path,
    type_name: str,
    subject: str,
    subject_kind: str | None,
    expires: str | None,
    region: int | None,
    department_id: int | None,
    no_store: bool,
) -> None:
    """Store FILE and anchor its fingerprint and CID for its holder.

    Documents held by a natural person (a citizen, or an individual business: credit code 92...)
    and documents of personal certificate types or of types in LEDGER_ENCRYPT_TYPES are stored
    encrypted; the others in clear. If anchoring fails, the stored copy is discarded.
    """
    kind = certificate_type(type_name)
    expires_at = parse_day_end(expires, "--expires") if expires else None
    data = file.read_bytes()
    holder = parse_subject(subject, subject_kind_of(subject_kind))
    with open_session(state) as session:
        department_id = department_for(session, department_id)
        write = writes.anchor(
            session,
            data,
            kind,
            holder=holder,
            department_id=department_id,
            region=region,
            expires_at=expires_at,
            store=not no_store,
        )
        receipt = session.send(write)
        outcome = write.facts
        data_out = {
            "documentHash": to_hex(outcome.doc_hash),
            "documentKind": str(outcome.document_kind),
            "type": kind.name,
            "department": department_id,
            "region": outcome.region,
            "expiresAt": expires_at.isoformat() if expires_at else None,
            **_transaction_fields(receipt),
            "cid": outcome.cid,
            "encrypted": outcome.encrypted,
        }
        text = (
            f"anchored {to_hex(outcome.doc_hash)} ({kind.name}) in block {receipt['blockNumber']}"
        )
        if outcome.cid is not None:
            how = "encrypted" if outcome.encrypted else "in clear"
            text += f"\nstored as {outcome.cid} ({how})"
        emit(state, data_out, text)


def _transaction_fields(receipt: Any) -> dict[str, Any]:
    """What ``anchor`` and ``anchor-batch`` report of the transaction that anchored."""
    return {
        "block": receipt["blockNumber"],
        "transaction": to_hex(bytes(receipt["transactionHash"])),
        "gasUsed": receipt["gasUsed"],
    }


def _status_change(
    state: State, doc_hash: str, department_id: int | None, action: str, reason: str | None
) -> None:
    digest = parse_hash(doc_hash)
    code = reason_code(reason) if reason is not None else None
    with open_session(state) as session:
        department_id = department_for(session, department_id)
        if action == "revoke":
            assert code is not None
            write = writes.revoke(session, digest, code, department_id=department_id)
        elif action == "suspend":
            assert code is not None
            write = writes.suspend(session, digest, code, department_id=department_id)
        else:
            write = writes.reinstate(session, digest, department_id=department_id)
        receipt = session.send(write)
        emit(
            state,
            {
                "documentHash": to_hex(digest),
                "action": action,
                "reason": code.name.lower() if code else None,
                "block": receipt["blockNumber"],
            },
            f"{_PAST[action]} {to_hex(digest)}"
            + (f" ({code.name.lower().replace('_', '-')})" if code else ""),
        )


@cli.command("anchor-batch")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--type", "type_name", required=True, help="Certificate type of every document.")
@click.option("--expires", help="Last day of validity of every document (YYYY-MM-DD).")
@department_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for the proofs: wrapped certificates with their proof inside, and "
    "NAME.proof.json beside each file.",
)
@click.option(
    "--holders",
    "holders_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV of file,subject[,kind]: the holder of each named document (identity number or "
    "credit code; kind citizen or enterprise, else detected). Documents not listed have none.",
)
@json_option
@click.pass_obj
def anchor_batch_command(
    state: State,
    source: Path,
    type_name: str,
    expires: str | None,
    department_id: int | None,
    out_dir: Path,
    holders_file: Path | None,
) -> None:
    """Anchor every document of SOURCE (a directory, or a CSV whose first column names files)
    as one Merkle batch: one transaction for all of them.

    The batch manifest (the document hashes, in order) goes to the document store; each document
    gets its proof in --out. Structured certificates are written back with the proof inside.
    With --holders, the manifest carries each listed document's keyed holder tag and the data
    directory's service database records who holds it (ADR 0026), so the holder finds it.
    """
    kind = certificate_type(type_name)
    expires_at = parse_day_end(expires, "--expires") if expires else None
    paths = _batch_sources(source)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ValidationError("--out must be a new or empty directory")
    subjects = _batch_holders(holders_file, paths) if holders_file else None
    documents = [path.read_bytes() for path in paths]
    with open_session(state) as session:
        department = department_for(session, department_id)
        holders = None if subjects is None else [_reference(session, s) for s in subjects]
        with click.progressbar(
            length=len(documents),
            label="hashing",
            file=sys.stderr,
            show_pos=True,
            hidden=not sys.stderr.isatty(),
        ) as bar:
            write = writes.anchor_batch(
                session,
                documents,
                kind,
                department_id=department,
                expires_at=expires_at,
                progress=_advancing(bar),
                holders=holders,
            )
        receipt = session.send(write)
        held = _record_holders(session, write.facts, int(receipt["blockNumber"]))
    outcome = write.facts
    _write_proofs(out_dir, paths, documents, outcome)
    summary = {
        "root": to_hex(outcome.root),
        "count": len(outcome.leaves),
        "type": kind.name,
        "department": department,
        "region": outcome.region,
        "manifest": outcome.manifest_cid,
        "holders": held,
        **_transaction_fields(receipt),
    }
    write_atomically(out_dir / "batch.json", json.dumps(summary, indent=2).encode())
    emit(
        state,
        summary,
        f"anchored {len(outcome.leaves)} certificate(s) as batch {to_hex(outcome.root)} in block "
        f"{receipt['blockNumber']} ({receipt['gasUsed']} gas)\nmanifest {outcome.manifest_cid}; "
        f"proofs in {out_dir}",
    )


def _reference(session: Any, subject: Subject | None) -> bytes | None:
    return None if subject is None else bytes(session.reference(subject))


def _record_holders(session: Any, outcome: writes.BatchAnchored, block: int) -> int:
    """Index the anchored batch's holders in the data directory's service database (shared with
    a running ``ledger serve``, whose writes it waits for); returns how many leaves have one."""
    if not any(outcome.holders):
        return 0
    from ledger.service.database import ServiceDatabase
    from ledger.service.holdings import record_batch_holders

    with ServiceDatabase(session.settings.service_db_path) as database:
        return record_batch_holders(
            database, outcome.leaves, outcome.holders, outcome.proofs, block
        )


def _batch_holders(holders_file: Path, paths: list[Path]) -> list[Subject | None]:
    """The holder of each document of the batch, from a CSV of ``file,subject[,kind]`` rows (a
    header row ``file,…`` is skipped; a file is matched by its name). Errors name the row, never
    the identifier."""
    import csv

    position = {path.name: index for index, path in enumerate(paths)}
    subjects: list[Subject | None] = [None] * len(paths)
    with holders_file.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    for number, row in enumerate(rows, start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or (number == 1 and cells[0].lower() in {"file", "path", "filename"}):
            continue
        if len(cells) not in (2, 3) or not cells[0] or not cells[1]:
            raise ValidationError(f"--holders row {number}: expected file,subject[,kind]")
        index = position.get(Path(cells[0]).name)
        if index is None:
            raise ValidationError(f"--holders row {number}: no such document in the batch")
        if subjects[index] is not None:
            raise ValidationError(f"--holders row {number}: the document has a holder already")
        kind_text = cells[2].lower() if len(cells) == 3 and cells[2] else None
        if kind_text is not None and kind_text not in {k.value for k in SubjectKind}:
            raise ValidationError(f"--holders row {number}: kind is citizen or enterprise")
        try:
            subjects[index] = parse_subject(cells[1], subject_kind_of(kind_text))
        except InvalidIdentifierError as error:
            raise InvalidIdentifierError(f"--holders row {number}: {error}") from None
    return subjects


def _advancing(bar: Any) -> Callable[[int], None]:
    """The progress callback of :func:`~ledger.writes.certificates.anchor_batch` (documents hashed
    so far) moving ``bar`` (which counts steps) along."""
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        bar.update(count - done)
        done = count

    return advance


def _write_proofs(
    out_dir: Path, paths: list[Path], documents: list[bytes], outcome: writes.BatchAnchored
) -> None:
    """Each document's proof in ``out_dir``: a structured certificate written back with its
    proof inside, any other file's proof beside its name as NAME.proof.json."""
    from ledger.documents import DocumentKind
    from ledger.documents.batches import wrap_certificate

    out_dir.mkdir(parents=True, exist_ok=True)
    for path, data, document_kind, proof in zip(
        paths, documents, outcome.kinds, outcome.proofs, strict=True
    ):
        if document_kind is DocumentKind.CERTIFICATE:
            write_atomically(out_dir / path.name, wrap_certificate(data, proof))
        else:
            write_atomically(out_dir / f"{path.name}.proof.json", proof.dumps())


def _batch_sources(source: Path) -> list[Path]:
    """The files of a batch: a directory's regular files (sorted), or a CSV's first column."""
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.is_file() and not p.name.startswith("."))
    else:
        import csv

        with source.open(encoding="utf-8", newline="") as handle:
            rows = [row for row in csv.reader(handle) if row and row[0].strip()]
        if rows and rows[0][0].strip().lower() in {"file", "path", "filename"}:
            rows = rows[1:]
        files = [(source.parent / row[0].strip()) for row in rows]
        missing = [f for f in files if not f.is_file()]
        if missing:
            raise ValidationError(f"{len(missing)} file(s) named in the CSV do not exist")
    if not files:
        raise ValidationError("no documents to anchor")
    names = [f.name for f in files]
    if len(set(names)) != len(names):
        raise ValidationError("two documents of the batch have the same file name")
    return files


_PAST: Final = {"revoke": "revoked", "suspend": "suspended", "reinstate": "reinstated"}
_reason_help = "Reason: issued-in-error, fraud, holder-request, court-order, investigation, ..."


@cli.command()
@click.argument("doc_hash", metavar="HASH")
@click.option("--reason", required=True, help=_reason_help)
@department_option
@click.option(
    "--proof",
    "proof_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Revoke this one certificate of a Merkle batch (its .proof.json or wrapped form).",
)
@json_option
@click.pass_obj
def revoke(
    state: State, doc_hash: str, reason: str, department_id: int | None, proof_file: Path | None
) -> None:
    """Revoke an anchored certificate (or, with --proof, one certificate of a batch) for good."""
    if proof_file is None:
        _status_change(state, doc_hash, department_id, "revoke", reason)
        return
    proof = load_proof(proof_file)
    assert proof is not None
    digest = parse_hash(doc_hash)
    code = reason_code(reason)
    with open_session(state) as session:
        department_id = department_for(session, department_id)
        write = writes.revoke_leaf(session, digest, proof, code, department_id=department_id)
        receipt = session.send(write)
    emit(
        state,
        {
            "revoked": to_hex(digest),
            "batchRoot": to_hex(proof.root),
            "reason": code.label,
            "block": receipt["blockNumber"],
        },
        f"revoked {to_hex(digest)} within batch {to_hex(proof.root)} "
        f"({code.name.lower().replace('_', '-')})",
    )


@cli.command()
@click.argument("doc_hash", metavar="HASH")
@click.option("--reason", required=True, help=_reason_help)
@department_option
@json_option
@click.pass_obj
def suspend(state: State, doc_hash: str, reason: str, department_id: int | None) -> None:
    """Suspend an anchored certificate."""
    _status_change(state, doc_hash, department_id, "suspend", reason)


@cli.command()
@click.argument("doc_hash", metavar="HASH")
@department_option
@json_option
@click.pass_obj
def reinstate(state: State, doc_hash: str, department_id: int | None) -> None:
    """Reinstate a suspended certificate."""
    _status_change(state, doc_hash, department_id, "reinstate", None)
