"""One exception hierarchy for everything the ledger raises.

Every error derives from :class:`LedgerError`; stdlib mix-ins (``ValueError``, ``LookupError``,
``PermissionError``, ``ConnectionError``) let callers catch by intent. Messages never carry personal
data: identifiers are referred to by kind ("citizen identity number"), never by value.
"""

from __future__ import annotations

from collections.abc import Sequence


class LedgerError(Exception):
    """Root of every error raised by the ledger library."""

    #: Stable machine-readable code, used by the CLI and the API's problem documents.
    code: str = "ledger_error"


class ConfigurationError(LedgerError):
    """The deployment's settings are missing, malformed or still hold a placeholder secret."""

    code = "configuration_error"


class CompilationError(LedgerError):
    """The contracts could not be compiled (a Solidity error, a bad configuration or no
    compiler), or a committed artifact is malformed.

    ``diagnostics`` holds one ``"file:line:column: Type: message"`` line per compiler error.
    """

    code = "compilation_error"

    def __init__(self, message: str, diagnostics: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.diagnostics: tuple[str, ...] = tuple(diagnostics)


class ArtifactNotFoundError(LedgerError, LookupError):
    """No compiled artifact exists under that contract name."""

    code = "artifact_not_found"


class InvalidIdentifierError(LedgerError, ValueError):
    """An identity number or enterprise credit code failed validation."""

    code = "invalid_identifier"


class InvalidDocumentError(LedgerError, ValueError):
    """A document or structured certificate cannot be parsed or hashed."""

    code = "invalid_document"


class ChainUnavailableError(LedgerError, ConnectionError):
    """The chain node could not be reached or answered with a transport error; safe to retry."""

    code = "chain_unavailable"
    retryable = True


class DataDirectoryLockedError(LedgerError):
    """Another process already holds the embedded chain in this data directory."""

    code = "data_directory_locked"


class ServiceRunningError(DataDirectoryLockedError):
    """A ``ledger serve`` already serves this data directory's service database (ADR 0021).

    Two services on one service database would each believe they own its write journal: one
    answers 409 for a document the other is anchoring, or marks failed what the other sent.
    """

    code = "service_running"


class ServiceDatabaseError(LedgerError):
    """The service database cannot be opened or written."""

    code = "service_database_error"


class BacklogFullError(LedgerError):
    """The department has as many unfinished operations as it may have: it may try again once
    some are finished (``retry_after`` seconds; ADR 0018)."""

    code = "too_many_operations"

    def __init__(self, limit: int, retry_after: int) -> None:
        super().__init__(
            f"this department has {limit} unfinished operations, as many as it may have; "
            "try again when some are finished"
        )
        self.limit = limit
        self.retry_after = retry_after


class InsufficientFundsError(LedgerError):
    """A signing key has too little balance to pay for gas; an operator must fund it."""

    code = "insufficient_funds"


class NotDeployedError(LedgerError, LookupError):
    """The ledger contracts are not deployed on this chain (run ``ledger init``)."""

    code = "not_deployed"


class NoLedgerError(NotDeployedError):
    """There is no ledger where the command looked: the data directory holds no embedded chain
    and no JSON-RPC node was named. Only ``ledger init`` creates one (ADR 0021)."""

    code = "no_ledger"

    @classmethod
    def at(cls, data_dir: object) -> NoLedgerError:
        """The error for ``data_dir``, saying how to point at a ledger."""
        return cls(
            f"no ledger in the data directory {data_dir}: point at one with --data-dir DIR "
            "(or LEDGER_DATA_DIR), or at a chain node with --rpc URL (or LEDGER_RPC_URL); "
            "`ledger init` creates one"
        )


class UnknownKeyError(LedgerError, LookupError):
    """No signing key for this department or role is in the keystore."""

    code = "unknown_key"


# ----------------------------------------------------------------------------------------------
# Intent categories. The API maps each to one HTTP status (api/problems.py).
# ----------------------------------------------------------------------------------------------


class NotAuthorizedError(LedgerError, PermissionError):
    """The signer may not do this (not accredited, suspended, wrong scope or region, ...)."""

    code = "not_authorized"


class NotFoundError(LedgerError, LookupError):
    """The record, department or key does not exist."""

    code = "not_found"


class DuplicateError(LedgerError):
    """The thing already exists; recording it twice is refused."""

    code = "duplicate"


class ConflictError(LedgerError):
    """The record's current state does not allow the change."""

    code = "conflict"


class ValidationError(LedgerError, ValueError):
    """An argument is malformed or out of range."""

    code = "invalid"


class IdempotencyConflictError(ValidationError):
    """The ``Idempotency-Key`` was used before for a different request."""

    code = "idempotency_conflict"


class BundleHolderMismatchError(ConflictError):
    """The certificate offered as a bundle part is not held by the bundle's enterprise.

    Refused by the ledger library before any transaction (ADR 0019): the certificate registry
    keeps the holder only in its anchoring event, which a contract cannot read. The message names
    the bundle part (index, department, type), never a holder.
    """

    code = "bundle_holder_mismatch"


class UnknownServiceError(NotFoundError):
    """No service in the service catalogue (ledger/data/services.toml) has that code.

    Its own code, not ``not_found``, so a page or script can tell a mistyped or retired service
    code from a record the chain lacks.
    """

    code = "unknown_service"


# Consent (ledger/service/consents.py): each refusal its own code, so a page can say which.


class ServiceNotForSubjectError(ValidationError):
    """The service does not serve this kind of subject (an enterprise-only service asked for by a
    citizen, say)."""

    code = "service_not_for_subject"


class ConsentDepartmentSuspendedError(ConflictError):
    """The department a consent would name is suspended by governance: it may receive none."""

    code = "department_suspended"


class ConsentNotFoundError(NotFoundError):
    """The subject has no consent with that id (another subject's consent is not theirs)."""

    code = "consent_not_found"


class ConsentNotActiveError(ConflictError):
    """The consent is revoked, used or expired already: there is nothing left to revoke."""

    code = "consent_not_active"


class ConsentRefusedError(NotAuthorizedError):
    """A window's redemption of a consent code is refused (403); the subclass says why."""

    code = "consent_refused"


class ConsentCodeUnknownError(ConsentRefusedError):
    """No live or past consent has that code (or the text is not a code at all).

    The same code as :class:`ConsentNotFoundError`, at the window's 403: the window learns
    nothing more about a wrong code than that it is wrong.
    """

    code = "consent_not_found"


class ConsentExpiredError(ConsentRefusedError):
    """The consent's time is over."""

    code = "consent_expired"


class ConsentRevokedError(ConsentRefusedError):
    """The subject revoked the consent."""

    code = "consent_revoked"


class ConsentUsedError(ConsentRefusedError):
    """A single-use consent was redeemed already."""

    code = "consent_used"


class ConsentOtherDepartmentError(ConsentRefusedError):
    """The consent names another department than the window's."""

    code = "consent_other_department"


class ConsentNotRedeemedError(ConsentRefusedError):
    """The window acts under a consent it has not redeemed: a code must be taken first."""

    code = "consent_not_redeemed"


class ConsentOutOfScopeError(ConsentRefusedError):
    """The window asks under a consent for what its service does not cover: a certificate type
    the service neither requires nor accepts, or the stored copy of a type whose content the
    service does not need (its ``content`` in ledger/data/services.toml; ADR 0027)."""

    code = "consent_out_of_scope"


class DocumentValidError(ConflictError):
    """A window reports as false information a document that verifies VALID: a valid document
    is not a forgery (409; ADR 0029)."""

    code = "document_valid"


class ForgeryNotSuspectedError(ConflictError):
    """A window reports as false information a document that is INVALID only in ways a damaged
    file or a recent anchoring explains (it does not parse; only finality or the service's copy
    failed): nothing to report (409; ADR 0029)."""

    code = "forgery_not_suspected"


class FalseInformationRecordedError(DuplicateError):
    """The reported document is already the evidence of a false-information event about the
    same subject (409): one document, one event, however often it is reported (ADR 0029)."""

    code = "false_information_recorded"


class AccessEntryNotFoundError(NotFoundError):
    """The subject's access log has no entry with that sequence number (another subject's entry
    is not theirs: the same answer, so a sequence number tells nobody whose it is)."""

    code = "access_entry_not_found"


class AccessEntryNotAnchoredError(ConflictError):
    """The access-log entry's batch is not anchored on chain yet: no proof exists until it is."""

    code = "not_anchored_yet"


class TooManyAttemptsError(LedgerError):
    """The department made too many failed redemptions lately; it may try again after
    ``retry_after`` seconds (the API answers 429)."""

    code = "too_many_attempts"

    def __init__(self, limit: int, window: int, retry_after: int) -> None:
        super().__init__(
            f"this department made {limit} failed consent redemptions in {window // 60} "
            "minutes; try again later"
        )
        self.retry_after = retry_after


# The service as the command line's HTTP client sees it (ledger/cli/service_client.py: `ledger
# window`): a problem document answered becomes the error of its kind, so the exit status says
# what kind of refusal it was.


class ServiceAnswerError(LedgerError):
    """The service answered with a problem document; ``status``, its ``code`` and ``detail``.
    The subclass is the kind of error, which says the exit status."""

    def __init__(self, status: int, code: str, detail: str, hint: str = "") -> None:
        super().__init__(f"the service answered {status} {code}: {detail}{hint}")
        self.status = status
        self.problem_code = code
        self.detail = detail


class ServiceRefusedError(ServiceAnswerError, NotAuthorizedError):
    """401 or 403: the token is not valid, or may not do this (exit 4)."""


class ServiceNotFoundError(ServiceAnswerError, NotFoundError):
    """404 (exit 3)."""


class ServiceConflictError(ServiceAnswerError, ConflictError):
    """409 (exit 5)."""


class ServiceInvalidError(ServiceAnswerError, ValidationError):
    """400, 413, 415, 422: the request was refused as malformed (exit 2)."""


class ServiceBusyError(ServiceAnswerError):
    """429: too many requests, too many failed consent redemptions, too many unfinished writes;
    retry after the time the message says (exit 12)."""


class ServiceUnavailableError(ServiceAnswerError, ChainUnavailableError):
    """503: the service's chain or document store does not answer; retry (exit 6)."""


class ServiceUnreachableError(ChainUnavailableError):
    """No HTTP answer at all: the service is not running there, or the network failed (exit 6)."""


class ContractError(LedgerError):
    """A custom error reverted by one of the ledger contracts, decoded from its ABI.

    The same class is raised whether the revert came from the embedded chain or a JSON-RPC node.
    Arguments are hashes, addresses and codes only; contracts never see personal data.
    """

    #: Name of the Solidity error (equal to the class name).
    error_name: str = ""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.error_name = cls.__name__

    def __init__(self, arguments: dict[str, object] | None = None) -> None:
        self.arguments: dict[str, object] = dict(arguments or {})
        summary = (self.__doc__ or self.error_name).strip().splitlines()[0].rstrip(".")
        detail = ", ".join(f"{name}={_show(value)}" for name, value in self.arguments.items())
        super().__init__(f"{summary} [{self.error_name}{': ' + detail if detail else ''}]")


def _show(value: object) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


# ----------------------------------------------------------------------------------------------
# One class per Solidity custom error (tests/unit/test_errors.py checks every ABI error has one).
# ----------------------------------------------------------------------------------------------


class AccessLogAnchorsDuplicateRoot(ContractError, DuplicateError):
    """This Merkle root of the access log is already anchored."""


class AccessLogAnchorsInvalidRange(ContractError, ValidationError):
    """The access-log range is empty or reversed (sequence numbers start at 1)."""


class AccessLogAnchorsInvalidRoot(ContractError, ValidationError):
    """The Merkle root of the access log is zero."""


class AccessLogAnchorsRangeNotAfter(ContractError, ConflictError):
    """The access-log range does not start after the last range anchored."""


class AccessLogAnchorsRenounceDisabled(ContractError, NotAuthorizedError):
    """Governance of the access-log anchors cannot be renounced."""


class AccreditationCacheStale(ContractError, ConflictError):
    """The contract's accreditation replica disagrees with the registry; governance must resync."""


class AccreditationDepartmentSuspended(ContractError, NotAuthorizedError):
    """The signing key's department is suspended."""


class AccreditationKeyExpired(ContractError, NotAuthorizedError):
    """The signing key's validity window has ended (expired or rotated out)."""


class AccreditationKeyNotYetValid(ContractError, NotAuthorizedError):
    """The signing key's validity window has not started."""


class AccreditationNotIssuer(ContractError, NotAuthorizedError):
    """The signing key's department is neither the record's issuer nor one of its supervisors."""


class AccreditationRegionNotCovered(ContractError, NotAuthorizedError):
    """The signing key's department does not serve the record's region."""


class AccreditationScopeNotGranted(ContractError, NotAuthorizedError):
    """The signing key's department is not accredited for this certificate type or category."""


class AccreditationUnauthorizedSync(ContractError, NotAuthorizedError):
    """Only the department registry may write the accreditation replica."""


class AccreditationUnknownSigner(ContractError, NotAuthorizedError):
    """The signing key is not accredited by any department."""


class CertificateRegistryAlreadyAnchored(ContractError, DuplicateError):
    """This document hash is already anchored."""


class CertificateRegistryInvalidExpiry(ContractError, ValidationError):
    """The expiry date is in the past."""


class CertificateRegistryInvalidHash(ContractError, ValidationError):
    """The document hash is zero."""


class CertificateRegistryInvalidRegion(ContractError, ValidationError):
    """The region code is not a six-digit GB/T 2260 code."""


class CertificateRegistryInvalidStatus(ContractError, ConflictError):
    """The certificate's current status does not allow this change."""


class CertificateRegistryInvalidTerms(ContractError, ValidationError):
    """The packed anchoring terms are malformed."""


class CertificateRegistryMissingReason(ContractError, ValidationError):
    """A non-zero reason code is required."""


class CertificateRegistryNotABatch(ContractError, ValidationError):
    """The record is not a Merkle batch root."""


class CertificateRegistryNotInBatch(ContractError, ValidationError):
    """The proof does not lead from the document hash to the batch root."""


class CertificateRegistryLeafAlreadyRevoked(ContractError, ConflictError):
    """This certificate of the batch is already revoked."""


class CertificateRegistryUnknownCertificate(ContractError, NotFoundError):
    """No certificate is anchored under this hash."""


class CreditLedgerDuplicateEvent(ContractError, DuplicateError):
    """This credit event (same subject, category, time and evidence) is already recorded."""


class CreditLedgerInvalidReference(ContractError, ValidationError):
    """The subject reference or evidence hash is zero."""


class CreditLedgerInvalidSeverity(ContractError, ValidationError):
    """Severity must be between 1 and 5."""


class CreditLedgerInvalidTerms(ContractError, ValidationError):
    """The packed recording terms are malformed."""


class CreditLedgerInvalidTransition(ContractError, ConflictError):
    """The credit event's current state does not allow this amendment."""


class CreditLedgerMissingReason(ContractError, ValidationError):
    """An amendment needs the hash of its reason document."""


class CreditLedgerOccurredInFuture(ContractError, ValidationError):
    """A credit event cannot have occurred in the future."""


class CreditLedgerUnauthorizedAccount(ContractError, NotAuthorizedError):
    """Only the governance authority may change disclosure periods."""


class CreditLedgerUnknownEvent(ContractError, NotFoundError):
    """No credit event has this id."""


class DepartmentRegistryDuplicateDepartment(ContractError, DuplicateError):
    """A department with this id is already registered."""


class DepartmentRegistryDuplicateScope(ContractError, DuplicateError):
    """The department already holds this scope."""


class DepartmentRegistryInvalidRegion(ContractError, ValidationError):
    """The region code is not a six-digit GB/T 2260 code."""


class DepartmentRegistryInvalidScope(ContractError, ValidationError):
    """The scope code is malformed."""


class DepartmentRegistryInvalidSigner(ContractError, DuplicateError):
    """The signing key is the zero address or already known (keys are never reused)."""


class DepartmentRegistryInvalidSink(ContractError, ValidationError):
    """The consumer contract or its kind is invalid."""


class DepartmentRegistryInvalidSupervisor(ContractError, ValidationError):
    """The supervisor would be the department itself or create a cycle."""


class DepartmentRegistryInvalidWindow(ContractError, ValidationError):
    """The key's validity window is empty or already over."""


class DepartmentRegistryLimitReached(ContractError, ConflictError):
    """The department already holds the maximum number of scopes or keys."""


class DepartmentRegistryRenounceDisabled(ContractError, NotAuthorizedError):
    """Governance cannot be renounced."""


class DepartmentRegistryScopeNotGranted(ContractError, ConflictError):
    """The department does not hold this scope."""


class DepartmentRegistrySuspensionUnchanged(ContractError, ConflictError):
    """The department is already in the requested suspension state."""


class DepartmentRegistryUnknownDepartment(ContractError, NotFoundError):
    """No department has this id."""


class DepartmentRegistryUnknownSigner(ContractError, NotFoundError):
    """The signing key is unknown or already retired."""


class LicenceBundlesDeadlinePassed(ContractError, ConflictError):
    """The bundle's deadline has passed."""


class LicenceBundlesInvalidBundle(ContractError, DuplicateError):
    """The bundle id is zero or already used."""


class LicenceBundlesInvalidDeadline(ContractError, ValidationError):
    """The bundle's deadline is not in the future."""


class LicenceBundlesInvalidParts(ContractError, ValidationError):
    """A bundle names 1 to 16 distinct parts of registered departments."""


class LicenceBundlesNotAuthorized(ContractError, NotAuthorizedError):
    """The key is not a current signing key of an unsuspended department."""


class LicenceBundlesPartAlreadyFiled(ContractError, DuplicateError):
    """The bundle part is already filed."""


class LicenceBundlesPartMismatch(ContractError, ConflictError):
    """The certificate is not an active document of the part's department and type."""


class LicenceBundlesUnknownBundle(ContractError, NotFoundError):
    """No bundle has this id."""


class LicenceBundlesUnknownPart(ContractError, NotFoundError):
    """The bundle has no part at this index."""


class LicenceBundlesWrongDepartment(ContractError, NotAuthorizedError):
    """The bundle part must be filed by another department."""


class OwnableInvalidOwner(ContractError, ValidationError):
    """The new governance account is invalid."""


class OwnableUnauthorizedAccount(ContractError, NotAuthorizedError):
    """Only the governance authority may do this."""


class UnknownContractError(ContractError):
    """A contract reverted with data that matches no known error."""


# ----------------------------------------------------------------------------------------------
# Finding a class again from its name, as the service's write journal stores a failure.
# ----------------------------------------------------------------------------------------------


def error_classes() -> dict[str, type[LedgerError]]:
    """:class:`LedgerError` and every subclass defined so far, wherever it is defined, by name.

    A journaled operation's failure is stored as its class name (``type(exc).__name__``), and
    some errors belong with their layer (``ledger.storage``, ``ledger.service.journal``,
    ``api.security``) rather than here: walking the subclasses finds them all, where a look-up in
    this module alone would miss them. Only the modules imported so far count: the service
    imports every module that defines one (tests/api/test_problems.py checks, and that names are
    unique; should two classes share one, the one nearer to LedgerError wins).
    """
    found: dict[str, type[LedgerError]] = {}
    level: list[type[LedgerError]] = [LedgerError]
    seen: set[type[LedgerError]] = set(level)
    while level:
        for cls in level:
            found.setdefault(cls.__name__, cls)
        below = (sub for cls in level for sub in cls.__subclasses__() if sub not in seen)
        level = list(dict.fromkeys(below))  # a class with two parents in ``level`` comes once
        seen.update(level)
    return found


def error_class(name: str) -> type[LedgerError] | None:
    """The ledger error class named ``name`` (a stored failure's class name), or None."""
    return error_classes().get(name)
