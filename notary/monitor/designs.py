"""Design fingerprints in the store: written with the deposit, read back for the index.

A file deposit is fingerprinted before it is recorded, and its fingerprints and status are
inserted by a hook (notary.deposit.request.OnCreated) inside the transaction that records
the evidence: an acknowledged deposit always has its fingerprint status, and a kill -9
cannot leave a committed design silently unfingerprinted. Fingerprints go to their own
table, never into the leaf or the certificate: they describe how an image looks and prove
nothing about its content.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from notary.deposit.request import OnCreated
from notary.issue.views import HASH_NOT_FINGERPRINTED
from notary.monitor.fingerprint import Fingerprint, Fingerprinted, ImageStatus
from notary.store.models import DesignFingerprint, DesignSketch, FingerprintStatus

MAX_FINGERPRINT_BYTES: Final = 64 * 1024 * 1024
"""Largest file the service fingerprints (the bytes are held in memory while it does);
larger files are recorded with status too_large."""
NOT_FINGERPRINTED: Final = HASH_NOT_FINGERPRINTED[0]
"""The status shown for evidence that has no fingerprint row: a hash deposit without
client fingerprints, or a file deposited before early warning existed."""
SERVER: Final = "server"
CLIENT: Final = "client"

_FINGERPRINTS = cast(Table, DesignFingerprint.__table__)
_STATUS = cast(Table, FingerprintStatus.__table__)
_SKETCHES = cast(Table, DesignSketch.__table__)


@dataclass(frozen=True)
class FingerprintInfo:
    """What the evidence view shows of a deposit's fingerprints."""

    status: str
    detail: str
    kinds: tuple[str, ...]
    source: str | None


def too_large(size: int) -> Fingerprinted:
    """The outcome for a file over MAX_FINGERPRINT_BYTES (not read into memory)."""
    return Fingerprinted(
        ImageStatus.TOO_LARGE,
        f"files over {MAX_FINGERPRINT_BYTES // (1024 * 1024)} MiB are not fingerprinted "
        f"(this one has {size} bytes)",
        (),
    )


CLIENT_GIVEN: Final = "computed by the depositor's client"


def client_given(fingerprints: tuple[Fingerprint, ...]) -> Fingerprinted:
    """Fingerprints a client computed for a hash deposit (the file never left it)."""
    return Fingerprinted(ImageStatus.OK, CLIENT_GIVEN, fingerprints)


def hash_status(with_fingerprints: bool) -> tuple[str, str]:
    """(status, detail) a new hash deposit records: ok with its client's fingerprints,
    not_fingerprinted without (no row is stored then)."""
    return (ImageStatus.OK.value, CLIENT_GIVEN) if with_fingerprints else HASH_NOT_FINGERPRINTED


def recorder(result: Fingerprinted, source: str) -> OnCreated:
    """The deposit hook that stores `result` for the new evidence, in its transaction."""

    def record(session: Session, evidence_id: int) -> None:
        rows = [
            {"evidence_id": evidence_id, "kind": f.kind, "bits": f.bits, "quality": f.quality}
            for f in result.fingerprints
        ]
        if rows:
            session.execute(insert(_FINGERPRINTS), rows)
        if result.sketch is not None and rows:
            session.execute(
                insert(_SKETCHES), [{"evidence_id": evidence_id, "sketch": result.sketch}]
            )
        session.execute(
            insert(_STATUS),
            [
                {
                    "evidence_id": evidence_id,
                    "status": result.status.value,
                    "detail": recorded_detail(result),
                    "source": source,
                }
            ],
        )

    return record


def recorded_detail(result: Fingerprinted) -> str:
    """The status detail as stored (its column holds 512 characters)."""
    return result.detail[:512]


def info(session: Session, evidence_id: int) -> FingerprintInfo:
    """The fingerprint status of one piece of evidence (NOT_FINGERPRINTED without a row)."""
    status = session.get(FingerprintStatus, evidence_id)
    if status is None:
        return FingerprintInfo(NOT_FINGERPRINTED, "no fingerprint was computed or given", (), None)
    kinds = session.scalars(
        select(DesignFingerprint.kind)
        .where(DesignFingerprint.evidence_id == evidence_id)
        .order_by(DesignFingerprint.id)
    ).all()
    return FingerprintInfo(status.status, status.detail, tuple(dict.fromkeys(kinds)), status.source)
