"""Depositor keys of the caller's organization: /v1/depositor-keys, and whether its deposits
must be signed: /v1/depositor-signatures (notary.deposit.depositors).

A depositor key signs the organization's deposits (EIP-712, docs/certificate-v2.md), so a
court sees who deposited from a signature rather than from the operator's word. A key
counts once it is a DEPOSITOR member of the consortium registry, added by a change the
consortium's endorsers approved (on the devnet at once; elsewhere it waits, `pending`).
The request and response models live here, beside their only routes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from api.deps import Depositor, Service
from api.errors import KEYED, documented
from api.schemas import Strict
from api.strict import StrictRoute
from api.upload import signature_bytes
from notary.deposit.depositors import SigningInfo
from notary.store.depositor_keys import DepositorKeyView
from notary.store.models import DepositorKeyState

router = APIRouter(
    prefix="/v1/depositor-keys",
    tags=["depositor keys"],
    route_class=StrictRoute,
    responses=documented(*KEYED, 404, 413, 422, 503),
)

requirement_router = APIRouter(
    prefix="/v1/depositor-signatures",
    tags=["depositor keys"],
    route_class=StrictRoute,
    responses=documented(*KEYED, 404, 413, 422, 503),
)

Address = Annotated[
    str, Path(pattern=r"^0x[0-9a-fA-F]{40}$", description="The key's address (0x + 40 hex).")
]


class DepositorKeyIn(Strict):
    address: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$", description="The key's address.")
    proof: str = Field(
        pattern=r"^(0x)?[0-9a-fA-F]{130}$",
        description="The key's consent: its EIP-712 signature of DepositorKey(address "
        "account, string depositor) with your organization's depositor identity, under the "
        "domain of GET /v1/depositor-keys (NotaryConsortium, 1, chain_id, registry). "
        "`notary depositor-keys add --key-file F` and the Python client make it.",
    )


class RequirementIn(Strict):
    require_signature: bool = Field(
        description="true: refuse every deposit of your organization without a depositor "
        "signature (422 signature_required)."
    )


class DepositorKeyOut(BaseModel):
    address: str
    name: str = Field(description="The key's member name on chain: your organization's name.")
    state: str = Field(
        description="pending (awaiting the consortium's approval), active (signatures "
        "count), removing, removed"
    )
    registered_at: datetime
    added_tx: str | None = Field(description="The change that made it a DEPOSITOR member.")
    removed_at: datetime | None
    removed_tx: str | None
    last_refusal: str | None = Field(
        default=None,
        description="Why an endorser last refused the key's pending change (its words); "
        "null when none refused.",
    )

    @classmethod
    def of(cls, v: DepositorKeyView) -> DepositorKeyOut:
        return cls(
            address=v.address,
            name=v.name,
            state=v.state,
            registered_at=v.registered_at,
            added_tx=v.added_tx,
            removed_at=v.removed_at,
            removed_tx=v.removed_tx or None,
            last_refusal=v.last_refusal,
        )


class SigningOut(BaseModel):
    depositor: str = Field(description="Your depositor identity: the `depositor` you sign.")
    chain_id: int = Field(description="The EIP-712 domain's chainId.")
    registry: str = Field(description="The EIP-712 domain's verifyingContract.")
    require_signature: bool
    keys: list[DepositorKeyOut]

    @classmethod
    def of(cls, info: SigningInfo) -> SigningOut:
        return cls(
            depositor=info.depositor,
            chain_id=info.chain_id,
            registry=info.registry,
            require_signature=info.require_signature,
            keys=[DepositorKeyOut.of(k) for k in info.keys],
        )


@router.get(
    "",
    response_model=SigningOut,
    summary="Your depositor keys, and what a deposit signature is made over",
)
def signing(org: Depositor, service: Service) -> SigningOut:
    """The EIP-712 domain (chain id, registry) and the depositor identity a deposit's
    signature covers, whether your organization requires signatures, and its keys."""
    return SigningOut.of(service.depositor_signing(org))


@router.post(
    "",
    response_model=DepositorKeyOut,
    status_code=201,
    summary="Register a depositor key (with its consent)",
    responses={
        202: {"model": DepositorKeyOut, "description": "Pending the consortium's approval"},
        **documented(409),
    },
)
def add(
    body: DepositorKeyIn, org: Depositor, service: Service, response: Response
) -> DepositorKeyOut:
    """The key becomes a DEPOSITOR member of the consortium registry under your
    organization's id and name: 201 when the change is applied (the devnet approves it at
    once), 202 while it awaits the endorsers. 409 depositor_key_taken when the address is
    another organization's or already registered; 422 when the proof does not recover to it."""
    view = service.add_depositor_key(org, body.address, signature_bytes(body.proof, "proof"))
    if view.state != DepositorKeyState.ACTIVE.value:
        response.status_code = 202
    return DepositorKeyOut.of(view)


@requirement_router.put(
    "",
    response_model=SigningOut,
    summary="Require depositor signatures on every deposit, or not",
)
def settings(body: RequirementIn, org: Depositor, service: Service) -> SigningOut:
    """In force within a few seconds (API keys' organizations are cached briefly). Its own
    path: under /v1/depositor-keys, "settings" would also be a key's path."""
    service.require_signatures(org, body.require_signature)
    return SigningOut.of(service.depositor_signing(org))


@router.delete(
    "/{address}",
    response_model=DepositorKeyOut,
    summary="Remove a depositor key",
)
def remove(address: Address, org: Depositor, service: Service) -> DepositorKeyOut:
    """Its signatures stop counting for deposits at once, and for certificates from the
    block where the consortium's change removes it (removed; removing while it waits).
    Certificates of deposits anchored before then stay valid."""
    return DepositorKeyOut.of(service.remove_depositor_key(org, address))
