"""Rebuild the bundled St Albans data from the shared source folders.

Run from the repository root: ``python geodata/bundled/make_bundle.py DATA`` (DATA: the folder of the
source downloads: ``police/``, ``fixmystreet/``, ``defra_flytipping/``, ...).

What it does (and nothing else):

* police.uk street files (``police/`` 2021-01 .. 2022-01 and ``police_history/``, every month we
  have): keeps, byte for byte, the header and every row of each monthly
  ``YYYY-MM/YYYY-MM-<force>-street.csv`` that belongs to St Albans district (:func:`in_district`),
  and stores them in one zip in the layout the data.police.uk download gives
  (``st_albans/police/hertfordshire-st-albans-street.zip``). The rule must hold for 2011 LSOAs
  (to 2022-01) and 2021 LSOAs (from 2024) and for both ward sets, so a row is kept when its
  ``LSOA name`` starts with "St Albans " (both LSOA sets are named by district) **or** its point
  lies in the district outline of either bundled config: the union of the 2013 wards, or the union
  of the 2022 wards at 20 m (``st_albans_lad_from_wards_bgc_wgs84.geojson``, the outline the default
  config's wards tile). The store assigns wards by point, so every row either config would give a
  ward is kept. Every other county row is checked to lie outside both outlines with a non-St Albans
  LSOA, and the counts are printed.
* police.uk outcomes files (``police_outcomes/``): keeps the rows whose ``Crime ID`` is a kept
  street crime, or that are in the district by the same rule (outcomes of crimes from months we
  do not have), in ``st_albans/police/hertfordshire-st-albans-outcomes.zip``.
* writes ``st_albans/police/SOURCE.md``: provenance, and a table of the months and rows kept
  (``tests/store/test_bundle.py`` checks the store against it).
* boundaries (the 2013 wards and 2011 LSOAs; the 2022 wards at 20 m, ONS BGC, and the district
  outline that is their union), population, IMD 2019: copied unchanged, each with its SOURCE note.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
import zipfile
from collections.abc import Set as AbstractSet
from pathlib import Path

import numpy as np
import shapely

HERE = Path(__file__).resolve().parent / "st_albans"
STREET_ZIP = "hertfordshire-st-albans-street.zip"
OUTCOMES_ZIP = "hertfordshire-st-albans-outcomes.zip"
#: The LSOA name prefix of St Albans district (2011 and 2021 LSOAs alike, e.g. "St Albans 013A").
LSOA_PREFIX = "St Albans "


def _union(geojson: Path):
    """The union of every feature of a GeoJSON file (WGS84)."""
    features = json.loads(geojson.read_text())["features"]
    return shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in features])


#: The bundled 2022 wards (ONS BGC, 20 m) and the district outline made as their union.
WARDS_2022 = "st_albans_wards_2022_bgc_wgs84.geojson"
DISTRICT_2022 = "st_albans_lad_from_wards_bgc_wgs84.geojson"


def _rows(path: Path) -> tuple[str, list[str], list[list[str]]]:
    lines = path.read_bytes().decode("utf-8").splitlines(keepends=True)
    return lines[0], lines[1:], [next(csv.reader([ln])) for ln in lines[1:]]


def in_district(header: list[str], fields: list[list[str]], districts) -> tuple[np.ndarray, np.ndarray]:
    """(kept by the rule, of those: kept by point only) for each row. ``districts``: polygons (WGS84)."""
    col = {h: i for i, h in enumerate(header)}
    by_name = np.array([f[col["LSOA name"]].startswith(LSOA_PREFIX) for f in fields], dtype=bool)
    lon = np.array([float(f[col["Longitude"]]) if f[col["Longitude"]] else np.nan for f in fields])
    lat = np.array([float(f[col["Latitude"]]) if f[col["Latitude"]] else np.nan for f in fields])
    by_point = np.zeros(len(fields), dtype=bool)
    for polygon in districts:
        by_point |= shapely.contains_xy(polygon, lon, lat)
    return by_name | by_point, by_point & ~by_name


def _cut(
    folders: list[Path],
    pattern: str,
    districts,
    codes_2011: set[str],
    out_zip: Path,
    ids: AbstractSet[str] = frozenset(),
) -> tuple[list[tuple], set[str]]:
    """Write the St Albans rows of every file matching ``pattern`` to ``out_zip``. Returns, per file,
    (name, county rows, kept, kept by point only, kept by Crime ID only, outside within 500 m), and
    the Crime IDs kept. Raises if a row left out has a St Albans 2011 LSOA code (the old rule)."""
    table: list[tuple] = []
    kept_ids: set[str] = set()
    edge = [shapely.buffer(d, 0.0075) for d in districts]  # about 500 m at 52 N
    with zipfile.ZipFile(out_zip, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in sorted((p for f in folders for p in f.glob(pattern)), key=lambda p: p.name):
            header, lines, fields = _rows(path)
            names = next(csv.reader([header]))
            keep, point_only = in_district(names, fields, districts)
            by_id = np.array([f[0] in ids for f in fields], dtype=bool) & ~keep
            keep |= by_id
            code = names.index("LSOA code")
            lost = [i for i, f in enumerate(fields) if not keep[i] and f[code] in codes_2011]
            if lost:
                raise SystemExit(f"{path}: line {lost[0] + 2} has a St Albans LSOA code but is not kept")
            near, _ = in_district(names, fields, edge)
            zf.writestr(f"{path.parent.name}/{path.name}", "".join([header, *(ln for ln, k in zip(lines, keep) if k)]))
            table.append(
                (
                    path.name,
                    len(fields),
                    int(keep.sum()),
                    int(point_only.sum()),
                    int(by_id.sum()),
                    int((near & ~keep).sum()),
                )
            )
            kept_ids.update(f[0] for f, k in zip(fields, keep) if k and f[0])
    return table, kept_ids


def _month(name: str) -> str:
    return name[:7]


def _source_note(street: list[tuple], outcomes: list[tuple]) -> str:
    s_rows, s_kept = sum(r[1] for r in street), sum(r[2] for r in street)
    o_rows, o_kept = sum(r[1] for r in outcomes), sum(r[2] for r in outcomes)
    lines = [
        "# data.police.uk, Hertfordshire: the St Albans rows of every month we have",
        "",
        "- Publisher: Home Office / Hertfordshire Constabulary via data.police.uk (monthly download: street-level",
        '  crime and outcomes files). Licence: Open Government Licence v3.0. Attribution: "Contains public sector',
        '  information licensed under the Open Government Licence v3.0." (data.police.uk).',
        "- Cut by `geodata/bundled/make_bundle.py` from the county files in the shared data folders `police/`",
        "  (2021-01 .. 2022-01, from saquibmohiuddin/Hertfordshire-Constabulary @ b6d42628, folder `street/`),",
        "  `police_history/` (2018-10 .. 2019-02 from mgsf08m002/GEOINFORMATION-IN-SOCIETY @ 40d03289; 2019-09 from",
        "  avelasqu/Crime_UK @ af30b1e8; 2024-01 .. 04 from Leonard-Theodorus/UK-Q1-2024-Crime-Data-Analysis @",
        "  db3c48e3; 2025-01 .. 06 from PriteshParekh/ML-Foundations-Portfolio-Project @ 35902b7f) and",
        "  `police_outcomes/` (saquibmohiuddin/Hertfordshire-Constabulary @ c3159994, folder `outcomes/`); each",
        "  obtained unchanged from a public repository that kept the downloads. Rows are kept byte for byte",
        "  (CRLF line endings of 2019-09 and 2024 included).",
        '- Which rows: a row is St Albans when its LSOA name starts with "St Albans " (2011 LSOAs up to 2022-01,',
        "  2021 LSOAs from 2024: both are named by district) or its point lies in a St Albans ward of either ward",
        "  set (2013-2022, or since May 2022 at 20 m, ONS BGC). Every other county row has a non-St Albans LSOA",
        "  and a point outside",
        "  both ward sets (checked when the bundle is built). Rows with no location and no LSOA cannot be placed",
        "  and are not in the cut. An outcome row is kept when its Crime ID is a kept street crime or it is in",
        "  the district by the same rule.",
        "- Months not listed are NOT loaded: 2019-03 .. 2019-08, 2019-10 .. 2020-12, 2022-02 .. 2023-12,",
        "  2024-05 .. 2024-12. They are gaps, never zeros.",
        "- Layout: as the download extracts it, one folder per month: `YYYY-MM/YYYY-MM-hertfordshire-street.csv`",
        f"  in `{STREET_ZIP}`, `YYYY-MM/YYYY-MM-hertfordshire-outcomes.csv` in `{OUTCOMES_ZIP}`.",
        "",
        f"## Street-level crime: {len(street)} months, {s_kept:,} of {s_rows:,} county rows",
        "",
        '"by point only": kept for its point although its LSOA is not a St Albans one (police.uk assigns the LSOA',
        'before snapping the point). "outside, within 500 m": county rows near the district that are not in it.',
        "",
        "| month | county rows | St Albans rows | by point only | outside, within 500 m |",
        "| --- | ---: | ---: | ---: | ---: |",
        *(f"| {_month(n)} | {rows:,} | {kept:,} | {pt:,} | {near:,} |" for n, rows, kept, pt, _, near in street),
        "",
        f"## Outcomes: {len(outcomes)} months, {o_kept:,} of {o_rows:,} county rows",
        "",
        "Header `Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
        "Outcome type`:",
        "one row per outcome recorded in that month for a crime (the crime may be from an earlier month).",
        '"by Crime ID only": kept because its crime is a kept street crime, though its own LSOA and point are not',
        "in the district.",
        "",
        "| month | county rows | St Albans rows | by Crime ID only |",
        "| --- | ---: | ---: | ---: |",
        *(f"| {_month(n)} | {rows:,} | {kept:,} | {by_id:,} |" for n, rows, kept, _, by_id, _ in outcomes),
        "",
    ]
    return "\n".join(lines)


def main(shared: Path) -> None:
    district_2022 = _union(shared / "boundaries_2022" / DISTRICT_2022)
    if not shapely.equals(district_2022, _union(shared / "boundaries_2022" / WARDS_2022)):
        raise SystemExit(f"{DISTRICT_2022} is not the union of {WARDS_2022}")
    districts = [_union(shared / "boundaries" / "st_albans_wards_2013.geojson"), district_2022]
    police = HERE / "police"
    police.mkdir(parents=True, exist_ok=True)
    for old in police.glob("*.zip"):
        old.unlink()
    lsoas = json.loads((shared / "boundaries" / "st_albans_lsoa_2011.geojson").read_text())["features"]
    codes = {f["properties"]["LSOA11CD"] for f in lsoas}
    street, ids = _cut(
        [shared / "police", shared / "police_history"], "*/*-street.csv", districts, codes, police / STREET_ZIP
    )
    outcomes, _ = _cut([shared / "police_outcomes"], "*/*-outcomes.csv", districts, codes, police / OUTCOMES_ZIP, ids)
    (police / "SOURCE.md").write_text(_source_note(street, outcomes))
    copies = {
        "boundaries": ["SOURCE.md", "st_albans_wards_2013.geojson", "st_albans_lsoa_2011.geojson"],
        "boundaries_2022": ["SOURCE.md", WARDS_2022, DISTRICT_2022],
        "population": ["SOURCE.md", "st_albans_lsoa11_population_totals_mid2017_2019_2020.csv"],
        "imd2019": [
            "SOURCE.md",
            "st_albans_imd2019_file1_rank_decile.csv",
            "st_albans_iod2019_file2_domains_ranks_deciles.csv",
        ],
    }
    for folder, names in copies.items():
        (HERE / folder).mkdir(parents=True, exist_ok=True)
        for name in names:
            shutil.copy(shared / folder / name, HERE / folder / name)
    for label, table in (("street", street), ("outcomes", outcomes)):
        print(
            f"{label}: {len(table)} files, {sum(r[1] for r in table):,} county rows, "
            f"{sum(r[2] for r in table):,} kept for St Albans ({sum(r[3] for r in table):,} by point only, "
            f"{sum(r[4] for r in table):,} by Crime ID only); not kept: {sum(r[1] - r[2] for r in table):,}, "
            f"of which within 500 m of the district: {sum(r[5] for r in table):,}"
        )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python geodata/bundled/make_bundle.py DATA (the folder of the source downloads)")
    main(Path(sys.argv[1]))
