"""Strict, bounded JSON reading for everything the notary parses from outside.

Why not plain ``json.loads``:
- depth: web3 imports py_ecc, which raises Python's recursion limit to 100,000; the C JSON
  scanner then recurses on ``[[[[...`` until the C stack overflows and the process dies
  with SIGSEGV (a 100,000-deep certificate killed the API). The nesting is measured
  *before* parsing, without recursion, and refused beyond MAX_DEPTH;
- duplicate keys: ``{"a":1,"a":2}`` reads as 2 in Python and JavaScript but as 1 in
  parsers that keep the first value, so two verifiers could judge different documents.
  They are refused;
- ``NaN``, ``Infinity`` and ``-Infinity`` are not JSON (RFC 8259) but Python accepts them.
  They are refused;
- size: refused beyond the caller's limit before any work is done.

Every refusal is a JsonInputError (a ValidationError) whose ``code`` names the reason, so
the API answers 422 with that code and the CLI exits with a one-line message.
"""

from __future__ import annotations

import json
from typing import Any, Final, NoReturn

from notary.errors import ValidationError

MAX_DEPTH: Final = 64
"""Deepest nesting of arrays and objects accepted anywhere (a certificate needs 4)."""

_KEEP: Final = bytes(b for b in range(256) if b not in b'"[]{}')
"""Every byte but a quote and the four brackets: deleted before the depth is measured."""
_OPENERS: Final = frozenset(b"[{")
_PIECE: Final = 1 << 20
"""Bytes of quotes and brackets split at a time."""


class JsonInputError(ValidationError):
    """JSON text that is refused before or while parsing; `code` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def depth(data: bytes) -> int | None:
    """Deepest nesting of ``[``/``{`` in JSON text, not counting brackets inside strings.

    Non-recursive and linear. Measured on this project's 2-core machine: a bulk request of
    10,000 hashes 2 ms (json.loads itself: 3 ms), with metadata 9 ms (json.loads: 21 ms);
    hostile 32 MiB inputs up to 3.5 s (a sawtooth of depth 60; 32 MiB of quotes), a
    million ``[`` 2 ms. How: escaped backslashes and escaped quotes are removed (left to
    right, as a JSON reader pairs them), then every byte but quotes and brackets; string
    literals are then plain ``"..."`` runs and are cut out; each pass over the brackets
    left removes the innermost ``[]`` and ``{}`` pairs, so the number of passes is the
    depth. Brackets that do not pair up are not JSON: None. Counting stops past MAX_DEPTH.
    """
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    shape = data.translate(None, _KEEP)
    outside: list[bytes] = []  # what lies between strings
    inside = False
    for start in range(0, len(shape), _PIECE):  # pieces: bounded memory for hostile input
        parts = shape[start : start + _PIECE].split(b'"')
        outside += parts[1::2] if inside else parts[0::2]
        inside ^= len(parts) % 2 == 0  # an odd number of quotes in the piece
    if inside:
        return None  # a string never ends
    brackets = b"".join(outside)
    level = 0
    while brackets:
        if level > MAX_DEPTH:
            return level
        # one level per pass: a pair that only becomes adjacent now waits for the next one
        fewer = brackets.replace(b"[]", b"\0").replace(b"{}", b"\0").replace(b"\0", b"")
        if fewer == brackets:
            return None  # unbalanced or crossed brackets, or an unterminated string
        if len(fewer) * 2 > len(brackets):
            return _walk(fewer, level + 1)  # a deep, narrow shape: walk it once instead
        brackets = fewer
        level += 1
    return level


def _walk(brackets: bytes, base: int) -> int | None:
    """Depth of a bracket-only text whose innermost `base` levels were already removed."""
    level = deepest = 0
    for byte in brackets:
        if byte in _OPENERS:
            level += 1
            if level > deepest:
                deepest = level
                if base + deepest > MAX_DEPTH:
                    return base + deepest
        else:
            level -= 1
            if level < 0:
                return None
    return base + deepest if level == 0 else None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise JsonInputError("duplicate_key", f"duplicate key {key!r} in a JSON object")
            seen.add(key)
    return result


def _no_constant(name: str) -> NoReturn:
    raise JsonInputError("invalid_json", f"{name} is not allowed in JSON")


def loads(data: bytes | str, *, max_bytes: int, what: str = "JSON document") -> Any:  # noqa: ANN401
    """Parse JSON text strictly (see the module docstring); raise JsonInputError.

    `data` as bytes must be UTF-8 (a BOM is refused, as RFC 8259 allows a parser to).
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    if len(raw) > max_bytes:
        raise JsonInputError("too_large", f"{what} is larger than {max_bytes} bytes")
    nesting = depth(raw)
    if nesting is None:
        raise JsonInputError("invalid_json", f"{what} is not valid JSON: brackets do not pair up")
    if nesting > MAX_DEPTH:
        raise JsonInputError(
            "too_deep", f"{what} nests arrays/objects deeper than {MAX_DEPTH} levels"
        )
    if isinstance(data, str):
        text = data
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonInputError("invalid_json", f"{what} is not UTF-8 text") from exc
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except JsonInputError:
        raise
    except (ValueError, RecursionError) as exc:
        raise JsonInputError("invalid_json", f"{what} is not valid JSON: {exc}") from exc
