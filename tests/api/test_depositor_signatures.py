"""Depositor signatures over real HTTP: a notary API (uvicorn) on a fresh 2-of-2
ConsortiumRegistry on the session anvil, with the devnet endorsers' keys in its data
directory (so a depositor key's registration is approved at once, on chain), the real IPFS
node for the batch manifest, and a real SQLite store.

A key is registered (a DEPOSITOR member of the registry with the organization's id), hash,
bulk and file deposits signed by the Python client carry its signature into the leaf and
the version 2 certificate, which `notary verify` and the independent JavaScript verifier
accept, naming the depositor. Bad signatures (malformed, high s, another key, another
organization's key, other content, a removed key, none when required) get a 422 with a
code and the field, and nothing is recorded.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from api.main import create_app
from notary.anchoring.batcher import Batcher, BatchPolicy
from notary.anchoring.pinner import Pinner
from notary.anchoring.proposals import Proposals
from notary.chain import eip712
from notary.chain.consortium import ConsortiumWriter, deploy_consortium
from notary.chain.eip712 import MemberChange, Role
from notary.chain.registry import connect
from notary.client import NotaryClient
from notary.core import certificate as cert_format
from notary.core.depositor import organization_id
from notary.core.keccak import keccak256
from notary.errors import DepositorKeyTakenError, ValidationError
from notary.ipfs.client import KuboRpc
from notary.issue.certificates import certificate
from notary.issue.trees import TreeCache
from notary.ops.consortium import EndorserRecord, save_endorsers
from notary.ops.devnet import rpc_call
from notary.ops.keys import write_key
from notary.service import NotaryService
from notary.verify.certificate import Outcome, verify
from tests.api.conftest import create_organizations, serve_in_thread, wait_for
from tests.conftest import make_settings, run_cli, run_node

pytestmark = [pytest.mark.devnet, pytest.mark.node]

ENDORSERS = [Account.from_key(secrets.token_bytes(32)) for _ in range(2)]


def _funded(rpc: str) -> LocalAccount:
    account: LocalAccount = Account.from_key(secrets.token_bytes(32))
    rpc_call(rpc, "anvil_setBalance", [account.address, hex(10**20)])
    return account


@dataclass
class Notary:
    url: str
    keys: dict[str, str]
    service: NotaryService
    registry: ConsortiumWriter
    data: Path

    def http(self, who: str = "studio") -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.keys[who]}"}, timeout=60
        )

    def client(self, who: str = "studio", signer: LocalAccount | None = None) -> NotaryClient:
        return NotaryClient(self.url, self.keys[who], signer=signer, retries=0)


@pytest.fixture(scope="module")
def notary(chain, tmp_path_factory) -> Iterator[Notary]:
    rpc = chain.rpc_url
    data = tmp_path_factory.mktemp("depositor-signatures")
    operator, relay = _funded(rpc), _funded(rpc)
    members = [MemberChange(operator.address, Role.NOTARY, keccak256(b"op"), "公证处")] + [
        MemberChange(e.address, Role.ENDORSER, keccak256(f"court {i}".encode()), f"法院 {i}")
        for i, e in enumerate(ENDORSERS)
    ]
    w3 = connect(rpc)
    address = deploy_consortium(w3, operator, members, 2, rpc)
    settings = chain.settings.model_copy(
        update={
            "data_dir": data,
            "rpc_url": rpc,
            "registry": address,
            "ipfs_api": f"http://127.0.0.1:{chain.settings.ipfs_port}",
            "notary_key_file": data / "keys" / "notary.key",
            "admin_key_file": data / "keys" / "admin.key",
            "database_url": None,
            "consortium_endorsers": 2,
            "consortium_threshold": 2,
            "key_cache_seconds": 0.2,
        }
    )
    write_key(data / "keys" / "notary.key", operator)
    write_key(data / "keys" / "admin.key", relay)  # relays the consortium's changes
    records = []
    for i, e in enumerate(ENDORSERS, 1):
        path = data / "keys" / f"endorser-{i}.key"
        write_key(path, e)
        records.append(
            EndorserRecord(i, e.address, "0x" + keccak256(b"x").hex(), f"法院 {i}", str(path))
        )
    save_endorsers(settings, records, 2)
    keys = create_organizations(data, None)
    app = create_app(settings, start_batcher=False)
    url, server, thread = serve_in_thread(app)
    try:
        yield Notary(
            url, keys, app.state.service, ConsortiumWriter(w3, address, operator, rpc), data
        )
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def studio_key(notary: Notary) -> LocalAccount:
    key: LocalAccount = Account.from_key(secrets.token_bytes(32))
    with notary.client() as client:
        registered = client.register_depositor_key(key)
    assert registered["state"] == "active" and registered["added_tx"]
    return key


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _error(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    error: dict[str, str] = response.json()["error"]
    return error


def test_a_registered_key_is_a_depositor_member_of_the_organization_on_chain(
    notary: Notary, studio_key: LocalAccount
) -> None:
    with notary.client() as client:
        info = client.signing_info()
    assert info["depositor"] == "org:studio-org"
    assert info["registry"] == notary.registry.address
    assert [k["address"] for k in info["keys"] if k["state"] == "active"] == [studio_key.address]
    member = notary.registry.member(studio_key.address)
    assert member.role is Role.DEPOSITOR
    assert member.organization == organization_id("org:studio-org")
    assert member.name == info["keys"][0]["name"] == "studio 组织"


def test_signed_deposits_reach_a_certificate_that_both_verifiers_accept(
    notary: Notary, studio_key: LocalAccount, chain, tmp_path: Path
) -> None:
    design = tmp_path / "连衣裙-7.png"
    design.write_bytes(b"signed design " + secrets.token_bytes(16))
    with notary.client(signer=studio_key) as client:
        one = client.deposit_hash(_sha(f"signed hash {secrets.token_hex(4)}"), title="签名")
        bulk = client.deposit_hashes(
            [{"sha256": _sha(f"signed bulk {i} {secrets.token_hex(4)}")} for i in range(3)]
        )["items"]
        uploaded = client.deposit_file(design, season="2027 春")
    with notary.client() as unsigned_client:
        plain = unsigned_client.deposit_hash(_sha(f"unsigned {secrets.token_hex(4)}"))
    signed = [one, *bulk, uploaded]
    assert {e["signer"] for e in signed} == {studio_key.address}
    assert plain["signer"] is None

    store = notary.service.factory
    ipfs = KuboRpc(f"http://127.0.0.1:{chain.settings.ipfs_port}")
    batcher = Batcher(store, notary.registry, BatchPolicy(max_leaves=100, interval_seconds=0))
    try:
        batcher.run_once(force=True)
        assert Pinner(store, ipfs, notary.data / "spool").pin_manifests() == 1
    finally:
        ipfs.close()
    batcher.run_once()
    proposals = Proposals(store, notary.registry.reader())
    (proposal,) = proposals.pending()
    batch = eip712.Batch(proposal.root, proposal.leaf_count, proposal.manifest, proposal.batch_time)
    for e in ENDORSERS:
        sig = eip712.sign_endorsement(e, proposals.chain_id(), notary.registry.address, batch)
        proposals.endorse(proposal.root, proposal.batch_time, sig)
    batcher.run_once()

    org = notary.service.authenticate(notary.keys["studio"])
    for evidence in (uploaded, one, plain):
        text = cert_format.dumps(certificate(store, TreeCache(), org, evidence["id"]))
        doc = json.loads(text)
        verdict = verify(text, chain.rpc_url)
        assert verdict.outcome is Outcome.VALID, verdict.reason
        path = tmp_path / f"{evidence['id']}.cert.json"
        path.write_text(text, "utf-8")
        js = json.loads(run_node("verify_certificate.js", str(path), chain.rpc_url).stdout)
        assert js["outcome"] == "valid", js
        if evidence is plain:
            assert doc["depositor_signature"] is None
            assert doc["leaf"]["values"][4] == "org:studio-org"
            assert any("no depositor signature" in line for line in verdict.not_proven)
            continue
        assert doc["leaf"]["values"][4] == f"org:studio-org;signer={studio_key.address}"
        assert doc["depositor_signature"]["signer"] == studio_key.address
        assert js["depositor_signature"]["signer"] == studio_key.address
        assert f"Deposited and signed by studio 组织 ({studio_key.address})." in verdict.proven


def test_bad_signatures_get_a_clear_422_and_record_nothing(
    notary: Notary, studio_key: LocalAccount
) -> None:
    stranger: LocalAccount = Account.from_key(secrets.token_bytes(32))
    with notary.client("copycat") as copycat:
        copycat_key: LocalAccount = Account.from_key(secrets.token_bytes(32))
        assert copycat.register_depositor_key(copycat_key)["state"] == "active"
    sha = _sha(f"refused {secrets.token_hex(4)}")
    with notary.client(signer=studio_key) as signing:
        good = signing.sign_deposit(sha, None, {})
        other_content = signing.sign_deposit(_sha("other content"), None, {})
    with notary.client() as client:
        info = client.signing_info()
    claim = eip712.DepositClaim(bytes.fromhex(sha), bytes(32), keccak256(b"x"), info["depositor"])
    by = {
        "stranger": eip712.sign_deposit(stranger, info["chain_id"], info["registry"], claim),
        "copycat": eip712.sign_deposit(copycat_key, info["chain_id"], info["registry"], claim),
    }
    raw = bytes.fromhex(good[2:])
    high_s = raw[:32] + (eip712.HALF_N * 2 + 1 - int.from_bytes(raw[32:64], "big")).to_bytes(
        32, "big"
    )
    high_s += bytes([55 - raw[64]])  # the malleable twin: same signer, refused
    with notary.http() as http:
        cases = {
            "0x1234": "malformed_signature",
            "0x" + high_s.hex(): "malformed_signature",
            other_content: "signer_not_registered",
            "0x" + by["stranger"].hex(): "signer_not_registered",
            "0x" + by["copycat"].hex(): "signer_not_registered",
        }
        for signature, code in cases.items():
            error = _error(
                http.post("/v1/evidence/hash", json={"sha256": sha, "signature": signature})
            )
            assert (error["code"], error["field"]) == (code, "signature"), error
        error = _error(
            http.post(
                "/v1/evidence/hashes",
                json={
                    "items": [
                        {"sha256": sha, "signature": good},
                        {"sha256": _sha("b"), "signature": other_content},
                    ]
                },
            )
        )
        assert (error["code"], error["field"]) == ("signer_not_registered", "items.1.signature")
        spool = notary.service.upload_spool
        assert spool is not None
        kept = set(spool.iterdir()) if spool.exists() else set()  # made by the first upload
        upload = http.post(
            "/v1/evidence",
            files={"file": ("x.txt", b"signed upload", "text/plain"), "signature": (None, good)},
        )
        assert _error(upload)["code"] == "signer_not_registered"  # signed over other content
        assert (set(spool.iterdir()) if spool.exists() else set()) == kept  # copy dropped
        assert http.get("/v1/evidence", params={"sha256": sha}).json()["items"] == []
        assert (
            http.post("/v1/evidence/hash", json={"sha256": sha, "signature": good}).status_code
            == 201
        )


def test_registration_needs_the_keys_consent_and_a_key_speaks_for_one_organization(
    notary: Notary, studio_key: LocalAccount
) -> None:
    key: LocalAccount = Account.from_key(secrets.token_bytes(32))
    with notary.client() as client:
        info = client.signing_info()
    wrong = eip712.depositor_key_typed_data(
        info["chain_id"], info["registry"], key.address, info["depositor"]
    )
    by_other = "0x" + eip712.sign(Account.from_key(secrets.token_bytes(32)), wrong).hex()
    with notary.http() as http:
        refused = http.post("/v1/depositor-keys", json={"address": key.address, "proof": by_other})
        assert _error(refused)["code"] == "invalid_input"
        assert "recovers to" in refused.json()["error"]["message"]
    with (
        notary.client("copycat") as copycat,
        pytest.raises(DepositorKeyTakenError, match="already a member of the consortium"),
    ):
        copycat.register_depositor_key(studio_key)
    assert notary.registry.member(key.address).role is Role.NONE
    assert notary.registry.member(studio_key.address).organization == organization_id(
        "org:studio-org"
    )


def test_a_removed_key_stops_counting_and_a_required_signature_is_enforced(
    notary: Notary,
) -> None:
    key: LocalAccount = Account.from_key(secrets.token_bytes(32))
    with notary.client() as client:
        assert client.register_depositor_key(key)["state"] == "active"
        removed = client.remove_depositor_key(key.address)
    assert removed["state"] == "removed" and removed["removed_tx"]
    assert notary.registry.member(key.address).role is Role.NONE
    with (
        notary.client(signer=key) as signing,
        pytest.raises(ValidationError, match="signer_not_registered"),
    ):
        signing.deposit_hash(_sha(f"after removal {secrets.token_hex(4)}"))
    with notary.http("copycat") as http:
        assert http.put("/v1/depositor-signatures", json={"require_signature": True}).json()[
            "require_signature"
        ]
        unsigned = {"sha256": _sha(f"unsigned when required {secrets.token_hex(4)}")}
        error = wait_for(
            lambda: (r := http.post("/v1/evidence/hash", json=unsigned)).status_code == 422 and r,
            "the requirement in force",
            seconds=10,
        )
        assert error.json()["error"]["code"] == "signature_required"
        http.put("/v1/depositor-signatures", json={"require_signature": False})


def test_notary_deposit_signs_with_a_key_file_only_its_owner_can_read(
    notary: Notary, studio_key: LocalAccount, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path / "cli")
    key_file = tmp_path / "depositor.key"
    key_file.write_text(studio_key.key.hex() + "\n", "ascii")
    design = tmp_path / "cli-design.txt"
    design.write_bytes(b"deposited by the CLI " + secrets.token_bytes(8))
    os.chmod(key_file, 0o644)
    env = {"NOTARY_API_KEY": notary.keys["studio"], "NOTARY_API_URL": notary.url}
    base = ["deposit", str(design), "--key-file", str(key_file), "--json"]
    loose = run_cli(settings, *base, env=env)
    assert loose.returncode != 0 and "chmod 600" in loose.stdout + loose.stderr
    os.chmod(key_file, 0o600)
    done = run_cli(settings, *base, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    (evidence,) = json.loads(done.stdout)["evidence"]
    with notary.http() as http:
        assert http.get(f"/v1/evidence/{evidence['id']}").json()["signer"] == studio_key.address
