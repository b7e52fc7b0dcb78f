"""What every contract shares: its version on chain, and the packed-word layout of
contracts/utils/RecordLayout.sol that the Python encoders must agree with."""

from __future__ import annotations

from tests.contracts.conftest import Chain

#: The version every contract of this repository reports (``VERSION()`` in each interface).
CONTRACT_VERSION = "1.0.0"


def test_every_contract_reports_its_version(chain: Chain) -> None:
    bundles = chain.deploy("LicenceBundles", chain.registry.address, chain.certificates.address)
    for contract in (chain.registry, chain.certificates, chain.credit, bundles):
        assert contract.functions.VERSION().call() == CONTRACT_VERSION
