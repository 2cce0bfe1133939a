"""Gi* hot and cold spots of incidents on a grid over an area: the one call the CLI and the app make.

Rules the data must meet before a cell is called hot or cold (issue 14), in order:

1. the cell size, unless given, comes from the data (:func:`geodata.methods.grid.data_cell_size`);
2. fewer than :data:`MIN_INCIDENTS` (30) incidents on the grid: no test is made (every class 0,
   z and p NaN) and a :class:`SparseDataWarning` says why. 30 is ArcGIS Pro's minimum for
   Optimized Hot Spot Analysis with fishnet cells in a study area (``minNumIncidents``);
   the analytic z of a lone incident on a near-empty grid is 10-20 and means nothing;
3. sparse counts, fewer than :data:`geodata.methods.grid.MIN_MEAN_PER_CELL` (0.5) incidents per cell:
   p from the conditional permutation test (:func:`geodata.methods.gistar.permutation_p`, 999
   permutations drawn without replacement, seed 0) instead of the normal approximation;
   otherwise the analytic Gi* p (equal to esda's ``Zs``);
4. p adjusted across cells (Benjamini-Hochberg by default), classed as ArcGIS's Gi_Bin, then
   :func:`geodata.methods.gistar.supported_classes`: no hot cell whose whole neighbourhood is empty,
   no cold cell where fewer than 3 incidents were expected in its neighbourhood.

The frame's ``attrs`` say what was done: ``inference`` ("analytic", "permutation" or
"none"), ``note`` (the sentence to show beside the map), ``incidents``, ``cell_size``.
"""

from __future__ import annotations

import warnings

import numpy as np

from geodata.methods import grid as grids
from geodata.methods import validate
from geodata.methods.adjust import adjust_p
from geodata.methods.emerging import TIME_STEP, emerging_hotspots
from geodata.methods.gistar import (
    CLASS_LABELS,
    classify,
    default_band,
    distance_band_weights,
    hotspots,
    permutation_p,
    supported_classes,
)

#: Output columns, in order (x, y: cell centre, EPSG:27700).
COLUMNS = ("cell_id", "x", "y", "count", "gi_z", "gi_p", "gi_p_adj", "gi_class")
#: Fewer incidents than this on the grid: no hot or cold spot test (ArcGIS OHSA's minimum).
MIN_INCIDENTS = 30
#: Permutations of the sparse-data test (esda's default).
PERMUTATIONS = 999


class SparseDataWarning(grids.FineGridWarning):
    """Too few incidents for a hot spot test, or counts so sparse that p comes from permutations."""


