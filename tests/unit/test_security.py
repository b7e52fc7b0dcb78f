"""Citizens' bearer JWTs: the development issuer, an external provider by PEM key or JWKS."""

from __future__ import annotations

import hashlib
import json
import stat
import time
from datetime import date
from pathlib import Path
from typing import Any, Final

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import RSAAlgorithm

from api.security import (
    DEV_ISSUER,
    DEV_KEY_FILE,
    DEV_TOKEN_SECONDS,
    KIND_CLAIM,
    Admin,
    Citizen,
    DepartmentCaller,
    DevIssuer,
    IdentityProvider,
    TokenRejectedError,
)
from ledger.config import Settings
from ledger.errors import ConfigurationError
from ledger.identity import (
    Subject,
    SubjectKind,
    make_citizen_id,
    make_uscc,
    parse_subject,
    subject_ref,
)
from tests.support.routes import ambiguous_identifier

PEPPER: Final = hashlib.sha256(b"unit tests of api.security").digest()
AUDIENCE: Final = "gov-ledger"
ISSUER: Final = "https://idp.example.test/realms/citizens"
CITIZEN: Final = make_citizen_id("310104", date(1988, 7, 14), 42)
ENTERPRISE: Final = make_uscc(organisation_code="MA01TEQ7K")


def settings(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(data_dir=tmp_path / "data", pepper=PEPPER.hex(), **overrides)


def reference(identifier: str, kind: SubjectKind | None = None) -> bytes:
    return subject_ref(PEPPER, parse_subject(identifier, kind))


def claims(subject: str | None = CITIZEN, issuer: str = ISSUER, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    payload: dict[str, Any] = {"iss": issuer, "aud": AUDIENCE, "iat": now, "exp": now + 300}
    if subject is not None:
        payload["sub"] = subject
    payload.update(extra)
    return {key: value for key, value in payload.items() if value is not None}


def public_pem(key: Any, path: Path) -> Path:
    path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


@pytest.fixture
def dev(tmp_path: Path) -> DevIssuer:
    (tmp_path / "data").mkdir()
    return DevIssuer(tmp_path / "data", AUDIENCE)


@pytest.fixture
def provider(tmp_path: Path, dev: DevIssuer) -> IdentityProvider:
    return IdentityProvider(settings(tmp_path), dev)


def dev_key(tmp_path: Path) -> Any:
    return serialization.load_pem_private_key(
        (tmp_path / "data" / DEV_KEY_FILE).read_bytes(), password=None
    )


# -- the development issuer ---------------------------------------------------------------------


def test_dev_issuer_key_is_private_and_kept(tmp_path: Path, dev: DevIssuer) -> None:
    path = tmp_path / "data" / DEV_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = DevIssuer(tmp_path / "data", AUDIENCE)
    assert again.public_key.public_numbers() == dev.public_key.public_numbers()


def test_dev_issuer_refuses_a_key_that_is_not_ec(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    key = ed25519.Ed25519PrivateKey.generate()
    (tmp_path / "data" / DEV_KEY_FILE).write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(ConfigurationError):
        DevIssuer(tmp_path / "data", AUDIENCE)


@pytest.mark.parametrize(
    ("identifier", "kind"),
    [
        pytest.param(CITIZEN, SubjectKind.CITIZEN, id="citizen"),
        pytest.param(ENTERPRISE, SubjectKind.ENTERPRISE, id="enterprise"),
    ],
)
def test_dev_round_trip_gives_the_subject_reference(
    dev: DevIssuer, provider: IdentityProvider, identifier: str, kind: SubjectKind
) -> None:
    before = int(time.time())
    token, expires = dev.issue(parse_subject(identifier))
    assert before + DEV_TOKEN_SECONDS <= expires <= int(time.time()) + DEV_TOKEN_SECONDS
    citizen = provider.authenticate(token)
    assert citizen == Citizen(subject_ref(PEPPER, parse_subject(identifier)), kind)
    assert citizen.subject_ref == reference(identifier)
    # The principal holds the reference only.
    assert identifier not in repr(citizen)
    assert identifier not in citizen.actor
    assert citizen.actor == f"{kind.value}:{citizen.subject_ref.hex()[:16]}"


def test_dev_token_claims(tmp_path: Path, dev: DevIssuer) -> None:
    token, expires = dev.issue(parse_subject(CITIZEN.lower()), lifetime=60)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256"
    payload = jwt.decode(token, options={"verify_signature": False})
    assert payload["iss"] == DEV_ISSUER
    assert payload["aud"] == AUDIENCE
    assert payload["sub"] == CITIZEN.upper()
    assert payload[KIND_CLAIM] == "citizen"
    assert payload["exp"] == expires
    assert payload["exp"] - payload["iat"] == 60


def test_ambiguous_identifier_needs_the_kind_claim(
    tmp_path: Path, dev: DevIssuer, provider: IdentityProvider
) -> None:
    identifier = ambiguous_identifier()
    with pytest.raises(ValueError, match="both"):
        parse_subject(identifier)
    as_enterprise, _ = dev.issue(Subject(SubjectKind.ENTERPRISE, identifier))
    as_citizen, _ = dev.issue(Subject(SubjectKind.CITIZEN, identifier))
    enterprise = provider.authenticate(as_enterprise)
    citizen = provider.authenticate(as_citizen)
    assert enterprise.kind is SubjectKind.ENTERPRISE
    assert citizen.kind is SubjectKind.CITIZEN
    assert enterprise.subject_ref == reference(identifier, SubjectKind.ENTERPRISE)
    assert citizen.subject_ref == reference(identifier, SubjectKind.CITIZEN)
    assert enterprise.subject_ref != citizen.subject_ref
    # Without the claim the identifier cannot be placed.
    bare = jwt.encode(claims(identifier, DEV_ISSUER), dev_key(tmp_path), algorithm="ES256")
    with pytest.raises(TokenRejectedError, match="subject"):
        provider.authenticate(bare)


def test_kind_claim_that_does_not_fit_is_refused(
    tmp_path: Path, provider: IdentityProvider
) -> None:
    key = dev_key(tmp_path)
    for kind in ("enterprise", "robot"):
        token = jwt.encode(
            claims(CITIZEN, DEV_ISSUER, **{KIND_CLAIM: kind}), key, algorithm="ES256"
        )
        with pytest.raises(TokenRejectedError):
            provider.authenticate(token)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"sub": None}, "no subject", id="no-subject"),
        pytest.param({"sub": 110101199001011237}, "not valid", id="numeric-subject"),
        pytest.param({"sub": CITIZEN[:17] + "0"}, "not a valid identifier", id="wrong-check"),
        pytest.param({"exp": None}, "not valid", id="no-expiry"),
        pytest.param({"aud": None}, "not valid", id="no-audience"),
        pytest.param({"iss": None}, "issuer", id="no-issuer"),
        pytest.param({"aud": "another-service"}, "not valid", id="wrong-audience"),
        pytest.param({"exp": int(time.time()) - 120}, "expired", id="expired"),
        pytest.param({"nbf": int(time.time()) + 3600}, "not valid", id="not-yet-valid"),
        pytest.param({"iss": "https://untrusted.example"}, "issuer", id="untrusted-issuer"),
    ],
)
def test_bad_dev_tokens_are_refused(
    tmp_path: Path, provider: IdentityProvider, change: dict[str, Any], message: str
) -> None:
    payload = claims(CITIZEN, DEV_ISSUER)
    for key, value in change.items():
        payload[key] = value
    payload = {key: value for key, value in payload.items() if value is not None}
    token = jwt.encode(payload, dev_key(tmp_path), algorithm="ES256")
    with pytest.raises(TokenRejectedError, match=message) as refused:
        provider.authenticate(token)
    assert CITIZEN[:17] not in str(refused.value)


