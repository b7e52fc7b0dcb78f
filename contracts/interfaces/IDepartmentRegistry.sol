// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Department registry interface
/// @notice The governance authority accredits departments here: the region they serve, the
/// certificate types and credit categories (scopes) they may issue, the signing keys they use and
/// the time windows of each. Consumers (certificate registry, credit ledger) keep a replica of the
/// grants they need, pushed by the registry whenever accreditation changes.
interface IDepartmentRegistry {
    /// @notice Why an authorization check fails. `None` means the signer is authorized.
    enum Denial {
        None,
        UnknownSigner,
        KeyNotYetValid,
        KeyExpired,
        ScopeNotGranted,
        DepartmentSuspended,
        RegionNotCovered
    }

    /// @notice A department as the registry stores it (one slot).
    struct Department {
        // GB/T 2260 administrative division code of the region served (6 digits).
        uint24 region;
        // Department that may act on this department's records (supervising or successor); 0: none.
        uint32 supervisor;
        // Block timestamp of registration; 0 means the department does not exist.
        uint40 registeredAt;
        // Whether the department is currently suspended.
        bool suspended;
        // Number of scopes currently granted.
        uint8 scopeCount;
        // Number of signing keys not yet retired.
        uint8 signerCount;
    }

    /// @notice A signing key. A key belongs to one department for ever and is never reused.
    struct SignerKey {
        // Department the key signs for; 0 means unknown key.
        uint32 departmentId;
        // First second (inclusive) at which the key may sign.
        uint40 validFrom;
        // First second at which the key may no longer sign (exclusive).
        uint40 validUntil;
        // Retired before its window ended: signatures made earlier in the second of
        // `validUntil` were valid (history counts that second in; new signatures are refused).
        bool retiredEarly;
    }

    /// @notice A half-open time interval [from, until).
    struct Window {
        // Start, inclusive, UTC seconds.
        uint40 from;
        // End, exclusive, UTC seconds; type(uint40).max while open.
        uint40 until;
    }

    /// @notice The department id is zero, or the department does not exist.
    error DepartmentRegistryUnknownDepartment(uint32 departmentId);
    /// @notice A department with this id is already registered.
    error DepartmentRegistryDuplicateDepartment(uint32 departmentId);
    /// @notice The region code is not a six-digit GB/T 2260 code.
    error DepartmentRegistryInvalidRegion(uint24 region);
    /// @notice The scope's kind byte names no known consumer kind, or the scope is zero.
    error DepartmentRegistryInvalidScope(uint32 scope);
    /// @notice The scope is already granted to the department.
    error DepartmentRegistryDuplicateScope(uint32 departmentId, uint32 scope);
    /// @notice The scope is not currently granted to the department.
    error DepartmentRegistryScopeNotGranted(uint32 departmentId, uint32 scope);
    /// @notice The department already holds the maximum number of scopes or keys.
    error DepartmentRegistryLimitReached(uint32 departmentId);
    /// @notice The key is the zero address or already known to the registry (keys are never reused).
    error DepartmentRegistryInvalidSigner(address signer);
    /// @notice The key is unknown or already retired.
    error DepartmentRegistryUnknownSigner(address signer);
    /// @notice The validity window is empty or ends in the past.
    error DepartmentRegistryInvalidWindow(uint40 validFrom, uint40 validUntil);
    /// @notice The department is already in the requested suspension state.
    error DepartmentRegistrySuspensionUnchanged(uint32 departmentId, bool suspended);
    /// @notice The supervisor would be the department itself or create a cycle.
    error DepartmentRegistryInvalidSupervisor(uint32 departmentId, uint32 supervisor);
    /// @notice The consumer kind is zero or the sink is the zero address.
    error DepartmentRegistryInvalidSink(uint8 kind, address sink);
    /// @notice Governance cannot be renounced: records would become unmanageable.
    error DepartmentRegistryRenounceDisabled();

