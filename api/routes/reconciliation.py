"""The operator's reconciliation report: the database's anchors against the chain's.

Unlike /v1/audit, this reads the database (it is the operator's check of the service,
notary.anchoring.report), so it is for admin keys. It changes nothing: the anchoring
process's own reconciliation (notary.anchoring.reconcile) is what re-anchors.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Admin, Service
from api.errors import KEYED, documented
from api.schemas import ReconciliationOut
from api.strict import StrictRoute
from notary.anchoring.report import as_dict

router = APIRouter(
    prefix="/v1/admin",
    tags=["admin"],
    route_class=StrictRoute,
    responses=documented(*KEYED, 413, 422, 502, 503),
)


@router.get(
    "/reconciliation",
    response_model=ReconciliationOut,
    summary="The database's anchors against the chain's: missing, extra, mismatched",
)
def reconciliation(_: Admin, service: Service) -> ReconciliationOut:
    return ReconciliationOut.model_validate(as_dict(service.reconciliation()))
