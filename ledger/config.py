"""Settings of one ledger deployment, from the environment (``LEDGER_*``) and the data directory.

Secrets (the subject-reference pepper and the keystore password) come from the environment in
production. ``ledger init`` generates them for a local deployment into ``DATA_DIR/secrets.json``
(mode 0600), which is read when the environment does not set them. Either way the pepper is
validated before use: a missing or placeholder pepper stops the program, because subject references
made with a guessable pepper could be reversed by brute force (DESIGN section 5).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Annotated, Final

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.errors import ConfigurationError
from ledger.identity import validate_pepper

__all__ = ["SECRETS_FILE", "Settings", "write_local_secrets"]

#: File inside the data directory holding locally generated secrets (created by ``ledger init``).
SECRETS_FILE: Final = "secrets.json"


class Settings(BaseSettings):
    """Everything a ledger process needs to know; one instance per process."""

    model_config = SettingsConfigDict(env_prefix="LEDGER_", extra="ignore", frozen=True)

    #: Where the embedded chain, keystores, deployments and local secrets live.
    data_dir: Path = Path("ledger-data")
    #: Ethereum JSON-RPC endpoint; unset means the embedded chain in ``data_dir``.
    rpc_url: str | None = None
    #: Subject-reference pepper, hex (at least 32 bytes). Falls back to ``DATA_DIR/secrets.json``.
    pepper: SecretStr | None = None
    #: Password of the signing-key keystores. Falls back to ``DATA_DIR/secrets.json``.
    keystore_password: SecretStr | None = None
    #: Confirmations a record needs before verification calls it final.
    confirmations: Annotated[int, Field(ge=0, le=10_000)] = 0
    #: Seconds to wait for a transaction receipt.
    receipt_timeout: Annotated[float, Field(gt=0, le=3600)] = 120.0

    @field_validator("rpc_url")
    @classmethod
    def _check_rpc_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("LEDGER_RPC_URL must be an http:// or https:// URL")
        return value

    @property
    def is_embedded(self) -> bool:
        """Whether the ledger runs on the in-process chain of :attr:`data_dir`."""
        return self.rpc_url is None

    def pepper_bytes(self) -> bytes:
        """The validated pepper; ConfigurationError when missing or a placeholder."""
        raw = self.pepper.get_secret_value() if self.pepper else self._local_secret("pepper")
        if raw is None:
            raise ConfigurationError(
                "no subject-reference pepper: set LEDGER_PEPPER (64+ hex digits) "
                "or run `ledger init`"
            )
        try:
            pepper = bytes.fromhex(raw.removeprefix("0x"))
        except ValueError:
            raise ConfigurationError("LEDGER_PEPPER must be hex-encoded") from None
        validate_pepper(pepper)
        return pepper

    def keystore_password_text(self) -> str:
        """The keystore password; raises :class:`ConfigurationError` when missing or too short."""
        if self.keystore_password:
            raw: str | None = self.keystore_password.get_secret_value()
        else:
            raw = self._local_secret("keystore_password")
        if raw is None:
            raise ConfigurationError(
                "no keystore password: set LEDGER_KEYSTORE_PASSWORD or run `ledger init`"
            )
        if len(raw) < 16:
            raise ConfigurationError("the keystore password must have at least 16 characters")
        return raw

    def _local_secret(self, name: str) -> str | None:
        path = self.data_dir / SECRETS_FILE
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot read {path}: {type(exc).__name__}") from None
        value = document.get(name) if isinstance(document, dict) else None
        return value if isinstance(value, str) else None


def write_local_secrets(data_dir: Path) -> bool:
    """Generate a pepper and keystore password into ``data_dir/secrets.json`` unless present.

    Returns whether the file was created. The file is created with mode 0600 atomically, so a
    crash never leaves a half-written secret that a later start would accept.
    """
    path = data_dir / SECRETS_FILE
    if path.exists():
        return False
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    document = {
        "pepper": secrets.token_hex(32),
        "keystore_password": secrets.token_urlsafe(32),
    }
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return True
