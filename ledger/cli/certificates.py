"""The ``ledger`` command line.

Readable output by default, ``--json`` for scripts. Every error is one line on stderr and a
non-zero exit status that says what kind of error it was (see :data:`EXIT_CODES`); identifiers
never appear in output or errors, only their kind.

``ledger anchor`` stores the document (the embedded store, or the IPFS node of
``LEDGER_IPFS_API``) and anchors its CID with its hash; ``ledger docs`` puts, gets, exports and
erases stored documents.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, NoReturn, TypeVar

import click

from ledger.authorization import (
    authorize_certificate_change,
    authorize_event_change,
    require_accreditation,
)
from ledger.catalogue import (
    CERTIFICATE_TYPES,
    CREDIT_CATEGORIES,
    ScopeKind,
    certificate_type,
    certificate_type_label,
    credit_category,
    reason_code,
    scope_codes,
)
from ledger.config import Settings
from ledger.contracts import Amendment, Polarity
from ledger.errors import (
    ChainUnavailableError,
    ConfigurationError,
    ConflictError,
    DataDirectoryLockedError,
    DuplicateError,
    InsufficientFundsError,
    InvalidDocumentError,
    InvalidIdentifierError,
    LedgerError,
    NoLedgerError,
    NotAuthorizedError,
    NotDeployedError,
    NotFoundError,
    UnknownKeyError,
    ValidationError,
)
from ledger.files import write_atomically
from ledger.identity import SubjectKind, parse_subject
from ledger.parsing import (
    CHINA_STANDARD_TIME,
    deadline_day,
    parse_day_end,
    parse_day_start,
    parse_deadline,
    parse_hash,
)
from ledger.storage import DocumentNotFoundError, StorageUnavailableError
from ledger.storage.unixfs import InvalidCidError
from ledger.storage.vault import DocumentErasedError, DocumentService, VaultError

__all__ = ["EXIT_CODES", "EXIT_ERASED", "EXIT_INVALID", "main"]

F = TypeVar("F", bound=Callable[..., Any])

#: Exit status of ``ledger verify`` when the document is INVALID (the command itself worked).
EXIT_INVALID: Final = 10
#: Exit status when a document was erased: unlike "not found" (3), no retry, other node or CAR
#: import will ever bring its content back, so scripts should stop asking.
EXIT_ERASED: Final = 11
#: Exit status per error kind (first match wins); 0 is success, 1 any other failure.
EXIT_CODES: Final[tuple[tuple[type[BaseException], int], ...]] = (
    (ValidationError, 2),
    (InvalidIdentifierError, 2),
    (InvalidDocumentError, 2),
    (InvalidCidError, 2),
    (DocumentErasedError, EXIT_ERASED),
    (DocumentNotFoundError, 3),
    (NotFoundError, 3),
    (NotAuthorizedError, 4),
    (DuplicateError, 5),
    (ConflictError, 5),
    (ChainUnavailableError, 6),
    (StorageUnavailableError, 6),
    (DataDirectoryLockedError, 7),
    (ConfigurationError, 8),
    (NotDeployedError, 8),
    (UnknownKeyError, 8),
    (VaultError, 8),
    (InsufficientFundsError, 9),
)
#: ``ledger --help`` epilog: what each exit status means.
_EXIT_STATUS_HELP: Final = """\b
Exit status:
  0  success
  1  any other failure
  2  invalid input (identifier, document, CID, option)
  3  not found (department, certificate, stored document)
  4  not authorized
  5  duplicate or conflicting record
  6  chain node or document store (IPFS node) unreachable: retry
  7  data directory in use by another process (the embedded chain, or the
     service database of a running `ledger serve`; writes then go through its API)
  8  configuration (secrets, master key, deployment, keys, key vault), or no
     ledger here: point at one with --data-dir DIR or --rpc URL, or `ledger init`
  9  signing key cannot pay for gas
  10 `ledger verify`: the document is INVALID
  11 the stored document was erased: its key is destroyed for good
"""
#: The certificate's "valid until" date is read in China Standard Time (UTC+8).
_CST: Final = CHINA_STANDARD_TIME


@dataclass
class _State:
    data_dir: Path
    rpc_url: str | None
    as_json: bool

    def settings(self, *, rpc_url: str | None = None) -> Settings:
        overrides: dict[str, Any] = {"data_dir": self.data_dir}
        url = rpc_url or self.rpc_url
        if url:
            overrides["rpc_url"] = url
        return Settings(**overrides)


def _emit(state: _State, data: dict[str, Any], text: str) -> None:
    if state.as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))
    else:
        click.echo(text)


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _subject_kind(value: str | None) -> SubjectKind | None:
    return SubjectKind(value) if value else None


def _json_option(function: F) -> F:
    def flag(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            ctx.ensure_object(_State).as_json = True

    return click.option(
        "--json", "as_json", is_flag=True, expose_value=False, callback=flag, help="Print JSON."
    )(function)


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=_EXIT_STATUS_HELP)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="LEDGER_DATA_DIR",
    default=Path("ledger-data"),
    show_default=True,
    help="Data directory (embedded chain, keys, deployments).",
)
@click.option(
    "--rpc", "rpc_url", envvar="LEDGER_RPC_URL", help="JSON-RPC URL instead of the embedded chain."
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print JSON (also accepted after the command)."
)
@click.pass_context
def cli(ctx: click.Context, data_dir: Path, rpc_url: str | None, as_json: bool) -> None:
    """Certificate and credit ledger for government services."""
    ctx.obj = _State(data_dir=data_dir, rpc_url=rpc_url, as_json=as_json)


def _session(state: _State, *, read_only: bool = False) -> Any:
    """The ledger of the command line's settings.

    When a running ``ledger serve`` holds the data directory's embedded chain, a read-only
    command reads through the service's ``/v1/rpc`` instead (ADR 0021); a write command is
    refused (exit 7) with where the service's API is.
    """
    from ledger.session import LedgerSession

    settings = state.settings()
    try:
        return LedgerSession.open(settings)
    except DataDirectoryLockedError as busy:
        served = _serving_instead(state, busy, read_only=read_only)
        return LedgerSession.open(state.settings(rpc_url=served))


def _serving_instead(state: _State, busy: DataDirectoryLockedError, *, read_only: bool) -> str:
    """The ``/v1/rpc`` URL of the service holding the data directory's chain (which opening it
    found ``busy``), for a read-only command; a write command is refused, saying where the
    service's API is. ``busy`` itself is raised when no service holds the chain."""
    from ledger.serving import running_service

    service = running_service(state.data_dir)
    if service is None:
        raise busy
    if not read_only:
        raise DataDirectoryLockedError(
            f"the ledger service (pid {service.pid}) is running on this data directory and "
            f"holds its chain: write through its API at {service.url}, or stop it first"
        ) from None
    click.echo(f"note: reading through the running service at {service.rpc_url}", err=True)
    return service.rpc_url


