"""The bundled police.uk data: the store built from it holds exactly the months and rows its SOURCE
note states (the note is parsed, not copied here), and every other month is a gap, not a zero."""

from __future__ import annotations

import re
import zipfile

import pytest

from geodata import boundaries
from geodata import config as config_mod
from geodata.assign import assign
from geodata.pipeline.build import open_store
from tests.conftest import BUNDLE, BUNDLED_OUTCOMES, BUNDLED_POLICE, config_with_store

NOTE = BUNDLE / "police" / "SOURCE.md"


def _table(section: str) -> dict[str, int]:
    """month -> St Albans rows, from the table under the note's heading starting with ``section``."""
    text = NOTE.read_text()
    start = text.index(f"## {section}")
    end = text.find("\n## ", start + 1)
    rows = re.findall(
        r"^\| (\d{4}-\d{2}) \| [\d,]+ \| ([\d,]+) \|", text[start : end if end > 0 else None], re.MULTILINE
    )
    assert rows, f"no month table under '## {section}' in {NOTE}"
    return {m: int(n.replace(",", "")) for m, n in rows}


def _heading_total(section: str) -> tuple[int, int]:
    """(months, rows) stated in the section's heading, e.g. '29 months, 26,483 of 250,260 county rows'."""
    m = re.search(rf"^## {section}: (\d+) months, ([\d,]+) of", NOTE.read_text(), re.MULTILINE)
    return int(m.group(1)), int(m.group(2).replace(",", ""))


def _stored(frame) -> dict[str, int]:
    return {d.strftime("%Y-%m"): int(n) for d, n in zip(frame["month"], frame["rows"])}


STREET = _table("Street-level crime")
OUTCOMES = _table("Outcomes")


def test_note_is_consistent_and_ends_2025_06():
    assert (len(STREET), sum(STREET.values())) == _heading_total("Street-level crime")
    assert (len(OUTCOMES), sum(OUTCOMES.values())) == _heading_total("Outcomes")
    assert min(STREET) == "2018-10" and max(STREET) == "2025-06"
    assert set(OUTCOMES) <= set(STREET)


@pytest.mark.parametrize("path", [config_mod.DEFAULT_CONFIG, config_mod.WARDS_2013_CONFIG])
def test_store_holds_the_months_and_rows_the_note_states(tmp_path, path):
    """Both bundled configs (2022 and 2013 wards) load every bundled row, month by month."""
    store = open_store(config_with_store(tmp_path, path))
    parts = store.partitions()
    assert _stored(parts[parts["source"] == "police.uk"]) == STREET
    assert _stored(parts[parts["source"] == "police.uk outcomes"]) == OUTCOMES
    loads = store.loads().set_index("source")
    assert loads.loc["police.uk", "rows_read"] == loads.loc["police.uk", "rows_loaded"] == sum(STREET.values())
    assert loads.loc["police.uk", "rows_rejected"] == 0
    assert loads.loc["police.uk outcomes", "rows_loaded"] == sum(OUTCOMES.values())
    # counted by month from the incidents themselves, not the partition table
    by_month = store.counts(by=("month",), inside=False)  # every stored row, in the wards or not
    assert dict(zip(by_month["month"].dt.strftime("%Y-%m"), by_month["incidents"])) == STREET


def test_months_not_in_the_note_are_gaps(bundled_store):
    """2022-02 .. 2023-12 and 2024-05 .. 12 are not loaded: no partition, no rows, so every view
    that asks which months are loaded shows a gap there, never a zero."""
    loaded = bundled_store.loaded_months("police.uk")
    assert loaded == sorted(STREET)
    for month in ("2019-03", "2020-06", "2022-02", "2023-12", "2024-05", "2024-12"):
        assert month not in loaded
        assert bundled_store.counts(by=("month",), start=month, end=month).empty


def test_zips_hold_the_download_layout():
    with zipfile.ZipFile(BUNDLED_POLICE) as z:
        names = sorted(z.namelist())
    assert names == [f"{m}/{m}-hertfordshire-street.csv" for m in sorted(STREET)]
    with zipfile.ZipFile(BUNDLED_OUTCOMES) as z:
        assert sorted(z.namelist()) == [f"{m}/{m}-hertfordshire-outcomes.csv" for m in sorted(OUTCOMES)]


