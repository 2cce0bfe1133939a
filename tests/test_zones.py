"""Patrol zones and emerging hot spots on the bundled data, checked against direct computations."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
import shapely

from geodata.export import gpx_bytes
from geodata.hotspots import emerging_cells, hotspot_cells
from geodata.months import months
from geodata.zones import COLUMNS, patrol_zones


@pytest.fixture(scope="module")
def periods(bundled_store):
    return (bundled_store.incidents(start="2021-11", end="2022-01"),
            bundled_store.incidents(start="2021-08", end="2021-10"))


@pytest.fixture(scope="module")
def zones(bundled_store, periods):
    return patrol_zones(*periods, bundled_store.boundary(), window=3, top=10)


def test_zones_are_merged_significant_cells_with_direct_counts(bundled_store, periods, zones):
    frame, grid = zones
    current, previous = periods
    assert list(frame.columns) == [*COLUMNS, "geometry"] and 1 <= len(frame) <= 10
    cells, _ = hotspot_cells(current.dropna(subset=["x", "y"]), bundled_store.boundary(), cell_size=grid.cell_size)
    hot = cells[cells["gi_class"] >= 2]
    # every hot cell lies in exactly one zone, or in a zone ranked below the top 10
    union = shapely.union_all(frame.geometry.to_numpy())
    in_zone = shapely.contains_xy(union, hot["x"].to_numpy(), hot["y"].to_numpy())
    assert in_zone.sum() == frame["cells"].sum()
    # zones do not touch each other (touching cells were merged)
    geoms = frame.geometry.to_numpy()
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            assert shapely.distance(geoms[i], geoms[j]) > 0
    located = current.dropna(subset=["x", "y"])
    for _, z in frame.iterrows():
        inside = shapely.contains_xy(z.geometry, located["x"].to_numpy(), located["y"].to_numpy())
        assert z["incidents"] == inside.sum()
        streets = located[inside]["location_text"].value_counts()
        assert z["streets"][0] == (streets.index[0], int(streets.iloc[0]))
        before = previous.dropna(subset=["x", "y"])
        assert z["previous"] == shapely.contains_xy(z.geometry, before["x"].to_numpy(), before["y"].to_numpy()).sum()
    assert frame["incidents"].is_monotonic_decreasing
    assert frame["zone"].tolist() == list(range(1, len(frame) + 1))


def test_harm_ranking_uses_the_weights(bundled_store, periods):
    weights = {c: 1.0 for c in periods[0]["category"].unique()}
    weights["Shoplifting"] = 50.0
    frame, _ = patrol_zones(*periods, bundled_store.boundary(), window=3, harm_weights=weights, top=10)
    assert frame["harm"].is_monotonic_decreasing
    for _, z in frame.iterrows():
        shop = dict(z["top_categories"]).get("Shoplifting")
        assert z["harm"] >= z["incidents"] + (49 * shop if shop else 0) - 1e-9
    with pytest.raises(ValueError, match="no harm weight for"):
        patrol_zones(*periods, bundled_store.boundary(), harm_weights={"Robbery": 1.0})


def test_gpx_has_a_waypoint_and_track_per_zone(zones):
    frame, _ = zones
    root = ET.fromstring(gpx_bytes(frame))
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    assert len(root.findall("g:wpt", ns)) == len(frame) == len(root.findall("g:trk", ns))
    lat = [float(p.get("lat")) for p in root.iter("{http://www.topografix.com/GPX/1/1}trkpt")]
    assert 51.6 < min(lat) and max(lat) < 51.9  # St Albans
    assert root.find("g:wpt/g:name", ns).text == "Zone 1"


def test_bad_arguments_are_named(bundled_store, periods):
    for kwargs, message in (({"top": 0}, "top must be"), ({"min_class": 4}, "min_class must be"),
                            ({"window": 0}, "window must be")):
        with pytest.raises(ValueError, match=message):
            patrol_zones(*periods, bundled_store.boundary(), **kwargs)


def test_emerging_cells_counts_and_classes(bundled_store):
    incidents = bundled_store.incidents().dropna(subset=["x", "y"])
    frame, grid = emerging_cells(incidents, bundled_store.boundary(), months("2021-01", "2022-01"))
    inside = frame["count"].sum()
    idx_total = len(incidents)
    assert inside <= idx_total and inside > 0.99 * idx_total
    assert set(frame["pattern"]) <= {"no pattern detected"} | {f"{k} hot spot" for k in
                                                                ("new", "consecutive", "intensifying", "persistent",
                                                                 "diminishing", "sporadic", "oscillating",
                                                                 "historical")} | {
        f"{k} cold spot" for k in ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic",
                                   "oscillating", "historical")}
    assert (frame["pattern"] != "no pattern detected").sum() > 0
    # a persistent or intensifying hot spot is among the busiest cells
    busy = frame[frame["pattern"].isin(["persistent hot spot", "intensifying hot spot"])]
    assert busy["count"].median() > np.percentile(frame["count"], 90)
    with pytest.raises(ValueError, match="at least 3 months"):
        emerging_cells(incidents, bundled_store.boundary(), ["2021-01", "2021-02"])
