"""Operating: the devnet, deployment, keys, the deployment record, the contract build and
the developer toolchain."""
