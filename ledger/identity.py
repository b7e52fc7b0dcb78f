"""Subjects of the ledger: citizens (GB 11643 identity numbers) and enterprises (GB 32100 USCCs).

Everything the ledger stores about a subject is keyed by :func:`subject_ref`, never by the number
itself (ADR 0006). Validation is strict because a typo that slipped through would silently
create a second, empty credit history for the same person; the check characters of both standards
exist precisely to catch such typos, so we always verify them.

Error messages name the problem and the kind of identifier but never echo the input, and
:class:`Subject` masks its value in ``repr``/``str``, so identifiers cannot leak into logs,
tracebacks or problem documents.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Final

from ledger.errors import ConfigurationError, InvalidIdentifierError

__all__ = [
    "CITIZEN_PROVINCE_CODES",
    "ENTERPRISE_REGISTRATION_AUTHORITIES",
    "INDIVIDUAL_BUSINESS_PREFIX",
    "MIN_PEPPER_BYTES",
    "SUBJECT_REF_DOMAIN",
    "USCC_ALPHABET",
    "Subject",
    "SubjectKind",
    "citizen_check_character",
    "make_citizen_id",
    "make_uscc",
    "parse_subject",
    "subject_ref",
    "uscc_check_character",
    "validate_citizen_id",
    "validate_pepper",
    "validate_uscc",
]

IDENTIFIER_LENGTH: Final = 18

# ----------------------------------------------------------------------------------------------
# Citizen identity numbers (GB 11643-1999)
# ----------------------------------------------------------------------------------------------

#: Province-level prefixes of GB/T 2260, plus 83. Only the prefix is checked: county codes are
#: renumbered over the years and a number keeps the code it was issued under, so checking the full
#: six digits against today's table would reject real, older numbers. 71 (Taiwan), 81 (Hong
#: Kong) and 82 (Macao) are GB/T 2260 codes; 81, 82 and 83 also head the numbers on residence
#: permits for Hong Kong, Macao and Taiwan residents, which follow GB 11643 and are used for public
#: services.
CITIZEN_PROVINCE_CODES: Final = frozenset(
    {
        *("11", "12", "13", "14", "15"),
        *("21", "22", "23"),
        *("31", "32", "33", "34", "35", "36", "37"),
        *("41", "42", "43", "44", "45", "46"),
        *("50", "51", "52", "53", "54"),
        *("61", "62", "63", "64", "65"),
        *("71", "81", "82", "83"),
    }
)

# ISO 7064 MOD 11-2: position i (1-based, of 18) has weight 2**(18 - i) mod 11. Every weight is
# non-zero mod the prime 11, which is what makes every single-character substitution detectable.
_CITIZEN_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CITIZEN_CHECK_CHARS: Final = "10X98765432"
_CITIZEN_SHAPE: Final = re.compile(r"[0-9]{17}[0-9X]")
_EARLIEST_BIRTH: Final = date(1900, 1, 1)
# Birth dates are civil dates in China, which has kept UTC+8 without daylight saving since 1991;
# a fixed offset avoids depending on the tz database being installed.
_CHINA_STANDARD_TIME: Final = timezone(timedelta(hours=8))

_CITIZEN: Final = "citizen identity number"
_ENTERPRISE: Final = "enterprise credit code"


def citizen_check_character(body: str) -> str:
    """Return the MOD 11-2 check character for the first 17 digits of an identity number.

    Public so that tests and other implementations (the web verifier) can cross-check it.
    """
    if len(body) != IDENTIFIER_LENGTH - 1 or not body.isascii() or not body.isdigit():
        raise InvalidIdentifierError(f"{_CITIZEN}: the body must be 17 ASCII digits")
    total = sum(int(digit) * weight for digit, weight in zip(body, _CITIZEN_WEIGHTS, strict=True))
    return _CITIZEN_CHECK_CHARS[total % 11]


def _china_today() -> date:
    return datetime.now(_CHINA_STANDARD_TIME).date()


def _prepare(text: str, what: str) -> str:
    """Strip and upper-case, refusing anything non-ASCII first.

    ASCII is checked before ``upper()`` because Unicode case mapping can change the length
    ("ß" becomes "SS") and ``str.isdigit`` accepts full-width and other non-ASCII digits.
    """
    if not isinstance(text, str):
        raise InvalidIdentifierError(f"{what}: expected text")
    stripped = text.strip()
    if len(stripped) != IDENTIFIER_LENGTH:
        raise InvalidIdentifierError(f"{what}: wrong length (expected 18 characters)")
    if not stripped.isascii():
        raise InvalidIdentifierError(f"{what}: contains characters outside ASCII")
    return stripped.upper()


def validate_citizen_id(text: str, *, today: date | None = None) -> str:
    """Validate a citizen identity number and return its normalized form (upper-case ``X``).

    ``today`` exists so tests can pin the clock; by default it is today's date in China, because
    a birth date is a local civil date and must not be "in the future" for eight hours a day.
    """
    normalized = _prepare(text, _CITIZEN)
    if not _CITIZEN_SHAPE.fullmatch(normalized):
        raise InvalidIdentifierError(
            f"{_CITIZEN}: only digits are allowed, with X permitted as the final check character"
        )
    if normalized[:2] not in CITIZEN_PROVINCE_CODES:
        raise InvalidIdentifierError(f"{_CITIZEN}: unknown province-level region code")
    try:
        birth = date(int(normalized[6:10]), int(normalized[10:12]), int(normalized[12:14]))
    except ValueError:
        raise InvalidIdentifierError(
            f"{_CITIZEN}: birth date is not a real calendar date"
        ) from None
    if birth < _EARLIEST_BIRTH:
        raise InvalidIdentifierError(f"{_CITIZEN}: birth date is before 1900")
    if birth > (today if today is not None else _china_today()):
        raise InvalidIdentifierError(f"{_CITIZEN}: birth date is in the future")
    if citizen_check_character(normalized[:17]) != normalized[17]:
        raise InvalidIdentifierError(f"{_CITIZEN}: wrong check character")
    return normalized


# ----------------------------------------------------------------------------------------------
# Enterprise unified social credit codes (GB 32100-2015)
# ----------------------------------------------------------------------------------------------

#: The 31 characters of GB 32100, in check-value order. I, O, Z, S and V are left out so that
#: they cannot be misread as 1, 0, 2, 5 and U.
USCC_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUES: Final = {char: value for value, char in enumerate(USCC_ALPHABET)}
_USCC_FORBIDDEN: Final = frozenset("IOZSV")
# Weights are 3**(i - 1) mod 31 for positions 1..17; all non-zero mod the prime 31.
_USCC_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

#: First character: the registration authority. GB 32100-2015 defines 1 (institutional
#: establishment), 5 (civil affairs), 9 (market regulation) and Y (other). The authority table was
#: later extended (2 foreign affairs, 3 justice, e.g. law firms, 4 culture, 6 tourism, 7 religious
#: affairs, 8 trade unions, A military establishment office, N agriculture, e.g. rural collectives),
#: and codes beginning with them are issued and in use, so refusing them would lock real
#: organisations out. The category (second character) tables change with every such extension,
#: so the category is only required to be in the alphabet; the check character catches typos.
ENTERPRISE_REGISTRATION_AUTHORITIES: Final = frozenset("123456789ANY")

#: First two characters of the credit code of an individual industrial and commercial household
#: (个体工商户): registration authority 9 (market regulation), category 2. Its holder is a natural
#: person (:attr:`Subject.natural_person`).
INDIVIDUAL_BUSINESS_PREFIX: Final = "92"

#: Region prefixes valid in a USCC: the citizen province codes plus 10, the national level used by
#: organisations registered with central authorities.
_USCC_REGION_PREFIXES: Final = CITIZEN_PROVINCE_CODES | {"10"}


def uscc_check_character(body: str) -> str:
    """Return the GB 32100 check character for the first 17 characters of a credit code.

    Public so that tests and other implementations (the web verifier) can cross-check it.
    """
    if len(body) != IDENTIFIER_LENGTH - 1 or any(char not in _USCC_VALUES for char in body):
        raise InvalidIdentifierError(
            f"{_ENTERPRISE}: the body must be 17 characters of the code alphabet"
        )
    total = sum(
        _USCC_VALUES[char] * weight for char, weight in zip(body, _USCC_WEIGHTS, strict=True)
    )
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(text: str) -> str:
    """Validate an enterprise unified social credit code and return it upper-cased."""
    normalized = _prepare(text, _ENTERPRISE)
    if any(char in _USCC_FORBIDDEN for char in normalized):
        raise InvalidIdentifierError(
            f"{_ENTERPRISE}: forbidden letter (I, O, Z, S and V are not used)"
        )
    if any(char not in _USCC_VALUES for char in normalized):
        raise InvalidIdentifierError(f"{_ENTERPRISE}: character outside the code alphabet")
    if normalized[0] not in ENTERPRISE_REGISTRATION_AUTHORITIES:
        raise InvalidIdentifierError(f"{_ENTERPRISE}: unknown registration authority code")
    region = normalized[2:8]
    if not region.isdigit():
        raise InvalidIdentifierError(f"{_ENTERPRISE}: administrative region must be six digits")
    if region[:2] not in _USCC_REGION_PREFIXES:
        raise InvalidIdentifierError(f"{_ENTERPRISE}: unknown province-level region code")
    if uscc_check_character(normalized[:17]) != normalized[17]:
        raise InvalidIdentifierError(f"{_ENTERPRISE}: wrong check character")
    return normalized


# ----------------------------------------------------------------------------------------------
# Subjects
# ----------------------------------------------------------------------------------------------


class SubjectKind(StrEnum):
    """Which standard a subject's identifier follows; part of the :func:`subject_ref` input."""

    CITIZEN = "citizen"
    ENTERPRISE = "enterprise"


