"""Verification of a joint licensing bundle (ADR 0011, ADR 0019): the bundle exists, every part
it requires is filed, and each filed certificate verifies on its own and is held by the bundle's
enterprise.

Each part's certificate is verified by :func:`ledger.verification.document.verify_hash`; only
what is the bundle's own (``anchor.exists`` of the bundle, ``bundle.parts``, the finality of the
latest filing) is decided here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Unpack

from ledger.contracts import (
    Bundle,
    CertificateRecord,
    CertificateRegistryClient,
    ChainContext,
    LicenceBundlesClient,
)
from ledger.errors import LedgerError, NotDeployedError
from ledger.parsing import deadline_day
from ledger.verification.document import VerifyOptions, verify_hash
from ledger.verification.report import (
    BUNDLE_KIND,
    BundlePartReport,
    CheckName,
    Outcome,
    ReportBuilder,
    VerificationReport,
)

__all__ = ["verify_bundle"]


def verify_bundle(
    bundle_id: bytes, context: ChainContext, **options: Unpack[VerifyOptions]
) -> VerificationReport:
    """Verify a joint licensing bundle (ADR 0011): it exists, every part it requires is filed,
    and each filed certificate verifies on its own (accredited issuer, active, in its dates,
    stored copy). ``bundle.parts`` names every part that is missing or whose certificate is
    INVALID, with the part's failing checks; each part's full report is in ``parts``.

    ``finality.confirmations`` counts from the latest filing. The bundle contract's own
    ``isComplete`` must agree: a bundle it reports incomplete is never VALID.
    """
    report = ReportBuilder()
    moment = options.get("now") or datetime.now(UTC)
    _skip_per_part_checks(report)

    def finish(parts: tuple[BundlePartReport, ...] = ()) -> VerificationReport:
        return report.finish(bundle_id, BUNDLE_KIND, moment, None, parts)

    try:
        bundles = LicenceBundlesClient(context)
    except NotDeployedError as exc:
        report.add(CheckName.ANCHORED, Outcome.FAILED, str(exc))
        return finish()
    head = report.read(CheckName.ANCHORED, lambda: int(context.web3.eth.block_number))
    if head is None:
        return finish()
    bundle = report.read(CheckName.ANCHORED, lambda: bundles.bundle(bundle_id, block=head))
    if CheckName.ANCHORED in report.checks:  # the read failed
        return finish()
    if bundle is None:
        report.add(CheckName.ANCHORED, Outcome.FAILED, "no bundle with this id")
        return finish()
    report.add(
        CheckName.ANCHORED,
        Outcome.PASSED,
        f"bundle opened by department {bundle.lead} at {bundle.opened_at.isoformat()}: "
        f"{len(bundle.parts)} part(s) due by {deadline_day(bundle.deadline).isoformat()} "
        "(China time)",
    )

    # Every part is judged at the bundle's moment.
    part_options: VerifyOptions = {**options, "now": moment}
    parts, problems = _verify_parts(bundle, context, moment, part_options)
    _check_complete(report, bundles, bundle_id, bundle, head, problems)
    _check_finality(report, bundles, bundle_id, head, options.get("confirmations", 0))
    return finish(tuple(parts))


def _skip_per_part_checks(report: ReportBuilder) -> None:
    """The checks a bundle does not answer itself: no document or hash was presented, and
    what a certificate is checked for is checked for each part (``bundle.parts``)."""
    for name in (CheckName.PARSED, CheckName.HASH):
        report.add(name, Outcome.NOT_APPLICABLE, "a bundle id was presented")
    report.add(CheckName.MERKLE, Outcome.NOT_APPLICABLE, "a bundle: each part is checked itself")
    report.add(CheckName.AGREEMENT, Outcome.NOT_APPLICABLE, "one node asked")
    for name in (CheckName.ACCREDITED, CheckName.STATUS, CheckName.DATES, CheckName.STORED_COPY):
        report.add(name, Outcome.NOT_APPLICABLE, "checked for each part (bundle.parts)")


def _check_complete(
    report: ReportBuilder,
    bundles: LicenceBundlesClient,
    bundle_id: bytes,
    bundle: Bundle,
    head: int,
    problems: list[str],
) -> None:
    """``bundle.parts``: the parts' ``problems``, else the bundle contract's own
    ``isComplete``, which must agree."""
    complete = report.read(CheckName.BUNDLE, lambda: bundles.is_complete(bundle_id, block=head))
    if complete is None:
        return
    if problems:
        report.add(CheckName.BUNDLE, Outcome.FAILED, "; ".join(problems))
    elif not complete:
        report.add(CheckName.BUNDLE, Outcome.FAILED, "the bundle contract reports it incomplete")
    else:
        report.add(
            CheckName.BUNDLE,
            Outcome.PASSED,
            f"all {len(bundle.parts)} part(s) filed, each certificate VALID",
        )


def _check_finality(
    report: ReportBuilder,
    bundles: LicenceBundlesClient,
    bundle_id: bytes,
    head: int,
    confirmations: int,
) -> None:
    """``finality.confirmations``, counted from the latest filing."""
    last = report.read(CheckName.FINALITY, lambda: bundles.last_filing_block(bundle_id, until=head))
    if CheckName.FINALITY in report.checks:  # the read failed
        return
    if last is None:
        report.add(CheckName.FINALITY, Outcome.NOT_APPLICABLE, "no part filed")
        return
    depth = head - last + 1
    report.add(
        CheckName.FINALITY,
        Outcome.PASSED if depth >= confirmations else Outcome.FAILED,
        f"{depth} confirmation(s) since the latest filing, {confirmations} required",
    )


def _verify_parts(
    bundle: Bundle, context: ChainContext, moment: datetime, options: VerifyOptions
) -> tuple[list[BundlePartReport], list[str]]:
    """Each part's report, and what makes ``bundle.parts`` fail: a part not filed, a filed
    certificate INVALID, or one held by someone else than the bundle's enterprise."""
    parts: list[BundlePartReport] = []
    problems: list[str] = []
    for index, part in enumerate(bundle.parts):
        label = part.label(index)
        if part.doc_hash is None:
            late = "the deadline has passed" if moment > bundle.deadline else "not yet"
            problems.append(f"{label} is not filed ({late})")
            parts.append(BundlePartReport(index, part.department_id, part.cert_type, None, None))
            continue
        filed = verify_hash(part.doc_hash, context, **options)
        parts.append(
            BundlePartReport(index, part.department_id, part.cert_type, part.doc_hash, filed)
        )
        # A filing is never older than its certificate's anchor: the bundle's own finality
        # check (verify_bundle) covers the parts' (so it is not reported twice).
        failures = [c for c in filed.failures if c.name is not CheckName.FINALITY]
        if failures:
            why = "; ".join(f"{c.name.value}: {c.detail}" for c in failures)
            problems.append(f"{label} 0x{part.doc_hash.hex()} is INVALID ({why})")
        if filed.record is not None:
            # The bundle contract cannot read a certificate's holder (ADR 0019): it is compared
            # here, from the anchoring event, so a part filed around the library still fails.
            holder = _part_holder_problem(bundle, filed.record, context)
            if holder is not None:
                problems.append(f"{label} 0x{part.doc_hash.hex()}: {holder}")
    return parts, problems


def _part_holder_problem(
    bundle: Bundle, record: CertificateRecord, context: ChainContext
) -> str | None:
    """Why the certificate filed as a part is not the bundle enterprise's (None: it is): the
    subject reference of its ``CertificateAnchoredFor`` event against the bundle's own."""
    try:
        anchored = CertificateRegistryClient(context).anchored_for(record)
    except LedgerError as exc:
        return f"its holder could not be read: chain read failed: {exc}"
    return bundle.holder_problem(None if anchored is None else anchored[0])
