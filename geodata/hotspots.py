"""Gi* hot and cold spots of incidents on a grid over an area: the one call the CLI and the app make."""
from __future__ import annotations

import numpy as np

from geodata import grid as grids
from geodata.emerging import TIME_STEP, emerging_hotspots
from geodata.gistar import CLASS_LABELS, default_band, distance_band_weights, hotspots

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


def emerging_cells(incidents, boundary, months: list[str], cell_size: float | None = None,
                   alpha: float = 0.10, trend_alpha: float = 0.05, time_step: int = TIME_STEP):
    """Emerging hot spot class per cell (:func:`geodata.emerging.emerging_hotspots`, ArcGIS rules)
    of ``incidents`` (canonical frame with ``x, y, month``) over ``months`` ('YYYY-MM', one
    period each, at least 3), on a grid over ``boundary`` with adjacent-cell weights and the
    neighbourhood time step ``time_step`` (default 1; 0 = each month alone).

    Returns (GeoDataFrame of the cells with ``count`` (all months), ``trend_z`` (Mann-Kendall z
    of the Gi* series) and ``pattern``; the grid).
    """
    if len(months) < 3:
        raise ValueError(f"emerging hot spots need at least 3 months, got {len(months)}")
    grid = grids.make_grid(boundary, cell_size, "square")
    index = {m: i for i, m in enumerate(months)}
    period = incidents["month"].dt.strftime("%Y-%m").map(index)
    keep = period.notna().to_numpy()
    cube = grids.count(grid, incidents["x"].to_numpy(dtype="float64")[keep],
                       incidents["y"].to_numpy(dtype="float64")[keep],
                       periods=period.to_numpy()[keep].astype("int64"), n_periods=len(months))
    weights = distance_band_weights(grid.x, grid.y, default_band(grid))
    classes, _, trend_z = emerging_hotspots(cube, weights, alpha=alpha, trend_alpha=trend_alpha,
                                            time_step=time_step)
    frame = grid.to_geodataframe(count=cube.sum(axis=1).astype("int64"), trend_z=trend_z, pattern=classes)
    return frame, grid
