"""The keyless lookup of a certificate by evidence id and the file's SHA-256.

A clerk holds both: the id is printed on the paper certificate, the hash comes from the
file presented in court. The certificate is given only when both match evidence that is
anchored in a final block; every other request (unknown id, wrong or malformed hash, not
anchored yet) gets the same NotFoundError, so the lookup tells nothing about which ids
exist. Evidence ids carry 96 random bits and each client address is rate-limited, so ids
cannot be guessed either. A hit is recorded in the evidence's access log (no organization,
the client's address).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from notary.core.certificate import Certificate
from notary.deposit.ratelimit import RateLimiter
from notary.errors import ConflictError, NotFoundError
from notary.issue.certificates import certificate
from notary.issue.trees import TreeCache
from notary.share.access import Origin, owner_of, record
from notary.store.db import transaction
from notary.store.models import Evidence, EvidenceStatus

NOT_FOUND: Final = "no certificate for this evidence id and SHA-256"
"""The one answer to every lookup that does not match."""
_HASH: Final = re.compile(r"(0x)?[0-9a-fA-F]{64}")
_ID: Final = re.compile(r"ev_[0-9a-f]{1,64}")


def _miss() -> NotFoundError:
    return NotFoundError(NOT_FOUND)


def lookup(
    factory: sessionmaker[Session],
    trees: TreeCache,
    public_id: str,
    sha256: str | None,
    remote: str | None,
) -> Certificate:
    """The current certificate of `public_id` if its SHA-256 is `sha256` (hex); the same
    NotFoundError for anything else."""
    if sha256 is None or not _HASH.fullmatch(sha256) or not _ID.fullmatch(public_id):
        raise _miss()
    given = bytes.fromhex(sha256.removeprefix("0x"))
    with transaction(factory) as session:
        evidence = session.scalar(select(Evidence).where(Evidence.public_id == public_id))
        if evidence is None or not hmac.compare_digest(evidence.sha256, given):
            raise _miss()
        if evidence.status != EvidenceStatus.ANCHORED.value:
            raise _miss()
        owner = owner_of(session, evidence)
    try:
        cert = certificate(factory, trees, owner, public_id)
    except ConflictError:  # its anchor was found lost meanwhile
        raise _miss() from None
    with transaction(factory) as session:
        evidence = session.get_one(Evidence, evidence.id)
        record(session, evidence, None, None, "public-certificate", Origin(None, remote))
    return cert


def client_key(remote: str | None) -> int:
    """A rate-limit bucket number for a client address: the address itself as a number
    (IPv6 ones above every IPv4 one), or a hash of whatever else the server reports."""
    if remote:
        try:
            address = ipaddress.ip_address(remote)
        except ValueError:
            pass
        else:
            return int(address) + (2**32 if address.version == 6 else 0)
    digest = hashlib.sha256((remote or "").encode("utf-8", "replace")).digest()
    return 2**129 + int.from_bytes(digest[:8], "big")


class ClientLimiter:
    """Requests per client address (token buckets, notary.deposit.ratelimit)."""

    def __init__(self, rate: float, burst: int) -> None:
        self._limiter = RateLimiter(rate, burst)

    def take(self, remote: str | None) -> None:
        """Spend one request of this address; RateLimitedError when it has none left."""
        self._limiter.take(client_key(remote))
