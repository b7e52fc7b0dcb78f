// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Certificate registry interface
/// @notice Fingerprints of certificates and licences, keyed by document hash, with their lifecycle:
/// active -> suspended <-> active -> revoked (final); superseded (final) when replaced by a renewal or
/// correction; expiry is derived from `expiresAt`. Subject references and document CIDs travel in
/// events only.
interface ICertificateRegistry {
    /// @notice Lifecycle state. `None` means "never anchored".
    enum Status {
        None,
        Active,
        Suspended,
        Revoked,
        Superseded
    }

    /// @notice What the anchored hash stands for. Batches and bundles reuse the same record.
    enum Kind {
        Document,
        BatchRoot,
        BundlePart
    }

    /// @notice One anchored record (one storage slot).
    struct Certificate {
        // Department that anchored it.
        uint32 issuer;
        // Certificate type (scope kind 1).
        uint32 certType;
        // GB/T 2260 region the certificate belongs to.
        uint24 region;
        // Block timestamp of anchoring; the certificate is valid from then.
        uint40 anchoredAt;
        // First second at which it is expired; 0: never.
        uint40 expiresAt;
        // Block number of anchoring, for confirmation counting without an event lookup.
        uint40 anchoredBlock;
        // Current lifecycle state.
        Status status;
        // Single document, Merkle batch root or bundle part.
        Kind kind;
        // Reason code of the last suspension, revocation or supersession; 0 while active.
        uint16 reasonCode;
    }

    /// @notice The document hash is zero.
    error CertificateRegistryInvalidHash();
    /// @notice `terms` has bits set above bit 95.
    error CertificateRegistryInvalidTerms(uint256 terms);
    /// @notice The hash is already anchored: anchoring twice is an error, not a second record.
    error CertificateRegistryAlreadyAnchored(bytes32 docHash);
    /// @notice Nothing is anchored under this hash.
    error CertificateRegistryUnknownCertificate(bytes32 docHash);
    /// @notice The expiry is in the past.
    error CertificateRegistryInvalidExpiry(uint40 expiresAt);
    /// @notice The region code is not a six-digit GB/T 2260 code.
    error CertificateRegistryInvalidRegion(uint24 region);
    /// @notice The record's current status does not allow the requested change.
    error CertificateRegistryInvalidStatus(bytes32 docHash, Status current);
    /// @notice A reason code is required and must be non-zero.
    error CertificateRegistryMissingReason();
    /// @notice The record is not a Merkle batch root.
    error CertificateRegistryNotABatch(bytes32 root);
    /// @notice The proof does not lead from the document hash to the batch root.
    error CertificateRegistryNotInBatch(bytes32 root, bytes32 docHash);
    /// @notice This certificate of the batch is already revoked.
    error CertificateRegistryLeafAlreadyRevoked(bytes32 root, bytes32 docHash);

    /// @notice A certificate fingerprint was anchored without holder reference or stored copy.
    /// @dev `docHash` is not indexed: the record is found by hash in storage, and a topic would
    /// cost 119 gas more than data on the hot path. Indexers read it from the data.
    /// @param docHash The document hash.
    event CertificateAnchored(bytes32 docHash);

    /// @notice A certificate fingerprint was anchored for a holder, with its stored copy.
    /// @param docHash The document hash.
    /// @param subjectRef HMAC of the holder's identifier (never the identifier).
    /// @param cid Binary CID of the stored copy (empty when none).
    event CertificateAnchoredFor(bytes32 indexed subjectRef, bytes32 docHash, bytes cid);

    /// @notice The Merkle root of a batch of certificates was anchored. Its leaves are document
    /// hashes; a leaf's node is keccak256(docHash) and pairs are hashed sorted (docs/adr/0010).
    /// @param root The batch root.
    event CertificateBatchAnchored(bytes32 root);

    /// @notice One certificate inside a batch was revoked; the rest of the batch stands.
    /// @param root The batch root.
    /// @param docHash The revoked certificate's document hash.
    /// @param reasonCode Why.
    /// @param actor Department that revoked it.
    event CertificateLeafRevoked(bytes32 indexed root, bytes32 docHash, uint16 reasonCode, uint32 actor);

    /// @notice A certificate's status changed.
    /// @param docHash The certificate.
    /// @param status The new status.
    /// @param reasonCode Why (0 for reinstatement).
    /// @param actor Department that made the change.
    event CertificateStatusChanged(bytes32 indexed docHash, Status status, uint16 reasonCode, uint32 actor);

    /// @notice A certificate was replaced by a renewal or correction.
    /// @param oldHash The replaced certificate.
    /// @param newHash Its replacement.
    event CertificateSuperseded(bytes32 indexed oldHash, bytes32 indexed newHash);

