"""``ledger init``, ``ledger status`` and ``ledger types``: setting up a ledger, and what it
and its catalogue hold.

Not here: departments (:mod:`ledger.cli.departments`) and the service's API tokens
(:mod:`ledger.cli.tokens`).
"""

from __future__ import annotations

import click

from ledger.catalogue import CERTIFICATE_TYPES, CREDIT_CATEGORIES, ScopeKind
from ledger.cli.app import cli
from ledger.cli.common import State, emit, json_option, open_session

__all__ = ["init", "list_types", "status"]


@cli.command()
@json_option
@click.pass_obj
def init(state: State) -> None:
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
        emit(
            state,
            data,
            f"ledger {verb} on chain {d.chain_id} ({session.connection.location})\n"
            f"  DepartmentRegistry  {d.department_registry}\n"
            f"  CertificateRegistry {d.certificate_registry}\n"
            f"  CreditLedger        {d.credit_ledger}\n"
            f"  governance key      {data['governance']}",
        )


@cli.command()
@json_option
@click.pass_obj
def status(state: State) -> None:
    """Show the chain, the deployment, the departments and the local keys."""
    with open_session(state, read_only=True) as session:
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
        emit(
            state,
            data,
            f"chain      {data['chain']} {data['location']} "
            f"(id {d.chain_id}, head block {data['head']})\n"
            f"registry   {d.department_registry}\n"
            f"departments {len(departments)}: {', '.join(map(str, departments)) or '-'}\n"
            f"local keys {len(keys)}",
        )


@cli.command("types")
@json_option
@click.pass_obj
def list_types(state: State) -> None:
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
    emit(
        state,
        {"scopes": rows},
        "\n".join(f"{r['kind']:<12} {r['name']:<30} {r['title']}" for r in rows),
    )
