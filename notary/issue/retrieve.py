"""Giving deposited files back, and court bundles.

Bytes come from the spool (not pinned yet) or from IPFS, and are hashed while they stream:
if they do not hash to the deposited SHA-256, the stream ends with IntegrityError instead of
completing, so a corrupted copy is never delivered as if it were the evidence.
"""

from __future__ import annotations

import hashlib
import json
import struct
import time
import unicodedata
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from notary.core import certificate as cert_format
from notary.court.spec import SPEC_NAME, SPEC_V2_NAME, specification, specification_v2
from notary.court.verifier import PAGE_NAME, verifier_html
from notary.errors import ConflictError, IntegrityError, NotFoundError
from notary.ipfs.client import IpfsStore
from notary.issue.certificates import certificate
from notary.issue.trees import TreeCache
from notary.issue.views import view
from notary.store.db import transaction
from notary.store.models import Evidence, PinState
from notary.store.orgs import OrgView

READ_SIZE: Final = 1024 * 1024

README: Final = """证据包 / Evidence bundle
=========================

中文
----
本证据包包含:
  1. {name} —— 存证的原始文件;
  2. {name}.cert.json —— 存证证书(JSON,机器可读,核验以它为准);
  3. {name}.cert.pdf —— 存证证书(PDF,可打印,扫描二维码即可打开网页核验);
  4. {name}.car —— 该文件在 IPFS 上的数据块(CAR 格式),CID: {cid};
  5. certificate.md —— 证书格式与核验方法的完整规范(第 1 版;第 2 版即联盟背书证书的补充规范见
     certificate-v2.md);
{verify_html_zh}
如何核验(无需信任存证平台):
{verify_page_zh}  a) 计算文件的 SHA-256:  sha256sum "{name}"
     结果应为: {sha256}
  b) 用任一区块链节点核验证书(notary verify 会自动找到同目录的 .cert.json):
     notary verify "{name}" --rpc <链 {chain_id} 的节点地址>
     结果"有效"(VALID)表示:该文件在 {when} (区块 {block})之前已经存在且未被修改。
     加 --lang zh 以中文显示结果。法院必须使用其信任的节点核验。
  c) 不安装任何软件时,可按 certificate.md 第 7 节用 sha256sum 与 curl 核验。
  d) 可选:用任一支持 unixfs-v1-2025 配置的 IPFS 实现导入该文件,CID 应为 {cid}。
证书证明的是"不晚于该时间已存在且未被修改",不证明作者身份或创作时间。

English
-------
This bundle holds:
  1. {name} - the deposited file;
  2. {name}.cert.json - its certificate (JSON: what verifiers read);
  3. {name}.cert.pdf - the certificate to print; its QR code opens the web verifier;
  4. {name}.car - the file's blocks on IPFS (CAR), CID {cid};
  5. certificate.md - the specification of the certificate and how to verify one (version 1;
     certificate-v2.md adds what version 2, with consortium endorsements, changes);
{verify_html_en}
How to check it, without trusting the notary:
{verify_page_en}  a) SHA-256 of the file:  sha256sum "{name}"
     must print: {sha256}
  b) check the certificate against any node of chain {chain_id} (notary verify finds the
     .cert.json beside the file by itself):
     notary verify "{name}" --rpc <node URL>
     VALID means: this file existed, unchanged, no later than {when} (block {block}).
     A court must check against a node it trusts.
  c) with no software of ours: sha256sum and curl, certificate.md section 7.
  d) optional: import the file with any IPFS implementation using the unixfs-v1-2025
     profile; the CID must be {cid}.
The certificate proves existence, unchanged, no later than that time; not authorship, and
not when the design was created.
"""

