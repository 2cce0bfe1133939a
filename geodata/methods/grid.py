"""Grids of square or hexagonal cells over an area, and counts of incidents per cell.

A :class:`Grid` covers the bounding box of an area and keeps the cells that
intersect the area itself (clipped to the district boundary, not its convex
hull as sfhotspot does). Cell geometries are clipped to the boundary; the
statistics use the cell centres.

Cell size from the area alone (:func:`auto_cell_size`): the shorter side of the
area's bounding box divided by 50, rounded down to a multiple of 50 m, and never
below 50 m. This is sfhotspot's rule (Ashby, sfhotspot v1.0.0 ``set_cell_size``)
with a 50 m floor instead of 100 m: St Albans' shorter side is ~17 km, which
gives 250 m cells.

Cell size from the data (:func:`data_cell_size`, the default of the hot spot
analyses): twice the mean nearest-neighbour distance between the incidents'
distinct locations, rounded down to a multiple of 50 m, bounded below by the
area rule and above by the shorter side / 10 (rounded down to 50 m). Under
complete spatial randomness the expected nearest-neighbour distance is
``0.5 / sqrt(density)`` (Clark & Evans 1954), so twice the mean is the side of a
square holding about one location: sparse data get larger cells. ArcGIS Pro's
Optimized Hot Spot Analysis likewise sizes its fishnet from the incidents'
nearest-neighbour distances. Measured on the bundled data: all crime over 13
months 250 m (the floor), all crime in 2022-01 350 m, burglary 2021-08..2022-01
550 m, robbery over 13 months 1,350 m (the cap).

A grid is "too fine" (:class:`FineGridWarning`) when there are fewer than
:data:`MIN_MEAN_PER_CELL` (0.5) incidents per cell on average, or over 1,000,000
cells; the exact test (:mod:`geodata.methods.hotspots`, :mod:`geodata.methods.gistar_exact`)
keeps such counts from making hot spots out of scattered incidents.

Hexagonal cells are pointy-topped; ``cell_size`` is the distance between the
centres of adjacent cells (the flat-to-flat width), and a point belongs to the
hexagon with the nearest centre (the hexagonal tiling is the Voronoi diagram of
its centres), so assignment is exact.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import shapely

from geodata.methods import validate

#: Below this mean number of incidents per cell, counting warns that the grid is too fine.
MIN_MEAN_PER_CELL = 0.5
MAX_CELLS = 1_000_000
#: The data-driven cell is at most the shorter side of the area divided by this.
MAX_CELL_DIVISOR = 10


class FineGridWarning(UserWarning):
    """The grid has more cells than the data can fill, or is very large."""


@dataclass(frozen=True)
class Grid:
    """Cells over an area. ``x``, ``y`` are cell centres (EPSG:27700); ``geometry`` is clipped."""

    shape: str
    cell_size: float
    x: np.ndarray
    y: np.ndarray
    geometry: np.ndarray
    col: np.ndarray
    row: np.ndarray
    origin: tuple[float, float]
    n_cols: int
    n_rows: int

    @property
    def cell_id(self) -> np.ndarray:
        """Stable cell ids: ``row * n_cols + col`` of the uncut grid."""
        return self.row.astype("int64") * self.n_cols + self.col

    def __len__(self) -> int:
        return self.x.size

    def to_geodataframe(self, **columns):
        """The cells as a GeoDataFrame (EPSG:27700) with ``cell_id, x, y`` and ``columns``."""
        import geopandas

        return geopandas.GeoDataFrame(
            {"cell_id": self.cell_id, "x": self.x, "y": self.y, **columns}, geometry=self.geometry, crs="EPSG:27700"
        )


def auto_cell_size(boundary) -> float:
    """Shorter side of ``boundary``'s bounding box / 50, floored to a multiple of 50 m, at least 50 m."""
    x0, y0, x1, y1 = shapely.bounds(boundary)
    return float(max(50, math.floor(min(x1 - x0, y1 - y0) / 50 / 50) * 50))


