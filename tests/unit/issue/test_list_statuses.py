"""A listing filters on every status evidence can have: none is forgotten when one is added."""

from __future__ import annotations

from notary.issue.search import LIST_STATUSES
from notary.store.models import BatchStatus, EvidenceStatus


def test_every_stored_status_and_awaiting_endorsement_can_be_filtered_on() -> None:
    wanted = {s.value for s in EvidenceStatus} | {BatchStatus.AWAITING_ENDORSEMENT.value}
    assert set(LIST_STATUSES) == wanted
    assert len(LIST_STATUSES) == len(wanted)
