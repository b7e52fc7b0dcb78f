// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IAccreditationSink} from "./interfaces/IAccreditationSink.sol";
import {IDepartmentRegistry} from "./interfaces/IDepartmentRegistry.sol";
import {SCOPE_KIND_SHIFT} from "./utils/RecordLayout.sol";
import {Regions} from "./utils/Regions.sol";

/// @title Department registry
/// @notice The governance authority's record of which departments are accredited, for which region
/// and scopes, with which signing keys, and when. History is kept (key windows, scope windows,
/// suspension windows) so a verifier can ask whether a signer was authorized at any past moment:
/// rotation and suspension never invalidate records made before them.
/// @dev Changes take effect at once for new writes (the consumers' replicas are updated in the same
/// transaction), so every record that exists from the second of a change was made before it. The
/// history therefore counts the whole second of a change on the earlier side: a suspension or a
/// scope withdrawal at time t is recorded from t + 1, a key retired at t was valid through t, a
/// reinstatement or a grant at t counts from t. Records made earlier in the same block or second
/// as a change stay valid, as the trust model requires (docs/architecture.md, "Trust model").
///
/// Scopes are uint32: the high byte is the kind (1: certificate type, 2: credit category), which
/// selects the consumer contract ("sink") that receives the grant replica for its hot path.
contract DepartmentRegistry is IDepartmentRegistry, Ownable2Step {
    /*//////////////////////////////////////////////////////////////
                                CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Most scopes one department may hold at once.
    uint256 public constant MAX_SCOPES = 32;
    /// @notice Most unretired signing keys one department may hold at once.
    uint256 public constant MAX_SIGNERS = 4;
    /// @notice Highest scope kind (1: certificate types, 2: credit categories).
    uint8 public constant MAX_KIND = 2;
    /// @inheritdoc IDepartmentRegistry
    string public constant VERSION = "1.0.0";

    uint40 private constant _OPEN = type(uint40).max;

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    mapping(uint32 departmentId => Department department) private _departments;
    mapping(uint32 departmentId => bytes32 nameHash) private _nameHashes;
    mapping(uint32 departmentId => uint32[] scopes) private _scopes;
    // False positive: written only through storage references (`signers.push` in _addSigner, the
    // swap-and-pop in _retireSigner), which the detector does not follow; signersOf reads them back.
    // slither-disable-next-line uninitialized-state
    mapping(uint32 departmentId => address[] signers) private _signers;
    mapping(address signer => SignerKey key) private _keys;
    mapping(uint32 departmentId => mapping(uint32 scope => Window[] windows)) private _scopeWindows;
    mapping(uint32 departmentId => Window[] windows) private _suspensions;
    mapping(uint8 kind => IAccreditationSink sink) private _sinks;

    /// @param governance The governance authority (an account or a multi-signature contract).
    constructor(address governance) Ownable(governance) {}

    /*//////////////////////////////////////////////////////////////
                               GOVERNANCE
    //////////////////////////////////////////////////////////////*/

    /// @notice Accredits a department.
    /// @param departmentId Non-zero id chosen by governance; never reused.
    /// @param region GB/T 2260 six-digit region code the department serves.
    /// @param nameHash Hash of the department's official name (the name itself stays off chain).
    /// @param scopes Certificate types and credit categories granted from now on.
    function registerDepartment(uint32 departmentId, uint24 region, bytes32 nameHash, uint32[] calldata scopes)
        external
        onlyOwner
    {
        if (departmentId == 0) revert DepartmentRegistryUnknownDepartment(departmentId);
        if (_departments[departmentId].registeredAt != 0) revert DepartmentRegistryDuplicateDepartment(departmentId);
        if (region < 100000 || region > 999999) revert DepartmentRegistryInvalidRegion(region);
        _departments[departmentId].region = region;
        _departments[departmentId].registeredAt = uint40(block.timestamp);
        _nameHashes[departmentId] = nameHash;
        emit DepartmentRegistered(departmentId, region, nameHash);
        _grantScopes(departmentId, scopes);
    }

    /// @notice Grants further scopes to a department, effective now.
    /// @param departmentId The department.
    /// @param scopes The scopes to grant; none may already be granted.
    function grantScopes(uint32 departmentId, uint32[] calldata scopes) external onlyOwner {
        _requireDepartment(departmentId);
        _grantScopes(departmentId, scopes);
    }

    /// @notice Withdraws scopes from a department, effective now. Earlier records stay valid.
    /// @param departmentId The department.
    /// @param scopes The scopes to withdraw; each must be granted.
    function revokeScopes(uint32 departmentId, uint32[] calldata scopes) external onlyOwner {
        _requireDepartment(departmentId);
        uint32[] storage current = _scopes[departmentId];
        for (uint256 i = 0; i < scopes.length; ++i) {
            uint32 scope = scopes[i];
            uint256 index = _indexOf(current, scope);
            if (index == type(uint256).max) revert DepartmentRegistryScopeNotGranted(departmentId, scope);
            current[index] = current[current.length - 1];
            current.pop();
            Window[] storage windows = _scopeWindows[departmentId][scope];
            windows[windows.length - 1].until = uint40(block.timestamp) + 1;
            emit ScopeRevoked(departmentId, scope);
        }
        _departments[departmentId].scopeCount = uint8(current.length);
        _push(departmentId, _signers[departmentId], scopes, false);
    }

    /// @notice Adds a signing key to a department.
    /// @param departmentId The department.
    /// @param signer A key never seen by the registry before.
    /// @param validFrom First second the key may sign (0: now).
    /// @param validUntil First second it may no longer sign (0: open-ended).
    function addSigner(uint32 departmentId, address signer, uint40 validFrom, uint40 validUntil)
        external
        onlyOwner
    {
        _requireDepartment(departmentId);
        _addSigner(departmentId, signer, validFrom, validUntil);
    }

    /// @notice Retires a signing key now. What it signed before stays valid.
    /// @param signer The key to retire.
    function retireSigner(address signer) external onlyOwner {
        _retireSigner(signer);
    }

    /// @notice Replaces a department's key: the old key stops now, the new one starts now.
    /// @param oldSigner The key being replaced.
    /// @param newSigner A key never seen by the registry before.
    /// @param validUntil End of the new key's window (0: open-ended).
    function rotateSigner(address oldSigner, address newSigner, uint40 validUntil) external onlyOwner {
        // Both halves call the sinks (_push), which governance sets to the ledger's own contracts;
        // their syncGrants only checks the caller and writes storage, so nothing can reenter.
        // slither-disable-next-line reentrancy-no-eth
        uint32 departmentId = _retireSigner(oldSigner);
        _addSigner(departmentId, newSigner, 0, validUntil);
    }

    /// @notice Suspends a department: none of its keys may anchor, change or record anything.
    /// @param departmentId The department.
    function suspendDepartment(uint32 departmentId) external onlyOwner {
        _setSuspended(departmentId, true);
        _suspensions[departmentId].push(Window({from: uint40(block.timestamp) + 1, until: _OPEN}));
        emit DepartmentSuspended(departmentId);
    }

    /// @notice Lifts a department's suspension.
    /// @param departmentId The department.
    function reinstateDepartment(uint32 departmentId) external onlyOwner {
        _setSuspended(departmentId, false);
        Window[] storage windows = _suspensions[departmentId];
        windows[windows.length - 1].until = uint40(block.timestamp);
        emit DepartmentReinstated(departmentId);
    }

    /// @notice Names the department that may act on `departmentId`'s records (0 clears it).
    /// @param departmentId The supervised department.
    /// @param supervisor The supervising or successor department.
    function setSupervisor(uint32 departmentId, uint32 supervisor) external onlyOwner {
        _requireDepartment(departmentId);
        if (supervisor != 0) {
            _requireDepartment(supervisor);
            for (uint32 current = supervisor; current != 0; current = _departments[current].supervisor) {
                if (current == departmentId) revert DepartmentRegistryInvalidSupervisor(departmentId, supervisor);
            }
        }
        _departments[departmentId].supervisor = supervisor;
        for (uint8 kind = 1; kind <= MAX_KIND; ++kind) {
            IAccreditationSink sink = _sinks[kind];
            if (address(sink) != address(0)) sink.syncSupervisor(departmentId, supervisor);
        }
        emit SupervisorChanged(departmentId, supervisor);
    }

    /// @notice Sets the consumer contract that receives grants of scope kind `kind`.
    /// @dev Departments registered before call `resync` afterwards.
    /// @param kind Scope kind (high byte of the scope).
    /// @param sink The consumer contract.
    function setSink(uint8 kind, IAccreditationSink sink) external onlyOwner {
        if (kind == 0 || kind > MAX_KIND || address(sink) == address(0)) {
            revert DepartmentRegistryInvalidSink(kind, address(sink));
        }
        _sinks[kind] = sink;
        emit SinkChanged(kind, address(sink));
    }

    /// @notice Pushes a department's current grants and supervisor to every sink again.
    /// @dev Anyone may call it: it only copies the registry's own truth.
    /// @param departmentId The department.
    function resync(uint32 departmentId) external {
        _requireDepartment(departmentId);
        _push(departmentId, _signers[departmentId], _scopes[departmentId], true);
        uint32 supervisor = _departments[departmentId].supervisor;
        for (uint8 kind = 1; kind <= MAX_KIND; ++kind) {
            IAccreditationSink sink = _sinks[kind];
            if (address(sink) != address(0)) sink.syncSupervisor(departmentId, supervisor);
        }
    }

    /// @notice Disabled: the ledger always needs a governance authority.
    function renounceOwnership() public view override onlyOwner {
        revert DepartmentRegistryRenounceDisabled();
    }

    /*//////////////////////////////////////////////////////////////
                                  VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IDepartmentRegistry
    function departmentOf(uint32 departmentId) external view returns (Department memory department, bytes32 nameHash) {
        return (_departments[departmentId], _nameHashes[departmentId]);
    }

    /// @notice The scopes a department holds now.
    /// @param departmentId The department.
    /// @return The scopes, in no particular order.
    function scopesOf(uint32 departmentId) external view returns (uint32[] memory) {
        return _scopes[departmentId];
    }

    /// @notice A department's unretired signing keys.
    /// @param departmentId The department.
    /// @return The keys, in no particular order.
    function signersOf(uint32 departmentId) external view returns (address[] memory) {
        return _signers[departmentId];
    }

    /// @inheritdoc IDepartmentRegistry
    function signerKey(address signer) external view returns (SignerKey memory) {
        return _keys[signer];
    }

    /// @inheritdoc IDepartmentRegistry
    function sinkOf(uint8 kind) external view returns (address) {
        return address(_sinks[kind]);
    }

    /// @inheritdoc IDepartmentRegistry
    function isAuthorized(address signer, uint32 scope, uint40 timestamp) external view returns (bool) {
        return _denial(signer, scope, 0, timestamp, false) == Denial.None;
    }

    /// @inheritdoc IDepartmentRegistry
    function denialOf(address signer, uint32 scope, uint24 region, uint40 timestamp) external view returns (Denial) {
        // Asked about now, the answer must reflect changes made earlier in this second (the
        // consumers ask on their failure path); asked about the past, history decides.
        return _denial(signer, scope, region, timestamp, timestamp >= block.timestamp);
    }

    /// @inheritdoc IDepartmentRegistry
    function isDepartmentAuthorized(uint32 departmentId, uint32 scope, uint24 region, uint40 timestamp)
        external
        view
        returns (bool)
    {
        return _departments[departmentId].registeredAt != 0 && _within(_scopeWindows[departmentId][scope], timestamp)
            && !_within(_suspensions[departmentId], timestamp)
            && Regions.covers(_departments[departmentId].region, region);
    }

    /// @inheritdoc IDepartmentRegistry
    function owner() public view override(IDepartmentRegistry, Ownable) returns (address) {
        return super.owner();
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNALS
    //////////////////////////////////////////////////////////////*/

    function _grantScopes(uint32 departmentId, uint32[] calldata scopes) private {
        uint32[] storage current = _scopes[departmentId];
        for (uint256 i = 0; i < scopes.length; ++i) {
            uint32 scope = scopes[i];
            uint8 kind = uint8(scope >> SCOPE_KIND_SHIFT);
            if (kind == 0 || kind > MAX_KIND || scope & 0xffffff == 0) revert DepartmentRegistryInvalidScope(scope);
            if (_indexOf(current, scope) != type(uint256).max) {
                revert DepartmentRegistryDuplicateScope(departmentId, scope);
            }
            current.push(scope);
            _scopeWindows[departmentId][scope].push(Window({from: uint40(block.timestamp), until: _OPEN}));
            emit ScopeGranted(departmentId, scope);
        }
        if (current.length > MAX_SCOPES) revert DepartmentRegistryLimitReached(departmentId);
        _departments[departmentId].scopeCount = uint8(current.length);
        _push(departmentId, _signers[departmentId], scopes, true);
    }

    function _addSigner(uint32 departmentId, address signer, uint40 validFrom, uint40 validUntil) private {
        if (signer == address(0) || _keys[signer].departmentId != 0) revert DepartmentRegistryInvalidSigner(signer);
        uint40 start = validFrom == 0 ? uint40(block.timestamp) : validFrom;
        uint40 end = validUntil == 0 ? _OPEN : validUntil;
        if (end <= start || end <= block.timestamp) revert DepartmentRegistryInvalidWindow(start, end);
        address[] storage signers = _signers[departmentId];
        if (signers.length >= MAX_SIGNERS) revert DepartmentRegistryLimitReached(departmentId);
        _keys[signer] = SignerKey({departmentId: departmentId, validFrom: start, validUntil: end, retiredEarly: false});
        signers.push(signer);
        _departments[departmentId].signerCount = uint8(signers.length);
        emit SignerAdded(departmentId, signer, start, end);
        address[] memory added = new address[](1);
        added[0] = signer;
        _push(departmentId, added, _scopes[departmentId], true);
    }

    function _retireSigner(address signer) private returns (uint32 departmentId) {
        SignerKey storage key = _keys[signer];
        departmentId = key.departmentId;
        address[] storage signers = _signers[departmentId];
        uint256 index = type(uint256).max;
        for (uint256 i = 0; i < signers.length; ++i) {
            if (signers[i] == signer) index = i;
        }
        if (departmentId == 0 || index == type(uint256).max) revert DepartmentRegistryUnknownSigner(signer);
        if (key.validUntil > block.timestamp) {
            key.validUntil = uint40(block.timestamp);
            // A key retired before its window opened never signed: nothing to count in.
            key.retiredEarly = key.validFrom <= block.timestamp;
        }
        if (key.validFrom > key.validUntil) key.validFrom = key.validUntil;
        emit SignerRetired(departmentId, signer, key.validUntil);
        address[] memory retired = new address[](1);
        retired[0] = signer;
        // Only calls out to the ledger's own sinks (set by governance), whose syncGrants calls
        // nothing back: the writes below cannot be observed half done.
        // slither-disable-next-line reentrancy-no-eth
        _push(departmentId, retired, _scopes[departmentId], true);
        signers[index] = signers[signers.length - 1];
        signers.pop();
        _departments[departmentId].signerCount = uint8(signers.length);
    }

    function _setSuspended(uint32 departmentId, bool suspended) private {
        _requireDepartment(departmentId);
        if (_departments[departmentId].suspended == suspended) {
            revert DepartmentRegistrySuspensionUnchanged(departmentId, suspended);
        }
        _departments[departmentId].suspended = suspended;
        _push(departmentId, _signers[departmentId], _scopes[departmentId], true);
    }

    /// @dev Sends the grants for `signers` x `scopes` to the sinks of the scopes' kinds. `granted`
    /// false withdraws them (inactive grants); otherwise they mirror the registry's current state.
    function _push(uint32 departmentId, address[] memory signers, uint32[] memory scopes, bool granted) private {
        if (signers.length == 0 || scopes.length == 0) return;
        Department storage department = _departments[departmentId];
        bool active = granted && !department.suspended;
        for (uint8 kind = 1; kind <= MAX_KIND; ++kind) {
            IAccreditationSink sink = _sinks[kind];
            if (address(sink) == address(0)) continue;
            uint256 count = 0;
            for (uint256 j = 0; j < scopes.length; ++j) {
                if (uint8(scopes[j] >> SCOPE_KIND_SHIFT) == kind) ++count;
            }
            if (count == 0) continue;
            IAccreditationSink.GrantUpdate[] memory updates =
                new IAccreditationSink.GrantUpdate[](count * signers.length);
            uint256 n = 0;
            for (uint256 i = 0; i < signers.length; ++i) {
                SignerKey memory key = _keys[signers[i]];
                for (uint256 j = 0; j < scopes.length; ++j) {
                    if (uint8(scopes[j] >> SCOPE_KIND_SHIFT) != kind) continue;
                    updates[n++] = IAccreditationSink.GrantUpdate({
                        signer: signers[i],
                        scope: scopes[j],
                        departmentId: departmentId,
                        region: department.region,
                        validFrom: key.validFrom,
                        validUntil: key.validUntil,
                        active: active
                    });
                }
            }
            sink.syncGrants(updates);
        }
    }

    function _denial(address signer, uint32 scope, uint24 region, uint40 timestamp, bool live)
        private
        view
        returns (Denial)
    {
        SignerKey memory key = _keys[signer];
        // Existence test: department ids start at 1, so 0 means the key was never added.
        // slither-disable-next-line incorrect-equality
        if (key.departmentId == 0) return Denial.UnknownSigner;
        if (timestamp < key.validFrom) return Denial.KeyNotYetValid;
        uint256 keyEnd = live || !key.retiredEarly ? key.validUntil : uint256(key.validUntil) + 1;
        if (timestamp >= keyEnd) return Denial.KeyExpired;
        if (live) {
            if (_indexOf(_scopes[key.departmentId], scope) == type(uint256).max) return Denial.ScopeNotGranted;
            if (_departments[key.departmentId].suspended) return Denial.DepartmentSuspended;
        } else {
            if (!_within(_scopeWindows[key.departmentId][scope], timestamp)) return Denial.ScopeNotGranted;
            if (_within(_suspensions[key.departmentId], timestamp)) return Denial.DepartmentSuspended;
        }
        if (!Regions.covers(_departments[key.departmentId].region, region)) return Denial.RegionNotCovered;
        return Denial.None;
    }

    function _requireDepartment(uint32 departmentId) private view {
        if (_departments[departmentId].registeredAt == 0) revert DepartmentRegistryUnknownDepartment(departmentId);
    }

    function _within(Window[] storage windows, uint40 timestamp) private view returns (bool) {
        for (uint256 i = windows.length; i > 0; --i) {
            Window memory window = windows[i - 1];
            if (window.from <= timestamp && timestamp < window.until) return true;
        }
        return false;
    }

    function _indexOf(uint32[] storage values, uint32 value) private view returns (uint256) {
        for (uint256 i = 0; i < values.length; ++i) {
            if (values[i] == value) return i;
        }
        return type(uint256).max;
    }
}
