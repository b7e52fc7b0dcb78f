"""A write made ready to send: the one value every use case of :mod:`ledger.writes` returns.

A :class:`PreparedWrite` is the contract call, the key that signs it (:class:`Signer`), the facts
the write's answer reports, and, when the use case stored something before the call (a document's
copy), the :class:`Undo` that takes it back. How it is sent is the caller's choice, and there are
exactly two: the CLI sends it at once with :meth:`ledger.session.LedgerSession.send`; the service
journals it (``api/writes.py``) and its transaction manager sends it
(``ledger/service/transactions.py``). Either way a failure goes through
:meth:`PreparedWrite.failed`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from web3.contract.contract import ContractFunction

from ledger.errors import ChainUnavailableError, LedgerError, ValidationError

__all__ = ["GOVERNANCE", "PreparedWrite", "Signer", "Undo", "settled"]

Facts = TypeVar("Facts")


@dataclass(frozen=True)
class Signer:
    """Who signs a write: a department's current key, or the governance key."""

    #: The department whose current key signs; None for the governance key.
    department_id: int | None = None

    @classmethod
    def department(cls, department_id: int) -> Signer:
        """The current key of ``department_id``."""
        return cls(department_id)

    def to_json(self) -> dict[str, Any]:
        """The journal's form: ``{"department": id}`` or ``{"governance": true}``."""
        if self.department_id is None:
            return {"governance": True}
        return {"department": self.department_id}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Signer:
        """The signer of a journaled operation (the inverse of :meth:`to_json`)."""
        if data.get("governance") is True:
            return GOVERNANCE
        department = data.get("department")
        if isinstance(department, bool) or not isinstance(department, int):
            raise ValidationError("a journaled signer names a department or governance")
        return cls(department)


#: The governance key (registrations, accreditation, key rotation, department suspension).
GOVERNANCE: Final = Signer()


@dataclass(frozen=True)
class Undo:
    """What a use case stored before its call, and how to take it back."""

    #: What was stored, for the note added to a failure (a CID, never personal data).
    what: str
    #: Takes it back.
    action: Callable[[], None]
    #: The same thing may stand for an identical earlier write (a plaintext copy is content
    #: addressed: the same bytes give the same CID): never taken back when this write is
    #: dropped for that earlier one.
    shared: bool = False


def settled(failure: BaseException) -> bool:
    """Whether ``failure`` proves that the call did not land.

    A :class:`~ledger.errors.LedgerError` other than
    :class:`~ledger.errors.ChainUnavailableError` is raised before the transaction is sent
    (simulation, funds, validation) or after it was mined and reverted. Anything else (the node
    stopped answering while the receipt was awaited, an interrupt) leaves its fate open.
    """
    return isinstance(failure, LedgerError) and not isinstance(failure, ChainUnavailableError)


@dataclass(frozen=True)
class PreparedWrite(Generic[Facts]):
    """Every check that can refuse the write has run and what it stores is stored; nothing is on
    chain yet."""

    #: The contract call (built by a client of :mod:`ledger.contracts`, which only builds calls).
    function: ContractFunction
    signer: Signer
    #: What the write's answer reports (the anchored hash, the new bundle's id, ...).
    facts: Facts
    undo: Undo | None = None

    def failed(self, failure: BaseException) -> None:
        """The call (or journaling it) failed with ``failure``: take back what was stored when
        the failure proves nothing landed (ADR 0008), or note on ``failure`` that it was kept,
        since discarding the copy of an anchor that lands after all would leave the chain
        naming a copy nobody can read."""
        if self.undo is None:
            return
        if not settled(failure):
            failure.add_note(f"{self.undo.what} was kept: the transaction may still land")
            return
        try:
            self.undo.action()
        except Exception as cleanup:  # the write's own error is the one to report
            failure.add_note(
                f"taking back {self.undo.what} failed as well: {type(cleanup).__name__}: {cleanup}"
            )

    def dropped(self) -> None:
        """The write is not made, because an identical earlier one stands for it (a concurrent
        duplicate won its idempotency key): take back what only this one stored."""
        if self.undo is not None and not self.undo.shared:
            self.undo.action()
