"""The streaming JSON depth gauge of the request guard (issue #7, limits)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.middleware import JsonDepthGauge, JsonTooDeep


def depth_of(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((depth_of(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth_of(item) for item in value), default=0)
    return 0


def fed(text: bytes, limit: int, chunk: int) -> bool:
    """Whether the gauge accepts ``text`` fed ``chunk`` bytes at a time."""
    gauge = JsonDepthGauge(limit)
    try:
        for start in range(0, len(text), chunk):
            gauge.feed(text[start : start + chunk])
    except JsonTooDeep:
        return False
    return True


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\n'),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(alphabet='[]{}"\\k'), children, max_size=3)
    ),
    max_leaves=30,
)


@given(value=json_values, limit=st.integers(1, 8), chunk=st.integers(1, 7))
def test_the_gauge_measures_the_depth_whatever_the_chunks(
    value: object, limit: int, chunk: int
) -> None:
    text = json.dumps(value).encode()
    assert fed(text, limit, chunk) == (depth_of(value) <= limit)


def test_brackets_and_escapes_inside_strings_do_not_count() -> None:
    text = json.dumps({"a": '[[[[{{{{\\"]]]' + "\\" * 3, "b": ["x"]}).encode()
    assert fed(text, 2, 1)
    assert not fed(text, 1, 1)


@pytest.mark.parametrize("chunk", [1, 2, 1000])
def test_a_deep_body_is_refused_early(chunk: int) -> None:
    text = b"[" * 100_000 + b"]" * 100_000
    gauge = JsonDepthGauge(32)

    def feed_all() -> None:
        for start in range(0, len(text), chunk):
            gauge.feed(text[start : start + chunk])

    with pytest.raises(JsonTooDeep, match="deeper than 32 levels"):
        feed_all()
    assert gauge.depth == 33
