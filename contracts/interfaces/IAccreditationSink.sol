// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Accreditation sink
/// @notice A contract that keeps a replica of the department registry's grants, so that its hot
/// path checks accreditation with a single storage read instead of a cross-contract call.
/// Only the department registry writes the replica.
interface IAccreditationSink {
    /// @notice One grant of one scope to one signing key, as pushed by the registry.
    struct GrantUpdate {
        // The signing key.
        address signer;
        // The certificate type or credit category.
        uint32 scope;
        // The key's department.
        uint32 departmentId;
        // The department's GB/T 2260 region.
        uint24 region;
        // Start of the key's window, inclusive.
        uint40 validFrom;
        // End of the key's window, exclusive.
        uint40 validUntil;
        // False when the scope was withdrawn or the department is suspended.
        bool active;
    }

    /// @notice The caller is not the department registry.
    error AccreditationUnauthorizedSync(address caller);

    /// @notice Writes grants into the replica.
    /// @param updates The grants, each replacing any earlier grant for the same (signer, scope).
    function syncGrants(GrantUpdate[] calldata updates) external;

    /// @notice Records the supervising or successor department of `departmentId` (0 clears it).
    /// @param departmentId The supervised department.
    /// @param supervisor The department that may act on its records.
    function syncSupervisor(uint32 departmentId, uint32 supervisor) external;
}
