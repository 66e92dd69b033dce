// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ConsortiumRegistry} from "../ConsortiumRegistry.sol";
import {IConsortiumRegistry} from "../IConsortiumRegistry.sol";
import {ConsortiumFixture} from "./ConsortiumFixture.sol";

/// @title Drives the registry with random anchors and configuration changes
/// @notice Signers are drawn from a pool of six keys, members or not, so the fuzzer tries
/// quorums, sub-quorums, strangers and removed members alike. The handler keeps its own
/// model of members and k and checks, on every call, that the registry accepted exactly
/// when the model says it must; `broken` records any disagreement.
contract ConsortiumHandler is ConsortiumFixture {
    uint256 internal constant POOL = 6;

    mapping(uint256 key => IConsortiumRegistry.Role) public modelRole;
    uint16 public modelK;
    uint64 public modelNonce;
    bool public broken;
    string public whyBroken;

    bytes32[] public roots;
    mapping(bytes32 root => IConsortiumRegistry.Anchor) internal recorded;
    mapping(bytes32 root => bytes32) internal recordedEndorsers;

    constructor() {
        vm.warp(1_800_000_000);
        deploy(3, 2);
        for (uint256 i = 0; i < 3; ++i) {
            modelRole[FIRST_ENDORSER_KEY + i] = IConsortiumRegistry.Role.ENDORSER;
        }
        modelK = 2;
        modelNonce = 1;
    }

    /// @notice The registry under test.
    function registry() external view returns (ConsortiumRegistry) {
        return reg;
    }

    /// @notice Every root anchored so far.
    function rootCount() external view returns (uint256) {
        return roots.length;
    }

    /// @notice What the handler saw recorded for `root` (anchor and endorser-list hash).
    function recordOf(bytes32 root) external view returns (IConsortiumRegistry.Anchor memory, bytes32) {
        return (recorded[root], recordedEndorsers[root]);
    }

    function _keys(uint8 mask) internal pure returns (uint256[] memory keys) {
        uint256 count;
        for (uint256 i = 0; i < POOL; ++i) {
            if (mask & (1 << i) != 0) ++count;
        }
        keys = new uint256[](count);
        uint256 j;
        for (uint256 i = 0; i < POOL; ++i) {
            if (mask & (1 << i) != 0) keys[j++] = FIRST_ENDORSER_KEY + i;
        }
    }

    function _allEndorsers(uint256[] memory keys) internal view returns (bool) {
        for (uint256 i = 0; i < keys.length; ++i) {
            if (modelRole[keys[i]] != IConsortiumRegistry.Role.ENDORSER) return false;
        }
        return true;
    }

    function _fail(string memory why) internal {
        broken = true;
        whyBroken = why;
    }

    /// @notice Let time pass (at most ten minutes per step).
    function wait(uint16 seconds_) external {
        vm.warp(block.timestamp + (seconds_ % 600));
        vm.roll(block.number + 1);
    }

    /// @notice Anchor a (possibly repeated) root with endorsements of the keys in `mask`.
    function anchor(uint8 mask, uint8 rootSeed, uint32 leafCount, uint16 age) external {
        bytes32 root = keccak256(abi.encode(rootSeed % 32));
        leafCount = 1 + (leafCount % 1000);
        uint64 batchTime = uint64(block.timestamp - (age % 3601));
        uint256[] memory keys = _keys(mask);
        bytes[] memory sigs = endorse(keys, root, leafCount, "manifest", batchTime);
        bool expected = recorded[root].sequence == 0 && keys.length >= modelK && _allEndorsers(keys);
        vm.prank(notary);
        try reg.anchor(root, leafCount, "manifest", batchTime, sigs) returns (uint256 sequence) {
            if (!expected) return _fail("anchored without a quorum of current endorsers");
            roots.push(root);
            if (sequence != roots.length) return _fail("sequence");
            recorded[root] = reg.anchorOf(root);
            (, uint16 k, address[] memory endorsers) = reg.endorsementOf(root);
            if (k != modelK || endorsers.length != keys.length) return _fail("endorsement record");
            recordedEndorsers[root] = keccak256(abi.encode(endorsers));
        } catch {
            if (expected) return _fail("refused a valid quorum");
        }
    }

    /// @notice Set pool key `target` to `roleSeed % 5` with threshold `k`, approved by `mask`.
    function change(uint8 mask, uint8 target, uint8 roleSeed, uint16 k) external {
        uint256 key = FIRST_ENDORSER_KEY + (target % POOL);
        IConsortiumRegistry.Role role = IConsortiumRegistry.Role(roleSeed % 5);
        k = k % 6;
        uint256[] memory keys = _keys(mask);
        IConsortiumRegistry.MemberChange[] memory changes = one(vm.addr(key), role);
        bytes[] memory sigs = approve(keys, changes, k, modelNonce, uint64(block.timestamp));

        IConsortiumRegistry.Role old = modelRole[key];
        uint256 endorsers = reg.endorserCount();
        if (old == IConsortiumRegistry.Role.ENDORSER) --endorsers;
        if (role == IConsortiumRegistry.Role.ENDORSER) ++endorsers;
        bool expected = keys.length >= modelK && _allEndorsers(keys)
            && !(role == IConsortiumRegistry.Role.NONE && old == IConsortiumRegistry.Role.NONE) && k >= 1
            && k <= endorsers;
        try reg.changeConfig(changes, k, modelNonce, uint64(block.timestamp), sigs) {
            if (!expected) return _fail("changed without a quorum or to a bad policy");
            modelRole[key] = role;
            modelK = k;
            ++modelNonce;
        } catch {
            if (expected) return _fail("refused a valid change");
        }
    }
}