    /// @notice A department was accredited.
    event DepartmentRegistered(uint32 indexed departmentId, uint24 region, bytes32 nameHash);
    /// @notice A scope was granted to a department.
    event ScopeGranted(uint32 indexed departmentId, uint32 indexed scope);
    /// @notice A scope was withdrawn from a department.
    event ScopeRevoked(uint32 indexed departmentId, uint32 indexed scope);
    /// @notice A signing key was added to a department.
    event SignerAdded(uint32 indexed departmentId, address indexed signer, uint40 validFrom, uint40 validUntil);
    /// @notice A signing key was retired; it signs nothing from `validUntil` on.
    event SignerRetired(uint32 indexed departmentId, address indexed signer, uint40 validUntil);
    /// @notice A department was suspended.
    event DepartmentSuspended(uint32 indexed departmentId);
    /// @notice A suspended department was reinstated.
    event DepartmentReinstated(uint32 indexed departmentId);
    /// @notice A department's supervising or successor department changed.
    event SupervisorChanged(uint32 indexed departmentId, uint32 indexed supervisor);
    /// @notice The consumer contract for a scope kind changed.
    event SinkChanged(uint8 indexed kind, address indexed sink);

    /// @notice Whether `signer` could act for `scope` at time `timestamp`, as accredited then.
    /// @param signer The signing key.
    /// @param scope The certificate type or credit category.
    /// @param timestamp UTC seconds; past times answer as the registry stood then.
    /// @return True when the key was in its window, the scope granted and the department not suspended.
    function isAuthorized(address signer, uint32 scope, uint40 timestamp) external view returns (bool);

    /// @notice Why `signer` could not act for `scope` in `region` at `timestamp`; `Denial.None` if it could.
    /// @dev For a `timestamp` at or after the current block's, the live state answers (a change made
    /// earlier in this second already applies to new writes); for an earlier one, the history.
    /// @param signer The signing key.
    /// @param scope The certificate type or credit category.
    /// @param region The GB/T 2260 region code the record belongs to; 0 skips the region check.
    /// @param timestamp UTC seconds.
    /// @return The first failing condition.
    function denialOf(address signer, uint32 scope, uint24 region, uint40 timestamp) external view returns (Denial);

    /// @notice Whether a department was accredited for `scope` in `region` at `timestamp`: the scope
    /// granted, the department not suspended, the region within the department's. Verifiers use it
    /// for records, which name the department rather than the key.
    /// @param departmentId The department.
    /// @param scope The certificate type or credit category.
    /// @param region The record's region; 0 skips the region check.
    /// @param timestamp UTC seconds.
    /// @return True when all three held at `timestamp`.
    function isDepartmentAuthorized(uint32 departmentId, uint32 scope, uint24 region, uint40 timestamp)
        external
        view
        returns (bool);

    /// @notice A department's record.
    /// @param departmentId The department.
    /// @return department The record (`registeredAt` 0 if unknown).
    /// @return nameHash Hash of its official name.
    function departmentOf(uint32 departmentId) external view returns (Department memory department, bytes32 nameHash);

    /// @notice A signing key's record (also for retired keys).
    /// @param signer The key.
    /// @return The key's department and window.
    function signerKey(address signer) external view returns (SignerKey memory);

    /// @notice The consumer contract of a scope kind.
    /// @param kind Scope kind (high byte of a scope).
    /// @return The sink, or the zero address.
    function sinkOf(uint8 kind) external view returns (address);

    /// @notice The governance authority (the registry's owner).
    /// @return The owner address.
    function owner() external view returns (address);

    /// @notice The version of this contract (semantic versioning), so a client can check on chain
    /// that it talks to the contract it was built for: the major number changes with any change a
    /// client built for an earlier version cannot use (ABI, storage layout, packed terms).
    /// @return The version string, e.g. "1.0.0".
    function VERSION() external view returns (string memory);
}