@dataclass(frozen=True, repr=False)
class Subject:
    """A validated, normalized identifier together with its kind.

    Construction re-validates, so holding a ``Subject`` proves the value is normalized: two
    spellings of one number (``x`` / ``X``, stray spaces) can never yield two subject references.
    ``repr`` and ``str`` show only the kind, so a subject can be logged without leaking the number.
    """

    kind: SubjectKind
    normalized: str

    def __post_init__(self) -> None:
        kind = SubjectKind(self.kind)
        object.__setattr__(self, "kind", kind)
        # No "birth date in the future" check here (date.max): that rule belongs to accepting
        # input, and a stored subject must not become invalid depending on the clock or time zone.
        expected = (
            validate_citizen_id(self.normalized, today=date.max)
            if kind is SubjectKind.CITIZEN
            else validate_uscc(self.normalized)
        )
        if expected != self.normalized:
            raise InvalidIdentifierError(f"{_describe(kind)}: value is not in normalized form")

    @property
    def natural_person(self) -> bool:
        """Whether the holder is a natural person, whose documents are never stored in clear.

        A citizen identity number always names one. So does a credit code of an individual
        industrial and commercial household (个体工商户: registration authority 9, market
        regulation, category 2): the household is its operator, a person, and its licence names
        the operator and carries their identity number. A sole trader registered under their
        identity number is a citizen subject already. Other credit codes name organisations.
        """
        return self.kind is SubjectKind.CITIZEN or self.normalized.startswith(
            INDIVIDUAL_BUSINESS_PREFIX
        )

    def __repr__(self) -> str:
        return f"Subject(kind={self.kind.value!r}, normalized=<redacted>)"

    def __str__(self) -> str:
        return f"<{self.kind.value} subject>"


