"""What every contract shares: its version on chain (read raw and through each client), and the
terms layout of contracts/utils/RecordLayout.sol that the Python encoders must agree with."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import pytest
from hexbytes import HexBytes

from ledger import catalogue
from ledger.contracts import (
    AccessLogAnchorsClient,
    CertificateRegistryClient,
    ChainContext,
    CreditLedgerClient,
    DepartmentRegistryClient,
    Deployment,
    LicenceBundlesClient,
    Polarity,
    layout,
)
from tests.contracts.conftest import Chain

#: The version every contract of this repository reports (``VERSION()`` in each interface).
CONTRACT_VERSION: Final = "1.0.0"
RECORD_LAYOUT: Final = Path(__file__).resolve().parents[2] / "contracts/utils/RecordLayout.sol"
#: The first and the last second a terms word can carry (the clients refuse 0 and 2**40 - 1).
FIRST_SECOND: Final = datetime.fromtimestamp(1, UTC)
LAST_SECOND: Final = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


def solidity_constants() -> dict[str, int]:
    """The file-level ``uint256 constant NAME = VALUE;`` declarations of RecordLayout.sol."""
    source = RECORD_LAYOUT.read_text(encoding="utf-8")
    found = re.findall(r"^uint256 constant (\w+) = (\d+);$", source, flags=re.MULTILINE)
    return {name: int(value) for name, value in found}


def test_python_terms_offsets_are_the_solidity_ones() -> None:
    solidity = solidity_constants()
    assert len(solidity) >= len(layout.__all__)
    for name in layout.__all__:
        assert getattr(layout, name) == solidity[name], name
    assert solidity["SCOPE_KIND_SHIFT"] == catalogue.SCOPE_KIND_SHIFT


@pytest.mark.parametrize(
    ("cert_type", "region", "expires_at"),
    [
        (1, 100_000, None),
        (2**32 - 1, 999_999, LAST_SECOND),
        (0x0100_0001, 110_101, FIRST_SECOND),
        (2**31, 500_000, LAST_SECOND),
    ],
)
def test_certificate_terms_at_the_field_boundaries(
    module_chain: Chain, cert_type: int, region: int, expires_at: datetime | None
) -> None:
    seconds = 0 if expires_at is None else int(expires_at.timestamp())
    on_chain = module_chain.certificates.functions.encodeTerms(cert_type, region, seconds).call()
    assert CertificateRegistryClient.encode_terms(cert_type, region, expires_at) == on_chain


@pytest.mark.parametrize(
    ("category", "polarity", "severity", "occurred_at"),
    [
        (1, Polarity.NEGATIVE, 0, FIRST_SECOND),
        (2**32 - 1, Polarity.POSITIVE, 255, LAST_SECOND),
        (0x0200_0001, Polarity.POSITIVE, 1, FIRST_SECOND),
        (2**31, Polarity.NEGATIVE, 5, LAST_SECOND),
    ],
)
def test_credit_terms_at_the_field_boundaries(
    module_chain: Chain,
    category: int,
    polarity: Polarity,
    severity: int,
    occurred_at: datetime,
) -> None:
    on_chain = module_chain.credit.functions.encodeTerms(
        category, int(polarity), severity, int(occurred_at.timestamp())
    ).call()
    assert CreditLedgerClient.encode_terms(category, polarity, severity, occurred_at) == on_chain


def test_every_contract_reports_its_version(chain: Chain) -> None:
    bundles = chain.deploy("LicenceBundles", chain.registry.address, chain.certificates.address)
    anchors = chain.deploy("AccessLogAnchors", chain.governance)
    for contract in (chain.registry, chain.certificates, chain.credit, bundles, anchors):
        assert contract.functions.VERSION().call() == CONTRACT_VERSION
    context = ChainContext(
        chain.w3,
        Deployment(
            chain_id=chain.w3.eth.chain_id,
            department_registry=chain.registry.address,
            certificate_registry=chain.certificates.address,
            credit_ledger=chain.credit.address,
            block=0,
            genesis_hash=HexBytes(chain.w3.eth.get_block(0)["hash"]).to_0x_hex(),
            licence_bundles=bundles.address,
            access_log=anchors.address,
        ),
    )
    clients = (
        DepartmentRegistryClient(context),
        CertificateRegistryClient(context),
        CreditLedgerClient(context),
        LicenceBundlesClient(context),
        AccessLogAnchorsClient(context),
    )
    assert [client.version() for client in clients] == [CONTRACT_VERSION] * 5