def test_expiry_within_the_leeway_is_accepted(tmp_path: Path, provider: IdentityProvider) -> None:
    token = jwt.encode(
        claims(CITIZEN, DEV_ISSUER, exp=int(time.time()) - 5), dev_key(tmp_path), "ES256"
    )
    assert provider.authenticate(token).subject_ref == reference(CITIZEN)


def test_wrong_key_is_refused(provider: IdentityProvider) -> None:
    forged = jwt.encode(
        claims(CITIZEN, DEV_ISSUER), ec.generate_private_key(ec.SECP256R1()), algorithm="ES256"
    )
    with pytest.raises(TokenRejectedError, match="signature"):
        provider.authenticate(forged)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("not-a-jwt", id="garbage"),
        pytest.param("a.b.c", id="three-garbage-parts"),
        pytest.param("", id="empty"),
    ],
)
def test_malformed_tokens_are_refused(provider: IdentityProvider, token: str) -> None:
    with pytest.raises(TokenRejectedError, match="malformed"):
        provider.authenticate(token)


def test_unsigned_and_symmetric_tokens_are_refused(provider: IdentityProvider) -> None:
    unsigned = jwt.encode(claims(CITIZEN, DEV_ISSUER), None, algorithm="none")
    symmetric = jwt.encode(claims(CITIZEN, DEV_ISSUER), "s" * 32, algorithm="HS256")
    for token in (unsigned, symmetric):
        with pytest.raises(TokenRejectedError):
            provider.authenticate(token)


