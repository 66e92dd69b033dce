"""The fuzz suite: property tests of input validation (Hypothesis) and the served OpenAPI
document exercised by schemathesis against a real `notary serve` process.

How many examples: NOTARY_FUZZ_EXAMPLES (default 25 per API operation and 200 per property
test, which keeps the whole suite to about a minute and a half on two cores). Run longer
with, for example:

    NOTARY_FUZZ_EXAMPLES=2000 .venv/bin/pytest tests/fuzz

The examples are drawn anew each run (Hypothesis keeps failures in .hypothesis/ and
replays them first).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Final

import pytest

from tests.api.conftest import ServedProcess, serve_process, stop_process

FUZZ_EXAMPLES: Final = int(os.environ.get("NOTARY_FUZZ_EXAMPLES", "0")) or None
"""Examples per API operation and per property test; None: the defaults below."""
API_EXAMPLES: Final = FUZZ_EXAMPLES or 25
PROPERTY_EXAMPLES: Final = FUZZ_EXAMPLES or 200


@pytest.fixture(scope="session")
def fuzzed(chain, tmp_path_factory) -> Iterator[ServedProcess]:
    """A `notary serve` process of its own for the fuzzer (its data is garbage)."""
    running = serve_process(chain, tmp_path_factory.mktemp("fuzzed"))
    yield running
    stop_process(running)