def data_cell_size(boundary, x, y) -> float:
    """Cell size from the incidents at ``x``, ``y`` (module docstring): 2 x the mean
    nearest-neighbour distance of their distinct locations, floored to 50 m, between
    :func:`auto_cell_size` and the shorter side / :data:`MAX_CELL_DIVISOR`. Fewer than
    two distinct locations: the upper bound."""
    from scipy.spatial import cKDTree

    x0, y0, x1, y1 = shapely.bounds(boundary)
    low = auto_cell_size(boundary)
    high = max(low, math.floor(min(x1 - x0, y1 - y0) / MAX_CELL_DIVISOR / 50) * 50)
    xy = np.column_stack([np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")])
    xy = np.unique(xy[np.isfinite(xy).all(axis=1)], axis=0)
    if len(xy) < 2:
        return float(high)
    nearest = cKDTree(xy).query(xy, k=2)[0][:, 1]
    return float(min(high, max(low, math.floor(2 * nearest.mean() / 50) * 50)))


def make_grid(boundary, cell_size: float | None = None, shape: str = "square") -> Grid:
    """Build a grid over ``boundary`` (a shapely polygon in EPSG:27700).

    ``cell_size``: metres, default :func:`auto_cell_size`. ``shape``: 'square'
    (default) or 'hex'. Cells that do not intersect the boundary are dropped;
    those on its edge are clipped to it.
    """
    validate.one_of("shape", shape, ("square", "hex"))
    if cell_size is not None:
        validate.positive_number("cell_size", cell_size, "give the cell's side in metres, or None for the default")
    if boundary is None or shapely.is_empty(boundary):
        raise ValueError("boundary is empty")
    size = float(cell_size or auto_cell_size(boundary))
    x0, y0, x1, y1 = shapely.bounds(boundary)
    uncut = math.ceil((x1 - x0) / size + 2) * math.ceil((y1 - y0) / (size * math.sqrt(3) / 2) + 2)
    if uncut > MAX_CELLS * 4:
        raise ValueError(f"about {uncut:,} cells of {size:g} m over this area: choose a larger cell size")
    if shape == "square":
        n_cols, n_rows = int(math.ceil((x1 - x0) / size)), int(math.ceil((y1 - y0) / size))
        origin = (x0, y0)
        col, row = (a.ravel() for a in np.meshgrid(np.arange(n_cols), np.arange(n_rows)))
        cx, cy = x0 + (col + 0.5) * size, y0 + (row + 0.5) * size
        half = size / 2
        cells = shapely.box(cx - half, cy - half, cx + half, cy + half)
    else:
        dy = size * math.sqrt(3) / 2
        n_cols, n_rows = int(math.ceil((x1 - x0) / size)) + 2, int(math.ceil((y1 - y0) / dy)) + 2
        origin = (x0 - size / 2, y0 - dy / 2)
        col, row = (a.ravel() for a in np.meshgrid(np.arange(n_cols), np.arange(n_rows)))
        cx = origin[0] + col * size + (row % 2) * size / 2
        cy = origin[1] + row * dy
        r = size / math.sqrt(3)  # centre to vertex
        angles = np.deg2rad(np.arange(30, 390, 60))
        ring = np.stack([cx[:, None] + r * np.cos(angles), cy[:, None] + r * np.sin(angles)], axis=-1)
        cells = shapely.polygons(ring)
    shapely.prepare(boundary)
    keep = shapely.intersects(boundary, cells)
    inside = shapely.contains_properly(boundary, cells[keep])
    geometry = cells[keep]
    edge = ~inside
    geometry[edge] = shapely.intersection(geometry[edge], boundary)
    if keep.sum() > MAX_CELLS:
        warnings.warn(
            f"{keep.sum():,} cells: a grid this large is slow to draw; choose a larger cell",
            FineGridWarning,
            stacklevel=2,
        )
    return Grid(shape, size, cx[keep], cy[keep], geometry, col[keep], row[keep], origin, n_cols, n_rows)


def cell_index(grid: Grid, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Index (into the grid's cells) of the cell containing each point; -1 outside the grid.

    Square cells: index arithmetic (a point on a shared edge goes to the cell to
    its east / north). Hexagons: nearest centre. A point in a kept edge cell but
    outside the clipped boundary still belongs to that cell.
    """
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    lookup = np.full(grid.n_cols * grid.n_rows, -1, dtype="int64")
    lookup[grid.cell_id] = np.arange(len(grid))
    ok = ~(np.isnan(x) | np.isnan(y))
    out = np.full(x.shape, -1, dtype="int64")
    if grid.shape == "square":
        col = np.floor((x[ok] - grid.origin[0]) / grid.cell_size).astype("int64")
        row = np.floor((y[ok] - grid.origin[1]) / grid.cell_size).astype("int64")
        within = (col >= 0) & (col < grid.n_cols) & (row >= 0) & (row < grid.n_rows)
        idx = np.full(col.shape, -1, dtype="int64")
        idx[within] = lookup[row[within] * grid.n_cols + col[within]]
    else:
        from scipy.spatial import cKDTree

        dist, idx = cKDTree(np.column_stack([grid.x, grid.y])).query(np.column_stack([x[ok], y[ok]]))
        idx = np.where(dist <= grid.cell_size / math.sqrt(3), idx, -1)  # farther than a vertex: outside
    out[ok] = idx
    return out


def count(
    grid: Grid,
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None = None,
    periods: np.ndarray | None = None,
    n_periods: int | None = None,
) -> np.ndarray:
    """Incidents (or summed ``weights``, e.g. harm) per cell; shape (cells,) or (cells, periods).

    ``periods``: integer period index per point (0..n_periods-1) for a space-time cube.
    Points outside the grid are ignored: count them with :func:`cell_index` if needed.
    Warns (:class:`FineGridWarning`) when the mean (weighted) count per cell is below
    :data:`MIN_MEAN_PER_CELL`; pass counts of repeated points as ``weights``.
    """
    idx = cell_index(grid, x, y)
    w = np.ones(idx.size) if weights is None else np.asarray(weights, dtype="float64")
    if w.shape != idx.shape:
        raise ValueError(f"weights has {w.size} values for {idx.size} points")
    inside = idx >= 0
    if periods is None:
        counts = np.bincount(idx[inside], weights=w[inside], minlength=len(grid))
    else:
        periods = np.asarray(periods, dtype="int64")
        n_periods = int(n_periods if n_periods is not None else periods.max() + 1)
        if periods.size and (periods.min() < 0 or periods.max() >= n_periods):
            raise ValueError(f"periods must be in 0..{n_periods - 1}")
        flat = idx[inside] * n_periods + periods[inside]
        counts = np.bincount(flat, weights=w[inside], minlength=len(grid) * n_periods).reshape(-1, n_periods)
    total = w[inside].sum()  # the number of incidents when unweighted
    if len(grid) and total / len(grid) < MIN_MEAN_PER_CELL:
        warnings.warn(
            f"{total:,.0f} incidents over {len(grid):,} cells of {grid.cell_size:g} m "
            f"(fewer than {MIN_MEAN_PER_CELL} a cell): the grid is too fine for the data; "
            "hot spots will be unstable",
            FineGridWarning,
            stacklevel=2,
        )
    return counts
