"""No personal data on chain or on disk (ADR 0006), on the embedded chain and on anvil.

Certificates are anchored and credit events recorded for known synthetic citizens and enterprises;
then every transaction (blocks 0..head), every log (topics and data) and, for the embedded chain,
every file of the data directory (the SQLite database and its WAL) is searched for each identifier
in upper and lower case, as ASCII, UTF-16-LE and hex text, and for the holders' names. The scan is
shown to work by planting the same values in a transaction and a log of the same chain.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final, cast

import pytest
from eth_utils.crypto import keccak
from web3 import Web3
from web3.types import TxParams, TxReceipt

from ledger.catalogue import ReasonCode
from ledger.contracts import Amendment, Polarity
from ledger.documents import document_hash_of, dump_certificate, salt_fields
from ledger.identity import make_citizen_id, make_uscc
from ledger.session import LedgerSession
from tests.integration.conftest import (
    BUSINESS_LICENCE,
    COMMENDATION,
    CONTRACT_DEFAULT,
    DEPARTMENT_REGION,
    RESIDENCE_CERTIFICATE,
    TAX_VIOLATION,
    Backend,
    RegisteredDepartment,
)
from tests.support.cli import ledger as cli
from tests.support.cli import prepare as prepare_cli_ledger
from tests.support.cli import succeeded
from tests.support.credit import record_event
from tests.support.ipfs import IpfsNode
from tests.support.privacy import Person as StorePerson
from tests.support.privacy import make_people as make_store_people
from tests.support.privacy import needles as store_needles
from tests.support.privacy import node_blocks, personal_documents


def _with_check_x(region: str, birth: date) -> str:
    numbers = (make_citizen_id(region, birth, sequence) for sequence in range(1000))
    return next(number for number in numbers if number.endswith("X"))


@dataclass(frozen=True)
class Person:
    name: str
    identifier: str
    #: How the department typed it (lower-case x where there is one).
    typed: str


CITIZENS: Final[tuple[Person, ...]] = tuple(
    Person(name, number, number.lower())
    for name, number in (
        ("林晓燕", _with_check_x("310104", date(1988, 7, 14))),
        ("欧阳建国", _with_check_x("440305", date(1975, 11, 2))),
        ("张秀英", make_citizen_id("510107", date(1963, 2, 28), 731)),
        ("司马文博", make_citizen_id("110105", date(2001, 12, 31), 58)),
    )
)
ENTERPRISES: Final[tuple[Person, ...]] = tuple(
    Person(name, code, code.lower())
    for name, code in (
        ("北京示例青禾科技有限公司", make_uscc("9", "1", "110108", "MA01TEQ7K")),
        ("深圳市前海样本贸易有限公司", make_uscc("9", "1", "440300", "MA5G7YL2K")),
        ("成都市锦江区示范律师事务所", make_uscc("3", "1", "510104", "4660123R7")),
    )
)
#: Other personal names that appear only in document metadata.
OTHER_NAMES: Final = ("赵德明", "钱美玲")


def needles() -> dict[str, bytes]:
    """Every spelling searched for, labelled without repeating the value."""
    found: dict[str, bytes] = {}
    for kind, people in (("citizen", CITIZENS), ("enterprise", ENTERPRISES)):
        for index, person in enumerate(people):
            for case, text in (
                ("upper", person.identifier.upper()),
                ("lower", person.identifier.lower()),
            ):
                label = f"{kind} #{index} id ({case})"
                ascii_bytes = text.encode("ascii")
                found[f"{label} ascii"] = ascii_bytes
                found[f"{label} utf-16-le"] = text.encode("utf-16-le")
                found[f"{label} hex"] = ascii_bytes.hex().encode("ascii")
                found[f"{label} HEX"] = ascii_bytes.hex().upper().encode("ascii")
    names = [p.name for p in CITIZENS + ENTERPRISES] + list(OTHER_NAMES)
    for index, name in enumerate(names):
        assert len(name) >= 3, "two-character names are too short to search binary data for"
        label = f"name #{index}"
        utf8 = name.encode("utf-8")
        found[f"{label} utf-8"] = utf8
        found[f"{label} utf-16-le"] = name.encode("utf-16-le")
        found[f"{label} gb18030"] = name.encode("gb18030")
        found[f"{label} hex"] = utf8.hex().encode("ascii")
    return found


# ----------------------------------------------------------------------------------------------
# Scanning
# ----------------------------------------------------------------------------------------------


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        return bytes.fromhex(value.removeprefix("0x"))
    raise TypeError(type(value).__name__)


def transaction_haystacks(web3: Web3) -> Iterator[tuple[str, bytes]]:
    """Each block's transactions: raw input bytes and the JSON of the whole block."""
    head = web3.eth.block_number
    for number in range(head + 1):
        block = web3.eth.get_block(number, full_transactions=True)
        yield f"block {number}", Web3.to_json(block).encode()  # type: ignore[arg-type]
        for transaction in block["transactions"]:
            assert not isinstance(transaction, bytes)
            # eth-tester names the input "data", JSON-RPC nodes "input".
            payload = transaction.get("input", transaction.get("data"))
            assert payload is not None
            yield f"input of tx in block {number}", _as_bytes(payload)


