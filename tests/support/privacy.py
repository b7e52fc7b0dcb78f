"""The privacy scan's material, shared by the storage, CLI and API privacy tests: made-up
natural persons, documents about them in the encodings offices produce, what a scan looks for, and
the blocks a store serves (read back to be scanned).

Tests that share one IPFS node must never share people: :func:`make_person` makes up a person no
other test in this process has used.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from ledger.identity import make_citizen_id
from ledger.storage.embedded import EmbeddedStore
from tests.support.ipfs import IpfsNode, post_rpc
from tests.support.store_contract import CHUNK

_SURNAMES: Final = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
_GIVEN: Final = "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉雪琳晨宇浩然"
#: People already made up in this process: tests share one IPFS node and must not share people.
_USED: set[str] = set()


@dataclass(frozen=True)
class Person:
    """A made-up natural person (synthetic identity number, common-looking Chinese name)."""

    name: str
    citizen_id: str

    def identifier_spellings(self) -> tuple[str, ...]:
        """The number as written: normalized upper-case ``X`` and the lower-case ``x`` clerks
        and forms often produce (the same string when the check character is a digit)."""
        return tuple(dict.fromkeys((self.citizen_id.upper(), self.citizen_id.lower())))


def make_person(rng: random.Random, *, check_x: bool) -> Person:
    """A person no other test in this process uses; ``check_x`` picks a number ending in X."""
    while True:
        birth = date(1950, 1, 1) + timedelta(days=rng.randrange(55 * 365))
        citizen_id = make_citizen_id(
            rng.choice(("110101", "310104", "440305", "510107")), birth, rng.randrange(1000)
        )
        if citizen_id.endswith("X") != check_x:
            continue
        name = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(2))
        if name in _USED or citizen_id in _USED:
            continue
        _USED.update((name, citizen_id))
        return Person(name, citizen_id)


def make_people() -> list[Person]:
    rng = random.Random(os.urandom(16))
    return [make_person(rng, check_x=check_x) for check_x in (True, True, False)]


def personal_documents(people: list[Person]) -> list[bytes]:
    """Documents as offices hold them: a JSON certificate (UTF-8), a Windows text export
    (UTF-16-LE), a legacy GB18030 file, and a register extract larger than one IPFS chunk with
    entries in different chunks. Every spelling of every number is in each of them."""
    entries = [
        {"姓名": person.name, "公民身份号码": spelling, "住址": "北京市东城区"}
        for person in people
        for spelling in person.identifier_spellings()
    ]
    certificate = json.dumps({"类型": "户籍证明", "人员": entries}, ensure_ascii=False).encode()
    lines = "\r\n".join(f"{entry['姓名']}\t{entry['公民身份号码']}" for entry in entries)
    export = "\ufeff".encode("utf-16-le") + lines.encode("utf-16-le")
    legacy = lines.encode("gb18030")
    filler = b"\n" + b"-" * 200
    extract = b""
    for index, entry in enumerate(entries):
        extract += json.dumps(entry, ensure_ascii=False).encode()
        extract += filler * ((CHUNK // len(filler)) // 2 + index)  # the next entry in a new chunk
    assert len(extract) > 2 * CHUNK
    return [certificate, export, legacy, extract]


def needles(people: list[Person]) -> dict[str, bytes]:
    """What the scan looks for, labelled for the failure message (no real data: synthetic)."""
    found: dict[str, bytes] = {}
    for person in people:
        for spelling in person.identifier_spellings():
            found[f"id {spelling} utf-8"] = spelling.encode("utf-8")
            found[f"id {spelling} utf-16-le"] = spelling.encode("utf-16-le")
        found[f"name {person.name} utf-8"] = person.name.encode("utf-8")
        found[f"name {person.name} utf-16-le"] = person.name.encode("utf-16-le")
        found[f"name {person.name} gb18030"] = person.name.encode("gb18030")
    return found


def embedded_blocks(store: EmbeddedStore) -> Callable[[Iterable[str]], list[bytes]]:
    """Every block file of the store (a superset of the documents' blocks)."""

    def read(_cids: Iterable[str]) -> list[bytes]:
        return [
            path.read_bytes()
            for path in sorted((store.directory / "blocks").rglob("*"))
            if path.is_file()
        ]

    return read


def node_blocks(node: IpfsNode) -> Callable[[Iterable[str]], list[bytes]]:
    """Each document's root and every block below it, with the node's ``refs`` and
    ``block/get``: the bytes the node serves to anyone asking for the CID."""

    def read(cids: Iterable[str]) -> list[bytes]:
        blocks: list[bytes] = []
        for cid in cids:
            answer = post_rpc(
                node.api_url, "refs", {"arg": cid, "recursive": "true", "unique": "true"}
            )
            below = [json.loads(line) for line in answer.splitlines() if line.strip()]
            assert all(not ref.get("Err") for ref in below), below
            for block_cid in [cid, *(ref["Ref"] for ref in below)]:
                blocks.append(post_rpc(node.api_url, "block/get", {"arg": block_cid}))
        return blocks

    return read
