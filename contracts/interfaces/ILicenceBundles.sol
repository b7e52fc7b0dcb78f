// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Joint licensing (多证联办) interface
/// @notice A lead department opens a bundle for an enterprise naming the licences it needs, as
/// (department, certificate type) parts, and a deadline; each named department files its part,
/// a certificate it anchored in the certificate registry; the bundle completes when every part
/// is filed. Completeness is also a live view: a part revoked later makes it incomplete.
interface ILicenceBundles {
    /// @notice One required licence of a bundle.
    struct Part {
        // Department that must issue it.
        uint32 departmentId;
        // Certificate type it must have.
        uint32 certType;
    }

    /// @notice A bundle (two storage slots; the parts are stored apart).
    struct Bundle {
        // Department that opened it.
        uint32 lead;
        // Number of parts required.
        uint8 partCount;
        // Number of parts filed so far.
        uint8 filedCount;
        // Block timestamp of opening; 0 means the bundle does not exist.
        uint40 openedAt;
        // Last second at which parts may be filed.
        uint40 deadline;
        // Block timestamp at which the last part was filed; 0 while incomplete.
        uint40 completedAt;
        // HMAC subject reference of the enterprise (never its credit code).
        bytes32 subjectRef;
    }

    /// @notice The bundle id is zero or already used.
    error LicenceBundlesInvalidBundle(bytes32 bundleId);
    /// @notice No bundle has this id.
    error LicenceBundlesUnknownBundle(bytes32 bundleId);
    /// @notice Between 1 and 16 parts, each a registered department and a distinct pair.
    error LicenceBundlesInvalidParts();
    /// @notice The deadline is not in the future.
    error LicenceBundlesInvalidDeadline(uint40 deadline);
    /// @notice The key is not a current signing key of an unsuspended department.
    error LicenceBundlesNotAuthorized(address signer);
    /// @notice The bundle has no part at this index.
    error LicenceBundlesUnknownPart(bytes32 bundleId, uint8 index);
    /// @notice The part must be filed by another department.
    error LicenceBundlesWrongDepartment(bytes32 bundleId, uint8 index, uint32 departmentId);
    /// @notice The part is already filed.
    error LicenceBundlesPartAlreadyFiled(bytes32 bundleId, uint8 index);
    /// @notice The deadline has passed.
    error LicenceBundlesDeadlinePassed(bytes32 bundleId, uint40 deadline);
    /// @notice The certificate is not an active document of the part's department and type.
    error LicenceBundlesPartMismatch(bytes32 bundleId, uint8 index, bytes32 docHash);

    /// @notice A bundle was opened.
    /// @param bundleId The bundle.
    /// @param subjectRef The enterprise's subject reference.
    /// @param lead Department that opened it.
    /// @param deadline Last second for filing.
    /// @param parts The required parts.
    event BundleOpened(bytes32 indexed bundleId, bytes32 indexed subjectRef, uint32 lead, uint40 deadline, Part[] parts);

    /// @notice A part was filed.
    /// @param bundleId The bundle.
    /// @param index The part.
    /// @param docHash The certificate filed for it.
    /// @param departmentId The department that filed it.
    event BundlePartFiled(bytes32 indexed bundleId, uint8 index, bytes32 docHash, uint32 departmentId);

    /// @notice The last part was filed: every required licence is issued.
    /// @param bundleId The bundle.
    event BundleCompleted(bytes32 indexed bundleId);

    /// @notice Opens a bundle; the sender's department is its lead.
    /// @param bundleId A fresh non-zero id (e.g. a hash of the registration number).
    /// @param subjectRef The enterprise's subject reference.
    /// @param deadline Last second at which parts may be filed.
    /// @param parts The required (department, certificate type) pairs, 1 to 16.
    function openBundle(bytes32 bundleId, bytes32 subjectRef, uint40 deadline, Part[] calldata parts) external;

    /// @notice Files a part: a certificate the sender's department anchored, active, of the part's type.
    /// @param bundleId The bundle.
    /// @param index The part's index.
    /// @param docHash The certificate's document hash in the certificate registry.
    function filePart(bytes32 bundleId, uint8 index, bytes32 docHash) external;

    /// @notice A bundle (`openedAt` 0 when unknown).
    /// @param bundleId The bundle.
    /// @return The bundle.
    function bundleOf(bytes32 bundleId) external view returns (Bundle memory);

    /// @notice One part of a bundle and the certificate filed for it (zero while unfiled).
    /// @param bundleId The bundle.
    /// @param index The part's index.
    /// @return part The required department and type.
    /// @return docHash The filed certificate.
    function partOf(bytes32 bundleId, uint8 index) external view returns (Part memory part, bytes32 docHash);

    /// @notice Whether every part is filed and every filed certificate is active and unexpired now.
    /// @param bundleId The bundle.
    /// @return complete True when the bundle is complete at this moment.
    function isComplete(bytes32 bundleId) external view returns (bool complete);

    /// @notice The version of this contract (semantic versioning), so a client can check on chain
    /// that it talks to the contract it was built for: the major number changes with any change a
    /// client built for an earlier version cannot use (ABI, storage layout, packed terms).
    /// @return The version string, e.g. "1.0.0".
    function VERSION() external view returns (string memory);
}
