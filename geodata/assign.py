"""Assign points to areas (wards, LSOAs) by point-in-polygon in EPSG:27700.

Rule: a point belongs to the areas whose polygon *covers* it (interior or
boundary). A point on the shared edge of two or more areas goes to the one with
the smallest code, so every point inside the area gets exactly one code and the
result does not depend on row or file order. ``geopandas.sjoin(predicate=
"within")`` instead loses such points, and police.uk points sit on road centre
lines, which is where ward edges run.

Each distinct coordinate is tested once (police.uk points are snapped to a fixed
set of map points), with an STRtree over the distinct points queried by each
polygon: ~40x faster than ``sjoin(within)`` on 1M rows (shared/reference).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geodata.boundaries import Areas


def assign(areas: Areas, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Return, for each point, the code of the area covering it (object array, ``None`` outside).

    ``x``, ``y``: EPSG:27700 metres; NaN (no location) gives ``None``.
    """
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    if x.shape != y.shape:
        raise ValueError(f"x and y differ in length ({x.size} and {y.size})")
    out = np.full(x.size, None, dtype=object)
    codes, uniques = pd.factorize(x + 1j * y)
    if uniques.size == 0:
        return out
    points = shapely.points(uniques.real, uniques.imag)
    tree = shapely.STRtree(points)
    area_idx, point_idx = tree.query(areas.geometries, predicate="covers")
    # areas are sorted by code, so the smallest area index is the smallest code
    first = np.full(uniques.size, -1, dtype="int64")
    order = np.lexsort((area_idx, point_idx))
    p_sorted, a_sorted = point_idx[order], area_idx[order]
    keep = np.r_[True, p_sorted[1:] != p_sorted[:-1]]
    first[p_sorted[keep]] = a_sorted[keep]
    per_unique = np.where(first >= 0, areas.codes.astype(object)[np.maximum(first, 0)], None)
    located = codes >= 0
    out[located] = per_unique[codes[located]]
    return out
