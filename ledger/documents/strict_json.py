"""The strict reading of untrusted certificate JSON, and the same checks on JSON built in Python.

:func:`parse_json` reads bytes or text with the standard library's C decoder, but refuses what two
parsers could read differently or what would cost a verifier too much: input over the caller's
size limit, text that is not UTF-8, duplicate keys, NaN and Infinity, integers a double cannot
hold exactly, unpaired surrogates, and nesting deeper than :data:`MAX_JSON_DEPTH` (measured before
the decoder recurses). :func:`normalize_json` makes the same checks on a value built in Python and
returns a private copy. Every refusal is an ``InvalidDocumentError`` whose message never quotes the
input.

Not here: the certificate's own structure (wrapper keys, salts, leaves:
:mod:`ledger.documents.certificate`) and writing JSON (:mod:`ledger.documents.canonical`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Final, TypeAlias

from ledger.documents.canonical import MAX_SAFE_INTEGER
from ledger.errors import InvalidDocumentError

__all__ = [
    "MAX_JSON_DEPTH",
    "JSONValue",
    "normalize_json",
    "parse_json",
    "require_shallow",
    "require_unicode",
]

JSONValue: TypeAlias = (
    bool | int | float | str | Sequence["JSONValue"] | Mapping[str, "JSONValue"] | None
)

#: Deepest nesting accepted in a wrapped certificate, counting the wrapper itself. Deep nesting has
#: no use in a certificate and costs recursion in every parser a verifier might use.
MAX_JSON_DEPTH: Final = 32

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _nesting_depth(text: str) -> int:
    """Deepest bracket nesting outside string literals (malformed input is left to the parser)."""
    depth = deepest = 0
    for char in _JSON_STRING.sub("", text):
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def require_shallow(text: str) -> None:
    """Refuse JSON nested deeper than :data:`MAX_JSON_DEPTH` before a decoder recurses into it,
    for callers that read JSON other than a certificate with ``json.loads``: in a process that
    imports the chain libraries the recursion limit is 100,000 (py_ecc raises it), so the C
    decoder exhausts the C stack (a segfault taking the service down) long before a
    RecursionError on 100,000 "[" sent by anyone."""
    if text.count("{") + text.count("[") > MAX_JSON_DEPTH and _nesting_depth(text) > MAX_JSON_DEPTH:
        raise _too_deep()


class _UnacceptableJSONError(Exception):
    """Raised from inside ``json.loads`` hooks; carries a message that is safe to show."""


def parse_json(data: bytes | str, max_bytes: int) -> JSONValue:
    """Read untrusted JSON of at most ``max_bytes`` bytes strictly (see the module docstring).

    The result is made of fresh ``dict``/``list`` objects that nothing else holds, checked as
    :func:`normalize_json` checks, so callers use it without another copy.
    """
    if isinstance(data, str):
        try:
            data = data.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidDocumentError("certificate is not valid Unicode text") from None
    if not isinstance(data, bytes):
        raise InvalidDocumentError("certificate must be given as bytes or text")
    if len(data) > max_bytes:
        raise InvalidDocumentError(f"certificate is larger than {max_bytes} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidDocumentError("certificate is not valid UTF-8") from None
    # The C JSON decoder recurses once per nesting level and can exhaust the C stack (a segfault,
    # not a RecursionError) on hostile input such as 100,000 "[": measure the depth first.
    # Nesting cannot be deeper than the number of opening brackets: count them (fast, in C) and
    # measure only when there are enough of them to matter.
    if text.count("{") + text.count("[") > MAX_JSON_DEPTH and _nesting_depth(text) > MAX_JSON_DEPTH:
        raise _too_deep()
    try:
        if text.startswith("\ufeff"):  # refused as json.loads refuses it
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        parsed: JSONValue = _STRICT_DECODER.decode(text)
    except _UnacceptableJSONError as error:
        raise InvalidDocumentError(f"certificate JSON is not acceptable: {error}") from None
    except json.JSONDecodeError as error:
        # msg and position only: the exception's doc attribute holds the whole input.
        raise InvalidDocumentError(
            f"certificate is not valid JSON ({error.msg} at line {error.lineno} "
            f"column {error.colno})"
        ) from None
    except RecursionError:
        raise _too_deep() from None
    except ValueError:
        raise InvalidDocumentError("certificate JSON has a number that is too long") from None
    # The parser has checked what normalize_json would (no duplicate key, exact integers,
    # finite numbers; the depth was measured above) and built fresh objects, which need no copy.
    # Left: unpaired surrogates, which in text that decoded as UTF-8 only a \uD800-\uDFFF escape
    # can produce. Where one may be (an escaped backslash followed by "ud8" matches too), the
    # whole document is checked.
    if _SURROGATE_ESCAPE.search(text):
        return normalize_json(parsed, MAX_JSON_DEPTH)
    return parsed


def _object_without_duplicates(pairs: list[tuple[str, JSONValue]]) -> dict[str, JSONValue]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _UnacceptableJSONError("an object has a duplicate key")
    return result


def _reject_constant(_name: str) -> float:
    raise _UnacceptableJSONError("NaN and Infinity are not JSON numbers")


def _finite_float(literal: str) -> float:
    number = float(literal)
    if not math.isfinite(number):  # 1e400
        raise _UnacceptableJSONError("NaN and Infinity are not JSON numbers")
    return number


def _exact_integer(literal: str) -> int | float:
    return _exact_number(int(literal))


def _exact_number(number: int) -> int | float:
    """Keep an integer RFC 8785 accepts as one; beyond 2**53 - 1, the double it unambiguously names.

    RFC 8785 treats every number as an IEEE double, and the library refuses integers beyond
    2**53 - 1 even when a double holds them. A large integer is accepted when it is exactly a
    double (10**16) or is the shortest decimal spelling of one, which is how RFC 8785 writes large
    doubles (6.766102500718389e16 is written 67661025007183890): either way every parser that
    reads it as a double or as an exact integer ends up with the same canonical bytes, so
    ``load(dump(x))`` hashes like ``x``. Any other integer (2**53 + 1) would be silently rounded
    by some parsers and not others, so it is refused.
    """
    if -MAX_SAFE_INTEGER <= number <= MAX_SAFE_INTEGER:
        return number
    try:
        as_float = float(number)
    except OverflowError:
        raise _UnacceptableJSONError("a number is outside the range of JSON numbers") from None
    if as_float != number and int(Decimal(repr(as_float))) != number:
        raise _UnacceptableJSONError("an integer is too large to be represented exactly")
    return as_float


# One decoder for every document (json.loads would build one, and its scanner, per call); it keeps
# no state between calls, so threads can share it as they share json.loads's default decoder.
_STRICT_DECODER: Final = json.JSONDecoder(
    object_pairs_hook=_object_without_duplicates,
    parse_constant=_reject_constant,
    parse_int=_exact_integer,
    parse_float=_finite_float,
)


def normalize_json(value: object, depth_left: int) -> JSONValue:
    """Check that ``value`` is JSON that RFC 8785 can canonicalize, and return a private copy."""
    try:
        return _normalize(value, depth_left)
    except _UnacceptableJSONError as error:
        raise InvalidDocumentError(f"certificate JSON is not acceptable: {error}") from None


def _normalize(value: object, depth_left: int) -> JSONValue:
    # Plain strings first: nearly every value is one (a str subclass takes the path below).
    if type(value) is str:
        if not value.isascii():
            require_unicode(value)
        return value
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return _exact_number(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _UnacceptableJSONError("NaN and Infinity are not JSON numbers")
        return float(value)
    if isinstance(value, str):
        require_unicode(value)
        return str(value)
    if isinstance(value, Mapping):
        if depth_left <= 0:
            raise _too_deep()
        result: dict[str, JSONValue] = {}
        for key, item in value.items():
            if type(key) is not str or not key.isascii():
                if not isinstance(key, str):
                    raise _UnacceptableJSONError("object keys must be strings")
                require_unicode(key)
            # An ASCII string is its own copy: no call needed.
            if type(item) is str and item.isascii():
                result[str(key)] = item
            else:
                result[str(key)] = _normalize(item, depth_left - 1)
        return result
    if isinstance(value, list | tuple):
        if depth_left <= 0:
            raise _too_deep()
        return [
            item if type(item) is str and item.isascii() else _normalize(item, depth_left - 1)
            for item in value
        ]
    raise _UnacceptableJSONError(f"values of type {type(value).__name__} are not JSON")


def require_unicode(text: str) -> None:
    """Refuse text with unpaired surrogates: it has no UTF-8 form, so no hash and no canonical
    bytes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidDocumentError("text contains unpaired surrogates") from None


def _too_deep() -> InvalidDocumentError:
    return InvalidDocumentError(f"certificate JSON is nested deeper than {MAX_JSON_DEPTH} levels")
