"""ledger/chain/keys.py: a key is written private (never readable by others) and unlocks again."""

from __future__ import annotations

from pathlib import Path

from ledger.chain.keys import Keystore
from ledger.files import TEMPORARY_SUFFIX


def test_a_keystore_key_is_written_private_and_unlocks(tmp_path: Path) -> None:
    keystore = Keystore(tmp_path / "keys", "a password")
    account = keystore.create_department_key(7)
    (record,) = keystore.department_keys(7)
    assert record.address == account.address
    assert record.path.stat().st_mode & 0o777 == 0o600
    assert not [p for p in (tmp_path / "keys").iterdir() if p.name.endswith(TEMPORARY_SUFFIX)]
    assert Keystore(tmp_path / "keys", "a password").unlock(account.address).key == account.key
