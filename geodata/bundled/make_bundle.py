"""Rebuild the bundled St Albans data from the shared source folders.

Run from the repository root: ``python data/make_bundle.py ../shared/data``.

What it does (and nothing else):

* police.uk: keeps, byte for byte, the header and every row of each monthly
  ``YYYY-MM/YYYY-MM-<force>-street.csv`` whose ``LSOA code`` is one of the 87
  St Albans LSOA 2011 codes, and stores them in one zip in the layout the
  data.police.uk download gives (``geodata/bundled/st_albans/police/...zip``). Rows with no
  location carry no LSOA code and so are not in the St Albans cut.
* boundaries, population, IMD 2019: copied unchanged, each with its SOURCE note.
"""
from __future__ import annotations

import csv
import json
import shutil
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent / "st_albans"


def _lsoa_codes(lsoa_geojson: Path) -> set[str]:
    features = json.loads(lsoa_geojson.read_text())["features"]
    return {f["properties"]["LSOA11CD"] for f in features}


def _cut_police(police_dir: Path, codes: set[str], out_zip: Path) -> int:
    kept = 0
    with zipfile.ZipFile(out_zip, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in sorted(police_dir.glob("*/*-street.csv")):
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
            header = next(csv.reader([lines[0]]))
            col = header.index("LSOA code")
            rows = [ln for ln in lines[1:] if next(csv.reader([ln]))[col] in codes]
            kept += len(rows)
            zf.writestr(f"{path.parent.name}/{path.name}", "".join([lines[0], *rows]))
    return kept


def main(shared: Path) -> None:
    codes = _lsoa_codes(shared / "boundaries" / "st_albans_lsoa_2011.geojson")
    (HERE / "police").mkdir(parents=True, exist_ok=True)
    kept = _cut_police(shared / "police", codes, HERE / "police" / "hertfordshire-st-albans-2021-01-2022-01.zip")
    shutil.copy(shared / "police" / "SOURCE.md", HERE / "police" / "SOURCE.md")
    copies = {
        "boundaries": ["SOURCE.md", "st_albans_wards_2013.geojson", "st_albans_lsoa_2011.geojson"],
        "boundaries_2022": ["SOURCE.md", "st_albans_wards_may2024_bsc_wgs84.geojson",
                            "st_albans_lad_dec2024_bsc_wgs84.geojson"],
        "population": ["SOURCE.md", "st_albans_lsoa11_population_totals_mid2017_2019_2020.csv"],
        "imd2019": ["SOURCE.md", "st_albans_imd2019_file1_rank_decile.csv",
                    "st_albans_iod2019_file2_domains_ranks_deciles.csv"],
    }
    for folder, names in copies.items():
        (HERE / folder).mkdir(parents=True, exist_ok=True)
        for name in names:
            shutil.copy(shared / folder / name, HERE / folder / name)
    print(f"police rows kept for St Albans: {kept}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
