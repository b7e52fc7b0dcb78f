// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ICreditLedger} from "./interfaces/ICreditLedger.sol";
import {IDepartmentRegistry} from "./interfaces/IDepartmentRegistry.sol";
import {AccreditationCache} from "./utils/AccreditationCache.sol";

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

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev Packed event (low to high bits): recorder 32 | category 32 | polarity 8 | severity 8 |
    /// occurredAt 40 | recordedAt 40. Written once, never again.
    mapping(bytes32 eventId => uint256 packed) private _events;
    /// @dev Packed amendment state: status 8 | amendedBy 32 | amendedAt 40 | count 16.
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
        uint256 count = uint16(state >> 80) + 1;
        _amendments[eventId] =
            uint256(uint8(status)) | (uint256(actor) << 8) | (block.timestamp << 40) | (count << 80);
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
            amendedBy: uint32(state >> 8),
            amendedAt: uint40(state >> 40),
            count: uint16(state >> 80)
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
        return (uint256(category) << 56) | (uint256(uint8(polarity)) << 48) | (uint256(severity) << 40)
            | uint256(occurredAt);
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNALS
    //////////////////////////////////////////////////////////////*/

    function _record(bytes32 subjectRef, uint256 terms, bytes32 evidenceHash) private returns (bytes32 eventId) {
        if (terms >> 88 != 0 || uint8(terms >> 48) > uint8(Polarity.Positive)) revert CreditLedgerInvalidTerms(terms);
        uint32 category = uint32(terms >> 56);
        uint32 recorder = _authorize(msg.sender, category, 0);
        if (subjectRef == bytes32(0) || evidenceHash == bytes32(0)) revert CreditLedgerInvalidReference();
        uint8 severity = uint8(terms >> 40);
        if (severity == 0 || severity > _MAX_SEVERITY) revert CreditLedgerInvalidSeverity(severity);
        uint40 occurredAt = uint40(terms);
        if (occurredAt > block.timestamp) revert CreditLedgerOccurredInFuture(occurredAt);
        eventId = keccak256(abi.encode(subjectRef, category, occurredAt, evidenceHash));
        if (_events[eventId] != 0) revert CreditLedgerDuplicateEvent(eventId);
        // The terms' low 88 bits are already laid out as occurredAt | severity | polarity | category;
        // the stored word puts recorder first and appends recordedAt.
        _events[eventId] = uint256(recorder) | (uint256(category) << 32) | (((terms >> 48) & 0xff) << 64)
            | (uint256(severity) << 72) | (uint256(occurredAt) << 80) | (block.timestamp << 120);
    }

    function _unpack(uint256 packed) private pure returns (CreditEvent memory) {
        return CreditEvent({
            recorder: uint32(packed),
            category: uint32(packed >> 32),
            polarity: Polarity(uint8(packed >> 64)),
            severity: uint8(packed >> 72),
            occurredAt: uint40(packed >> 80),
            recordedAt: uint40(packed >> 120)
        });
    }
}
