// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title Consortium registry interface
/// @notice The write-once log of Merkle roots of EvidenceRegistry (same views, same return
/// shapes, same log-head rule), kept by a consortium: members are organizations' accounts
/// with a role, every anchor carries EIP-712 endorsements of at least k current endorsers,
/// and members and k change only with EIP-712 approvals of at least k current endorsers.
/// There is no admin. The rules and the typed data are specified in docs/consortium.md.
interface IConsortiumRegistry {
    /// @notice What a member may do. NONE marks a non-member (and, in a change, a removal).
    /// NOTARY submits anchors; ENDORSER endorses batches and approves changes; OBSERVER is
    /// listed (for example a court that reads) but signs nothing that counts; DEPOSITOR is a
    /// depositing organization's signing key: the registry lets it do nothing, and records,
    /// in MemberSet events, which organization it speaks for, so a verifier can check a
    /// depositor's signature in a certificate against the chain (docs/certificate-v2.md).
    enum Role {
        NONE,
        NOTARY,
        ENDORSER,
        OBSERVER,
        DEPOSITOR
    }

    /// @notice What the registry holds for one anchored root; all zero for an unknown root.
    /// Same layout as EvidenceRegistry's Anchor, so v1 readers decode it unchanged.
    /// @param sequence 1-based position in the log (0 means "not anchored").
    /// @param blockNumber Block that included the anchoring transaction.
    /// @param timestamp Block time (seconds since the Unix epoch, UTC) of that block.
    /// @param leafCount Number of leaves in the batch tree.
    /// @param notary The NOTARY member that submitted the anchor.
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

    /// @notice One member as stored.
    /// @param role The member's role (NONE: not a member).
    /// @param organization Identifier of the member's organization (never zero for a member).
    /// @param name Human-readable name of the member (at most MAX_NAME_LENGTH bytes).
    struct Member {
        Role role;
        bytes32 organization;
        string name;
    }

    /// @notice One entry of a configuration change (also the EIP-712 struct MemberChange).
    /// Sets `account` to (`role`, `organization`, `name`); role NONE removes the member
    /// (organization and name must then be zero and empty).
    struct MemberChange {
        address account;
        Role role;
        bytes32 organization;
        string name;
    }

    /// @notice The root is already anchored; the registry is write-once.
    error ConsortiumRegistry__AlreadyAnchored(bytes32 root);
    /// @notice The zero root cannot be anchored (it is the "unknown" value of the views).
    error ConsortiumRegistry__ZeroRoot();
    /// @notice A batch must hold at least one leaf.
    error ConsortiumRegistry__ZeroLeafCount();
    /// @notice The manifest reference is longer than MAX_MANIFEST_LENGTH bytes.
    error ConsortiumRegistry__ManifestTooLong(uint256 length, uint256 maxLength);
    /// @notice Only a current NOTARY member may anchor.
    error ConsortiumRegistry__NotNotary(address caller);
    /// @notice The batch time is after the anchoring block's time.
    error ConsortiumRegistry__BatchTimeInFuture(uint64 batchTime, uint256 blockTime);
    /// @notice The batch time is more than MAX_BATCH_AGE seconds before the block's time.
    error ConsortiumRegistry__BatchTimeTooOld(uint64 batchTime, uint256 blockTime, uint256 maxAge);
    /// @notice Fewer signatures than the threshold k in force were given.
    error ConsortiumRegistry__NotEnoughSignatures(uint256 given, uint256 threshold);
    /// @notice Signature `index` is not a valid 65-byte ECDSA signature with low s.
    error ConsortiumRegistry__InvalidSignature(uint256 index);
    /// @notice Signature `index` recovers to `signer`, who is not a current ENDORSER.
    error ConsortiumRegistry__NotAnEndorser(uint256 index, address signer);
    /// @notice Signature `index` recovers to `signer`, not above the previous signer: the
    /// signatures must be sorted by signer address, strictly ascending (no duplicates).
    error ConsortiumRegistry__SignersNotSorted(uint256 index, address signer);
    /// @notice The change was signed for another configuration nonce.
    error ConsortiumRegistry__WrongConfigNonce(uint64 given, uint64 expected);
    /// @notice The change's deadline has passed.
    error ConsortiumRegistry__ChangeExpired(uint64 deadline, uint256 blockTime);
    /// @notice A change or genesis list holds no entry, or more than MAX_CHANGES.
    error ConsortiumRegistry__BadChangeCount(uint256 count, uint256 maxCount);
    /// @notice A member cannot be the zero address.
    error ConsortiumRegistry__ZeroAccount();
    /// @notice A member needs a non-zero organization id (a removal needs a zero one).
    error ConsortiumRegistry__BadOrganization(address account);
    /// @notice The name is longer than MAX_NAME_LENGTH bytes (or not empty on a removal).
    error ConsortiumRegistry__BadName(address account);
    /// @notice Removal of an account that is not a member.
    error ConsortiumRegistry__NotAMember(address account);
    /// @notice The threshold would not satisfy 1 <= k <= number of ENDORSER members.
    error ConsortiumRegistry__InvalidThreshold(uint256 threshold, uint256 endorsers);

