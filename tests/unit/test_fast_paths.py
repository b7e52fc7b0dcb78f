"""The fast paths under documents and Merkle trees give exactly what the reference libraries
give: keccak256 through safe-pysha3 against eth_hash, and the RFC 8785 writer of
ledger.documents.canonical against the rfc8785 package (bytes, and the same refusals)."""

from __future__ import annotations

import rfc8785
from eth_hash.auto import keccak as reference_keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.documents import canonical
from ledger.documents.keccak import keccak256

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)


@given(st.binary(max_size=300))
@settings(max_examples=300, deadline=None)
def test_keccak_matches_eth_hash(data: bytes) -> None:
    assert keccak256(data) == reference_keccak(data)


def _fast(value: object) -> bytes | type[BaseException]:
    try:
        return canonical.canonical_text(value).encode("utf-8")
    except canonical.NotCanonicalFastError:
        return canonical.NotCanonicalFastError
    except (rfc8785.CanonicalizationError, UnicodeError) as error:
        return type(error)


def _reference(value: object) -> bytes | type[BaseException]:
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, UnicodeError) as error:
        return type(error)


@given(json_values)
@settings(max_examples=600, deadline=None)
def test_canonical_writer_matches_rfc8785(value: object) -> None:
    fast = _fast(value)
    if fast is canonical.NotCanonicalFastError:
        return  # handed to rfc8785 itself by the callers
    reference = _reference(value)
    if isinstance(fast, bytes):
        assert fast == reference
    else:
        # Refused by the fast path: rfc8785 must refuse too (callers then let it decide).
        assert not isinstance(reference, bytes) or fast is UnicodeError


def test_canonical_writer_sorts_keys_by_utf16_code_units() -> None:
    value = {"\U0001f600": 1, "\uff61": 2, "a": 3, "": 4}
    assert canonical.canonical_text(value).encode() == rfc8785.dumps(value)
