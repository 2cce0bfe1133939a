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
    best = np.full(ux.size + 1, outside, dtype="int64")  # the last entry: points with no location
    bounds = shapely.bounds(areas.geometries)
    for i in range(len(areas.codes) - 1, -1, -1):
        x0, y0, x1, y1 = bounds[i]
        candidates = np.flatnonzero((ux >= x0) & (ux <= x1) & (uy >= y0) & (uy <= y1))
        if candidates.size:
            shapely.prepare(areas.geometries[i])
            best[candidates[shapely.intersects_xy(areas.geometries[i], ux[candidates], uy[candidates])]] = i
    labels = np.full(outside + 1, None, dtype=object)  # index `outside` -> None
    labels[:outside] = areas.codes
    return labels[best[np.where(codes >= 0, codes, ux.size)]]  # a file with no located point is no special case


def best_fit(parts: Areas, wholes: Areas) -> tuple[np.ndarray, np.ndarray]:
    """Each of ``parts`` (e.g. LSOAs) given whole to the one of ``wholes`` (e.g. wards) that
    covers most of its area (ONS best-fit by area; ties to the smallest code).

    Returns (code of the whole per part, None where none overlaps; share of the part's area
    inside that whole, 0..1). Counts aggregated through it keep their totals exactly; the share
    says how much of each part really lies in its ward.
    """
    tree = shapely.STRtree(wholes.geometries)
    pi, wi = tree.query(parts.geometries, predicate="intersects")
    overlap = shapely.area(shapely.intersection(parts.geometries[pi], wholes.geometries[wi]))
    n = len(parts.codes)
    codes = np.full(n, None, dtype=object)
    shares = np.zeros(n)
    areas = shapely.area(parts.geometries)
    best = np.full(n, -1.0)
    for p, w, a in sorted(zip(pi, wi, overlap), key=lambda t: (t[0], str(wholes.codes[t[1]]))):
        if a > best[p]:
            best[p], codes[p] = a, wholes.codes[w]
    ok = best > 0
    shares[ok] = best[ok] / areas[ok]
    codes[~ok] = None
    return codes, shares
