"""The persistent embedded chain: restart, kill -9, directory lock, logs, thread safety."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress, Hash32
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound
from web3.types import FilterParams, Wei

from ledger.chain.embedded import (
    CHAIN_DB_FILENAME,
    DEFAULT_CHAIN_ID,
    EmbeddedChain,
    open_embedded_chain,
)
from ledger.errors import ChainUnavailableError, DataDirectoryLockedError

REPO_ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("embedded_chain_child.py")

# Hand-assembled contract (no Solidity compiler yet). Runtime: without calldata return sload(0);
# otherwise sstore(0, word0), emit LOG2(topic0=keccak("Stored(uint256)"), topic1=word0) and return
# word0. The init code copies the runtime into memory and returns it.
STORE_TOPIC = HexBytes(keccak(text="Stored(uint256)"))
STORE_RUNTIME = (
    bytes.fromhex("36600f5760005460005260206000f3")  # if calldatasize jump; return sload(0)
    + bytes.fromhex("5b60003580600055")  # jumpdest; w = calldataload(0); sstore(0, w)
    + bytes.fromhex("807f")  # dup w; push32 topic
    + STORE_TOPIC
    + bytes.fromhex("60006000a2")  # log2(0, 0, topic, w)
    + bytes.fromhex("60005260206000f3")  # mstore(0, w); return(0, 32)
)
STORE_INITCODE = bytes.fromhex(f"60{len(STORE_RUNTIME):02x}80600b6000396000f3") + STORE_RUNTIME


def word(value: int) -> HexBytes:
    return HexBytes(value.to_bytes(32, "big"))


def deploy_store(w3: Web3, sender: ChecksumAddress) -> ChecksumAddress:
    tx = w3.eth.send_transaction({"from": sender, "data": STORE_INITCODE, "gas": 200_000})
    receipt = w3.eth.get_transaction_receipt(tx)
    assert receipt["status"] == 1
    address = receipt["contractAddress"]
    assert address is not None
    return address


def store(w3: Web3, sender: ChecksumAddress, contract: ChecksumAddress, value: int) -> HexBytes:
    tx = w3.eth.send_transaction(
        {"from": sender, "to": contract, "data": word(value), "gas": 100_000}
    )
    assert w3.eth.get_transaction_receipt(tx)["status"] == 1
    return tx


def send_signed(
    chain: EmbeddedChain, key: LocalAccount, nonce: int, to: ChecksumAddress, data: bytes
) -> HexBytes:
    signed = key.sign_transaction(
        {
            "chainId": chain.chain_id,
            "nonce": nonce,
            "to": to,
            "value": 0,
            "data": data,
            "gas": 100_000,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 10**9,
        }
    )
    tx = chain.web3.eth.send_raw_transaction(signed.raw_transaction)
    assert chain.web3.eth.get_transaction_receipt(tx)["status"] == 1
    return tx


def snapshot(
    w3: Web3, txs: list[HexBytes], senders: list[ChecksumAddress], contract: ChecksumAddress
) -> dict[str, Any]:
    """Everything a restart must keep, as plain comparable values."""
    head = w3.eth.block_number
    return {
        "block_number": head,
        "balances": [w3.eth.get_balance(a) for a in [*senders, contract]],
        "nonces": [w3.eth.get_transaction_count(a) for a in senders],
        "code": w3.eth.get_code(contract),
        "slot0": w3.eth.get_storage_at(contract, 0),
        "slot0_at_3": w3.eth.get_storage_at(contract, 0, block_identifier=3),
        "receipts": [dict(w3.eth.get_transaction_receipt(tx)) for tx in txs],
        "transactions": [dict(w3.eth.get_transaction(tx)) for tx in txs],
        "blocks": [dict(w3.eth.get_block(n)) for n in range(head + 1)],
        "logs": [dict(log) for log in w3.eth.get_logs({"fromBlock": 0, "address": contract})],
    }


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def start_child(*args: str, stdin: int | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), *args],
        stdin=stdin,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        env=child_env(),
    )


def read_line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, f"child exited early with {proc.wait()}"
    return line.strip()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "ledger-data"


@pytest.fixture
def chain(data_dir: Path) -> Iterator[EmbeddedChain]:
    with open_embedded_chain(data_dir) as opened:
        yield opened


def test_first_open_creates_a_private_funded_chain(chain: EmbeddedChain, data_dir: Path) -> None:
    w3 = chain.web3
    assert chain.chain_id == DEFAULT_CHAIN_ID == 1337
    assert w3.eth.chain_id == chain.chain_id  # web3 would otherwise report eth-tester's id
    assert w3.eth.block_number == 0
    assert len(chain.funded_accounts) == 10
    for account in chain.funded_accounts:
        assert w3.eth.get_balance(account.address) == Web3.to_wei(1_000_000, "ether")
    chain_dir = data_dir / "chain"
    assert chain_dir.stat().st_mode & 0o777 == 0o700
    assert (chain_dir / CHAIN_DB_FILENAME).is_file()
    assert w3.eth.get_block("latest")["baseFeePerGas"] is not None  # post-London, Prague VM


def test_restart_keeps_blocks_state_receipts_and_logs(data_dir: Path) -> None:
    newcomer: LocalAccount = Account.create()
    with open_embedded_chain(data_dir) as chain:
        w3 = chain.web3
        dev = chain.funded_accounts[0].address
        contract = deploy_store(w3, dev)
        funding = w3.eth.send_transaction(
            {"from": dev, "to": newcomer.address, "value": Wei(10**18), "gas": 21_000}
        )
        txs = [funding]
        txs += [store(w3, dev, contract, value) for value in (11, 12, 13)]
        txs.append(send_signed(chain, newcomer, 0, contract, word(42)))
        before = snapshot(w3, txs, [dev, newcomer.address], contract)
        latest_timestamp = w3.eth.get_block("latest")["timestamp"]

    assert before["code"] == STORE_RUNTIME
    assert before["slot0"] == word(42)
    assert len(before["logs"]) == 4

    with open_embedded_chain(data_dir) as chain:
        w3 = chain.web3
        assert chain.chain_id == w3.eth.chain_id == DEFAULT_CHAIN_ID
        after = snapshot(w3, txs, [dev, newcomer.address], contract)
        assert after == before
        assert w3.eth.call({"to": contract, "data": b""}) == word(42)

        # The chain goes on: both signing paths, later timestamps, state builds on the old one.
        sent_at = int(time.time())
        store(w3, dev, contract, 99)
        assert w3.eth.get_block("latest")["timestamp"] >= sent_at  # not the time of reopening
        send_signed(chain, newcomer, 1, contract, word(100))
        assert w3.eth.block_number == before["block_number"] + 2
        assert w3.eth.get_storage_at(contract, 0) == word(100)
        timestamps = [w3.eth.get_block(n)["timestamp"] for n in range(w3.eth.block_number + 1)]
        assert timestamps == sorted(set(timestamps))  # strictly increasing
        assert timestamps[-1] > latest_timestamp


def test_logs_with_topic_filter_across_restart(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_embedded_chain(data_dir) as chain:
        w3 = chain.web3
        dev = chain.funded_accounts[0].address
        contract = deploy_store(w3, dev)
        for value in (1, 2, 7, 2, 3):
            store(w3, dev, contract, value)
        matching: FilterParams = {
            "fromBlock": 0,
            "toBlock": "latest",
            "topics": [STORE_TOPIC, word(2)],
        }
        logs = w3.eth.get_logs(matching)
        assert [log["blockNumber"] for log in logs] == [3, 5]
        assert all(log["address"] == contract for log in logs)
        other = HexBytes(keccak(text="Other()"))
        assert w3.eth.get_logs({"fromBlock": 0, "topics": [other]}) == []
        # Every spelling of a topic works (eth-tester alone matches HexBytes topics to nothing).
        spellings: list[FilterParams] = [
            {"fromBlock": 0, "topics": [Hash32(bytes(STORE_TOPIC)), Hash32(bytes(word(2)))]},
            {"fromBlock": 0, "topics": [STORE_TOPIC.to_0x_hex(), word(2).to_0x_hex()]},
        ]
        for params in spellings:
            assert w3.eth.get_logs(params) == logs
        either: FilterParams = {"fromBlock": 0, "topics": [None, [word(2), word(7)]]}
        assert [log["blockNumber"] for log in w3.eth.get_logs(either)] == [3, 4, 5]
        log_filter = w3.eth.filter(matching)
        assert log_filter.get_all_entries() == logs
        assert w3.eth.get_logs({"fromBlock": 0, "address": contract, "topics": [other]}) == []
        assert w3.eth.get_logs({"fromBlock": 0, "address": dev}) == []

    with open_embedded_chain(data_dir) as chain:
        w3 = chain.web3
        fetched: list[bytes] = []
        real_receipt = chain.backend.get_transaction_receipt

        def counting_receipt(tx_hash: bytes) -> Any:
            fetched.append(tx_hash)
            return real_receipt(tx_hash)

        monkeypatch.setattr(chain.backend, "get_transaction_receipt", counting_receipt)
        assert [dict(log) for log in w3.eth.get_logs(matching)] == [dict(log) for log in logs]
        assert len(fetched) == 2  # blocks whose logs bloom cannot match are not read
        store(w3, dev, contract, 2)
        again = w3.eth.get_logs(matching)
        assert [log["blockNumber"] for log in again] == [3, 5, 7]
        window: FilterParams = {"fromBlock": 4, "toBlock": 6, "topics": matching["topics"]}
        assert w3.eth.get_logs(window) == again[1:2]


def test_kill_9_never_loses_a_reported_block(data_dir: Path) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    with open_embedded_chain(data_dir) as chain:
        contract = deploy_store(chain.web3, chain.funded_accounts[0].address)

    reported: list[tuple[int, HexBytes, int]] = []
    for round_number in range(4):
        first_value = (round_number + 1) * 1_000_000
        proc = start_child("send", str(data_dir), contract, str(first_value), "100000")
        try:
            assert read_line(proc).startswith("ready")
            lines = [read_line(proc) for _ in range(rng.randint(1, 25))]
            time.sleep(rng.uniform(0.0, 0.05))  # land anywhere in a transaction or a commit
            proc.send_signal(signal.SIGKILL)
            assert proc.wait(timeout=30) == -signal.SIGKILL
            assert proc.stdout is not None
            lines += proc.stdout.read().splitlines()  # printed before the kill: reported too
        finally:
            proc.kill()
            if proc.stdout is not None:
                proc.stdout.close()
        this_round: list[tuple[int, HexBytes, int]] = []
        for line in lines:
            kind, block_text, hash_text, value_text = line.split()
            assert kind == "mined"
            this_round.append((int(block_text), HexBytes(hash_text), int(value_text)))
        assert [value for _, _, value in this_round] == list(
            range(first_value, first_value + len(this_round))
        )

        with open_embedded_chain(data_dir) as chain:  # opens cleanly after the kill
            w3 = chain.web3
            context = f"round {round_number}, seed {seed}"
            assert w3.eth.block_number >= this_round[-1][0], context
            for block_number, tx_hash, _value in this_round:
                receipt = w3.eth.get_transaction_receipt(tx_hash)
                assert receipt["blockNumber"] == block_number, context
            last_block, _, last_value = this_round[-1]
            assert w3.eth.get_storage_at(contract, 0, block_identifier=last_block) == word(
                last_value
            )
            # What is on chain from this round is a gap-free prefix of what the child sent:
            # everything reported, perhaps one or a few more mined just before the kill.
            on_chain = sorted(
                value
                for log in w3.eth.get_logs({"fromBlock": 0, "address": contract})
                if first_value
                <= (value := int.from_bytes(log["topics"][1], "big"))
                < first_value + 100_000
            )
            assert on_chain[: len(this_round)] == [value for _, _, value in this_round]
            assert on_chain == list(range(first_value, first_value + len(on_chain))), context
            # The chain stays usable: nonces and state are consistent after the crash.
            store(w3, chain.funded_accounts[0].address, contract, first_value + 999_999)
        reported.extend(this_round)

    with open_embedded_chain(data_dir) as chain:
        for block_number, tx_hash, _value in reported:
            receipt = chain.web3.eth.get_transaction_receipt(tx_hash)
            assert receipt["blockNumber"] == block_number
    conn = sqlite3.connect(data_dir / "chain" / CHAIN_DB_FILENAME)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


def test_second_opener_gets_data_directory_locked(data_dir: Path) -> None:
    holder = start_child("hold", str(data_dir), stdin=subprocess.PIPE)
    try:
        assert read_line(holder) == f"ready {holder.pid}"
        with pytest.raises(DataDirectoryLockedError, match=f"pid {holder.pid}\\b"):
            open_embedded_chain(data_dir)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        assert holder.wait(timeout=30) == 0
        assert holder.stdout is not None
        holder.stdout.close()
    with open_embedded_chain(data_dir) as chain:  # released when the holder closed it
        assert chain.web3.eth.block_number == 0
        with pytest.raises(DataDirectoryLockedError, match=f"pid {os.getpid()}\\b"):
            open_embedded_chain(data_dir)  # a second handle in the same process, too


def test_transaction_lookup_uses_the_index(
    chain: EmbeddedChain, monkeypatch: pytest.MonkeyPatch
) -> None:
    import eth_tester.backends.pyevm.main as pyevm_main

    w3 = chain.web3
    dev = chain.funded_accounts[0].address
    contract = deploy_store(w3, dev)
    txs = [store(w3, dev, contract, value) for value in range(1, 21)]

    def linear_scan(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("eth-tester's linear scan over all blocks was used")

    monkeypatch.setattr(pyevm_main, "_get_transaction_by_hash", linear_scan)
    for block_number, tx in enumerate(txs, start=2):
        assert w3.eth.get_transaction_receipt(tx)["blockNumber"] == block_number
        assert w3.eth.get_transaction(tx)["blockNumber"] == block_number
    with pytest.raises(TransactionNotFound):
        w3.eth.get_transaction_receipt(HexBytes(b"\x01" * 32))


def test_concurrent_requests_are_serialized(chain: EmbeddedChain) -> None:
    w3 = chain.web3
    contract = deploy_store(w3, chain.funded_accounts[0].address)
    errors: list[BaseException] = []
    hashes: list[HexBytes] = []

    def worker(index: int) -> None:
        sender = chain.funded_accounts[index + 1].address
        try:
            for value in range(8):
                hashes.append(store(w3, sender, contract, index * 100 + value))
                w3.eth.get_balance(sender)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert w3.eth.block_number == 1 + 32
    blocks = {w3.eth.get_transaction_receipt(tx)["blockNumber"] for tx in hashes}
    assert blocks == set(range(2, 34))  # one transaction per block


def test_closed_chain_refuses_requests(data_dir: Path) -> None:
    chain = open_embedded_chain(data_dir)
    chain.close()
    chain.close()  # idempotent
    assert chain.closed
    with pytest.raises(ChainUnavailableError):
        chain.web3.eth.block_number  # noqa: B018
    with open_embedded_chain(data_dir):  # and the directory is free again
        pass
