"""``ledger anchor-batch``, ``verify --proof`` and ``revoke --proof`` as real subprocesses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.cli.departments import add_department
from ledger.documents import dump_certificate, salt_fields
from ledger.session import LedgerSession
from tests.support.cli import (
    EXIT_INVALID,
    json_of,
    ledger,
    one_error_line,
    settings_for,
    succeeded,
)

DEPARTMENT = 9


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("cli-batch") / "data"
    session, _ = LedgerSession.initialize(settings_for(directory))
    with session:
        add_department(session, DEPARTMENT, 110101, "东城区市场监督管理局", [0x1000001])
    return directory


def documents(folder: Path, label: str, count: int = 5) -> Path:
    folder.mkdir(parents=True)
    for index in range(count):
        (folder / f"licence-{index}.txt").write_text(f"营业执照 {label} {index}\n", "utf-8")
    certificate = salt_fields({"enterprise": f"示例 {label}"}, certificate_type="business-licence")
    (folder / "wrapped.json").write_bytes(dump_certificate(certificate))
    return folder


def test_directory_batch_verifies_and_one_leaf_is_revoked(data_dir: Path, tmp_path: Path) -> None:
    source = documents(tmp_path / "in", "directory")
    out = tmp_path / "out"
    summary = json_of(
        ledger(
            data_dir,
            "--json",
            "anchor-batch",
            str(source),
            "--type",
            "business-licence",
            "--out",
            str(out),
        )
    )
    assert summary["count"] == 6
    assert summary["manifest"].startswith("bafk")
    assert json.loads((out / "batch.json").read_text())["root"] == summary["root"]
    for index in range(5):
        succeeded(
            ledger(
                data_dir,
                "verify",
                str(source / f"licence-{index}.txt"),
                "--proof",
                str(out / f"licence-{index}.txt.proof.json"),
            )
        )
    succeeded(ledger(data_dir, "verify", str(out / "wrapped.json")))
    # Without its proof a batched file is not anchored on its own.
    assert ledger(data_dir, "verify", str(source / "licence-0.txt")).returncode == EXIT_INVALID
    # Another file's proof does not fit.
    wrong = ledger(
        data_dir,
        "verify",
        str(source / "licence-0.txt"),
        "--proof",
        str(out / "licence-1.txt.proof.json"),
    )
    assert wrong.returncode == EXIT_INVALID
    assert "[FAIL] merkle.proof" in wrong.stdout

    report = json_of(
        ledger(
            data_dir,
            "--json",
            "verify",
            str(source / "licence-3.txt"),
            "--proof",
            str(out / "licence-3.txt.proof.json"),
        )
    )
    succeeded(
        ledger(
            data_dir,
            "revoke",
            report["documentHash"],
            "--reason",
            "fraud",
            "--proof",
            str(out / "licence-3.txt.proof.json"),
        )
    )
    revoked = ledger(
        data_dir,
        "verify",
        str(source / "licence-3.txt"),
        "--proof",
        str(out / "licence-3.txt.proof.json"),
    )
    assert revoked.returncode == EXIT_INVALID
    assert "revoked within its batch (reason: fraud)" in revoked.stdout
    for index in (0, 1, 2, 4):
        succeeded(
            ledger(
                data_dir,
                "verify",
                str(source / f"licence-{index}.txt"),
                "--proof",
                str(out / f"licence-{index}.txt.proof.json"),
            )
        )
    again = ledger(
        data_dir,
        "revoke",
        report["documentHash"],
        "--reason",
        "fraud",
        "--proof",
        str(out / "licence-3.txt.proof.json"),
    )
    one_error_line(again, 5)


def test_csv_batch(data_dir: Path, tmp_path: Path) -> None:
    source = documents(tmp_path / "in", "csv", count=3)
    listing = tmp_path / "batch.csv"
    listing.write_text("file\nin/licence-0.txt\nin/licence-2.txt\n", "utf-8")
    out = tmp_path / "out"
    summary = json_of(
        ledger(
            data_dir,
            "--json",
            "anchor-batch",
            str(listing),
            "--type",
            "business-licence",
            "--expires",
            "2031-12-31",
            "--out",
            str(out),
        )
    )
    assert summary["count"] == 2
    assert sorted(p.name for p in out.iterdir()) == [
        "batch.json",
        "licence-0.txt.proof.json",
        "licence-2.txt.proof.json",
    ]
    succeeded(
        ledger(
            data_dir,
            "verify",
            str(source / "licence-2.txt"),
            "--proof",
            str(out / "licence-2.txt.proof.json"),
        )
    )


def test_batch_refusals(data_dir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    one_error_line(
        ledger(
            data_dir,
            "anchor-batch",
            str(empty),
            "--type",
            "business-licence",
            "--out",
            str(tmp_path / "o1"),
        ),
        2,
    )
    source = documents(tmp_path / "in", "refusals", count=2)
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "x").write_text("x")
    one_error_line(
        ledger(
            data_dir,
            "anchor-batch",
            str(source),
            "--type",
            "business-licence",
            "--out",
            str(occupied),
        ),
        2,
    )
    listing = tmp_path / "missing.csv"
    listing.write_text("in/licence-0.txt\nin/nope.txt\n", "utf-8")
    one_error_line(
        ledger(
            data_dir,
            "anchor-batch",
            str(listing),
            "--type",
            "business-licence",
            "--out",
            str(tmp_path / "o2"),
        ),
        2,
    )
    one_error_line(
        ledger(
            data_dir,
            "anchor-batch",
            str(source),
            "--type",
            "no-such-type",
            "--out",
            str(tmp_path / "o3"),
        ),
        2,
    )
    bad_proof = tmp_path / "bad.proof.json"
    bad_proof.write_text('{"version": "gov-ledger/batch-proof/v9"}')
    one_error_line(
        ledger(data_dir, "verify", str(source / "licence-0.txt"), "--proof", str(bad_proof)), 2
    )
    # The same batch twice is a duplicate.
    first = tmp_path / "first"
    succeeded(
        ledger(
            data_dir, "anchor-batch", str(source), "--type", "business-licence", "--out", str(first)
        )
    )
    one_error_line(
        ledger(
            data_dir,
            "anchor-batch",
            str(source),
            "--type",
            "business-licence",
            "--out",
            str(tmp_path / "second"),
        ),
        5,
    )


def test_batch_holders_are_found_by_their_holder_and_stored_nowhere_in_clear(
    data_dir: Path, tmp_path: Path
) -> None:
    """``--holders`` (ADR 0026): each listed document's holder finds it through holdings_of,
    with a proof that verifies; the manifest carries keyed tags only, and neither it nor the
    service database holds an identity number."""
    from ledger.documents.batches import parse_manifest
    from ledger.identity import make_citizen_id
    from ledger.service.database import ServiceDatabase
    from ledger.service.holdings import holdings_of

    alice, bob = make_citizen_id(sequence=411), make_citizen_id(sequence=412)
    source = documents(tmp_path / "in", "holders")
    holders = tmp_path / "holders.csv"
    holders.write_text(
        f"file,subject,kind\nlicence-0.txt,{alice},citizen\nin/licence-1.txt,{bob},\n"
        f"licence-3.txt,{alice}\n",
        "utf-8",
    )
    out = tmp_path / "out"
    summary = json_of(
        ledger(
            data_dir,
            "--json",
            "anchor-batch",
            str(source),
            "--type",
            "business-licence",
            "--out",
            str(out),
            "--holders",
            str(holders),
        )
    )
    assert summary["holders"] == 3
    proofs = {
        index: json.loads((out / f"licence-{index}.txt.proof.json").read_text())
        for index in range(5)
    }
    settings = settings_for(data_dir)
    with LedgerSession.open(settings) as session:
        alice_ref, bob_ref = session.subject_ref(alice), session.subject_ref(bob)
        with ServiceDatabase(settings.service_db_path) as database:
            held = holdings_of(session.certificates(), database, alice_ref)
            by_bob = holdings_of(session.certificates(), database, bob_ref)
        manifest = session.documents().fetch_document(summary["manifest"])
    batched = [holding for holding in held if holding.proof is not None]
    assert [holding.proof.to_json() for holding in batched if holding.proof] == [
        proofs[0],
        proofs[3],
    ]
    assert [holding.proof.to_json() for holding in by_bob if holding.proof] == [proofs[1]]
    parsed = parse_manifest(manifest)
    assert parsed.leaves_of(alice_ref) == tuple(holding.doc_hash for holding in batched)
    assert len(parsed.leaves_of(bob_ref)) == 1
    for secret in (alice, bob):
        assert secret.encode() not in manifest
        assert secret.encode() not in settings.service_db_path.read_bytes()
    # What holdings_of found verifies against the chain as the holder would present it.
    succeeded(
        ledger(
            data_dir,
            "verify",
            str(source / "licence-3.txt"),
            "--proof",
            str(out / "licence-3.txt.proof.json"),
        )
    )


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("licence-0.txt,{bad}\n", "--holders row 1: identifier is not valid"),
        ("file,subject\nlicence-0.txt,{bad},citizen\n", "--holders row 2:"),
        ("licence-9.txt,{good}\n", "--holders row 1: no such document in the batch"),
        ("licence-0.txt,{good}\nlicence-0.txt,{good}\n", "--holders row 2: the document has"),
        ("licence-0.txt,{good},person\n", "--holders row 1: kind is citizen or enterprise"),
        ("licence-0.txt\n", "--holders row 1: expected file,subject[,kind]"),
    ],
)
def test_a_malformed_holders_file_anchors_nothing_and_echoes_no_identifier(
    data_dir: Path, tmp_path: Path, rows: str, message: str
) -> None:
    from ledger.identity import make_citizen_id

    good = make_citizen_id(sequence=413)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")  # a wrong check character
    source = documents(tmp_path / "in", f"refused {len(rows)} {message}")
    holders = tmp_path / "holders.csv"
    holders.write_text(rows.format(good=good, bad=bad), "utf-8")
    result = ledger(
        data_dir,
        "anchor-batch",
        str(source),
        "--type",
        "business-licence",
        "--out",
        str(tmp_path / "out"),
        "--holders",
        str(holders),
    )
    line = one_error_line(result, 2)
    assert message in line
    assert good not in line
    assert bad not in line
    assert not (tmp_path / "out").exists()