def hotspot_cells(
    incidents,
    boundary,
    cell_size: float | None = None,
    shape: str = "square",
    adjust: str = "fdr_bh",
    weights: np.ndarray | None = None,
    permutations: int = PERMUTATIONS,
    seed: int | None = 0,
):
    """Count ``incidents`` (a canonical (Geo)DataFrame: columns ``x``, ``y`` in EPSG:27700) on a
    grid over ``boundary`` and run Gi* under the rules of the module docstring (adjacent cells,
    Benjamini-Hochberg). ``cell_size``: metres, default from the data. ``weights``: per incident
    (e.g. harm), default 1. ``permutations``, ``seed``: of the sparse-data test.

    Returns (GeoDataFrame of the clipped cells with :data:`COLUMNS` and ``label``, the grid).
    ``count`` is the weighted count when weights are given. Rows without a location are left out.
    """
    validate.columns("incidents", incidents, ("x", "y"), "give canonical rows (x, y in EPSG:27700 metres)")
    validate.projected_metres("incidents", incidents)
    x = incidents["x"].to_numpy(dtype="float64")
    y = incidents["y"].to_numpy(dtype="float64")
    located = np.isfinite(x) & np.isfinite(y)
    size = cell_size if cell_size is not None else grids.data_cell_size(boundary, x[located], y[located])
    grid = grids.make_grid(boundary, size, shape)
    with warnings.catch_warnings():  # the notes below say what the sparse counts mean here
        warnings.simplefilter("ignore", grids.FineGridWarning)
        n_cell = grids.count(grid, x, y)
        per_cell = n_cell if weights is None else grids.count(grid, x, y, weights=weights)
    n_incidents = int(n_cell.sum())
    how = f"{n_incidents:,} incident{'' if n_incidents == 1 else 's'} on {len(grid):,} cells of {grid.cell_size:g} m"
    if n_incidents < MIN_INCIDENTS:
        inference = "none"
        note = (
            f"{how}: too few for a hot spot test (at least {MIN_INCIDENTS} are needed); "
            "choose a longer period or more categories"
        )
        z = p = p_adj = np.full(len(grid), np.nan)
        gi_class = np.zeros(len(grid), dtype="int8")
    else:
        result = hotspots(grid, per_cell, adjust=adjust)
        z, p, p_adj = result.z, result.p, result.p_adj
        inference, note = "analytic", f"{how}: analytic Gi* p-values"
        w = distance_band_weights(grid.x, grid.y, default_band(grid))
        if n_incidents / len(grid) < grids.MIN_MEAN_PER_CELL:
            inference = "permutation"
            note = (
                f"{how} (fewer than {grids.MIN_MEAN_PER_CELL} a cell): p from {permutations} conditional "
                f"permutations, not the normal approximation; the smallest such p is {1 / (permutations + 1):.3f}, "
                f"so after adjusting over {len(grid):,} cells few reach 95% (more months or crime types test more "
                "strongly)"
            )
            p = permutation_p(per_cell, w, permutations=permutations, seed=seed)
            p_adj = adjust_p(p, adjust)
        gi_class = supported_classes(classify(z, p_adj), n_cell, w)
    if inference != "analytic":
        warnings.warn(note, SparseDataWarning, stacklevel=2)
    frame = grid.to_geodataframe(
        count=per_cell if weights is not None else per_cell.astype("int64"),
        gi_z=z,
        gi_p=p,
        gi_p_adj=p_adj,
        gi_class=np.asarray(gi_class).astype("int64"),
    )
    frame["label"] = frame["gi_class"].map(CLASS_LABELS)
    frame.attrs.update(inference=inference, note=note, incidents=n_incidents, cell_size=grid.cell_size)
    return frame, grid


def emerging_cells(
    incidents,
    boundary,
    months: list[str],
    cell_size: float | None = None,
    alpha: float = 0.10,
    trend_alpha: float = 0.05,
    time_step: int = TIME_STEP,
):
    """Emerging hot spot class per cell (:func:`geodata.methods.emerging.emerging_hotspots`, ArcGIS rules)
    of ``incidents`` (canonical frame with ``x, y, month``) over ``months`` ('YYYY-MM', one
    period each, at least 3), on a grid over ``boundary`` with adjacent-cell weights and the
    neighbourhood time step ``time_step`` (default 1; 0 = each month alone).

    Returns (GeoDataFrame of the cells with ``count`` (all months), ``trend_z`` (Mann-Kendall z
    of the Gi* series) and ``pattern``; the grid).
    """
    validate.columns("incidents", incidents, ("x", "y", "month"), "give canonical rows (x, y in EPSG:27700, month)")
    validate.projected_metres("incidents", incidents)
    if len(months) < 3:
        raise ValueError(f"emerging hot spots need at least 3 months, got {len(months)}")
    grid = grids.make_grid(boundary, cell_size, "square")
    index = {m: i for i, m in enumerate(months)}
    period = incidents["month"].dt.strftime("%Y-%m").map(index)
    keep = period.notna().to_numpy()
    cube = grids.count(
        grid,
        incidents["x"].to_numpy(dtype="float64")[keep],
        incidents["y"].to_numpy(dtype="float64")[keep],
        periods=period.to_numpy()[keep].astype("int64"),
        n_periods=len(months),
    )
    weights = distance_band_weights(grid.x, grid.y, default_band(grid))
    classes, _, trend_z = emerging_hotspots(cube, weights, alpha=alpha, trend_alpha=trend_alpha, time_step=time_step)
    frame = grid.to_geodataframe(count=cube.sum(axis=1).astype("int64"), trend_z=trend_z, pattern=classes)
    return frame, grid