def test_nothing_configured_refuses_everything(tmp_path: Path, dev: DevIssuer) -> None:
    provider = IdentityProvider(settings(tmp_path), None)
    assert provider.configured is False
    token, _ = dev.issue(parse_subject(CITIZEN))
    with pytest.raises(TokenRejectedError, match="no identity provider"):
        provider.authenticate(token)


# -- an external provider -----------------------------------------------------------------------


def test_external_provider_by_pem(tmp_path: Path, dev: DevIssuer) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    provider = IdentityProvider(
        settings(
            tmp_path, oidc_issuer=ISSUER, oidc_public_key_file=public_pem(key, tmp_path / "k.pem")
        ),
        None,
    )
    assert provider.configured is True
    token = jwt.encode(claims(ENTERPRISE.lower()), key, algorithm="ES256")
    assert provider.authenticate(token) == Citizen(reference(ENTERPRISE), SubjectKind.ENTERPRISE)
    # Without the development issuer, its tokens are just another untrusted issuer.
    issued, _ = dev.issue(parse_subject(CITIZEN))
    with pytest.raises(TokenRejectedError, match="issuer"):
        provider.authenticate(issued)
    other_issuer = jwt.encode(claims(issuer="https://other.example"), key, algorithm="ES256")
    with pytest.raises(TokenRejectedError, match="issuer"):
        provider.authenticate(other_issuer)
    forged = jwt.encode(claims(), ec.generate_private_key(ec.SECP256R1()), algorithm="ES256")
    with pytest.raises(TokenRejectedError, match="signature"):
        provider.authenticate(forged)


def test_external_provider_and_dev_issuer_together(tmp_path: Path, dev: DevIssuer) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    provider = IdentityProvider(
        settings(
            tmp_path, oidc_issuer=ISSUER, oidc_public_key_file=public_pem(key, tmp_path / "k.pem")
        ),
        dev,
    )
    external = jwt.encode(claims(), key, algorithm="RS256")
    issued, _ = dev.issue(parse_subject(CITIZEN))
    assert provider.authenticate(external) == provider.authenticate(issued)
    # Each issuer is checked against its own key only.
    other_ec = ec.generate_private_key(ec.SECP256R1())
    other_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for issuer, forger, algorithm in (
        (DEV_ISSUER, other_ec, "ES256"),
        (ISSUER, other_rsa, "RS256"),
    ):
        forged = jwt.encode(claims(issuer=issuer), forger, algorithm=algorithm)
        with pytest.raises(TokenRejectedError, match="signature"):
            provider.authenticate(forged)


@pytest.mark.parametrize("configured", ["rsa", "ec"])
def test_token_for_another_key_type_is_refused(tmp_path: Path, configured: str) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    key, other, algorithm = (
        (rsa_key, ec_key, "ES256") if configured == "rsa" else (ec_key, rsa_key, "RS256")
    )
    provider = IdentityProvider(
        settings(
            tmp_path, oidc_issuer=ISSUER, oidc_public_key_file=public_pem(key, tmp_path / "k.pem")
        ),
        None,
    )
    with pytest.raises(TokenRejectedError):
        provider.authenticate(jwt.encode(claims(), other, algorithm=algorithm))


