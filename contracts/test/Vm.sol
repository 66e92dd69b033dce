// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title The few Foundry cheatcodes the tests use
/// @notice Declared here instead of depending on forge-std (not installable offline here).
/// The cheatcode contract lives at the address forge reserves for it.
interface Vm {
    function addr(uint256 privateKey) external pure returns (address);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function prank(address sender) external;
    function warp(uint256 timestamp) external;
    function roll(uint256 blockNumber) external;
    function chainId(uint256 newChainId) external;
    function expectRevert() external;
    function expectRevert(bytes calldata revertData) external;
    function expectRevert(bytes4 selector) external;
    function assume(bool condition) external pure;
}

/// @title Minimal test base: the cheatcode handle and the target list invariants fuzz
abstract contract TestBase {
    /// @notice The cheatcode contract (address = uint160(uint256(keccak256("hevm cheat code")))).
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    address[] private _targets;

    /// @notice Restrict invariant fuzzing to these contracts (forge reads targetContracts()).
    function targetContract(address target) internal {
        _targets.push(target);
    }

    /// @notice What forge's invariant fuzzer calls (the forge-std StdInvariant selector).
    function targetContracts() public view returns (address[] memory) {
        return _targets;
    }

    /// @notice A 65-byte signature (r, s, v) of `digest` by `key`.
    function signed(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }
}
