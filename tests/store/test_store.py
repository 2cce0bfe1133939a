"""Store, ward/LSOA assignment and idempotent ingest, on the real bundled and county data."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
import shapely

from geodata import boundaries
from geodata.assign import assign
from geodata.config import WARDS_2013_CONFIG
from geodata.pipeline.build import open_store
from geodata.pipeline.ingest import ingest_police
from geodata.store import StoreError
from loaders import police
from loaders.report import LoadError
from tests.conftest import BUNDLED_MONTHS, BUNDLED_POLICE, BUNDLED_ROWS, config_with_store, rows_in_wards


def _covering_min_code(areas, x, y):
    """Independent reference: per point, the smallest code among the polygons covering it."""
    out = np.full(len(x), None, dtype=object)
    for code, geom in sorted(zip(areas.codes, areas.geometries), reverse=True):
        inside = shapely.covers(geom, shapely.points(x, y))  # later (smaller) codes overwrite
        out[inside] = code
    return out


def test_bundled_ward_totals_equal_direct_point_in_polygon_count(bundled_store):
    gdf, report = police.read(BUNDLED_POLICE)
    wards = boundaries.read(bundled_store.config.wards)
    expected = {}
    for code, geom in zip(wards.codes, wards.geometries):
        expected[code] = int(shapely.contains_xy(geom, gdf["x"], gdf["y"]).sum())
    on_edge = sum(
        int(shapely.intersects(g.boundary, shapely.points(gdf["x"], gdf["y"])).sum()) for g in wards.geometries
    )
    summary = bundled_store.ward_summary().set_index("ward_code")["incidents"].to_dict()
    if on_edge == 0:
        assert summary == expected
    reference = _covering_min_code(wards, gdf["x"].to_numpy(), gdf["y"].to_numpy())
    codes, counts = np.unique(reference[reference != None].astype(str), return_counts=True)  # noqa: E711
    assert summary == {**dict.fromkeys(wards.codes, 0), **dict(zip(codes, counts.tolist()))}
    assert len(summary) == 20


def test_every_bundled_row_is_stored_or_rejected(bundled_store):
    loads = bundled_store.loads()
    (load,) = loads[loads["source"] == "police.uk"].itertuples()
    stored = int(bundled_store.counts(by=("source",), inside=False)["incidents"].sum())
    assert load.rows_read == BUNDLED_ROWS == stored + load.rows_rejected
    assert stored + len(bundled_store.rejections(load.load_id)) == load.rows_read
    assert load.outside_area == int(
        bundled_store.counts(by=("ward_code",), inside=False).query("ward_code.isna()")["incidents"].sum()
    )


def test_lsoa_assignment_agrees_with_police_lsoa_mostly(bundled_store):
    gdf = bundled_store.incidents()
    agree = (gdf["lsoa_code"] == gdf["source_lsoa_code"]).mean()
    assert agree > 0.9, agree  # police.uk assigns the LSOA before snapping the point (2021 LSOAs from 2024)
    # a row has no LSOA only when its point is outside every 2011 LSOA of the district (kept for a
    # point inside a ward): a few, all within 20 m of the LSOAs' outline, where the two sets' 20 m
    # generalisations part (67: 56 of them at one Hertsmere point, "On or near Meadow Avenue")
    no_lsoa = gdf["lsoa_code"].isna().to_numpy()
    district = shapely.union_all(bundled_store.areas("lsoa").geometries)
    assert not shapely.contains_xy(district, gdf["x"][no_lsoa], gdf["y"][no_lsoa]).any()
    assert 0 < no_lsoa.sum() < 0.005 * len(gdf)
    gap = shapely.distance(shapely.boundary(district), shapely.points(gdf["x"][no_lsoa], gdf["y"][no_lsoa]))
    assert gap.max() <= 20


def test_query_filters_match_pandas(bundled_store):
    gdf = bundled_store.incidents()
    month = gdf["month"].dt.strftime("%Y-%m")
    sel = gdf[(month >= "2021-04") & (month <= "2021-09") & gdf["category"].isin(["Burglary", "Robbery"])]
    got = bundled_store.ward_summary(start="2021-04", end="2021-09", categories=["Burglary", "Robbery"])
    assert got.set_index("ward_code")["incidents"].to_dict() == {
        **dict.fromkeys(got["ward_code"], 0),
        **sel.groupby("ward_code").size().to_dict(),
    }
    counts = bundled_store.counts(start="2021-04", end="2021-09", categories=["Burglary", "Robbery"])
    assert counts["incidents"].sum() == len(sel)
    one = bundled_store.incidents(wards=["E05013964"], start="2021-07", end="2021-07")  # St Peters (2022)
    assert len(one) == int(((gdf.ward_code == "E05013964") & (month == "2021-07")).sum()) > 0


def test_edge_point_gets_exactly_one_ward_deterministically(bundled_store):
    wards = bundled_store.areas("ward")
    vertices = [{tuple(v) for v in shapely.get_coordinates(g)} for g in wards.geometries]
    i, j, (x, y) = next(
        (i, j, min(vertices[i] & vertices[j]))
        for i in range(len(vertices))
        for j in range(i + 1, len(vertices))
        if vertices[i] & vertices[j]
    )
    pt = shapely.Point(x, y)
    assert wards.geometries[i].covers(pt) and wards.geometries[j].covers(pt)
    assert not wards.geometries[i].contains(pt)  # sjoin(within) would give it no ward
    got = assign(wards, np.array([x, x, 0.0]), np.array([y, y, 0.0]))
    assert list(got) == [wards.codes[i], wards.codes[i], None]
    assert wards.codes[i] < wards.codes[j]


def test_ingest_twice_gives_identical_counts(empty_store):
    ingest_police(empty_store, [BUNDLED_POLICE])
    first = empty_store.counts(inside=False)
    ingest_police(empty_store, [BUNDLED_POLICE])
    assert empty_store.counts(inside=False).equals(first)
    assert int(first["incidents"].sum()) == BUNDLED_ROWS
    assert len(empty_store.loads()) == 2 and len(empty_store.partitions()) == BUNDLED_MONTHS


def test_loaded_months_of_a_source_and_dataset(empty_store, tmp_path):
    """Store.loaded_months: 'YYYY-MM', oldest first, of one source (and dataset); the six copies that
    derived this from partitions() each wrote it again."""
    assert empty_store.loaded_months() == []
    ingest_police(empty_store, [BUNDLED_POLICE])
    loaded = empty_store.loaded_months("police.uk")
    assert len(loaded) == BUNDLED_MONTHS and loaded == sorted(loaded) and loaded[0] == "2018-10"
    assert loaded[-1] == "2025-06" and "2022-05" not in loaded
    assert empty_store.loaded_months("police.uk", "hertfordshire") == loaded
    assert empty_store.loaded_months("police.uk", "kent") == [] and empty_store.loaded_months("fixmystreet") == []


def test_the_store_counts_the_district_unless_told_otherwise(bundled_store):
    """inside=True by default: a record assigned to no ward of the area (outside the district's outlines,
    or with no location) is counted only by a caller that asks for every record (inside=False)."""
    every = int(bundled_store.counts(by=("source",), inside=False)["incidents"].sum())
    district = int(bundled_store.counts(by=("source",))["incidents"].sum())
    assert every == BUNDLED_ROWS and district == rows_in_wards(bundled_store) < every
    assert len(bundled_store.incidents()) == district and len(bundled_store.incidents(inside=False)) == every
    wards = bundled_store.ward_summary()["incidents"].sum()
    assert wards == district


def test_republished_month_replaces_the_old_one(empty_store, tmp_path):
    ingest_police(empty_store, [BUNDLED_POLICE])
    with zipfile.ZipFile(BUNDLED_POLICE) as z:
        member = "2021-05/2021-05-hertfordshire-street.csv"
        lines = z.read(member).decode().splitlines()
    kept = lines[: 1 + (len(lines) - 1) // 3]
    path = tmp_path / "2021-05-hertfordshire-street.csv"
    path.write_text("\n".join(kept) + "\n")
    with pytest.raises(
        StoreError, match=f"2021-05: the new load has {len(kept) - 1:,} rows, the store holds {len(lines) - 1:,}"
    ):
        ingest_police(empty_store, [path])  # under half the stored month: refused unless asked for
    ingest_police(empty_store, [path], replace_smaller=True)
    by_month = empty_store.counts(by=("month",), inside=False).set_index("month")["incidents"]
    assert by_month[np.datetime64("2021-05-01")] == len(kept) - 1
    assert int(by_month.sum()) == BUNDLED_ROWS - (len(lines) - len(kept))
    part = empty_store.partitions().set_index("month").loc[np.datetime64("2021-05-01")]
    assert part["rows"] == len(kept) - 1 and part["load_id"] == 2


def test_exclusive_store_writes_smaller_row_groups_with_the_same_rows(tmp_path, county_police):
    """The command line's store (exclusive) writes 32,768-row groups: the county's 108,465 rows
    in 4 groups instead of 1; what is stored is the same."""
    stores = {}
    for exclusive in (False, True):
        cfg = config_with_store(tmp_path / str(exclusive), bundled=False)
        cfg.store_path.parent.mkdir()
        stores[exclusive] = open_store(cfg, exclusive=exclusive)
        ingest_police(stores[exclusive], [county_police])
    groups = {}
    for exclusive, store in stores.items():
        with store.connect() as con:
            groups[exclusive] = con.execute(
                "SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('incidents')"
            ).fetchall()[0][0]
    assert groups == {False: 1, True: 4}
    columns = ("source", "dataset", "record_id", "month", "category", "ward_code", "lsoa_code", "x", "y")
    read = [
        store.incidents(source=None, inside=False)[list(columns)].sort_values(list(columns)).reset_index(drop=True)
        for store in stores.values()
    ]
    assert len(read[0]) == 108_465 and read[0].equals(read[1])


def test_failed_ingest_leaves_previous_state(empty_store, tmp_path):
    ingest_police(empty_store, [BUNDLED_POLICE])
    before = empty_store.counts()
    good = tmp_path / "2021-05-hertfordshire-street.csv"
    good.write_text(",".join(police.HEADER) + "\n")
    bad = tmp_path / "zz-street.csv"
    bad.write_text("not,police,data\n1,2,3\n")
    with pytest.raises(LoadError):
        ingest_police(empty_store, [good, bad])
    assert empty_store.counts().equals(before) and len(empty_store.loads()) == 1


def test_rejections_are_stored_with_line_and_reason(empty_store, tmp_path):
    with zipfile.ZipFile(BUNDLED_POLICE) as z:
        lines = z.read("2021-02/2021-02-hertfordshire-street.csv").decode().splitlines()
    lines[5] = lines[5].replace(",2021-02,", ",2021-2,")
    path = tmp_path / "2021-02-hertfordshire-street.csv"
    path.write_text("\n".join(lines) + "\n")
    report = ingest_police(empty_store, [path])
    rej = empty_store.rejections()
    assert report.rows_read == len(lines) - 1 == report.rows_loaded + 1
    assert rej[["file", "line", "field"]].values.tolist() == [[str(path), 6, "Month"]]
    assert int(empty_store.counts(by=("source",))["incidents"].sum()) == report.rows_loaded


def test_county_outside_area_counted_and_kept(tmp_path, county_police):
    store = open_store(config_with_store(tmp_path, bundled=False))
    report = ingest_police(store, [county_police])
    assert report.rows_read == 108_465 == report.rows_loaded + len(report.rejected)
    counts = store.counts(by=("ward_code",), inside=False)
    assert int(counts["incidents"].sum()) == report.rows_loaded
    located_outside = report.outside_area
    no_ward = int(counts[counts["ward_code"].isna()]["incidents"].sum())
    assert no_ward == located_outside + report.no_location
    # the St Albans share of the county: rows whose point falls in a St Albans ward
    assert 10_000 < int(counts["incidents"].sum()) - no_ward < 12_500


def test_wards_2013_config(tmp_path, bundled_store):
    """The same bundled rows on the 2013-2022 wards (the default is the 2022 wards)."""
    assert "E05015801" in set(bundled_store.ward_summary()["ward_code"])
    cfg = config_with_store(tmp_path, WARDS_2013_CONFIG)
    store = open_store(cfg)
    summary = store.ward_summary()
    assert len(summary) == 20 and "E05004799" in set(summary["ward_code"])
    stored = int(store.counts(by=("source",), inside=False)["incidents"].sum())
    assert stored == BUNDLED_ROWS
    police_load = store.loads().query("source == 'police.uk'").iloc[0]
    assert int(summary["incidents"].sum()) + police_load["outside_area"] == stored


def test_second_district_from_its_own_config(tmp_path, county_police):
    """A made-up two-ward district over Watford, from its own GeoJSON and config: no code change."""
    x0, y0 = 508_000, 194_000
    wards = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}},
        "features": [
            {
                "type": "Feature",
                "properties": {"id": f"W{i}", "label": f"Ward {i}"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [x0 + 3000 * i, y0],
                            [x0 + 3000 * (i + 1), y0],
                            [x0 + 3000 * (i + 1), y0 + 5000],
                            [x0 + 3000 * i, y0 + 5000],
                            [x0 + 3000 * i, y0],
                        ]
                    ],
                },
            }
            for i in range(2)
        ],
    }
    (tmp_path / "wards.geojson").write_text(json.dumps(wards))
    (tmp_path / "district.toml").write_text("""