def test_2021_lsoa_months_are_in_the_district(bundled_store):
    """From 2024 police.uk gives 2021 LSOA codes: rows whose code is not a 2011 St Albans LSOA are
    still bundled (by LSOA name) and are placed in wards by their point."""
    rows = bundled_store.incidents(start="2024-01", end="2025-06")
    lsoa_2011 = set(bundled_store.areas("lsoa").codes)
    by_name = rows["source_lsoa_name"].str.startswith("St Albans ")
    new_codes = rows[by_name & ~rows["source_lsoa_code"].isin(lsoa_2011)]
    assert len(new_codes) > 100  # 2021 LSOAs the old code-list cut would have lost
    assert new_codes["ward_code"].notna().mean() > 0.95
    # rows of another district's LSOA are bundled only for a point in a St Albans ward of either set
    by_point = rows[~by_name]
    wards_2013 = boundaries.read(config_mod.load(config_mod.WARDS_2013_CONFIG).wards)
    in_2013 = assign(wards_2013, by_point["x"].to_numpy(), by_point["y"].to_numpy()) != None  # noqa: E711
    assert 0 < len(by_point) < 30 and (by_point["ward_code"].notna().to_numpy() | in_2013).all()


# ------------------------------------------------------------------ ward outlines (issue 21, item 9)
WARDS_2022 = BUNDLE / "boundaries_2022" / "st_albans_wards_2022_bgc_wgs84.geojson"
DISTRICT_2022 = BUNDLE / "boundaries_2022" / "st_albans_lad_from_wards_bgc_wgs84.geojson"


def _bundled_points():
    """Every bundled street row with a location, as points in EPSG:27700, read with the csv module and
    projected by geopandas (not the loader, not geodata.assign)."""
    import csv
    import io

    import geopandas

    lon, lat = [], []
    with zipfile.ZipFile(BUNDLED_POLICE) as z:
        for name in z.namelist():
            for row in csv.DictReader(io.TextIOWrapper(z.open(name), "utf-8", newline="")):
                if row["Longitude"] and row["Latitude"]:
                    lon.append(float(row["Longitude"]))
                    lat.append(float(row["Latitude"]))
    return geopandas.GeoDataFrame(geometry=geopandas.points_from_xy(lon, lat), crs=4326).to_crs(27700)


def test_ward_counts_equal_a_point_in_polygon_count_on_the_20_m_wards(bundled_store):
    """The default config assigned points with ONS's 200 m (BSC) outlines: 4.7% of incidents in the wrong
    ward (Verulam 1,121 where the 20 m outlines give 1,467; St Peters 4,138 for 3,926). Now its ward counts
    equal a point-in-polygon count (geopandas sjoin) of every bundled row on the 20 m (BGC) wards."""
    import geopandas

    wards = geopandas.read_file(WARDS_2022).to_crs(27700)[["ward_code", "geometry"]]
    joined = geopandas.sjoin(_bundled_points(), wards, predicate="intersects")
    assert not joined.index.duplicated().any()  # no point on a shared edge: the tie rule plays no part
    expected = joined.groupby("ward_code").size()
    got = bundled_store.ward_summary().set_index("ward_code")["incidents"]
    assert got.to_dict() == expected.reindex(got.index, fill_value=0).to_dict()
    assert got["E05013966"] == 1_467 and got["E05013964"] == 3_926  # Verulam, St Peters (SOURCE.md's table)


def test_district_outline_is_the_union_of_the_20_m_wards(bundled_store):
    """The bundled district outline (used to cut the bundle) is the union of the wards the default config
    assigns with, so "in the district" and "in a ward" agree; the store's outline is the same shape."""
    import geopandas

    district = geopandas.read_file(DISTRICT_2022).to_crs(27700).geometry.iloc[0]
    wards = geopandas.read_file(WARDS_2022).to_crs(27700)
    assert len(wards) == 20 and wards["ward_code"].is_unique
    assert district.symmetric_difference(wards.union_all()).area < 1.0  # m², of 161 km²
    assert district.symmetric_difference(bundled_store.boundary()).area < 1.0


def test_both_configs_assign_with_20_m_outlines():
    """Both bundled ward sets are generalised to about 20 m, not 200 m: the 2013 wards' district outline
    lies within 25 m of the 2022 wards' 20 m outline (the district's edge did not move in 2022; ONS's
    200 m outline lies up to 188 m from it), and neither set is coarser in vertices than 20 m."""
    import shapely

    outlines = {}
    for path in (config_mod.DEFAULT_CONFIG, config_mod.WARDS_2013_CONFIG):
        wards = boundaries.read(config_mod.load(path).wards)
        assert shapely.get_num_coordinates(wards.geometries).sum() > 1_000  # the 200 m set has 308
        outlines[path.name] = shapely.union_all(wards.geometries)
    assert outlines["csp-wards-2013.toml"].hausdorff_distance(outlines["csp.toml"]) < 25
