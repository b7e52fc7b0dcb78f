"""The ledger's writes, each written once: the use cases the CLI and the service share.

A use case checks everything that can refuse the write (authorization first, then existence and
values, ``ledger/authorization.py``), stores what the write stores, and returns a
:class:`~ledger.writes.prepared.PreparedWrite`. It sends nothing: the CLI sends the prepared write
at once (:meth:`ledger.session.LedgerSession.send`), the service journals it (``api/writes.py``).

One module per area: :mod:`~ledger.writes.certificates` (anchor, supersede, suspend, reinstate,
revoke, batches), :mod:`~ledger.writes.departments` (register, accredit a key, rotate, suspend,
reinstate), :mod:`~ledger.writes.credit` (record, amend, resolve, dispute, disclosure periods),
:mod:`~ledger.writes.bundles` (open, file a part), :mod:`~ledger.writes.access_log` (anchor a batch
of the citizens' access log).
"""

from ledger.writes.prepared import GOVERNANCE, PreparedWrite, Signer, Undo, settled

__all__ = ["GOVERNANCE", "PreparedWrite", "Signer", "Undo", "settled"]