_VERIFY_HTML_LINES: Final = {
    "zh": (
        "  6. verify.html —— 网页核验工具:用浏览器打开,无需联网到存证平台。\n",
        "  0) 最简单:用浏览器打开 verify.html,放入文件与证书,选择您信任的区块链节点。\n",
    ),
    "en": (
        "  6. verify.html - the web verifier: open it in a browser, no notary server needed.\n",
        "  0) simplest: open verify.html in a browser, drop the file and the certificate,\n"
        "     name a chain node you trust.\n",
    ),
}

BUNDLE_FILE_MODE: Final = 0o100644
"""Every member extracts as a regular file, rw-r--r--."""


@dataclass(frozen=True)
class Content:
    name: str
    media_type: str
    size: int
    sha256: bytes
    chunks: Iterator[bytes]


MAX_NAME_BYTES: Final = 200
"""Longest file name safe_name gives, in UTF-8 bytes (file systems allow 255, which leaves
room for a suffix such as .cert.json)."""
_NOT_IN_NAMES: Final = frozenset('/\\:*?"<>|')
"""Path separators, and what Windows refuses in a file name."""
_NOT_IN_NAMES_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
"""Control and format characters (tab, newline, a right-to-left override), lone surrogates,
line and paragraph separators."""


def safe_name(name: str) -> str:
    """A file name safe inside a zip and on every file system (keeps Chinese characters):
    each character a file name should not hold becomes `_`, leading and trailing dots and
    spaces go, and the result is cut to MAX_NAME_BYTES of UTF-8 (whole characters)."""
    cleaned = "".join(
        "_" if ch in _NOT_IN_NAMES or unicodedata.category(ch) in _NOT_IN_NAMES_CATEGORIES else ch
        for ch in name
    ).strip(". ")
    cut = cleaned.encode("utf-8")[:MAX_NAME_BYTES].decode("utf-8", "ignore").rstrip(". ")
    return cut or "evidence"


def _checked(chunks: Iterator[bytes], sha256: bytes, size: int) -> Iterator[bytes]:
    """Pass chunks through, holding the last one back until the whole hash is checked.

    On a mismatch the last chunk is never sent: the transfer ends short of its declared
    length, so no client can take a corrupted copy for a complete one.
    """
    digest, seen = hashlib.sha256(), 0
    held: bytes | None = None
    for chunk in chunks:
        digest.update(chunk)
        seen += len(chunk)
        if held is not None:
            yield held
        held = chunk
    if seen != size or digest.digest() != sha256:
        raise IntegrityError("the stored bytes do not match the deposited SHA-256")
    if held is not None:
        yield held


