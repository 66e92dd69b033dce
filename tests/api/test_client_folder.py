"""Folder deposits (`notary deposit DIR`, `NotaryClient.deposit_folder`) and empty files,
against the real server: certificates mirror the tree, hostile names are skipped or refused
before anything is sent, and an empty file is refused everywhere."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from api.schemas import MetadataIn
from notary.client import NotaryClient
from notary.errors import ValidationError
from notary.verify.certificate import Outcome, verify

pytestmark = pytest.mark.devnet

EMPTY_FILE = "the file is empty"  # the API's words, everywhere
PATH_KEY = "path"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
EMPTY_SM3 = hashlib.new("sm3", b"").hexdigest()


class CountingTransport(httpx.HTTPTransport):
    """A real transport that counts the requests other than reading the OpenAPI document."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != "/openapi.json":
            self.sent.append(f"{request.method} {request.url.path}")
        return super().handle_request(request)


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def unique(label: str) -> bytes:
    return label.encode() + b"\n" + os.urandom(32)


def deposit_cli(api, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTARY_")}
    env.update(NOTARY_API_URL=api.url, NOTARY_API_KEY=api.keys["studio"])
    exe = str(Path(sys.executable).parent / "notary")
    return subprocess.run(
        [exe, "deposit", *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def deposited(api, data: bytes) -> list[dict]:
    """The studio's evidence with this content (empty if it was never deposited)."""
    sha = hashlib.sha256(data).hexdigest()
    with api.client("studio") as http:
        response = http.get("/v1/evidence", params={"sha256": sha})
    assert response.status_code == 200, response.text
    items: list[dict] = response.json()["items"]
    return items


def tree(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


@pytest.mark.parametrize("mode", ["upload", "hash-only"])
def test_certificates_mirror_the_tree_and_a_rerun_rewrites_the_same(
    api, chain, tmp_path, mode
) -> None:
    folder = tmp_path / "designs"
    files = {
        "a/x.txt": write(folder / "a" / "x.txt", unique("a")),
        "b/x.txt": write(folder / "b" / "x.txt", unique("b")),
        "b/c/款式 1.png": write(folder / "b" / "c" / "款式 1.png", unique("c")),
        "x.txt": write(folder / "x.txt", unique("top")),
    }
    out = tmp_path / "certs"
    flags = ["--hash-only"] if mode == "hash-only" else []

    first = deposit_cli(api, str(folder), "--out", str(out), "--json", *flags)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert sorted(e["path"] for e in report["evidence"]) == sorted(files)
    assert all(e["created"] for e in report["evidence"])
    assert sorted(tree(out)) == sorted(f"{rel}.cert.json" for rel in files)
    for rel, path in files.items():  # each certificate is the one of its own file
        with path.open("rb") as fh:
            verdict = verify((out / f"{rel}.cert.json").read_bytes(), chain.rpc_url, fh)
        assert verdict.outcome is Outcome.VALID, (rel, verdict)

    before = tree(out)
    again = deposit_cli(api, str(folder), "--out", str(out), "--json", *flags)
    assert again.returncode == 0, again.stderr
    rerun = json.loads(again.stdout)
    assert not any(e["created"] for e in rerun["evidence"])
    assert [e["id"] for e in rerun["evidence"]] == [e["id"] for e in report["evidence"]]
    assert tree(out) == before  # the same certificates, nothing added
    assert all(len(deposited(api, p.read_bytes())) == 1 for p in files.values())


def test_names_that_would_share_a_certificate_are_refused_before_sending(api, tmp_path) -> None:
    upper = write(tmp_path / "one" / "a" / "Bear.PNG", unique("upper"))
    lower = write(tmp_path / "one" / "a" / "bear.png", unique("lower"))
    result = deposit_cli(api, str(tmp_path / "one"), "--out", str(tmp_path / "certs"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "differ only in case" in result.stderr and "Traceback" not in result.stderr
    assert deposited(api, upper.read_bytes()) == deposited(api, lower.read_bytes()) == []

    # two folders with the same tree, into one --out
    left = write(tmp_path / "left" / "x.txt", unique("left"))
    right = write(tmp_path / "right" / "x.txt", unique("right"))
    both = deposit_cli(
        api, str(tmp_path / "left"), str(tmp_path / "right"), "--out", str(tmp_path / "certs")
    )
    assert both.returncode == 2 and "would both need" in both.stderr, both.stderr
    assert "differ only in case" not in both.stderr
    assert deposited(api, left.read_bytes()) == deposited(api, right.read_bytes()) == []
    assert not (tmp_path / "certs").exists()

    # without --out the two names are two files with two deposits
    alone = deposit_cli(api, str(tmp_path / "one"))
    assert alone.returncode == 0, alone.stderr
    assert len(deposited(api, upper.read_bytes())) == len(deposited(api, lower.read_bytes())) == 1


@pytest.mark.parametrize("mode", ["upload", "hash-only"])
def test_hostile_entries_are_skipped_and_reported(api, chain, tmp_path, mode) -> None:
    folder = tmp_path / "in"
    good = write(folder / "sub" / "good.png", unique("good"))
    secret = write(tmp_path / "secret.key", unique("secret"))
    (folder / "leak.png").symlink_to(secret)  # a link leading out of the folder
    (folder / "outside").symlink_to(tmp_path, target_is_directory=True)
    (folder / "broken.png").symlink_to(tmp_path / "nowhere")
    (folder / "inside.png").symlink_to(Path("sub") / "good.png")  # stays in: deposited
    write(folder / "empty.png", b"")
    raw = os.fsencode(folder) + b"/latin1-\xe9.png"  # not UTF-8
    with open(raw, "wb") as fh:
        fh.write(unique("latin1"))
    write(folder / "bell\x07.png", unique("bell"))  # a control character
    os.mkfifo(folder / "pipe.png")  # would block a reader forever
    out = tmp_path / "certs"
    flags = ["--hash-only"] if mode == "hash-only" else []

    result = deposit_cli(api, str(folder), "--out", str(out), "--json", *flags)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    reasons = {Path(s["file"]).name: s["reason"] for s in report["skipped"]}
    assert reasons.keys() == {
        "leak.png",
        "outside",
        "broken.png",
        "empty.png",
        "latin1-\\xe9.png",
        "bell\x07.png",
        "pipe.png",
    }
    assert reasons["empty.png"] == EMPTY_FILE
    assert "out of the folder" in reasons["leak.png"]
    assert "out of the folder" in reasons["outside"]
    assert "UTF-8" in reasons["latin1-\\xe9.png"]
    assert f"skipped: {folder / 'empty.png'}: {EMPTY_FILE}" in result.stderr
    assert "7 file(s) skipped" in result.stderr
    assert sorted(e["path"] for e in report["evidence"]) == ["inside.png", "sub/good.png"]
    assert sorted(tree(out)) == ["inside.png.cert.json", "sub/good.png.cert.json"]
    with good.open("rb") as fh:
        verdict = verify((out / "sub" / "good.png.cert.json").read_bytes(), chain.rpc_url, fh)
    assert verdict.outcome is Outcome.VALID
    assert deposited(api, secret.read_bytes()) == []  # nothing outside the folder was sent


@pytest.mark.parametrize("mode", ["upload", "hash-only"])
def test_an_empty_file_named_directly_stops_the_run_before_anything_is_sent(
    api, tmp_path, mode
) -> None:
    good = write(tmp_path / "good.png", unique("named"))
    empty = write(tmp_path / "empty.png", b"")
    flags = ["--hash-only"] if mode == "hash-only" else []
    result = deposit_cli(api, str(good), str(empty), *flags)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{empty}: {EMPTY_FILE}" in result.stderr and "Traceback" not in result.stderr
    assert deposited(api, good.read_bytes()) == []


def test_client_refuses_empty_content_without_sending(api, tmp_path) -> None:
    good = write(tmp_path / "good.png", unique("client"))
    empty = write(tmp_path / "empty.png", b"")
    transport = CountingTransport()
    with NotaryClient(api.url, api.keys["studio"], transport=transport) as client:
        with pytest.raises(ValidationError, match=EMPTY_FILE):
            client.deposit_file(empty)
        for hash_only in (False, True):
            with pytest.raises(ValidationError, match=EMPTY_FILE):
                client.deposit_paths([good, empty], hash_only=hash_only)
        for sha in (EMPTY_SHA256, "0x" + EMPTY_SHA256.upper()):
            with pytest.raises(ValidationError, match=EMPTY_FILE):
                client.deposit_hash(sha)
        with pytest.raises(ValidationError, match=EMPTY_FILE):
            client.deposit_hash("cd" * 32, sm3=EMPTY_SM3)
        with pytest.raises(ValidationError, match=EMPTY_FILE):
            client.deposit_hashes([{"sha256": "cd" * 32}, {"sha256": EMPTY_SHA256}])
        assert transport.sent == []
    assert deposited(api, good.read_bytes()) == []


def test_deposit_folder_skips_an_empty_file_and_says_so(api, tmp_path, caplog) -> None:
    folder = tmp_path / "season"
    files = [write(folder / f"{i}.png", unique(f"season {i}")) for i in range(3)]
    write(folder / "spring" / "placeholder.png", b"")
    with NotaryClient(api.url, api.keys["studio"]) as client:
        results = client.deposit_folder(folder, hash_only=True)
    assert [r["sha256"] for r in results] == [
        hashlib.sha256(f.read_bytes()).hexdigest() for f in files
    ]
    assert [(s.path, s.reason) for s in results.skipped] == [
        (folder / "spring" / "placeholder.png", EMPTY_FILE)
    ]
    assert [e.relative for e in results.entries] == ["0.png", "1.png", "2.png"]
    assert f"placeholder.png: {EMPTY_FILE}" in caplog.text


def test_client_reads_from_the_openapi_document_whether_path_is_recorded(api) -> None:
    """The client sends PATH_KEY only to a server whose contract takes it (others say 422)."""
    schema = MetadataIn.model_json_schema()
    takes = PATH_KEY in schema["properties"] or schema.get("additionalProperties") is not False
    with NotaryClient(api.url, api.keys["studio"]) as client:
        assert client.accepts_metadata("name") is True
        assert client.accepts_metadata(PATH_KEY) is takes
        assert client.accepts_metadata("no_such_key_anywhere") is (
            schema.get("additionalProperties") is not False
        )


def test_metadata_keeps_the_path_under_the_folder(api, tmp_path) -> None:
    folder = tmp_path / "kept"
    write(folder / "a" / "x.txt", unique("kept a"))
    write(folder / "b" / "x.txt", unique("kept b"))
    with NotaryClient(api.url, api.keys["studio"]) as client:
        for hash_only in (False, True):
            results = client.deposit_folder(folder, hash_only=hash_only)
            assert [r["metadata"].get(PATH_KEY) for r in results] == ["a/x.txt", "b/x.txt"]
