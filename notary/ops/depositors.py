"""Applying depositor key changes on the devnet consortium: the endorsers' quorum, signed here.

A depositor key becomes a DEPOSITOR member of the ConsortiumRegistry, and stops being one,
only through `changeConfig` with EIP-712 approvals of k current endorsers
(docs/consortium.md). In production each endorser organization signs such a change itself;
on the devnet the endorsers' keys are in the data directory (<data>/keys/endorser-i.key,
recorded in <data>/consortium.json by `notary deploy`), so this module signs with them and
relays the change from the admin account (keys/admin.key: funded, and never the notary's
account, whose nonces belong to the anchoring process). `DevnetApprover.load` gives None
where those keys are not at hand: the registration then waits, pending, for the consortium.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from eth_account.signers.local import LocalAccount

from notary.chain import eip712
from notary.chain.consortium import ConsortiumReader, ConsortiumWriter
from notary.chain.eip712 import MemberChange, Role
from notary.config import Settings
from notary.errors import ConfigError
from notary.ops.consortium import load_endorsers
from notary.ops.keys import load_key

CHANGE_LIFETIME: Final = 600
"""Seconds after the latest block's time until a signed change expires (its deadline)."""


class DevnetApprover:
    """Signs configuration changes with the devnet endorsers' keys and relays them."""

    def __init__(
        self, reader: ConsortiumReader, endorsers: Sequence[LocalAccount], relay: LocalAccount
    ) -> None:
        self.writer = ConsortiumWriter(reader.w3, reader.address, relay, reader.rpc_url)
        self.endorsers = list(endorsers)
        self._lock = threading.Lock()  # one change at a time: each takes the next nonce

    @classmethod
    def load(cls, settings: Settings, reader: ConsortiumReader) -> DevnetApprover | None:
        """The approver of the devnet consortium whose keys are in `settings`' data
        directory; None outside dev mode, with NOTARY_DEVNET_KEY_APPROVAL false, or when
        they are not there (the endorser nodes approve then: notary.anchoring.key_changes)."""
        if settings.mode != "dev" or not settings.devnet_key_approval:
            return None
        try:
            records = load_endorsers(settings)
            if not records:
                return None
            endorsers = [load_key(Path(r.key_file), settings) for r in records]
            relay = load_key(settings.admin_key_path, settings)
        except ConfigError:
            return None
        return cls(reader, endorsers, relay)

    def apply(self, changes: Sequence[MemberChange]) -> str:
        """Apply `changes` (the threshold unchanged); the transaction hash, 0x-hex."""
        with self._lock:
            w = self.writer
            nonce, k = w.config_nonce(), w.threshold()
            _, now = w.block(w.latest_block_number())
            deadline = now + CHANGE_LIFETIME
            typed = eip712.config_change_typed_data(
                w.chain_id(), w.address, changes, k, nonce, deadline
            )
            current = [a for a in self.endorsers if w.member(a.address).role is Role.ENDORSER]
            if len(current) < k:
                raise ConfigError(
                    f"the data directory holds {len(current)} current endorsers' keys, the "
                    f"consortium's change needs {k}"
                )
            approvals = eip712.sorted_signatures(
                (a.address, eip712.sign(a, typed)) for a in current[:k]
            )
            receipt = w.change_config(changes, k, nonce, deadline, approvals)
            return "0x" + bytes(receipt["transactionHash"]).hex()


def depositor_change(address: str, organization: bytes, name: str) -> MemberChange:
    """The entry that makes `address` a DEPOSITOR of `organization` named `name`."""
    return MemberChange(address, Role.DEPOSITOR, organization, name)
