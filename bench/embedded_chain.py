"""Throughput of the persistent embedded chain against eth-tester in memory, in the same run.

Run: ``python bench/embedded_chain.py [--transactions N] [--rounds R]``. Prints a table (not a
test).

Each cell sends N transactions one after another through web3 (``eth_sendTransaction`` with a
fixed gas limit, or locally signed ``eth_sendRawTransaction``) and fetches each receipt, the way
the ledger's transaction worker does. Every transaction is mined in its own block; on the
persistent chain every block is one fsynced SQLite transaction. The two chains take turns,
operation by operation, and each cell is the best of R rounds, so that load from other processes
on the machine skews both columns alike.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on the path, where bench/http.py would shadow the
# standard library's http for every later import: the repository root takes its place.
_BENCH = Path(__file__).resolve().parent
sys.path[:] = [str(_BENCH.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _BENCH]

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

from eth_account import Account  # noqa: E402
from eth_account.signers.local import LocalAccount  # noqa: E402
from eth_keys.main import KeyAPI  # noqa: E402
from eth_tester import EthereumTester, PyEVMBackend  # noqa: E402
from eth_typing import ChecksumAddress  # noqa: E402
from eth_utils.crypto import keccak  # noqa: E402
from hexbytes import HexBytes  # noqa: E402
from web3 import Web3  # noqa: E402
from web3.providers.eth_tester import EthereumTesterProvider  # noqa: E402
from web3.types import Wei  # noqa: E402

from ledger.chain.embedded import open_embedded_chain  # noqa: E402

# Hand-assembled contract (no Solidity compiler here). Runtime: without calldata return
# sload(0); otherwise sstore(0, word0), LOG2(topic0=keccak("Stored(uint256)"), topic1=word0) and
# return word0. The init code copies the runtime into memory and returns it.
STORE_TOPIC = keccak(text="Stored(uint256)")
STORE_RUNTIME = (
    bytes.fromhex("36600f5760005460005260206000f3")  # if calldatasize jump; return sload(0)
    + bytes.fromhex("5b60003580600055")  # jumpdest; w = calldataload(0); sstore(0, w)
    + bytes.fromhex("807f")  # dup w; push32 topic
    + STORE_TOPIC
    + bytes.fromhex("60006000a2")  # log2(0, 0, topic, w)
    + bytes.fromhex("60005260206000f3")  # mstore(0, w); return(0, 32)
)
STORE_INITCODE = bytes.fromhex(f"60{len(STORE_RUNTIME):02x}80600b6000396000f3") + STORE_RUNTIME

Operation = Callable[[int], None]


class Subject:
    """One chain under test and the operations measured on it."""

    def __init__(self, w3: Web3, signer: LocalAccount) -> None:
        self.w3 = w3
        self.signer = signer
        accounts = list(w3.eth.accounts)
        self.sender, self.receiver = accounts[0], accounts[1]
        receipt = w3.eth.wait_for_transaction_receipt(
            w3.eth.send_transaction({"from": self.sender, "data": STORE_INITCODE, "gas": 200_000})
        )
        contract = receipt["contractAddress"]
        assert contract is not None
        assert w3.eth.get_code(contract) == STORE_RUNTIME
        self.contract: ChecksumAddress = contract
        self.first_tx: HexBytes = receipt["transactionHash"]
        self.chain_id = w3.eth.chain_id
        self.counter = 0

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    def transfer(self, _: int) -> None:
        tx = self.w3.eth.send_transaction(
            {"from": self.sender, "to": self.receiver, "value": Wei(1), "gas": 21_000}
        )
        self.w3.eth.wait_for_transaction_receipt(tx)

    def store(self, _: int) -> None:
        data = self._next().to_bytes(32, "big")
        tx = self.w3.eth.send_transaction(
            {"from": self.sender, "to": self.contract, "data": data, "gas": 60_000}
        )
        self.w3.eth.wait_for_transaction_receipt(tx)

    def raw_store(self, _: int) -> None:
        signed = self.signer.sign_transaction(
            {
                "chainId": self.chain_id,
                "maxFeePerGas": 10**10,
                "maxPriorityFeePerGas": 10**9,
                "nonce": self.w3.eth.get_transaction_count(self.signer.address),
                "to": self.contract,
                "gas": 60_000,
                "value": 0,
                "data": self._next().to_bytes(32, "big"),
            }
        )
        tx = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        self.w3.eth.wait_for_transaction_receipt(tx)

    def call(self, _: int) -> None:
        self.w3.eth.call({"to": self.contract, "data": b""})

    def oldest_receipt(self, _: int) -> None:
        self.w3.eth.get_transaction_receipt(self.first_tx)

    def operations(self) -> dict[str, Operation]:
        return {
            "transfer (eth_sendTransaction)": self.transfer,
            "storage write (eth_sendTransaction)": self.store,
            "storage write (signed, eth_sendRawTransaction)": self.raw_store,
            "eth_call (read slot)": self.call,
        }


def rate(operation: Operation, count: int) -> float:
    start = time.perf_counter()
    for index in range(count):
        operation(index)
    elapsed = time.perf_counter() - start
    return count / elapsed if elapsed > 0 else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--transactions", type=int, default=200, help="per cell (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="best of (default 3)")
    args = parser.parse_args()
    count: int = args.transactions

    memory_backend = PyEVMBackend()
    memory = Subject(
        Web3(EthereumTesterProvider(EthereumTester(memory_backend))),
        Account.from_key(memory_backend.account_keys[2].to_bytes()),
    )
    with tempfile.TemporaryDirectory(prefix="embedded-chain-bench-") as tmp:
        with open_embedded_chain(Path(tmp)) as chain:
            persistent = Subject(chain.web3, chain.funded_accounts[2])
            subjects = {"in memory": memory, "persistent": persistent}
            best: dict[str, dict[str, float]] = {name: {} for name in subjects}
            for _ in range(args.rounds):
                for operation in memory.operations():
                    for name, subject in subjects.items():
                        measured = rate(subject.operations()[operation], count)
                        best[name][operation] = max(best[name].get(operation, 0.0), measured)
            lookup = "receipt lookup, block-1 transaction"
            for name, subject in subjects.items():
                best[name][lookup] = rate(subject.oldest_receipt, 20)
            blocks = chain.web3.eth.block_number
        db_size = sum(f.stat().st_size for f in (Path(tmp) / "chain").iterdir())

    ecdsa = type(KeyAPI().backend).__name__
    print(f"{count} transactions per cell, best of {args.rounds} rounds, one block per transaction")
    print(f"ECDSA backend: {ecdsa}; both chains end at block {blocks}\n")
    width = max(len(operation) for operation in best["in memory"])
    print(f"| {'per second':<{width}} | in memory | persistent | ratio |")
    print(f"| {'-' * width} | --------: | ---------: | ----: |")
    for operation, in_memory in best["in memory"].items():
        on_disk = best["persistent"][operation]
        print(
            f"| {operation:<{width}} | {in_memory:9.1f} | {on_disk:10.1f} "
            f"| {on_disk / in_memory:5.2f} |"
        )
    print(f"\npersistent chain: {db_size / 1e6:.1f} MB on disk (database + WAL)")


if __name__ == "__main__":
    main()
