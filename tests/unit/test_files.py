"""ledger/files.py: a file is replaced whole or not at all, and an exclusive one never replaced."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.files import TEMPORARY_SUFFIX, atomic_file, write_atomically


def _strays(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(TEMPORARY_SUFFIX))


def test_a_replacement_is_whole_with_its_mode_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    write_atomically(path, b"old")
    write_atomically(path, b"new", mode=0o600)
    assert path.read_bytes() == b"new"
    assert path.stat().st_mode & 0o777 == 0o600
    assert _strays(tmp_path) == []


def _crash_while_writing(path: Path) -> None:
    with atomic_file(path) as handle:
        handle.write(b"half")
        raise RuntimeError("crash")


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    write_atomically(path, b"old")
    with pytest.raises(RuntimeError, match="crash"):
        _crash_while_writing(path)
    assert path.read_bytes() == b"old"
    assert _strays(tmp_path) == []


def test_an_exclusive_file_is_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    with atomic_file(path, mode=0o600, exclusive=True) as handle:
        handle.write(b"first")
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(FileExistsError), atomic_file(path, exclusive=True) as handle:
        handle.write(b"second")
    assert path.read_bytes() == b"first"
    assert _strays(tmp_path) == []
