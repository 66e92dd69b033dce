"""IPFS: the Kubo-RPC client and the store of files and manifests."""
