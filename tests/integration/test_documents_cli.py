"""``ledger docs`` and the storing ``ledger anchor``, through the real console script.

Data directories are prepared through the library (faster than ``ledger init`` in a subprocess);
every command under test runs as its own process, so each error case shows what a user sees: one
line on stderr, nothing on stdout, and the exit status of its kind (``ledger --help`` lists them).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

import pytest

from ledger.catalogue import certificate_type
from ledger.cli.departments import add_department
from ledger.config import Settings
from ledger.identity import make_citizen_id, make_uscc, parse_subject
from ledger.session import LedgerSession
from ledger.storage.embedded import EmbeddedStore
from ledger.storage.ipfs import IpfsStore
from ledger.storage.unixfs import compute_cid
from ledger.writes.certificates import anchor
from tests.integration.conftest import BUSINESS_LICENCE, RESIDENCE_CERTIFICATE
from tests.support.anvil import AnvilNode
from tests.support.cli import (
    json_of,
    ledger,
    one_error_line,
    succeeded,
    write,
)
from tests.support.ipfs import IpfsNode
from tests.support.process import free_port

DEPARTMENT: Final = 9
REGION: Final = 110101
CITIZEN: Final = make_citizen_id("110108", date(1992, 7, 21), 35)
ENTERPRISE: Final = make_uscc(organisation_code="MA03CL7K5")
EXIT_ERASED: Final = 11


def prepare(data_dir: Path, *, rpc_url: str | None = None, ipfs_api: str | None = None) -> None:
    """``ledger init`` and ``ledger department add`` through the library."""
    settings = Settings(data_dir=data_dir, rpc_url=rpc_url, ipfs_api=ipfs_api)
    session, _ = LedgerSession.initialize(settings)
    with session:
        add_department(
            session,
            DEPARTMENT,
            REGION,
            "东城区政务服务局",
            [BUSINESS_LICENCE, RESIDENCE_CERTIFICATE],
        )


def personal(path: Path) -> Path:
    return write(path, f"居住证 张小花 {CITIZEN} {secrets.token_hex(6)}\n")


def storage_line(output: str) -> str:
    [line] = [line for line in output.splitlines() if "storage.copy" in line]
    return line


def test_put_get_round_trip(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    prepare(data_dir)
    document = write(tmp_path / "licence.txt", f"营业执照 {ENTERPRISE} 北京示例科技有限公司\n")
    data = document.read_bytes()

    clear = succeeded(ledger(data_dir, "docs", "put", str(document))).strip()
    assert clear == compute_cid(data)
    sealed = json_of(ledger(data_dir, "docs", "put", str(document), "--encrypt", "--json"))
    assert sealed["encrypted"] is True
    assert sealed["size"] == len(data)
    assert sealed["cid"] != clear

    out = tmp_path / "clear.out"
    said = succeeded(ledger(data_dir, "docs", "get", clear, "-o", str(out)))
    assert said == f"wrote {len(data)} bytes to {out}\n"
    assert out.read_bytes() == data
    fetched = json_of(
        ledger(data_dir, "docs", "get", sealed["cid"], "-o", str(tmp_path / "s.out"), "--json")
    )
    assert fetched == {
        "cid": sealed["cid"],
        "output": str(tmp_path / "s.out"),
        "size": len(data),
        "decrypted": True,
    }
    assert (tmp_path / "s.out").read_bytes() == data


def test_anchor_verify_erase(tmp_path: Path) -> None:
    """Anchoring stores the copy, verify checks it, erasure leaves the holder's copy VALID."""
    data_dir = tmp_path / "data"
    prepare(data_dir)
    certificate = personal(tmp_path / "residence.txt")

    anchored = succeeded(
        ledger(
            data_dir,
            *("anchor", str(certificate), "--type", "residence-certificate"),
            *("--subject", CITIZEN),
        )
    )
    first, second = anchored.splitlines()
    assert first.startswith("anchored 0x")
    assert second.startswith("stored as b")
    assert second.endswith(" (encrypted)")
    cid = second.split()[2]
    assert CITIZEN not in anchored

    verified = succeeded(ledger(data_dir, "verify", str(certificate)))
    assert verified.startswith("VALID")
    assert storage_line(verified).split(None, 3) == [
        "[ok",
        "]",
        "storage.copy",
        f"stored copy {cid} (decrypted, {certificate.stat().st_size} bytes) matches",
    ]

    erased = succeeded(ledger(data_dir, "docs", "erase", cid))
    assert erased == (
        f"erased {cid}: key destroyed, copy unpinned; the anchor still verifies the holder's copy\n"
    )
    again = json_of(ledger(data_dir, "docs", "erase", cid, "--json"))
    assert again["alreadyErased"] is True
    erased_at = again["erasedAt"]

    still_valid = succeeded(ledger(data_dir, "verify", str(certificate)))
    assert still_valid.startswith("VALID")
    assert storage_line(still_valid) == (
        f"  [n/a ] storage.copy             erased on {erased_at}: the stored copy is gone; "
        "the presented copy was verified against the anchor"
    )

    output = tmp_path / "never.txt"
    line = one_error_line(ledger(data_dir, "docs", "get", cid, "-o", str(output)), EXIT_ERASED)
    assert line == (
        f"error: the document was erased on {erased_at}: its key is destroyed and it can never "
        "be read again"
    )
    assert not output.exists()

    bare = personal(tmp_path / "unstored.txt")
    result = ledger(
        data_dir,
        *("anchor", str(bare), "--type", "residence-certificate", "--subject", CITIZEN),
        *("--no-store", "--json"),
    )
    assert (json_of(result)["cid"], json_of(result)["encrypted"]) == (None, False)
    assert "no stored copy was anchored with this record" in storage_line(
        succeeded(ledger(data_dir, "verify", str(bare)))
    )


