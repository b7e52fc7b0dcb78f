// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Access-log anchors interface (查询记录)
/// @notice The service keeps a log of every access to a citizen's records (consents, window
/// checks, stored-copy reads, credit look-ups) in its own database. Periodically governance
/// anchors the Merkle root of the entries logged since the last anchor, naming their sequence
/// range; a citizen then proves an entry against that root, so an entry removed or altered in the
/// database afterwards no longer proves. Only roots and sequence numbers are stored: no entry,
/// subject or department is named on chain.
interface IAccessLogAnchors {
    /// @notice An anchored batch (one storage slot).
    struct Anchor {
        // First log sequence number the batch covers (inclusive, at least 1).
        uint64 firstSeq;
        // Last log sequence number the batch covers (inclusive).
        uint64 lastSeq;
        // Block timestamp of anchoring; 0 means the root was never anchored.
        uint64 anchoredAt;
    }

    /// @notice The root is zero (the root of nothing).
    error AccessLogAnchorsInvalidRoot(bytes32 root);
    /// @notice The root is already anchored (each batch has its own root).
    error AccessLogAnchorsDuplicateRoot(bytes32 root);
    /// @notice The range is empty or reversed: the first sequence number must be at least 1 and
    /// not above the last.
    error AccessLogAnchorsInvalidRange(uint64 firstSeq, uint64 lastSeq);
    /// @notice The range does not start after the last sequence number already anchored.
    error AccessLogAnchorsRangeNotAfter(uint64 firstSeq, uint64 anchoredLastSeq);
    /// @notice Disabled: the log always needs an authority to anchor it.
    error AccessLogAnchorsRenounceDisabled();

    /// @notice A batch of access-log entries was anchored.
    /// @param root The Merkle root of the batch's entries.
    /// @param firstSeq First sequence number covered (inclusive).
    /// @param lastSeq Last sequence number covered (inclusive).
    event AccessLogAnchored(bytes32 indexed root, uint64 firstSeq, uint64 lastSeq);

    /// @notice Anchors the Merkle root of the log entries `firstSeq` to `lastSeq` (inclusive),
    /// which must come after every range anchored before (gaps are allowed: a sequence number the
    /// database skipped is simply in no batch). Governance only.
    /// @param root The batch's Merkle root (sorted pairs; non-zero, never anchored before).
    /// @param firstSeq First sequence number covered, at least 1.
    /// @param lastSeq_ Last sequence number covered, not below `firstSeq` (named apart from the
    /// `lastSeq()` view it would shadow).
    function anchor(bytes32 root, uint64 firstSeq, uint64 lastSeq_) external;

    /// @notice The batch anchored under `root`; all zeros when the root is unknown.
    /// @param root A Merkle root.
    /// @return firstSeq First sequence number covered.
    /// @return lastSeq_ Last sequence number covered.
    /// @return anchoredAt Block timestamp of anchoring (0: unknown root).
    function anchorOf(bytes32 root) external view returns (uint64 firstSeq, uint64 lastSeq_, uint64 anchoredAt);

    /// @notice The last sequence number anchored so far (0 before the first anchor): the next
    /// batch must start above it.
    /// @return The last anchored sequence number.
    function lastSeq() external view returns (uint64);

    /// @notice The governance authority (the contract's owner), the only account that anchors.
    /// @return The owner address.
    function owner() external view returns (address);

    /// @notice The version of this contract (semantic versioning), so a client can check on chain
    /// that it talks to the contract it was built for: the major number changes with any change a
    /// client built for an earlier version cannot use (ABI, storage layout, packed terms).
    /// @return The version string, e.g. "1.0.0".
    function VERSION() external view returns (string memory);
}
