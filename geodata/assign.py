"""Assign points to areas (wards, LSOAs) by point-in-polygon in EPSG:27700.

Rule: a point belongs to the areas whose polygon *covers* it (interior or
boundary). A point on the shared edge of two or more areas goes to the one with
the smallest code, so every point inside the area gets exactly one code and the
result does not depend on row or file order. ``geopandas.sjoin(predicate=
"within")`` instead loses such points, and police.uk points sit on road centre
lines, which is where ward edges run.

Method: each distinct coordinate is tested once (police.uk points are snapped
to a fixed set of map points); per area, a bounding-box filter then
``shapely.intersects_xy`` on the prepared polygon (for a point, intersects =
covers). Areas are visited from the largest code down, so the smallest covering
code is the one left. No point geometries are built at all.
"""
from __future__ import annotations

import numpy as np
import shapely

from geodata.boundaries import Areas
from loaders.coords import unique_points


def assign(areas: Areas, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Return, for each point, the code of the area covering it (object array, ``None`` outside).

    ``x``, ``y``: EPSG:27700 metres; NaN (no location) gives ``None``.
    ``areas`` must be sorted by code, as :func:`geodata.boundaries.read` returns them.
    """
    codes, ux, uy = unique_points(x, y)
    outside = len(areas.codes)
    best = np.full(ux.size, outside, dtype="int64")
    bounds = shapely.bounds(areas.geometries)
    for i in range(len(areas.codes) - 1, -1, -1):
        x0, y0, x1, y1 = bounds[i]
        candidates = np.flatnonzero((ux >= x0) & (ux <= x1) & (uy >= y0) & (uy <= y1))
        if candidates.size:
            shapely.prepare(areas.geometries[i])
            best[candidates[shapely.intersects_xy(areas.geometries[i], ux[candidates], uy[candidates])]] = i
    labels = np.append(areas.codes.astype(object), None)  # index `outside` -> None
    return labels[np.where(codes >= 0, best[np.maximum(codes, 0)], outside)]
