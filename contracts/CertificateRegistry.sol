// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ICertificateRegistry} from "./interfaces/ICertificateRegistry.sol";
import {IDepartmentRegistry} from "./interfaces/IDepartmentRegistry.sol";
import {AccreditationCache} from "./utils/AccreditationCache.sol";
import {
    CERT_TERMS_BITS,
    CERT_TERMS_REGION_SHIFT,
    CERT_TERMS_TYPE_SHIFT,
    LEAF_REVOKED_AT_SHIFT,
    LEAF_REVOKED_BY_SHIFT,
    RECORD_ANCHORED_AT_SHIFT,
    RECORD_ANCHORED_BLOCK_SHIFT,
    RECORD_CERT_TYPE_SHIFT,
    RECORD_EXPIRES_AT_SHIFT,
    RECORD_KIND_SHIFT,
    RECORD_REASON_SHIFT,
    RECORD_REGION_SHIFT,
    RECORD_STATUS_SHIFT
} from "./utils/RecordLayout.sol";

/// @title Certificate registry
/// @notice Departments anchor the fingerprints of the certificates and licences they issue and
/// manage their lifecycle. Anchoring writes one new storage slot and reads one slot of the
/// accreditation replica; subject references and CIDs are emitted, never stored.
/// @dev Gas on the hot path (`anchorCertificate`) is kept at or below a bare OpenAttestation
/// `issue` (docs/adr/0003): records are packed by hand into one word (Solidity splits a struct
/// assignment into one SSTORE per field), the record's slot is hashed once, and the two anchoring
/// functions are named so that their selectors sort first in the dispatcher.
contract CertificateRegistry is ICertificateRegistry, AccreditationCache {
    /*//////////////////////////////////////////////////////////////
                                CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ICertificateRegistry
    string public constant VERSION = "1.0.0";

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev Packed record layout (low to high bits): issuer 32 | certType 32 | region 24 |
    /// anchoredAt 40 | expiresAt 40 | anchoredBlock 40 | status 8 | kind 8 | reasonCode 16
    /// (offsets RECORD_*_SHIFT in utils/RecordLayout.sol).
    mapping(bytes32 docHash => uint256 packed) private _records;
    mapping(bytes32 oldHash => bytes32 newHash) private _successors;
    /// @dev Revoked certificates inside batches, by keccak256(abi.encode(root, docHash)); packed
    /// (low to high bits): reasonCode 16 | actor 32 | revokedAt 40 (offsets LEAF_*_SHIFT in
    /// utils/RecordLayout.sol). Keyed by document hash rather
    /// than leaf position: with sorted pairs a proof does not fix a position (docs/adr/0010).
    mapping(bytes32 leafKey => uint256 packed) private _revokedLeaves;

    /// @param registry The department registry whose grants this contract mirrors.
    constructor(IDepartmentRegistry registry) AccreditationCache(registry) {}

    /*//////////////////////////////////////////////////////////////
                                 ANCHORING
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ICertificateRegistry
    function anchorCertificate(bytes32 docHash, uint256 terms) external {
        _anchorTerms(docHash, terms);
        emit CertificateAnchored(docHash);
    }

    /// @inheritdoc ICertificateRegistry
    function anchorCertificateFor(bytes32 docHash, uint256 terms, bytes32 subjectRef, bytes calldata cid) external {
        _anchorTerms(docHash, terms);
        emit CertificateAnchoredFor(subjectRef, docHash, cid);
    }

    /// @inheritdoc ICertificateRegistry
    function supersede(
        bytes32 oldHash,
        bytes32 newHash,
        uint40 expiresAt,
        bytes32 subjectRef,
        bytes calldata cid,
        uint16 reasonCode
    ) external {
        Certificate memory old = _existing(oldHash);
        uint32 actor = _authorizeFor(msg.sender, old.certType, old.region, old.issuer);
        if (old.status != Status.Active && old.status != Status.Suspended) {
            revert CertificateRegistryInvalidStatus(oldHash, old.status);
        }
        _setStatus(oldHash, old, Status.Superseded, reasonCode, actor);
        _successors[oldHash] = newHash;
        _anchor(newHash, actor, old.certType, old.region, expiresAt, Kind.Document);
        if (subjectRef == bytes32(0) && cid.length == 0) emit CertificateAnchored(newHash);
        else emit CertificateAnchoredFor(subjectRef, newHash, cid);
        emit CertificateSuperseded(oldHash, newHash);
    }

    /// @inheritdoc ICertificateRegistry
    function anchorBatchedCertificates(bytes32 root, uint256 terms) external {
        if (terms >> CERT_TERMS_BITS != 0) revert CertificateRegistryInvalidTerms(terms);
        uint32 certType = uint32(terms >> CERT_TERMS_TYPE_SHIFT);
        uint24 region = uint24(terms >> CERT_TERMS_REGION_SHIFT);
        uint32 issuer = _authorize(msg.sender, certType, region);
        _anchor(root, issuer, certType, region, uint40(terms), Kind.BatchRoot);
        emit CertificateBatchAnchored(root);
    }

    /*//////////////////////////////////////////////////////////////
                                LIFECYCLE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ICertificateRegistry
    function revokeLeaf(bytes32 root, bytes32 docHash, bytes32[] calldata proof, uint16 reasonCode) external {
        Certificate memory record = _existing(root);
        if (record.kind != Kind.BatchRoot) revert CertificateRegistryNotABatch(root);
        uint32 actor = _authorizeFor(msg.sender, record.certType, record.region, record.issuer);
        if (record.status != Status.Active && record.status != Status.Suspended) {
            revert CertificateRegistryInvalidStatus(root, record.status);
        }
        if (!MerkleProof.verifyCalldata(proof, root, _leafNode(docHash))) {
            revert CertificateRegistryNotInBatch(root, docHash);
        }
        if (reasonCode == 0) revert CertificateRegistryMissingReason();
        bytes32 key = Hashes.efficientKeccak256(root, docHash);
        if (_revokedLeaves[key] != 0) revert CertificateRegistryLeafAlreadyRevoked(root, docHash);
        _revokedLeaves[key] = uint256(reasonCode) | (uint256(actor) << LEAF_REVOKED_BY_SHIFT)
            | (block.timestamp << LEAF_REVOKED_AT_SHIFT);
        emit CertificateLeafRevoked(root, docHash, reasonCode, actor);
    }

    /// @inheritdoc ICertificateRegistry
    function suspend(bytes32 docHash, uint16 reasonCode) external {
        Certificate memory record = _existing(docHash);
        uint32 actor = _authorizeFor(msg.sender, record.certType, record.region, record.issuer);
        if (record.status != Status.Active) revert CertificateRegistryInvalidStatus(docHash, record.status);
        _setStatus(docHash, record, Status.Suspended, reasonCode, actor);
    }

    /// @inheritdoc ICertificateRegistry
    function reinstate(bytes32 docHash) external {
        Certificate memory record = _existing(docHash);
        uint32 actor = _authorizeFor(msg.sender, record.certType, record.region, record.issuer);
        if (record.status != Status.Suspended) revert CertificateRegistryInvalidStatus(docHash, record.status);
        record.status = Status.Active;
        record.reasonCode = 0;
        _records[docHash] = _pack(record);
        emit CertificateStatusChanged(docHash, Status.Active, 0, actor);
    }

    /// @inheritdoc ICertificateRegistry
    function revoke(bytes32 docHash, uint16 reasonCode) external {
        Certificate memory record = _existing(docHash);
        uint32 actor = _authorizeFor(msg.sender, record.certType, record.region, record.issuer);
        if (record.status != Status.Active && record.status != Status.Suspended) {
            revert CertificateRegistryInvalidStatus(docHash, record.status);
        }
        _setStatus(docHash, record, Status.Revoked, reasonCode, actor);
    }

    /*//////////////////////////////////////////////////////////////
                                  VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ICertificateRegistry
    function certificateOf(bytes32 docHash) external view returns (Certificate memory) {
        return _unpack(_records[docHash]);
    }

    /// @inheritdoc ICertificateRegistry
    function leafStatusOf(bytes32 root, bytes32 docHash, bytes32[] calldata proof)
        external
        view
        returns (Status status, uint16 reasonCode, uint32 revokedBy, uint40 revokedAt)
    {
        Certificate memory record = _unpack(_records[root]);
        if (record.kind != Kind.BatchRoot || record.status == Status.None) return (Status.None, 0, 0, 0);
        if (!MerkleProof.verifyCalldata(proof, root, _leafNode(docHash))) return (Status.None, 0, 0, 0);
        uint256 revoked = _revokedLeaves[Hashes.efficientKeccak256(root, docHash)];
        (revokedBy, revokedAt) = (uint32(revoked >> LEAF_REVOKED_BY_SHIFT), uint40(revoked >> LEAF_REVOKED_AT_SHIFT));
        if (revoked != 0 && record.status != Status.Revoked) {
            return (Status.Revoked, uint16(revoked), revokedBy, revokedAt);
        }
        return (record.status, record.reasonCode, revokedBy, revokedAt);
    }

    /// @inheritdoc ICertificateRegistry
    function successorOf(bytes32 docHash) external view returns (bytes32) {
        return _successors[docHash];
    }

    /// @inheritdoc ICertificateRegistry
    function encodeTerms(uint32 certType, uint24 region, uint40 expiresAt) external pure returns (uint256 terms) {
        return (uint256(certType) << CERT_TERMS_TYPE_SHIFT) | (uint256(region) << CERT_TERMS_REGION_SHIFT)
            | uint256(expiresAt);
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNALS
    //////////////////////////////////////////////////////////////*/

    function _anchorTerms(bytes32 docHash, uint256 terms) private {
        if (terms >> CERT_TERMS_BITS != 0) revert CertificateRegistryInvalidTerms(terms);
        uint32 certType = uint32(terms >> CERT_TERMS_TYPE_SHIFT);
        uint24 region = uint24(terms >> CERT_TERMS_REGION_SHIFT);
        uint40 expiresAt = uint40(terms);
        uint32 issuer = _authorize(msg.sender, certType, region);
        _anchor(docHash, issuer, certType, region, expiresAt, Kind.Document);
    }

    function _anchor(bytes32 docHash, uint32 issuer, uint32 certType, uint24 region, uint40 expiresAt, Kind kind)
        private
    {
        if (docHash == bytes32(0)) revert CertificateRegistryInvalidHash();
        // A non-zero region that the issuer's grant covers is a valid six-digit code (Regions.covers).
        if (region == 0) revert CertificateRegistryInvalidRegion(region);
        if (expiresAt != 0 && expiresAt <= block.timestamp) revert CertificateRegistryInvalidExpiry(expiresAt);
        // The record's slot is computed once for the existence check and the write.
        bytes32 slot;
        assembly ("memory-safe") {
            mstore(0x00, docHash)
            mstore(0x20, _records.slot)
            slot := keccak256(0x00, 0x40)
        }
        uint256 existing;
        assembly ("memory-safe") {
            existing := sload(slot)
        }
        if (existing != 0) revert CertificateRegistryAlreadyAnchored(docHash);
        uint256 packed = uint256(issuer) | (uint256(certType) << RECORD_CERT_TYPE_SHIFT)
            | (uint256(region) << RECORD_REGION_SHIFT) | (block.timestamp << RECORD_ANCHORED_AT_SHIFT)
            | (uint256(expiresAt) << RECORD_EXPIRES_AT_SHIFT) | (block.number << RECORD_ANCHORED_BLOCK_SHIFT)
            | (uint256(uint8(Status.Active)) << RECORD_STATUS_SHIFT) | (uint256(uint8(kind)) << RECORD_KIND_SHIFT);
        assembly ("memory-safe") {
            sstore(slot, packed)
        }
    }

    function _setStatus(bytes32 docHash, Certificate memory record, Status status, uint16 reasonCode, uint32 actor)
        private
    {
        if (reasonCode == 0) revert CertificateRegistryMissingReason();
        record.status = status;
        record.reasonCode = reasonCode;
        _records[docHash] = _pack(record);
        emit CertificateStatusChanged(docHash, status, reasonCode, actor);
    }

    /// @dev A leaf's node is the hash of the document hash, so that no document (a 64-byte file
    /// made of two sibling nodes, say) can pass for an inner node of the tree.
    function _leafNode(bytes32 docHash) private pure returns (bytes32 node) {
        assembly ("memory-safe") {
            mstore(0x00, docHash)
            node := keccak256(0x00, 0x20)
        }
    }

    function _existing(bytes32 docHash) private view returns (Certificate memory record) {
        record = _unpack(_records[docHash]);
        if (record.status == Status.None) revert CertificateRegistryUnknownCertificate(docHash);
    }

    function _pack(Certificate memory record) private pure returns (uint256) {
        return uint256(record.issuer) | (uint256(record.certType) << RECORD_CERT_TYPE_SHIFT)
            | (uint256(record.region) << RECORD_REGION_SHIFT)
            | (uint256(record.anchoredAt) << RECORD_ANCHORED_AT_SHIFT)
            | (uint256(record.expiresAt) << RECORD_EXPIRES_AT_SHIFT)
            | (uint256(record.anchoredBlock) << RECORD_ANCHORED_BLOCK_SHIFT)
            | (uint256(uint8(record.status)) << RECORD_STATUS_SHIFT)
            | (uint256(uint8(record.kind)) << RECORD_KIND_SHIFT)
            | (uint256(record.reasonCode) << RECORD_REASON_SHIFT);
    }

    function _unpack(uint256 packed) private pure returns (Certificate memory) {
        return Certificate({
            issuer: uint32(packed),
            certType: uint32(packed >> RECORD_CERT_TYPE_SHIFT),
            region: uint24(packed >> RECORD_REGION_SHIFT),
            anchoredAt: uint40(packed >> RECORD_ANCHORED_AT_SHIFT),
            expiresAt: uint40(packed >> RECORD_EXPIRES_AT_SHIFT),
            anchoredBlock: uint40(packed >> RECORD_ANCHORED_BLOCK_SHIFT),
            status: Status(uint8(packed >> RECORD_STATUS_SHIFT)),
            kind: Kind(uint8(packed >> RECORD_KIND_SHIFT)),
            reasonCode: uint16(packed >> RECORD_REASON_SHIFT)
        });
    }
}
