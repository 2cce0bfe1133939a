"""Patrol zones and emerging hot spots on the bundled data, checked against direct computations."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geodata import places
from geodata.methods import grid as grids
from geodata.methods.hotspots import emerging_cells, hotspot_cells
from geodata.methods.zones import COLUMNS, patrol_zones
from loaders.months import months


@pytest.fixture(scope="module")
def periods(bundled_store):
    return (
        bundled_store.incidents(start="2021-11", end="2022-01"),
        bundled_store.incidents(start="2021-08", end="2021-10"),
    )


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
    # zones do not overlap (parts of one hot area split for size may touch)
    geoms = frame.geometry.to_numpy()
    assert shapely.area(shapely.union_all(geoms)) == pytest.approx(shapely.area(geoms).sum())
    located = current.dropna(subset=["x", "y"])
    before = previous.dropna(subset=["x", "y"])
    idx = grids.cell_index(grid, located["x"].to_numpy(), located["y"].to_numpy())
    idx_before = grids.cell_index(grid, before["x"].to_numpy(), before["y"].to_numpy())
    for _, z in frame.iterrows():
        cells = np.flatnonzero(shapely.contains_xy(z.geometry, grid.x, grid.y))  # the zone's cells
        inside = np.isin(idx, cells)
        assert z["incidents"] == inside.sum() and z["previous"] == np.isin(idx_before, cells).sum()
        names = located[inside]["location_text"].map(places.bare)
        streets = names[names.map(places.is_street)].value_counts()
        top = int(streets.iloc[0])  # the busiest street (any of those tied on the top count)
        assert z["streets"][0][1] == top and z["streets"][0][0] in set(streets[streets == top].index)
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


def test_bad_arguments_are_named(bundled_store, periods):
    for kwargs, message in (
        ({"top": 0}, "top must be"),
        ({"min_class": 4}, "min_class must be"),
        ({"window": 0}, "window must be"),
    ):
        with pytest.raises(ValueError, match=message):
            patrol_zones(*periods, bundled_store.boundary(), **kwargs)


def test_emerging_cells_counts_and_classes(bundled_store):
    incidents = bundled_store.incidents(start="2021-01", end="2022-01").dropna(subset=["x", "y"])
    frame, grid = emerging_cells(incidents, bundled_store.boundary(), months("2021-01", "2022-01"))
    inside = frame["count"].sum()
    idx_total = len(incidents)
    assert inside <= idx_total and inside > 0.99 * idx_total
    assert set(frame["pattern"]) <= {"no pattern detected"} | {
        f"{k} hot spot"
        for k in (
            "new",
            "consecutive",
            "intensifying",
            "persistent",
            "diminishing",
            "sporadic",
            "oscillating",
            "historical",
        )
    } | {
        f"{k} cold spot"
        for k in (
            "new",
            "consecutive",
            "intensifying",
            "persistent",
            "diminishing",
            "sporadic",
            "oscillating",
            "historical",
        )
    }
    assert (frame["pattern"] != "no pattern detected").sum() > 0
    # a persistent or intensifying hot spot is among the busiest cells
    busy = frame[frame["pattern"].isin(["persistent hot spot", "intensifying hot spot"])]
    assert busy["count"].median() > np.percentile(frame["count"], 90)
    with pytest.raises(ValueError, match="at least 3 months"):
        emerging_cells(incidents, bundled_store.boundary(), ["2021-01", "2021-02"])
