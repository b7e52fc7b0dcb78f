"""Child process for the embedded-chain tests (run as a script, not collected by pytest).

Usage::

    embedded_chain_child.py hold DATA_DIR
        open the chain, print ``ready <pid>``, keep it open until stdin closes
    embedded_chain_child.py send DATA_DIR CONTRACT FIRST_VALUE COUNT
        open the chain, print ``ready <block>``, then for i in range(COUNT) store FIRST_VALUE + i
        in CONTRACT and print ``mined <block> <tx hash> <value>`` once the receipt is back
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from web3 import Web3

from ledger.chain.embedded import open_embedded_chain


def hold(data_dir: Path) -> None:
    with open_embedded_chain(data_dir):
        print(f"ready {os.getpid()}", flush=True)
        sys.stdin.read()


def send(data_dir: Path, contract: str, first_value: int, count: int) -> None:
    with open_embedded_chain(data_dir) as chain:
        w3 = chain.web3
        sender = chain.funded_accounts[0].address
        to = Web3.to_checksum_address(contract)
        print(f"ready {w3.eth.block_number}", flush=True)
        for value in range(first_value, first_value + count):
            tx_hash = w3.eth.send_transaction(
                {"from": sender, "to": to, "data": value.to_bytes(32, "big"), "gas": 100_000}
            )
            receipt = w3.eth.get_transaction_receipt(tx_hash)
            assert receipt["status"] == 1
            print(f"mined {receipt['blockNumber']} {tx_hash.to_0x_hex()} {value}", flush=True)


def main(argv: list[str]) -> None:
    command, data_dir = argv[0], Path(argv[1])
    if command == "hold":
        hold(data_dir)
    elif command == "send":
        send(data_dir, argv[2], int(argv[3]), int(argv[4]))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
