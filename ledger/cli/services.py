"""``ledger services``: the service catalogue (政务服务事项清单), which certificates each service's
window asks for. Read from the data shipped with the package, so it needs no ledger, chain or
data directory; ``--json`` prints exactly what ``GET /v1/services`` answers.

Not here: the catalogue itself and its JSON shape (:mod:`ledger.services`).
"""

from __future__ import annotations

import click

from ledger.catalogue import CertificateType
from ledger.cli.app import cli
from ledger.cli.common import State, emit, json_option
from ledger.services import (
    SERVICES,
    SERVICES_VERSION,
    Service,
    catalogue_document,
    service,
    service_document,
)

__all__ = ["services"]


def _names(types: tuple[CertificateType, ...] | None) -> str:
    return ", ".join(kind.name for kind in types) if types else "-"


def _table() -> str:
    """One row per service; the Chinese title last, where its double-width characters cannot
    push the other columns out of line."""
    header = f"{'CODE':<38} {'FOR':<19} {'REQUIRES':<44} SERVICE"
    rows = [
        f"{entry.code:<38} {','.join(entry.subject_kinds):<19} "
        f"{_names(entry.requires):<44} {entry.title_en} ({entry.title_zh})"
        for entry in SERVICES
    ]
    footer = f"{len(SERVICES)} services, catalogue version {SERVICES_VERSION}"
    return "\n".join([header, *rows, footer])


def _details(entry: Service) -> str:
    lines = [
        f"{entry.title_zh} / {entry.title_en} ({entry.code})",
        f"for:      {', '.join(entry.subject_kinds)}",
        f"requires: {_names(entry.requires)}",
        f"accepts:  {_names(entry.accepts)}",
        f"content:  {_names(entry.content)} (stored copies the window may read)",
    ]
    if entry.bundle_parts is not None:
        lines.append(f"bundle:   {_names(entry.bundle_parts)} (joint licensing, 多证联办)")
    lines += [entry.summary_zh, entry.summary_en]
    return "\n".join(lines)


@cli.group(invoke_without_command=True)
@json_option
@click.pass_context
def services(ctx: click.Context) -> None:
    """The service catalogue (办事指南): the certificates each service asks for."""
    if ctx.invoked_subcommand is None:
        emit(ctx.ensure_object(State), catalogue_document(), _table())


@services.command("show")
@click.argument("code")
@json_option
@click.pass_obj
def show(state: State, code: str) -> None:
    """One service by CODE (exit 3 if the catalogue has none)."""
    entry = service(code)
    emit(state, service_document(entry), _details(entry))
