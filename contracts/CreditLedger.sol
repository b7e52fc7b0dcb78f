// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ICreditLedger} from "./interfaces/ICreditLedger.sol";
import {IDepartmentRegistry} from "./interfaces/IDepartmentRegistry.sol";
import {AccreditationCache} from "./utils/AccreditationCache.sol";
import {
    AMENDMENT_AT_SHIFT,
    AMENDMENT_BY_SHIFT,
    AMENDMENT_COUNT_SHIFT,
    CREDIT_TERMS_BITS,
    CREDIT_TERMS_CATEGORY_SHIFT,
    CREDIT_TERMS_POLARITY_SHIFT,
    CREDIT_TERMS_SEVERITY_SHIFT,
    EVENT_CATEGORY_SHIFT,
    EVENT_OCCURRED_AT_SHIFT,
    EVENT_POLARITY_SHIFT,
    EVENT_RECORDED_AT_SHIFT,
    EVENT_SEVERITY_SHIFT
} from "./utils/RecordLayout.sol";

/// @title Credit ledger
/// @notice Departments record credit events about subjects; events are append-only and amended
/// only by further records. Recording writes one new slot and reads one slot of the accreditation
/// replica. Events are found by subject through the indexed `subjectRef` topic.
/// @dev Event ids are derived from the content (subject, category, time, evidence), so a client can
/// compute the id before sending and a resubmission is refused as a duplicate.
contract CreditLedger is ICreditLedger, AccreditationCache {
    /*//////////////////////////////////////////////////////////////
                                CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @dev Allowed amendments: bit (8 * from + to) is set when `from` may become `to`.
    /// None      -> Corrected, Withdrawn, Repaired, Disputed
    /// Corrected -> Withdrawn, Repaired, Disputed
    /// Withdrawn -> (final)
    /// Repaired  -> Withdrawn
    /// Disputed  -> Corrected, Withdrawn, Upheld
    /// Upheld    -> Withdrawn, Repaired, Disputed
    uint256 private constant _TRANSITIONS = 0x1c2604001c1e;

    uint8 private constant _MAX_SEVERITY = 5;

    /// @inheritdoc ICreditLedger
    string public constant VERSION = "1.0.0";

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev Packed event (low to high bits): recorder 32 | category 32 | polarity 8 | severity 8 |
    /// occurredAt 40 | recordedAt 40 (offsets EVENT_*_SHIFT in utils/RecordLayout.sol). Written once,
    /// never again.
    mapping(bytes32 eventId => uint256 packed) private _events;
    /// @dev Packed amendment state: status 8 | amendedBy 32 | amendedAt 40 | count 16 (offsets
    /// AMENDMENT_*_SHIFT in utils/RecordLayout.sol).
    mapping(bytes32 eventId => uint256 packed) private _amendments;
    mapping(uint32 category => uint40 period) private _disclosurePeriods;

    /// @param registry The department registry whose grants this contract mirrors.
    constructor(IDepartmentRegistry registry) AccreditationCache(registry) {}

    /*//////////////////////////////////////////////////////////////
                                  WRITES
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ICreditLedger
    function record(bytes32 subjectRef, uint256 terms, bytes32 evidenceHash) external returns (bytes32 eventId) {
        eventId = _record(subjectRef, terms, evidenceHash);
        emit CreditEventRecorded(eventId, subjectRef, evidenceHash);
    }

    /// @inheritdoc ICreditLedger
    function recordWithEvidence(bytes32 subjectRef, uint256 terms, bytes32 evidenceHash, bytes calldata evidenceCid)
        external
        returns (bytes32 eventId)
    {
        eventId = _record(subjectRef, terms, evidenceHash);
        emit CreditEventRecordedWithEvidence(eventId, subjectRef, evidenceHash, evidenceCid);
    }

    /// @inheritdoc ICreditLedger
    function amend(bytes32 eventId, Amendment status, bytes32 reasonHash) external {
        CreditEvent memory creditEvent = _unpack(_events[eventId]);
        // Existence test: a recorded event holds its (non-zero) block time, an unknown one 0.
        // slither-disable-next-line incorrect-equality
        if (creditEvent.recordedAt == 0) revert CreditLedgerUnknownEvent(eventId);
        uint32 actor = _authorizeFor(msg.sender, creditEvent.category, 0, creditEvent.recorder);
        if (reasonHash == bytes32(0)) revert CreditLedgerMissingReason();
        uint256 state = _amendments[eventId];
        Amendment current = Amendment(uint8(state));
        bool allowed = (_TRANSITIONS >> (8 * uint256(current) + uint256(status))) & 1 == 1;
        if (!allowed || (status == Amendment.Repaired && creditEvent.polarity != Polarity.Negative)) {
            revert CreditLedgerInvalidTransition(eventId, current, status);
        }
        uint256 count = uint16(state >> AMENDMENT_COUNT_SHIFT) + 1;
        _amendments[eventId] = uint256(uint8(status)) | (uint256(actor) << AMENDMENT_BY_SHIFT)
            | (block.timestamp << AMENDMENT_AT_SHIFT) | (count << AMENDMENT_COUNT_SHIFT);
        emit CreditEventAmended(eventId, status, reasonHash, actor);
    }

    /// @inheritdoc ICreditLedger
    function setDisclosurePeriod(uint32 category, uint40 period) external {
        if (msg.sender != DEPARTMENT_REGISTRY.owner()) revert CreditLedgerUnauthorizedAccount(msg.sender);
        _disclosurePeriods[category] = period;
        emit DisclosurePeriodChanged(category, period);
    }

    /*//////////////////////////////////////////////////////////////
                                  VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ICreditLedger
    function eventOf(bytes32 eventId) external view returns (CreditEvent memory) {
        return _unpack(_events[eventId]);
    }

    /// @inheritdoc ICreditLedger
    function amendmentOf(bytes32 eventId) external view returns (AmendmentState memory) {
        uint256 state = _amendments[eventId];
        return AmendmentState({
            status: Amendment(uint8(state)),
            amendedBy: uint32(state >> AMENDMENT_BY_SHIFT),
            amendedAt: uint40(state >> AMENDMENT_AT_SHIFT),
            count: uint16(state >> AMENDMENT_COUNT_SHIFT)
        });
    }

    /// @inheritdoc ICreditLedger
    function isDisclosed(bytes32 eventId, uint40 timestamp) external view returns (bool) {
        CreditEvent memory creditEvent = _unpack(_events[eventId]);
        // Existence test: a recorded event holds its (non-zero) block time, an unknown one 0.
        // slither-disable-next-line incorrect-equality
        if (creditEvent.recordedAt == 0) return false;
        Amendment status = Amendment(uint8(_amendments[eventId]));
        if (status == Amendment.Withdrawn || status == Amendment.Corrected || status == Amendment.Repaired) {
            return false;
        }
        // Compares an enum member; no balance or time is involved.
        // slither-disable-next-line incorrect-equality
        if (creditEvent.polarity == Polarity.Positive) return true;
        uint40 period = _disclosurePeriods[creditEvent.category];
        return period == 0 || uint256(timestamp) < uint256(creditEvent.occurredAt) + period;
    }

    /// @inheritdoc ICreditLedger
    function disclosurePeriodOf(uint32 category) external view returns (uint40) {
        return _disclosurePeriods[category];
    }

    /// @inheritdoc ICreditLedger
    function encodeTerms(uint32 category, Polarity polarity, uint8 severity, uint40 occurredAt)
        external
        pure
        returns (uint256 terms)
    {
        return (uint256(category) << CREDIT_TERMS_CATEGORY_SHIFT)
            | (uint256(uint8(polarity)) << CREDIT_TERMS_POLARITY_SHIFT)
            | (uint256(severity) << CREDIT_TERMS_SEVERITY_SHIFT) | uint256(occurredAt);
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNALS
    //////////////////////////////////////////////////////////////*/

    function _record(bytes32 subjectRef, uint256 terms, bytes32 evidenceHash) private returns (bytes32 eventId) {
        if (terms >> CREDIT_TERMS_BITS != 0 || uint8(terms >> CREDIT_TERMS_POLARITY_SHIFT) > uint8(Polarity.Positive)) {
            revert CreditLedgerInvalidTerms(terms);
        }
        uint32 category = uint32(terms >> CREDIT_TERMS_CATEGORY_SHIFT);
        uint32 recorder = _authorize(msg.sender, category, 0);
        if (subjectRef == bytes32(0) || evidenceHash == bytes32(0)) revert CreditLedgerInvalidReference();
        uint8 severity = uint8(terms >> CREDIT_TERMS_SEVERITY_SHIFT);
        if (severity == 0 || severity > _MAX_SEVERITY) revert CreditLedgerInvalidSeverity(severity);
        uint40 occurredAt = uint40(terms);
        if (occurredAt > block.timestamp) revert CreditLedgerOccurredInFuture(occurredAt);
        eventId = keccak256(abi.encode(subjectRef, category, occurredAt, evidenceHash));
        if (_events[eventId] != 0) revert CreditLedgerDuplicateEvent(eventId);
        // The terms' low 88 bits are already laid out as occurredAt | severity | polarity | category;
        // the stored word puts recorder first and appends recordedAt.
        _events[eventId] = uint256(recorder) | (uint256(category) << EVENT_CATEGORY_SHIFT)
            | (((terms >> CREDIT_TERMS_POLARITY_SHIFT) & 0xff) << EVENT_POLARITY_SHIFT)
            | (uint256(severity) << EVENT_SEVERITY_SHIFT) | (uint256(occurredAt) << EVENT_OCCURRED_AT_SHIFT)
            | (block.timestamp << EVENT_RECORDED_AT_SHIFT);
    }

    function _unpack(uint256 packed) private pure returns (CreditEvent memory) {
        return CreditEvent({
            recorder: uint32(packed),
            category: uint32(packed >> EVENT_CATEGORY_SHIFT),
            polarity: Polarity(uint8(packed >> EVENT_POLARITY_SHIFT)),
            severity: uint8(packed >> EVENT_SEVERITY_SHIFT),
            occurredAt: uint40(packed >> EVENT_OCCURRED_AT_SHIFT),
            recordedAt: uint40(packed >> EVENT_RECORDED_AT_SHIFT)
        });
    }
}
