"""The client of ``DepartmentRegistry``: governance's writes (accredit, scopes, signing keys,
suspension, supervisor) and the accreditation reads every other check relies on.

It builds the calls of the writes (sending them is the caller's: :mod:`ledger.writes.departments`
prepares the ones the CLI and the service make) and reads; the values it returns are in
:mod:`ledger.contracts.values`. Who may do what is decided by the contract (and mirrored
for early refusals in :mod:`ledger.authorization`), not here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from eth_typing import ChecksumAddress
from web3.contract.contract import ContractFunction
from web3.types import BlockIdentifier

from ledger.chain.transactions import rpc_guard
from ledger.contracts.context import ChainContext
from ledger.contracts.deployment import contract
from ledger.contracts.values import (
    Department,
    SignerKey,
    _bytes32,
    _seconds,
    _time,
)

__all__ = ["DepartmentRegistryClient"]


class DepartmentRegistryClient:
    """Governance operations and accreditation queries."""

    def __init__(self, context: ChainContext) -> None:
        self.context = context
        self.contract = contract(
            context.web3, "DepartmentRegistry", context.deployment.department_registry
        )

    def version(self) -> str:
        """The contract's ``VERSION()`` (semantic versioning): which version of the contract this
        client talks to."""
        return str(rpc_guard(lambda: self.contract.functions.VERSION().call()))

    def register(
        self, department_id: int, region: int, name_hash: bytes, scopes: Sequence[int]
    ) -> ContractFunction:
        """The call that accredits a department for ``scopes`` in ``region``."""
        return self.contract.functions.registerDepartment(
            department_id, region, _bytes32(name_hash, "name hash"), list(scopes)
        )

    def grant_scopes(self, department_id: int, scopes: Sequence[int]) -> ContractFunction:
        """The call that grants further scopes."""
        return self.contract.functions.grantScopes(department_id, list(scopes))

    def revoke_scopes(self, department_id: int, scopes: Sequence[int]) -> ContractFunction:
        """The call that withdraws scopes."""
        return self.contract.functions.revokeScopes(department_id, list(scopes))

    def add_signer(
        self,
        department_id: int,
        signer: ChecksumAddress,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
    ) -> ContractFunction:
        """The call that adds a signing key with an optional validity window."""
        return self.contract.functions.addSigner(
            department_id, signer, _seconds(valid_from), _seconds(valid_until)
        )

    def retire_signer(self, signer: ChecksumAddress) -> ContractFunction:
        """The call that retires a key now."""
        return self.contract.functions.retireSigner(signer)

    def rotate_signer(
        self, old: ChecksumAddress, new: ChecksumAddress, valid_until: datetime | None = None
    ) -> ContractFunction:
        """The call that replaces ``old`` by ``new`` from now on."""
        return self.contract.functions.rotateSigner(old, new, _seconds(valid_until))

    def suspend(self, department_id: int) -> ContractFunction:
        """The call that suspends a department."""
        return self.contract.functions.suspendDepartment(department_id)

    def reinstate(self, department_id: int) -> ContractFunction:
        """The call that lifts a suspension."""
        return self.contract.functions.reinstateDepartment(department_id)

    def set_supervisor(self, department_id: int, supervisor: int) -> ContractFunction:
        """The call that names the supervising or successor department (0 clears it)."""
        return self.contract.functions.setSupervisor(department_id, supervisor)

    def department(self, department_id: int) -> Department | None:
        """The department, or None when unknown."""
        raw, name_hash = rpc_guard(
            lambda: self.contract.functions.departmentOf(department_id).call()
        )
        region, supervisor, registered_at, suspended, scope_count, signer_count = raw
        if registered_at == 0:
            return None
        return Department(
            department_id=department_id,
            region=region,
            supervisor=supervisor,
            registered_at=_time(registered_at),
            suspended=suspended,
            scope_count=scope_count,
            signer_count=signer_count,
            name_hash=bytes(name_hash),
        )

    def department_ids(self) -> list[int]:
        """Every registered department, from the registry's events."""
        events = rpc_guard(
            lambda: self.contract.events.DepartmentRegistered.get_logs(
                from_block=self.context.deployment.block
            )
        )
        return sorted({int(event["args"]["departmentId"]) for event in events})

    def scopes(self, department_id: int) -> list[int]:
        """Scopes held now."""
        return sorted(rpc_guard(lambda: self.contract.functions.scopesOf(department_id).call()))

    def signers(self, department_id: int) -> list[ChecksumAddress]:
        """Unretired keys."""
        return list(rpc_guard(lambda: self.contract.functions.signersOf(department_id).call()))

    def signer_key(self, signer: ChecksumAddress) -> SignerKey | None:
        """A key's record, or None when unknown."""
        department_id, valid_from, valid_until, _retired_early = rpc_guard(
            lambda: self.contract.functions.signerKey(signer).call()
        )
        if department_id == 0:
            return None
        return SignerKey(signer, department_id, _time(valid_from), _time(valid_until))

    def is_department_authorized(
        self,
        department_id: int,
        scope: int,
        region: int,
        moment: datetime,
        *,
        block: BlockIdentifier = "latest",
    ) -> bool:
        """Whether the department held ``scope`` in ``region`` at ``moment``, unsuspended."""
        return bool(
            rpc_guard(
                lambda: self.contract.functions.isDepartmentAuthorized(
                    department_id, scope, region, _seconds(moment)
                ).call(block_identifier=block)
            )
        )
