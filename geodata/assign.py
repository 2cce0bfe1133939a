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
import shapely

from geodata.boundaries import Areas
from loaders.coords import unique_points


def assign(areas: Areas, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Return, for each point, the code of the area covering it (object array, ``None`` outside).

    ``x``, ``y``: EPSG:27700 metres; NaN (no location) gives ``None``.
    """
    codes, ux, uy = unique_points(x, y)
    if ux.size == 0:
        return np.full(codes.size, None, dtype=object)
    points = shapely.points(ux, uy)
    tree = shapely.STRtree(points)
    area_idx, point_idx = tree.query(areas.geometries, predicate="covers")
    # areas are sorted by code, so the smallest covering area index is the smallest code
    first = np.full(ux.size, len(areas.codes), dtype="int64")
    np.minimum.at(first, point_idx, area_idx)
    first[first == len(areas.codes)] = -1
    labels = np.append(areas.codes.astype(object), None)  # index -1 -> None (outside)
    per_point = first[codes]
    per_point[codes < 0] = -1
    return labels[per_point]
