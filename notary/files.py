"""Files written whole or not at all, and small JSON records read back safely.

Used by the command line and the operator tools (certificates, deployment and devnet
records, stamp journals); the service's own durable state is in the database.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from notary.errors import StorageError


def write_atomic(path: Path, data: bytes, *, shown: str | None = None) -> None:
    """Write `data` to `path` (parents created) through a hidden temporary file that is
    fsynced and renamed over `path`: a reader or a crash never sees half a file. `shown` is
    how the path is named in the StorageError (default: the path itself)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # hidden: never deposited
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with tmp.open("wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            tmp.replace(path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise StorageError(f"cannot write {shown or path}: {reason}") from exc


def write_text_atomic(path: Path, text: str) -> None:
    """Write UTF-8 `text` to `path` atomically (see write_atomic)."""
    write_atomic(path, text.encode("utf-8"))


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write a JSON record atomically: sorted keys, two-space indent, UTF-8, final newline."""
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)
    write_text_atomic(path, text + "\n")


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object at `path`, or None if the file does not exist; StorageError when it
    cannot be read or is not a JSON object."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc}") from exc
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StorageError(f"{path} is corrupt: {exc}") from exc
    if not isinstance(loaded, dict):
        raise StorageError(f"{path} is corrupt: not a JSON object")
    return loaded
