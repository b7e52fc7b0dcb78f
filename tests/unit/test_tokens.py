"""API tokens: issued once, stored as a digest, authenticated, listed and revoked."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.errors import NotFoundError, ValidationError
from ledger.service.database import ServiceDatabase
from ledger.service.tokens import ADMIN_PREFIX, DEPARTMENT_PREFIX, TokenStore, looks_like_token


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "service.sqlite3"


@pytest.fixture
def database(db_path: Path) -> Iterator[ServiceDatabase]:
    with ServiceDatabase(db_path) as opened:
        yield opened


@pytest.fixture
def store(database: ServiceDatabase) -> TokenStore:
    return TokenStore(database)


def parts(token: str) -> tuple[str, str, str]:
    prefix, token_id, secret = token[:3], token[4:20], token[21:]
    assert token == f"{prefix}_{token_id}_{secret}"
    return prefix, token_id, secret


def test_issue_and_authenticate_admin(store: TokenStore) -> None:
    issued = store.issue("admin", label="governance office")
    prefix, token_id, secret = parts(issued.secret)
    assert prefix == ADMIN_PREFIX
    assert token_id == issued.record.token_id
    assert len(token_id) == 16
    assert len(secret) == 43
    assert issued.record.role == "admin"
    assert issued.record.department_id is None
    assert issued.record.revoked_at is None
    assert store.authenticate(issued.secret) == issued.record


def test_issue_and_authenticate_department(store: TokenStore) -> None:
    issued = store.issue("department", 3, label="Dongcheng front office")
    assert issued.secret.startswith(DEPARTMENT_PREFIX + "_")
    record = store.authenticate(issued.secret)
    assert record is not None
    assert (record.role, record.department_id, record.label) == (
        "department",
        3,
        "Dongcheng front office",
    )
    assert record == issued.record


def test_tokens_are_distinct(store: TokenStore) -> None:
    first = store.issue("department", 3)
    second = store.issue("department", 3)
    assert first.secret != second.secret
    assert first.record.token_id != second.record.token_id
    assert store.authenticate(first.secret) == first.record
    assert store.authenticate(second.secret) == second.record


def test_wrong_secret_is_refused(store: TokenStore) -> None:
    issued = store.issue("department", 3)
    prefix, token_id, secret = parts(issued.secret)
    changed = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert store.authenticate(f"{prefix}_{token_id}_{changed}") is None
    other = store.issue("department", 3)
    _, _, other_secret = parts(other.secret)
    # Another token's valid secret under this id.
    assert store.authenticate(f"{prefix}_{token_id}_{other_secret}") is None


def test_wrong_prefix_is_refused(store: TokenStore) -> None:
    """A department token presented as an admin token (and back) is not valid."""
    department = store.issue("department", 3)
    admin = store.issue("admin")
    assert store.authenticate("gla" + department.secret[3:]) is None
    assert store.authenticate("gld" + admin.secret[3:]) is None


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda t: "", id="empty"),
        pytest.param(lambda t: t[:3], id="prefix-only"),
        pytest.param(lambda t: t[:-1], id="secret-too-short"),
        pytest.param(lambda t: t + "A", id="secret-too-long"),
        pytest.param(lambda t: t.upper(), id="upper-case"),
        pytest.param(lambda t: " " + t, id="leading-space"),
        pytest.param(
            lambda t: t + "\n",
            id="trailing-newline",
        ),
        pytest.param(lambda t: t.replace("_", "-", 1), id="separator"),
        pytest.param(lambda t: "glx" + t[3:], id="unknown-prefix"),
        pytest.param(lambda t: t[:4] + t[4:20].upper() + t[20:], id="id-upper-case"),
        pytest.param(lambda t: t[:-1] + "=", id="secret-padding"),
        pytest.param(lambda t: "Bearer " + t, id="with-scheme"),
    ],
)
def test_malformed_tokens_are_refused(store: TokenStore, mangle: object) -> None:
    issued = store.issue("department", 3)
    assert callable(mangle)
    mangled = mangle(issued.secret)
    assert mangled != issued.secret
    assert store.authenticate(mangled) is None


def test_unknown_token_id_is_refused(store: TokenStore) -> None:
    issued = store.issue("admin")
    prefix, _, secret = parts(issued.secret)
    assert store.authenticate(f"{prefix}_{'0' * 16}_{secret}") is None


def test_revoked_token_is_refused(store: TokenStore) -> None:
    kept = store.issue("department", 3)
    revoked = store.issue("department", 3)
    store.revoke(revoked.record.token_id)
    assert store.authenticate(revoked.secret) is None
    assert store.authenticate(kept.secret) == kept.record
    with pytest.raises(NotFoundError):
        store.revoke(revoked.record.token_id)
    with pytest.raises(NotFoundError):
        store.revoke("0" * 16)


def test_list_tokens(store: TokenStore) -> None:
    admin = store.issue("admin")
    three = store.issue("department", 3, label="a")
    four = store.issue("department", 4)
    three_again = store.issue("department", 3, label="b")
    store.revoke(three.record.token_id)

    listed = store.tokens()
    assert {record.token_id for record in listed} == {
        issued.record.token_id for issued in (admin, three, four, three_again)
    }
    assert [r.created_at for r in listed] == sorted(r.created_at for r in listed)
    by_id = {record.token_id: record for record in listed}
    assert by_id[three.record.token_id].revoked_at is not None
    assert by_id[three.record.token_id].revoked_at >= three.record.created_at  # type: ignore[operator]
    assert by_id[four.record.token_id].revoked_at is None

    of_three = store.tokens(3)
    assert {record.token_id for record in of_three} == {
        three.record.token_id,
        three_again.record.token_id,
    }
    assert {record.label for record in of_three} == {"a", "b"}
    assert store.tokens(99) == []


@pytest.mark.parametrize(
    ("role", "department_id", "label"),
    [
        pytest.param("department", None, "", id="department-without-id"),
        pytest.param("admin", 3, "", id="admin-with-id"),
        pytest.param("department", 0, "", id="department-zero"),
        pytest.param("department", 1 << 32, "", id="department-too-large"),
        pytest.param("admin", None, "x" * 201, id="label-too-long"),
    ],
)
def test_issue_refuses_bad_requests(
    store: TokenStore, role: str, department_id: int | None, label: str
) -> None:
    with pytest.raises(ValidationError):
        store.issue(role, department_id, label=label)  # type: ignore[arg-type]
    assert store.tokens() == []


def test_tokens_survive_reopening(db_path: Path) -> None:
    with ServiceDatabase(db_path) as database:
        issued = TokenStore(database).issue("department", 5)
    with ServiceDatabase(db_path) as database:
        assert TokenStore(database).authenticate(issued.secret) == issued.record


def test_database_holds_a_digest_not_the_secret(db_path: Path) -> None:
    with ServiceDatabase(db_path) as database:
        store = TokenStore(database)
        issued = [store.issue("admin"), store.issue("department", 3)]
        files = [db_path, db_path.with_name(db_path.name + "-wal")]
        on_disk = b"".join(path.read_bytes() for path in files if path.exists())
        for token in issued:
            _, token_id, secret = parts(token.secret)
            # The id is there (the scan reads the data), the digest is there, the secret is not.
            assert token_id.encode() in on_disk
            assert hashlib.sha256(secret.encode()).digest() in on_disk
            assert secret.encode() not in on_disk
            assert token.secret.encode() not in on_disk
    on_disk = b"".join(path.read_bytes() for path in files if path.exists())
    for token in issued:
        assert parts(token.secret)[2].encode() not in on_disk


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("gla_0123456789abcdef_x", True),
        ("gld_anything", True),
        ("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.sig", False),
        ("gl_x", False),
        ("GLD_x", False),
        ("", False),
    ],
)
def test_looks_like_token(value: str, expected: bool) -> None:
    assert looks_like_token(value) is expected
