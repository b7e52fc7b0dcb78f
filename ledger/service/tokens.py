"""API tokens of departments and of governance, stored hashed.

A token is ``<prefix>_<id>_<secret>``: ``gld`` for a department, ``gla`` for governance (admin).
The id (8 bytes, hex) finds the row; the secret (32 random bytes, URL-safe base64) is compared
with the stored SHA-256 digest in constant time. A plain digest is enough because the secret is
random with 256 bits of entropy: nothing to brute-force, unlike a password, so a slow hash would
only slow every request. The token itself is returned once, by :meth:`TokenStore.issue`, and
never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Final, Literal

from ledger.errors import NotFoundError, ValidationError
from ledger.service.database import ServiceDatabase

__all__ = ["ADMIN_PREFIX", "DEPARTMENT_PREFIX", "IssuedToken", "Role", "TokenRecord", "TokenStore"]

Role = Literal["admin", "department"]
ADMIN_PREFIX: Final = "gla"
DEPARTMENT_PREFIX: Final = "gld"
_PREFIXES: Final[dict[Role, str]] = {"admin": ADMIN_PREFIX, "department": DEPARTMENT_PREFIX}
_TOKEN: Final = re.compile(r"(gla|gld)_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")


@dataclass(frozen=True)
class TokenRecord:
    """What a token stands for (never the token itself)."""

    token_id: str
    role: Role
    department_id: int | None
    label: str
    created_at: int
    revoked_at: int | None


@dataclass(frozen=True)
class IssuedToken:
    """A newly issued token: ``secret`` is shown to its holder once and not kept."""

    record: TokenRecord
    secret: str


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("ascii")).digest()


def looks_like_token(value: str) -> bool:
    """Whether ``value`` has the shape of an API token (as opposed to a JWT)."""
    return value.startswith((ADMIN_PREFIX + "_", DEPARTMENT_PREFIX + "_"))


class TokenStore:
    """Issue, check, list and revoke API tokens in the service database."""

    def __init__(self, database: ServiceDatabase) -> None:
        self._database = database

    def issue(
        self, role: Role, department_id: int | None = None, *, label: str = ""
    ) -> IssuedToken:
        """A new token for governance (``admin``) or for one department."""
        if (role == "department") != (department_id is not None):
            raise ValidationError("a department token names its department; an admin token none")
        if department_id is not None and not 0 < department_id < 1 << 32:
            raise ValidationError("department id out of range")
        if len(label) > 200:
            raise ValidationError("token label too long")
        token_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        created = int(time.time())
        with self._database.transaction() as connection:
            connection.execute(
                "INSERT INTO tokens (token_id, role, department_id, digest, label, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (token_id, role, department_id, _digest(secret), label, created),
            )
        record = TokenRecord(token_id, role, department_id, label, created, None)
        return IssuedToken(record, f"{_PREFIXES[role]}_{token_id}_{secret}")

    def authenticate(self, token: str) -> TokenRecord | None:
        """The record of a valid, unrevoked token; None for anything else."""
        match = _TOKEN.fullmatch(token)
        if match is None:
            return None
        prefix, token_id, secret = match.groups()
        rows = self._database.query(
            "SELECT role, department_id, digest, label, created_at, revoked_at FROM tokens "
            "WHERE token_id = ?",
            (token_id,),
        )
        if not rows:
            _digest(secret)  # the same work as a hit, so timing tells nothing
            return None
        role, department_id, digest, label, created_at, revoked_at = rows[0]
        if not hmac.compare_digest(_digest(secret), bytes(digest)):
            return None
        if revoked_at is not None or _PREFIXES[role] != prefix:
            return None
        return TokenRecord(
            token_id,
            role,
            department_id,
            str(label),
            int(created_at),
            None,
        )

    def revoke(self, token_id: str) -> None:
        """Revoke a token; NotFoundError when there is no such token."""
        with self._database.transaction() as connection:
            changed = connection.execute(
                "UPDATE tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
                (int(time.time()), token_id),
            ).rowcount
        if changed == 0:
            raise NotFoundError("no active token with this id")

    def tokens(self, department_id: int | None = None) -> list[TokenRecord]:
        """Every token (of one department), oldest first."""
        sql = "SELECT token_id, role, department_id, label, created_at, revoked_at FROM tokens"
        parameters: tuple[object, ...] = ()
        if department_id is not None:
            sql += " WHERE department_id = ?"
            parameters = (department_id,)
        rows = self._database.query(sql + " ORDER BY created_at, token_id", parameters)
        return [
            TokenRecord(
                str(token_id),
                role,
                department_id_,
                str(label),
                int(created_at),
                None if revoked_at is None else int(revoked_at),
            )
            for token_id, role, department_id_, label, created_at, revoked_at in rows
        ]
