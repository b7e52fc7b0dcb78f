"""DocumentDigester (content hashed as it arrives, issue 13 item 11) gives what
digest_and_proof gives for the whole content, however the content is cut into pieces."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.documents import (
    DigestAndProof,
    DocumentDigester,
    digest_and_proof,
    dump_certificate,
    salt_fields,
)
from ledger.errors import InvalidDocumentError

LIMIT = 2048
CERTIFICATE = dump_certificate(
    salt_fields({"name": "示例科技有限公司", "capital": 1000}, certificate_type="business-licence")
)
OVERSIZED_CERTIFICATE = CERTIFICATE[:-1] + b', "padding": "' + b"x" * LIMIT + b'"}'


def digested(content: bytes, cuts: list[int]) -> DigestAndProof | str:
    digester = DocumentDigester(LIMIT)
    start = 0
    for cut in [*sorted({min(cut, len(content)) for cut in cuts}), len(content)]:
        digester.update(content[start:cut])
        start = cut
    assert digester.size == len(content)
    try:
        return digester.result()
    except InvalidDocumentError as error:
        return str(error)


def whole(content: bytes) -> DigestAndProof | str:
    try:
        return digest_and_proof(content, max_certificate_bytes=LIMIT)
    except InvalidDocumentError as error:
        return str(error)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"   \n",
        b"a plain file",
        b"x" * (3 * LIMIT),
        b'{"a": 1}',
        b"  \n" + CERTIFICATE,
        CERTIFICATE,
        OVERSIZED_CERTIFICATE,
        b"  " + OVERSIZED_CERTIFICATE,
        b'{"note": "mentions \\"gov-ledger/cert/ but is no certificate"}',
        b"{" + b" " * (2 * LIMIT) + b'"version": "gov-ledger/cert/1"}',
    ],
    ids=[
        "empty",
        "whitespace",
        "file",
        "large-file",
        "json",
        "certificate-after-whitespace",
        "certificate",
        "oversized-certificate",
        "oversized-certificate-after-whitespace",
        "json-mentioning-the-marker",
        "marker-past-the-limit",
    ],
)
@given(cuts=st.lists(st.integers(min_value=0, max_value=8 * LIMIT), max_size=12))
@settings(max_examples=30, deadline=None)
def test_pieces_digest_as_the_whole(content: bytes, cuts: list[int]) -> None:
    assert digested(content, cuts) == whole(content)


def test_only_what_may_be_a_certificate_is_held() -> None:
    digester = DocumentDigester(LIMIT)
    for _ in range(100):
        digester.update(b"y" * 1000)
    assert digester._held is None  # a file is never held, only hashed
    assert digester.result() == digest_and_proof(b"y" * 100_000)
