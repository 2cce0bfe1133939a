"""Patrol zones: significant Gi* hot cells grouped into patrol-sized connected parts, ranked, with
their streets, places and trend.

Method: Gi* hot spots on a grid (:func:`geodata.methods.hotspots.hotspot_cells`,
adjacent-cell neighbourhood, Benjamini-Hochberg adjusted); cells whose class is
at least ``min_class`` (default 2: hot at 95% confidence or more, ArcGIS
Gi_Bin) are grouped where they touch (edge or corner, as the Gi* neighbourhood
does), under two stated limits:

- **area**: a zone covers at most ``max_area_km2`` (default :data:`MAX_ZONE_KM2` = 0.5 km2,
  a square of about 700 m a side: its edge is a 35-minute walk at 5 km/h). A hot area
  larger than that is split into its busiest connected parts: a zone starts at the busiest
  hot cell not yet in a zone and grows by the busiest hot cell touching it that still fits
  under the cap (busiest: most incidents, or most harm when ranked by harm; ties to the
  lower cell id), until none fits; then the next zone starts on what is left. The cell size
  from the data is capped so that one cell fits (0.5 km2: 700 m); a chosen cell larger than
  the cap is in no zone, and the note says so.
- **incidents**: a zone holds at least ``min_incidents`` incidents (default
  :data:`MIN_ZONE_INCIDENTS` = 5: below 5 a count is not published under the partnership's
  disclosure rule, and a patrol is not sent to one or two crimes); smaller parts are
  counted in the note, not shown.

The hot spot rules of :mod:`geodata.methods.hotspots` apply first: the cell size comes from the data,
and with fewer than 30 incidents no cell is hot, so no zone is built (the frame's
``attrs["note"]`` says why). An incident belongs to the zone of its grid cell
(:func:`geodata.methods.grid.cell_index`). Zones are ranked by incidents (or by harm, the sum of
per-category weights, when ``harm_weights`` is given), largest first; ties by zone centroid,
west to east, so the order is stable.

Each zone lists its named **streets** (the police.uk ``Location`` text with "On or near"
removed) with counts, most first, each at its busiest map point in the zone; and its
**places**: police.uk place labels (:data:`geodata.places.PLACE_LABELS`, "Supermarket",
"Parking Area", ...), each beside the nearest named street map point and flagged when the
label marks where crimes are recorded rather than committed (:data:`geodata.places.RECORDED_AT`,
"Police Station"). Its **trend**: incidents in the zone in the period against the ``window``
months before, with the change test's p (:func:`geodata.methods.change.rate_test`: the dispersion pooled
over every zone's monthly counts in the two periods, :func:`geodata.methods.change.dispersion`, never
below 1; no p when it cannot be estimated, e.g. one-month periods, and the note says why), and its count
per month.
police.uk gives the month only: no day, no time of day.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from typing import Any

import geopandas
import numpy as np
import pandas as pd
import shapely

from geodata import places as place_rules
from geodata.methods import grid as grids
from geodata.methods import validate
from geodata.methods.change import dispersion, rate_test
from geodata.methods.hotspots import hotspot_cells
from loaders.months import of as month_of

#: Fewest incidents a patrol zone may hold.
MIN_ZONE_INCIDENTS = 5
#: Largest area a patrol zone may cover, km2.
MAX_ZONE_KM2 = 0.5

#: Zone columns, in order.
COLUMNS = (
    "zone",
    "incidents",
    "harm",
    "previous",
    "change_pct",
    "p",
    "cells",
    "area_km2",
    "top_categories",
    "streets",
    "places",
    "months",
    "centre_x",
    "centre_y",
)


def _touching(geoms: np.ndarray, tolerance: float) -> list[set[int]]:
    """For each geometry, the indices of the others it touches (edge or corner, within ``tolerance``)."""
    tree = shapely.STRtree(geoms)
    left, right = tree.query(shapely.buffer(geoms, tolerance, join_style="mitre"), predicate="intersects")
    out: list[set[int]] = [set() for _ in range(len(geoms))]
    for a, b in zip(left.tolist(), right.tolist()):
        if a != b:
            out[a].add(b)
    return out


def _connected(touching: list[set[int]]) -> list[list[int]]:
    """Connected groups of ``0..n-1`` under the neighbour sets ``touching``."""
    seen, groups = set(), []
    for start in range(len(touching)):
        if start in seen:
            continue
        group, stack = [], [start]
        seen.add(start)
        while stack:
            i = stack.pop()
            group.append(i)
            for j in touching[i] - seen:
                seen.add(j)
                stack.append(j)
        groups.append(sorted(group))
    return groups


def split_busiest(value: np.ndarray, area: np.ndarray, touching: list[set[int]], max_area: float) -> list[list[int]]:
    """Group cells ``0..n-1`` into connected parts of at most ``max_area`` (module docstring):
    start at the busiest cell left, add the busiest touching cell that fits, until none fits;
    repeat on the rest. ``value``: busyness per cell; ``area``: per cell, in the unit of
    ``max_area``; ``touching``: neighbour sets. Cells larger than ``max_area`` are in no part.
    Parts are returned in the order they were built (busiest seed first)."""
    order = sorted(range(len(value)), key=lambda i: (-value[i], i))
    left = {i for i in order if area[i] <= max_area}
    parts = []
    for seed in order:
        if seed not in left:
            continue
        part, size = [seed], area[seed]
        left.discard(seed)
        frontier = set(touching[seed]) & left
        while frontier:
            fits = [i for i in frontier if size + area[i] <= max_area]
            if not fits:
                break
            best = min(fits, key=lambda i: (-value[i], i))
            part.append(best)
            size += area[best]
            left.discard(best)
            frontier = (frontier | touching[best]) & left
        parts.append(part)
    return parts


def _busiest_points(names, x, y) -> list[tuple[str, int, float, float]]:
    """Per name: (name, incidents, x, y) with (x, y) the map point holding most of them (ties: smallest
    x, then y); most incidents first, ties by name."""
    per_point = Counter(zip(names, x, y))
    best: dict = {}
    for (name, px, py), n in per_point.items():
        if name not in best or (-n, px, py) < best[name]:
            best[name] = (-n, px, py)
    totals = Counter(names)
    out = [(str(name), int(totals[name]), float(px), float(py)) for name, (_, px, py) in best.items()]
    return sorted(out, key=lambda r: (-r[1], r[0]))


def _names(locations: pd.Series) -> pd.Series:
    """:func:`geodata.places.bare` of each location, worked out once per distinct text."""
    lookup = {text: place_rules.bare(text) for text in locations.dropna().unique()}
    return locations.map(lookup).fillna("")


class NamedPoints:
    """The named street map points of ``points`` (x, y, location_text), indexed once for the nearest
    street to a place label (a k-d tree; scipy imported when first needed)."""

    def __init__(self, points: pd.DataFrame):
        names = _names(points["location_text"])
        keep = names.map(place_rules.is_street).astype(bool).to_numpy()
        self.names = names.to_numpy()[keep]
        self.xy = points[["x", "y"]].to_numpy(dtype="float64")[keep]
        self._tree: Any = None

    def nearest(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(metres, name) of the nearest named point to each of ``xy`` (NaN and "" when there is none)."""
        if not len(self.names):
            return np.full(len(xy), np.nan), np.full(len(xy), "", dtype=object)
        if self._tree is None:
            from scipy.spatial import cKDTree

            self._tree = cKDTree(self.xy)
        dist, idx = self._tree.query(xy)
        return dist, self.names[idx]


