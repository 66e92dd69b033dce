"""The spool: where a deposited file's bytes wait, fsynced, until the pinner has them on IPFS.

A file is received into <spool>/<random>.part and renamed to <spool>/<random> only once it
is whole and fsynced (SpoolFile.keep), so the folder never holds a half-written file under
a name a deposit could refer to. The deposit records that name (evidence.spool); the pinner
(notary.anchoring.pinner) deletes the file once IPFS holds it, and retrieval
(notary.issue.retrieve) reads it until then. Every OSError becomes a StorageError, a full
disk an InsufficientStorageError: the server's problem, not the client's.
"""

from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path
from typing import Final

from notary.errors import InsufficientStorageError, StorageError

SPOOL_FOLDER: Final = "spool"
"""The spool's folder under the data directory."""


def spool_dir(data_dir: Path) -> Path:
    """The spool folder of a notary whose state lives in `data_dir`."""
    return data_dir / SPOOL_FOLDER


def storage_error(exc: OSError) -> StorageError:
    """The domain error for a failed spool write: a full disk is the server's problem,
    not the client's (507), and says so; anything else is storage being unavailable."""
    if exc.errno in {errno.ENOSPC, errno.EDQUOT}:
        return InsufficientStorageError(
            "no space left to store the upload; nothing was recorded, try again later"
        )
    return StorageError(f"cannot store the upload: {exc.strerror or type(exc).__name__}")


class SpoolFile:
    """Receives one file into <spool>/<random>.part; `keep()` fsyncs and renames it.

    Every OSError (a full disk above all) becomes a StorageError, and the partial file is
    removed by `discard()`, which the caller runs on any failure.
    """

    def __init__(self, folder: Path) -> None:
        self.final = folder / secrets.token_hex(16)
        self.part = self.final.with_suffix(".part")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._file = self.part.open("xb")
        except OSError as exc:
            raise storage_error(exc) from exc

    def write(self, data: bytes | memoryview) -> None:
        try:
            self._file.write(data)
        except OSError as exc:
            raise storage_error(exc) from exc

    def keep(self) -> Path:
        """Make the file durable under its final name, and return that path."""
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self.part.rename(self.final)
        except OSError as exc:
            self.discard()
            raise storage_error(exc) from exc
        return self.final

    def discard(self) -> None:
        try:
            self._file.close()  # may fail again flushing what a full disk refused
        except OSError:
            pass
        finally:
            self.part.unlink(missing_ok=True)


def drop(kept: Path) -> None:
    """Delete a kept spool file that no deposit refers to (already gone is fine)."""
    kept.unlink(missing_ok=True)