def _existing(settings: Settings) -> Settings:
    """``settings``, if its data directory exists: a command that only reads never creates one
    (NoLedgerError, exit status 8; ADR 0021)."""
    if not settings.data_dir.is_dir():
        raise NoLedgerError.at(settings.data_dir)
    return settings


@contextlib.contextmanager
def _document_service(settings: Settings) -> Iterator[DocumentService]:
    from ledger.storage.factory import close_document_service, open_document_service

    service = open_document_service(settings)
    try:
        yield service
    finally:
        close_document_service(service)


# -- init and status --------------------------------------------------------------------------


@cli.command()
@_json_option
@click.pass_obj
def init(state: _State) -> None:
    """Create the data directory, keys and contract deployment (idempotent)."""
    from ledger.session import LedgerSession

    session, deployed = LedgerSession.initialize(state.settings())
    with session:
        d = session.deployment
        data = {
            "dataDir": str(state.data_dir),
            "chainId": d.chain_id,
            "deployed": deployed,
            "contracts": {
                "DepartmentRegistry": d.department_registry,
                "CertificateRegistry": d.certificate_registry,
                "CreditLedger": d.credit_ledger,
            },
            "governance": session.keystore.governance().address,
        }
        verb = "deployed" if deployed else "already deployed"
        _emit(
            state,
            data,
            f"ledger {verb} on chain {d.chain_id} ({session.connection.location})\n"
            f"  DepartmentRegistry  {d.department_registry}\n"
            f"  CertificateRegistry {d.certificate_registry}\n"
            f"  CreditLedger        {d.credit_ledger}\n"
            f"  governance key      {data['governance']}",
        )


@cli.command()
@_json_option
@click.pass_obj
def status(state: _State) -> None:
    """Show the chain, the deployment, the departments and the local keys."""
    with _session(state, read_only=True) as session:
        registry = session.registry()
        departments = registry.department_ids()
        keys = session.keystore.records()
        d = session.deployment
        data = {
            "chain": session.connection.kind,
            "location": session.connection.location,
            "chainId": d.chain_id,
            "head": session.chain_head(),
            "contracts": {
                "DepartmentRegistry": d.department_registry,
                "CertificateRegistry": d.certificate_registry,
                "CreditLedger": d.credit_ledger,
            },
            "departments": departments,
            "keys": [{"role": k.role, "address": k.address} for k in keys],
        }
        _emit(
            state,
            data,
            f"chain      {data['chain']} {data['location']} "
            f"(id {d.chain_id}, head block {data['head']})\n"
            f"registry   {d.department_registry}\n"
            f"departments {len(departments)}: {', '.join(map(str, departments)) or '-'}\n"
            f"local keys {len(keys)}",
        )


# -- departments ------------------------------------------------------------------------------


@cli.group()
def department() -> None:
    """Accredit and manage departments (governance)."""


@department.command("add")
@click.option("--id", "department_id", type=click.IntRange(1, 2**32 - 1), required=True)
@click.option(
    "--region", type=click.IntRange(100000, 999999), required=True, help="GB/T 2260 code."
)
@click.option("--name", required=True, help="Official name (only its hash goes on chain).")
@click.option(
    "--scope", "scopes", multiple=True, required=True, help="Certificate type or credit category."
)
@_json_option
@click.pass_obj
def department_add(
    state: _State, department_id: int, region: int, name: str, scopes: tuple[str, ...]
) -> None:
    """Register a department and give it a signing key."""
    codes = scope_codes(scopes)
    with _session(state) as session:
        signer = session.add_department(department_id, region, name, codes)
        _emit(
            state,
            {"departmentId": department_id, "region": region, "scopes": codes, "signer": signer},
            f"department {department_id} registered in region {region} with {len(codes)} scope(s); "
            f"signing key {signer}",
        )


@department.command("list")
@_json_option
@click.pass_obj
def department_list(state: _State) -> None:
    """List registered departments."""
    with _session(state, read_only=True) as session:
        registry = session.registry()
        rows = []
        for department_id in registry.department_ids():
            record = registry.department(department_id)
            if record is None:
                continue
            rows.append(
                {
                    "departmentId": department_id,
                    "region": record.region,
                    "suspended": record.suspended,
                    "supervisor": record.supervisor,
                    "scopes": registry.scopes(department_id),
                    "signers": registry.signers(department_id),
                }
            )
        lines = [
            f"{r['departmentId']:>6}  region {r['region']}  "
            f"{'SUSPENDED' if r['suspended'] else 'active   '}  scopes {len(r['scopes'])}  "
            f"keys {len(r['signers'])}"
            for r in rows
        ]
        _emit(state, {"departments": rows}, "\n".join(lines) or "no departments")


def _set_suspension(state: _State, department_id: int, *, suspended: bool) -> None:
    with _session(state) as session:
        registry = session.registry(session.governance_sender())
        if suspended:
            registry.suspend(department_id)
        else:
            registry.reinstate(department_id)
        _emit(
            state,
            {"departmentId": department_id, "suspended": suspended},
            f"department {department_id} {'suspended' if suspended else 'reinstated'}",
        )


@department.command("suspend")
@click.argument("department_id", type=click.IntRange(1, 2**32 - 1))
@_json_option
@click.pass_obj
def department_suspend(state: _State, department_id: int) -> None:
    """Suspend a department: its keys can no longer anchor or record."""
    _set_suspension(state, department_id, suspended=True)


@department.command("reinstate")
@click.argument("department_id", type=click.IntRange(1, 2**32 - 1))
@_json_option
@click.pass_obj
def department_reinstate(state: _State, department_id: int) -> None:
    """Lift a department's suspension."""
    _set_suspension(state, department_id, suspended=False)