    /// @notice Anchors a certificate's fingerprint (the cheapest path: no holder index, no copy).
    /// @param docHash Hash of the document (32 bytes, non-zero).
    /// @param terms `encodeTerms(certType, region, expiresAt)`: the sender must be accredited for the
    /// type, and the region must lie within its department's region.
    function anchorCertificate(bytes32 docHash, uint256 terms) external;

    /// @notice Anchors a certificate's fingerprint keyed to its holder, with its stored copy.
    /// @param docHash Hash of the document (32 bytes, non-zero).
    /// @param terms `encodeTerms(certType, region, expiresAt)`.
    /// @param subjectRef Subject reference of the holder.
    /// @param cid Binary CID of the stored copy, or empty.
    function anchorCertificateFor(bytes32 docHash, uint256 terms, bytes32 subjectRef, bytes calldata cid) external;

    /// @notice Anchors the Merkle root of a batch of certificates of one type and region: one
    /// record for any number of them. Suspending, reinstating or revoking the root acts on the
    /// whole batch; `revokeLeaf` revokes one certificate in it.
    /// @param root Merkle root over the certificates' document hashes (non-zero).
    /// @param terms `encodeTerms(certType, region, expiresAt)`, shared by every certificate.
    function anchorBatchedCertificates(bytes32 root, uint256 terms) external;

    /// @notice Revokes one certificate of an anchored batch for good.
    /// @param root The batch root (active or suspended).
    /// @param docHash The certificate's document hash.
    /// @param proof Merkle proof from the certificate to the root.
    /// @param reasonCode Non-zero reason code.
    function revokeLeaf(bytes32 root, bytes32 docHash, bytes32[] calldata proof, uint16 reasonCode) external;

    /// @notice The status of one certificate of a batch: `None` when the proof does not lead to an
    /// anchored batch root, `Revoked` when the certificate or the whole batch is revoked, else the
    /// root's status.
    /// @param root The batch root.
    /// @param docHash The certificate's document hash.
    /// @param proof Merkle proof from the certificate to the root.
    /// @return status The certificate's status.
    /// @return reasonCode The reason of a revocation or suspension (0 when active).
    /// @return revokedBy Department that revoked this certificate alone (0 when it was not).
    /// @return revokedAt Block timestamp of that revocation (0 when it was not).
    function leafStatusOf(bytes32 root, bytes32 docHash, bytes32[] calldata proof)
        external
        view
        returns (Status status, uint16 reasonCode, uint32 revokedBy, uint40 revokedAt);

    /// @notice Suspends an active certificate (for example pending an investigation).
    /// @param docHash The certificate.
    /// @param reasonCode Non-zero reason code.
    function suspend(bytes32 docHash, uint16 reasonCode) external;

    /// @notice Returns a suspended certificate to active.
    /// @param docHash The certificate.
    function reinstate(bytes32 docHash) external;

    /// @notice Revokes a certificate for good.
    /// @param docHash The certificate.
    /// @param reasonCode Non-zero reason code.
    function revoke(bytes32 docHash, uint16 reasonCode) external;

    /// @notice Replaces a certificate with a renewal or correction of the same type and region.
    /// @param oldHash The certificate being replaced; becomes `Superseded`.
    /// @param newHash The replacement, anchored by this call.
    /// @param expiresAt Expiry of the replacement (0: never).
    /// @param subjectRef Subject reference of the replacement's holder (zero: none).
    /// @param cid Binary CID of the replacement's stored copy, or empty.
    /// @param reasonCode Non-zero reason code.
    function supersede(
        bytes32 oldHash,
        bytes32 newHash,
        uint40 expiresAt,
        bytes32 subjectRef,
        bytes calldata cid,
        uint16 reasonCode
    ) external;

    /// @notice The record anchored under `docHash` (`status` None when there is none).
    /// @param docHash The document hash.
    /// @return The record.
    function certificateOf(bytes32 docHash) external view returns (Certificate memory);

    /// @notice The replacement of a superseded certificate (zero when none).
    /// @param docHash The superseded certificate.
    /// @return The replacement's hash.
    function successorOf(bytes32 docHash) external view returns (bytes32);

    /// @notice Packs anchoring terms into one word: certType << 64 | region << 40 | expiresAt
    /// (CERT_TERMS_TYPE_SHIFT and CERT_TERMS_REGION_SHIFT in utils/RecordLayout.sol).
    /// @param certType Certificate type.
    /// @param region GB/T 2260 region code.
    /// @param expiresAt First second of expiry (0: never).
    /// @return terms The packed word.
    function encodeTerms(uint32 certType, uint24 region, uint40 expiresAt) external pure returns (uint256 terms);

    /// @notice The version of this contract (semantic versioning), so a client can check on chain
    /// that it talks to the contract it was built for: the major number changes with any change a
    /// client built for an earlier version cannot use (ABI, storage layout, packed terms).
    /// @return The version string, e.g. "1.0.0".
    function VERSION() external view returns (string memory);
}
