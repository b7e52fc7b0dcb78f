"""Typed clients for the four ledger contracts, their value types, and their deployment.

Other packages import from here, not from the modules. The clients are in
:mod:`ledger.contracts.certificates` for now, moved there whole from ``ledger/contracts.py`` so
its history follows; the next step splits them into one module a concern.
"""

from __future__ import annotations

from ledger.contracts.certificates import (
    FUNDING_AMOUNT,
    Amendment,
    Bundle,
    BundlePart,
    CertificateRecord,
    CertificateRegistryClient,
    CertificateStatus,
    ChainContext,
    CreditEvent,
    CreditLedgerClient,
    Department,
    DepartmentRegistryClient,
    Deployment,
    LeafStatus,
    LicenceBundlesClient,
    Polarity,
    RecordKind,
    SignerKey,
    contract,
    deploy,
    deploy_bundles,
    load_deployment,
    save_deployment,
)

__all__ = [
    "FUNDING_AMOUNT",
    "Amendment",
    "Bundle",
    "BundlePart",
    "CertificateRecord",
    "CertificateRegistryClient",
    "CertificateStatus",
    "ChainContext",
    "CreditEvent",
    "CreditLedgerClient",
    "Department",
    "DepartmentRegistryClient",
    "Deployment",
    "LeafStatus",
    "LicenceBundlesClient",
    "Polarity",
    "RecordKind",
    "SignerKey",
    "contract",
    "deploy",
    "deploy_bundles",
    "load_deployment",
    "save_deployment",
]
