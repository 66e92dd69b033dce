"""The match report of an alert: the two certificates side by side and what they prove.

Plain statements in Chinese and English, made from the alert and the two evidence records
only: the design existed no later than T1, the capture was preserved no later than T2,
which came first, and that the perceptual distance is a similarity measure, not a legal
finding. The report itself proves nothing; the certificates do, each verified on its own
(`notary verify`). Deterministic: the same alert in the same state gives the same report.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from notary.monitor.alerts import AlertView, Side
from notary.monitor.fingerprint import match_radius

REPORT_VERSION = 1


def _utc(unix: int | None) -> str | None:
    if unix is None:
        return None
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _side(s: Side) -> dict[str, Any]:
    return {
        "evidence_id": s.evidence_id,
        "sha256": s.sha256.hex(),
        "received_at": s.received_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "anchored": s.anchored_at is not None,
        "block_number": s.block_number,
        "existed_no_later_than": _utc(s.anchored_at),
    }


def _order(design: Side, capture: Side) -> str:
    if design.anchored_at is None or capture.anchored_at is None:
        return "unknown"
    if design.anchored_at < capture.anchored_at:
        return "design_first"
    if design.anchored_at == capture.anchored_at:
        return "same_block_time"
    return "capture_first"


def statements(alert: AlertView) -> list[dict[str, str]]:
    """What the two certificates prove and do not prove, each in Chinese and English."""
    d, c = alert.design, alert.capture
    t1, t2 = _utc(d.anchored_at), _utc(c.anchored_at)
    said: list[dict[str, str]] = []
    if t1 is not None:
        said.append(
            {
                "zh": f"设计证书证明:SHA-256 为 {d.sha256.hex()} 的设计文件不晚于 {t1}"
                f"(区块 {d.block_number})已经存在,且此后未被改动。",
                "en": f"The design certificate proves that the design file with SHA-256 "
                f"{d.sha256.hex()} existed no later than {t1} (block {d.block_number}) and is "
                "unchanged since.",
            }
        )
    else:
        said.append(
            {
                "zh": "设计尚未锚定上链:其证书签发后本报告才完整。",
                "en": "The design is not anchored yet: this report is complete only once its "
                "certificate is issued.",
            }
        )
    if t2 is not None:
        said.append(
            {
                "zh": f"取证证书证明:SHA-256 为 {c.sha256.hex()} 的取证图片,连同其来源网址"
                f"({alert.source_url})与取证时间,不晚于 {t2}(区块 {c.block_number})已被保全。",
                "en": f"The capture certificate proves that the captured image with SHA-256 "
                f"{c.sha256.hex()}, with its source URL ({alert.source_url}) and capture time in "
                f"its metadata, was preserved no later than {t2} (block {c.block_number}).",
            }
        )
    else:
        said.append(
            {
                "zh": "取证图片尚未锚定上链:其证书签发后本报告才完整。",
                "en": "The capture is not anchored yet: this report is complete only once its "
                "certificate is issued.",
            }
        )
    order = _order(d, c)
    if order == "design_first":
        said.append(
            {
                "zh": f"设计的存证时间({t1})早于取证时间({t2})。",
                "en": f"The design's time ({t1}) is earlier than the capture's ({t2}).",
            }
        )
    elif order in {"capture_first", "same_block_time"}:
        said.append(
            {
                "zh": f"注意:设计的存证时间({t1})并不早于取证时间({t2})。",
                "en": f"Note: the design's time ({t1}) is not earlier than the capture's ({t2}).",
            }
        )
    radius = match_radius(alert.kind)
    said.append(
        {
            "zh": f"感知哈希({alert.kind})距离为 {alert.distance}/256(报警阈值 {radius}):"
            "这只是图像相似度的度量,不是侵权与否的法律认定;两幅图像应由人工比对。",
            "en": f"The perceptual ({alert.kind}) distance is {alert.distance} of 256 bits "
            f"(alert threshold {radius}): a measure of visual similarity, not a legal finding "
            "of copying; the two images are for a person to compare.",
        }
    )
    said.append(
        {
            "zh": "来源网址、店铺、价格和取证时间由取证方申报:证书证明这些内容不晚于上述时间"
            "被记录,不证明其真实。",
            "en": "The source URL, shop, price and capture time were declared by the finder: "
            "the certificate proves they were recorded by that time, not that they are true.",
        }
    )
    return said


def report(alert: AlertView) -> dict[str, Any]:
    """The JSON match report of an alert."""
    return {
        "report_version": REPORT_VERSION,
        "alert_id": alert.public_id,
        "kind": alert.kind,
        "distance": alert.distance,
        "match_radius": match_radius(alert.kind),
        "design": {**_side(alert.design), "name": alert.design_name},
        "capture": {
            **_side(alert.capture),
            "capture_id": alert.capture_id,
            "source_url": alert.source_url,
            "shop": alert.shop,
            "price": alert.price,
            "captured_at": alert.captured_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "order": _order(alert.design, alert.capture),
        "statements": statements(alert),
        "verify": "Verify each certificate on its own with `notary verify FILE` (the design's "
        "file and certificate, the capture's image and certificate): the report proves "
        "nothing by itself.",
    }