def log_haystacks(web3: Web3) -> Iterator[tuple[str, bytes]]:
    """Every log from block 0: topics and data as bytes, and the log's JSON."""
    logs = web3.eth.get_logs({"fromBlock": 0, "toBlock": "latest"})
    assert logs, "the scenario emits logs; an empty result means the query is broken"
    for entry in logs:
        where = f"log {entry['logIndex']} of block {entry['blockNumber']}"
        raw = b"".join(_as_bytes(topic) for topic in entry["topics"]) + _as_bytes(entry["data"])
        yield where, raw
        yield f"{where} (JSON)", Web3.to_json(entry).encode()  # type: ignore[arg-type]


def file_haystacks(directory: Path) -> Iterator[tuple[str, bytes]]:
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    assert files, f"nothing to scan in {directory}"
    for path in files:
        yield str(path.relative_to(directory.parent)), path.read_bytes()


def leaks(haystacks: Iterable[tuple[str, bytes]], searched: dict[str, bytes]) -> list[str]:
    return [
        f"{label} in {where}"
        for where, data in haystacks
        for label, needle in searched.items()
        if needle in data
    ]


def chain_files(backend: Backend) -> list[tuple[str, bytes]]:
    """The embedded chain's files (database, WAL); empty for anvil, which keeps state in memory."""
    if backend.kind != "embedded":
        return []
    files = list(file_haystacks(backend.data_dir / "chain"))
    assert any(where.endswith("chain.sqlite3") for where, _ in files)
    return files


# ----------------------------------------------------------------------------------------------
# The scenario
# ----------------------------------------------------------------------------------------------


def issue_everything(session: LedgerSession) -> int:
    """Anchor certificates and record credit events for every known subject; returns how many
    transactions were sent."""
    sender = session.department_sender(1)
    certificates = session.certificates()
    credit = session.credit()
    sent = 0
    for index, person in enumerate(CITIZENS):
        reference = session.subject_ref(person.typed)
        structured = salt_fields(
            {
                "name": person.name,
                "idNumber": person.typed,
                "address": "示例市示例区幸福路 8 号",
                "emergencyContact": OTHER_NAMES[index % 2],
            },
            certificate_type="residence-certificate",
        )
        scan = (
            f"居住证 {person.name} 公民身份号码 {person.identifier} "
            f"联系人 {OTHER_NAMES[(index + 1) % 2]}"
        ).encode()
        for document in (dump_certificate(structured), scan, scan.decode().encode("utf-16-le")):
            sender.transact(
                certificates.anchor(
                    document_hash_of(document).hash,
                    RESIDENCE_CERTIFICATE,
                    DEPARTMENT_REGION,
                    subject_ref=reference,
                )
            )
            sent += 1
        event_id, _ = record_event(
            sender,
            credit,
            reference,
            CONTRACT_DEFAULT,
            Polarity.NEGATIVE,
            2,
            datetime(2023, 5, 1 + index, tzinfo=UTC),
            keccak(f"合同纠纷判决书 {person.name} {person.identifier}".encode()),
            evidence_cid=b"bafkreievidence" + bytes([index]),
        )
        sender.transact(
            credit.amend(event_id, Amendment.DISPUTED, keccak(text=f"申诉 {person.name}"))
        )
        sent += 2
    for index, enterprise in enumerate(ENTERPRISES):
        reference = session.subject_ref(enterprise.typed)
        fields = {
            "name": enterprise.name,
            "uscc": enterprise.identifier,
            "legalRepresentative": CITIZENS[index].name,
            "registeredCapital": "500万元",
        }
        licence = dump_certificate(salt_fields(fields, certificate_type="business-licence"))
        renewed = dump_certificate(salt_fields(fields, certificate_type="business-licence"))
        old = document_hash_of(licence).hash
        sender.transact(
            certificates.anchor(old, BUSINESS_LICENCE, DEPARTMENT_REGION, subject_ref=reference)
        )
        sender.transact(
            certificates.supersede(
                old, document_hash_of(renewed).hash, ReasonCode.RENEWAL, subject_ref=reference
            )
        )
        sender.transact(
            credit.record(
                reference,
                TAX_VIOLATION if index % 2 else COMMENDATION,
                Polarity.NEGATIVE if index % 2 else Polarity.POSITIVE,
                3,
                datetime(2024, 2, 1 + index, tzinfo=UTC),
                keccak(f"{enterprise.name} {enterprise.identifier}".encode()),
            )
        )
        sent += 3
    return sent


