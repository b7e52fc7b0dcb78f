"""Typed clients for the five ledger contracts, their value types, and their deployment.

The clients turn Python values (``datetime``, enums, ``bytes``) into the contracts' packed
arguments and back, send writes through a
:class:`~ledger.chain.transactions.TransactionSender`, and raise the decoded :mod:`ledger.errors`
class when a contract refuses. Reads need no sender.

One module a concern: :mod:`~ledger.contracts.values` (enums, records, packing helpers),
:mod:`~ledger.contracts.deployment` (where the contracts live, deploying them),
:mod:`~ledger.contracts.context` (what a client is built from), one module a contract
(:mod:`~ledger.contracts.departments`, :mod:`~ledger.contracts.certificates`,
:mod:`~ledger.contracts.credit`, :mod:`~ledger.contracts.bundles`,
:mod:`~ledger.contracts.access_log`), and
:mod:`~ledger.contracts.artifacts` (the compiled ABI and bytecode, read without the compiler).
Other packages import from here, not from the modules; ``artifacts`` is the exception, its own
API for the build tool and the transaction layer.
"""

from __future__ import annotations

from ledger.contracts.access_log import AccessLogAnchor, AccessLogAnchorsClient
from ledger.contracts.bundles import Bundle, BundlePart, LicenceBundlesClient
from ledger.contracts.certificates import CertificateRegistryClient
from ledger.contracts.context import ChainContext
from ledger.contracts.credit import CreditLedgerClient
from ledger.contracts.departments import DepartmentRegistryClient
from ledger.contracts.deployment import (
    FUNDING_AMOUNT,
    Deployment,
    contract,
    deploy,
    deploy_access_log,
    deploy_bundles,
    load_deployment,
    save_deployment,
)
from ledger.contracts.values import (
    Amendment,
    CertificateRecord,
    CertificateStatus,
    CreditEvent,
    Department,
    LeafStatus,
    Polarity,
    RecordKind,
    SignerKey,
)

__all__ = [
    "FUNDING_AMOUNT",
    "AccessLogAnchor",
    "AccessLogAnchorsClient",
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
    "deploy_access_log",
    "deploy_bundles",
    "load_deployment",
    "save_deployment",
]