@department.command("rotate-key")
@click.argument("department_id", type=click.IntRange(1, 2**32 - 1))
@_json_option
@click.pass_obj
def department_rotate_key(state: _State, department_id: int) -> None:
    """Replace a department's signing key (records signed before stay valid)."""
    with _session(state) as session:
        old, new = session.rotate_department_key(department_id)
        _emit(
            state,
            {"departmentId": department_id, "retired": old, "signer": new},
            f"department {department_id}: key {old} retired, {new} active",
        )


# -- certificates -----------------------------------------------------------------------------


def _department_for(session: Any, department_id: int | None) -> int:
    if department_id is not None:
        return department_id
    ids = sorted({r.department_id for r in session.keystore.records() if r.department_id})
    if len(ids) == 1:
        return int(ids[0])
    raise ValidationError(
        "several departments have keys here; choose one with --department"
        if ids
        else "no department key in this data directory; add one with `ledger department add`"
    )


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--type", "type_name", required=True, help="Certificate type, e.g. business-licence.")
@click.option("--subject", required=True, help="Holder's identity number or credit code.")
@click.option("--subject-kind", type=click.Choice([k.value for k in SubjectKind]), default=None)
@click.option("--expires", help="Last day of validity (YYYY-MM-DD, China time).")
@click.option(
    "--region", type=click.IntRange(100000, 999999), help="Region (default: the department's)."
)
@click.option("--department", "department_id", type=click.IntRange(1, 2**32 - 1))
@click.option(
    "--no-store",
    is_flag=True,
    help="Anchor the fingerprint only, without storing the document or recording a CID.",
)
@_json_option
@click.pass_obj
def anchor(
    state: _State,
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
    holder = parse_subject(subject, _subject_kind(subject_kind))
    with _session(state) as session:
        department_id = _department_for(session, department_id)
        outcome = session.anchor_document(
            data,
            kind,
            holder=holder,
            department_id=department_id,
            region=region,
            expires_at=expires_at,
            store=not no_store,
        )
        receipt = outcome.receipt
        data_out = {
            "documentHash": _hex(outcome.doc_hash),
            "documentKind": str(outcome.document_kind),
            "type": kind.name,
            "department": department_id,
            "region": outcome.region,
            "expiresAt": expires_at.isoformat() if expires_at else None,
            "block": receipt["blockNumber"],
            "transaction": _hex(bytes(receipt["transactionHash"])),
            "gasUsed": receipt["gasUsed"],
            "cid": outcome.cid,
            "encrypted": outcome.encrypted,
        }
        text = f"anchored {_hex(outcome.doc_hash)} ({kind.name}) in block {receipt['blockNumber']}"
        if outcome.cid is not None:
            how = "encrypted" if outcome.encrypted else "in clear"
            text += f"\nstored as {outcome.cid} ({how})"
        _emit(state, data_out, text)


def _status_change(
    state: _State, doc_hash: str, department_id: int | None, action: str, reason: str | None
) -> None:
    digest = parse_hash(doc_hash)
    code = reason_code(reason) if reason is not None else None
    with _session(state) as session:
        department_id = _department_for(session, department_id)
        authorize_certificate_change(
            session.registry(), session.certificates(), department_id, digest
        )
        client = session.certificates(session.department_sender(department_id))
        if action == "revoke":
            assert code is not None
            receipt = client.revoke(digest, code)
        elif action == "suspend":
            assert code is not None
            receipt = client.suspend(digest, code)
        else:
            receipt = client.reinstate(digest)
        _emit(
            state,
            {
                "documentHash": _hex(digest),
                "action": action,
                "reason": code.name.lower() if code else None,
                "block": receipt["blockNumber"],
            },
            f"{_PAST[action]} {_hex(digest)}"
            + (f" ({code.name.lower().replace('_', '-')})" if code else ""),
        )


@cli.command("anchor-batch")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--type", "type_name", required=True, help="Certificate type of every document.")
@click.option("--expires", help="Last day of validity of every document (YYYY-MM-DD).")
@click.option("--department", "department_id", type=click.IntRange(1, 2**32 - 1))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for the proofs: wrapped certificates with their proof inside, and "
    "NAME.proof.json beside each file.",
)
@_json_option
@click.pass_obj
def anchor_batch_command(
    state: _State,
    source: Path,
    type_name: str,
    expires: str | None,
    department_id: int | None,
    out_dir: Path,
) -> None:
    """Anchor every document of SOURCE (a directory, or a CSV whose first column names files)
    as one Merkle batch: one transaction for all of them.

    The batch manifest (the document hashes, in order) goes to the document store; each document
    gets its proof in --out. Structured certificates are written back with the proof inside.
    """
    from ledger.documents import DocumentKind
    from ledger.documents.batches import anchor_batch, wrap_certificate

    kind = certificate_type(type_name)
    expires_at = parse_day_end(expires, "--expires") if expires else None
    paths = _batch_sources(source)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ValidationError("--out must be a new or empty directory")
    documents = [path.read_bytes() for path in paths]
    with _session(state) as session:
        department = _department_for(session, department_id)
        with click.progressbar(
            length=len(documents),
            label="hashing",
            file=sys.stderr,
            show_pos=True,
            hidden=not sys.stderr.isatty(),
        ) as bar:
            done = 0

            def advance(count: int) -> None:
                nonlocal done
                bar.update(count - done)
                done = count

            outcome = anchor_batch(
                session,
                documents,
                kind,
                department_id=department,
                expires_at=expires_at,
                progress=advance,
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    for path, data, document_kind, proof in zip(
        paths, documents, outcome.kinds, outcome.proofs, strict=True
    ):
        if document_kind is DocumentKind.CERTIFICATE:
            write_atomically(out_dir / path.name, wrap_certificate(data, proof))
        else:
            write_atomically(out_dir / f"{path.name}.proof.json", proof.dumps())
    receipt = outcome.receipt
    summary = {
        "root": _hex(outcome.root),
        "count": len(outcome.leaves),
        "type": kind.name,
        "department": department,
        "region": outcome.region,
        "manifest": outcome.manifest_cid,
        "block": receipt["blockNumber"],
        "transaction": _hex(bytes(receipt["transactionHash"])),
        "gasUsed": receipt["gasUsed"],
    }
    write_atomically(out_dir / "batch.json", json.dumps(summary, indent=2).encode())
    _emit(
        state,
        summary,
        f"anchored {len(outcome.leaves)} certificate(s) as batch {_hex(outcome.root)} in block "
        f"{receipt['blockNumber']} ({receipt['gasUsed']} gas)\nmanifest {outcome.manifest_cid}; "
        f"proofs in {out_dir}",
    )


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
@click.option("--department", "department_id", type=click.IntRange(1, 2**32 - 1))
@click.option(
    "--proof",
    "proof_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Revoke this one certificate of a Merkle batch (its .proof.json or wrapped form).",
)
@_json_option
@click.pass_obj
def revoke(
    state: _State, doc_hash: str, reason: str, department_id: int | None, proof_file: Path | None
) -> None:
    """Revoke an anchored certificate (or, with --proof, one certificate of a batch) for good."""
    if proof_file is None:
        _status_change(state, doc_hash, department_id, "revoke", reason)
        return
    proof = _load_proof(proof_file)
    assert proof is not None
    digest = parse_hash(doc_hash)
    code = reason_code(reason)
    with _session(state) as session:
        department_id = _department_for(session, department_id)
        authorize_certificate_change(
            session.registry(), session.certificates(), department_id, proof.root
        )
        sender = session.department_sender(department_id)
        receipt = session.certificates(sender).revoke_leaf(proof.root, digest, proof.path, code)
    _emit(
        state,
        {
            "revoked": _hex(digest),
            "batchRoot": _hex(proof.root),
            "reason": code.label,
            "block": receipt["blockNumber"],
        },
        f"revoked {_hex(digest)} within batch {_hex(proof.root)} "
        f"({code.name.lower().replace('_', '-')})",
    )


def _load_proof(path: Path | None) -> Any:
    """A batch proof from a ``.proof.json`` file or a wrapped certificate holding one."""
    if path is None:
        return None
    from ledger.documents.batches import BatchProof, embedded_proof

    data = path.read_bytes()
    inside = embedded_proof(data)  # None for a .proof.json: it is no certificate
    return inside if inside is not None else BatchProof.loads(data)


@cli.command()
@click.argument("doc_hash", metavar="HASH")
@click.option("--reason", required=True, help=_reason_help)
@click.option("--department", "department_id", type=click.IntRange(1, 2**32 - 1))
@_json_option
@click.pass_obj
def suspend(state: _State, doc_hash: str, reason: str, department_id: int | None) -> None:
    """Suspend an anchored certificate."""
    _status_change(state, doc_hash, department_id, "suspend", reason)


@cli.command()
@click.argument("doc_hash", metavar="HASH")
@click.option("--department", "department_id", type=click.IntRange(1, 2**32 - 1))
@_json_option
@click.pass_obj
def reinstate(state: _State, doc_hash: str, department_id: int | None) -> None:
    """Reinstate a suspended certificate."""
    _status_change(state, doc_hash, department_id, "reinstate", None)


@cli.command()
@click.argument(
    "file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False
)
@click.option("--hash", "doc_hash", help="Verify a hash instead of a file.")
@click.option(
    "--rpc",
    "rpc_urls",
    multiple=True,
    help="Verify against this JSON-RPC node only; give it twice (or more) to require that "
    "several nodes agree.",
)
@click.option("--confirmations", type=click.IntRange(0, 10_000), default=None)
@click.option(
    "--deployments",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Deployments file naming the contracts (default: the data directory's).",
)
@click.option(
    "--proof",
    "proof_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Batch proof of a file anchored in a Merkle batch (FILE.proof.json).",
)
@click.option(
    "--bundle",
    "bundle_id",
    metavar="BUNDLE_ID",
    help="Verify a joint licensing bundle: every part filed, each certificate VALID.",
)
@_json_option
@click.pass_obj
def verify(
    state: _State,
    file: Path | None,
    doc_hash: str | None,
    rpc_urls: tuple[str, ...],
    confirmations: int | None,
    deployments: Path | None,
    proof_file: Path | None,
    bundle_id: str | None,
) -> None:
    """Check FILE (or --hash, or --bundle) against the chain; exit status 10 when INVALID.

    With a data directory holding the document master key, the stored copy named by the anchor
    is fetched (from the embedded store or LEDGER_IPFS_API), decrypted where the key is here, and
    compared too (check storage.copy). A bare --rpc verifier without one skips that check.
    """
    from ledger.contracts import ChainContext, load_deployment
    from ledger.session import DEPLOYMENTS_FILE
    from ledger.verification import agree, verify_bundle, verify_document, verify_hash

    if sum(given is not None for given in (file, doc_hash, bundle_id)) != 1:
        raise ValidationError("give one of FILE, --hash or --bundle")
    if bundle_id is not None and proof_file is not None:
        raise ValidationError("--proof belongs to a file or a hash, not to a bundle")
    presented_bundle = _bundle_id(bundle_id) if bundle_id is not None else None
    if len(set(rpc_urls)) != len(rpc_urls):
        raise ValidationError("each --rpc node must be a different URL")
    nodes: list[str | None] = list(rpc_urls) or [None]
    settings = state.settings(rpc_url=nodes[0])
    required = settings.confirmations if confirmations is None else confirmations
    source = file.read_bytes() if file is not None else None
    proof = _load_proof(proof_file)
    encrypted_types = [certificate_type(name).code for name in settings.encrypt_types]
    reports = []
    # Copies of departments whose keys are not here live in other regions' stores.
    from ledger.chain.keys import Keystore

    local = {
        record.department_id
        for record in Keystore(settings.data_dir / "keys", "").records()
        if record.department_id is not None
    }
    with contextlib.ExitStack() as stack:
        documents = (
            stack.enter_context(_verifier_documents(settings))
            if settings.data_dir.is_dir()
            else None
        )
        for node in nodes:
            node_settings = state.settings(rpc_url=node)
            connection = stack.enter_context(_read_connection(state, node_settings))
            deployment_file = deployments or settings.data_dir / DEPLOYMENTS_FILE
            context = ChainContext(
                connection.web3, load_deployment(deployment_file, connection.web3)
            )
            if presented_bundle is not None:
                reports.append(
                    verify_bundle(
                        presented_bundle,
                        context,
                        confirmations=required,
                        documents=documents,
                        encrypted_types=encrypted_types,
                        local_issuers=local,
                    )
                )
            elif source is not None:
                reports.append(
                    verify_document(
                        source,
                        context,
                        confirmations=required,
                        documents=documents,
                        encrypted_types=encrypted_types,
                        proof=proof,
                        local_issuers=local,
                    )
                )
            else:
                reports.append(
                    verify_hash(
                        parse_hash(doc_hash or ""),
                        context,
                        confirmations=required,
                        documents=documents,
                        encrypted_types=encrypted_types,
                        proof=proof,
                        local_issuers=local,
                    )
                )
    report = agree(reports, [node or "the embedded chain" for node in nodes])
    marks = {"passed": "ok  ", "failed": "FAIL", "not_applicable": "n/a "}
    lines = [
        f"{report.verdict.value}  {_hex(report.document_hash) if report.document_hash else ''}"
    ]
    lines += [f"  [{marks[c.outcome.value]}] {c.name.value:<24} {c.detail}" for c in report.checks]
    for part in report.parts:
        verdict = part.report.verdict.value if part.report else "NOT FILED"
        filed = _hex(part.document_hash) if part.document_hash else "-"
        lines.append(
            f"  part {part.index}: department {part.department_id}, "
            f"{certificate_type_label(part.cert_type)}: {verdict} {filed}"
        )
    _emit(state, report.to_json(), "\n".join(lines))
    if report.verdict.value != "VALID":
        raise SystemExit(EXIT_INVALID)


def _read_connection(state: _State, settings: Settings) -> Any:
    """The chain of ``settings`` for reading: through the running service's ``/v1/rpc`` when
    it holds the data directory's embedded chain (ADR 0021)."""
    from ledger.chain.connection import connect
    from ledger.serving import rpc_credential

    try:
        return connect(settings.data_dir, settings.rpc_url, token=rpc_credential(settings))
    except DataDirectoryLockedError as busy:
        served = state.settings(rpc_url=_serving_instead(state, busy, read_only=True))
        return connect(served.data_dir, served.rpc_url, token=rpc_credential(served))


@contextlib.contextmanager
def _verifier_documents(settings: Settings) -> Iterator[DocumentService | None]:
    """The data directory's document service, or None when it has no master key (a directory
    holding only a deployments file): the stored copy is then not checked. A vault that refuses
    its master key is an error, not a reason to skip the check."""
    try:
        settings.master_key_bytes()
    except ConfigurationError:
        yield None
        return
    with _document_service(settings) as service:
        yield service


def _bundle_id(text: str) -> bytes:
    try:
        return parse_hash(text)
    except ValidationError:
        raise ValidationError("a bundle id is 64 hex digits (optionally 0x-prefixed)") from None


# -- joint licensing --------------------------------------------------------------------------


@cli.group()
def bundle() -> None:
    """Joint licensing (多证联办): open a bundle, file its parts, show it."""


def _parse_part(text: str) -> tuple[int, int]:
    department, sep, type_name = text.partition(":")
    if not sep or not department.strip().isdigit():
        raise ValidationError(f"--part {text!r}: expected DEPARTMENT:TYPE, e.g. 3:food-licence")
    department_id = int(department)
    if not 0 < department_id < 2**32:
        raise ValidationError(f"--part {text!r}: department out of range")
    return department_id, certificate_type(type_name.strip()).code


@bundle.command("open")
@click.option("--enterprise", required=True, help="Unified social credit code of the enterprise.")
@click.option(
    "--deadline",
    required=True,
    help="Last day to file parts (YYYY-MM-DD: through 23:59:59 China time), or an ISO time.",
)
@click.option(
    "--part",
    "parts",
    multiple=True,
    required=True,
    metavar="DEPARTMENT:TYPE",
    help="A licence the bundle needs, e.g. 3:food-licence; give one --part per licence.",
)
@click.option("--department", "department_id", type=click.IntRange(1, 2**32 - 1))
@_json_option
@click.pass_obj
def bundle_open(
    state: _State,
    enterprise: str,
    deadline: str,
    parts: tuple[str, ...],
    department_id: int | None,
) -> None:
    """Open a bundle for an enterprise, led by this department."""
    due = parse_deadline(deadline, "--deadline")
    wanted = [_parse_part(text) for text in parts]
    with _session(state) as session:
        lead = _department_for(session, department_id)
        bundle_id, receipt = session.open_bundle(lead, enterprise, due, wanted)
    _emit(
        state,
        {
            "bundleId": _hex(bundle_id),
            "lead": lead,
            "deadline": due.isoformat(),
            "lastDay": deadline_day(due).isoformat(),
            "parts": [{"department": d, "certType": t} for d, t in wanted],
            "block": receipt["blockNumber"],
        },
        f"opened bundle {_hex(bundle_id)} with {len(wanted)} part(s) in block "
        f"{receipt['blockNumber']}",
    )


@bundle.command("file")
@click.argument("bundle_id", metavar="BUNDLE_ID")
@click.argument("index", type=click.IntRange(0, 255))
@click.argument("doc_hash", metavar="HASH")
@click.option("--department", "department_id", type=click.IntRange(1, 2**32 - 1))
@_json_option
@click.pass_obj
def bundle_file(
    state: _State, bundle_id: str, index: int, doc_hash: str, department_id: int | None
) -> None:
    """File this department's anchored certificate HASH as part INDEX of a bundle."""
    bundle_digest = _bundle_id(bundle_id)
    digest = parse_hash(doc_hash)
    with _session(state) as session:
        department_id = _department_for(session, department_id)
        receipt = session.file_bundle_part(department_id, bundle_digest, index, digest)
        current = session.bundles().bundle(bundle_digest)
    assert current is not None
    complete = current.completed_at is not None
    _emit(
        state,
        {
            "bundleId": _hex(bundle_digest),
            "index": index,
            "documentHash": _hex(digest),
            "filed": current.filed,
            "parts": len(current.parts),
            "completed": complete,
            "block": receipt["blockNumber"],
        },
        f"filed part {index} of bundle {_hex(bundle_digest)}: {current.filed} of "
        f"{len(current.parts)} filed" + (", bundle complete" if complete else ""),
    )


@bundle.command("show")
@click.argument("bundle_id", metavar="BUNDLE_ID")
@_json_option
@click.pass_obj
def bundle_show(state: _State, bundle_id: str) -> None:
    """Show a bundle: its parts, what was filed, and whether it is complete now."""
    digest = _bundle_id(bundle_id)
    with _session(state, read_only=True) as session:
        client = session.bundles()
        current = client.bundle(digest)
        if current is None:
            raise NotFoundError("no bundle with this id")
        complete = client.is_complete(digest)
    lines = [
        f"bundle {_hex(digest)}: led by department {current.lead}, due "
        f"{deadline_day(current.deadline).isoformat()} (China time), "
        + ("complete" if complete else "incomplete")
    ]
    for index, part in enumerate(current.parts):
        filed = _hex(part.doc_hash) if part.doc_hash else "not filed"
        lines.append(
            f"  part {index}: department {part.department_id}, "
            f"{certificate_type_label(part.cert_type)}: {filed}"
        )
    _emit(
        state,
        {
            "bundleId": _hex(digest),
            "lead": current.lead,
            "openedAt": current.opened_at.isoformat(),
            "deadline": current.deadline.isoformat(),
            "lastDay": deadline_day(current.deadline).isoformat(),
            "completedAt": current.completed_at.isoformat() if current.completed_at else None,
            "complete": complete,
            "parts": [
                {
                    "index": index,
                    "department": part.department_id,
                    "certType": certificate_type_label(part.cert_type),
                    "documentHash": _hex(part.doc_hash) if part.doc_hash else None,
                }
                for index, part in enumerate(current.parts)
            ],
        },
        "\n".join(lines),
    )


# -- documents --------------------------------------------------------------------------------


@cli.group()
def docs() -> None:
    """Store, fetch, export and erase documents.

    Documents live in the embedded store (DATA_DIR/documents) or, with LEDGER_IPFS_API, on an
    IPFS node; either way under the CID Kubo gives the same bytes. Keys of encrypted documents
    are in DATA_DIR/vault.sqlite3, wrapped under the master key (LEDGER_MASTER_KEY or
    DATA_DIR/secrets.json). An erased document fails with exit status 11.
    """


@docs.command("put")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--encrypt", is_flag=True, help="Encrypt under a fresh key kept in the vault.")
@_json_option
@click.pass_obj
def docs_put(state: _State, file: Path, encrypt: bool) -> None:
    """Store FILE (pinned) and print its CID."""
    data = file.read_bytes()
    with _document_service(state.settings()) as service:
        stored = service.store_document(data, encrypt=encrypt)
    _emit(
        state,
        {"cid": stored.cid, "encrypted": stored.encrypted, "size": stored.size},
        stored.cid,
    )


@docs.command("get")
@click.argument("cid", metavar="CID")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="File to write (replaced atomically once the document is complete).",
)
@_json_option
@click.pass_obj
def docs_get(state: _State, cid: str, output: Path) -> None:
    """Fetch the document stored under CID, decrypting it when its key is here."""
    with _document_service(_existing(state.settings())) as service:
        try:
            data = service.fetch_document(cid)
        except DocumentErasedError:
            raise DocumentErasedError(_erased_message(service, cid)) from None
        decrypted = service.vault.get_key(cid) is not None
    write_atomically(output, data, mode=0o600)
    _emit(
        state,
        {"cid": cid, "output": str(output), "size": len(data), "decrypted": decrypted},
        f"wrote {len(data)} bytes to {output}" + (" (decrypted)" if decrypted else ""),
    )


@docs.command("export")
@click.argument("cids", metavar="[CID]...", nargs=-1)
@click.option(
    "--car",
    "out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="CARv1 file to write (for `ipfs dag import`).",
)
@_json_option
@click.pass_obj
def docs_export(state: _State, cids: tuple[str, ...], out: Path) -> None:
    """Export documents (default: every pinned one) from the embedded store to a CAR file."""
    from ledger.storage.embedded import EmbeddedStore

    settings = _existing(state.settings())
    if settings.uses_ipfs:
        raise ConfigurationError(
            "CAR export reads the embedded store, but documents are on the IPFS node of "
            "LEDGER_IPFS_API: export there with `ipfs dag export CID`"
        )
    store = EmbeddedStore(settings.documents_dir)
    roots = list(dict.fromkeys(cids)) or store.pins()
    if not roots:
        raise NotFoundError("no pinned documents to export")
    blocks = store.export_car(roots, out)
    _emit(
        state,
        {"car": str(out), "cids": roots, "blocks": blocks},
        f"exported {len(roots)} document(s), {blocks} block(s) to {out}",
    )


@docs.command("erase")
@click.argument("cid", metavar="CID")
@_json_option
@click.pass_obj
def docs_erase(state: _State, cid: str) -> None:
    """Erase an encrypted document: destroy its key and unpin its copy (idempotent).

    The stored copy can never be read again, here or wherever it was copied; the anchor stays and
    still verifies the copy its holder presents. Documents stored in clear have no key to destroy.
    """
    with _document_service(state.settings()) as service:
        vault = service.vault
        already = vault.is_erased(cid)
        if not already and vault.get_key(cid) is None:
            raise NotFoundError(
                "no key for this document here: only documents encrypted by this deployment can "
                "be erased (one stored in clear is public and stays readable where it was copied)"
            )
        try:
            service.erase(cid)
        except StorageUnavailableError as exc:
            raise StorageUnavailableError(
                f"the document is erased (its key is destroyed), but its copy could not be "
                f"unpinned: {exc}; run the command again to finish"
            ) from None
        erased_at = vault.erased_at(cid)
    when = erased_at.isoformat() if erased_at else None
    _emit(
        state,
        {"cid": cid, "erased": True, "alreadyErased": already, "erasedAt": when},
        f"{cid} was already erased on {when}"
        if already
        else f"erased {cid}: key destroyed, copy unpinned; the anchor still verifies the "
        "holder's copy",
    )


def _erased_message(service: DocumentService, cid: str) -> str:
    erased_at = service.vault.erased_at(cid)
    when = f" on {erased_at.isoformat()}" if erased_at else ""
    return f"the document was erased{when}: its key is destroyed and it can never be read again"


# -- credit -----------------------------------------------------------------------------------


@cli.group()
def credit() -> None:
    """Record, amend and list credit events."""


@credit.command("record")
@click.option("--subject", required=True, help="Identity number or credit code of the subject.")
@click.option("--subject-kind", type=click.Choice([k.value for k in SubjectKind]), default=None)
@click.option("--category", required=True, help="Credit category, e.g. tax-violation.")
@click.option(
    "--polarity", type=click.Choice(["negative", "positive"]), default="negative", show_default=True
)
@click.option("--severity", type=click.IntRange(1, 5), required=True)
@click.option("--occurred", required=True, help="Date of the fact (YYYY-MM-DD).")
@click.option(
    "--evidence", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True
)
@click.option("--department", "department_id", type=click.IntRange(1, 2**32 - 1))
@_json_option
@click.pass_obj
def credit_record(
    state: _State,
    subject: str,
    subject_kind: str | None,
    category: str,
    polarity: str,
    severity: int,
    occurred: str,
    evidence: Path,
    department_id: int | None,
) -> None:
    """Record a credit event backed by an evidence document."""
    from ledger.documents import document_hash_of

    entry = credit_category(category)
    occurred_at = parse_day_start(occurred, "--occurred")
    if occurred_at > datetime.now(UTC):
        raise ValidationError("--occurred is in the future")
    evidence_hash = document_hash_of(evidence).hash
    with _session(state) as session:
        reference = session.subject_ref(subject, _subject_kind(subject_kind))
        department_id = _department_for(session, department_id)
        require_accreditation(session.registry(), department_id, entry.code, 0)
        sender = session.department_sender(department_id)
        event_id, receipt = session.credit(sender).record(
            reference, entry.code, Polarity[polarity.upper()], severity, occurred_at, evidence_hash
        )
        _emit(
            state,
            {"eventId": _hex(event_id), "category": entry.name, "block": receipt["blockNumber"]},
            f"recorded credit event {_hex(event_id)} ({entry.name}) "
            f"in block {receipt['blockNumber']}",
        )


@credit.command("amend")
@click.argument("event_id", metavar="EVENT_ID")
@click.option(
    "--status",
    type=click.Choice(["corrected", "withdrawn", "repaired", "disputed", "upheld"]),
    required=True,
)
@click.option(
    "--reason",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="Decision document explaining the amendment (its hash goes on chain).",
)
@click.option("--department", "department_id", type=click.IntRange(1, 2**32 - 1))
@_json_option
@click.pass_obj
def credit_amend(
    state: _State, event_id: str, status: str, reason: Path, department_id: int | None
) -> None:
    """Amend a credit event (the event itself never changes)."""
    from ledger.documents import document_hash_of

    digest = parse_hash(event_id)
    reason_hash = document_hash_of(reason).hash
    with _session(state) as session:
        department_id = _department_for(session, department_id)
        authorize_event_change(session.registry(), session.credit(), department_id, digest)
        sender = session.department_sender(department_id)
        receipt = session.credit(sender).amend(digest, Amendment[status.upper()], reason_hash)
        _emit(
            state,
            {"eventId": _hex(digest), "status": status, "block": receipt["blockNumber"]},
            f"credit event {_hex(digest)} marked {status}",
        )


@credit.command("history")
@click.option("--subject", required=True, help="Identity number or credit code of the subject.")
@click.option("--subject-kind", type=click.Choice([k.value for k in SubjectKind]), default=None)
@click.option(
    "--include-undisclosed",
    is_flag=True,
    help="Also list events no longer disclosed, marked (what the subject itself sees).",
)
@_json_option
@click.pass_obj
def credit_history(
    state: _State, subject: str, subject_kind: str | None, include_undisclosed: bool
) -> None:
    """List a subject's credit events, oldest occurrence first, with the score they give.

    Only events disclosed now are listed and scored (ADR 0020), as a department sees them.
    """
    from ledger.credit import Audience, read_history

    audience = Audience.SUBJECT if include_undisclosed else Audience.THIRD_PARTY
    with _session(state, read_only=True) as session:
        reference = session.subject_ref(subject, _subject_kind(subject_kind))
        view = read_history(session.credit(), reference, audience)
        names = {c.code: c.name for c in CREDIT_CATEGORIES}
        rows: list[dict[str, Any]] = []
        lines: list[str] = []
        for item in view.events:
            e, until = item.event, item.disclosure.until
            row: dict[str, Any] = {
                "eventId": _hex(e.event_id),
                "category": names.get(e.category, hex(e.category)),
                "polarity": e.polarity.name.lower(),
                "severity": e.severity,
                "occurredAt": e.occurred_at.astimezone(_CST).isoformat(),
                "recordedAt": e.recorded_at.astimezone(_CST).isoformat(),
                "recorder": e.recorder,
                "amendment": e.amendment.name.lower(),
                "disclosed": item.disclosure.disclosed,
                "disclosedUntil": until.astimezone(_CST).isoformat() if until else None,
            }
            rows.append(row)
            lines.append(
                f"{row['occurredAt'][:10]}  {row['category']:<24} {row['polarity']:<8} "
                f"severity {row['severity']}  "
                f"{row['amendment'] if row['amendment'] != 'none' else ''}  {row['eventId']}"
                + (
                    ""
                    if until is None or item.disclosure.disclosed
                    else f"  not disclosed since {row['disclosedUntil'][:10]}"
                )
            )
        score = view.score
        lines.append(
            f"score {score.value} (policy {score.policy}, from {len(score.counted)} event(s))"
        )
        _emit(
            state,
            {
                "asOf": view.as_of.isoformat(),
                "events": rows,
                "score": {
                    "value": score.value,
                    "policy": score.policy,
                    "counted": [_hex(i) for i in score.counted],
                },
            },
            "\n".join(lines),
        )


@credit.group("disclosure")
def credit_disclosure() -> None:
    """Show and set how long negative events of each category are disclosed (governance)."""


def _disclosure_rows(session: Any) -> list[dict[str, Any]]:
    from ledger.catalogue import SECONDS_PER_DAY

    periods = session.credit().disclosure_periods(c.code for c in CREDIT_CATEGORIES)
    return [
        {
            "category": c.name,
            "code": c.code,
            "days": periods[c.code] // SECONDS_PER_DAY,
            "seconds": periods[c.code],
            "defaultDays": c.disclosure_days,
        }
        for c in CREDIT_CATEGORIES
    ]


def _days_text(days: int) -> str:
    return "no limit" if days == 0 else f"{days} days"


@credit_disclosure.command("show")
@_json_option
@click.pass_obj
def credit_disclosure_show(state: _State) -> None:
    """Each category's disclosure period on chain, with the catalogue's default."""
    with _session(state, read_only=True) as session:
        rows = _disclosure_rows(session)
    _emit(
        state,
        {"periods": rows},
        "\n".join(
            f"{r['category']:<24} {_days_text(r['days']):<10} "
            f"(default {_days_text(r['defaultDays'])})"
            for r in rows
        ),
    )


@credit_disclosure.command("set")
@click.argument("category")
@click.argument("days", type=click.IntRange(0, 36_500))
@_json_option
@click.pass_obj
def credit_disclosure_set(state: _State, category: str, days: int) -> None:
    """Set CATEGORY's disclosure period to DAYS (0: no limit), counted from when an event
    occurred; it applies at once to every event of the category."""
    from ledger.catalogue import SECONDS_PER_DAY

    entry = credit_category(category)
    with _session(state) as session:
        writer = session.credit(session.governance_sender())
        receipt = writer.set_disclosure_period(entry.code, days * SECONDS_PER_DAY)
        _emit(
            state,
            {"category": entry.name, "days": days, "block": receipt["blockNumber"]},
            f"disclosure period of {entry.name} set to {_days_text(days)} "
            f"in block {receipt['blockNumber']}",
        )


# -- API tokens -------------------------------------------------------------------------------


@cli.group()
def token() -> None:
    """Issue, list and revoke the service's API tokens (governance)."""


def _tokens(state: _State) -> Any:
    from ledger.service.database import ServiceDatabase
    from ledger.service.tokens import TokenStore

    settings = state.settings()
    if not (settings.data_dir / "deployments.json").exists():
        raise NotDeployedError("no ledger in this data directory (run `ledger init`)")
    return ServiceDatabase(settings.service_db_path), TokenStore


@token.command("issue")
@click.option("--admin", "admin", is_flag=True, help="A governance (admin) token.")
@click.option(
    "--department", "department_id", type=click.IntRange(1, 2**32 - 1), help="Department id."
)
@click.option("--label", default="", help="What the token is for (e.g. an office).")
@_json_option
@click.pass_obj
def token_issue(state: _State, admin: bool, department_id: int | None, label: str) -> None:
    """Issue a token; it is printed once and stored only as a hash."""
    if admin == (department_id is not None):
        raise click.UsageError("give exactly one of --admin and --department")
    database, store_type = _tokens(state)
    with database:
        if department_id is not None:
            try:
                with _session(state, read_only=True) as session:
                    if session.registry().department(department_id) is None:
                        raise NotFoundError(f"department {department_id} is not registered")
            except DataDirectoryLockedError:
                # The service holds the embedded chain; the token store is shared safely.
                click.echo(
                    f"warning: the chain is in use (by `ledger serve`?): department "
                    f"{department_id} was not checked; POST /v1/departments/{department_id}/tokens "
                    "checks it",
                    err=True,
                )
            issued = store_type(database).issue("department", department_id, label=label)
        else:
            issued = store_type(database).issue("admin", label=label)
    _emit(
        state,
        {"token": issued.secret, "tokenId": issued.record.token_id, "role": issued.record.role},
        issued.secret,
    )


@token.command("list")
@_json_option
@click.pass_obj
def token_list(state: _State) -> None:
    """List tokens (ids, roles, departments; never the tokens)."""
    database, store_type = _tokens(state)
    with database:
        records = store_type(database).tokens()
    _emit(
        state,
        {
            "tokens": [
                {
                    "tokenId": r.token_id,
                    "role": r.role,
                    "departmentId": r.department_id,
                    "label": r.label,
                    "createdAt": r.created_at,
                    "revokedAt": r.revoked_at,
                }
                for r in records
            ]
        },
        "\n".join(
            f"{r.token_id}  {r.role:<10} {r.department_id or '':<10} "
            f"{'revoked' if r.revoked_at else 'active':<8} {r.label}"
            for r in records
        )
        or "no tokens",
    )


@token.command("revoke")
@click.argument("token_id")
@_json_option
@click.pass_obj
def token_revoke(state: _State, token_id: str) -> None:
    """Revoke a token by its id (the second part of the token)."""
    database, store_type = _tokens(state)
    with database:
        store_type(database).revoke(token_id)
    _emit(state, {"revoked": token_id}, f"token {token_id} revoked")


@cli.command("types")
@_json_option
@click.pass_obj
def list_types(state: _State) -> None:
    """List certificate types and credit categories."""
    rows = [
        {
            "kind": ScopeKind.CERTIFICATE.name.lower(),
            "name": t.name,
            "code": t.code,
            "title": t.title_en,
        }
        for t in CERTIFICATE_TYPES
    ] + [
        {"kind": ScopeKind.CREDIT.name.lower(), "name": c.name, "code": c.code, "title": c.title_en}
        for c in CREDIT_CATEGORIES
    ]
    _emit(
        state,
        {"scopes": rows},
        "\n".join(f"{r['kind']:<12} {r['name']:<30} {r['title']}" for r in rows),
    )


# -- entry point ------------------------------------------------------------------------------


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI; errors become one line on stderr and a non-zero exit status."""
    try:
        cli.main(
            args=list(argv) if argv is not None else None, prog_name="ledger", standalone_mode=False
        )
    except click.exceptions.Abort:
        _fail("aborted", 1)
    except click.UsageError as exc:
        _fail(f"{exc.format_message()} (see --help)", 2)
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code or 1)
    except LedgerError as exc:
        for kind, code in EXIT_CODES:
            if isinstance(exc, kind):
                _fail(str(exc), code)
        _fail(str(exc), 1)
    except OSError as exc:
        _fail(f"{exc.strerror or type(exc).__name__}", 1)
    except KeyboardInterrupt:
        _fail("interrupted", 130)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
