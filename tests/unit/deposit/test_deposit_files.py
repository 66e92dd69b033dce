"""A file deposit's metadata rule and its spool copy, without a server.

The same rule serves the API's upload and `notary stamp`; the API tests check it over HTTP
(errors, 507 on a full disk), these check the rule and the spool's file handling alone.
"""

from __future__ import annotations

import asyncio
import errno

import pytest

from notary.core.cid import PROFILE
from notary.core.hashing import ContentHasher
from notary.deposit.content import DEFAULT_MEDIA_TYPE, UNNAMED, FileContent, file_metadata
from notary.deposit.files import deposit_received
from notary.deposit.request import DepositOutcome
from notary.deposit.spool import SpoolFile, drop, spool_dir, storage_error
from notary.errors import (
    InsufficientStorageError,
    MetadataError,
    StorageError,
    ValidationError,
)


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
    declared = {"name": "Plan B", "media_type": "text/plain", "size": 6, "sku": "KD-7"}
    metadata = file_metadata(file, declared)
    assert (metadata["name"], metadata["media_type"]) == ("Plan B", "text/plain")
    assert metadata["cid"] == file.hashes.cid and metadata["sku"] == "KD-7"
    assert "cid" not in declared  # the declared dict is not changed
    with pytest.raises(MetadataError, match="7 is not the file's size 6") as wrong:
        file_metadata(file, {"size": 7})
    assert wrong.value.field == "metadata.size"
    for reserved in ("cid", "cid_profile"):  # the notary writes these; a claim is refused
        with pytest.raises(MetadataError) as refused:
            file_metadata(file, {reserved: "forged"})
        assert refused.value.field == f"metadata.{reserved}"


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


class _SlowWriter:
    """A deposit writer that answers when told to: the window in which a client can go
    away while its deposit is being written (a fault a real writer shows only by luck)."""

    def __init__(self) -> None:
        self.answer: asyncio.Future[list[DepositOutcome]] | None = None

    async def deposit_async(self, org, requests) -> list[DepositOutcome]:
        self.answer = asyncio.get_running_loop().create_future()
        return await self.answer


def _outcome(created: bool) -> list[DepositOutcome]:
    return [DepositOutcome("ev_x", created, None)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("answer", "kept"),
    [("created", True), ("known", False), ("failed", False)],
)
def test_a_cancelled_request_leaves_the_copy_to_the_writers_answer(
    tmp_path, answer: str, kept: bool
) -> None:
    """The client goes away while its deposit is written: the copy is kept exactly when the
    deposit goes on to create the evidence (its pin needs the bytes), dropped otherwise."""

    async def scenario() -> bool:
        spool = SpoolFile(spool_dir(tmp_path))
        spool.write(b"design")
        path = spool.keep()
        file = FileContent(_file().hashes, "plan.dwg", None, path)
        writer = _SlowWriter()
        request = asyncio.ensure_future(deposit_received(writer, None, file, {}))  # type: ignore[arg-type]
        while writer.answer is None:
            await asyncio.sleep(0)
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request
        assert path.exists()  # undecided while the writer has not answered
        if answer == "failed":
            writer.answer.set_exception(StorageError("disk"))
        else:
            writer.answer.set_result(_outcome(answer == "created"))
        for _ in range(5):
            await asyncio.sleep(0)
        return path.exists()

    assert asyncio.run(scenario()) is kept


def test_refused_metadata_drops_the_copy(tmp_path) -> None:
    """A declared size that is not the file's is refused before anything is written, and
    the received bytes do not stay behind in the spool."""
    spool = SpoolFile(spool_dir(tmp_path))
    spool.write(b"design")
    path = spool.keep()
    file = FileContent(_file().hashes, "plan.dwg", None, path)
    writer = _SlowWriter()
    with pytest.raises(ValidationError, match=r"metadata\.size: "):
        asyncio.run(deposit_received(writer, None, file, {"size": 7}))  # type: ignore[arg-type]
    assert writer.answer is None and not path.exists()
