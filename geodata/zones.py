"""Patrol zones: adjacent significant Gi* hot cells merged, ranked, with their streets and trend.

Method: Gi* hot spots on a grid (:func:`geodata.hotspots.hotspot_cells`,
adjacent-cell neighbourhood, Benjamini-Hochberg adjusted); cells whose class is
at least ``min_class`` (default 2: hot at 95% confidence or more, ArcGIS
Gi_Bin) are merged where they touch (edge or corner, as the Gi* neighbourhood
does); each merged group holding at least ``min_incidents`` incidents (default
:data:`MIN_ZONE_INCIDENTS` = 5: below 5 a count is not published under the
partnership's disclosure rule, and a patrol is not sent to one or two crimes) is a
zone (a cell can be hot through its neighbours alone). The hot spot rules of
:mod:`geodata.hotspots` apply first: the cell size comes from the data, and with
fewer than 30 incidents no cell is hot, so no zone is built (the frame's
``attrs["note"]`` says why). Zones are ranked by incidents (or by harm,
the sum of per-category weights, when ``harm_weights`` is given), largest
first; ties by zone centroid, west to east, so the order is stable.

Each zone lists its streets: the police.uk ``Location`` text ("On or near
<street>" with the prefix removed, :attr:`location_text`) of the incidents
inside it, with counts, most first; and its trend: incidents in the zone in the
period against the ``window`` months before, with the E-test p
(:func:`geodata.change.e_test`).
"""
from __future__ import annotations

import warnings

import geopandas
import numpy as np
import pandas as pd
import shapely

from geodata import grid as grids
from geodata.change import e_test
from geodata.hotspots import hotspot_cells

#: Fewest incidents a patrol zone may hold.
MIN_ZONE_INCIDENTS = 5

#: Zone columns, in order.
COLUMNS = ("zone", "incidents", "harm", "previous", "change_pct", "p", "cells", "area_km2", "top_categories",
           "streets", "centre_x", "centre_y")


def patrol_zones(current: pd.DataFrame, previous: pd.DataFrame, boundary, cell_size: float | None = None,
                 top: int = 5, min_class: int = 2, harm_weights: dict[str, float] | None = None,
                 window: int = 1, streets: int = 5, min_incidents: int = MIN_ZONE_INCIDENTS):
    """Top ``top`` patrol zones of ``current`` incidents (canonical frame: x, y, category,
    location_text), with the trend against ``previous`` (the same area, the ``window`` months before).

    Returns (GeoDataFrame of zones with :data:`COLUMNS`, EPSG:27700; the grid used). A zone's
    ``streets`` is a list of (street, incidents); ``top_categories`` a list of (category, incidents).
    Groups of hot cells holding fewer than ``min_incidents`` incidents are not zones.
    ``attrs["note"]``: how the hot spots were tested (or why not), and how many groups were too small.
    """
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top!r}")
    if min_class not in (1, 2, 3):
        raise ValueError(f"min_class must be 1, 2 or 3 (90, 95, 99% confidence), got {min_class!r}")
    if window < 1:
        raise ValueError(f"window must be at least 1 month, got {window!r}")
    if not isinstance(min_incidents, (int, np.integer)) or min_incidents < 1:
        raise ValueError(f"min_incidents must be a whole number >= 1, got {min_incidents!r}")
    current = current.dropna(subset=["x", "y"])
    previous = previous.dropna(subset=["x", "y"])
    weights = None
    if harm_weights is not None:
        unweighted = sorted(set(current["category"]) - set(harm_weights))
        if unweighted:
            raise ValueError(f"no harm weight for {', '.join(unweighted)}")
        weights = current["category"].map(harm_weights).to_numpy(dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", grids.FineGridWarning)
        cells, grid = hotspot_cells(current, boundary, cell_size=cell_size, weights=weights)
    hot = cells[cells["gi_class"] >= min_class]
    empty = geopandas.GeoDataFrame({c: [] for c in COLUMNS}, geometry=[], crs="EPSG:27700")
    empty.attrs["note"] = cells.attrs["note"]
    if hot.empty:
        return empty, grid
    # touching cells (edges or corners) -> one zone: buffer by a hair so corner contact merges
    merged = shapely.union_all(shapely.buffer(hot.geometry.to_numpy(), grid.cell_size * 1e-3, join_style="mitre"))
    parts = shapely.get_parts(merged)
    zones = shapely.buffer(parts, -grid.cell_size * 1e-3, join_style="mitre")
    rows = []
    small = 0
    cx = current["x"].to_numpy(dtype="float64")
    cy = current["y"].to_numpy(dtype="float64")
    px = previous["x"].to_numpy(dtype="float64")
    py = previous["y"].to_numpy(dtype="float64")
    for geom, part in zip(zones, parts):
        inside = shapely.contains_xy(part, cx, cy)
        now = current[inside]
        before = int(shapely.contains_xy(part, px, py).sum())
        n = len(now)
        if n < min_incidents:
            small += 1
            continue
        harm = float(now["category"].map(harm_weights).sum()) if harm_weights else np.nan
        p = e_test(n, before, window, window)
        locs = now["location_text"].fillna("(no location text)").value_counts()
        cats = now["category"].value_counts()
        centre = shapely.centroid(geom)
        rows.append({"incidents": n, "harm": harm, "previous": before,
                     "change_pct": 100.0 * (n - before) / before if before else np.nan, "p": p,
                     "cells": int(shapely.contains_xy(part, hot["x"].to_numpy(), hot["y"].to_numpy()).sum()),
                     "area_km2": shapely.area(geom) / 1e6,
                     "top_categories": list(zip(cats.index.tolist()[:3], map(int, cats.to_numpy()[:3]))),
                     "streets": list(zip(locs.index.tolist()[:streets], map(int, locs.to_numpy()[:streets]))),
                     "centre_x": shapely.get_x(centre), "centre_y": shapely.get_y(centre), "geometry": geom})
    note = cells.attrs["note"] + (f"; {small} group(s) of hot cells with fewer than {min_incidents} incidents "
                                  "are not zones" if small else "")
    empty.attrs["note"] = note
    if not rows:
        return empty, grid
    frame = geopandas.GeoDataFrame(rows, geometry="geometry", crs="EPSG:27700")
    key = "harm" if harm_weights else "incidents"
    frame = frame.sort_values([key, "centre_x"], ascending=[False, True]).head(top).reset_index(drop=True)
    frame.insert(0, "zone", np.arange(1, len(frame) + 1))
    frame = frame[list(COLUMNS) + ["geometry"]]
    frame.attrs["note"] = note
    return frame, grid
