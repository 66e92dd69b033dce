"""What a verdict says, in English and Chinese: one source for every place that says it.

`notary verify` prints these sentences, the PDF certificate (notary.court.pdf) prints the
same ones beside each other, so the paper never claims more than the verifier does. Only
wording lives here; the checks are in notary.verify.certificate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Final, Literal

from notary.core.certificate import Certificate, utc_text

Lang = Literal["en", "zh"]
LANGS: Final = ("en", "zh")

BEIJING: Final = timezone(timedelta(hours=8), "UTC+8")
"""China Standard Time (no daylight saving): the time a Chinese court reads."""

LABELS: Final[dict[Lang, dict[str, str]]] = {
    "en": {"valid": "VALID", "invalid": "INVALID", "cannot_decide": "CANNOT DECIDE"},
    "zh": {"valid": "有效", "invalid": "无效", "cannot_decide": "无法判定"},
}
"""What a clerk reads for each outcome (notary.verify.certificate.Outcome values)."""

VERDICT_MEANING_ZH: Final = {
    "invalid": "证书、文件与区块链记录相互矛盾",
    "cannot_decide": "本次核验无法得出结论(节点不可达或答复异常、链不符、证书版本更新等)",
}
"""The Chinese sentence shown before the (English, technical) reason of a failed run."""

CHECK_NAMES_ZH: Final = {
    "file sha256": "文件 SHA-256",
    "file sm3": "文件 SM3",
    "file size": "文件大小",
    "leaf content": "叶子内容",
    "leaf metadata": "叶子元数据",
    "leaf hash": "叶子哈希",
    "merkle proof": "默克尔证明",
    "chain id": "链 ID",
    "node synced": "节点同步",
    "registry code": "登记合约代码",
    "registry code hash field": "合约代码哈希字段",
    "root anchored": "根已上链",
    "anchor record": "上链记录",
    "block": "区块",
    "contract verify": "合约验证",
    "transaction in block": "交易在区块中",
    "transaction receipt": "交易回执",
    "transaction status": "交易状态",
    "anchored event": "上链事件",
    "event fields": "事件字段",
    "endorsers distinct": "背书成员不重复",
    "endorsement signatures": "背书签名",
    "endorsers were members": "背书成员资格",
    "endorsement policy": "背书策略",
    "endorsement quorum": "背书数量",
    "recorded endorsement": "链上背书记录",
    "depositor signature": "存证人签名",
    "depositor key registered": "存证人密钥登记",
}
"""Chinese names of the checks; their details (hashes, numbers) stay as they are."""

HEADINGS: Final[dict[Lang, tuple[str, str]]] = {
    "en": ("What this proves:", "What this does not prove:"),
    "zh": ("本结果证明:", "本结果不证明:"),
}

DEV_CHAIN_IDS: Final = frozenset({31337, 1337})
"""Chain ids of local development chains: 31337 (anvil, Hardhat: the devnet here) and 1337
(Ganache, geth --dev). Whoever runs such a chain can rewrite it at will."""


def utc_words(timestamp: int) -> str:
    """2026-11-21 14:33:25 UTC"""
    return utc_text(timestamp).replace("T", " ").replace("Z", " UTC")


def beijing_words(timestamp: int, zone: bool = True) -> str:
    """2026-11-21 22:33:25 (UTC+8), without the zone when `zone` is False."""
    moment = datetime.fromtimestamp(timestamp, UTC).astimezone(BEIJING)
    return moment.strftime("%Y-%m-%d %H:%M:%S") + (" (UTC+8)" if zone else "")


@dataclass(frozen=True)
class Claims:
    """What a VALID verdict proves, and what it does not, in one language."""

    subject: str
    reason: str
    proven: tuple[str, ...]
    not_proven: tuple[str, ...]


def claims(cert: Certificate, with_file: bool, lang: Lang = "en") -> Claims:
    """The honest statement of a VALID verdict for `cert` (checked with or without the file)."""
    return _claims_zh(cert, with_file) if lang == "zh" else _claims_en(cert, with_file)


def _claims_en(cert: Certificate, with_file: bool) -> Claims:
    a, ev = cert.anchor, cert.evidence
    when = utc_words(a.block_time)
    name = ev.metadata.get("name", "(no name)")
    subject = f"this file ({name})" if with_file else f"content with SHA-256 {ev.sha256.hex()}"
    proven = (
        f"{subject} existed, unchanged, no later than {when} "
        f"(block {a.block_number} of chain {a.chain_id}, registry {a.registry}).",
        f"It was anchored by notary account {a.notary} for depositor '{cert.leaf.depositor}', "
        "together with the metadata in the certificate.",
    )
    not_proven = (
        "When the content was created: it may be older than the anchor, never newer.",
        "Who authored it: the chain proves who deposited it through the notary, not authorship.",
        "That the metadata (name, media type, title) is true: only that it was declared then.",
    ) + (
        ()
        if with_file
        else ("That any particular file matches: no file was checked. Re-run with --file.",)
    )
    reason = f"{subject} existed, unchanged, no later than {when}"
    return Claims(subject, reason, proven, not_proven)


def _claims_zh(cert: Certificate, with_file: bool) -> Claims:
    a, ev = cert.anchor, cert.evidence
    when = f"{utc_words(a.block_time)}(北京时间 {beijing_words(a.block_time, zone=False)})"
    name = ev.metadata.get("name", "(无文件名)")
    subject = f"该文件({name})" if with_file else f"SHA-256 为 {ev.sha256.hex()} 的内容"
    proven = (
        f"{subject}不晚于 {when} 已经存在,且此后未被修改"
        f"(链 {a.chain_id} 的区块 {a.block_number},登记合约 {a.registry})。",
        f"它由存证账户 {a.notary} 为存证人“{cert.leaf.depositor}”上链,证书中的元数据一并上链。",
    )
    not_proven = (
        "内容的创作时间:内容可能早于上链时间产生,但不可能晚于上链时间。",
        "作者身份:区块链证明的是谁通过存证平台提交了它,而不是谁创作了它。",
        "元数据(文件名、类型、标题)是否真实:只证明当时如此申报。",
    ) + (() if with_file else ("某个具体文件与之相符:本次未核验文件,请加 --file 重新核验。",))
    reason = f"{subject}不晚于 {when} 已经存在且未被修改"
    return Claims(subject, reason, proven, not_proven)


def dev_chain_warning(chain_id: int, lang: Lang = "en") -> str | None:
    """A plain warning when the chain is a local development chain, else None.

    Only the chain id is judged: a chain that one operator runs alone (say a private
    chain whose every validator is the notary) cannot be told apart from a consortium
    chain by a certificate and one node's answers. That is why every verdict names the
    node it was read from (`trusted_node_reminder`).
    """
    if chain_id not in DEV_CHAIN_IDS:
        return None
    if lang == "zh":
        return (
            f"警告:链 {chain_id} 是本地开发链(anvil、Hardhat、Ganache 一类),运行它的人"
            "可以随意改写它,本结果不能说明任何公共链或联盟链上发生的事。"
            "法院必须使用其信任的节点核验。"
        )
    return (
        f"warning: chain {chain_id} is a local development chain (anvil, Hardhat, Ganache): "
        "whoever runs it can rewrite it at will, so this verdict says nothing about a public "
        "or consortium chain. A court must check against a node it trusts."
    )


def trusted_node_reminder(rpc_url: str, lang: Lang = "en") -> str:
    """Which node answered: the verdict is only as good as that node."""
    if lang == "zh":
        return f"本结果读取自节点 {rpc_url};法院必须使用其信任的节点核验。"
    return f"read from the node at {rpc_url}; a court must check against a node it trusts."


def endorsed_words(endorsement: dict[str, object], lang: Lang = "en") -> str:
    """Who endorsed a version 2 anchor, in plain words, from the verdict's
    facts["endorsement"] (notary.verify.endorsement.EndorsementSummary.as_facts):
    "Endorsed by 2 of the 3 endorsing members (2 required): 某互联网法院 (0x…), …"."""
    by = endorsement["endorsed_by"]
    assert isinstance(by, list)
    count, members, k = len(by), endorsement["endorsing_members"], endorsement["threshold"]
    if lang == "zh":
        names = "、".join(f"{e['organization']}({e['member']})" for e in by)
        return f"由 {members} 个背书成员中的 {count} 个背书(要求 {k} 个):{names}。"
    names = ", ".join(f"{e['organization']} ({e['member']})" for e in by)
    return f"Endorsed by {count} of the {members} endorsing members ({k} required): {names}."


def depositor_words(signed: dict[str, object], lang: Lang = "en") -> str:
    """Who signed a version 2 deposit, from the verdict's facts["depositor_signature"]
    (notary.verify.depositor.DepositorSummary.as_facts)."""
    if lang == "zh":
        return f"由 {signed['organization']}({signed['signer']})存证并签名。"
    return f"Deposited and signed by {signed['organization']} ({signed['signer']})."


def unsigned_words(depositor: str, lang: Lang = "en") -> str:
    """What a version 2 verdict says of a deposit without a depositor signature."""
    if lang == "zh":
        return f"存证人“{depositor}”是存证平台的说法:该存证没有存证人签名。"
    return (
        f"That '{depositor}' deposited it, beyond the notary's word: the deposit carries no "
        "depositor signature."
    )
