"""Document hashing and selectively disclosable certificates (ledger.documents)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from eth_utils.crypto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.documents import (
    CERTIFICATE_VERSION,
    MAX_JSON_DEPTH,
    DocumentKind,
    JSONValue,
    SaltedCertificate,
    SaltedField,
    certificate_to_json,
    digest_and_proof,
    digests,
    document_hash_of,
    dump_certificate,
    hash_file_bytes,
    leaf_hash,
    load_certificate,
    obfuscate,
    salt_fields,
    target_hash,
)
from ledger.errors import InvalidDocumentError

SENSITIVE = "SENSITIVE-张三-11010519491231002X"
FIELDS: dict[str, JSONValue] = {
    "holder_name": SENSITIVE,
    "licence_no": "BJ-2024-000123",
    "issued_on": "2024-06-01",
    "scope": ["food retail", "catering"],
    "address": {"city": "Beijing", "district": "Dongcheng"},
    "capital_cny": 500000,
}


class CountingSalts:
    """A deterministic salt source: salt n is the byte n repeated, so vectors can be written out."""

    def __init__(self) -> None:
        self.count = 0

    def token_bytes(self, nbytes: int) -> bytes:
        self.count += 1
        return bytes([self.count]) * nbytes


def make_certificate(fields: Mapping[str, JSONValue] = FIELDS) -> SaltedCertificate:
    return salt_fields(fields, certificate_type="business-licence")


def wrapped(certificate: SaltedCertificate) -> dict[str, Any]:
    return json.loads(dump_certificate(certificate))  # type: ignore[no-any-return]


def reverse_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: reverse_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reverse_keys(item) for item in value]
    return value


def assert_refused(data: bytes | str, problem: str, **limits: int) -> None:
    with pytest.raises(InvalidDocumentError, match=problem) as caught:
        load_certificate(data, **limits)
    assert "SENSITIVE" not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__


# --- files --------------------------------------------------------------------------------


def test_file_hash_is_keccak256() -> None:
    empty = "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    abc = "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
    assert hash_file_bytes(b"").hex() == empty
    assert hash_file_bytes(b"abc").hex() == abc
    assert document_hash_of(b"abc") == (DocumentKind.FILE, bytes.fromhex(abc))


@pytest.mark.parametrize(
    "content",
    [
        b"%PDF-1.7 not really a pdf",
        b"",
        b'{"version": "1.0", "name": "an ordinary JSON file"}',
        b'{"note": "see gov-ledger/cert/v1"}',  # no quote right before the marker
        b'["gov-ledger/cert/v1"]',
        b"\xff\xfe not utf-8",
    ],
)
def test_non_certificates_hash_as_files(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "document.bin"
    path.write_bytes(content)
    expected = (DocumentKind.FILE, hash_file_bytes(content))
    assert document_hash_of(content) == expected
    assert document_hash_of(path) == expected
    assert document_hash_of(str(path)) == expected
    assert document_hash_of(bytearray(content)) == expected


def test_large_files_are_streamed_with_the_same_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digests, "_STREAM_CHUNK", 7)
    content = bytes(range(256)) * 40
    path = tmp_path / "scan.bin"
    path.write_bytes(content)
    assert document_hash_of(path, max_certificate_bytes=100) == (
        DocumentKind.FILE,
        keccak(content),
    )


# --- certificates: the hash -----------------------------------------------------------------


def test_leaf_and_target_hash_match_written_out_vectors() -> None:
    """Pins the exact preimages so the web and command-line verifiers can be checked against
    them: RFC 8785 sorts keys, writes no whitespace and keeps non-ASCII text as UTF-8."""
    certificate = salt_fields(
        {"name": "张三", "licence_no": 42}, certificate_type="t", rng=CountingSalts()
    )
    salt_1, salt_2 = "01" * 16, "02" * 16
    name_leaf = keccak(f'{{"key":"name","salt":"{salt_1}","value":"张三"}}'.encode())
    number_leaf = keccak(f'{{"key":"licence_no","salt":"{salt_2}","value":42}}'.encode())
    assert leaf_hash("name", certificate.fields["name"]) == name_leaf
    assert leaf_hash("licence_no", certificate.fields["licence_no"]) == number_leaf
    assert target_hash(certificate) == keccak(b"".join(sorted([name_leaf, number_leaf])))


def test_hash_is_stable_across_key_order_and_whitespace() -> None:
    certificate = make_certificate()
    reference = target_hash(certificate)
    document = wrapped(certificate)
    for text in (
        json.dumps(document),
        json.dumps(reverse_keys(document), indent=4),
        json.dumps(document, separators=(",", ":"), ensure_ascii=False),
        "\n\t " + json.dumps(reverse_keys(document), indent="\t") + "\n",
    ):
        assert target_hash(load_certificate(text)) == reference
        assert document_hash_of(text.encode()) == (DocumentKind.CERTIFICATE, reference)


def test_number_spelling_does_not_change_the_hash() -> None:
    certificate = salt_fields({"amount": 1.0, "big": 10**16}, certificate_type="t")
    text = dump_certificate(certificate).decode()
    assert '"value":1}' in text
    assert '"value":10000000000000000}' in text
    respelled = text.replace('"value":1}', '"value":1.0E0}').replace(
        '"value":10000000000000000}', '"value":1e16}'
    )
    assert target_hash(load_certificate(respelled)) == target_hash(certificate)


def test_changed_value_salt_or_key_changes_the_hash() -> None:
    certificate = make_certificate()
    reference = target_hash(certificate)
    document = wrapped(certificate)

    document["fields"]["licence_no"]["value"] = "BJ-2024-000124"
    assert target_hash(load_certificate(json.dumps(document))) != reference

    document = wrapped(certificate)
    salt = document["fields"]["issued_on"]["salt"]
    document["fields"]["issued_on"]["salt"] = ("1" if salt[0] != "1" else "2") + salt[1:]
    assert target_hash(load_certificate(json.dumps(document))) != reference

    document = wrapped(certificate)
    document["fields"]["licence_number"] = document["fields"].pop("licence_no")
    assert target_hash(load_certificate(json.dumps(document))) != reference


def test_certificate_type_is_not_part_of_the_hash() -> None:
    certificate = make_certificate()
    document = wrapped(certificate)
    document["type"] = "another-type"
    assert target_hash(load_certificate(json.dumps(document))) == target_hash(certificate)


def test_certificate_does_not_alias_the_callers_data() -> None:
    fields: dict[str, JSONValue] = {"scope": ["food retail"], "name": "x"}
    certificate = make_certificate(fields)
    reference = target_hash(certificate)
    scope = fields["scope"]
    assert isinstance(scope, list)
    scope.append("wholesale")
    fields["name"] = "y"
    assert target_hash(certificate) == reference


@pytest.mark.parametrize(
    ("number", "canonical"),
    [
        (2**53, "9007199254740992"),
        (-(2**53), "-9007199254740992"),
        (10**16, "10000000000000000"),
        (67661025007183890, "67661025007183890"),  # not exact, but the shortest form of a double
        (6.766102500718389e16, "67661025007183890"),
        (10**21, "1e+21"),
        (2**70, "1.1805916207174113e+21"),
    ],
)
def test_large_numbers_that_name_one_double_are_kept(number: float, canonical: str) -> None:
    certificate = salt_fields({"n": number}, certificate_type="t")
    data = dump_certificate(certificate)
    assert f'"value":{canonical}}}'.encode() in data
    assert target_hash(load_certificate(data)) == target_hash(certificate)
    respelled = data.replace(canonical.encode(), str(int(number)).encode())
    assert target_hash(load_certificate(respelled)) == target_hash(certificate)


@pytest.mark.parametrize("number", [2**53 + 1, -(2**53) - 1, 10**16 + 1, 2**1024])
def test_large_integers_that_some_parsers_would_round_are_refused(number: int) -> None:
    with pytest.raises(InvalidDocumentError, match=r"exactly|range"):
        salt_fields({"n": number}, certificate_type="t")


# --- certificates: selective disclosure -------------------------------------------------------


def test_obfuscating_any_subset_keeps_the_hash() -> None:
    certificate = make_certificate()
    reference = target_hash(certificate)
    names = sorted(FIELDS)
    for mask in range(1 << len(names)):
        hidden = [name for bit, name in enumerate(names) if mask >> bit & 1]
        disclosed = obfuscate(certificate, hidden)
        assert sorted(disclosed.fields) == sorted(set(names) - set(hidden))
        assert len(disclosed.obfuscated) == len(hidden)
        assert target_hash(disclosed) == reference
        assert target_hash(load_certificate(dump_certificate(disclosed))) == reference


def test_obfuscating_in_steps_equals_obfuscating_at_once() -> None:
    certificate = make_certificate()
    stepwise = obfuscate(obfuscate(certificate, ["holder_name"]), ["address"])
    assert stepwise == obfuscate(certificate, ["address", "holder_name"])


def test_hidden_value_does_not_appear_in_the_disclosed_form() -> None:
    disclosed = obfuscate(make_certificate(), ["holder_name"])
    assert SENSITIVE.encode() not in dump_certificate(disclosed)
    assert "holder_name" not in disclosed.fields


def test_altered_obfuscated_hash_changes_the_hash() -> None:
    certificate = make_certificate()
    document = wrapped(obfuscate(certificate, ["holder_name", "scope"]))
    leaf = document["obfuscated"][0]
    document["obfuscated"][0] = leaf[:-1] + ("0" if leaf[-1] != "0" else "1")
    assert target_hash(load_certificate(json.dumps(document))) != target_hash(certificate)
    document["obfuscated"].pop()
    assert target_hash(load_certificate(json.dumps(document))) != target_hash(certificate)


def test_obfuscate_refuses_unknown_or_already_hidden_fields() -> None:
    certificate = make_certificate()
    with pytest.raises(InvalidDocumentError, match="does not show"):
        obfuscate(certificate, ["no_such_field"])
    with pytest.raises(InvalidDocumentError, match="does not show"):
        obfuscate(obfuscate(certificate, ["scope"]), ["scope"])
    with pytest.raises(TypeError):
        obfuscate(certificate, "scope")


def test_a_leaf_shown_and_hidden_at_once_is_refused() -> None:
    certificate = make_certificate()
    document = wrapped(certificate)
    document["obfuscated"] = [leaf_hash("scope", certificate.fields["scope"]).hex()]
    assert_refused(json.dumps(document), "more than once")
    document["obfuscated"] = [bytes(32).hex(), bytes(32).hex()]
    assert_refused(json.dumps(document), "more than once")


def test_repr_does_not_show_values() -> None:
    certificate = make_certificate()
    for shown in (repr(certificate), str(certificate), repr(certificate.fields["holder_name"])):
        assert "SENSITIVE" not in shown
        assert certificate.fields["holder_name"].salt not in shown


# --- certificates: malformed input ----------------------------------------------------------

VALID_SALT = "0123456789abcdef" * 2


def document_with(**changes: Any) -> str:
    document: dict[str, Any] = {
        "version": CERTIFICATE_VERSION,
        "type": "business-licence",
        "fields": {"holder_name": {"salt": VALID_SALT, "value": SENSITIVE}},
        "obfuscated": [],
    }
    document.update(changes)
    return json.dumps(document)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ("", "not valid JSON"),
        ("{", "not valid JSON"),
        (document_with()[:-5], "not valid JSON"),
        (document_with() + " trailing", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        (document_with(version="gov-ledger/cert/v2"), "unsupported certificate version"),
        (document_with(version=None), "unsupported certificate version"),
        (document_with(signature=[]), "unknown top-level key"),
        (document_with(type=7), "type must be a string"),
        (document_with(type=""), "type must be a string of 1"),
        (document_with(fields=[]), "fields must be a JSON object"),
        (document_with(fields={}), "at least one field"),
        (document_with(fields={"": {"salt": VALID_SALT, "value": 1}}), "non-empty"),
        (document_with(fields={"a": SENSITIVE}), 'exactly "salt" and "value"'),
        (document_with(fields={"a": {"salt": VALID_SALT}}), 'exactly "salt" and "value"'),
        (
            document_with(fields={"a": {"salt": VALID_SALT, "value": 1, "note": SENSITIVE}}),
            'exactly "salt" and "value"',
        ),
        (document_with(fields={"a": {"salt": 12, "value": SENSITIVE}}), "salt must be a string"),
        (document_with(fields={"a": {"salt": VALID_SALT.upper(), "value": 1}}), "salt must be 32"),
        (document_with(fields={"a": {"salt": VALID_SALT[:-2], "value": 1}}), "salt must be 32"),
        (document_with(obfuscated="00"), "obfuscated must be a JSON array"),
        (document_with(obfuscated=["00" * 31]), "leaf hash must be 64"),
        (document_with(obfuscated=["0x" + "00" * 31]), "leaf hash must be 64"),
        (document_with(obfuscated=[SENSITIVE]), "leaf hash must be 64"),
        (
            '{"version": "gov-ledger/cert/v1", "version": "gov-ledger/cert/v1", "type": "t", '
            '"fields": {}}',
            "duplicate key",
        ),
        (document_with().replace(json.dumps(SENSITIVE), "NaN"), "NaN"),
        (document_with().replace(json.dumps(SENSITIVE), "-Infinity"), "NaN"),
        (document_with().replace(json.dumps(SENSITIVE), "1e400"), "NaN"),
        (document_with().replace(json.dumps(SENSITIVE), str(2**53 + 1)), "exactly"),
        (document_with().replace(json.dumps(SENSITIVE), "9" * 5000), "too long"),
        (document_with().replace(json.dumps(SENSITIVE), '"\\ud800"'), "surrogates"),
        ("\ufeff" + document_with(), "not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "nested deeper than 32"),
    ],
)
def test_malformed_certificates_are_refused(data: str, problem: str) -> None:
    assert_refused(data, problem)


def test_invalid_utf8_is_refused() -> None:
    assert_refused(document_with().encode() + b"\xff", "UTF-8")
    assert_refused(document_with().encode("utf-16"), "UTF-8")


def test_nesting_limit_counts_the_wrapper() -> None:
    def nested(depth: int) -> JSONValue:
        value: JSONValue = "leaf"
        for _ in range(depth):
            value = [value]
        return value

    deepest = MAX_JSON_DEPTH - 3  # wrapper, "fields" and the field's own object
    certificate = salt_fields({"deep": nested(deepest)}, certificate_type="t")
    assert target_hash(load_certificate(dump_certificate(certificate))) == target_hash(certificate)
    with pytest.raises(InvalidDocumentError, match="nested deeper than 32"):
        salt_fields({"deep": nested(deepest + 1)}, certificate_type="t")
    too_deep = dump_certificate(certificate).replace(b'"leaf"', b'["leaf"]')
    assert_refused(too_deep, "nested deeper than 32")


def test_size_limit() -> None:
    data = dump_certificate(make_certificate())
    assert load_certificate(data, max_bytes=len(data))
    assert_refused(data, "larger than", max_bytes=len(data) - 1)
    with pytest.raises(InvalidDocumentError, match="larger than"):
        salt_fields(FIELDS, certificate_type="t", max_bytes=100)


@pytest.mark.parametrize(
    "fields",
    [
        {"a": {1, 2}},
        {"a": b"bytes"},
        {"a": float("nan")},
        {"a": float("inf")},
        {"a": {1: "non-string key"}},
        {"": "empty name"},
        {"a": "\ud800"},
        {"\udfff": 1},
        {},
    ],
)
def test_salt_fields_refuses_what_cannot_be_canonical_json(fields: dict[Any, Any]) -> None:
    with pytest.raises(InvalidDocumentError):
        salt_fields(fields, certificate_type="t")


def test_salt_fields_refuses_a_broken_salt_source() -> None:
    class ShortSalts:
        def token_bytes(self, nbytes: int) -> bytes:
            return b"\x01" * (nbytes - 1)

    with pytest.raises(InvalidDocumentError, match="16 bytes"):
        salt_fields(FIELDS, certificate_type="t", rng=ShortSalts())


def test_salts_are_fresh_and_128_bit() -> None:
    first, second = make_certificate(), make_certificate()
    salts = [field.salt for cert in (first, second) for field in cert.fields.values()]
    assert len(set(salts)) == len(salts)
    assert all(len(bytes.fromhex(salt)) == 16 for salt in salts)
    assert target_hash(first) != target_hash(second)


# --- document_hash_of on certificates ---------------------------------------------------------


def test_document_hash_of_recognises_a_certificate(tmp_path: Path) -> None:
    certificate = obfuscate(make_certificate(), ["holder_name"])
    data = dump_certificate(certificate)
    path = tmp_path / "certificate.json"
    path.write_bytes(data)
    expected = (DocumentKind.CERTIFICATE, target_hash(certificate))
    assert document_hash_of(data) == expected
    assert document_hash_of(path) == expected
    assert document_hash_of(data) != (DocumentKind.FILE, hash_file_bytes(data))


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b'{"version": "gov-ledger/cert/v1", "type": ', "looks like a certificate but"),
        (document_with(version="gov-ledger/cert/v9").encode(), "unsupported certificate version"),
        (document_with(fields={}).encode(), "at least one field"),
        (document_with(extra=1).encode(), "unknown top-level key"),
    ],
)
def test_document_hash_of_reports_broken_certificates(data: bytes, problem: str) -> None:
    with pytest.raises(InvalidDocumentError, match=problem) as caught:
        document_hash_of(data)
    assert "SENSITIVE" not in str(caught.value)


def test_oversized_certificate_is_an_error_not_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = dump_certificate(make_certificate())
    limit = len(data) - 1
    with pytest.raises(InvalidDocumentError, match="larger than"):
        document_hash_of(data, max_certificate_bytes=limit)
    # Streamed in chunks small enough that the marker straddles a chunk boundary.
    monkeypatch.setattr(digests, "_STREAM_CHUNK", 5)
    path = tmp_path / "large.json"
    path.write_bytes(b"\n  " + data)
    with pytest.raises(InvalidDocumentError, match="larger than"):
        document_hash_of(path, max_certificate_bytes=limit)


# --- digest_and_proof: the hash and the embedded proof from one reading -----------------------

PROOF_JSON: dict[str, JSONValue] = {
    "version": "gov-ledger/batch-proof/v1",
    "root": "0x" + "11" * 32,
    "path": ["0x" + "22" * 32],
    "anchor": {"chainId": 1337, "registry": "0x5FbDB2315678afecb367f032d93F642f64180aa3"},
}


def test_digest_and_proof_agrees_with_document_hash_of(tmp_path: Path) -> None:
    certificate = make_certificate()
    document = certificate_to_json(certificate)
    document["proof"] = PROOF_JSON
    with_proof = json.dumps(document).encode()
    path = tmp_path / "certificate.json"
    path.write_bytes(with_proof)
    for source in (with_proof, path):
        digest, proof = digest_and_proof(source)
        assert (
            digest
            == document_hash_of(source)
            == (DocumentKind.CERTIFICATE, target_hash(certificate))
        )
        assert proof == PROOF_JSON == load_certificate(with_proof).proof
    assert digest_and_proof(dump_certificate(certificate)).proof is None
    assert digest_and_proof(b"%PDF-1.7") == (
        (DocumentKind.FILE, hash_file_bytes(b"%PDF-1.7")),
        None,
    )


@pytest.mark.parametrize(
    "data",
    [
        b'{"version": "gov-ledger/cert/v1", "type": ',
        document_with(version="gov-ledger/cert/v9").encode(),
        document_with(fields={}).encode(),
        document_with(extra=1).encode(),
        document_with(fields={"a": {"salt": VALID_SALT.upper(), "value": 1}}).encode(),
        document_with(obfuscated=["AB" * 32]).encode(),
    ],
)
def test_digest_and_proof_refuses_what_document_hash_of_refuses(data: bytes) -> None:
    with pytest.raises(InvalidDocumentError) as expected:
        document_hash_of(data)
    with pytest.raises(InvalidDocumentError) as caught:
        digest_and_proof(data)
    assert str(caught.value) == str(expected.value)


def test_a_loaded_certificate_is_the_one_built_from_its_fields() -> None:
    """Loading builds the certificate without repeating the checks the parser made: the result
    must be the certificate construction would give, value for value and leaf for leaf."""
    certificate = obfuscate(make_certificate(), ["licence_no"])
    loaded = load_certificate(dump_certificate(certificate))
    rebuilt = SaltedCertificate(
        loaded.type,
        {name: SaltedField(salted.salt, salted.value) for name, salted in loaded.fields.items()},
        loaded.obfuscated,
    )
    assert loaded == rebuilt == certificate
    assert list(loaded.fields) == sorted(loaded.fields)
    assert target_hash(loaded) == target_hash(rebuilt)
    assert [leaf_hash(name, salted) for name, salted in loaded.fields.items()] == [
        leaf_hash(name, salted) for name, salted in certificate.fields.items()
    ]


@pytest.mark.parametrize(
    "data",
    [
        # A duplicate key anywhere, not only at the top: in a field's entry, in a value, in the
        # proof and in its anchor.
        document_with().replace('"value"', f'"salt": "{VALID_SALT}", "value"'),
        document_with(fields={"a": {"salt": VALID_SALT, "value": {"k": 1}}}).replace(
            '{"k": 1}', '{"k": 1, "k": 2}'
        ),
        document_with(proof={"version": "v"}).replace('{"version": "v"}', '{"a": 1, "a": 1}'),
        document_with(proof={"anchor": {"chainId": 1}}).replace(
            '{"chainId": 1}', '{"chainId": 1, "chainId": 1}'
        ),
    ],
)
def test_duplicate_keys_are_refused_at_any_depth(data: str) -> None:
    assert_refused(data, "duplicate key")
    with pytest.raises(InvalidDocumentError, match="duplicate key"):
        digest_and_proof(data.encode())


# --- property tests ---------------------------------------------------------------------------

texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=8,
)
field_maps = st.dictionaries(texts.filter(bool), json_values, min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(field_maps)
def test_round_trip_preserves_certificate_and_hash(fields: dict[str, JSONValue]) -> None:
    certificate = salt_fields(fields, certificate_type="t")
    reloaded = load_certificate(
        json.dumps(reverse_keys(certificate_to_json(certificate)), indent=1)
    )
    assert target_hash(reloaded) == target_hash(certificate)
    assert dump_certificate(reloaded) == dump_certificate(certificate)


@settings(max_examples=60, deadline=None)
@given(field_maps, st.data())
def test_any_obfuscation_keeps_the_hash_and_any_change_breaks_it(
    fields: dict[str, JSONValue], data: st.DataObject
) -> None:
    certificate = salt_fields(fields, certificate_type="t")
    reference = target_hash(certificate)
    hidden = data.draw(st.sets(st.sampled_from(sorted(fields))))
    disclosed = obfuscate(certificate, hidden)
    assert target_hash(disclosed) == reference
    assert target_hash(load_certificate(dump_certificate(disclosed))) == reference

    document = wrapped(disclosed)
    if document["fields"]:
        name = data.draw(st.sampled_from(sorted(document["fields"])))
        document["fields"][name]["value"] = [document["fields"][name]["value"]]
        assert target_hash(load_certificate(json.dumps(document))) != reference
    else:
        leaf = bytearray.fromhex(document["obfuscated"][0])
        leaf[data.draw(st.integers(min_value=0, max_value=31))] ^= 1
        document["obfuscated"][0] = leaf.hex()
        assert target_hash(load_certificate(json.dumps(document))) != reference


def test_salted_field_equality_uses_values() -> None:
    assert SaltedField(VALID_SALT, [1]) == SaltedField(VALID_SALT, [1])


@pytest.mark.parametrize("salt", ["", "00" * 15, "00" * 17, "AB" * 16, "0x" + "00" * 15, "zz" * 16])
def test_salted_field_refuses_a_malformed_salt(salt: str) -> None:
    with pytest.raises(InvalidDocumentError, match="salt must be 32"):
        SaltedField(salt, 1)
