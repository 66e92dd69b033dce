"""The registry contract on an EVM chain: the published build and a web3.py client.

The chain adapter: everything else reaches the chain through RegistryReader (no key) and
RegistryWriter (notary.chain.registry), and sees notary errors, never web3's (only
notary.ops may also use web3; tests/unit/test_layout.py checks it).
"""