def test_no_identifier_or_name_on_chain_or_in_the_chain_files(
    ledger_backend: Backend, department: RegisteredDepartment
) -> None:
    session = ledger_backend.session
    web3 = session.connection.web3
    head_before = session.chain_head()
    sent = issue_everything(session)
    assert session.chain_head() == head_before + sent  # one block per transaction
    searched = needles()

    transactions = list(transaction_haystacks(web3))
    assert sum(1 for where, _ in transactions if where.startswith("input")) > sent
    logs = list(log_haystacks(web3))
    assert len(logs) >= 2 * sent  # every write emits at least one log (raw + JSON)
    found = leaks(transactions, searched) + leaks(logs, searched)
    found += leaks(chain_files(ledger_backend), searched)
    if ledger_backend.node is not None:
        found += leaks(file_haystacks(ledger_backend.node.log_path.parent), searched)
    assert found == []

    # Closing the embedded chain checkpoints the WAL into the database: scan that too.
    session.close()
    if ledger_backend.kind == "embedded":
        assert leaks(file_haystacks(ledger_backend.data_dir), searched) == []


# ----------------------------------------------------------------------------------------------
# The scan can fail
# ----------------------------------------------------------------------------------------------


def log_emitter(topic: bytes) -> bytes:
    """Init code of a contract that emits LOG1(topic) with its calldata as the log data."""
    assert len(topic) == 32
    runtime = (
        bytes.fromhex("3660006000 37".replace(" ", ""))  # calldatacopy(0, 0, calldatasize)
        + b"\x7f"
        + topic  # push32 topic
        + bytes.fromhex("366000a100")  # log1(0, calldatasize, topic); stop
    )
    return bytes.fromhex(f"60{len(runtime):02x}80600b6000396000f3") + runtime


def test_the_scan_finds_identifiers_planted_on_the_same_chain(ledger_backend: Backend) -> None:
    session = ledger_backend.session
    web3 = session.connection.web3
    accounts = list(web3.eth.accounts)
    funded, recipient = accounts[0], accounts[1]
    citizen, enterprise = CITIZENS[0], ENTERPRISES[0]
    searched = needles()
    assert leaks(transaction_haystacks(web3), searched) == []

    def send(transaction: dict[str, Any]) -> TxReceipt:
        params = cast(TxParams, {"from": funded, **transaction})
        receipt = web3.eth.wait_for_transaction_receipt(web3.eth.send_transaction(params))
        assert receipt["status"] == 1
        return receipt

    # Plain value transfers carrying the values as data.
    send({"to": recipient, "value": 1, "data": citizen.typed.encode("ascii")})
    send({"to": recipient, "value": 1, "data": citizen.name.encode("utf-16-le")})
    send(
        {
            "to": recipient,
            "value": 1,
            "data": enterprise.identifier.encode().hex().encode(),
        }
    )
    transactions = leaks(transaction_haystacks(web3), searched)
    assert "citizen #0 id (lower) ascii in input of tx in block" in " | ".join(transactions)
    assert any(hit.startswith("name #0 utf-16-le in input") for hit in transactions)
    assert any(hit.startswith("enterprise #0 id (upper) hex in input") for hit in transactions)

    # A log whose topic is the identifier and whose data is a name.
    deployed = send({"data": log_emitter(citizen.identifier.encode().ljust(32, b"\0"))})
    emitter = deployed["contractAddress"]
    send({"to": emitter, "data": enterprise.name.encode("utf-8")})
    in_logs = leaks(log_haystacks(web3), searched)
    assert any(hit.startswith("citizen #0 id (upper) ascii in log") for hit in in_logs)
    assert any(hit.startswith("name #4 utf-8 in log") for hit in in_logs)

    if ledger_backend.kind == "embedded":
        in_files = leaks(chain_files(ledger_backend), searched)
        assert any(
            hit.startswith("citizen #0 id (lower) ascii in chain/chain.sqlite3") for hit in in_files
        ), in_files
        assert any(
            hit.startswith("name #0 utf-16-le in chain/chain.sqlite3") for hit in in_files
        ), in_files


