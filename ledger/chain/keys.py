"""Signing keys at rest: Web3 Secret Storage (scrypt + AES-128-CTR) keystores in the data directory.

Each key is one JSON keystore file under ``DATA_DIR/keys/``, named for its role: ``governance``
(the registry's owner) or ``department-<id>-<address>`` (a department's signing key). Files are
written atomically with mode 0600 and never overwritten; a rotated-out key stays on disk, because
records it signed remain valid and an audit may need to show which key that was.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address

from ledger.errors import ConfigurationError, UnknownKeyError
from ledger.files import atomic_file

__all__ = ["KeyRecord", "Keystore"]

_GOVERNANCE: Final = "governance"
_DEPARTMENT: Final = re.compile(r"^department-(\d+)-(0x[0-9a-fA-F]{40})$")
#: scrypt cost; the eth-account default (2**18) takes about a second per unlock.
_SCRYPT_N: Final = 2**14


@dataclass(frozen=True)
class KeyRecord:
    """One stored key: its role and address (the private key stays encrypted)."""

    role: str
    address: ChecksumAddress
    department_id: int | None
    path: Path


class Keystore:
    """The encrypted keys of one deployment."""

    def __init__(self, directory: Path, password: str) -> None:
        self.directory = directory
        self._password = password
        self._unlocked: dict[ChecksumAddress, LocalAccount] = {}

    def records(self) -> list[KeyRecord]:
        """Every key on disk, governance first, then departments by id."""
        found: list[KeyRecord] = []
        if not self.directory.is_dir():
            return found
        for path in sorted(self.directory.glob("*.json")):
            role = path.stem
            if role == _GOVERNANCE:
                found.append(KeyRecord(role, self._address_of(path), None, path))
            elif match := _DEPARTMENT.match(role):
                found.append(KeyRecord(role, to_checksum_address(match[2]), int(match[1]), path))
        return sorted(found, key=lambda r: (r.department_id is not None, r.department_id or 0))

    def has_governance(self) -> bool:
        """Whether a governance key exists."""
        return (self.directory / f"{_GOVERNANCE}.json").exists()

    def create_governance(self) -> LocalAccount:
        """Create the governance key (once)."""
        return self._create(_GOVERNANCE)

    def governance(self) -> LocalAccount:
        """Unlock the governance key."""
        path = self.directory / f"{_GOVERNANCE}.json"
        if not path.exists():
            raise UnknownKeyError("no governance key in this data directory; run `ledger init`")
        return self._unlock(path)

    def create_department_key(self, department_id: int) -> LocalAccount:
        """Create a new signing key for a department."""
        account: LocalAccount = Account.create()
        self._write(f"department-{department_id}-{account.address}", account)
        self._unlocked[account.address] = account
        return account

    def department_keys(self, department_id: int) -> list[KeyRecord]:
        """The department's keys on disk, oldest file first."""
        records = [r for r in self.records() if r.department_id == department_id]
        return sorted(records, key=lambda r: r.path.stat().st_mtime_ns)

    def unlock(self, address: ChecksumAddress) -> LocalAccount:
        """Unlock the key with this address."""
        for record in self.records():
            if record.address == address:
                return self._unlock(record.path)
        raise UnknownKeyError("no key with this address in the keystore")

    def _create(self, role: str) -> LocalAccount:
        if (self.directory / f"{role}.json").exists():
            raise ConfigurationError(f"a {role} key already exists")
        account: LocalAccount = Account.create()
        self._write(role, account)
        self._unlocked[account.address] = account
        return account

    def _write(self, role: str, account: LocalAccount) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        document = Account.encrypt(account.key, self._password, kdf="scrypt", iterations=_SCRYPT_N)
        path = self.directory / f"{role}.json"
        # Exclusive: FileExistsError if the role exists, for keys are never overwritten.
        with atomic_file(path, mode=0o600, exclusive=True) as handle:
            handle.write(json.dumps(document).encode("utf-8"))

    def _unlock(self, path: Path) -> LocalAccount:
        address = self._address_of(path)
        if address in self._unlocked:
            return self._unlocked[address]
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            key = Account.decrypt(document, self._password)
        except ValueError:
            raise ConfigurationError(
                "cannot decrypt a keystore: wrong keystore password or damaged file"
            ) from None
        account: LocalAccount = Account.from_key(key)
        self._unlocked[address] = account
        return account

    @staticmethod
    def _address_of(path: Path) -> ChecksumAddress:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            return to_checksum_address("0x" + str(document["address"]).removeprefix("0x"))
        except (OSError, ValueError, KeyError):
            raise ConfigurationError(f"damaged keystore file {path.name}") from None
