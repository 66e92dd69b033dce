"""Property tests of input validation: every input is accepted or refused with a domain
error (never another exception), and what is accepted is what the spec allows."""

from __future__ import annotations

import re
import string
import unicodedata
from datetime import UTC, datetime, timedelta, timezone

import h11
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from starlette.requests import Request

from api.disposition import ascii_fallback, attachment, download_name
from api.routes.evidence import _hex32, _wait
from api.schemas import Hex64
from notary.core.leaf import MAX_TEXT_LENGTH, METADATA_KEY_PATTERN, validate_metadata
from notary.deposit.metadata import check_declared
from notary.errors import MetadataError, ValidationError
from notary.issue.retrieve import MAX_NAME_BYTES
from notary.issue.search import _cursor, stored_time
from notary.service import MAX_WAIT_SECONDS
from tests.api.test_hostile import parse_disposition
from tests.fuzz.conftest import PROPERTY_EXAMPLES

examples = settings(max_examples=PROPERTY_EXAMPLES, deadline=None)

spec_text = st.text(
    st.characters(blacklist_categories=["Cs"]).filter(lambda ch: ch >= " " or ch in "\t\n"),
    max_size=MAX_TEXT_LENGTH,
)
"""Every string the metadata spec allows: no control characters but tab and newline."""
SUFFIXES = ["", ".cert.json", ".evidence.zip"]


# -- download names -------------------------------------------------------------------


@examples
@given(name=spec_text, suffix=st.sampled_from(SUFFIXES))
def test_every_allowed_name_makes_a_valid_header(name: str, suffix: str) -> None:
    header = attachment(name, suffix)
    # what the server's HTTP layer accepts as a header value (a newline used to fail here)
    h11.Response(status_code=200, headers=[("Content-Disposition", header)])
    assert header.isascii() and header.isprintable()
    saved = parse_disposition(header)
    assert saved == download_name(name, suffix) and saved.endswith(suffix)
    stem = saved.removesuffix(suffix)
    assert stem and len(stem.encode("utf-8")) <= MAX_NAME_BYTES
    assert not any(ch in stem for ch in '/\\:*?"<>|')
    assert not any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Zl", "Zp"} for ch in stem)
    assert stem == stem.strip(". ")
    assert download_name(stem, suffix) == saved  # idempotent: a saved name stays


@examples
@given(name=st.text(string.ascii_letters + string.digits + "-_ ()[]", min_size=1, max_size=60))
def test_plain_names_are_kept_as_they_are(name: str) -> None:
    name = name.strip(". ") or "x"
    assert parse_disposition(attachment(name, ".cert.json")) == name + ".cert.json"
    assert ascii_fallback(name) == name


# -- metadata, hashes, cursors, wait, times -----------------------------------------------


metadata_values = st.one_of(
    spec_text,
    st.integers(min_value=-(2**60), max_value=2**60),
    st.lists(spec_text, max_size=70),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.text(max_size=50),  # control characters and all
)


@examples
@given(
    st.dictionaries(
        st.sampled_from(["name", "title", "description", "media_type", "size", "tags", "x"]),
        metadata_values,
        max_size=6,
    )
)
def test_metadata_is_accepted_or_refused_with_a_domain_error(raw: dict[str, object]) -> None:
    try:
        declared = check_declared(raw)
    except MetadataError as exc:  # 422 invalid_metadata, naming the field
        assert exc.field == "metadata" or exc.field.removeprefix("metadata.") in raw
        return
    validate_metadata(declared)  # the certificate format takes what the deposit took
    for key, value in declared.items():
        assert METADATA_KEY_PATTERN.fullmatch(key)
        texts = value if isinstance(value, list) else [value] if isinstance(value, str) else []
        for text in texts:
            assert len(text) <= MAX_TEXT_LENGTH
            assert all(ch >= " " or ch in "\t\n" for ch in text)


@examples
@given(name=spec_text)
def test_every_allowed_name_is_accepted(name: str) -> None:
    validate_metadata(check_declared({"name": name}))


HEX64 = TypeAdapter(Hex64)
ECMA_HEX64 = re.compile(r"(0x)?[0-9a-fA-F]{64}")


@examples
@given(
    st.one_of(
        st.text(max_size=70),
        st.text("0123456789abcdefABCDEFx\n ", min_size=62, max_size=67),
        st.binary(min_size=32, max_size=32).map(bytes.hex),
    )
)
def test_hashes_are_64_hex_digits_exactly(text: str) -> None:
    try:
        checked = HEX64.validate_python(text)
    except PydanticValidationError:
        assert not ECMA_HEX64.fullmatch(text)  # a trailing newline is refused too
        return
    assert ECMA_HEX64.fullmatch(text)
    assert len(_hex32(checked)) == 32


@examples
@given(st.text(max_size=40))
def test_cursors_are_ascii_digits_or_refused(cursor: str) -> None:
    try:
        after = _cursor(cursor)
    except ValidationError:
        assert not re.fullmatch(r"[0-9]{1,18}", cursor)
        return
    assert after == int(cursor)


def _request(query: bytes) -> Request:
    return Request({"type": "http", "method": "POST", "query_string": query, "headers": []})


@examples
@given(st.one_of(st.text(max_size=20), st.floats().map(str), st.integers().map(str)))
def test_wait_is_a_number_of_seconds_in_range_or_refused(given_wait: str) -> None:
    from urllib.parse import urlencode

    try:
        wait = _wait(_request(urlencode({"wait": given_wait}).encode()))
    except ValidationError:
        return
    assert 0 <= wait <= MAX_WAIT_SECONDS


offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@examples
@given(st.datetimes(timezones=offsets))
def test_every_zoned_time_is_a_stored_time(at: datetime) -> None:
    stored = stored_time(at)
    assert stored.tzinfo is None
    if (
        datetime.min.replace(tzinfo=UTC) + timedelta(days=1)
        < at
        < datetime.max.replace(tzinfo=UTC) - timedelta(days=1)
    ):
        assert stored.replace(tzinfo=UTC) == at


@examples
@given(st.datetimes())
def test_times_without_a_zone_are_refused(at: datetime) -> None:
    with pytest.raises(ValidationError):
        stored_time(at)
