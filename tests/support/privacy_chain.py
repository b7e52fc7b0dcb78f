"""The chain, as the privacy scan reads it: what the embedded chain's files hold, and what any
node would serve (every block's transactions, every receipt's logs, the access-log anchor
contract's storage), searched for every spelling of the identifiers, enterprises' credit codes
included: unlike a licence in the document store, nothing on chain is meant to name anyone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ledger.config import Settings
from ledger.session import LedgerSession

#: Storage slots of the anchor contract read (Ownable2Step's owners, the last sequence number,
#: the mapping's base slot and a margin).
ANCHOR_SLOTS = 16

Finder = Callable[[bytes], list[str]]


def chain_files_leaks(settings: Settings, find: Finder) -> list[str]:
    """The embedded chain's files (its database and write-ahead log), as stored."""
    root = settings.data_dir / "chain"
    found: list[str] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        found += [f"chain file {path.name}: {label}" for label in find(path.read_bytes())]
    assert found or any(root.rglob("*")), "no chain files to scan"
    return found


def served_chain_leaks(settings: Settings, find: Finder) -> tuple[int, list[str]]:
    """Every transaction's input, every log's topics and data, and the anchor contract's
    storage, as a node serves them (the service closed). Returns (items read, leaks)."""
    found: list[str] = []
    read = 0
    with LedgerSession.open(settings) as session:
        for what, data in _served(session):
            read += 1
            found += [f"chain {what}: {label}" for label in find(data)]
    return read, found


def _served(session: LedgerSession) -> Iterator[tuple[str, bytes]]:
    web3 = session.connection.web3
    for number in range(web3.eth.block_number + 1):
        block = web3.eth.get_block(number, full_transactions=True)
        yield f"block {number} extra data", bytes(block["extraData"])
        for transaction in block["transactions"]:
            assert not isinstance(transaction, bytes)
            # eth-tester names the input "data", a JSON-RPC node "input".
            payload = transaction.get("input", transaction.get("data", b""))
            yield f"block {number} transaction input", bytes(payload)
            receipt = web3.eth.get_transaction_receipt(transaction["hash"])
            for index, log in enumerate(receipt["logs"]):
                topics = b"".join(bytes(topic) for topic in log["topics"])
                yield f"block {number} log {index}", topics + bytes(log["data"])
    anchors = session.access_log_anchors().contract.address
    for slot in range(ANCHOR_SLOTS):
        yield f"anchor storage slot {slot}", bytes(web3.eth.get_storage_at(anchors, slot))
