"""The depositor's metadata rule: any key the certificate format allows, a few well-known
keys held to the types and limits they always had, and errors that name the field.

The format (notary.core.leaf, docs/certificate.md) allows any key matching
`^[a-z][a-z0-9_]{0,63}$` with string, integer or string-list values, 16 KiB of canonical
JSON in all, so a studio records `designer`, `season`, `sku`, `collection` or anything
else in its own words. On top of that, a deposit holds the keys the service itself reads
to their meaning (a `size` is a number, `tags` a list of short strings, `media_type` short
text), keeps `cid` and `cid_profile` for the service (it writes them for files), and
limits the values of the searchable fields (INDEXED_FIELDS) to INDEXED_VALUE_LENGTH
characters so that they fit an index on every database.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from notary.core.leaf import METADATA_KEY_PATTERN, Metadata, MetadataValue, validate_metadata
from notary.errors import MetadataError, ValidationError

MAX_TAG_LENGTH: Final = 128
MAX_MEDIA_TYPE_LENGTH: Final = 255
INDEXED_FIELDS: Final = ("designer", "season", "sku", "collection")
"""Metadata fields the search offers (`GET /v1/evidence?sku=...`), besides tags: each
string value (or each item of a list, or an integer written in decimal) is indexed."""
INDEXED_VALUE_LENGTH: Final = 256
"""Longest value of a searchable field, in characters (an index entry must stay small)."""
RESERVED: Final = frozenset({"cid", "cid_profile"})
"""Keys only the service writes (a file's CID and its profile)."""

_TEXT: Final = ("name", "path", "title", "description")


def _where(prefix: str, key: object) -> str:
    """The field a key names; a key too odd to quote names only the object."""
    if isinstance(key, str) and len(key) <= 128 and key.isprintable():
        return f"{prefix}.{key}"
    return prefix


def check_metadata(metadata: object, where: str = "metadata") -> Metadata:
    """The validated copy of declared metadata; MetadataError naming the field otherwise.

    `where` is the path of the object in the request (`items.3.metadata` in a bulk one).
    The whole object is validated at once; only a refusal looks at the keys one by one,
    to name the one refused (a 10,000-item bulk request pays nothing for that).
    """
    if not isinstance(metadata, Mapping):
        raise MetadataError(where, "must be a JSON object")
    if not metadata:
        return {}
    try:
        clean = validate_metadata(metadata)
    except ValidationError as exc:
        for key, value in metadata.items():
            if not isinstance(key, str) or not METADATA_KEY_PATTERN.fullmatch(key):
                raise MetadataError(
                    _where(where, key),
                    f"keys must match ^{METADATA_KEY_PATTERN.pattern}$",
                ) from exc
            try:
                validate_metadata({key: value})
            except ValidationError as one:
                raise MetadataError(f"{where}.{key}", str(one)) from exc
        raise MetadataError(where, str(exc)) from exc  # the whole is too large
    for key in clean.keys() & _RULES.keys():
        _RULES[key](f"{where}.{key}", clean[key])
    return clean


def check_declared(metadata: object, where: str = "metadata") -> Metadata:
    """check_metadata for what a depositor declares: the reserved keys are refused."""
    clean = check_metadata(metadata, where)
    reserved = sorted(RESERVED & clean.keys())
    if reserved:
        raise MetadataError(f"{where}.{reserved[0]}", "is written by the notary for file deposits")
    return clean


def indexed_values(metadata: Metadata) -> list[tuple[str, str]]:
    """The (field, value) pairs of validated metadata that the search indexes."""
    pairs: set[tuple[str, str]] = set()
    for name in INDEXED_FIELDS:
        value = metadata.get(name)
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            pairs.add((name, str(item)))
    return sorted(pairs)


def _text(field: str, value: MetadataValue) -> None:
    if not isinstance(value, str):
        raise MetadataError(field, "must be a string")


def _media_type(field: str, value: MetadataValue) -> None:
    _text(field, value)
    assert isinstance(value, str)
    if len(value) > MAX_MEDIA_TYPE_LENGTH:
        raise MetadataError(field, f"is longer than {MAX_MEDIA_TYPE_LENGTH} characters")


def _size(field: str, value: MetadataValue) -> None:
    if not isinstance(value, int):
        raise MetadataError(field, "must be an integer (bytes)")


def _tags(field: str, value: MetadataValue) -> None:
    if not isinstance(value, list):
        raise MetadataError(field, "must be a list of strings")
    if any(len(tag) > MAX_TAG_LENGTH for tag in value):
        raise MetadataError(field, f"tags are at most {MAX_TAG_LENGTH} characters")


def _indexed(field: str, value: MetadataValue) -> None:
    items = value if isinstance(value, list) else [value]
    if any(len(str(item)) > INDEXED_VALUE_LENGTH for item in items):
        raise MetadataError(
            field, f"a searchable field's values are at most {INDEXED_VALUE_LENGTH} characters"
        )


_RULES: Final = {
    **dict.fromkeys(_TEXT, _text),
    "media_type": _media_type,
    "size": _size,
    "tags": _tags,
    **dict.fromkeys(INDEXED_FIELDS, _indexed),
}
