"""tests.support.anvil: a real anvil node from node_modules (needs `npm ci`)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from eth_account import Account
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import ContractCustomError
from web3.types import Wei

from ledger.compile import compile_contracts
from tests.support.anvil import (
    CHAIN_ID,
    DEV_ACCOUNT,
    DEV_PRIVATE_KEY,
    AnvilError,
    AnvilNode,
    anvil_binary,
    start_anvil,
)
from tests.support.fixtures import anvil  # noqa: F401  (pytest fixture)

pytestmark = pytest.mark.anvil

ROOT = Path(__file__).resolve().parents[2]
RECIPIENT = Web3.to_checksum_address("0x000000000000000000000000000000000000beef")
SENDER = Web3.to_checksum_address(DEV_ACCOUNT)


def _web3(node: AnvilNode) -> Web3:
    w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 10}))
    assert w3.is_connected()
    return w3


def _send_value(w3: Web3, value: int) -> HexBytes:
    """A signed transfer from the first dev account; returns the tx hash once mined."""
    tx = {
        "to": RECIPIENT,
        "value": value,
        "gas": 21_000,
        "maxFeePerGas": 10**10,
        "maxPriorityFeePerGas": 1,
        "nonce": w3.eth.get_transaction_count(SENDER),
        "chainId": CHAIN_ID,
        "type": 2,
    }
    signed = Account.sign_transaction(tx, DEV_PRIVATE_KEY)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=10)
    assert receipt["status"] == 1
    return tx_hash


def _wait_for_dump(state_file: Path, block: int, timeout: float = 10.0) -> None:
    """Until anvil's periodic dump holds ``block`` (it writes every second)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            saved = json.loads(state_file.read_text())["best_block_number"]
        except (OSError, ValueError, KeyError):
            saved = None
        if saved is not None and int(str(saved), 0) >= block:
            return
        time.sleep(0.1)
    raise AssertionError(f"{state_file} never reached block {block}")


def test_binary_is_the_pinned_version() -> None:
    binary = anvil_binary()
    assert binary.parts[-4:] == ("@foundry-rs", "anvil-linux-amd64", "bin", "anvil")
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("anvil Version: 1.7.1\n")


def test_start_answers_and_stops(tmp_path: Path) -> None:
    with start_anvil(log_path=tmp_path / "anvil.log") as node:
        assert node.url.startswith("http://127.0.0.1:")
        assert int(node.rpc("eth_chainId"), 16) == CHAIN_ID
        assert int(node.rpc("eth_blockNumber"), 16) == 0
        pid = node.pid
    assert not node.alive()
    assert node.process.returncode is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_cleanup_on_exception(tmp_path: Path) -> None:
    with (
        pytest.raises(RuntimeError, match="boom"),
        start_anvil(log_path=tmp_path / "anvil.log") as node,
    ):
        raise RuntimeError("boom")
    assert not node.alive()


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with start_anvil(log_path=tmp_path / "a.log") as first:
        with (
            pytest.raises(AnvilError, match="log tail"),
            start_anvil(port=first.port, log_path=tmp_path / "b.log", timeout=10),
        ):
            pass
        assert first.alive()


def test_transaction_from_dev_account(anvil: AnvilNode) -> None:  # noqa: F811
    w3 = _web3(anvil)
    assert w3.eth.chain_id == CHAIN_ID
    assert w3.eth.block_number == 0
    _send_value(w3, 10**18)
    assert w3.eth.block_number == 1
    assert w3.eth.get_balance(RECIPIENT) == 10**18
    # The unlocked dev accounts also sign through eth_sendTransaction.
    tx_hash = w3.eth.send_transaction({"from": SENDER, "to": RECIPIENT, "value": Wei(5)})
    assert w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1
    assert w3.eth.get_balance(RECIPIENT) == 10**18 + 5


def test_cancun_bytecode_from_ledger_compile_runs(anvil: AnvilNode) -> None:  # noqa: F811
    artifact = compile_contracts(ROOT, contracts_dir=ROOT / "tests/fixtures/contracts")["Counter"]
    w3 = _web3(anvil)
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    receipt = w3.eth.wait_for_transaction_receipt(
        factory.constructor(2).transact({"from": DEV_ACCOUNT})
    )
    counter = w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi)
    w3.eth.wait_for_transaction_receipt(
        counter.functions.increment(2).transact({"from": DEV_ACCOUNT})
    )
    assert counter.functions.value().call() == 2
    # Same runtime code size (the immutables are filled in at deployment, so not the same bytes).
    assert len(w3.eth.get_code(counter.address)) == len(
        bytes.fromhex(artifact.deployed_bytecode[2:])
    )
    with pytest.raises(ContractCustomError) as caught:  # the custom error comes with its data
        counter.functions.increment(1).call({"from": DEV_ACCOUNT})
    selector = Web3.keccak(text="CounterLimitReached(uint256)")[:4].hex()
    assert str(caught.value.data).removeprefix("0x").startswith(selector.removeprefix("0x"))


def test_state_survives_kill_9(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    with start_anvil(state_file, log_path=tmp_path / "first.log") as node:
        w3 = _web3(node)
        tx_hashes = [_send_value(w3, 10**18) for _ in range(3)]
        block = w3.eth.block_number
        assert block == 3
        _wait_for_dump(state_file, block)
        node.kill()
        assert node.process.returncode == -9

    with start_anvil(state_file, log_path=tmp_path / "second.log") as node:
        w3 = _web3(node)
        assert w3.eth.block_number == 3
        assert w3.eth.get_balance(RECIPIENT) == 3 * 10**18
        assert w3.eth.get_transaction_count(SENDER) == 3
        for number, tx_hash in enumerate(tx_hashes, start=1):
            assert w3.eth.get_transaction_receipt(tx_hash)["blockNumber"] == number
        # --preserve-historical-states: past states answer after the restart too.
        assert w3.eth.get_balance(RECIPIENT, block_identifier=1) == 10**18
        # And the chain goes on from there.
        _send_value(w3, 1)
        assert w3.eth.block_number == 4


def test_graceful_stop_dumps_state(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    with start_anvil(state_file, log_path=tmp_path / "first.log") as node:
        _send_value(_web3(node), 7)
        node.stop()  # right away: the final dump on SIGTERM holds block 1
        assert node.process.returncode == 0
    with start_anvil(state_file, log_path=tmp_path / "second.log") as node:
        w3 = _web3(node)
        assert w3.eth.block_number == 1
        assert w3.eth.get_balance(RECIPIENT) == 7


def test_torn_state_file_is_refused_before_start(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    state_file.write_text('{"block": {"number": "0x1"')
    with pytest.raises(AnvilError, match="torn"), start_anvil(state_file):
        pass
