"""Who is calling: API tokens of departments and governance, and identity-provider JWTs.

Departments and governance present the API tokens of :mod:`ledger.service.tokens`. Citizens and
enterprises present a JWT from the identity provider named in the settings (issuer, audience, and
a PEM public key or a JWKS file); its subject claim carries the identity number or credit code,
which is validated and turned into a subject reference at once and then forgotten: no principal,
log line or audit row holds it.

With ``LEDGER_DEV_ISSUER`` the service also trusts tokens it issues itself (``POST /v1/dev/token``)
under a key generated into the data directory. That stands in for a real provider in the demo and
in tests, and is off unless enabled.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ledger.config import Settings
from ledger.errors import ConfigurationError, LedgerError
from ledger.files import write_atomically
from ledger.identity import Subject, SubjectKind, parse_subject, subject_ref

__all__ = [
    "DEV_ISSUER",
    "Admin",
    "Citizen",
    "DepartmentCaller",
    "DevIssuer",
    "IdentityProvider",
    "Principal",
    "TokenRejectedError",
]

#: ``iss`` of the development issuer's tokens.
DEV_ISSUER: Final = "urn:gov-ledger:dev-issuer"
#: File in the data directory holding the development issuer's signing key.
DEV_KEY_FILE: Final = "dev-issuer-key.pem"
#: Lifetime of a development token (seconds).
DEV_TOKEN_SECONDS: Final = 3600
#: Optional claim naming the subject's kind ("citizen" / "enterprise") when the identifier alone
#: is ambiguous (an all-digit credit code can also pass as an identity number).
KIND_CLAIM: Final = "subject_kind"
_ALGORITHMS: Final = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "EdDSA"]
#: Clock skew tolerated between the provider and this server (seconds).
_LEEWAY: Final = 30


class TokenRejectedError(LedgerError):
    """A bearer credential that is not valid (signature, issuer, audience, expiry, subject)."""

    code = "unauthenticated"


@dataclass(frozen=True)
class Admin:
    """Governance, by an admin API token."""

    token_id: str

    @property
    def actor(self) -> str:
        return "admin"


@dataclass(frozen=True)
class DepartmentCaller:
    """A department, by one of its API tokens."""

    token_id: str
    department_id: int
    #: The token's label, which names the window (office, counter) in the citizen's access log.
    label: str = ""

    @property
    def actor(self) -> str:
        return f"department:{self.department_id}"


@dataclass(frozen=True)
class Citizen:
    """A citizen or enterprise, by an identity-provider token. Holds the reference only."""

    subject_ref: bytes
    kind: SubjectKind

    @property
    def actor(self) -> str:
        return f"{self.kind.value}:{self.subject_ref.hex()[:16]}"


Principal = Admin | DepartmentCaller | Citizen


def _load_json_keys(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        key_set = jwt.PyJWKSet.from_dict(document)
    except (OSError, ValueError, jwt.PyJWKError, jwt.PyJWKSetError) as error:
        raise ConfigurationError(
            f"LEDGER_OIDC_JWKS_FILE cannot be read as a JWKS: {type(error).__name__}"
        ) from None
    keys: dict[str, Any] = {}
    for key in key_set.keys:
        keys[key.key_id or ""] = key.key
    return keys


def _load_pem(path: Path, what: str) -> Any:
    try:
        return serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as error:
        raise ConfigurationError(f"{what} cannot be read as a PEM public key: {error}") from None


class DevIssuer:
    """The development identity provider: an ES256 key in the data directory."""

    def __init__(self, data_dir: Path, audience: str) -> None:
        path = data_dir / DEV_KEY_FILE
        if not path.exists():
            key = ec.generate_private_key(ec.SECP256R1())
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            write_atomically(path, pem, mode=0o600)
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise ConfigurationError(f"{path} does not hold an EC private key")
        self._key = loaded
        self.public_key = loaded.public_key()
        self.audience = audience

    def issue(self, subject: Subject, *, lifetime: int = DEV_TOKEN_SECONDS) -> tuple[str, int]:
        """A token for ``subject`` and its expiry (UTC seconds)."""
        now = int(time.time())
        expires = now + lifetime
        token = jwt.encode(
            {
                "iss": DEV_ISSUER,
                "aud": self.audience,
                "sub": subject.normalized,
                KIND_CLAIM: subject.kind.value,
                "iat": now,
                "nbf": now,
                "exp": expires,
            },
            self._key,
            algorithm="ES256",
        )
        return token, expires


class IdentityProvider:
    """Checks citizens' bearer JWTs against the configured provider (and the dev issuer)."""

    def __init__(self, settings: Settings, dev: DevIssuer | None) -> None:
        self._pepper = settings.pepper_bytes()
        self._audience = settings.oidc_audience
        self._claim = settings.oidc_subject_claim
        self._issuer = settings.oidc_issuer
        self._dev = dev
        self._key: Any = None
        self._keys: dict[str, Any] = {}
        if self._issuer is not None:
            if settings.oidc_jwks_file is not None:
                self._keys = _load_json_keys(settings.oidc_jwks_file)
            elif settings.oidc_public_key_file is not None:
                self._key = _load_pem(settings.oidc_public_key_file, "LEDGER_OIDC_PUBLIC_KEY_FILE")
            else:
                raise ConfigurationError(
                    "LEDGER_OIDC_ISSUER needs LEDGER_OIDC_PUBLIC_KEY_FILE or LEDGER_OIDC_JWKS_FILE"
                )

    @property
    def configured(self) -> bool:
        """Whether any provider (real or development) is trusted."""
        return self._issuer is not None or self._dev is not None

    def _verification_key(self, token: str, issuer: object) -> tuple[Any, str]:
        if self._dev is not None and issuer == DEV_ISSUER:
            return self._dev.public_key, self._dev.audience
        if self._issuer is None or issuer != self._issuer:
            raise TokenRejectedError("the token's issuer is not trusted here")
        if self._key is not None:
            return self._key, self._audience
        try:
            kid = jwt.get_unverified_header(token).get("kid") or ""
        except jwt.PyJWTError:
            raise TokenRejectedError("the token is malformed") from None
        key = self._keys.get(kid)
        if key is None and len(self._keys) == 1 and not kid:
            key = next(iter(self._keys.values()))
        if key is None:
            raise TokenRejectedError("the token was signed by a key the provider does not list")
        return key, self._audience

    def authenticate(self, token: str) -> Citizen:
        """The citizen or enterprise a valid token names; TokenRejectedError otherwise."""
        if not self.configured:
            raise TokenRejectedError("no identity provider is configured for citizens")
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise TokenRejectedError("the token is malformed") from None
        key, audience = self._verification_key(token, unverified.get("iss"))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=_ALGORITHMS,
                audience=audience,
                issuer=unverified.get("iss"),
                leeway=_LEEWAY,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRejectedError("the token has expired") from None
        except (jwt.PyJWTError, TypeError, ValueError):
            # TypeError/ValueError: a token whose algorithm does not fit the key's type (an ES256
            # token checked against an RSA key) is refused like any bad signature.
            raise TokenRejectedError(
                "the token's signature, audience or dates are not valid"
            ) from None
        identifier = claims.get(self._claim)
        if not isinstance(identifier, str):
            raise TokenRejectedError("the token carries no subject identifier")
        kind_claim = claims.get(KIND_CLAIM)
        try:
            kind = SubjectKind(kind_claim) if isinstance(kind_claim, str) else None
            subject = parse_subject(identifier, kind)
        except (ValueError, LedgerError):
            raise TokenRejectedError("the token's subject is not a valid identifier") from None
        return Citizen(subject_ref(self._pepper, subject), subject.kind)