def _describe(kind: SubjectKind) -> str:
    return _CITIZEN if kind is SubjectKind.CITIZEN else _ENTERPRISE


def parse_subject(
    text: str, kind: SubjectKind | None = None, *, today: date | None = None
) -> Subject:
    """Validate ``text`` and return a :class:`Subject`, detecting the kind unless one is given.

    Both standards use 18 characters and an all-digit credit code is common, so a few strings
    validate as both. Guessing would be wrong for someone, and because the kind is part of the
    subject reference a wrong guess splits a history in two; such input is refused unless the
    caller states ``kind``. Callers that know the kind (a form field, an API parameter) should
    pass it: detection means a mistyped citizen number has a small chance (about 1 in 31 for some
    regions) of validating as a credit code instead of being refused.
    """
    if kind is not None:
        kind = SubjectKind(kind)
        if kind is SubjectKind.CITIZEN:
            return Subject(kind, validate_citizen_id(text, today=today))
        return Subject(kind, validate_uscc(text))

    prepared = _prepare(text, "identifier")
    citizen = _attempt(lambda: validate_citizen_id(prepared, today=today))
    enterprise = _attempt(lambda: validate_uscc(prepared))
    if isinstance(citizen, str) and isinstance(enterprise, str):
        raise InvalidIdentifierError(
            "identifier is valid both as a citizen identity number and as an enterprise credit "
            "code; state which kind it is"
        )
    if isinstance(citizen, str):
        return Subject(SubjectKind.CITIZEN, citizen)
    if isinstance(enterprise, str):
        return Subject(SubjectKind.ENTERPRISE, enterprise)
    if not prepared[:17].isdigit():
        # A letter before the last position: it can only have been meant as a credit code.
        raise InvalidIdentifierError(str(enterprise))
    raise InvalidIdentifierError(f"identifier is not valid ({citizen}; {enterprise})")