def test_anchor_seals_a_citizens_licence(tmp_path: Path) -> None:
    """Issue 13 item 1 through the CLI: a business licence (not a personal type) of a sole
    trader registered under their identity number is stored encrypted, and the output says so;
    an enterprise's licence stays in clear, and says that."""
    data_dir = tmp_path / "data"
    prepare(data_dir)
    sole_trader = write(tmp_path / "licence.txt", f"营业执照 经营者 张小花 {CITIZEN}\n")
    public = write(tmp_path / "company.txt", f"营业执照 {ENTERPRISE} 北京示例科技有限公司\n")

    said = succeeded(
        ledger(
            data_dir, "anchor", str(sole_trader), "--type", "business-licence", "--subject", CITIZEN
        )
    )
    assert said.splitlines()[1].endswith(" (encrypted)")
    cid = said.splitlines()[1].split()[2]
    assert cid != compute_cid(sole_trader.read_bytes())
    blocks = [p.read_bytes() for p in (data_dir / "documents").rglob("*") if p.is_file()]
    assert blocks
    assert not [b for b in blocks if CITIZEN.encode() in b or "张小花".encode() in b]
    verified = succeeded(ledger(data_dir, "verify", str(sole_trader)))
    assert verified.startswith("VALID")
    assert "(decrypted, " in storage_line(verified)

    clear = json_of(
        ledger(
            data_dir,
            *("anchor", str(public), "--type", "business-licence"),
            *("--subject", ENTERPRISE, "--json"),
        )
    )
    assert (clear["encrypted"], clear["cid"]) == (False, compute_cid(public.read_bytes()))


def test_export_car(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    prepare(data_dir)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(700_000))  # three chunks and a root
    small = write(tmp_path / "small.txt", "小文件\n")
    cids = [succeeded(ledger(data_dir, "docs", "put", str(path))).strip() for path in (big, small)]

    car = tmp_path / "all.car"
    exported = json_of(ledger(data_dir, "docs", "export", "--car", str(car), "--json"))
    assert sorted(exported["cids"]) == sorted(cids)
    assert exported["blocks"] == 5

    imported = EmbeddedStore(tmp_path / "elsewhere")
    assert sorted(imported.import_car(car)) == sorted(cids)
    assert imported.get(cids[0]) == big.read_bytes()
    assert imported.get(cids[1]) == small.read_bytes()

    one = tmp_path / "one.car"
    said = succeeded(ledger(data_dir, "docs", "export", cids[1], "--car", str(one)))
    assert said == f"exported 1 document(s), 1 block(s) to {one}\n"


@dataclass(frozen=True)
class Shared:
    data_dir: Path
    document: Path
    clear_cid: str
    root: Path


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Shared:
    root = tmp_path_factory.mktemp("docs-cli")
    data_dir = root / "data"
    prepare(data_dir)
    document = write(root / "licence.txt", f"营业执照 {ENTERPRISE}\n")
    settings = Settings(data_dir=data_dir)
    session = LedgerSession.open(settings)
    with session:
        clear = session.documents().store_document(document.read_bytes(), encrypt=False)
    return Shared(data_dir, document, clear.cid, root)


def _down_node() -> dict[str, str]:
    return {
        "LEDGER_IPFS_API": f"/ip4/127.0.0.1/tcp/{free_port()}/http",
        "LEDGER_STORE_TIMEOUT": "3",
    }


#: name: (arguments, extra environment, exit status, what the error line says)
ERROR_CASES: Final[dict[str, tuple[list[str], dict[str, str], int, str]]] = {
    "missing-file": (["docs", "put", "{root}/absent.txt"], {}, 2, "does not exist"),
    "bad-cid": (["docs", "get", "bafy-not-a-cid", "-o", "{root}/x"], {}, 2, "CID"),
    "cidv0-garbage": (["docs", "get", "Qm" + "1" * 44, "-o", "{root}/x"], {}, 2, "CID"),
    "missing-cid": (
        ["docs", "get", compute_cid(b"never stored anywhere"), "-o", "{root}/x"],
        {},
        3,
        "no document",
    ),
    "erase-clear-document": (["docs", "erase", "{clear}"], {}, 3, "no key for this document"),
    "export-on-ipfs": (
        ["docs", "export", "--car", "{root}/x.car"],
        {"LEDGER_IPFS_API": "/ip4/127.0.0.1/tcp/5001/http"},
        8,
        "ipfs dag export",
    ),
    "ipfs-node-down-put": (["docs", "put", "{document}"], _down_node(), 6, "unavailable for add"),
    "ipfs-node-down-anchor": (
        [
            *("anchor", "{document}", "--type", "business-licence"),
            *("--subject", ENTERPRISE),
        ],
        _down_node(),
        6,
        "unavailable for add",
    ),
    "wrong-master-key": (
        ["docs", "get", "{clear}", "-o", "{root}/x"],
        {"LEDGER_MASTER_KEY": "4b1d" + secrets.token_hex(30)},
        8,
        "wrong master key",
    ),
    "placeholder-master-key": (
        ["docs", "put", "{document}"],
        {"LEDGER_MASTER_KEY": "00" * 32},
        8,
        "placeholder",
    ),
    "missing-get-output": (["docs", "get", "{clear}"], {}, 2, "-o"),
}


