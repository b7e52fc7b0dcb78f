// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ICertificateRegistry} from "./interfaces/ICertificateRegistry.sol";
import {IDepartmentRegistry} from "./interfaces/IDepartmentRegistry.sol";
import {ILicenceBundles} from "./interfaces/ILicenceBundles.sol";

/// @title Joint licensing bundles (多证联办)
/// @notice One enterprise registration, a bundle of licences from several departments. The
/// certificates themselves are anchored in the certificate registry as usual; a bundle only
/// names which it needs and records which were filed. Nothing here touches the anchoring hot path.
/// @dev Accreditation is read from the department registry directly: bundles are rare, so the
/// push replica of the certificate registry (ADR 0001) is not worth its upkeep here.
contract LicenceBundles is ILicenceBundles {
    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @notice Most parts a bundle may name.
    uint256 public constant MAX_PARTS = 16;
    /// @inheritdoc ILicenceBundles
    string public constant VERSION = "1.0.0";

    IDepartmentRegistry private immutable _registry;
    ICertificateRegistry private immutable _certificates;

    mapping(bytes32 bundleId => Bundle) private _bundles;
    mapping(bytes32 bundleId => mapping(uint256 index => Part)) private _parts;
    mapping(bytes32 bundleId => mapping(uint256 index => bytes32 docHash)) private _filed;

    /// @param registry The department registry (who may act).
    /// @param certificates The certificate registry (what was issued).
    constructor(IDepartmentRegistry registry, ICertificateRegistry certificates) {
        _registry = registry;
        _certificates = certificates;
    }

    /*//////////////////////////////////////////////////////////////
                                  LOGIC
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ILicenceBundles
    function openBundle(bytes32 bundleId, bytes32 subjectRef, uint40 deadline, Part[] calldata parts) external {
        uint32 lead = _activeDepartment(msg.sender);
        if (bundleId == bytes32(0) || _bundles[bundleId].openedAt != 0) revert LicenceBundlesInvalidBundle(bundleId);
        if (deadline <= block.timestamp) revert LicenceBundlesInvalidDeadline(deadline);
        uint256 count = parts.length;
        if (count == 0 || count > MAX_PARTS) revert LicenceBundlesInvalidParts();
        for (uint256 i = 0; i < count; ++i) {
            Part calldata part = parts[i];
            // Only the department record is needed; its name hash is left out on purpose.
            // slither-disable-next-line unused-return
            (IDepartmentRegistry.Department memory department,) = _registry.departmentOf(part.departmentId);
            if (department.registeredAt == 0 || part.certType == 0) revert LicenceBundlesInvalidParts();
            for (uint256 j = 0; j < i; ++j) {
                if (parts[j].departmentId == part.departmentId && parts[j].certType == part.certType) {
                    revert LicenceBundlesInvalidParts();
                }
            }
            _parts[bundleId][i] = part;
        }
        _bundles[bundleId] = Bundle({
            lead: lead,
            partCount: uint8(count),
            filedCount: 0,
            openedAt: uint40(block.timestamp),
            deadline: deadline,
            completedAt: 0,
            subjectRef: subjectRef
        });
        emit BundleOpened(bundleId, subjectRef, lead, deadline, parts);
    }

    /// @inheritdoc ILicenceBundles
    function filePart(bytes32 bundleId, uint8 index, bytes32 docHash) external {
        Bundle memory bundle = _bundles[bundleId];
        // Existence test: an opened bundle holds its (non-zero) block time, an unknown one 0.
        // slither-disable-next-line incorrect-equality
        if (bundle.openedAt == 0) revert LicenceBundlesUnknownBundle(bundleId);
        if (index >= bundle.partCount) revert LicenceBundlesUnknownPart(bundleId, index);
        uint32 departmentId = _activeDepartment(msg.sender);
        Part memory part = _parts[bundleId][index];
        if (departmentId != part.departmentId) revert LicenceBundlesWrongDepartment(bundleId, index, departmentId);
        if (block.timestamp > bundle.deadline) revert LicenceBundlesDeadlinePassed(bundleId, bundle.deadline);
        if (_filed[bundleId][index] != bytes32(0)) revert LicenceBundlesPartAlreadyFiled(bundleId, index);
        ICertificateRegistry.Certificate memory record = _certificates.certificateOf(docHash);
        if (
            record.status != ICertificateRegistry.Status.Active || record.issuer != part.departmentId
                || record.certType != part.certType || record.kind != ICertificateRegistry.Kind.Document
        ) revert LicenceBundlesPartMismatch(bundleId, index, docHash);
        _filed[bundleId][index] = docHash;
        bundle.filedCount += 1;
        // A counter meeting its target: it grows by one per part (each index is filed once, every
        // index is below partCount), so it reaches partCount exactly and never passes it.
        // slither-disable-next-line incorrect-equality
        if (bundle.filedCount == bundle.partCount) bundle.completedAt = uint40(block.timestamp);
        _bundles[bundleId] = bundle;
        emit BundlePartFiled(bundleId, index, docHash, departmentId);
        if (bundle.completedAt != 0) emit BundleCompleted(bundleId);
    }

    /*//////////////////////////////////////////////////////////////
                                  VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ILicenceBundles
    function bundleOf(bytes32 bundleId) external view returns (Bundle memory) {
        return _bundles[bundleId];
    }

    /// @inheritdoc ILicenceBundles
    function partOf(bytes32 bundleId, uint8 index) external view returns (Part memory part, bytes32 docHash) {
        return (_parts[bundleId][index], _filed[bundleId][index]);
    }

    /// @inheritdoc ILicenceBundles
    function isComplete(bytes32 bundleId) external view returns (bool complete) {
        Bundle memory bundle = _bundles[bundleId];
        // Existence test (block time 0: never opened) and the exact counter of filePart.
        // slither-disable-next-line incorrect-equality
        if (bundle.openedAt == 0 || bundle.filedCount != bundle.partCount) return false;
        for (uint256 i = 0; i < bundle.partCount; ++i) {
            ICertificateRegistry.Certificate memory record = _certificates.certificateOf(_filed[bundleId][i]);
            if (record.status != ICertificateRegistry.Status.Active) return false;
            if (record.expiresAt != 0 && record.expiresAt <= block.timestamp) return false;
        }
        return true;
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNALS
    //////////////////////////////////////////////////////////////*/

    /// @dev The department of a key that may sign now: in its window, department not suspended.
    function _activeDepartment(address signer) private view returns (uint32 departmentId) {
        IDepartmentRegistry.SignerKey memory key = _registry.signerKey(signer);
        departmentId = key.departmentId;
        // An open-ended window is stored with the largest end, so one comparison covers both.
        if (departmentId == 0 || block.timestamp < key.validFrom || block.timestamp >= key.validUntil) {
            revert LicenceBundlesNotAuthorized(signer);
        }
        // Only the department record is needed; its name hash is left out on purpose.
        // slither-disable-next-line unused-return
        (IDepartmentRegistry.Department memory department,) = _registry.departmentOf(departmentId);
        if (department.suspended) revert LicenceBundlesNotAuthorized(signer);
    }
}