/// @title Invariants of ConsortiumRegistry under random anchors and configuration changes
contract ConsortiumInvariantTest is ConsortiumFixture {
    ConsortiumHandler internal handler;

    function setUp() public {
        handler = new ConsortiumHandler();
        targetContract(address(handler));
    }

    /// @notice The registry accepted and refused exactly as the membership model requires:
    /// no anchor without k endorsements of members current at that call, no change without
    /// a quorum, no valid request refused.
    function invariant_acceptsExactlyQuorums() public view {
        require(!handler.broken(), handler.whyBroken());
    }

    /// @notice Anchors never change once written (record and endorsement).
    function invariant_anchorsNeverChange() public view {
        ConsortiumRegistry r = handler.registry();
        uint256 count = handler.rootCount();
        require(r.anchorCount() == count, "anchor count");
        for (uint256 i = 0; i < count; ++i) {
            bytes32 root = handler.roots(i);
            (IConsortiumRegistry.Anchor memory then, bytes32 endorsersThen) = handler.recordOf(root);
            IConsortiumRegistry.Anchor memory now_ = r.anchorOf(root);
            require(keccak256(abi.encode(then)) == keccak256(abi.encode(now_)), "anchor changed");
            (,, address[] memory endorsers) = r.endorsementOf(root);
            require(keccak256(abi.encode(endorsers)) == endorsersThen, "endorsers changed");
        }
    }

    /// @notice The log head always recomputes from rootAt(1..anchorCount()).
    function invariant_logHeadRecomputes() public view {
        ConsortiumRegistry r = handler.registry();
        bytes32 head;
        for (uint256 i = 1; i <= r.anchorCount(); ++i) {
            head = keccak256(abi.encode(head, r.rootAt(i)));
        }
        require(head == r.logHead(), "log head");
    }

    /// @notice Members, k and the nonce are what the approved changes made them, and
    /// 1 <= k <= endorsers always holds.
    function invariant_membershipFollowsApprovedChangesOnly() public view {
        ConsortiumRegistry r = handler.registry();
        uint256 endorsers;
        for (uint256 i = 0; i < 6; ++i) {
            IConsortiumRegistry.Role role = handler.modelRole(FIRST_ENDORSER_KEY + i);
            require(r.memberOf(vm.addr(FIRST_ENDORSER_KEY + i)).role == role, "member role");
            if (role == IConsortiumRegistry.Role.ENDORSER) ++endorsers;
        }
        require(r.endorserCount() == endorsers, "endorser count");
        require(r.threshold() == handler.modelK() && r.configNonce() == handler.modelNonce(), "policy");
        require(r.threshold() >= 1 && r.threshold() <= endorsers, "policy bounds");
    }
}
