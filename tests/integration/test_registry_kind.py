"""The service follows the registry it is given, read from the chain, not the
NOTARY_CONSORTIUM_ENDORSERS setting (which says what `notary deploy` deploys), and still
knows it when it starts while the chain is down (the anchoring process restarted during an
outage: in CI, one that guessed "consortium" for a v1 registry never anchored again)."""

from __future__ import annotations

import pytest

from notary.errors import ConfigError
from notary.ops.endpoints import resolve_registry_kind
from tests.conftest import free_port, make_settings

pytestmark = pytest.mark.devnet


def test_the_kind_comes_from_the_chain_and_is_remembered(chain, tmp_path) -> None:
    settings = make_settings(tmp_path / "data", consortium_endorsers=3)  # says "consortium"
    registry = chain.deployment.registry  # the session's single-operator EvidenceRegistry
    assert resolve_registry_kind(settings, chain.rpc_url, registry) == "evidence"
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: the chain is down
    assert resolve_registry_kind(settings, dead, registry) == "evidence"  # remembered
    fresh = make_settings(tmp_path / "other", consortium_endorsers=3)
    assert resolve_registry_kind(fresh, dead, registry) == "consortium"  # only the setting


def test_code_that_is_no_published_registry_is_refused(chain, tmp_path) -> None:
    settings = make_settings(tmp_path / "data")
    not_a_registry = chain.deployment.notary  # an account: no code at all
    with pytest.raises(ConfigError, match="neither a published"):
        resolve_registry_kind(settings, chain.rpc_url, not_a_registry)
