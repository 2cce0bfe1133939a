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

Also here, for counts kept by area (an LSOA's residents, reports counted per LSOA): the overlaps of
two area sets (:func:`overlaps`), each part given whole to its best-fit area (:func:`best_fit`) or
shared among the areas it overlaps by area (:func:`area_shares`); and how far a point lies from the
edge of its area (:func:`edge_distance`).
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
    return labels[best[np.where(codes >= 0, codes, ux.size)]]  # no located point at all is no special case


def overlaps(parts: Areas, wholes: Areas) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every overlap of a part (e.g. an LSOA) with a whole (e.g. a ward): (part index, whole index,
    overlap area in m²), ordered by part then whole code; pairs that only touch are left out."""
    tree = shapely.STRtree(wholes.geometries)
    pi, wi = tree.query(parts.geometries, predicate="intersects")
    area = shapely.area(shapely.intersection(parts.geometries[pi], wholes.geometries[wi]))
    keep = area > 0
    pi, wi, area = pi[keep], wi[keep], area[keep]
    order = np.lexsort((wholes.codes[wi].astype(str), pi))
    return pi[order], wi[order], area[order]


def best_fit(parts: Areas, wholes: Areas) -> tuple[np.ndarray, np.ndarray]:
    """Each of ``parts`` (e.g. LSOAs) given whole to the one of ``wholes`` (e.g. wards) that
    covers most of its area (ONS best-fit by area; ties to the smallest code).

    Returns (code of the whole per part, None where none overlaps; share of the part's area
    inside that whole, 0..1). Counts aggregated through it keep their totals exactly; the share
    says how much of each part really lies in its ward.
    """
    pi, wi, area = overlaps(parts, wholes)
    n = len(parts.codes)
    codes = np.full(n, None, dtype=object)
    best = np.zeros(n)
    for p, w, a in zip(pi, wi, area):  # by part, then whole code: a tie keeps the smaller code
        if a > best[p]:
            best[p], codes[p] = a, wholes.codes[w]
    return codes, best / shapely.area(parts.geometries)


def area_shares(parts: Areas, wholes: Areas) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Area weights for sharing a count of each part (e.g. the residents of an LSOA) among the
    wholes it overlaps (e.g. wards): areal interpolation, which assumes the count is spread evenly
    over the part's area (Goodchild & Lam 1980; ONS's best-fit lookups give each part whole to one
    whole instead, :func:`best_fit`).

    Returns (part index, whole code, share) for every overlap, shares of a part summing to 1 over
    the wholes it overlaps: its overlaps divided by their sum, not by the part's area, so a part
    that the wholes' outline (a different generalisation) cuts a sliver off keeps its whole count
    and totals are kept exactly. A part overlapping no whole is not listed.
    """
    pi, wi, area = overlaps(parts, wholes)
    total = np.bincount(pi, weights=area, minlength=len(parts.codes))
    return pi, wholes.codes[wi], area / total[pi]


def edge_distance(areas: Areas, codes, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """For each point, its distance in metres to the outline of the area ``codes`` gives it (its
    own ward, as :func:`assign` gave it): the edge, the district's outer edge included, across which
    a finer outline could put it in another area. NaN where the code is missing or unknown.

    ``x``, ``y``: EPSG:27700 metres; ``areas`` sorted by code (:func:`geodata.boundaries.read`).
    """
    codes = np.asarray(codes, dtype=object)
    at = {c: i for i, c in enumerate(areas.codes)}
    index = np.array([at.get(c, -1) for c in codes], dtype="int64")
    out = np.full(codes.size, np.nan)
    ok = index >= 0
    edges = shapely.boundary(areas.geometries)
    out[ok] = shapely.distance(edges[index[ok]], shapely.points(np.asarray(x)[ok], np.asarray(y)[ok]))
    return out
