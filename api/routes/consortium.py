"""The endorsement round over HTTP: proposals for the endorsers, their endorsements and
reports (docs/consortium.md; notary.anchoring.proposals).

No API key: an endorser needs neither the notary's database nor its key store. Each client
address may make NOTARY_CONSORTIUM_REQUESTS_BURST requests at once and
NOTARY_CONSORTIUM_REQUESTS_PER_SECOND a second after that (429 with Retry-After). What it
posts is an EIP-712 signature, which the service stores only when it recovers to a
current ENDORSER of the registry (403 otherwise); the proposals list holds nothing secret
(roots, leaf counts, manifest CIDs and batch times, all on chain or IPFS once anchored),
nor does the key-changes list (a depositor key's address, organization id and name go on
chain once applied; its consent proves only that the key agreed; the depositor identity
"org:<slug>" is in every certificate of that organization's deposits).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Path, Request

from api.deps import Service
from api.errors import documented
from api.schemas import (
    ApprovalIn,
    EndorsementIn,
    EndorserOut,
    KeyChangeOut,
    ProposalOut,
    ReportIn,
    SignerOut,
)
from api.strict import StrictRoute
from notary.chain.eip712 import Report
from notary.errors import ValidationError

router = APIRouter(
    prefix="/v1/consortium",
    tags=["consortium"],
    route_class=StrictRoute,
    responses=documented(404, 422, 429, 503),
)

ROOT_PATTERN = r"^(0x)?[0-9a-fA-F]{64}$"
_SIGNATURE = re.compile(r"^(0x)?[0-9a-fA-F]{130}$")


def _remote(request: Request) -> str | None:
    return request.client.host if request.client else None


def _bytes32(text: str) -> bytes:
    if not re.fullmatch(ROOT_PATTERN, text):
        raise ValidationError("a root is 64 hex digits (0x optional)")
    return bytes.fromhex(text.removeprefix("0x"))


def _signature(text: str) -> bytes:
    if not _SIGNATURE.fullmatch(text):
        raise ValidationError("a signature is 65 bytes: 130 hex digits (0x optional)")
    return bytes.fromhex(text.removeprefix("0x"))


@router.get(
    "/proposals",
    response_model=list[ProposalOut],
    summary="Batches awaiting endorsement (for the endorsers; no key)",
)
def proposals(request: Request, service: Service) -> list[ProposalOut]:
    """Oldest first, at most 100: what each endorser fetches, checks (manifest from IPFS,
    root, leaf count, batch time against its clock) and signs."""
    return [
        ProposalOut(
            root="0x" + p.root.hex(),
            leaf_count=p.leaf_count,
            manifest=p.manifest,
            batch_time=p.batch_time,
            chain_id=p.chain_id,
            registry=p.registry,
            endorsements=p.endorsements,
            threshold=p.threshold,
        )
        for p in service.consortium_proposals(_remote(request))
    ]


@router.post(
    "/proposals/{root}/endorsements",
    response_model=SignerOut,
    summary="An endorser's EIP-712 endorsement of a proposed batch",
    responses=documented(403, 409),
)
def endorse(
    root: Annotated[str, Path(max_length=66)],
    body: EndorsementIn,
    request: Request,
    service: Service,
) -> SignerOut:
    """Stored when the signature over (root, leaf count, manifest, batch_time) recovers to a
    current endorser (403 otherwise); 409 when the batch is no longer awaiting endorsement
    or was proposed again with another batch time."""
    signer = service.endorse(
        _bytes32(root), body.batch_time, _signature(body.signature), _remote(request)
    )
    return SignerOut(signer=signer)


@router.get(
    "/key-changes",
    response_model=list[KeyChangeOut],
    summary="Depositor key changes awaiting approval (for the endorsers; no key)",
)
def key_changes(request: Request, service: Service) -> list[KeyChangeOut]:
    """Oldest first, at most 100: each depositor key to add (with the key's consent and the
    depositor identity it signed) or remove, at the registry's config nonce, which each
    endorser checks against the chain and, if its operator lets it, approves."""
    return [
        KeyChangeOut(
            digest="0x" + c.digest().hex(),
            account=c.account,
            role=c.role.name,
            organization="0x" + c.organization.hex(),
            name=c.name,
            depositor=c.depositor,
            consent=None if c.consent is None else "0x" + c.consent.hex(),
            threshold=c.threshold,
            nonce=c.nonce,
            deadline=c.deadline,
            chain_id=c.chain_id,
            registry=c.registry,
            approvals=c.approvals,
        )
        for c in service.consortium_key_changes(_remote(request))
    ]


@router.post(
    "/key-changes/{digest}/approvals",
    response_model=SignerOut,
    summary="An endorser's EIP-712 approval of a depositor key change",
    responses=documented(403, 409),
)
def approve_key_change(
    digest: Annotated[str, Path(max_length=66)],
    body: ApprovalIn,
    request: Request,
    service: Service,
) -> SignerOut:
    """Stored when the signature over the change as proposed recovers to a current
    endorser (403 otherwise); 409 when the change was proposed again (a new config nonce or
    deadline: sign the new one) or applied meanwhile. The anchoring process relays the
    change once k approvals are stored."""
    signer = service.approve_key_change(
        _bytes32(digest), _signature(body.signature), _remote(request)
    )
    return SignerOut(signer=signer)


@router.post(
    "/reports",
    response_model=SignerOut,
    summary="An endorser's signed refusal of a batch, or its heartbeat",
    responses=documented(403),
)
def report(body: ReportIn, request: Request, service: Service) -> SignerOut:
    """A refusal (root, batch_time, reason) goes into the batch's history (or, with a key
    change's digest as root and its nonce as batch_time, on that depositor key); a heartbeat
    (root of 32 zero bytes, no reason) marks the endorser as seen (GET /v1/ready)."""
    signed = Report(_bytes32(body.root), body.batch_time, body.refusal, body.sent_at)
    return SignerOut(
        signer=service.endorser_report(signed, _signature(body.signature), _remote(request))
    )


@router.get(
    "/endorsers",
    response_model=list[EndorserOut],
    summary="The current endorsers and when each was last heard from (no key)",
)
def endorsers(request: Request, service: Service) -> list[EndorserOut]:
    """From the registry's members (names as on chain) and this notary's record of the
    endorsers' signed heartbeats, endorsements and refusals."""
    return [
        EndorserOut(address=e.address, name=e.name, last_seen=e.last_seen, last_word=e.last_word)
        for e in service.endorsers_seen(_remote(request))
    ]
