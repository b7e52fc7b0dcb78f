"""Every problem the API can answer with has words in the pages, in Chinese and in English.

The pages show an error from its stable ``code`` (``error.<code>``) and, when a contract refused
the write, from the Solidity error named at the end of the detail (``contract.<Name>``): never the
service's English text or the Solidity name itself (api/web/static/common.js ``describeError``).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Final, TypeVar

import pytest

import api
import ledger
from api.problems import _HTTP_CODES, _INTENTS
from api.web.pages import STATIC_DIR
from ledger import errors
from ledger.errors import ContractError, LedgerError

T = TypeVar("T")

ROOT: Final = Path(__file__).resolve().parents[2]
#: Modules with a ``__main__`` side effect, not error definitions.
_SKIPPED: Final = {"api.__main__", "ledger.__main__"}
_KEY: Final = re.compile(r'^\s+"([\w. -]+)":', re.MULTILINE)
#: Literal problem codes in the service's source: ProblemError(403, "code"),
#: problem_response(request, 429, "code"), and answers written by the HTTP protocol.
_LITERAL_CODES: Final = (
    re.compile(r'ProblemError\(\s*\d+,\s*"(\w+)"'),
    re.compile(r'problem_response\(\s*[^,]+,\s*\d+,\s*"(\w+)"'),
    re.compile(r'_answer_and_close\(\s*\d+,\s*"[^"]*",\s*"(\w+)"'),
)


def dictionary(language: str) -> set[str]:
    source = (STATIC_DIR / "i18n.js").read_text(encoding="utf-8")
    zh, en = source.index("  zh: {"), source.index("  en: {")
    block = source[zh:en] if language == "zh" else source[en : source.index("\n};\n", en)]
    return set(_KEY.findall(block))


def _subclasses(cls: type[T]) -> Iterator[type[T]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def problem_codes() -> set[str]:
    """Every ``code`` a problem document of the API can carry."""
    for package in (ledger, api):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if module.name not in _SKIPPED:
                importlib.import_module(module.name)
    codes = set(_HTTP_CODES.values())
    # A ledger error reaches a client with its own code when its intent has a 4xx/503 status.
    codes |= {
        cls.code
        for cls in _subclasses(LedgerError)
        if any(issubclass(cls, kind) for kind, _status in _INTENTS)
    }
    for path in (ROOT / "api").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for pattern in _LITERAL_CODES:
            codes |= set(pattern.findall(text))
    return codes


def contract_errors() -> set[str]:
    return {
        cls.error_name
        for cls in _subclasses(ContractError)
        if cls.__module__ == errors.__name__ and cls is not errors.UnknownContractError
    }


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_problem_code_has_a_message(language: str) -> None:
    codes = problem_codes()
    assert {"not_authorized", "invalid", "too_many_requests", "internal_error"} <= codes
    missing = {f"error.{code}" for code in codes} - dictionary(language)
    assert missing == set()


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_contract_refusal_has_a_message(language: str) -> None:
    names = contract_errors()
    assert "AccreditationNotIssuer" in names
    assert len(names) > 40
    missing = {f"contract.{name}" for name in names} - dictionary(language)
    assert missing == set()


def test_contract_errors_end_their_message_as_the_pages_read_it() -> None:
    """common.js reads the Solidity name from "… [Name: arguments]" at the end of a detail."""
    pattern = re.compile(r"\[([A-Z][A-Za-z0-9]*)(?::[^\]]*)?\]\s*$")  # CONTRACT_ERROR in common.js
    assert f"/{pattern.pattern}/" in (STATIC_DIR / "common.js").read_text(encoding="utf-8")
    for cls in _subclasses(ContractError):
        found = pattern.search(str(cls({"docHash": b"\x01" * 32})))
        assert found is not None, cls
        assert found.group(1) == cls.error_name
        assert pattern.search(str(cls())) is not None


def test_chinese_messages_are_chinese() -> None:
    """A Chinese error line is written in Chinese: no English words but the names of commands."""
    source = (STATIC_DIR / "i18n.js").read_text(encoding="utf-8")
    zh = source[source.index("  zh: {") : source.index("  en: {")]
    entry = re.compile(r'^\s+"((?:error|contract|field)\.[\w. -]+)":\s*\n?\s*"([^"]*)"', re.M)
    english = re.compile(r"\b[A-Za-z]{3,}\b")
    lines = {key: re.sub(r"\{\w+\}", "", text) for key, text in entry.findall(zh)}
    assert len(lines) > 80
    assert {key: text for key, text in lines.items() if english.search(text)} == {}
