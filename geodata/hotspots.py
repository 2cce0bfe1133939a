"""Gi* hot and cold spots of an area's incidents on a grid: the one call the CLI and the app make."""
from __future__ import annotations

import shapely

from geodata import grid as grids
from geodata.gistar import CLASS_LABELS, hotspots
from geodata.store import Store

#: Output columns, in order (x, y: cell centre, EPSG:27700).
COLUMNS = ("cell_id", "x", "y", "count", "gi_z", "gi_p", "gi_p_adj", "gi_class")


def hotspot_cells(store: Store, start: str | None = None, end: str | None = None,
                  categories: list[str] | None = None, cell_size: float | None = None,
                  shape: str = "square", adjust: str = "fdr_bh"):
    """Count the store's incidents (police.uk; filters as :meth:`Store.incidents`) on a grid
    over the area's wards and run Gi* (:mod:`geodata.gistar` defaults: adjacent cells,
    Benjamini-Hochberg). Returns (GeoDataFrame with :data:`COLUMNS`, ``label`` and the
    clipped cell polygons, the grid)."""
    boundary = shapely.union_all(store.areas("ward").geometries)
    grid = grids.make_grid(boundary, cell_size, shape)
    counts = store.counts(by=("x", "y"), start=start, end=end, categories=categories)
    counts = counts.dropna(subset=["x", "y"])
    per_cell = grids.count(grid, counts["x"].to_numpy(), counts["y"].to_numpy(),
                           weights=counts["incidents"].to_numpy(dtype="float64"))
    result = hotspots(grid, per_cell, adjust=adjust)
    frame = grid.to_geodataframe(count=per_cell.astype("int64"), gi_z=result.z, gi_p=result.p,
                                 gi_p_adj=result.p_adj, gi_class=result.gi_class.astype("int64"))
    frame["label"] = frame["gi_class"].map(CLASS_LABELS)
    return frame, grid
