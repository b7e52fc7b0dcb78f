"""RFC 8785 canonical JSON, written directly for the plain values a certificate holds.

RFC 8785 (JSON Canonicalization Scheme) gives one byte form to every JSON value, whatever its key
order, whitespace or number spelling: the preimage of every certificate leaf, and the stored form
of a wrapped certificate, are written in it. :func:`canonical_text` writes that form itself for
plain ``str``/``int``/``float``/``bool``/``None``/``dict``/``list``/``tuple`` values (the fast
path: several times faster than walking the value in the ``rfc8785`` package), and raises
:class:`NotCanonicalFastError` for anything else, so that its callers hand the whole value to
:func:`rfc8785.dumps`. The bytes and the refusals are always ``rfc8785``'s;
``tests/unit/test_fast_paths.py`` compares the two.

Not here: what a certificate is and which values it holds (:mod:`ledger.documents.certificate`,
the caller), and reading JSON (:mod:`ledger.documents.strict_json`).
"""

from __future__ import annotations

import json
from typing import Final

import rfc8785

__all__ = [
    "MAX_SAFE_INTEGER",
    "NotCanonicalFastError",
    "canonical_text",
    "json_string",
    "utf16_key",
]

#: RFC 8785 numbers are IEEE 754 doubles; integers beyond this are not exact (I-JSON, RFC 7493).
MAX_SAFE_INTEGER: Final = 2**53 - 1

# The JSON string escaping of RFC 8785 (section 3.2.2.2) is exactly the standard library's with
# ensure_ascii=False: '"' and '\\' escaped, \b \f \n \r \t as such, the other controls as
# \u00xx in lower-case hex, everything else (including U+007F and non-ASCII) as itself. This is
# the C-accelerated encoder of the json module.
json_string: Final = json.encoder.encode_basestring


class NotCanonicalFastError(Exception):
    """A value this module does not write itself; :func:`rfc8785.dumps` decides."""


def utf16_key(item: tuple[object, object]) -> bytes:
    """Sort key of a ``(key, value)`` pair: the key's UTF-16 code units, RFC 8785's member order
    (which differs from Python's code-point order beyond the Basic Multilingual Plane)."""
    key = item[0]
    if type(key) is not str:
        raise NotCanonicalFastError
    return key.encode("utf-16be")


def canonical_text(value: object) -> str:
    """The RFC 8785 form of ``value`` as text, identical to ``rfc8785.dumps(value).decode()``.

    Written here: strings, booleans, ``None``, integers within RFC 8785's safe range, floats (each
    by :func:`rfc8785.dumps` itself), and dicts, lists and tuples of them, keys sorted by their
    UTF-16 code units. Anything else (subclasses of those types, other objects, a key that is not
    a string, an integer out of range) raises :class:`NotCanonicalFastError`; a NaN raises
    ``rfc8785.CanonicalizationError``, and text with unpaired surrogates fails when the result is
    encoded (``UnicodeError``). On any of the three, callers hand the whole value to
    :func:`rfc8785.dumps`, which writes it or raises exactly as it always did, so the bytes and
    the errors are those of ``rfc8785`` in every case.
    """
    kind = type(value)
    if isinstance(value, str) and kind is str:
        return json_string(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and kind is int and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return str(value)
    if isinstance(value, float) and kind is float:
        return rfc8785.dumps(value).decode("ascii")
    if isinstance(value, dict) and kind is dict:
        items = sorted(value.items(), key=utf16_key)
        return (
            "{"
            + ",".join(f"{json_string(key)}:{canonical_text(item)}" for key, item in items)
            + "}"
        )
    if isinstance(value, list | tuple) and kind in (list, tuple):
        return "[" + ",".join(canonical_text(item) for item in value) + "]"
    raise NotCanonicalFastError
