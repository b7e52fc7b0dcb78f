// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title GB/T 2260 region codes
/// @notice Six-digit administrative division codes are hierarchical: XX0000 is a province,
/// XXXX00 a prefecture-level city, anything else a county-level division.
library Regions {
    /// @notice Whether a department serving `served` may act for a record of `region`.
    /// @param served The department's region.
    /// @param region The record's region; 0 means "no region stated" and is always covered.
    /// @return True when `region` equals `served` or lies inside it.
    function covers(uint24 served, uint24 region) internal pure returns (bool) {
        if (region == 0 || served == region) return true;
        if (served % 10000 == 0) return served / 10000 == region / 10000;
        if (served % 100 == 0) return served / 100 == region / 100;
        return false;
    }
}
