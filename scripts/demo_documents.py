"""The demo's documents on disk: generated once in ``DIR/demo-documents`` and reused.

Split from ``scripts/seed_demo.py`` so the seeding of the chain (``seed_demo``) and of the window
workflow (``demo_window``) build their documents the same way; what is seeded is in
``scripts/demo_data.py``.
"""

# Chinese text is set with full-width punctuation (commas, colons, brackets), which RUF001
# flags as ambiguous.
# ruff: noqa: RUF001

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

from demo_data import (
    AMENDMENT_TITLES,
    DEMO_BANNER,
    DEPARTMENT_BY_ID,
    SPOUSES,
    SUBJECT_BY_LABEL,
    CertificateSpec,
    CreditSpec,
    SubjectSpec,
)

from ledger.catalogue import certificate_type, credit_category
from ledger.contracts import Amendment, Polarity
from ledger.documents import document_hash_of, dump_certificate, salt_fields
from ledger.errors import ConfigurationError
from ledger.files import write_atomically

MANIFEST_FILE: Final = "manifest.json"


@dataclass(frozen=True)
class StoredDocument:
    """A demo document as written (once) and its anchored hash."""

    path: Path
    digest: bytes
    dates: Mapping[str, str | None]


class DocumentFolder:
    """``DIR/demo-documents``: each document is generated once and then reused.

    Reuse is what makes a second run idempotent: a regenerated document would have a new hash
    (fresh salts, serial numbers, dates) and be anchored a second time. The dates a document was
    generated with (issue date, expiry, date of a credit event) are kept in ``manifest.json`` so a
    later run anchors or records with the same values.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._manifest_path = root / MANIFEST_FILE
        try:
            loaded = json.loads(self._manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            loaded = {}
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot read {self._manifest_path}: {exc}") from None
        self._manifest: dict[str, dict[str, str | None]] = (
            loaded if isinstance(loaded, dict) else {}
        )
        self.created = 0

    def ensure(
        self,
        relative: str,
        dates: Mapping[str, str | None],
        build: Callable[[Mapping[str, str | None]], bytes],
    ) -> StoredDocument:
        """The document at ``relative``, built from ``dates`` unless it already exists."""
        path = self.root / relative
        known = self._manifest.get(relative)
        if known is None or not path.is_file():
            known = dict(dates)
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_atomically(path, build(known))
            self._manifest[relative] = known
            write_atomically(
                self._manifest_path,
                (json.dumps(self._manifest, indent=2, sort_keys=True) + "\n").encode(),
            )
            self.created += 1
        return StoredDocument(path, document_hash_of(path).hash, known)


def iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def document_number(department_id: int) -> str:
    """A document number: random, so no two demo documents (or runs) hash alike."""
    return f"DEMO-{department_id}-{secrets.token_hex(4).upper()}"


def text_document(title: str, lines: Sequence[tuple[str, str]]) -> bytes:
    body = [title, DEMO_BANNER, ""]
    body += [f"{label}：{value}" for label, value in lines]
    return ("\n".join(body) + "\n").encode("utf-8")


def certificate_bytes(
    spec: CertificateSpec, subject: SubjectSpec, dates: Mapping[str, str | None]
) -> bytes:
    kind = certificate_type(spec.type_name)
    issuer = DEPARTMENT_BY_ID[spec.department_id].name
    serial = document_number(spec.department_id)
    valid_until = dates["validUntil"] or "长期"
    if kind.personal:
        # Documents about natural persons are structured certificates: every field has its own
        # salt, so a holder can hide fields and the hash cannot be guessed from the values.
        fields: dict[str, Any] = {
            "title": kind.title_zh,
            "holderName": subject.name,
            "holderIdMasked": subject.masked,
            "issuer": issuer,
            "serial": serial,
            "issuedOn": dates["issuedOn"],
            "validUntil": dates["validUntil"],
            "notice": DEMO_BANNER,
        }
        if spec.holder in SPOUSES:
            fields["spouseName"] = SUBJECT_BY_LABEL[SPOUSES[spec.holder]].name
        if spec.type_name == "residence-certificate":
            fields["address"] = "示例市示例区示例路 1 号（虚构）"
        fields.update(dict(spec.details))
        return dump_certificate(salt_fields(fields, certificate_type=kind.name))
    lines = [
        ("名称", subject.name),
        ("统一社会信用代码", subject.identifier),
        ("法定代表人", "示例 法人"),
        ("住所", "示例市示例区示例大道 100 号（虚构）"),
        *spec.details,
        ("发证机关", issuer),
        ("证照编号", serial),
        ("发证日期", str(dates["issuedOn"])),
        ("有效期至", str(valid_until)),
    ]
    return text_document(f"{kind.title_zh}（{kind.title_en}）", lines)


def credit_bytes(spec: CreditSpec, subject: SubjectSpec, dates: Mapping[str, str | None]) -> bytes:
    category = credit_category(spec.category)
    title = "表彰决定书" if spec.polarity is Polarity.POSITIVE else "行政处理决定书"
    lines = [
        ("当事人", subject.name),
        ("证件", subject.masked),
        ("类别", f"{category.title_zh}（{category.name}）"),
        ("事实", spec.facts),
        ("发生日期", str(dates["occurredOn"])),
        ("决定机关", DEPARTMENT_BY_ID[spec.department_id].name),
        ("文号", document_number(spec.department_id)),
    ]
    return text_document(title, lines)


def amendment_bytes(spec: CreditSpec, status: Amendment, dates: Mapping[str, str | None]) -> bytes:
    lines = [
        ("事项", f"{spec.name} 的信用记录"),
        ("决定", status.name.lower()),
        ("决定日期", str(dates["decidedOn"])),
        ("决定机关", DEPARTMENT_BY_ID[spec.department_id].name),
        ("文号", document_number(spec.department_id)),
    ]
    return text_document(AMENDMENT_TITLES[status], lines)