def _spooled(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(READ_SIZE):
            yield chunk


def _spool_of(factory: sessionmaker[Session], org: OrgView, public_id: str) -> str | None:
    with transaction(factory) as session:
        return session.scalar(
            select(Evidence.spool).where(
                Evidence.public_id == public_id, Evidence.organization_id == org.id
            )
        )


def content(
    factory: sessionmaker[Session],
    org: OrgView,
    public_id: str,
    ipfs: IpfsStore | None,
    spool_dir: Path,
) -> Content:
    """The deposited file of `public_id`, streamed and checked."""
    v = view(factory, org, public_id)
    spool = _spool_of(factory, org, public_id)
    if v.cid is None:
        raise NotFoundError(f"evidence {public_id} is a hash deposit: the file was never sent")
    size = v.metadata.get("size")
    assert isinstance(size, int)
    if spool is not None and (spool_dir / spool).is_file():
        source = _spooled(spool_dir / spool)
    elif ipfs is not None:
        source = ipfs.cat(v.cid)
    else:
        raise ConflictError("the file is not available: no IPFS node is configured")
    return Content(
        safe_name(str(v.metadata.get("name", public_id))),
        str(v.metadata.get("media_type", "application/octet-stream")),
        size,
        v.sha256,
        _checked(source, v.sha256, size),
    )


def _member(name: str, when: float) -> zipfile.ZipInfo:
    """A zip entry that extracts with mode 0644 and the time the bundle was made.

    The DOS time of a zip entry is local time with 2-second steps and no zone; the
    "extended timestamp" extra field (0x5455, Info-ZIP) adds the exact UTC time, which
    unzip, 7-Zip and libarchive read.
    """
    info = zipfile.ZipInfo(name, date_time=time.localtime(when)[:6])
    info.create_system = 3  # Unix: external_attr carries the mode
    info.external_attr = BUNDLE_FILE_MODE << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    info.extra = struct.pack("<HHBl", 0x5455, 5, 1, int(when))
    return info


def _readme_lines() -> dict[str, str]:
    shown = _VERIFY_HTML_LINES
    return {
        "verify_html_zh": shown["zh"][0],
        "verify_page_zh": shown["zh"][1],
        "verify_html_en": shown["en"][0],
        "verify_page_en": shown["en"][1],
    }


def write_bundle(
    target: Path,
    factory: sessionmaker[Session],
    trees: TreeCache,
    org: OrgView,
    public_id: str,
    ipfs: IpfsStore,
    file: Content,
    public_url: str,
    extras: Mapping[str, bytes] | None = None,
) -> Path:
    """Write the court bundle (zip) of anchored, pinned evidence to `target`.

    It holds the file, its certificate (JSON and PDF), the CAR, certificate.md and
    certificate-v2.md, a README,
    the web verifier (verify.html, listed with the extras in bundle.json) and `extras`: more
    named members (an access log) that callers add. Every member extracts with mode 0644 and
    the time the bundle was made.
    """
    cert = certificate(factory, trees, org, public_id)
    if view(factory, org, public_id).pin_state != PinState.PINNED.value:
        raise ConflictError(f"evidence {public_id} is not pinned on IPFS yet")
    cid = str(cert.evidence.metadata.get("cid", ""))
    a = cert.anchor
    added = dict(extras or {})
    members = {
        "file": file.name,
        "certificate": file.name + ".cert.json",
        "pdf": file.name + ".cert.pdf",
        "car": file.name + ".car",
        "readme": "README.txt",
        "specification": SPEC_NAME,
        "specification_v2": SPEC_V2_NAME,
    }
    taken = {*members.values(), "bundle.json", PAGE_NAME}
    clash = sorted(taken & added.keys())
    if clash:
        raise ValueError(f"bundle members named twice: {clash}")
    added[PAGE_NAME] = verifier_html()
    readme = README.format(
        name=file.name,
        cid=cid,
        sha256=cert.evidence.sha256.hex(),
        chain_id=a.chain_id,
        block=a.block_number,
        when=cert_format.utc_text(a.block_time),
        **_readme_lines(),
    )
    from notary.court.pdf import render  # fpdf2 + fontTools: ~1 s to import, only here
    from notary.court.qr import verify_url

    pdf = render(cert, verify_url(public_url, cert.evidence.sha256, public_id), public_id)
    when = time.time()
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        with bundle.open(_member(file.name, when), "w", force_zip64=True) as out:
            for chunk in file.chunks:
                out.write(chunk)
        bundle.writestr(_member(members["certificate"], when), cert_format.dumps(cert))
        bundle.writestr(_member(members["pdf"], when), pdf)
        with bundle.open(_member(members["car"], when), "w", force_zip64=True) as out:
            for chunk in ipfs.export_car(cid):
                out.write(chunk)
        bundle.writestr(_member("README.txt", when), readme)
        bundle.writestr(_member(SPEC_NAME, when), specification())
        bundle.writestr(_member(SPEC_V2_NAME, when), specification_v2())
        for name, data in sorted(added.items()):
            bundle.writestr(_member(name, when), data)
        manifest = {
            "evidence": public_id,
            "cid": cid,
            **members,
            "extras": sorted(added),
        }
        bundle.writestr(
            _member("bundle.json", when), json.dumps(manifest, ensure_ascii=False, indent=2)
        )
    return target
