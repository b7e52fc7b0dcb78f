"""Settings of one ledger deployment, from the environment (``LEDGER_*``) and the data directory.

Secrets (the subject-reference pepper, the keystore password and the document master key) come
from the environment in production. ``ledger init`` generates them for a local deployment into
``DATA_DIR/secrets.json`` (mode 0600), which is read when the environment does not set them.
Either way the pepper and the master key are validated before use: a missing or placeholder value
stops the program, because subject references made with a guessable pepper could be reversed by
brute force, and document keys wrapped under a guessable master key protect nothing (ADRs
0006 and 0008).

Documents go to the embedded store in ``DATA_DIR/documents`` unless ``LEDGER_IPFS_API`` names an
IPFS node. Documents held by natural persons, and documents of personal certificate types, are
always encrypted; ``LEDGER_ENCRYPT_TYPES`` (comma-separated type names) encrypts organisations'
documents of those types as well.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ledger.catalogue import CertificateType, certificate_type
from ledger.errors import ConfigurationError, ValidationError
from ledger.files import write_atomically
from ledger.identity import Subject, validate_pepper

__all__ = [
    "DOCUMENTS_DIR",
    "MASTER_KEY_BYTES",
    "SECRETS_FILE",
    "SERVICE_DB_FILE",
    "VAULT_FILE",
    "Settings",
    "write_local_secrets",
]

#: File inside the data directory holding locally generated secrets (created by ``ledger init``).
SECRETS_FILE: Final = "secrets.json"
#: Directory inside the data directory of the embedded document store.
DOCUMENTS_DIR: Final = "documents"
#: File inside the data directory holding the document keys (wrapped under the master key).
VAULT_FILE: Final = "vault.sqlite3"
#: File inside the data directory holding the service's API tokens (hashed) and audit log.
SERVICE_DB_FILE: Final = "service.sqlite3"
#: Length of the master key that wraps document keys (AES-256).
MASTER_KEY_BYTES: Final = 32


class Settings(BaseSettings):
    """Everything a ledger process needs to know; one instance per process."""

    model_config = SettingsConfigDict(env_prefix="LEDGER_", extra="ignore", frozen=True)

    #: Where the embedded chain, keystores, deployments and local secrets live.
    data_dir: Path = Path("ledger-data")
    #: Ethereum JSON-RPC endpoint; unset means the embedded chain in ``data_dir``.
    rpc_url: str | None = None
    #: Bearer credential sent to ``rpc_url`` (an API token, for another service's ``/v1/rpc``;
    #: ADR 0021). Unset: the pepper's reader key is sent to a ``/v1/rpc`` URL, nothing elsewhere.
    rpc_token: SecretStr | None = None
    #: Subject-reference pepper, hex (at least 32 bytes). Falls back to ``DATA_DIR/secrets.json``.
    pepper: SecretStr | None = None
    #: Password of the signing-key keystores. Falls back to ``DATA_DIR/secrets.json``.
    keystore_password: SecretStr | None = None
    #: Confirmations a record needs before verification calls it final.
    confirmations: Annotated[int, Field(ge=0, le=10_000)] = 0
    #: Seconds to wait for a transaction receipt.
    receipt_timeout: Annotated[float, Field(gt=0, le=3600)] = 120.0
    #: IPFS node's RPC API (multiaddr or http URL); unset means the embedded store in
    #: ``DATA_DIR/documents``.
    ipfs_api: str | None = None
    #: Master key wrapping the document keys, hex (32 bytes). Falls back to
    #: ``DATA_DIR/secrets.json``.
    master_key: SecretStr | None = None
    #: Seconds an IPFS node may take per request (retries included) before it counts as down.
    store_timeout: Annotated[float, Field(gt=0, le=3600)] = 30.0
    #: Certificate types whose documents are encrypted even when an organisation holds them
    #: (documents of natural persons and of personal types always are). ``LEDGER_ENCRYPT_TYPES``:
    #: comma-separated type names.
    encrypt_types: Annotated[tuple[str, ...], NoDecode] = ()

    # -- the service (``ledger serve``) ---------------------------------------------------------

    #: Largest document an upload may carry (bytes); larger bodies are refused before reading.
    max_upload_bytes: Annotated[int, Field(gt=0, le=1 << 34)] = 10 * 1024 * 1024
    #: Largest JSON request body (bytes).
    max_json_bytes: Annotated[int, Field(gt=0, le=1 << 24)] = 64 * 1024
    #: Deepest nesting of arrays and objects a JSON request body may have (a batch proof needs
    #: 3, the deepest request body 4).
    max_json_depth: Annotated[int, Field(gt=0, le=1_000)] = 32
    #: Seconds a client has to send a request's head (request line and headers), from the
    #: moment the connection is ready for it; a slower head closes the connection (408).
    header_timeout: Annotated[float, Field(gt=0, le=3_600)] = 20.0
    #: Seconds a client has to send a request's body, from the end of its head; a slower body
    #: is answered 408 and the connection closed. 120 s carries the largest upload
    #: (``max_upload_bytes``, 10 MiB) at about 0.7 Mbit/s.
    body_timeout: Annotated[float, Field(gt=0, le=86_400)] = 120.0
    #: Requests per minute per token (per client address for anonymous callers); 0 disables.
    rate_limit: Annotated[int, Field(ge=0, le=1_000_000)] = 120
    #: Requests a caller may make at once before the rate applies.
    rate_burst: Annotated[int, Field(gt=0, le=1_000_000)] = 60
    #: Most documents one batch job (``POST /v1/certificates/batches``) may carry. The multipart
    #: parser takes at most 1,000 files a request; larger batches go through ``ledger
    #: anchor-batch`` or the library, which take up to 100,000.
    max_batch_size: Annotated[int, Field(gt=0, le=1_000)] = 1_000
    #: Largest ``limit`` of a listing.
    page_size_max: Annotated[int, Field(gt=0, le=10_000)] = 200
    #: Seconds a write waits for its transaction to be confirmed before answering ``202
    #: Accepted`` with the operation to poll (``Prefer: wait=N`` or ``respond-async`` choose
    #: per request, up to this).
    write_wait: Annotated[float, Field(ge=0, le=600)] = 30.0
    #: Seconds a cached report of ``POST /v1/verify`` by hash may be reused for what is not on
    #: chain (the stored copy); chain facts in it are dropped by the events that change them.
    verify_cache_seconds: Annotated[float, Field(ge=0, le=86_400)] = 60.0
    #: Open statistics (ADR 0030): counts under this threshold k are published as "<k", with
    #: complementary cells, so that no small group of people can be singled out.
    stats_threshold: Annotated[int, Field(ge=2, le=1_000)] = 5
    #: Unfinished journaled operations (and accepted batch jobs) one department may have; past
    #: it a write is refused with 429 until some finish (ADR 0018). 0 removes the cap.
    max_unfinished: Annotated[int, Field(ge=0, le=1_000_000)] = 100
    #: Seconds a sent transaction may stay pending before it is replaced with a higher fee.
    stuck_after: Annotated[float, Field(gt=0, le=86_400)] = 60.0
    #: Minutes a consent code (``POST /v1/me/consents``) stays valid unless its subject asks for
    #: fewer: long enough to queue at a window, short enough that a lost code soon means nothing.
    consent_minutes: Annotated[int, Field(ge=1, le=1440)] = 30
    #: Minutes an access-log entry may wait before its batch's Merkle root is anchored on chain
    #: (ADR 0028): shorter means sooner checkable and more governance transactions.
    access_log_anchor_minutes: Annotated[int, Field(ge=1, le=1440)] = 60
    #: Issuer (``iss``) of the identity provider's tokens for citizens and enterprises.
    oidc_issuer: str | None = None
    #: Audience (``aud``) the tokens must name.
    oidc_audience: str = "gov-ledger"
    #: PEM public key of the identity provider (RS256/ES256/EdDSA), or ...
    oidc_public_key_file: Path | None = None
    #: ... a JWKS file with its keys (selected by ``kid``).
    oidc_jwks_file: Path | None = None
    #: Claim carrying the identity number or credit code.
    oidc_subject_claim: str = "sub"
    #: Development only: the service issues citizen tokens itself (``POST /v1/dev/token``).
    dev_issuer: bool = False

    @field_validator("rpc_url")
    @classmethod
    def _check_rpc_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("LEDGER_RPC_URL must be an http:// or https:// URL")
        return value

    @field_validator("ipfs_api")
    @classmethod
    def _check_ipfs_api(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return value.strip()

    @field_validator("encrypt_types", mode="before")
    @classmethod
    def _check_encrypt_types(cls, value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        names = value.split(",") if isinstance(value, str) else list(value)
        known: list[str] = []
        for name in names:
            if not isinstance(name, str):
                raise ValueError("LEDGER_ENCRYPT_TYPES lists certificate type names")
            if not name.strip():
                continue
            try:
                known.append(certificate_type(name.strip()).name)
            except ValidationError:
                raise ValueError(
                    "LEDGER_ENCRYPT_TYPES names an unknown certificate type (see `ledger types`)"
                ) from None
        return tuple(dict.fromkeys(known))

    @property
    def is_embedded(self) -> bool:
        """Whether the ledger runs on the in-process chain of :attr:`data_dir`."""
        return self.rpc_url is None

    def pepper_bytes(self) -> bytes:
        """The validated pepper; ConfigurationError when missing or a placeholder."""
        pepper = self._hex_secret(
            self.pepper,
            "pepper",
            "no subject-reference pepper: set LEDGER_PEPPER (64+ hex digits) or run `ledger init`",
        )
        validate_pepper(pepper)
        return pepper

    def keystore_password_text(self) -> str:
        """The keystore password; raises :class:`ConfigurationError` when missing or too short."""
        raw = self._secret(
            self.keystore_password,
            "keystore_password",
            "no keystore password: set LEDGER_KEYSTORE_PASSWORD or run `ledger init`",
        )
        if len(raw) < 16:
            raise ConfigurationError("the keystore password must have at least 16 characters")
        return raw

    def master_key_bytes(self) -> bytes:
        """The validated document master key; ConfigurationError when missing or a placeholder."""
        key = self._hex_secret(
            self.master_key,
            "master_key",
            "no document master key: set LEDGER_MASTER_KEY (64 hex digits) or run `ledger init`",
        )
        if len(key) != MASTER_KEY_BYTES:
            raise ConfigurationError(
                f"LEDGER_MASTER_KEY must be {MASTER_KEY_BYTES} bytes ({2 * MASTER_KEY_BYTES} hex "
                "digits)"
            )
        try:
            validate_pepper(key)  # the same short / repeated / placeholder checks
        except ConfigurationError:
            raise ConfigurationError(
                "LEDGER_MASTER_KEY looks like a placeholder or a pattern; generate a random one, "
                "e.g. with secrets.token_hex(32)"
            ) from None
        if key == self._pepper_if_any():
            raise ConfigurationError(
                "LEDGER_MASTER_KEY equals the pepper; each secret must be generated on its own"
            )
        return key

    def _pepper_if_any(self) -> bytes | None:
        try:
            return self.pepper_bytes()
        except ConfigurationError:
            return None

    @property
    def uses_ipfs(self) -> bool:
        """Whether documents go to an IPFS node (else to the embedded store in the data dir)."""
        return self.ipfs_api is not None

    @property
    def documents_dir(self) -> Path:
        """Directory of the embedded document store."""
        return self.data_dir / DOCUMENTS_DIR

    @property
    def vault_path(self) -> Path:
        """The key vault's database."""
        return self.data_dir / VAULT_FILE

    @property
    def service_db_path(self) -> Path:
        """The service's database: API tokens (hashed) and the audit log."""
        return self.data_dir / SERVICE_DB_FILE

    def encrypts(self, kind: CertificateType, holder: Subject) -> bool:
        """Whether a document of ``kind`` held by ``holder`` is encrypted before storage.

        A document whose holder is a natural person (a citizen, or an individual business,
        :attr:`Subject.natural_person`) always is, whatever its type: a sole trader's business
        licence carries the operator's name and identity number (ADR 0016). So is every document
        of a personal type. An organisation's documents are public information and stored in
        clear unless their type is in ``encrypt_types``: the type list only widens encryption.
        """
        return holder.natural_person or kind.personal or kind.name in self.encrypt_types

    def _secret(self, given: SecretStr | None, name: str, missing: str) -> str:
        """A secret: ``given`` (by the environment) when set, else what ``ledger init`` kept as
        ``name`` in the data directory's secrets file; ConfigurationError saying ``missing`` when
        neither has it."""
        raw = given.get_secret_value() if given else self._local_secret(name)
        if raw is None:
            raise ConfigurationError(missing)
        return raw

    def _hex_secret(self, given: SecretStr | None, name: str, missing: str) -> bytes:
        """A secret key as :meth:`_secret` finds it, in hex (``0x`` optional); ConfigurationError
        naming its variable (``LEDGER_`` and ``name``) when it is not hex."""
        raw = self._secret(given, name, missing)
        try:
            return bytes.fromhex(raw.removeprefix("0x"))
        except ValueError:
            raise ConfigurationError(f"LEDGER_{name.upper()} must be hex-encoded") from None

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


