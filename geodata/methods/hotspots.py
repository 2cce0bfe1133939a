"""Gi* hot and cold spots of incidents on a grid over an area: the one call the CLI and the app make.

Rules the data must meet before a cell is called hot or cold (issues 14 and 21), in order:

1. the cell size, unless given, comes from the data (:func:`geodata.methods.grid.data_cell_size`);
2. fewer than :data:`MIN_INCIDENTS` (30) incidents on the grid: no test is made (every class 0,
   z and p NaN) and a :class:`SparseDataWarning` says why. 30 is ArcGIS Pro's minimum for
   Optimized Hot Spot Analysis with fishnet cells in a study area (``minNumIncidents``);
3. p is exact (:func:`geodata.methods.gistar_exact.exact_p`, two-sided mid-p): the distribution of
   each neighbourhood's sum when the cell counts are permuted over the cells, computed, not
   sampled and not approximated by the normal curve (on the skewed counts of crime the normal p is
   5-36 times too small: all crime 2025-01..06, 129 cells at 95%+ against 15 exact). The null is
   Gi*'s own (total randomisation, Getis & Ord 1992) at every density. Not the conditional null
   (the cell's own count held fixed, Anselin 1995; esda's default), which earlier versions used
   for sparse counts: it tests a cell's neighbours only, so on robbery 2025-01..06 (950 m cells)
   the busiest cell (11 robberies) was not hot while an empty cell beside it was, at 99%. The z
   shown is the analytic Gi* z (equal to esda's ``Zs``);
4. p adjusted across cells (Benjamini-Hochberg by default), classed as ArcGIS's Gi_Bin (hot when
   the upper tail is the smaller), then :func:`geodata.methods.gistar.supported_classes`: no hot
   cell that holds no incident itself (a busy neighbour makes its neighbourhood hot, not the
   cell: the patrol goes where the incidents are), no cold cell where fewer than 3 incidents
   were expected in its neighbourhood.

Weighted counts (e.g. harm): the test, z and classes are of the incidents (whole counts, which
have an exact null); the weights give the ``count`` column, which ranks (patrol zones by harm).

Emerging hot spots (:func:`emerging_cells`) follow the same rules in every month: the cell size
from the data, at least 30 incidents in each month's window, the exact test.

The frame's ``attrs`` say what was done: ``inference`` ("exact" or "none"), ``note`` (the sentence
to show beside the map), ``incidents``, ``cell_size``.
"""

from __future__ import annotations

import warnings

import numpy as np

from geodata.methods import grid as grids
from geodata.methods import validate
from geodata.methods.adjust import adjust_p
from geodata.methods.emerging import TIME_STEP, emerging_hotspots, windows
from geodata.methods.gistar import (
    CLASS_LABELS,
    classify,
    default_band,
    distance_band_weights,
    hotspots,
    supported_classes,
)
from geodata.methods.gistar_exact import exact_p
from loaders import months as month_mod

#: Output columns, in order (x, y: cell centre, EPSG:27700).
COLUMNS = ("cell_id", "x", "y", "count", "gi_z", "gi_p", "gi_p_adj", "gi_class")
#: Fewer incidents than this on the grid: no hot or cold spot test (ArcGIS OHSA's minimum).
MIN_INCIDENTS = 30


class SparseDataWarning(grids.FineGridWarning):
    """Too few incidents for a hot spot test."""


