// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IEvidenceRegistry} from "./IEvidenceRegistry.sol";

/// @title Evidence registry
/// @notice Write-once registry of Merkle roots of evidence batches. Anchors can never be
/// altered or removed; only NOTARY_ROLE holders anchor; role changes are AccessControl
/// events on chain. See docs/certificate.md for how a court checks a certificate.
contract EvidenceRegistry is AccessControl, IEvidenceRegistry {
    /// @notice Role allowed to anchor roots.
    bytes32 public constant NOTARY_ROLE = keccak256("NOTARY_ROLE");

    /// @notice Longest accepted manifest reference, in bytes (a CID is about 60).
    uint256 public constant MAX_MANIFEST_LENGTH = 256;

    mapping(bytes32 root => Anchor) private _anchors;
    bytes32[] private _roots;
    bytes32 private _logHead;

    /// @param admin Account given DEFAULT_ADMIN_ROLE (grants and revokes NOTARY_ROLE).
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IEvidenceRegistry
    function anchor(bytes32 root, uint32 leafCount, string calldata manifest)
        external
        onlyRole(NOTARY_ROLE)
        returns (uint256 sequence)
    {
        if (root == bytes32(0)) revert EvidenceRegistry__ZeroRoot();
        if (leafCount == 0) revert EvidenceRegistry__ZeroLeafCount();
        if (bytes(manifest).length > MAX_MANIFEST_LENGTH) {
            revert EvidenceRegistry__ManifestTooLong(bytes(manifest).length, MAX_MANIFEST_LENGTH);
        }
        if (_anchors[root].sequence != 0) revert EvidenceRegistry__AlreadyAnchored(root);

        _roots.push(root);
        sequence = _roots.length;
        bytes32 head = keccak256(abi.encode(_logHead, root));
        _logHead = head;
        _anchors[root] = Anchor({
            sequence: uint64(sequence),
            blockNumber: uint64(block.number),
            timestamp: uint64(block.timestamp),
            leafCount: leafCount,
            notary: msg.sender,
            logHead: head,
            manifest: manifest
        });
        emit Anchored(root, sequence, msg.sender, leafCount, block.timestamp, head, manifest);
    }

    /// @inheritdoc IEvidenceRegistry
    function anchorOf(bytes32 root) external view returns (Anchor memory) {
        return _anchors[root];
    }

    /// @inheritdoc IEvidenceRegistry
    function anchorCount() external view returns (uint256) {
        return _roots.length;
    }

    /// @inheritdoc IEvidenceRegistry
    function rootAt(uint256 sequence) external view returns (bytes32) {
        if (sequence == 0 || sequence > _roots.length) return bytes32(0);
        return _roots[sequence - 1];
    }

    /// @inheritdoc IEvidenceRegistry
    function logHead() external view returns (bytes32) {
        return _logHead;
    }

    /// @inheritdoc IEvidenceRegistry
    function verify(bytes32 root, bytes32[] calldata proof, bytes32 leaf)
        external
        view
        returns (uint256 anchoredAt)
    {
        Anchor storage record = _anchors[root];
        if (record.sequence == 0 || !MerkleProof.verifyCalldata(proof, root, leaf)) return 0;
        return record.timestamp;
    }
}