[area]
name = "Test District"
[wards]
file = "wards.geojson"
code_field = "id"
name_field = "label"
[lsoas]
file = "wards.geojson"
code_field = "id"
name_field = "label"
[store]
path = "test.duckdb"
""")
    from geodata import config as config_mod

    cfg = config_mod.load(tmp_path / "district.toml")
    store = open_store(cfg)
    ingest_police(store, [county_police / "2021-01"])
    got = store.ward_summary().set_index("ward_code")["incidents"].to_dict()
    gdf, _ = police.read(county_police / "2021-01")
    x, y = gdf["x"].to_numpy(), gdf["y"].to_numpy()
    box = lambda i: (x >= x0 + 3000 * i) & (x <= x0 + 3000 * (i + 1)) & (y >= y0) & (y <= y0 + 5000)  # noqa: E731
    on_line = box(0) & box(1)
    assert got == {"W0": int(box(0).sum()), "W1": int((box(1) & ~on_line).sum())}
    assert got["W0"] > 100 and got["W1"] > 100


def test_store_from_other_boundaries_is_refused(tmp_path):

    cfg = config_with_store(tmp_path, bundled=False)
    open_store(cfg)
    other = config_with_store(tmp_path, WARDS_2013_CONFIG, bundled=False)
    with pytest.raises(StoreError, match="other boundaries"):
        open_store(other)


def test_the_load_generation_counts_committed_loads_only(tmp_path):
    store = open_store(config_with_store(tmp_path, bundled=False))
    start = store.generation()
    month = tmp_path / "2025-07-hertfordshire-street.csv"
    row = "Hertfordshire Constabulary,Hertfordshire Constabulary,-0.336,51.752,On or near High Street,E01,x,Burglary,,"
    month.write_text("\n".join([",".join(police.HEADER), f"a,2025-07,{row}"]) + "\n")
    report = ingest_police(store, [month])
    assert store.generation() == start + 1 and report.months == ["2025-07"] and report.replaced == []
    again = ingest_police(store, [month])
    assert store.generation() == start + 2 and again.replaced == ["2025-07"]
    bad = tmp_path / "2025-08-hertfordshire-street.csv"
    bad.write_text("not,a,police,header\n1,2,3,4\n")
    with pytest.raises(LoadError):
        ingest_police(store, [month, bad])
    assert store.generation() == start + 2  # rolled back: nothing changed, so no new generation
    # another Store object on the same file (another process) reads the same generation
    assert open_store(config_with_store(tmp_path, bundled=False)).generation() == start + 2
