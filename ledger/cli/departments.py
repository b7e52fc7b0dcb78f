"""``ledger department``: registering departments, listing them, suspending and reinstating
them and rotating their signing keys (governance).

The commands send the prepared writes of :mod:`ledger.writes.departments` at once; what follows a
confirmed registration or rotation here (funding the new key, keeping the name) is in
:func:`add_department` and :func:`rotate_department_key`, which the test fixtures, the demo seed
and the benchmarks use to set departments up the way ``ledger department add`` does.

Not here: the certificates and credit events a department writes (their own modules).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import click
from eth_typing import ChecksumAddress

from ledger.catalogue import scope_codes
from ledger.cli.app import cli
from ledger.cli.common import DEPARTMENT_ID, State, emit, json_option, open_session
from ledger.names import remember_name
from ledger.session import LedgerSession
from ledger.writes import departments

__all__ = ["add_department", "department", "rotate_department_key"]


def add_department(
    session: LedgerSession,
    department_id: int,
    region: int,
    name: str,
    scopes: Sequence[int],
    *,
    valid_until: datetime | None = None,
) -> ChecksumAddress:
    """Register a department, create its first signing key here, and accredit the key: the two
    writes of :mod:`ledger.writes.departments`, sent one after the other; then fund the key and
    keep the name off chain (:func:`ledger.names.remember_name`). Returns the key.

    Resumable: a registration that stopped before its key was accredited is finished by calling
    again with the same region (:func:`~ledger.writes.departments.half_registered`), reusing a
    key created here but never accredited, instead of failing as a duplicate.
    """
    if not departments.half_registered(session, department_id, region):
        session.send(
            departments.register(
                session, department_id, region, name, scopes, valid_until=valid_until
            )
        )
    accreditation = departments.accredit_key(
        session, department_id, region, valid_until=valid_until
    )
    session.send(accreditation)
    signer = accreditation.facts.signer
    session.ensure_funded(signer)
    remember_name(session.settings.service_db_path, department_id, name)
    return signer


def rotate_department_key(
    session: LedgerSession, department_id: int
) -> tuple[ChecksumAddress, ChecksumAddress]:
    """Replace the department's current key by a new one
    (:func:`ledger.writes.departments.rotate_key`) and fund the new key; returns (old, new)."""
    rotation = departments.rotate_key(session, department_id)
    session.send(rotation)
    session.ensure_funded(rotation.facts.signer)
    return rotation.facts.retired, rotation.facts.signer


@cli.group()
def department() -> None:
    """Accredit and manage departments (governance)."""


@department.command("add")
@click.option("--id", "department_id", type=DEPARTMENT_ID, required=True)
@click.option(
    "--region", type=click.IntRange(100000, 999999), required=True, help="GB/T 2260 code."
)
@click.option("--name", required=True, help="Official name (only its hash goes on chain).")
@click.option(
    "--scope", "scopes", multiple=True, required=True, help="Certificate type or credit category."
)
@json_option
@click.pass_obj
def department_add(
    state: State, department_id: int, region: int, name: str, scopes: tuple[str, ...]
) -> None:
    """Register a department and give it a signing key."""
    codes = scope_codes(scopes)
    with open_session(state) as session:
        signer = add_department(session, department_id, region, name, codes)
        emit(
            state,
            {"departmentId": department_id, "region": region, "scopes": codes, "signer": signer},
            f"department {department_id} registered in region {region} with {len(codes)} scope(s); "
            f"signing key {signer}",
        )


@department.command("list")
@json_option
@click.pass_obj
def department_list(state: State) -> None:
    """List registered departments."""
    with open_session(state, read_only=True) as session:
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
        emit(state, {"departments": rows}, "\n".join(lines) or "no departments")


def _set_suspension(state: State, department_id: int, *, suspended: bool) -> None:
    with open_session(state) as session:
        change = departments.suspend if suspended else departments.reinstate
        session.send(change(session, department_id))
        emit(
            state,
            {"departmentId": department_id, "suspended": suspended},
            f"department {department_id} {'suspended' if suspended else 'reinstated'}",
        )


def _suspension_command(name: str, *, suspended: bool, help_text: str) -> click.Command:
    """``department suspend`` or ``department reinstate``: the two differ only in which way
    they turn a department's suspension, so one definition serves both."""

    @department.command(name, help=help_text)
    @click.argument("department_id", type=DEPARTMENT_ID)
    @json_option
    @click.pass_obj
    def command(state: State, department_id: int) -> None:
        _set_suspension(state, department_id, suspended=suspended)

    return command


department_suspend = _suspension_command(
    "suspend",
    suspended=True,
    help_text="Suspend a department: its keys can no longer anchor or record.",
)
department_reinstate = _suspension_command(
    "reinstate", suspended=False, help_text="Lift a department's suspension."
)


@department.command("rotate-key")
@click.argument("department_id", type=DEPARTMENT_ID)
@json_option
@click.pass_obj
def department_rotate_key(state: State, department_id: int) -> None:
    """Replace a department's signing key (records signed before stay valid)."""
    with open_session(state) as session:
        old, new = rotate_department_key(session, department_id)
        emit(
            state,
            {"departmentId": department_id, "retired": old, "signer": new},
            f"department {department_id}: key {old} retired, {new} active",
        )