def _attempt(validate: Callable[[], str]) -> str | InvalidIdentifierError:
    try:
        return validate()
    except InvalidIdentifierError as error:
        return error


# ----------------------------------------------------------------------------------------------
# Subject references
# ----------------------------------------------------------------------------------------------

#: Prefix of every HMAC input. The version lets a future scheme coexist with this one; the NUL
#: separators make the encoding injective (neither the kind nor an identifier contains NUL), so a
#: citizen and an enterprise with the same 18 characters get unrelated references, and a pepper
#: that is ever reused for another HMAC purpose cannot produce colliding values.
SUBJECT_REF_DOMAIN: Final = b"gov-ledger/subject/v1\x00"
MIN_PEPPER_BYTES: Final = 32


def subject_ref(pepper: bytes, subject: Subject) -> bytes:
    """Return the 32-byte key under which the ledger stores everything about ``subject``.

    A plain or salted hash of an 18-digit number can be brute-forced (about 1.3e11 citizen
    numbers), so the reference is an HMAC under a secret pepper that never leaves the deployment.
    The pepper is checked on every call because a weak one silently turns references back into
    guessable hashes.
    """
    validate_pepper(pepper)
    message = (
        SUBJECT_REF_DOMAIN
        + subject.kind.value.encode("ascii")
        + b"\x00"
        + subject.normalized.encode("ascii")
    )
    return hmac.new(pepper, message, hashlib.sha256).digest()


_PLACEHOLDER_WORDS: Final = (
    "changeme",
    "change_me",
    "change-me",
    "changethis",
    "placeholder",
    "secret",
    "password",
    "example",
    "replace",
    "dummy",
    "insecure",
    "notsecure",
    "default",
    "pepper",
    "xxxx",
)
# Short words are only refused at the start: as substrings they would reject about one in
# ten thousand random URL-safe tokens.
_PLACEHOLDER_PREFIXES: Final = ("test", "todo", "demo", "fake", "dev", "abc", "123")
_HEX_TEXT: Final = re.compile(rb"(?:[0-9a-fA-F]{2})+")