def streets_and_places(
    rows: pd.DataFrame, street_points: pd.DataFrame | NamedPoints | None = None, limit: int | None = None
) -> tuple[list[tuple], list[tuple]]:
    """The named streets and the place labels of incidents ``rows`` (x, y, location_text).

    Returns (streets, places): streets as ``(name, incidents, x, y)``, most first (at most
    ``limit``); places as ``(label, incidents, x, y, nearest street, metres to it, flag)``, the
    nearest street taken from ``street_points`` (x, y, location_text, or :class:`NamedPoints` of
    them; default the named points of ``rows``; "" when there is none) and ``flag`` the reason from
    :data:`geodata.places.RECORDED_AT` or "". Incidents without location text are in neither.
    """
    names = _names(rows["location_text"]).to_numpy()
    x, y = rows["x"].to_numpy(dtype="float64"), rows["y"].to_numpy(dtype="float64")
    street = np.fromiter((place_rules.is_street(n) for n in names), bool, len(names))
    place = np.isin(names, list(place_rules.PLACE_LABELS))
    street_list = _busiest_points(names[street], x[street], y[street])[:limit]
    found = _busiest_points(names[place], x[place], y[place])
    place_list = []
    if found:
        if not isinstance(street_points, NamedPoints):
            street_points = NamedPoints(rows[street] if street_points is None else street_points)
        dist, near = street_points.nearest(np.array([(px, py) for _, _, px, py in found], dtype="float64"))
        for (name, incidents, px, py), d, n in zip(found, dist, near):
            place_list.append((name, incidents, px, py, str(n), float(d), place_rules.flag(name)))
    return street_list, place_list


