"""Verification of certificates and bundles against the chain (the checks: docs/architecture.md).

One algorithm serves the API, the web page and ``ledger verify`` (which may talk straight to a
node). The modules, split by what each checks:

- :mod:`~ledger.verification.report`: the report, its checks and verdict, and its builder;
- :mod:`~ledger.verification.document`: a presented document or a bare hash (the anchor's checks);
- :mod:`~ledger.verification.stored_copy`: ``storage.copy``, the copy the anchor names;
- :mod:`~ledger.verification.timing`: the checks that depend on the moment, and refreshing a
  report computed earlier;
- :mod:`~ledger.verification.bundle`: a joint licensing bundle;
- :mod:`~ledger.verification.nodes`: the agreement of several chain nodes.

What other packages may import is listed in ``__all__`` below.
"""

from ledger.verification.bundle import verify_bundle
from ledger.verification.document import AnchorOptions, VerifyOptions, verify_document, verify_hash
from ledger.verification.nodes import agree
from ledger.verification.report import (
    BundlePartReport,
    Check,
    CheckName,
    Outcome,
    Verdict,
    VerificationReport,
)
from ledger.verification.stored_copy import anchored_cid
from ledger.verification.timing import refresh_report

__all__ = [
    "AnchorOptions",
    "BundlePartReport",
    "Check",
    "CheckName",
    "Outcome",
    "Verdict",
    "VerificationReport",
    "VerifyOptions",
    "agree",
    "anchored_cid",
    "refresh_report",
    "verify_bundle",
    "verify_document",
    "verify_hash",
]
