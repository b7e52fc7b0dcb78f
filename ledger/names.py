"""Departments' official names, kept off chain and shown only when they match the chain.

The registry stores the keccak256 of a department's name (``nameHash``): names are public, but
the chain need not carry them. The service keeps the names it was given at registration, and
answers a name only when its hash equals the one on chain, so a wrong or tampered entry in the
local database shows as "no name", never as a false one.
"""

from __future__ import annotations

from pathlib import Path

from eth_utils.crypto import keccak

from ledger.errors import ValidationError
from ledger.service.database import ServiceDatabase

__all__ = ["DepartmentNames", "name_hash", "remember_name"]


def name_hash(name: str) -> bytes:
    """keccak256 of a department's official name (UTF-8, stripped), as the registry stores it."""
    cleaned = name.strip()
    if not cleaned:
        raise ValidationError("a department needs a name")
    return keccak(text=cleaned)


class DepartmentNames:
    """The names this deployment registered, by department id."""

    def __init__(self, database: ServiceDatabase) -> None:
        self._database = database

    def remember(self, department_id: int, name: str) -> None:
        with self._database.transaction() as connection:
            connection.execute(
                "INSERT INTO department_names (department_id, name) VALUES (?, ?) "
                "ON CONFLICT (department_id) DO UPDATE SET name = excluded.name",
                (department_id, name.strip()),
            )

    def name_of(self, department_id: int, on_chain_hash: bytes) -> str | None:
        """The stored name when it hashes to ``on_chain_hash``; None otherwise."""
        rows = self._database.query(
            "SELECT name FROM department_names WHERE department_id = ?", (department_id,)
        )
        if not rows:
            return None
        name = str(rows[0][0])
        return name if name_hash(name) == on_chain_hash else None


def remember_name(service_db_path: Path, department_id: int, name: str) -> None:
    """Keep a newly registered department's ``name`` in the service database at
    ``service_db_path``: what the CLI (and whatever registers departments without the service
    running) does once the department's key is accredited. The running service keeps it through
    its own open :class:`DepartmentNames` instead."""
    with ServiceDatabase(service_db_path) as database:
        DepartmentNames(database).remember(department_id, name)
