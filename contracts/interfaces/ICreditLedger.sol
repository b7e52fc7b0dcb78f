// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Credit ledger interface
/// @notice Append-only credit events about citizens and enterprises. An event is never edited or
/// removed: corrections, withdrawals, disputes and credit repair are amendments recorded beside it.
/// Events are found by subject through the `subjectRef` topic of `CreditEventRecorded`.
interface ICreditLedger {
    /// @notice Whether an event counts against or for the subject.
    enum Polarity {
        Negative,
        Positive
    }

    /// @notice The latest amendment of an event; `None` while it stands as recorded.
    enum Amendment {
        None,
        Corrected,
        Withdrawn,
        Repaired,
        Disputed,
        Upheld
    }

    /// @notice A credit event as recorded (one slot, never written again).
    struct CreditEvent {
        // Department that recorded it.
        uint32 recorder;
        // Credit category (scope kind 2).
        uint32 category;
        // Negative (for example a tax violation) or positive (a commendation).
        Polarity polarity;
        // 1 (minor) to 5 (most serious).
        uint8 severity;
        // When the underlying fact occurred (UTC seconds).
        uint40 occurredAt;
        // Block timestamp of recording; 0 means no such event.
        uint40 recordedAt;
    }

    /// @notice The amendment state of an event (a separate slot, so the event itself never changes).
    struct AmendmentState {
        // The latest amendment.
        Amendment status;
        // Department that made it.
        uint32 amendedBy;
        // When it was made.
        uint40 amendedAt;
        // How many amendments the event has had.
        uint16 count;
    }

    /// @notice A subject reference or evidence hash is zero.
    error CreditLedgerInvalidReference();
    /// @notice `terms` has bits set above bit 87, or an unknown polarity.
    error CreditLedgerInvalidTerms(uint256 terms);
    /// @notice Severity must be between 1 and 5.
    error CreditLedgerInvalidSeverity(uint8 severity);
    /// @notice The event cannot have occurred after it is recorded.
    error CreditLedgerOccurredInFuture(uint40 occurredAt);
    /// @notice An event with the same subject, category, time and evidence is already recorded.
    error CreditLedgerDuplicateEvent(bytes32 eventId);
    /// @notice No event has this id.
    error CreditLedgerUnknownEvent(bytes32 eventId);
    /// @notice The amendment is not allowed from the event's current state.
    error CreditLedgerInvalidTransition(bytes32 eventId, Amendment current, Amendment requested);
    /// @notice A reason hash is required.
    error CreditLedgerMissingReason();
    /// @notice Only the governance authority may change disclosure periods.
    error CreditLedgerUnauthorizedAccount(address account);

    /// @notice A credit event was recorded.
    /// @param eventId keccak256(abi.encode(subjectRef, category, occurredAt, evidenceHash)).
    /// @param subjectRef HMAC of the subject's identifier (never the identifier).
    /// @param evidenceHash Hash of the evidence document.
    event CreditEventRecorded(bytes32 indexed eventId, bytes32 indexed subjectRef, bytes32 evidenceHash);

    /// @notice A credit event was recorded together with the location of its stored evidence.
    /// @param eventId As for `CreditEventRecorded`.
    /// @param subjectRef HMAC of the subject's identifier.
    /// @param evidenceHash Hash of the evidence document.
    /// @param evidenceCid Binary CID of the stored (encrypted where personal) evidence.
    event CreditEventRecordedWithEvidence(
        bytes32 indexed eventId, bytes32 indexed subjectRef, bytes32 evidenceHash, bytes evidenceCid
    );

    /// @notice An event was amended.
    /// @param eventId The event.
    /// @param status The amendment.
    /// @param reasonHash Hash of the decision document.
    /// @param actor Department that amended it.
    event CreditEventAmended(bytes32 indexed eventId, Amendment status, bytes32 reasonHash, uint32 actor);

    /// @notice The public disclosure period of a category changed.
    /// @param category The credit category.
    /// @param period Seconds after `occurredAt` (0: no limit).
    event DisclosurePeriodChanged(uint32 indexed category, uint40 period);

    /// @notice Records a credit event.
    /// @param subjectRef Subject reference of the citizen or enterprise.
    /// @param terms `encodeTerms(category, polarity, severity, occurredAt)`; the sender must be
    /// accredited for the category, severity is 1 (minor) to 5, occurredAt is not in the future.
    /// @param evidenceHash Hash of the evidence document.
    /// @return eventId The event's id.
    function record(bytes32 subjectRef, uint256 terms, bytes32 evidenceHash) external returns (bytes32 eventId);

    /// @notice Records a credit event with the location of its stored evidence.
    /// @param subjectRef Subject reference of the citizen or enterprise.
    /// @param terms As for `record`.
    /// @param evidenceHash Hash of the evidence document.
    /// @param evidenceCid Binary CID of the stored evidence.
    /// @return eventId The event's id.
    function recordWithEvidence(bytes32 subjectRef, uint256 terms, bytes32 evidenceHash, bytes calldata evidenceCid)
        external
        returns (bytes32 eventId);

    /// @notice Amends an event: corrected, withdrawn, repaired (credit repair), disputed or upheld.
    /// @param eventId The event.
    /// @param status The amendment.
    /// @param reasonHash Hash of the decision document explaining the amendment.
    function amend(bytes32 eventId, Amendment status, bytes32 reasonHash) external;

    /// @notice Sets how long a negative event of `category` is publicly disclosed (0: no limit).
    /// @param category The credit category.
    /// @param period Seconds after `occurredAt`.
    function setDisclosurePeriod(uint32 category, uint40 period) external;

    /// @notice The event as recorded (`recordedAt` 0 when unknown).
    /// @param eventId The event.
    /// @return The event.
    function eventOf(bytes32 eventId) external view returns (CreditEvent memory);

    /// @notice The event's amendment state.
    /// @param eventId The event.
    /// @return The latest amendment.
    function amendmentOf(bytes32 eventId) external view returns (AmendmentState memory);

    /// @notice Whether the event may be shown publicly at `timestamp`.
    /// @param eventId The event.
    /// @param timestamp UTC seconds.
    /// @return False for unknown, withdrawn, corrected or repaired events, and for negative events
    /// past their category's disclosure period.
    function isDisclosed(bytes32 eventId, uint40 timestamp) external view returns (bool);

    /// @notice The disclosure period of a category (0: no limit).
    /// @param category The credit category.
    /// @return Seconds.
    function disclosurePeriodOf(uint32 category) external view returns (uint40);

    /// @notice Packs recording terms: category << 56 | polarity << 48 | severity << 40 | occurredAt
    /// (CREDIT_TERMS_*_SHIFT in utils/RecordLayout.sol).
    /// @param category Credit category.
    /// @param polarity Negative or positive.
    /// @param severity 1 (minor) to 5.
    /// @param occurredAt When the fact occurred.
    /// @return terms The packed word.
    function encodeTerms(uint32 category, Polarity polarity, uint8 severity, uint40 occurredAt)
        external
        pure
        returns (uint256 terms);

    /// @notice The version of this contract (semantic versioning), so a client can check on chain
    /// that it talks to the contract it was built for: the major number changes with any change a
    /// client built for an earlier version cannot use (ABI, storage layout, packed terms).
    /// @return The version string, e.g. "1.0.0".
    function VERSION() external view returns (string memory);
}