def patrol_zones(
    current: pd.DataFrame,
    previous: pd.DataFrame,
    boundary,
    cell_size: float | None = None,
    top: int = 5,
    min_class: int = 2,
    harm_weights: dict[str, float] | None = None,
    window: int = 1,
    streets: int | None = None,
    min_incidents: int = MIN_ZONE_INCIDENTS,
    max_area_km2: float = MAX_ZONE_KM2,
    street_points: pd.DataFrame | None = None,
    periods: tuple[list[str], list[str]] | None = None,
):
    """Top ``top`` patrol zones of ``current`` incidents (canonical frame: x, y, month, category,
    location_text), with the trend against ``previous`` (the same area, the ``window`` months before).

    Returns (GeoDataFrame of zones with :data:`COLUMNS`, EPSG:27700; the grid used). A zone's
    ``streets`` is a list of (street, incidents, x, y) (at most ``streets``, default all);
    ``places`` a list of (label, incidents, x, y, nearest street, metres, flag)
    (:func:`streets_and_places`, nearest among ``street_points``, default the named points of
    ``current`` and ``previous``); ``top_categories`` a list of (category, incidents);
    ``months`` a list of (YYYY-MM, incidents) in the period, months with none left out.
    ``periods``: the months ('YYYY-MM') of the period and of the one before, for the trend's dispersion
    (default: the months present in ``current`` and ``previous``).
    ``attrs["note"]``: how the hot spots were tested (or why not), how hot areas were split,
    how many parts were too small, and the trend test's dispersion.
    """
    for name, frame in (("current", current), ("previous", previous)):
        validate.columns(name, frame, ("x", "y", "month", "category", "location_text"), "give canonical rows")
        validate.projected_metres(name, frame)
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top!r}")
    if min_class not in (1, 2, 3):
        raise ValueError(f"min_class must be 1, 2 or 3 (90, 95, 99% confidence), got {min_class!r}")
    if window < 1:
        raise ValueError(f"window must be at least 1 month, got {window!r}")
    if not isinstance(min_incidents, (int, np.integer)) or min_incidents < 1:
        raise ValueError(f"min_incidents must be a whole number >= 1, got {min_incidents!r}")
    if not isinstance(max_area_km2, (int, float, np.number)) or not np.isfinite(max_area_km2) or max_area_km2 <= 0:
        raise ValueError(f"max_area_km2 must be a positive number of km2, got {max_area_km2!r}")
    current = current.dropna(subset=["x", "y"])
    previous = previous.dropna(subset=["x", "y"])
    weights = None
    if harm_weights is not None:
        unweighted = sorted(set(current["category"]) - set(harm_weights))
        if unweighted:
            raise ValueError(f"no harm weight for {', '.join(unweighted)}")
        weights = current["category"].map(harm_weights).to_numpy(dtype="float64")
    capped = ""
    if cell_size is None:  # the data's cell size, but never a cell larger than a zone may be
        cell_size = grids.data_cell_size(
            boundary, current["x"].to_numpy(dtype="float64"), current["y"].to_numpy(dtype="float64")
        )
        fits = float(max(50, math.floor(math.sqrt(max_area_km2 * 1e6) / 50) * 50))
        if cell_size > fits:
            capped = f"; cells {fits:g} m, not the data's {cell_size:g} m, so that one cell fits in a zone"
            cell_size = fits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", grids.FineGridWarning)
        cells, grid = hotspot_cells(current, boundary, cell_size=cell_size, weights=weights)
    cells.attrs["note"] += capped
    hot = np.flatnonzero(cells["gi_class"].to_numpy() >= min_class)
    empty = geopandas.GeoDataFrame({c: [] for c in COLUMNS}, geometry=[], crs="EPSG:27700")
    empty.attrs["note"] = cells.attrs["note"]
    if not len(hot):
        return empty, grid
    cur_cell = grids.cell_index(grid, current["x"].to_numpy(dtype="float64"), current["y"].to_numpy(dtype="float64"))
    prev_cell = grids.cell_index(grid, previous["x"].to_numpy(dtype="float64"), previous["y"].to_numpy(dtype="float64"))
    n_now = np.bincount(cur_cell[cur_cell >= 0], minlength=len(grid))
    n_before = np.bincount(prev_cell[prev_cell >= 0], minlength=len(grid))
    geoms = grid.geometry[hot]
    area_km2 = shapely.area(geoms) / 1e6
    busy = cells["count"].to_numpy(dtype="float64")[hot]
    touching = _touching(geoms, grid.cell_size * 1e-3)
    parts = split_busiest(busy, area_km2, touching, max_area_km2)
    n_split = sum(area_km2[a].sum() > max_area_km2 for a in _connected(touching))
    named = NamedPoints(pd.concat([current, previous]) if street_points is None else street_points)
    rows, small = [], 0
    groups: list[np.ndarray] = []
    trend: list[tuple[int, int]] = []  # (incidents, previous) per zone row
    now_months, before_months = periods or (
        sorted(set(current["month"].map(month_of))),
        sorted(set(previous["month"].map(month_of))),
    )
    for part in parts:
        members = hot[part]
        n = int(n_now[members].sum())
        if n < min_incidents:
            small += 1
            continue
        now = current[np.isin(cur_cell, members)]
        before = int(n_before[members].sum())
        harm = float(now["category"].map(harm_weights).sum()) if harm_weights else np.nan
        geom = shapely.union_all(grid.geometry[members])
        centre = shapely.centroid(geom)
        cats = now["category"].value_counts()
        street_list, place_list = streets_and_places(now, named, streets)
        per_month = now["month"].map(month_of).value_counts().sort_index()
        was = previous[np.isin(prev_cell, members)]["month"].map(month_of).value_counts()
        groups += [
            per_month.reindex(now_months, fill_value=0).to_numpy(),
            was.reindex(before_months, fill_value=0).to_numpy(),
        ]
        trend.append((n, before))
        rows.append(
            {
                "incidents": n,
                "harm": harm,
                "previous": before,
                "change_pct": 100.0 * (n - before) / before if before else np.nan,
                "p": np.nan,
                "cells": len(members),
                "area_km2": float(area_km2[part].sum()),
                "top_categories": list(zip(cats.index.tolist()[:3], map(int, cats.to_numpy()[:3]))),
                "streets": street_list,
                "places": place_list,
                "months": list(zip(per_month.index.tolist(), map(int, per_month.to_numpy()))),
                "centre_x": shapely.get_x(centre),
                "centre_y": shapely.get_y(centre),
                "geometry": geom,
            }
        )
    too_big = int((area_km2 > max_area_km2).sum())
    note = cells.attrs["note"]
    if too_big:
        note += (
            f"; {too_big} hot cell(s) of {grid.cell_size:g} m are larger than the {max_area_km2:g} km² zone "
            "limit and in no zone: choose a smaller grid"
        )
    if n_split:
        note += (
            f"; {n_split} hot area(s) larger than {max_area_km2:g} km² split into their busiest connected "
            f"parts of at most {max_area_km2:g} km²"
        )
    if small:
        note += f"; {small} part(s) with fewer than {min_incidents} incidents are not zones"
    if rows:
        try:
            disp = dispersion(groups, f"the zones' {len(now_months) + len(before_months)} months")
            for row, (zone_n, zone_before) in zip(rows, trend):
                row["p"] = rate_test(zone_n, zone_before, window, window, disp)
            note += f"; trend test: quasi-Poisson, {disp.text}"
        except ValueError as err:
            note += f"; no trend test: {err}"
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
