"""The strict JSON reader: depth measured without recursion, duplicates and constants refused."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notary.core import jsontext
from notary.core.jsontext import MAX_DEPTH, JsonInputError


def _reference_depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_reference_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_reference_depth(v) for v in value), default=0)
    return 0


_text = st.text(alphabet=st.sampled_from('ab"\\[]{}\n\t\u00e9\u4e2d/u'), max_size=12)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=400)
@given(_json, st.booleans())
def test_depth_matches_a_recursive_reading(value, ascii_only):
    data = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert jsontext.depth(data) == _reference_depth(value)
    assert jsontext.loads(data, max_bytes=len(data)) == value


@pytest.mark.parametrize("n", [MAX_DEPTH + 1, 1000, 100_000])
def test_deep_nesting_is_refused_before_parsing(n):
    for opener, closer in ("[]", "{}"):
        body = opener * n if opener == "[" else '{"a":' * n
        for data in (body, body + (closer * n)):
            with pytest.raises(JsonInputError) as info:
                jsontext.loads(data, max_bytes=10**7)
            assert info.value.code in {"too_deep", "invalid_json"}
    with pytest.raises(JsonInputError) as info:
        jsontext.loads("[" * n + "]" * n, max_bytes=10**7)
    assert info.value.code == "too_deep"


def test_the_deepest_allowed_nesting_parses():
    data = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert jsontext.depth(data.encode()) == MAX_DEPTH
    jsontext.loads(data, max_bytes=1000)


def test_brackets_inside_strings_do_not_count():
    data = json.dumps({"a": "[" * 1000 + '\\"{' * 100, "b": ["\\", "]]]"]})
    assert jsontext.depth(data.encode()) == 2
    assert jsontext.loads(data, max_bytes=10**6)["b"] == ["\\", "]]]"]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ('{"a":1,"a":2}', "duplicate_key"),
        ('{"x":{"a":"1","b":2,"a":"1"}}', "duplicate_key"),
        ("[NaN]", "invalid_json"),
        ('{"a":Infinity}', "invalid_json"),
        ("[-Infinity]", "invalid_json"),
        ('"unterminated', "invalid_json"),
        ("[1,2}", "invalid_json"),
        ("\ufeff{}", "invalid_json"),
        ("", "invalid_json"),
        ("{} {}", "invalid_json"),
    ],
)
def test_refused(data, code):
    with pytest.raises(JsonInputError) as info:
        jsontext.loads(data, max_bytes=1000)
    assert info.value.code == code


def test_invalid_utf8_and_size():
    with pytest.raises(JsonInputError) as info:
        jsontext.loads(b'{"a":"\xff"}', max_bytes=1000)
    assert info.value.code == "invalid_json"
    with pytest.raises(JsonInputError) as info:
        jsontext.loads(b"[" + b"1," * 600 + b"1]", max_bytes=1000)
    assert info.value.code == "too_large"
