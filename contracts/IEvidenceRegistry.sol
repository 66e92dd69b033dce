// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title Evidence registry interface
/// @notice An append-only, write-once log of Merkle roots. Each root commits to a batch
/// of evidence leaves; a leaf is proven to have existed no later than the block time of
/// the block that anchored its root.
interface IEvidenceRegistry {
    /// @notice What the registry holds for one anchored root. All zero for an unknown root.
    /// @param sequence 1-based position in the log (0 means "not anchored").
    /// @param blockNumber Block that included the anchoring transaction.
    /// @param timestamp Block time (seconds since the Unix epoch, UTC) of that block.
    /// @param leafCount Number of leaves in the batch tree.
    /// @param notary Account that anchored the root.
    /// @param logHead Log head after this anchor: keccak256(abi.encode(previousHead, root)).
    /// @param manifest Reference to the batch manifest (for example an IPFS CID); may be empty.
    struct Anchor {
        uint64 sequence;
        uint64 blockNumber;
        uint64 timestamp;
        uint32 leafCount;
        address notary;
        bytes32 logHead;
        string manifest;
    }

    /// @notice The root is already anchored; the registry is write-once.
    error EvidenceRegistry__AlreadyAnchored(bytes32 root);
    /// @notice The zero root cannot be anchored (it is the "unknown" value of the views).
    error EvidenceRegistry__ZeroRoot();
    /// @notice A batch must hold at least one leaf.
    error EvidenceRegistry__ZeroLeafCount();
    /// @notice The manifest reference is longer than MAX_MANIFEST_LENGTH bytes.
    error EvidenceRegistry__ManifestTooLong(uint256 length, uint256 maxLength);

    /// @notice Emitted once per anchored root, right after it is recorded.
    event Anchored(
        bytes32 indexed root,
        uint256 indexed sequence,
        address indexed notary,
        uint256 leafCount,
        uint256 timestamp,
        bytes32 logHead,
        string manifest
    );

    /// @notice Record `root` once. Only accounts holding NOTARY_ROLE may call it.
    /// @return sequence The 1-based position of the new anchor in the log.
    function anchor(bytes32 root, uint32 leafCount, string calldata manifest)
        external
        returns (uint256 sequence);

    /// @notice The anchor record of `root`; all fields zero when the root is unknown.
    function anchorOf(bytes32 root) external view returns (Anchor memory);

    /// @notice Number of anchors recorded so far.
    function anchorCount() external view returns (uint256);

    /// @notice The root at 1-based position `sequence`; zero when out of range.
    function rootAt(uint256 sequence) external view returns (bytes32);

    /// @notice Head of the append-only log: each anchor sets
    /// head = keccak256(abi.encode(previousHead, root)), starting from zero.
    function logHead() external view returns (bytes32);

    /// @notice Block time of the anchor of `root` when `proof` proves `leaf` under
    /// `root` (OpenZeppelin MerkleProof, sorted pairs); zero otherwise.
    function verify(bytes32 root, bytes32[] calldata proof, bytes32 leaf)
        external
        view
        returns (uint256 anchoredAt);
}