@pytest.mark.parametrize("name", list(ERROR_CASES))
def test_errors_are_one_line_with_their_exit_status(shared: Shared, name: str) -> None:
    arguments, environment, status, message = ERROR_CASES[name]
    filled = [
        argument.format(root=shared.root, clear=shared.clear_cid, document=shared.document)
        for argument in arguments
    ]
    line = one_error_line(ledger(shared.data_dir, *filled, env=environment), status)
    assert message in line
    assert ENTERPRISE not in line


def test_errors_before_init(tmp_path: Path) -> None:
    document = write(tmp_path / "a.txt", "a\n")
    line = one_error_line(ledger(tmp_path / "none", "docs", "put", str(document)), 8)
    assert "no document master key" in line
    # Where there is no ledger, exporting says so and creates nothing (issue 13, item 14).
    line = one_error_line(ledger(tmp_path / "none", "docs", "export", "--car", "x.car"), 8)
    assert line.startswith("error: no ledger in the data directory")
    assert not (tmp_path / "none").exists()


def test_help_explains_the_exit_statuses() -> None:
    text = succeeded(ledger(Path("unused"), "--help"))
    assert "11 the stored document was erased" in text
    assert "6  chain node, document store (IPFS node) or service" in text


@pytest.mark.xdist_group("ipfs")
def test_on_the_ipfs_node(ipfs_session: IpfsNode, tmp_path: Path) -> None:
    """The same commands with LEDGER_IPFS_API: documents on the js-ipfs node."""
    environment = {"LEDGER_IPFS_API": ipfs_session.api_multiaddr}
    data_dir = tmp_path / "data"
    prepare(data_dir, ipfs_api=ipfs_session.api_multiaddr)
    certificate = personal(tmp_path / "residence.txt")

    anchored = json_of(
        ledger(
            data_dir,
            *("anchor", str(certificate), "--type", "residence-certificate"),
            *("--subject", CITIZEN, "--json"),
            env=environment,
        )
    )
    cid = anchored["cid"]
    assert anchored["encrypted"] is True
    assert ipfs_session.cat(cid) != certificate.read_bytes()  # the node holds ciphertext

    verified = succeeded(ledger(data_dir, "verify", str(certificate), env=environment))
    assert "[ok  ] storage.copy" in storage_line(verified)
    out = tmp_path / "fetched.txt"
    succeeded(ledger(data_dir, "docs", "get", cid, "-o", str(out), env=environment))
    assert out.read_bytes() == certificate.read_bytes()

    succeeded(ledger(data_dir, "docs", "erase", cid, env=environment))
    with IpfsStore(ipfs_session.api_multiaddr) as store:
        assert not store.stat(cid).pinned
    still_valid = succeeded(ledger(data_dir, "verify", str(certificate), env=environment))
    assert "erased on" in storage_line(still_valid)
    one_error_line(
        ledger(data_dir, "docs", "get", cid, "-o", str(out), env=environment), EXIT_ERASED
    )


def test_bare_rpc_verifier_skips_the_stored_copy(anvil: AnvilNode, tmp_path: Path) -> None:
    """``ledger verify --rpc URL --deployments FILE`` without a data directory checks the chain
    only; with the issuer's data directory it checks the stored copy too."""
    data_dir = tmp_path / "data"
    prepare(data_dir, rpc_url=anvil.url)
    certificate = personal(tmp_path / "residence.txt")
    settings = Settings(data_dir=data_dir, rpc_url=anvil.url)
    with LedgerSession.open(settings) as session:
        session.send(
            anchor(
                session,
                certificate.read_bytes(),
                certificate_type("residence-certificate"),
                holder=parse_subject(CITIZEN),
                department_id=DEPARTMENT,
            )
        )

    nowhere = tmp_path / "no-data-dir"
    bare = succeeded(
        ledger(
            nowhere,
            *("verify", str(certificate), "--rpc", anvil.url),
            *("--deployments", str(data_dir / "deployments.json")),
        )
    )
    assert bare.startswith("VALID")
    assert storage_line(bare).endswith("not checked: this verifier has no document store")
    assert not nowhere.exists()

    issuer = succeeded(ledger(data_dir, "verify", str(certificate), "--rpc", anvil.url))
    assert "[ok  ] storage.copy" in storage_line(issuer)
