"""Anchoring: the batcher, finality and reconciliation, the pinner, and the
process that runs them beside the API."""