def validate_pepper(pepper: bytes) -> None:
    """Refuse a pepper that is short, patterned or an obvious placeholder.

    Called by the settings at startup so that a deployment with a copied example value refuses to
    start instead of producing guessable references (ADR 0006). Word checks only apply
    to peppers that look like typed text (or hex-encoded text), so random binary peppers are never
    refused by accident. The message never contains the pepper.
    """
    if not isinstance(pepper, bytes | bytearray):
        raise ConfigurationError("subject pepper must be bytes")
    pepper = bytes(pepper)
    if len(pepper) < MIN_PEPPER_BYTES:
        raise ConfigurationError(
            f"subject pepper is too short: at least {MIN_PEPPER_BYTES} random bytes are required"
        )
    if len(set(pepper)) == 1:
        raise ConfigurationError("subject pepper is one byte repeated; generate a random one")
    if _looks_like_placeholder(pepper):
        raise ConfigurationError(
            "subject pepper looks like a placeholder or a pattern; generate a random one, e.g. "
            "with secrets.token_bytes(32)"
        )


def _looks_like_placeholder(data: bytes) -> bool:
    if _is_periodic(data) or _is_arithmetic_progression(data):
        return True
    if _is_mostly_printable(data):
        text = data.decode("latin-1").lower()
        if any(word in text for word in _PLACEHOLDER_WORDS):
            return True
        if text.startswith(_PLACEHOLDER_PREFIXES):
            return True
        if _HEX_TEXT.fullmatch(data):
            return _looks_like_placeholder(bytes.fromhex(data.decode("ascii")))
    return False


def _is_periodic(data: bytes) -> bool:
    """True if ``data`` repeats a unit too short to be a pepper (``b"changeme" * 4``).

    A unit of :data:`MIN_PEPPER_BYTES` or more may itself be random, so longer periods are not
    refused; that bound also keeps the check cheap for long inputs.
    """
    longest = min(len(data) // 2, MIN_PEPPER_BYTES - 1)
    return any(
        data == (data[:period] * (len(data) // period + 1))[: len(data)]
        for period in range(1, longest + 1)
    )


def _is_arithmetic_progression(data: bytes) -> bool:
    """True for counters such as ``bytes(range(32))``, a common stand-in in examples."""
    if len(data) < 3:
        return False
    step = (data[1] - data[0]) % 256
    return all((data[index + 1] - data[index]) % 256 == step for index in range(len(data) - 1))


def _is_mostly_printable(data: bytes) -> bool:
    printable = sum(1 for byte in data if 0x20 <= byte < 0x7F)
    return printable * 10 >= len(data) * 9


# ----------------------------------------------------------------------------------------------
# Synthetic identifiers for tests and demo data
# ----------------------------------------------------------------------------------------------


def make_citizen_id(
    region: str = "110101", birth: date = date(1990, 1, 1), sequence: int = 123
) -> str:
    """Build a valid, synthetic citizen identity number; for tests and demo data only.

    The check character is computed, so the result passes :func:`validate_citizen_id`. Real
    numbers must never be used in tests or fixtures: they are personal data.
    """
    if len(region) != 6 or not region.isascii() or not region.isdigit():
        raise InvalidIdentifierError(f"{_CITIZEN}: region must be six digits")
    if not 0 <= sequence <= 999:
        raise InvalidIdentifierError(f"{_CITIZEN}: sequence must be between 0 and 999")
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return validate_citizen_id(body + citizen_check_character(body))


def make_uscc(
    registration_authority: str = "9",
    category: str = "1",
    region: str = "110108",
    organisation_code: str = "MA0000001",
) -> str:
    """Build a valid, synthetic unified social credit code; for tests and demo data only.

    The check character is computed, so the result passes :func:`validate_uscc`. The default is
    an enterprise (9, 1) registered in Beijing with a made-up organisation code.
    """
    body = f"{registration_authority}{category}{region}{organisation_code}".upper()
    if len(body) != IDENTIFIER_LENGTH - 1:
        raise InvalidIdentifierError(f"{_ENTERPRISE}: parts must be 1, 1, 6 and 9 characters long")
    return validate_uscc(body + uscc_check_character(body))
