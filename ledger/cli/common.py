"""What the ``ledger`` commands share: the command line's state, the ``--json`` option and the
output, opening the ledger (or reading through a running ``ledger serve``), the document
service, and the options several command groups parse the same way.

Not here: the click group, the entry point and the exit statuses (:mod:`ledger.cli.app`), or any
command (a module per command group beside this one).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

import click

from ledger.config import Settings
from ledger.errors import DataDirectoryLockedError, NoLedgerError, ValidationError
from ledger.identity import SubjectKind
from ledger.parsing import parse_hash
from ledger.storage.vault import DocumentService

__all__ = [
    "DEPARTMENT_ID",
    "State",
    "department_for",
    "department_option",
    "document_service",
    "emit",
    "existing",
    "json_option",
    "load_proof",
    "open_session",
    "parse_bundle_id",
    "serving_instead",
    "subject_kind_of",
    "to_hex",
]

F = TypeVar("F", bound=Callable[..., Any])

#: A department's id as the department registry takes it (a uint32 other than 0).
DEPARTMENT_ID: Final = click.IntRange(1, 2**32 - 1)
#: ``--department``: the department that acts, which the commands that write infer when the
#: data directory holds the keys of only one (:func:`department_for`).
department_option: Final = click.option("--department", "department_id", type=DEPARTMENT_ID)


@dataclass
class State:
    data_dir: Path
    rpc_url: str | None
    as_json: bool

    def settings(self, *, rpc_url: str | None = None) -> Settings:
        overrides: dict[str, Any] = {"data_dir": self.data_dir}
        url = rpc_url or self.rpc_url
        if url:
            overrides["rpc_url"] = url
        return Settings(**overrides)


def emit(state: State, data: dict[str, Any], text: str) -> None:
    if state.as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))
    else:
        click.echo(text)


def to_hex(value: bytes) -> str:
    return "0x" + value.hex()


def subject_kind_of(value: str | None) -> SubjectKind | None:
    return SubjectKind(value) if value else None


def json_option(function: F) -> F:
    def flag(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            ctx.ensure_object(State).as_json = True

    return click.option(
        "--json", "as_json", is_flag=True, expose_value=False, callback=flag, help="Print JSON."
    )(function)


def open_session(state: State, *, read_only: bool = False) -> Any:
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
        served = serving_instead(state, busy, read_only=read_only)
        return LedgerSession.open(state.settings(rpc_url=served))


def serving_instead(state: State, busy: DataDirectoryLockedError, *, read_only: bool) -> str:
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


def existing(settings: Settings) -> Settings:
    """``settings``, if its data directory exists: a command that only reads never creates one
    (NoLedgerError, exit status 8; ADR 0021)."""
    if not settings.data_dir.is_dir():
        raise NoLedgerError.at(settings.data_dir)
    return settings


@contextlib.contextmanager
def document_service(settings: Settings) -> Iterator[DocumentService]:
    from ledger.storage.factory import close_document_service, open_document_service

    service = open_document_service(settings)
    try:
        yield service
    finally:
        close_document_service(service)


def department_for(session: Any, department_id: int | None) -> int:
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


def load_proof(path: Path | None) -> Any:
    """A batch proof from a ``.proof.json`` file or a wrapped certificate holding one."""
    if path is None:
        return None
    from ledger.documents.batches import BatchProof, embedded_proof

    data = path.read_bytes()
    inside = embedded_proof(data)  # None for a .proof.json: it is no certificate
    return inside if inside is not None else BatchProof.loads(data)


def parse_bundle_id(text: str) -> bytes:
    try:
        return parse_hash(text)
    except ValidationError:
        raise ValidationError("a bundle id is 64 hex digits (optionally 0x-prefixed)") from None
