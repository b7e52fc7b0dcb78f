// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IAccessLogAnchors} from "./interfaces/IAccessLogAnchors.sol";

/// @title Access-log anchors (查询记录)
/// @notice The tamper evidence of the citizens' access log: governance anchors, batch after batch,
/// the Merkle root of the log entries written since the previous batch with their sequence range.
/// An entry a citizen was shown proves against its batch's root here; removing or altering it in
/// the service's database afterwards breaks that proof, and the ranges, strictly increasing, show
/// which entries each batch covers.
/// @dev Roots and sequence numbers only: the entries (who looked at whose records) stay off chain.
/// Each batch is one storage slot, written once; nothing is ever changed or removed.
contract AccessLogAnchors is IAccessLogAnchors, Ownable2Step {
    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IAccessLogAnchors
    string public constant VERSION = "1.0.0";

    mapping(bytes32 root => Anchor anchor) private _anchors;
    uint64 private _lastSeq;

    /// @param governance The governance authority (an account or a multi-signature contract).
    constructor(address governance) Ownable(governance) {}

    /*//////////////////////////////////////////////////////////////
                                  LOGIC
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IAccessLogAnchors
    function anchor(bytes32 root, uint64 firstSeq, uint64 lastSeq_) external onlyOwner {
        if (root == bytes32(0)) revert AccessLogAnchorsInvalidRoot(root);
        if (_anchors[root].anchoredAt != 0) revert AccessLogAnchorsDuplicateRoot(root);
        if (firstSeq == 0 || lastSeq_ < firstSeq) revert AccessLogAnchorsInvalidRange(firstSeq, lastSeq_);
        uint64 previous = _lastSeq;
        if (firstSeq <= previous) revert AccessLogAnchorsRangeNotAfter(firstSeq, previous);
        _anchors[root] = Anchor({firstSeq: firstSeq, lastSeq: lastSeq_, anchoredAt: uint64(block.timestamp)});
        _lastSeq = lastSeq_;
        emit AccessLogAnchored(root, firstSeq, lastSeq_);
    }

    /// @notice Disabled: the log always needs an authority to anchor it.
    function renounceOwnership() public view override onlyOwner {
        revert AccessLogAnchorsRenounceDisabled();
    }

    /*//////////////////////////////////////////////////////////////
                                  VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IAccessLogAnchors
    function anchorOf(bytes32 root) external view returns (uint64 firstSeq, uint64 lastSeq_, uint64 anchoredAt) {
        Anchor memory found = _anchors[root];
        return (found.firstSeq, found.lastSeq, found.anchoredAt);
    }

    /// @inheritdoc IAccessLogAnchors
    function lastSeq() external view returns (uint64) {
        return _lastSeq;
    }

    /// @inheritdoc IAccessLogAnchors
    function owner() public view override(IAccessLogAnchors, Ownable) returns (address) {
        return super.owner();
    }
}
