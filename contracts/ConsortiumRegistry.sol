// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {IConsortiumRegistry} from "./IConsortiumRegistry.sol";

/// @title Consortium registry
/// @notice Write-once registry of Merkle roots of evidence batches, kept by a consortium of
/// member organizations. A NOTARY member submits each anchor with EIP-712 endorsements of at
/// least k distinct current ENDORSER members; members and k change only with EIP-712
/// approvals of at least k current endorsers, and every change is an event. No admin key.
/// @dev The EIP-712 domain separator is computed on each call, not cached in immutables, so
/// the runtime code is the same for every deployment and its hash can be published.
contract ConsortiumRegistry is IConsortiumRegistry {
    /// @notice Longest accepted manifest reference, in bytes (a CID is about 60).
    uint256 public constant MAX_MANIFEST_LENGTH = 256;
    /// @notice Longest accepted member name, in bytes.
    uint256 public constant MAX_NAME_LENGTH = 128;
    /// @notice Most entries in the genesis list or in one configuration change.
    uint256 public constant MAX_CHANGES = 64;
    /// @notice Oldest accepted batch time, in seconds before the anchoring block's time.
    uint256 public constant MAX_BATCH_AGE = 1 hours;

    /// @notice EIP-712 domain name.
    string public constant EIP712_NAME = "NotaryConsortium";
    /// @notice EIP-712 domain version.
    string public constant EIP712_VERSION = "1";

    /// @notice keccak256 of the EIP-712 domain type.
    bytes32 public constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    /// @notice keccak256 of the Endorsement type (manifest is hashed as an EIP-712 string).
    bytes32 public constant ENDORSEMENT_TYPEHASH =
        keccak256("Endorsement(bytes32 root,uint32 leafCount,string manifest,uint64 batchTime)");
    /// @notice keccak256 of the MemberChange type.
    bytes32 public constant MEMBER_CHANGE_TYPEHASH =
        keccak256("MemberChange(address account,uint8 role,bytes32 organization,string name)");
    /// @notice keccak256 of the ConfigChange type (with MemberChange appended, per EIP-712).
    bytes32 public constant CONFIG_CHANGE_TYPEHASH = keccak256(
        "ConfigChange(MemberChange[] changes,uint16 threshold,uint64 nonce,uint64 deadline)"
        "MemberChange(address account,uint8 role,bytes32 organization,string name)"
    );

    bytes32 private constant _NAME_HASH = keccak256(bytes(EIP712_NAME));
    bytes32 private constant _VERSION_HASH = keccak256(bytes(EIP712_VERSION));

    /// @dev Endorsement stored per root.
    struct Endorsement {
        uint64 batchTime;
        uint16 threshold;
        address[] endorsers;
    }

    mapping(bytes32 root => Anchor) private _anchors;
    mapping(bytes32 root => Endorsement) private _endorsements;
    bytes32[] private _roots;
    bytes32 private _logHead;

    mapping(address account => Member) private _members;
    mapping(address account => uint256) private _memberIndex; // 1-based into _memberList
    address[] private _memberList;
    uint256 private _endorserCount;
    uint16 private _threshold;
    uint64 private _configNonce;

    /// @notice Set the genesis members and threshold (configuration nonce 0), with events.
    /// @param genesis Members to add (role NONE is refused here).
    /// @param genesisThreshold The genesis k: 1 <= k <= number of ENDORSER members in `genesis`.
    constructor(MemberChange[] memory genesis, uint16 genesisThreshold) {
        if (genesis.length == 0 || genesis.length > MAX_CHANGES) {
            revert ConsortiumRegistry__BadChangeCount(genesis.length, MAX_CHANGES);
        }
        for (uint256 i = 0; i < genesis.length; ++i) {
            MemberChange memory change = genesis[i];
            if (change.role == Role.NONE) revert ConsortiumRegistry__NotAMember(change.account);
            _apply(change.account, change.role, change.organization, change.name, 0);
        }
        _setPolicy(genesisThreshold, 0);
        _configNonce = 1;
    }

    // ------------------------------------------------------------------ anchoring

    /// @inheritdoc IConsortiumRegistry
    function anchor(
        bytes32 root,
        uint32 leafCount,
        string calldata manifest,
        uint64 batchTime,
        bytes[] calldata signatures
    ) external returns (uint256 sequence) {
        if (_members[msg.sender].role != Role.NOTARY) revert ConsortiumRegistry__NotNotary(msg.sender);
        if (root == bytes32(0)) revert ConsortiumRegistry__ZeroRoot();
        if (leafCount == 0) revert ConsortiumRegistry__ZeroLeafCount();
        if (bytes(manifest).length > MAX_MANIFEST_LENGTH) {
            revert ConsortiumRegistry__ManifestTooLong(bytes(manifest).length, MAX_MANIFEST_LENGTH);
        }
        if (_anchors[root].sequence != 0) revert ConsortiumRegistry__AlreadyAnchored(root);
        if (batchTime > block.timestamp) {
            revert ConsortiumRegistry__BatchTimeInFuture(batchTime, block.timestamp);
        }
        if (block.timestamp - batchTime > MAX_BATCH_AGE) {
            revert ConsortiumRegistry__BatchTimeTooOld(batchTime, block.timestamp, MAX_BATCH_AGE);
        }
        address[] memory endorsers =
            _checkQuorum(endorsementDigest(root, leafCount, manifest, batchTime), signatures);
        sequence = _record(root, leafCount, manifest);
        uint16 k = _threshold;
        _endorsements[root] = Endorsement({batchTime: batchTime, threshold: k, endorsers: endorsers});
        emit Endorsed(root, batchTime, k, endorsers);
    }

    /// @dev Append `root` to the log and store its anchor record (as EvidenceRegistry does).
    function _record(bytes32 root, uint32 leafCount, string calldata manifest) private returns (uint256 sequence) {
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

    // ------------------------------------------------------------------ configuration

    /// @inheritdoc IConsortiumRegistry
    function changeConfig(
        MemberChange[] calldata changes,
        uint16 newThreshold,
        uint64 nonce,
        uint64 deadline,
        bytes[] calldata signatures
    ) external {
        uint64 expected = _configNonce;
        if (nonce != expected) revert ConsortiumRegistry__WrongConfigNonce(nonce, expected);
        if (deadline < block.timestamp) revert ConsortiumRegistry__ChangeExpired(deadline, block.timestamp);
        if (changes.length == 0 || changes.length > MAX_CHANGES) {
            revert ConsortiumRegistry__BadChangeCount(changes.length, MAX_CHANGES);
        }
        bytes32 digest = configChangeDigest(changes, newThreshold, nonce, deadline);
        // Approvals are checked against the members and k before the change.
        address[] memory approvers = _checkQuorum(digest, signatures);
        for (uint256 i = 0; i < changes.length; ++i) {
            MemberChange calldata change = changes[i];
            _apply(change.account, change.role, change.organization, change.name, nonce);
        }
        _setPolicy(newThreshold, nonce);
        _configNonce = nonce + 1;
        emit ConfigChanged(nonce, digest, approvers);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IConsortiumRegistry
    function anchorOf(bytes32 root) external view returns (Anchor memory) {
        return _anchors[root];
    }

    /// @inheritdoc IConsortiumRegistry
    function endorsementOf(bytes32 root)
        external
        view
        returns (uint64 batchTime, uint16 k, address[] memory endorsers)
    {
        Endorsement storage e = _endorsements[root];
        return (e.batchTime, e.threshold, e.endorsers);
    }

    /// @inheritdoc IConsortiumRegistry
    function anchorCount() external view returns (uint256) {
        return _roots.length;
    }

    /// @inheritdoc IConsortiumRegistry
    function rootAt(uint256 sequence) external view returns (bytes32) {
        if (sequence == 0 || sequence > _roots.length) return bytes32(0);
        return _roots[sequence - 1];
    }

    /// @inheritdoc IConsortiumRegistry
    function logHead() external view returns (bytes32) {
        return _logHead;
    }

    /// @inheritdoc IConsortiumRegistry
    function verify(bytes32 root, bytes32[] calldata proof, bytes32 leaf)
        external
        view
        returns (uint256 anchoredAt)
    {
        Anchor storage record = _anchors[root];
        if (record.sequence == 0 || !MerkleProof.verifyCalldata(proof, root, leaf)) return 0;
        return record.timestamp;
    }

    /// @inheritdoc IConsortiumRegistry
    function memberOf(address account) external view returns (Member memory) {
        return _members[account];
    }

    /// @inheritdoc IConsortiumRegistry
    function members() external view returns (address[] memory) {
        return _memberList;
    }

    /// @inheritdoc IConsortiumRegistry
    function threshold() external view returns (uint16) {
        return _threshold;
    }

    /// @inheritdoc IConsortiumRegistry
    function endorserCount() external view returns (uint256) {
        return _endorserCount;
    }

    /// @inheritdoc IConsortiumRegistry
    function configNonce() external view returns (uint64) {
        return _configNonce;
    }

    /// @inheritdoc IConsortiumRegistry
    function domainSeparator() public view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, _NAME_HASH, _VERSION_HASH, block.chainid, address(this)));
    }

    /// @inheritdoc IConsortiumRegistry
    function endorsementDigest(bytes32 root, uint32 leafCount, string calldata manifest, uint64 batchTime)
        public
        view
        returns (bytes32)
    {
        bytes32 structHash =
            keccak256(abi.encode(ENDORSEMENT_TYPEHASH, root, leafCount, keccak256(bytes(manifest)), batchTime));
        return MessageHashUtils.toTypedDataHash(domainSeparator(), structHash);
    }

    /// @inheritdoc IConsortiumRegistry
    function configChangeDigest(
        MemberChange[] calldata changes,
        uint16 newThreshold,
        uint64 nonce,
        uint64 deadline
    ) public view returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](changes.length);
        for (uint256 i = 0; i < changes.length; ++i) {
            MemberChange calldata c = changes[i];
            hashes[i] = keccak256(
                abi.encode(MEMBER_CHANGE_TYPEHASH, c.account, uint8(c.role), c.organization, keccak256(bytes(c.name)))
            );
        }
        bytes32 structHash = keccak256(
            abi.encode(CONFIG_CHANGE_TYPEHASH, keccak256(abi.encodePacked(hashes)), newThreshold, nonce, deadline)
        );
        return MessageHashUtils.toTypedDataHash(domainSeparator(), structHash);
    }

    // ------------------------------------------------------------------ internals

    /// @dev The distinct current ENDORSER members who signed `digest`, ascending; reverts
    /// unless there are at least k of them and every signature is valid.
    function _checkQuorum(bytes32 digest, bytes[] calldata signatures) private view returns (address[] memory signers) {
        uint256 k = _threshold;
        if (signatures.length < k) revert ConsortiumRegistry__NotEnoughSignatures(signatures.length, k);
        signers = new address[](signatures.length);
        address previous = address(0);
        for (uint256 i = 0; i < signatures.length; ++i) {
            (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signatures[i]);
            if (err != ECDSA.RecoverError.NoError) revert ConsortiumRegistry__InvalidSignature(i);
            if (_members[signer].role != Role.ENDORSER) revert ConsortiumRegistry__NotAnEndorser(i, signer);
            if (signer <= previous) revert ConsortiumRegistry__SignersNotSorted(i, signer);
            signers[i] = signer;
            previous = signer;
        }
    }

    /// @dev Set or remove one member and emit its event.
    function _apply(address account, Role role, bytes32 organization, string memory name, uint64 nonce) private {
        if (account == address(0)) revert ConsortiumRegistry__ZeroAccount();
        Role old = _members[account].role;
        if (role == Role.NONE) {
            if (old == Role.NONE) revert ConsortiumRegistry__NotAMember(account);
            if (organization != bytes32(0)) revert ConsortiumRegistry__BadOrganization(account);
            if (bytes(name).length != 0) revert ConsortiumRegistry__BadName(account);
            if (old == Role.ENDORSER) --_endorserCount;
            delete _members[account];
            uint256 index = _memberIndex[account];
            address last = _memberList[_memberList.length - 1];
            _memberList[index - 1] = last;
            _memberIndex[last] = index;
            _memberList.pop();
            delete _memberIndex[account];
            emit MemberRemoved(account, nonce);
            return;
        }
        if (organization == bytes32(0)) revert ConsortiumRegistry__BadOrganization(account);
        if (bytes(name).length > MAX_NAME_LENGTH) revert ConsortiumRegistry__BadName(account);
        if (old == Role.NONE) {
            _memberList.push(account);
            _memberIndex[account] = _memberList.length;
        }
        if (old == Role.ENDORSER) --_endorserCount;
        if (role == Role.ENDORSER) ++_endorserCount;
        _members[account] = Member({role: role, organization: organization, name: name});
        emit MemberSet(account, role, organization, name, nonce);
    }

    /// @dev Set k after checking 1 <= k <= endorsers, and emit PolicySet.
    function _setPolicy(uint16 newThreshold, uint64 nonce) private {
        uint256 endorsers = _endorserCount;
        if (newThreshold == 0 || newThreshold > endorsers) {
            revert ConsortiumRegistry__InvalidThreshold(newThreshold, endorsers);
        }
        _threshold = newThreshold;
        emit PolicySet(newThreshold, endorsers, nonce);
    }
}
