"""What the window's routes share: the consent a window acts under, and the entry each of its
acts adds to the applicant's access log (查询记录, ADR 0028).

The routes are ``api/routes/consents.py`` (redeeming a code), ``api/routes/window.py`` (the
check, stored copies) and ``api/routes/window_uploads.py`` (a document handed over, a forgery).
The rules are the ledger's (:mod:`ledger.service.consents`, :mod:`ledger.service.access_log`);
here is only their use by a department's window: its department must not be suspended, and its
entries name it and its window (the token's label).
"""

from __future__ import annotations

from collections.abc import Sequence

from api.deps import department_for_write
from api.security import DepartmentCaller
from api.service import Service
from ledger.service.access_log import AccessAction
from ledger.service.consents import ConsentRecord

__all__ = ["live_consent", "log_window_act", "redeem_code"]


async def log_window_act(
    service: Service,
    caller: DepartmentCaller,
    consent: ConsentRecord,
    action: AccessAction,
    records: Sequence[str] = (),
) -> None:
    """The applicant's access-log entry of one act of the caller's window under ``consent``:
    this department, its window, the consent's service and what was read or recorded."""
    await service.offload(
        lambda: service.access_log.record(
            consent.subject_ref,
            action,
            department_id=caller.department_id,
            window=caller.label,
            service=consent.service,
            records=records,
        )
    )


async def redeem_code(service: Service, caller: DepartmentCaller, code: str) -> ConsentRecord:
    """Take the consent coded ``code`` for the caller's window (one use counted; refused while
    governance has the department suspended), logged ``consent.used``."""
    await service.read(lambda: department_for_write(service.session, caller))
    consent = await service.offload(lambda: service.consents.redeem(caller.department_id, code))
    await log_window_act(service, caller, consent, "consent.used")
    return consent


async def live_consent(
    service: Service, caller: DepartmentCaller, consent_id: str
) -> ConsentRecord:
    """The consent ``consent_id`` if the caller's window may act under it now: its department
    is not suspended, and the consent is this department's, redeemed, not revoked or expired
    (403 with the refusal's own code otherwise)."""
    await service.read(lambda: department_for_write(service.session, caller))
    return await service.offload(lambda: service.consents.live(caller.department_id, consent_id))
