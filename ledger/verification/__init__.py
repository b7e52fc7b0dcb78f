"""Verification of certificates and bundles against the chain (the checks: docs/architecture.md).

One algorithm serves the API, the web page and ``ledger verify``. What other packages may import
is listed in ``__all__`` below.
"""

from ledger.verification.document import (
    BundlePartReport,
    Check,
    CheckName,
    Outcome,
    Verdict,
    VerificationReport,
    agree,
    anchored_cid,
    refresh_report,
    verify_bundle,
    verify_document,
    verify_hash,
)

__all__ = [
    "BundlePartReport",
    "Check",
    "CheckName",
    "Outcome",
    "Verdict",
    "VerificationReport",
    "agree",
    "anchored_cid",
    "refresh_report",
    "verify_bundle",
    "verify_document",
    "verify_hash",
]