#: Generators of the local secrets, by their name in ``secrets.json``.
_LOCAL_SECRETS: Final = {
    "pepper": lambda: secrets.token_hex(32),
    "keystore_password": lambda: secrets.token_urlsafe(32),
    "master_key": lambda: secrets.token_hex(MASTER_KEY_BYTES),
}


def write_local_secrets(data_dir: Path, names: Iterable[str] | None = None) -> bool:
    """Generate the local secrets missing from ``data_dir/secrets.json``: pepper, keystore
    password and document master key (or only ``names`` of them: those the environment does not
    provide, so the file never holds a second value that would silently take over the day the
    variable is unset).

    Values already in the file are never changed (a new pepper would orphan every subject
    reference, a new master key every document key): a file written before master keys existed
    gets one added. Returns whether the file was written. It is replaced atomically with mode
    0600, so a crash never leaves a half-written secret that a later start would accept.
    """
    path = data_dir / SECRETS_FILE
    try:
        existing = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        existing = {}
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read {path}: {type(exc).__name__}") from None
    if not isinstance(existing, dict):
        raise ConfigurationError(f"cannot read {path}: not a JSON object")
    wanted = list(_LOCAL_SECRETS) if names is None else list(names)
    unknown = set(wanted) - set(_LOCAL_SECRETS)
    if unknown:
        raise ValueError(f"unknown local secrets: {sorted(unknown)}")
    missing = [name for name in wanted if not isinstance(existing.get(name), str)]
    if not missing:
        return False
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    document = dict(existing)
    for name in missing:
        document[name] = _LOCAL_SECRETS[name]()
    write_atomically(path, json.dumps(document).encode(), mode=0o600)
    return True
