// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ConsortiumRegistry} from "../ConsortiumRegistry.sol";
import {IConsortiumRegistry} from "../IConsortiumRegistry.sol";
import {TestBase} from "./Vm.sol";

/// @title Shared setup: a consortium of one notary and `n` endorsers with threshold k
/// @notice Keys are small numbers (test-only); helpers sign EIP-712 endorsements and config
/// changes and sort the signatures by signer address, as the registry requires.
abstract contract ConsortiumFixture is TestBase {
    uint256 internal constant NOTARY_KEY = 0xA11CE;
    uint256 internal constant FIRST_ENDORSER_KEY = 0xE000;
    bytes32 internal constant ORG = keccak256("org");

    ConsortiumRegistry internal reg;
    address internal notary;

    /// @notice Deploy a registry whose genesis is the notary and endorser keys
    /// FIRST_ENDORSER_KEY .. FIRST_ENDORSER_KEY + n - 1, with threshold k.
    function deploy(uint256 n, uint16 k) internal {
        notary = vm.addr(NOTARY_KEY);
        IConsortiumRegistry.MemberChange[] memory genesis = new IConsortiumRegistry.MemberChange[](n + 1);
        genesis[0] = IConsortiumRegistry.MemberChange(notary, IConsortiumRegistry.Role.NOTARY, ORG, "notary");
        for (uint256 i = 0; i < n; ++i) {
            genesis[i + 1] = IConsortiumRegistry.MemberChange(
                vm.addr(FIRST_ENDORSER_KEY + i), IConsortiumRegistry.Role.ENDORSER, keccak256(abi.encode(i)), "endorser"
            );
        }
        reg = new ConsortiumRegistry(genesis, k);
    }

    /// @notice The first `count` endorser keys.
    function endorserKeys(uint256 count) internal pure returns (uint256[] memory keys) {
        keys = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            keys[i] = FIRST_ENDORSER_KEY + i;
        }
    }

    /// @notice Signatures of `digest` by `keys`, sorted by signer address ascending.
    function signSorted(uint256[] memory keys, bytes32 digest) internal pure returns (bytes[] memory sigs) {
        uint256[] memory sorted = sortByAddress(keys);
        sigs = new bytes[](sorted.length);
        for (uint256 i = 0; i < sorted.length; ++i) {
            sigs[i] = signed(sorted[i], digest);
        }
    }

    /// @notice `keys` ordered by their addresses (insertion sort: the lists are short).
    function sortByAddress(uint256[] memory keys) internal pure returns (uint256[] memory out) {
        out = new uint256[](keys.length);
        for (uint256 i = 0; i < keys.length; ++i) {
            uint256 key = keys[i];
            uint256 j = i;
            while (j > 0 && vm.addr(out[j - 1]) > vm.addr(key)) {
                out[j] = out[j - 1];
                --j;
            }
            out[j] = key;
        }
    }

    /// @notice Endorsements of a batch by `keys`, sorted.
    function endorse(uint256[] memory keys, bytes32 root, uint32 leafCount, string memory manifest, uint64 batchTime)
        internal
        view
        returns (bytes[] memory)
    {
        return signSorted(keys, reg.endorsementDigest(root, leafCount, manifest, batchTime));
    }

    /// @notice Approvals of a configuration change by `keys`, sorted.
    function approve(
        uint256[] memory keys,
        IConsortiumRegistry.MemberChange[] memory changes,
        uint16 k,
        uint64 nonce,
        uint64 deadline
    ) internal view returns (bytes[] memory) {
        return signSorted(keys, reg.configChangeDigest(changes, k, nonce, deadline));
    }

    /// @notice A one-entry change list.
    function one(address account, IConsortiumRegistry.Role role)
        internal
        pure
        returns (IConsortiumRegistry.MemberChange[] memory changes)
    {
        changes = new IConsortiumRegistry.MemberChange[](1);
        bytes32 org = role == IConsortiumRegistry.Role.NONE ? bytes32(0) : ORG;
        changes[0] = IConsortiumRegistry.MemberChange(account, role, org, role == IConsortiumRegistry.Role.NONE ? "" : "m");
    }
}