def hotspot_cells(
    incidents,
    boundary,
    cell_size: float | None = None,
    shape: str = "square",
    adjust: str = "fdr_bh",
    weights: np.ndarray | None = None,
):
    """Count ``incidents`` (a canonical (Geo)DataFrame: columns ``x``, ``y`` in EPSG:27700) on a
    grid over ``boundary`` and run Gi* under the rules of the module docstring (adjacent cells,
    exact p, Benjamini-Hochberg). ``cell_size``: metres, default from the data. ``weights``: per
    incident (e.g. harm), default 1; they set ``count``, not the test (module docstring).

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
        z = hotspots(grid, n_cell, adjust=adjust).z
        w = distance_band_weights(grid.x, grid.y, default_band(grid))
        p, direction = exact_p(n_cell, w, "total")
        p_adj = adjust_p(p, adjust)
        gi_class = supported_classes(classify(direction, p_adj), n_cell, w)
        inference = "exact"
        note = (
            f"{how}: exact Gi* p-values (the counts permuted over the cells); a cell with no incident of its own "
            "is never hot"
        )
    if inference != "exact":
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
    period each, at least 3: the months loaded; a calendar month not among them is a gap, never
    a month with no crime, and no window reaches across it), on a grid over ``boundary`` with
    adjacent-cell weights and the neighbourhood time step ``time_step`` (default 1; 0 = each
    month alone).

    The rules of :func:`hotspot_cells` hold: ``cell_size`` (metres) by default from the data;
    each month's window (the month and the ``time_step`` months before it that are loaded)
    must hold at least :data:`MIN_INCIDENTS` incidents, else no cell is classed (every pattern
    "no pattern detected", ``trend_z`` NaN, a :class:`SparseDataWarning` naming the months);
    the exact test.

    Returns (GeoDataFrame of the cells with ``count`` (all months), ``trend_z`` (Mann-Kendall z
    of the Gi* series) and ``pattern``; the grid). ``attrs``: ``inference`` ("exact" or
    "none"), ``note``, ``incidents``, ``cell_size``.
    """
    months = sorted(set(months))
    validate.columns("incidents", incidents, ("x", "y", "month"), "give canonical rows (x, y in EPSG:27700, month)")
    validate.projected_metres("incidents", incidents)
    if len(months) < 3:
        raise ValueError(f"emerging hot spots need at least 3 months, got {len(months)}")
    index = {m: i for i, m in enumerate(months)}
    period = incidents["month"].dt.strftime("%Y-%m").map(index)
    x = incidents["x"].to_numpy(dtype="float64")
    y = incidents["y"].to_numpy(dtype="float64")
    keep = period.notna().to_numpy() & np.isfinite(x) & np.isfinite(y)
    size = cell_size if cell_size is not None else grids.data_cell_size(boundary, x[keep], y[keep])
    grid = grids.make_grid(boundary, size, "square")
    with warnings.catch_warnings():  # the note says what sparse counts mean here
        warnings.simplefilter("ignore", grids.FineGridWarning)
        cube = grids.count(
            grid, x[keep], y[keep], periods=period.to_numpy()[keep].astype("int64"), n_periods=len(months)
        )
    steps = np.array([month_mod.length(months[0], m) - 1 for m in months])
    in_window = cube.sum(axis=0) @ windows(len(months), time_step, steps).T
    n_incidents = int(cube.sum())
    how = f"{n_incidents:,} incidents over {len(months)} months on {len(grid):,} cells of {grid.cell_size:g} m"
    thin = [m for m, n in zip(months, in_window) if n < MIN_INCIDENTS]
    if thin:
        inference = "none"
        what = {0: "the month", 1: "the month and the one before it"}.get(
            time_step, f"the month and the {time_step} before it"
        )
        note = (
            f"{how}: too few for emerging hot spots (each month's test needs at least {MIN_INCIDENTS} incidents in "
            f"{what}; fewer in {month_mod.listing(thin)}); choose a longer period or more categories"
        )
        classes = np.full(len(grid), "no pattern detected", dtype=object)
        trend_z = np.full(len(grid), np.nan)
        warnings.warn(note, SparseDataWarning, stacklevel=2)
    else:
        inference = "exact"
        note = f"{how}: exact Gi* p-values in each month (the null of each month's map)"
        weights = distance_band_weights(grid.x, grid.y, default_band(grid))
        classes, _, trend_z = emerging_hotspots(
            cube, weights, alpha=alpha, trend_alpha=trend_alpha, time_step=time_step, steps=steps
        )
    frame = grid.to_geodataframe(count=cube.sum(axis=1).astype("int64"), trend_z=trend_z, pattern=classes)
    frame.attrs.update(inference=inference, note=note, incidents=n_incidents, cell_size=grid.cell_size)
    return frame, grid
