"""Identity numbers, credit codes and subject references (ledger.identity).

Every identifier here is synthetic. The hand-checked samples were verified with an independent
awk implementation of both checksums, not with the code under test:

* ``11010519491231002X`` is the worked example printed in GB 11643-1999.
* ``440524188001010014`` is the other GB 11643-1999 example; its check character is right but
  its 1880 birth date is before the ledger's 1900 floor.
* ``11010120000229123X`` is a 29 February 2000 birth (2000 is a leap year).
* ``91350100M000100Y43`` is the worked example printed in GB 32100-2015.
* ``131102197001010420`` is valid under both standards (the ambiguity parse_subject refuses).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import secrets
from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ledger.errors import ConfigurationError, InvalidIdentifierError
from ledger.identity import (
    CITIZEN_PROVINCE_CODES,
    ENTERPRISE_REGISTRATION_AUTHORITIES,
    USCC_ALPHABET,
    Subject,
    SubjectKind,
    citizen_check_character,
    make_citizen_id,
    make_uscc,
    parse_subject,
    subject_ref,
    uscc_check_character,
    validate_citizen_id,
    validate_pepper,
    validate_uscc,
)

GB11643_EXAMPLE = "11010519491231002X"
GB11643_OLD_EXAMPLE = "440524188001010014"
LEAP_DAY_2000 = "11010120000229123X"
GB32100_EXAMPLE = "91350100M000100Y43"
AMBIGUOUS = "131102197001010420"
# What a phone keyboard in Chinese mode produces: full-width digits, which str.isdigit accepts.
FULL_WIDTH_EXAMPLE = "".join(chr(0xFF10 + int(digit)) for digit in GB11643_EXAMPLE[:17]) + "X"
PEPPER = bytes.fromhex("8f3c2a9b61d04e7f95a1c3b8e2f7064d1a9c5e3b7f2d8046c1e9a3b5d7f20486")
OTHER_PEPPER = bytes.fromhex("27e1f9c34ab85d06e2c7194f3a6b8d0e5f1c2a7b9d3e4f60a8b1c2d3e4f5a6b7")

MOD11_WEIGHTS = [pow(2, 17 - index, 11) for index in range(17)]
MOD31_WEIGHTS = [pow(3, index, 31) for index in range(17)]


def with_citizen_check(body: str) -> str:
    return body + citizen_check_character(body)


def with_uscc_check(body: str) -> str:
    return body + uscc_check_character(body)


def assert_no_leak(error: BaseException, identifier: str) -> None:
    """The message must not contain the identifier or any five-character run of it."""
    message = f"{error} {error!r}"
    for start in range(len(identifier) - 4):
        assert identifier[start : start + 5].upper() not in message.upper()
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__


# --- citizen identity numbers -------------------------------------------------------------


@pytest.mark.parametrize("number", [GB11643_EXAMPLE, LEAP_DAY_2000, "110101199001011237"])
def test_hand_checked_citizen_numbers_validate(number: str) -> None:
    assert validate_citizen_id(number) == number


def test_weights_are_powers_of_two_mod_11() -> None:
    assert MOD11_WEIGHTS == [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def test_lower_case_x_and_surrounding_whitespace_are_normalized() -> None:
    assert validate_citizen_id(" \t11010519491231002x\n") == GB11643_EXAMPLE
    assert parse_subject("11010519491231002x ") == Subject(SubjectKind.CITIZEN, GB11643_EXAMPLE)


def test_generated_citizen_number_matches_hand_computation() -> None:
    assert make_citizen_id("110101", date(2000, 2, 29), 123) == LEAP_DAY_2000


@pytest.mark.parametrize(
    ("number", "problem"),
    [
        ("110105194912310021", "wrong check character"),
        (with_citizen_check("11010119900230123"), "not a real calendar date"),
        (with_citizen_check("11010119901301123"), "not a real calendar date"),
        (with_citizen_check("11010119900100123"), "not a real calendar date"),
        (with_citizen_check("11010120230229123"), "not a real calendar date"),
        (with_citizen_check("11010119000229123"), "not a real calendar date"),
        (GB11643_OLD_EXAMPLE, "before 1900"),
        (with_citizen_check("11010118991231123"), "before 1900"),
        ("11010519491231002", "wrong length"),
        ("11010519491231002X1", "wrong length"),
        ("110105491231002", "wrong length"),
        ("", "wrong length"),
        ("1101051949123100X2", "only digits"),
        ("11010519491231002Y", "only digits"),
        (FULL_WIDTH_EXAMPLE, "outside ASCII"),
        ("110105 19491231002", "only digits"),
    ],
)
def test_invalid_citizen_numbers_are_refused(number: str, problem: str) -> None:
    with pytest.raises(InvalidIdentifierError, match=problem) as caught:
        validate_citizen_id(number)
    assert str(caught.value).startswith("citizen identity number: ")
    assert_no_leak(caught.value, number)


def test_feb_29_valid_only_in_leap_years() -> None:
    for year in (1904, 1996, 2000, 2024):
        assert validate_citizen_id(with_citizen_check(f"110101{year}0229123"))
    for year in (1900, 1999, 2023, 2025):
        with pytest.raises(InvalidIdentifierError, match="calendar date"):
            validate_citizen_id(with_citizen_check(f"110101{year}0229123"))


def test_birth_date_may_be_today_but_not_in_the_future() -> None:
    today = date(2024, 6, 1)
    born_today = make_citizen_id(birth=today)
    assert validate_citizen_id(born_today, today=today) == born_today
    tomorrow = make_citizen_id(birth=today + timedelta(days=1))
    with pytest.raises(InvalidIdentifierError, match="in the future") as caught:
        validate_citizen_id(tomorrow, today=today)
    assert_no_leak(caught.value, tomorrow)
    with pytest.raises(InvalidIdentifierError, match="in the future"):
        parse_subject(make_citizen_id(birth=date.today() + timedelta(days=2)))


@pytest.mark.parametrize("prefix", ["00", "01", "10", "16", "20", "24", "30", "38", "47", "55"])
def test_unknown_province_prefix_is_refused(prefix: str) -> None:
    number = with_citizen_check(f"{prefix}010119900101123")
    with pytest.raises(InvalidIdentifierError, match="province"):
        validate_citizen_id(number)


@pytest.mark.parametrize("prefix", sorted(CITIZEN_PROVINCE_CODES))
def test_every_province_prefix_is_accepted(prefix: str) -> None:
    assert validate_citizen_id(make_citizen_id(region=f"{prefix}0101"))


def test_province_list_is_gb_t_2260_plus_residence_permits() -> None:
    expected = {
        *("11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36"),
        *("37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62"),
        *("63", "64", "65", "71", "81", "82", "83"),
    }
    assert expected == CITIZEN_PROVINCE_CODES


def test_make_citizen_id_refuses_bad_parts() -> None:
    with pytest.raises(InvalidIdentifierError):
        make_citizen_id(region="11010")
    with pytest.raises(InvalidIdentifierError):
        make_citizen_id(sequence=1000)
    with pytest.raises(InvalidIdentifierError, match="province"):
        make_citizen_id(region="990101")


# --- enterprise credit codes --------------------------------------------------------------


def test_weights_are_powers_of_three_mod_31() -> None:
    assert MOD31_WEIGHTS == [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def test_hand_checked_credit_code_validates_and_normalizes_case() -> None:
    assert validate_uscc(GB32100_EXAMPLE) == GB32100_EXAMPLE
    assert validate_uscc(" 91350100m000100y43 ") == GB32100_EXAMPLE
    assert make_uscc("9", "1", "350100", "M000100Y4") == GB32100_EXAMPLE


def test_check_value_zero_maps_to_character_zero() -> None:
    # 31 - (sum mod 31) is 31 when the sum is a multiple of 31; the standard writes it as 0.
    assert uscc_check_character(AMBIGUOUS[:17]) == "0"


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_forbidden_letters_are_refused(letter: str) -> None:
    for position in (1, 10, 16, 17):
        code = GB32100_EXAMPLE[:position] + letter + GB32100_EXAMPLE[position + 1 :]
        for spelling in (code, code.lower()):
            with pytest.raises(InvalidIdentifierError, match="forbidden letter") as caught:
                validate_uscc(spelling)
            assert_no_leak(caught.value, code)


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("91350100M000100Y44", "wrong check character"),
        ("91350100M000100Y4", "wrong length"),
        ("91350100M000100Y433", "wrong length"),
        ("91350100M000100Y4-", "outside the code alphabet"),
        ("91350100M000100Y4é", "outside ASCII"),
        (with_uscc_check("01350100M000100Y4"), "registration authority"),
        (with_uscc_check("B1350100M000100Y4"), "registration authority"),
        (with_uscc_check("913501A0M000100Y4"), "six digits"),
        (with_uscc_check("91990100M000100Y4"), "province"),
    ],
)
def test_invalid_credit_codes_are_refused(code: str, problem: str) -> None:
    with pytest.raises(InvalidIdentifierError, match=problem) as caught:
        validate_uscc(code)
    assert str(caught.value).startswith("enterprise credit code: ")
    assert_no_leak(caught.value, code)


@pytest.mark.parametrize("authority", sorted(ENTERPRISE_REGISTRATION_AUTHORITIES))
def test_registration_authorities_accepted(authority: str) -> None:
    assert validate_uscc(make_uscc(registration_authority=authority))


def test_national_level_region_is_accepted_for_credit_codes() -> None:
    assert validate_uscc(make_uscc(registration_authority="1", region="100000"))


# --- subjects -----------------------------------------------------------------------------


def test_parse_subject_detects_the_kind() -> None:
    citizen = parse_subject(GB11643_EXAMPLE)
    enterprise = parse_subject(GB32100_EXAMPLE.lower())
    assert (citizen.kind, citizen.normalized) == (SubjectKind.CITIZEN, GB11643_EXAMPLE)
    assert (enterprise.kind, enterprise.normalized) == (SubjectKind.ENTERPRISE, GB32100_EXAMPLE)


def test_identifier_valid_under_both_standards_needs_an_explicit_kind() -> None:
    assert validate_citizen_id(AMBIGUOUS) == AMBIGUOUS
    assert validate_uscc(AMBIGUOUS) == AMBIGUOUS
    with pytest.raises(InvalidIdentifierError, match="state which kind") as caught:
        parse_subject(AMBIGUOUS)
    assert_no_leak(caught.value, AMBIGUOUS)
    assert parse_subject(AMBIGUOUS, SubjectKind.CITIZEN).kind is SubjectKind.CITIZEN
    assert parse_subject(AMBIGUOUS, SubjectKind.ENTERPRISE).kind is SubjectKind.ENTERPRISE


def test_explicit_kind_is_strict() -> None:
    with pytest.raises(InvalidIdentifierError, match=r"^citizen identity number"):
        parse_subject(GB32100_EXAMPLE, SubjectKind.CITIZEN)
    with pytest.raises(InvalidIdentifierError, match=r"^enterprise credit code"):
        parse_subject(GB11643_EXAMPLE, SubjectKind.ENTERPRISE)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("110105194912310021", "citizen identity number: wrong check character"),
        ("11010519491231002Y", "citizen identity number: only digits"),
        ("91350100M000100Y44", "enterprise credit code: wrong check character"),
        ("91350100O000100Y43", "enterprise credit code: forbidden letter"),
        ("1234", "identifier: wrong length"),
    ],
)
def test_parse_subject_errors_name_the_problem_without_the_value(text: str, problem: str) -> None:
    with pytest.raises(InvalidIdentifierError, match=problem) as caught:
        parse_subject(text)
    assert_no_leak(caught.value, text)


def test_subject_repr_and_str_do_not_reveal_the_number() -> None:
    for subject in (parse_subject(GB11643_EXAMPLE), parse_subject(GB32100_EXAMPLE)):
        for shown in (repr(subject), str(subject), f"{subject}", f"{subject!r}", str([subject])):
            assert subject.kind.value in shown
            for start in range(len(subject.normalized) - 2):
                assert subject.normalized[start : start + 3] not in shown


def test_subject_holds_only_normalized_valid_values() -> None:
    with pytest.raises(InvalidIdentifierError, match="normalized"):
        Subject(SubjectKind.CITIZEN, GB11643_EXAMPLE.lower())
    with pytest.raises(InvalidIdentifierError):
        Subject(SubjectKind.CITIZEN, "110105194912310021")
    with pytest.raises(InvalidIdentifierError):
        Subject(SubjectKind.ENTERPRISE, GB11643_EXAMPLE)
    assert Subject("citizen", GB11643_EXAMPLE).kind is SubjectKind.CITIZEN  # type: ignore[arg-type]


# --- subject references -------------------------------------------------------------------


def test_subject_ref_is_the_documented_hmac() -> None:
    subject = parse_subject(GB11643_EXAMPLE)
    message = b"gov-ledger/subject/v1\x00citizen\x00" + GB11643_EXAMPLE.encode()
    expected = hmac.new(PEPPER, message, hashlib.sha256).digest()
    assert subject_ref(PEPPER, subject) == expected
    assert len(expected) == 32


def test_subject_ref_is_the_same_for_every_spelling() -> None:
    assert subject_ref(PEPPER, parse_subject(" 11010519491231002x")) == subject_ref(
        PEPPER, parse_subject(GB11643_EXAMPLE)
    )


def test_subject_ref_depends_on_pepper_and_kind() -> None:
    citizen = parse_subject(AMBIGUOUS, SubjectKind.CITIZEN)
    enterprise = parse_subject(AMBIGUOUS, SubjectKind.ENTERPRISE)
    refs = {
        subject_ref(PEPPER, citizen),
        subject_ref(PEPPER, enterprise),
        subject_ref(OTHER_PEPPER, citizen),
        subject_ref(OTHER_PEPPER, enterprise),
    }
    assert len(refs) == 4


def test_subject_ref_refuses_a_weak_pepper() -> None:
    with pytest.raises(ConfigurationError):
        subject_ref(b"changeme" * 4, parse_subject(GB11643_EXAMPLE))


@pytest.mark.parametrize(
    "pepper",
    [
        b"",
        b"tiny1",
        bytes(random.Random(31).getrandbits(8) for _ in range(31)),
        b"\x00" * 32,
        b"a" * 64,
        b"changeme" * 4,
        b"CHANGEME" * 4,
        b"ChangeMe-please-to-something-random",
        b"placeholder-placeholder-placeholder",
        b"my-super-secret-pepper-value-1234",
        b"test-pepper-for-local-development",
        b"TEST0123456789abcdefghijklmnopqrstuv",
        b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        b"XXXX-fill-me-in-before-going-live!!",
        b"your-example-value-goes-here-now",
        b"demo" * 8,
        bytes(range(32)),
        bytes(range(64, 0, -2)),
        bytes.fromhex("deadbeef" * 8),
        bytes.fromhex("0123456789abcdef" * 4),
        (b"changeme" * 4).hex().encode(),
        (b"this is a placeholder value, ok?").hex().upper().encode(),
        b"0123456789abcdef" * 4,
    ],
)
def test_placeholder_or_weak_peppers_are_refused(pepper: bytes) -> None:
    with pytest.raises(ConfigurationError) as caught:
        validate_pepper(pepper)
    if len(pepper) >= 4:
        assert pepper.decode("latin-1") not in str(caught.value)


def test_pepper_must_be_bytes() -> None:
    with pytest.raises(ConfigurationError, match="bytes"):
        validate_pepper("0" * 64)  # type: ignore[arg-type]


def test_random_peppers_are_accepted() -> None:
    """Seeded so the test cannot flake: the word checks on text-like peppers refuse roughly one
    in 10**5 random URL-safe tokens (one starting with "test", say); binary and hex never."""
    validate_pepper(PEPPER)
    validate_pepper(OTHER_PEPPER)
    source = random.Random(20240601)
    for _ in range(500):
        raw = source.randbytes(32)
        validate_pepper(raw)
        validate_pepper(raw.hex().encode())
        validate_pepper(base64.urlsafe_b64encode(raw).rstrip(b"="))
    validate_pepper(secrets.token_bytes(32))
    validate_pepper(secrets.token_hex(32).encode())


# --- property tests -----------------------------------------------------------------------

birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2024, 12, 31))
regions = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(sorted(CITIZEN_PROVINCE_CODES)),
    st.text(alphabet="0123456789", min_size=4, max_size=4),
)
citizen_numbers = st.builds(
    make_citizen_id, regions, birth_dates, st.integers(min_value=0, max_value=999)
)
credit_codes = st.builds(
    make_uscc,
    st.sampled_from(sorted(ENTERPRISE_REGISTRATION_AUTHORITIES)),
    st.sampled_from(USCC_ALPHABET),
    regions,
    st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9),
)


@given(citizen_numbers)
def test_generated_citizen_numbers_validate(number: str) -> None:
    assert validate_citizen_id(number.lower()) == number
    assert parse_subject(f"  {number.lower()} ", SubjectKind.CITIZEN).normalized == number


@given(credit_codes)
def test_generated_credit_codes_validate(code: str) -> None:
    assert validate_uscc(code.lower()) == code
    assert parse_subject(code, SubjectKind.ENTERPRISE).normalized == code


def test_mod_11_2_detects_every_single_substitution_mathematically() -> None:
    """A substitution at position i shifts the weighted sum by delta * w_i with delta in
    +-1..10. 11 is prime and no weight is 0 mod 11, so the shift is never 0 mod 11 and the check
    character always changes. The same holds for MOD 31 with its prime modulus."""
    for weight in [*MOD11_WEIGHTS, 1]:
        assert all((delta * weight) % 11 != 0 for delta in range(1, 11))
    for weight in [*MOD31_WEIGHTS, 1]:
        assert all((delta * weight) % 31 != 0 for delta in range(1, 31))


@given(citizen_numbers, st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_single_substitution_in_a_citizen_number_is_rejected(
    number: str, position: int, replacement: str
) -> None:
    assume(number[position] != replacement)
    mutated = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(InvalidIdentifierError):
        validate_citizen_id(mutated)
    if position == 17 or replacement != "X":
        # The checksum alone catches it, whatever the date and region checks say. (An X in the
        # body is refused as malformed before any checksum is computed.)
        assert citizen_check_character(mutated[:17]) != mutated[17]


@given(credit_codes, st.integers(min_value=0, max_value=17), st.sampled_from(USCC_ALPHABET))
def test_single_substitution_in_a_credit_code_is_rejected(
    code: str, position: int, replacement: str
) -> None:
    assume(code[position] != replacement)
    mutated = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(InvalidIdentifierError):
        validate_uscc(mutated)
    assert uscc_check_character(mutated[:17]) != mutated[17]


@given(citizen_numbers, st.integers(min_value=0, max_value=15))
def test_adjacent_transposition_in_a_citizen_number_is_rejected(number: str, position: int) -> None:
    """Adjacent weights satisfy w_i = 2 * w_(i+1) mod 11, so swapping a != b shifts the sum by
    (a - b) * w_(i+1), which is never 0 mod 11."""
    assume(number[position] != number[position + 1])
    swapped = number[:position] + number[position + 1] + number[position] + number[position + 2 :]
    assert citizen_check_character(swapped[:17]) != swapped[17]


@pytest.mark.parametrize(
    ("identifier", "kind", "natural"),
    [
        (GB11643_EXAMPLE, SubjectKind.CITIZEN, True),
        (make_citizen_id(), SubjectKind.CITIZEN, True),  # all digits: also a valid credit code
        (make_uscc("9", "2", "110101", "L12345678"), SubjectKind.ENTERPRISE, True),  # 个体工商户
        (make_uscc("9", "1", "110108", "MA0000001"), SubjectKind.ENTERPRISE, False),  # company
        (make_uscc("9", "3", "110108", "MA0000001"), SubjectKind.ENTERPRISE, False),  # co-operative
        (make_uscc("3", "1", "510104", "4660123R7"), SubjectKind.ENTERPRISE, False),  # law firm
        (GB32100_EXAMPLE, SubjectKind.ENTERPRISE, False),
    ],
)
def test_natural_person(identifier: str, kind: SubjectKind, natural: bool) -> None:
    """Whose documents are sealed whatever their type (ADR 0016): citizens, and individual
    industrial and commercial households (credit code 92...); organisations are not."""
    assert parse_subject(identifier, kind).natural_person is natural