def test_external_provider_with_its_own_audience_and_claim(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    provider = IdentityProvider(
        settings(
            tmp_path,
            oidc_issuer=ISSUER,
            oidc_public_key_file=public_pem(key, tmp_path / "k.pem"),
            oidc_audience="citizen-portal",
            oidc_subject_claim="id_number",
        ),
        None,
    )
    payload = claims(subject="opaque-user-id", aud="citizen-portal", id_number=CITIZEN)
    assert provider.authenticate(jwt.encode(payload, key, "ES256")).subject_ref == reference(
        CITIZEN
    )
    wrong_audience = claims(subject="opaque-user-id", id_number=CITIZEN)
    with pytest.raises(TokenRejectedError):
        provider.authenticate(jwt.encode(wrong_audience, key, "ES256"))
    without_claim = claims(subject=CITIZEN, aud="citizen-portal")
    with pytest.raises(TokenRejectedError, match="no subject"):
        provider.authenticate(jwt.encode(without_claim, key, "ES256"))


def jwks_file(path: Path, keys: dict[str, Any]) -> Path:
    entries = []
    for kid, key in keys.items():
        jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        if kid:
            jwk["kid"] = kid
        entries.append({**jwk, "use": "sig", "alg": "RS256"})
    path.write_text(json.dumps({"keys": entries}), encoding="utf-8")
    return path


def test_external_provider_by_jwks(tmp_path: Path) -> None:
    current = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    previous = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    provider = IdentityProvider(
        settings(
            tmp_path,
            oidc_issuer=ISSUER,
            oidc_jwks_file=jwks_file(tmp_path / "jwks.json", {"2026": current, "2025": previous}),
        ),
        None,
    )
    for kid, key in (("2026", current), ("2025", previous)):
        token = jwt.encode(claims(), key, algorithm="RS256", headers={"kid": kid})
        assert provider.authenticate(token).subject_ref == reference(CITIZEN)
    crossed = jwt.encode(claims(), previous, algorithm="RS256", headers={"kid": "2026"})
    with pytest.raises(TokenRejectedError, match="signature"):
        provider.authenticate(crossed)
    for headers in ({"kid": "2024"}, None):
        unknown = jwt.encode(claims(), current, algorithm="RS256", headers=headers)
        with pytest.raises(TokenRejectedError, match="does not list"):
            provider.authenticate(unknown)


def test_single_key_jwks_without_kid(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    provider = IdentityProvider(
        settings(
            tmp_path, oidc_issuer=ISSUER, oidc_jwks_file=jwks_file(tmp_path / "j.json", {"": key})
        ),
        None,
    )
    token = jwt.encode(claims(), key, algorithm="RS256")
    assert provider.authenticate(token).kind is SubjectKind.CITIZEN


@pytest.mark.parametrize(
    "configure",
    [
        pytest.param(lambda path: {}, id="issuer-without-key"),
        pytest.param(lambda path: {"oidc_public_key_file": path / "missing.pem"}, id="missing-pem"),
        pytest.param(
            lambda path: {"oidc_public_key_file": write(path / "bad.pem", "not a key")},
            id="bad-pem",
        ),
        pytest.param(
            lambda path: {"oidc_jwks_file": write(path / "bad.json", "not json")},
            id="jwks-not-json",
        ),
        pytest.param(
            lambda path: {"oidc_jwks_file": write(path / "bad.json", '{"keys": []}')},
            id="jwks-without-keys",
        ),
        pytest.param(
            lambda path: {"oidc_jwks_file": write(path / "bad.json", '{"keys": 1}')},
            id="jwks-keys-not-a-list",
        ),
        pytest.param(lambda path: {"oidc_jwks_file": path / "none.json"}, id="missing-jwks"),
    ],
)
def test_provider_configuration_errors(tmp_path: Path, configure: Any) -> None:
    with pytest.raises(ConfigurationError):
        IdentityProvider(settings(tmp_path, oidc_issuer=ISSUER, **configure(tmp_path)), None)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_principals_name_no_secret() -> None:
    assert Admin("0123456789abcdef").actor == "admin"
    assert DepartmentCaller("0123456789abcdef", 3).actor == "department:3"
