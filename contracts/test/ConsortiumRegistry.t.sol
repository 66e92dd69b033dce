// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IConsortiumRegistry} from "../IConsortiumRegistry.sol";
import {ConsortiumFixture} from "./ConsortiumFixture.sol";

/// @title Fuzz tests of ConsortiumRegistry (2-of-3 unless a test says otherwise)
contract ConsortiumRegistryTest is ConsortiumFixture {
    uint64 internal constant T0 = 1_800_000_000;

    function setUp() public {
        vm.warp(T0);
        deploy(3, 2);
    }

    /// @notice Any quorum of endorsers anchors any batch; the record and endorsement are what
    /// was submitted, and a second anchor of the root is refused without changing anything.
    function testFuzz_anchorIsWrittenOnce(bytes32 root, uint32 leafCount, string calldata manifest, uint8 pick)
        public
    {
        vm.assume(root != bytes32(0) && leafCount != 0 && bytes(manifest).length <= 256);
        uint256[] memory keys = new uint256[](2);
        keys[0] = FIRST_ENDORSER_KEY + (pick % 3);
        keys[1] = FIRST_ENDORSER_KEY + ((pick / 3 + 1 + pick % 3) % 3);
        vm.assume(keys[0] != keys[1]);
        bytes[] memory sigs = endorse(keys, root, leafCount, manifest, T0);
        vm.prank(notary);
        uint256 sequence = reg.anchor(root, leafCount, manifest, T0, sigs);
        IConsortiumRegistry.Anchor memory a = reg.anchorOf(root);
        require(a.sequence == sequence && sequence == 1, "sequence");
        require(a.leafCount == leafCount && a.notary == notary && a.timestamp == T0, "record");
        require(keccak256(bytes(a.manifest)) == keccak256(bytes(manifest)), "manifest");
        require(a.logHead == keccak256(abi.encode(bytes32(0), root)) && reg.logHead() == a.logHead, "head");
        (uint64 batchTime, uint16 k, address[] memory endorsers) = reg.endorsementOf(root);
        require(batchTime == T0 && k == 2 && endorsers.length == 2 && endorsers[0] < endorsers[1], "endorsement");

        _reanchorIsRefused(root, leafCount);
    }

    /// @dev Anchoring `root` again, even by every endorser with other values, is refused.
    function _reanchorIsRefused(bytes32 root, uint32 leafCount) internal {
        uint32 otherCount = leafCount == 1 ? 2 : leafCount - 1;
        bytes[] memory again = endorse(endorserKeys(3), root, otherCount, "other", T0);
        vm.expectRevert(abi.encodeWithSelector(IConsortiumRegistry.ConsortiumRegistry__AlreadyAnchored.selector, root));
        vm.prank(notary);
        reg.anchor(root, otherCount, "other", T0, again);
        require(reg.anchorOf(root).leafCount == leafCount && reg.anchorCount() == 1, "unchanged");
    }

    /// @notice Fewer than k signatures never anchor.
    function test_belowThresholdIsRefused() public {
        bytes32 root = keccak256("r");
        bytes[] memory sigs = endorse(endorserKeys(1), root, 1, "", T0);
        vm.expectRevert(abi.encodeWithSelector(IConsortiumRegistry.ConsortiumRegistry__NotEnoughSignatures.selector, 1, 2));
        vm.prank(notary);
        reg.anchor(root, 1, "", T0, sigs);
    }

    /// @notice A key that is not an endorser never counts, whatever it is.
    function testFuzz_foreignSignerIsRefused(uint256 key) public {
        key = 1 + (key % (type(uint128).max));
        vm.assume(key < FIRST_ENDORSER_KEY || key >= FIRST_ENDORSER_KEY + 3);
        bytes32 root = keccak256(abi.encode(key));
        bytes32 digest = reg.endorsementDigest(root, 1, "", T0);
        bytes[] memory sigs = new bytes[](2);
        sigs[0] = signed(key, digest); // the stranger first: the refusal names it
        sigs[1] = signed(FIRST_ENDORSER_KEY, digest);
        vm.expectRevert(
            abi.encodeWithSelector(IConsortiumRegistry.ConsortiumRegistry__NotAnEndorser.selector, 0, vm.addr(key))
        );
        vm.prank(notary);
        reg.anchor(root, 1, "", T0, sigs);
    }

    /// @notice The same endorser twice is one endorsement: refused.
    function test_duplicateSignerIsRefused() public {
        bytes32 root = keccak256("dup");
        bytes32 digest = reg.endorsementDigest(root, 1, "", T0);
        bytes[] memory sigs = new bytes[](2);
        sigs[0] = signed(FIRST_ENDORSER_KEY, digest);
        sigs[1] = sigs[0];
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsortiumRegistry.ConsortiumRegistry__SignersNotSorted.selector, 1, vm.addr(FIRST_ENDORSER_KEY)
            )
        );
        vm.prank(notary);
        reg.anchor(root, 1, "", T0, sigs);
    }

    /// @notice A high-s (malleated) twin of a valid signature is refused (OpenZeppelin ECDSA).
    function test_malleatedSignatureIsRefused() public {
        bytes32 root = keccak256("malleable");
        bytes32 digest = reg.endorsementDigest(root, 1, "", T0);
        uint256[] memory keys = sortByAddress(endorserKeys(2));
        bytes[] memory sigs = signSorted(keys, digest);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(keys[0], digest);
        uint256 n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
        sigs[0] = abi.encodePacked(r, bytes32(n - uint256(s)), v == 27 ? uint8(28) : uint8(27));
        vm.expectRevert(abi.encodeWithSelector(IConsortiumRegistry.ConsortiumRegistry__InvalidSignature.selector, 0));
        vm.prank(notary);
        reg.anchor(root, 1, "", T0, sigs);
    }

    /// @notice An endorsement of one batch does not endorse another (any field changed).
    function testFuzz_endorsementBindsTheBatch(bytes32 root, bytes32 otherRoot, uint32 count, uint64 age) public {
        vm.assume(root != otherRoot && otherRoot != bytes32(0) && count != 0);
        uint64 batchTime = T0 - (age % 3600);
        bytes[] memory sigs = endorse(endorserKeys(2), root, count, "m", batchTime);
        vm.prank(notary);
        vm.expectRevert(); // recovers to strangers
        reg.anchor(otherRoot, count, "m", batchTime, sigs);
        if (root != bytes32(0)) {
            vm.prank(notary);
            vm.expectRevert();
            reg.anchor(root, count, "n", batchTime, sigs);
            vm.prank(notary);
            vm.expectRevert();
            reg.anchor(root, count, "m", batchTime - 1, sigs);
            vm.prank(notary);
            reg.anchor(root, count, "m", batchTime, sigs);
        }
    }

    /// @notice Endorsements made for another chain id do not verify here.
    function test_otherChainIdIsRefused() public {
        bytes32 root = keccak256("chain");
        vm.chainId(99999);
        bytes[] memory sigs = endorse(endorserKeys(2), root, 1, "", T0);
        vm.chainId(31337);
        vm.prank(notary);
        vm.expectRevert();
        reg.anchor(root, 1, "", T0, sigs);
    }

    /// @notice The batch time is accepted exactly within [block time - 1 hour, block time].
    function testFuzz_batchTimeWindow(uint64 batchTime) public {
        bytes32 root = keccak256(abi.encode(batchTime));
        bytes[] memory sigs = endorse(endorserKeys(2), root, 1, "", batchTime);
        bool ok = batchTime <= T0 && T0 - batchTime <= 3600;
        if (!ok) vm.expectRevert();
        vm.prank(notary);
        reg.anchor(root, 1, "", batchTime, sigs);
        require((reg.anchorCount() == 1) == ok, "window");
    }

    /// @notice Only NOTARY members anchor, whoever calls.
    function testFuzz_onlyNotaries(address caller) public {
        vm.assume(caller != notary);
        bytes32 root = keccak256("caller");
        bytes[] memory sigs = endorse(endorserKeys(3), root, 1, "", T0);
        vm.expectRevert(abi.encodeWithSelector(IConsortiumRegistry.ConsortiumRegistry__NotNotary.selector, caller));
        vm.prank(caller);
        reg.anchor(root, 1, "", T0, sigs);
    }

    /// @notice A configuration change applies only with k approvals, once, before its deadline.
    function testFuzz_configChangeNeedsQuorum(uint8 approvers, address newcomer, uint16 k) public {
        vm.assume(newcomer != address(0) && reg.memberOf(newcomer).role == IConsortiumRegistry.Role.NONE);
        approvers = approvers % 4;
        k = 1 + (k % 4); // 4 endorsers after adding one
        IConsortiumRegistry.MemberChange[] memory changes = one(newcomer, IConsortiumRegistry.Role.ENDORSER);
        uint64 deadline = T0 + 600;
        bytes[] memory sigs = approve(endorserKeys(approvers), changes, k, 1, deadline);
        if (approvers < 2) {
            vm.expectRevert(
                abi.encodeWithSelector(IConsortiumRegistry.ConsortiumRegistry__NotEnoughSignatures.selector, approvers, 2)
            );
        }
        reg.changeConfig(changes, k, 1, deadline, sigs);
        if (approvers < 2) {
            require(reg.configNonce() == 1 && reg.threshold() == 2 && reg.endorserCount() == 3, "unchanged");
            return;
        }
        require(reg.configNonce() == 2 && reg.threshold() == k && reg.endorserCount() == 4, "applied");
        vm.expectRevert(abi.encodeWithSelector(IConsortiumRegistry.ConsortiumRegistry__WrongConfigNonce.selector, 1, 2));
        reg.changeConfig(changes, k, 1, deadline, sigs); // replay
    }

    /// @notice Expired changes and thresholds outside 1..endorsers are refused.
    function test_expiredOrBadThresholdIsRefused() public {
        IConsortiumRegistry.MemberChange[] memory changes = one(vm.addr(FIRST_ENDORSER_KEY), IConsortiumRegistry.Role.NONE);
        bytes[] memory sigs = approve(endorserKeys(2), changes, 3, 1, T0 + 1);
        vm.expectRevert(abi.encodeWithSelector(IConsortiumRegistry.ConsortiumRegistry__InvalidThreshold.selector, 3, 2));
        reg.changeConfig(changes, 3, 1, T0 + 1, sigs); // removing one of 3 leaves 2 < k=3
        vm.warp(T0 + 2);
        vm.expectRevert(abi.encodeWithSelector(IConsortiumRegistry.ConsortiumRegistry__ChangeExpired.selector, T0 + 1, T0 + 2));
        reg.changeConfig(changes, 3, 1, T0 + 1, sigs);
    }

    /// @notice A removed endorser's endorsement stops counting at once.
    function test_removedEndorserNoLongerCounts() public {
        address removed = vm.addr(FIRST_ENDORSER_KEY + 2);
        IConsortiumRegistry.MemberChange[] memory changes = one(removed, IConsortiumRegistry.Role.NONE);
        reg.changeConfig(changes, 2, 1, T0, approve(endorserKeys(2), changes, 2, 1, T0));
        uint256[] memory keys = new uint256[](2);
        keys[0] = FIRST_ENDORSER_KEY;
        keys[1] = FIRST_ENDORSER_KEY + 2;
        bytes32 root = keccak256("after removal");
        bytes[] memory sigs = endorse(keys, root, 1, "", T0);
        vm.expectRevert();
        vm.prank(notary);
        reg.anchor(root, 1, "", T0, sigs);
        require(reg.endorserCount() == 2 && reg.memberOf(removed).role == IConsortiumRegistry.Role.NONE, "removed");
    }
    /// @notice A DEPOSITOR member is added and removed by a quorum like any member, is
    /// recorded with its organization, and can neither anchor, endorse nor approve.
    function testFuzz_depositorSignsNothingThatCounts(uint256 key) public {
        key = FIRST_ENDORSER_KEY + 10 + key % 1e9;
        address depositor = vm.addr(key);
        IConsortiumRegistry.MemberChange[] memory changes = one(depositor, IConsortiumRegistry.Role.DEPOSITOR);
        reg.changeConfig(changes, 2, 1, T0, approve(endorserKeys(2), changes, 2, 1, T0));
        IConsortiumRegistry.Member memory m = reg.memberOf(depositor);
        require(m.role == IConsortiumRegistry.Role.DEPOSITOR && m.organization == ORG, "recorded");
        require(reg.endorserCount() == 3 && reg.threshold() == 2, "policy unchanged");

        uint256[] memory keys = new uint256[](2);
        keys[0] = FIRST_ENDORSER_KEY;
        keys[1] = key;
        bytes32 root = keccak256("depositor endorses");
        bytes[] memory sigs = endorse(keys, root, 1, "", T0);
        vm.expectRevert();
        vm.prank(notary);
        reg.anchor(root, 1, "", T0, sigs); // its endorsement does not count
        bytes[] memory quorum = endorse(endorserKeys(2), root, 1, "", T0);
        vm.expectRevert(abi.encodeWithSelector(IConsortiumRegistry.ConsortiumRegistry__NotNotary.selector, depositor));
        vm.prank(depositor);
        reg.anchor(root, 1, "", T0, quorum);

        IConsortiumRegistry.MemberChange[] memory removal = one(depositor, IConsortiumRegistry.Role.NONE);
        bytes[] memory withDepositor = approve(keys, removal, 2, 2, T0);
        vm.expectRevert();
        reg.changeConfig(removal, 2, 2, T0, withDepositor); // nor its approval
        reg.changeConfig(removal, 2, 2, T0, approve(endorserKeys(2), removal, 2, 2, T0));
        require(reg.memberOf(depositor).role == IConsortiumRegistry.Role.NONE, "removed");
    }
}
