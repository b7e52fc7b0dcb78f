// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

// The bit offsets of every word the contracts pack by hand, named once. Each word is listed low
// to high; a field at offset 0 needs no shift and has no name. The contracts pack records into
// one storage word because Solidity splits a struct assignment into one SSTORE per field
// (docs/adr/0003); these are compile-time constants, so the bytecode is the same as with the
// bare numbers. The terms offsets are also the Python encoders' (`encode_terms` of the
// certificate and credit clients), which tests/contracts check against `encodeTerms` on chain.

/*//////////////////////////////////////////////////////////////
              CERTIFICATE TERMS (ICertificateRegistry.encodeTerms)
//////////////////////////////////////////////////////////////*/
// expiresAt 40 | region 24 | certType 32; the bits above must be zero.

/// @dev Offset of the certificate type in certificate terms.
uint256 constant CERT_TERMS_TYPE_SHIFT = 64;
/// @dev Offset of the region in certificate terms.
uint256 constant CERT_TERMS_REGION_SHIFT = 40;
/// @dev Width of certificate terms: any bit at or above it makes the terms invalid.
uint256 constant CERT_TERMS_BITS = 96;

/*//////////////////////////////////////////////////////////////
            CERTIFICATE RECORD (CertificateRegistry storage)
//////////////////////////////////////////////////////////////*/
// issuer 32 | certType 32 | region 24 | anchoredAt 40 | expiresAt 40 | anchoredBlock 40 |
// status 8 | kind 8 | reasonCode 16.

/// @dev Offset of the certificate type in a certificate record.
uint256 constant RECORD_CERT_TYPE_SHIFT = 32;
/// @dev Offset of the region in a certificate record.
uint256 constant RECORD_REGION_SHIFT = 64;
/// @dev Offset of the anchoring block time in a certificate record.
uint256 constant RECORD_ANCHORED_AT_SHIFT = 88;
/// @dev Offset of the expiry in a certificate record.
uint256 constant RECORD_EXPIRES_AT_SHIFT = 128;
/// @dev Offset of the anchoring block number in a certificate record.
uint256 constant RECORD_ANCHORED_BLOCK_SHIFT = 168;
/// @dev Offset of the status in a certificate record.
uint256 constant RECORD_STATUS_SHIFT = 208;
/// @dev Offset of the kind (document or batch root) in a certificate record.
uint256 constant RECORD_KIND_SHIFT = 216;
/// @dev Offset of the last status change's reason code in a certificate record.
uint256 constant RECORD_REASON_SHIFT = 224;

/*//////////////////////////////////////////////////////////////
          REVOKED BATCH LEAF (CertificateRegistry storage)
//////////////////////////////////////////////////////////////*/
// reasonCode 16 | revokedBy 32 | revokedAt 40.

/// @dev Offset of the revoking department in a revoked leaf's word.
uint256 constant LEAF_REVOKED_BY_SHIFT = 16;
/// @dev Offset of the revocation block time in a revoked leaf's word.
uint256 constant LEAF_REVOKED_AT_SHIFT = 48;

/*//////////////////////////////////////////////////////////////
                CREDIT TERMS (ICreditLedger.encodeTerms)
//////////////////////////////////////////////////////////////*/
// occurredAt 40 | severity 8 | polarity 8 | category 32; the bits above must be zero.

/// @dev Offset of the credit category in credit terms.
uint256 constant CREDIT_TERMS_CATEGORY_SHIFT = 56;
/// @dev Offset of the polarity in credit terms.
uint256 constant CREDIT_TERMS_POLARITY_SHIFT = 48;
/// @dev Offset of the severity in credit terms.
uint256 constant CREDIT_TERMS_SEVERITY_SHIFT = 40;
/// @dev Width of credit terms: any bit at or above it makes the terms invalid.
uint256 constant CREDIT_TERMS_BITS = 88;

/*//////////////////////////////////////////////////////////////
                 CREDIT EVENT (CreditLedger storage)
//////////////////////////////////////////////////////////////*/
// recorder 32 | category 32 | polarity 8 | severity 8 | occurredAt 40 | recordedAt 40.

/// @dev Offset of the credit category in a credit event.
uint256 constant EVENT_CATEGORY_SHIFT = 32;
/// @dev Offset of the polarity in a credit event.
uint256 constant EVENT_POLARITY_SHIFT = 64;
/// @dev Offset of the severity in a credit event.
uint256 constant EVENT_SEVERITY_SHIFT = 72;
/// @dev Offset of the time the event occurred in a credit event.
uint256 constant EVENT_OCCURRED_AT_SHIFT = 80;
/// @dev Offset of the recording block time in a credit event.
uint256 constant EVENT_RECORDED_AT_SHIFT = 120;

/*//////////////////////////////////////////////////////////////
              AMENDMENT STATE (CreditLedger storage)
//////////////////////////////////////////////////////////////*/
// status 8 | amendedBy 32 | amendedAt 40 | count 16.

/// @dev Offset of the amending department in an amendment state.
uint256 constant AMENDMENT_BY_SHIFT = 8;
/// @dev Offset of the amendment block time in an amendment state.
uint256 constant AMENDMENT_AT_SHIFT = 40;
/// @dev Offset of the number of amendments in an amendment state.
uint256 constant AMENDMENT_COUNT_SHIFT = 80;

/*//////////////////////////////////////////////////////////////
              REPLICA GRANT (AccreditationCache storage)
//////////////////////////////////////////////////////////////*/
// departmentId 32 | region 24 | validFrom 40 | validUntil 40 | active 1.

/// @dev Offset of the department's region in a replica grant.
uint256 constant GRANT_REGION_SHIFT = 32;
/// @dev Offset of the key window's start in a replica grant.
uint256 constant GRANT_VALID_FROM_SHIFT = 56;
/// @dev Offset of the key window's end in a replica grant.
uint256 constant GRANT_VALID_UNTIL_SHIFT = 96;
/// @dev Offset of the active flag (scope granted, department not suspended) in a replica grant.
uint256 constant GRANT_ACTIVE_SHIFT = 136;

/*//////////////////////////////////////////////////////////////
                  SCOPE CODE (certificate type or credit category)
//////////////////////////////////////////////////////////////*/

/// @dev Offset of a scope code's kind (1 certificate type, 2 credit category): its top byte.
uint256 constant SCOPE_KIND_SHIFT = 24;
