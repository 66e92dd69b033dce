"""The registry contract on an EVM chain: the published build and a web3.py client."""
