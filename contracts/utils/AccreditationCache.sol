// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccreditationSink} from "../interfaces/IAccreditationSink.sol";
import {IDepartmentRegistry} from "../interfaces/IDepartmentRegistry.sol";
import {Regions} from "./Regions.sol";
import {
    GRANT_ACTIVE_SHIFT,
    GRANT_REGION_SHIFT,
    GRANT_VALID_FROM_SHIFT,
    GRANT_VALID_UNTIL_SHIFT,
    SCOPE_KIND_SHIFT
} from "./RecordLayout.sol";

/// @title Accreditation cache
/// @notice Replica of the department registry's grants for one kind of scope, written only by the
/// registry. The hot path (`_authorize`) costs one cold storage read; when it fails, the registry is
/// asked why so the revert names the exact cause.
abstract contract AccreditationCache is IAccreditationSink {
    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice The key is not known to the registry.
    error AccreditationUnknownSigner(address signer);
    /// @notice The key's validity window has not started.
    error AccreditationKeyNotYetValid(address signer);
    /// @notice The key's validity window has ended (expired or rotated out).
    error AccreditationKeyExpired(address signer);
    /// @notice The key's department is not accredited for the scope.
    error AccreditationScopeNotGranted(address signer, uint32 scope);
    /// @notice The key's department is suspended.
    error AccreditationDepartmentSuspended(address signer);
    /// @notice The key's department does not serve the record's region.
    error AccreditationRegionNotCovered(address signer, uint24 region);
    /// @notice The key's department is neither the record's issuer nor one of its supervisors.
    error AccreditationNotIssuer(address signer, uint32 issuer);
    /// @notice The replica disagrees with the registry; governance must call `resync`.
    error AccreditationCacheStale(address signer, uint32 scope);

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @notice A replica grant, unpacked.
    struct Grant {
        // The key's department (0: no grant).
        uint32 departmentId;
        // The department's region.
        uint24 region;
        // Key window start, inclusive.
        uint40 validFrom;
        // Key window end, exclusive.
        uint40 validUntil;
        // Scope granted and department not suspended.
        bool active;
    }

    /// @dev How many supervisor links `_authorizeFor` follows before giving up.
    uint256 private constant _MAX_SUPERVISOR_DEPTH = 4;

    /// @notice The department registry that owns the replica.
    IDepartmentRegistry public immutable DEPARTMENT_REGISTRY;

    /// @dev Grants live at keccak256(signer . scope . _GRANTS_SEED) (20 + 4 + 32 bytes), one word each,
    /// packed low to high: departmentId 32 | region 24 | validFrom 40 | validUntil 40 | active 8
    /// (offsets GRANT_*_SHIFT in RecordLayout.sol).
    /// Computing the slot directly saves the second hash a mapping of hashed keys would need.
    /// _GRANTS_SEED = keccak256("gov-ledger.accreditation-cache.grants") - 1 (ERC-7201 style).
    bytes32 private constant _GRANTS_SEED = 0x481dbbe432b61b12068a34ca68d88620ed6d355ae9344373ec9eef793ea628eb;
    mapping(uint32 departmentId => uint32 supervisor) private _supervisors;

    /// @param registry The department registry.
    constructor(IDepartmentRegistry registry) {
        DEPARTMENT_REGISTRY = registry;
    }

    /*//////////////////////////////////////////////////////////////
                              REPLICA WRITES
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IAccreditationSink
    function syncGrants(GrantUpdate[] calldata updates) external {
        _checkRegistry();
        for (uint256 i = 0; i < updates.length; ++i) {
            GrantUpdate calldata u = updates[i];
            uint256 packed = uint256(u.departmentId) | (uint256(u.region) << GRANT_REGION_SHIFT)
                | (uint256(u.validFrom) << GRANT_VALID_FROM_SHIFT) | (uint256(u.validUntil) << GRANT_VALID_UNTIL_SHIFT)
                | (u.active ? uint256(1) << GRANT_ACTIVE_SHIFT : 0);
            bytes32 slot = _grantSlot(u.signer, u.scope);
            assembly ("memory-safe") {
                sstore(slot, packed)
            }
        }
    }

    /// @inheritdoc IAccreditationSink
    function syncSupervisor(uint32 departmentId, uint32 supervisor) external {
        _checkRegistry();
        _supervisors[departmentId] = supervisor;
    }

    /*//////////////////////////////////////////////////////////////
                                  VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice The replica's grant for (`signer`, `scope`).
    /// @param signer The signing key.
    /// @param scope The certificate type or credit category.
    /// @return The grant; `departmentId` 0 when there is none.
    function grantOf(address signer, uint32 scope) external view returns (Grant memory) {
        uint256 packed = _loadGrant(signer, scope);
        return Grant({
            departmentId: uint32(packed),
            region: uint24(packed >> GRANT_REGION_SHIFT),
            validFrom: uint40(packed >> GRANT_VALID_FROM_SHIFT),
            validUntil: uint40(packed >> GRANT_VALID_UNTIL_SHIFT),
            active: (packed >> GRANT_ACTIVE_SHIFT) & 1 == 1
        });
    }

    /*//////////////////////////////////////////////////////////////
                                  LOGIC
    //////////////////////////////////////////////////////////////*/

    /// @dev Checks that `signer` may act for `scope` in `region` now; returns its department.
    function _authorize(address signer, uint32 scope, uint24 region) internal view returns (uint32) {
        uint256 grant = _loadGrant(signer, scope);
        if (
            (grant >> GRANT_ACTIVE_SHIFT) & 1 == 1 && uint40(grant >> GRANT_VALID_FROM_SHIFT) <= block.timestamp
                && block.timestamp < uint40(grant >> GRANT_VALID_UNTIL_SHIFT)
                && Regions.covers(uint24(grant >> GRANT_REGION_SHIFT), region)
        ) {
            return uint32(grant);
        }
        _revertDenied(signer, scope, region);
    }

    /// @dev Like `_authorize`, and the signer's department must be `issuer` or one of its
    /// supervisors (walking at most `_MAX_SUPERVISOR_DEPTH` links). Returns the signer's department.
    function _authorizeFor(address signer, uint32 scope, uint24 region, uint32 issuer)
        internal
        view
        returns (uint32 actor)
    {
        actor = _authorize(signer, scope, region);
        uint32 current = issuer;
        for (uint256 depth = 0; depth <= _MAX_SUPERVISOR_DEPTH; ++depth) {
            // Compares two department ids; no balance or time is involved.
            // slither-disable-next-line incorrect-equality
            if (current == actor) return actor;
            current = _supervisors[current];
            if (current == 0) break;
        }
        revert AccreditationNotIssuer(signer, issuer);
    }

    /// @dev The failure path: ask the registry for the precise reason and revert with it.
    function _revertDenied(address signer, uint32 scope, uint24 region) private view {
        // A scope of another kind is never pushed to this contract, whatever the registry says.
        if (DEPARTMENT_REGISTRY.sinkOf(uint8(scope >> SCOPE_KIND_SHIFT)) != address(this)) {
            revert AccreditationScopeNotGranted(signer, scope);
        }
        IDepartmentRegistry.Denial denial =
            DEPARTMENT_REGISTRY.denialOf(signer, scope, region, uint40(block.timestamp));
        // Matching the registry's answer against enum members; no balance or time is compared.
        // slither-disable-start incorrect-equality
        if (denial == IDepartmentRegistry.Denial.UnknownSigner) revert AccreditationUnknownSigner(signer);
        if (denial == IDepartmentRegistry.Denial.KeyNotYetValid) revert AccreditationKeyNotYetValid(signer);
        if (denial == IDepartmentRegistry.Denial.KeyExpired) revert AccreditationKeyExpired(signer);
        if (denial == IDepartmentRegistry.Denial.ScopeNotGranted) revert AccreditationScopeNotGranted(signer, scope);
        if (denial == IDepartmentRegistry.Denial.DepartmentSuspended) revert AccreditationDepartmentSuspended(signer);
        if (denial == IDepartmentRegistry.Denial.RegionNotCovered) revert AccreditationRegionNotCovered(signer, region);
        // slither-disable-end incorrect-equality
        revert AccreditationCacheStale(signer, scope);
    }

    function _checkRegistry() private view {
        if (msg.sender != address(DEPARTMENT_REGISTRY)) revert AccreditationUnauthorizedSync(msg.sender);
    }

    function _loadGrant(address signer, uint32 scope) private view returns (uint256 packed) {
        bytes32 slot = _grantSlot(signer, scope);
        assembly ("memory-safe") {
            packed := sload(slot)
        }
    }

    function _grantSlot(address signer, uint32 scope) private pure returns (bytes32 slot) {
        // 56 bytes fit in the 64-byte scratch space: no memory expansion.
        assembly ("memory-safe") {
            mstore(0x00, shl(96, signer))
            mstore(0x14, shl(224, scope))
            mstore(0x18, _GRANTS_SEED)
            slot := keccak256(0x00, 0x38)
        }
    }
}