# ----------------------------------------------------------------------------------------------
# The document store after the CLI (issue 13 items 1 and 2), embedded and on js-ipfs
# ----------------------------------------------------------------------------------------------


def _store_needles(people: list[StorePerson]) -> dict[str, bytes]:
    """The people's numbers and names in every encoding documents come in, and as hex text."""
    found = store_needles(people)
    for person in people:
        for spelling in person.identifier_spellings():
            found[f"id {spelling} hex"] = spelling.encode().hex().encode()
    return found


def _cids_of(output: str) -> list[str]:
    """The CIDs a command printed (raw leaves ``bafk…``, a DAG root ``bafy…``)."""
    return [word.rstrip(";") for word in output.split() if word.startswith(("bafk", "bafy"))]


@pytest.mark.parametrize(
    "store", ["embedded", pytest.param("ipfs", marks=pytest.mark.xdist_group("ipfs"))]
)
def test_no_personal_data_in_the_document_store_after_the_cli(
    store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Business licences (not a personal type) anchored for citizens with ``ledger anchor``, in
    every encoding offices produce them, and the same documents anchored with ``ledger
    anchor-batch`` from files named ``<identity number>_<name>.txt``: no number or name, in any
    encoding, in any block the store serves, any file of the data directory, the IPFS node's repo
    or the commands' output. Planting one copy in clear shows the scan sees."""
    node: IpfsNode | None = request.getfixturevalue("ipfs_session") if store == "ipfs" else None
    environment = {"LEDGER_IPFS_API": node.api_multiaddr} if node else {}
    data_dir = tmp_path / "data"
    prepare_cli_ledger(data_dir, ipfs_api=node.api_multiaddr if node else None)
    people = make_store_people()
    documents = personal_documents(people)
    searched = _store_needles(people)

    outputs: list[str] = []
    cids: list[str] = []
    for index, data in enumerate(documents):
        holder = people[index % len(people)].citizen_id.lower()
        path = tmp_path / f"licence-{index}.bin"
        path.write_bytes(data)
        said = succeeded(
            cli(
                data_dir,
                *("anchor", str(path), "--type", "business-licence", "--subject", holder),
                env=environment,
            )
        )
        outputs.append(said)
        cids += _cids_of(said)
    batch = tmp_path / "batch"
    batch.mkdir()
    for index, person in enumerate(people):
        content = f"营业执照 个体工商户 经营者 {person.name} {person.citizen_id} {index}\n"
        (batch / f"{person.citizen_id}_{person.name}.txt").write_text(content, encoding="utf-8")
    said = succeeded(
        cli(
            data_dir,
            *("anchor-batch", str(batch), "--type", "business-licence", "--out"),
            str(tmp_path / "proofs"),
            env=environment,
        )
    )
    outputs.append(said)
    cids += _cids_of(said)
    assert len(cids) == len(documents) + 1  # every copy and the batch manifest

    def haystacks() -> Iterator[tuple[str, bytes]]:
        yield from file_haystacks(data_dir)
        for index, output in enumerate(outputs):
            yield f"output of command {index}", output.encode()
        if node is not None:
            for index, block in enumerate(node_blocks(node)(cids)):
                yield f"block {index} served by the node", block
            yield from file_haystacks(node.repo_dir)

    assert leaks(haystacks(), searched) == []
    assert all(output.splitlines()[1].endswith(" (encrypted)") for output in outputs[:-1])

    # The scan sees: one of the documents stored in clear is found, in the store's blocks.
    planted = tmp_path / "planted.bin"
    planted.write_bytes(documents[0])
    cid = succeeded(cli(data_dir, "docs", "put", str(planted), env=environment)).strip()
    found = (
        leaks(haystacks(), searched)
        if node is None
        else leaks((("planted block", block) for block in node_blocks(node)([cid])), searched)
    )
    assert any(f"id {people[0].citizen_id.upper()} utf-8" in hit for hit in found), found
