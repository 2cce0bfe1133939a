"""Gi* hot and cold spots of incidents on a grid over an area: the one call the CLI and the app make."""
from __future__ import annotations

import numpy as np

from geodata import grid as grids
from geodata.gistar import CLASS_LABELS, hotspots

#: Output columns, in order (x, y: cell centre, EPSG:27700).
COLUMNS = ("cell_id", "x", "y", "count", "gi_z", "gi_p", "gi_p_adj", "gi_class")


def hotspot_cells(incidents, boundary, cell_size: float | None = None, shape: str = "square",
                  adjust: str = "fdr_bh", weights: np.ndarray | None = None):
    """Count ``incidents`` (a canonical (Geo)DataFrame: columns ``x``, ``y`` in EPSG:27700) on a
    grid over ``boundary`` and run Gi* (:mod:`geodata.gistar` defaults: adjacent cells,
    Benjamini-Hochberg). ``weights``: per incident (e.g. harm), default 1.

    Returns (GeoDataFrame of the clipped cells with :data:`COLUMNS` and ``label``, the grid).
    ``count`` is the weighted count when weights are given. Rows without a location are left out.
    """
    grid = grids.make_grid(boundary, cell_size, shape)
    per_cell = grids.count(grid, incidents["x"].to_numpy(dtype="float64"), incidents["y"].to_numpy(dtype="float64"),
                           weights=weights)
    result = hotspots(grid, per_cell, adjust=adjust)
    frame = grid.to_geodataframe(count=per_cell if weights is not None else per_cell.astype("int64"),
                                 gi_z=result.z, gi_p=result.p, gi_p_adj=result.p_adj,
                                 gi_class=result.gi_class.astype("int64"))
    frame["label"] = frame["gi_class"].map(CLASS_LABELS)
    return frame, grid
