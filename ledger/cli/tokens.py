"""``ledger token``: issuing, listing and revoking the service's API tokens (governance), kept in
the service database of the data directory.

Not here: ``ledger serve`` itself (``api/cli.py``: the library never imports the web stack).
"""

from __future__ import annotations

from typing import Any

import click

from ledger.cli.app import cli
from ledger.cli.common import DEPARTMENT_ID, State, emit, json_option, open_session
from ledger.errors import DataDirectoryLockedError, NotDeployedError, NotFoundError

__all__ = ["token"]


@cli.group()
def token() -> None:
    """Issue, list and revoke the service's API tokens (governance)."""


def _tokens(state: State) -> Any:
    from ledger.service.database import ServiceDatabase
    from ledger.service.tokens import TokenStore

    settings = state.settings()
    if not (settings.data_dir / "deployments.json").exists():
        raise NotDeployedError("no ledger in this data directory (run `ledger init`)")
    return ServiceDatabase(settings.service_db_path), TokenStore


@token.command("issue")
@click.option("--admin", "admin", is_flag=True, help="A governance (admin) token.")
@click.option("--department", "department_id", type=DEPARTMENT_ID, help="Department id.")
@click.option("--label", default="", help="What the token is for (e.g. an office).")
@json_option
@click.pass_obj
def token_issue(state: State, admin: bool, department_id: int | None, label: str) -> None:
    """Issue a token; it is printed once and stored only as a hash."""
    if admin == (department_id is not None):
        raise click.UsageError("give exactly one of --admin and --department")
    database, store_type = _tokens(state)
    with database:
        if department_id is not None:
            try:
                with open_session(state, read_only=True) as session:
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
    emit(
        state,
        {"token": issued.secret, "tokenId": issued.record.token_id, "role": issued.record.role},
        issued.secret,
    )


@token.command("list")
@json_option
@click.pass_obj
def token_list(state: State) -> None:
    """List tokens (ids, roles, departments; never the tokens)."""
    database, store_type = _tokens(state)
    with database:
        records = store_type(database).tokens()
    emit(
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
@json_option
@click.pass_obj
def token_revoke(state: State, token_id: str) -> None:
    """Revoke a token by its id (the second part of the token)."""
    database, store_type = _tokens(state)
    with database:
        store_type(database).revoke(token_id)
    emit(state, {"revoked": token_id}, f"token {token_id} revoked")
