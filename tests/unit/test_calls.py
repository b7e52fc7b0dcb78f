"""A journaled contract call (ledger.service.calls): its arguments survive the JSON round trip."""

from __future__ import annotations

from ledger.service.calls import Call, decode_value, encode_call, encode_value


def test_call_arguments_round_trip() -> None:
    args = [b"\x00" * 32, 7, [b"\x01", b"\x02"], [[3, 4], [5, 6]], "text", True]
    encoded = encode_call("LicenceBundles", "openBundle", args, {"department": 1})
    call = Call.from_request({"call": encoded})
    assert call.args == tuple(decode_value(encode_value(arg)) for arg in args)
    assert call.args[0] == b"\x00" * 32
    assert call.args[3] == [[3, 4], [5, 6]]
    assert call.signer == {"department": 1}
