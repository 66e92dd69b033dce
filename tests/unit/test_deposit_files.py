"""A file deposit's metadata rule and its spool copy, without a server.

The same rule serves the API's upload and `notary stamp`; the API tests check it over HTTP
(errors, 507 on a full disk), these check the rule and the spool's file handling alone.
"""

from __future__ import annotations

import errno

import pytest

from notary.core.cid import PROFILE
from notary.core.hashing import ContentHasher
from notary.deposit.content import DEFAULT_MEDIA_TYPE, UNNAMED, FileContent, file_metadata
from notary.deposit.spool import SpoolFile, drop, spool_dir, storage_error
from notary.errors import InsufficientStorageError, StorageError, ValidationError


def _file(data: bytes = b"design", **given: str) -> FileContent:
    hasher = ContentHasher()
    hasher.update(data)
    return FileContent(hasher.result(), given.get("name"), given.get("media_type"))


def test_the_file_gives_what_the_depositor_did_not_declare() -> None:
    file = _file(name="plan.dwg", media_type="image/vnd.dwg")
    assert file_metadata(file, {}) == {
        "name": "plan.dwg",
        "media_type": "image/vnd.dwg",
        "size": 6,
        "cid": file.hashes.cid,
        "cid_profile": PROFILE,
    }
    assert file_metadata(_file(), {})["name"] == UNNAMED
    assert file_metadata(_file(), {})["media_type"] == DEFAULT_MEDIA_TYPE


def test_declared_metadata_wins_but_not_over_the_size_or_cid() -> None:
    file = _file(name="plan.dwg", media_type="image/vnd.dwg")
    declared = {"name": "Plan B", "media_type": "text/plain", "size": 6, "cid": "forged"}
    metadata = file_metadata(file, declared)
    assert (metadata["name"], metadata["media_type"]) == ("Plan B", "text/plain")
    assert metadata["cid"] == file.hashes.cid
    assert declared["cid"] == "forged"  # the declared dict is not changed
    with pytest.raises(ValidationError, match="metadata size 7 is not the file's 6"):
        file_metadata(file, {"size": 7})


def test_a_kept_file_is_whole_under_its_final_name(tmp_path) -> None:
    folder = spool_dir(tmp_path)
    spool = SpoolFile(folder)
    spool.write(b"des")
    spool.write(memoryview(b"xign")[1:])
    assert [p.suffix for p in folder.iterdir()] == [".part"]
    kept = spool.keep()
    assert kept.read_bytes() == b"design" and list(folder.iterdir()) == [kept]
    drop(kept)
    drop(kept)  # already gone is fine
    assert list(folder.iterdir()) == []


def test_a_discarded_file_leaves_nothing(tmp_path) -> None:
    spool = SpoolFile(tmp_path)
    spool.write(b"half a file")
    spool.discard()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_a_full_disk_is_insufficient_storage(code: int) -> None:
    error = storage_error(OSError(code, "full"))
    assert isinstance(error, InsufficientStorageError)
    assert "no space left" in str(error)


def test_other_failures_are_storage_errors() -> None:
    error = storage_error(OSError(errno.EACCES, "Permission denied"))
    assert type(error) is StorageError
    assert str(error) == "cannot store the upload: Permission denied"