    /// @notice Emitted once per anchored root, right after it is recorded (same as v1).
    event Anchored(
        bytes32 indexed root,
        uint256 indexed sequence,
        address indexed notary,
        uint256 leafCount,
        uint256 timestamp,
        bytes32 logHead,
        string manifest
    );

    /// @notice Emitted with every anchor: the batch time and threshold the endorsements were
    /// checked against, and the endorsers, ascending.
    event Endorsed(bytes32 indexed root, uint64 batchTime, uint16 threshold, address[] endorsers);

    /// @notice A member was added or changed by configuration `configNonce` (0: genesis).
    event MemberSet(
        address indexed account,
        Role role,
        bytes32 indexed organization,
        string name,
        uint64 indexed configNonce
    );

    /// @notice A member was removed by configuration `configNonce`.
    event MemberRemoved(address indexed account, uint64 indexed configNonce);

    /// @notice The policy after configuration `configNonce` (0: genesis): threshold k of
    /// `endorsers` ENDORSER members. Emitted once per configuration, after its member events.
    event PolicySet(uint16 threshold, uint256 endorsers, uint64 indexed configNonce);

    /// @notice Configuration `configNonce` was applied: the EIP-712 digest the approvers
    /// signed, and the approving endorsers, ascending. Not emitted for genesis.
    event ConfigChanged(uint64 indexed configNonce, bytes32 digest, address[] approvers);

    /// @notice Record `root`, endorsed by at least k current ENDORSER members. Only a NOTARY
    /// member may call it.
    /// @param root Merkle root of the batch (non-zero, never anchored before).
    /// @param leafCount Number of leaves of the batch (non-zero).
    /// @param manifest Reference to the batch manifest, at most MAX_MANIFEST_LENGTH bytes.
    /// @param batchTime The batch time the endorsers checked: not after the block's time,
    /// not more than MAX_BATCH_AGE seconds before it.
    /// @param signatures 65-byte EIP-712 signatures of Endorsement(root, leafCount, manifest,
    /// batchTime) by distinct ENDORSER members, sorted by signer address ascending.
    /// @return sequence The 1-based position of the new anchor in the log.
    function anchor(
        bytes32 root,
        uint32 leafCount,
        string calldata manifest,
        uint64 batchTime,
        bytes[] calldata signatures
    ) external returns (uint256 sequence);

    /// @notice Apply a configuration change approved by at least k current ENDORSER members.
    /// Anyone may submit it (relay); the approvals are what authorize it.
    /// @param changes Member entries, applied in order.
    /// @param newThreshold The new k: 1 <= k <= ENDORSER members after the change.
    /// @param nonce Must equal configNonce() (each change is usable once, in order).
    /// @param deadline Last block time at which the change may be applied.
    /// @param signatures 65-byte EIP-712 signatures of ConfigChange(changes, threshold,
    /// nonce, deadline) by distinct current ENDORSER members, sorted by signer ascending.
    function changeConfig(
        MemberChange[] calldata changes,
        uint16 newThreshold,
        uint64 nonce,
        uint64 deadline,
        bytes[] calldata signatures
    ) external;

    /// @notice The anchor record of `root`; all fields zero when the root is unknown.
    function anchorOf(bytes32 root) external view returns (Anchor memory);

    /// @notice The endorsement recorded with the anchor of `root`; zeros and an empty list
    /// when the root is unknown.
    /// @return batchTime The batch time the endorsers signed.
    /// @return k The threshold in force when the root was anchored.
    /// @return endorsers The endorsers whose signatures were accepted, ascending.
    function endorsementOf(bytes32 root)
        external
        view
        returns (uint64 batchTime, uint16 k, address[] memory endorsers);

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

    /// @notice The member record of `account` (role NONE for a non-member).
    function memberOf(address account) external view returns (Member memory);

    /// @notice Every current member's account, in no particular order.
    function members() external view returns (address[] memory);

    /// @notice The endorsement threshold k in force.
    function threshold() external view returns (uint16);

    /// @notice Number of current ENDORSER members.
    function endorserCount() external view returns (uint256);

    /// @notice The nonce the next configuration change must carry (genesis was 0).
    function configNonce() external view returns (uint64);

    /// @notice The EIP-712 domain separator of this registry on this chain.
    function domainSeparator() external view returns (bytes32);

    /// @notice EIP-712 digest an endorser signs for a batch (see docs/consortium.md).
    function endorsementDigest(bytes32 root, uint32 leafCount, string calldata manifest, uint64 batchTime)
        external
        view
        returns (bytes32);

    /// @notice EIP-712 digest an endorser signs to approve a configuration change.
    function configChangeDigest(
        MemberChange[] calldata changes,
        uint16 newThreshold,
        uint64 nonce,
        uint64 deadline
    ) external view returns (bytes32);
}
