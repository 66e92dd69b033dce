"""When is an anchor final: the node's `finalized` block, or a number of blocks on top.

A certificate is issued only for an anchor in a final block (invariant 2): a block that is
not final can still be replaced (a reorganization) and the anchor with it. Rules, set by
NOTARY_FINALITY:

- ``finalized``: a block is final once the node's ``finalized`` block tag has reached it
  (Ethereum proof of stake: about 13 minutes; anvil: ``--slots-in-an-epoch`` x 2 blocks
  behind the head, so the devnet starts anvil with 0 and every block is final at once,
  like a QBFT consortium chain).
- ``confirmations``: a block is final once NOTARY_CONFIRMATIONS blocks are on top of it
  (0: at once, right for chains with immediate finality such as Hyperledger Besu QBFT/IBFT
  2.0; proof-of-work style chains need more, e.g. 12).
- ``auto`` (default): ``finalized`` when the node answers that tag with a block,
  ``confirmations`` when it says it does not know the tag. The choice is made once per
  process, at the first answer; a passing error decides nothing (Finality.final_block).
"""

from __future__ import annotations

import logging
import time
from typing import Final, Literal

from web3 import exceptions as w3x

from notary.chain.errors import chain_errors
from notary.chain.registry import RegistryReader
from notary.errors import ChainError, ChainUnavailableError, TransactionFailedError

log = logging.getLogger("notary.finality")

FinalityRule = Literal["auto", "finalized", "confirmations"]
FINALIZED_TAG: Final = "finalized"
UNKNOWN_TAG_CODES: Final = frozenset({-32601, -32602})
"""JSON-RPC "method not found" and "invalid params": how nodes refuse an unknown tag."""
UNKNOWN_TAG_WORDS: Final = ("finalized", "block tag", "unknown block", "invalid block")
"""Words of the error messages nodes give for an unknown tag (geth, Besu, Nethermind)."""
POLL_SECONDS: Final = 1.0
"""How often wait_final asks the node again."""


class Finality:
    """Answers "which is the newest final block?" for one node, by one rule."""

    def __init__(self, registry: RegistryReader, rule: FinalityRule, confirmations: int) -> None:
        if confirmations < 0:
            raise ValueError("confirmations must be >= 0")
        self.registry = registry
        self.rule: FinalityRule = rule
        self.confirmations = confirmations
        self._tag_works: bool | None = False if rule == "confirmations" else None
        """True once the tag answered; False: confirmations; None: not decided yet."""

    def describe(self) -> str:
        """The rule in force, in words (for history entries and logs)."""
        if self._tag_works or self.rule == "finalized":
            return "the node's finalized block"
        if self._tag_works is None:
            return "the node's finalized block, or confirmations when it has none"
        return f"{self.confirmations} confirmation(s)"

    def head(self) -> int:
        """Number of the newest block of the node (final or not)."""
        return self.registry.latest_block_number()

    def final_block(self) -> int:
        """Number of the newest final block (-1 when none is final yet).

        Under `auto`, the rule is chosen at the first answer: a node that says it does not
        know the `finalized` tag gets confirmations from then on. Any other failure (the
        node unreachable, rate limits, a timeout) is a ChainError and decides nothing, and
        a tag that has answered once is never given up: falling back to confirmations on a
        passing error would certify blocks that can still be replaced.
        """
        if self._tag_works is not False:
            number = self._finalized_tag()
            if number is not None:
                self._tag_works = True
                return number
            if self._tag_works:
                raise ChainError(f"{self.registry.rpc_url} gave no finalized block this time")
            if self.rule == "finalized":
                raise ChainError(
                    f"{self.registry.rpc_url} does not know the 'finalized' block tag "
                    "(set NOTARY_FINALITY=confirmations for this chain)"
                )
            log.info("no finalized block tag on the node: %d confirmations", self.confirmations)
            self._tag_works = False
        return self.head() - self.confirmations

    def _finalized_tag(self) -> int | None:
        """The finalized block's number; None when the node does not know the tag."""
        try:
            with chain_errors(self.registry.rpc_url):
                block = self.registry.w3.eth.get_block(FINALIZED_TAG)
        except ChainUnavailableError:
            raise
        except ChainError as exc:
            if _unknown_tag(exc.__cause__):
                return None
            raise
        number = block.get("number")
        return int(number) if number is not None else None


def _unknown_tag(cause: BaseException | None) -> bool:
    """Whether a failed `eth_getBlockByNumber("finalized")` means "no such tag here"."""
    if isinstance(cause, w3x.BlockNotFound):
        return True  # null: the node has no block by that name
    if isinstance(cause, w3x.Web3RPCError):
        error: object = (cause.rpc_response or {}).get("error")
        code = error.get("code") if isinstance(error, dict) else None
        text = str(cause).lower()
        return code in UNKNOWN_TAG_CODES or any(word in text for word in UNKNOWN_TAG_WORDS)
    return False


def wait_final(finality: Finality, block_number: int, block_hash: bytes, timeout: float) -> None:
    """Return once block `block_number` is final and still has `block_hash`.

    TransactionFailedError when the block is replaced first (the anchor may be gone: send
    it again), ChainError when `timeout` seconds pass first.
    """
    deadline = time.monotonic() + timeout
    while True:
        if finality.registry.block_hash_at(block_number) != block_hash:
            raise TransactionFailedError(
                f"block {block_number} was replaced before it was final (a reorganization); "
                "the anchor must be sent again"
            )
        if block_number <= finality.final_block():
            return
        if time.monotonic() >= deadline:
            raise ChainError(
                f"block {block_number} is not final after {timeout:.0f} s ({finality.describe()})"
            )
        time.sleep(POLL_SECONDS)
