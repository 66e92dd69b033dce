"""Operating: the devnet, deployment, keys, the deployment record, `notary stamp`,
the contract build and the developer toolchain."""
