"""The bookkeeping of a verification run: outcomes, checks, and the first failure.

Shared by the version 1 steps (notary.verify.certificate) and the endorsement steps of
version 2 (notary.verify.endorsement); no checks live here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    CANNOT_DECIDE = "cannot_decide"


@dataclass(frozen=True)
class Check:
    """One step of the procedure and its result."""

    name: str
    passed: bool
    detail: str


class Failed(Exception):
    def __init__(self, outcome: Outcome, reason: str) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason


class Run:
    def __init__(self) -> None:
        self.checks: list[Check] = []

    def check(self, name: str, passed: bool, ok: str, failed: str) -> None:
        self.checks.append(Check(name, passed, ok if passed else failed))
        if not passed:
            raise Failed(Outcome.INVALID, failed)

    def compare(
        self, name: str, ok: str, source: str, pairs: list[tuple[str, object, object]]
    ) -> None:
        """Fail naming every field whose chain value differs from the certificate's."""
        wrong = [
            f"{field_} is {show(chain)} {source}, {show(stated)} in the certificate"
            for field_, chain, stated in pairs
            if chain != stated
        ]
        self.check(name, not wrong, ok, "; ".join(wrong))

    def cannot_decide(self, name: str, reason: str) -> None:
        self.checks.append(Check(name, False, reason))
        raise Failed(Outcome.CANNOT_DECIDE, reason)


def show(value: object) -> str:
    """A chain or certificate value as a failure message writes it."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, str):
        return repr(value)
    return str(value)
