"""Getis-Ord local Gi* (and Gi) hot and cold spots on a grid, vectorised with sparse matrices.

Method (Getis & Ord 1992; Ord & Getis 1995), with binary distance-band weights:

* weights ``w_ij = 1`` when the centres of cells i and j are at most ``band``
  apart (default ``cell_size * sqrt(2)``: the 8 adjacent squares; for hexagons
  ``cell_size``: the 6 adjacent cells); Gi* also counts the cell itself
  (``w_ii = 1``), Gi does not;
* ``G_i = sum_j w_ij y_j / sum_j y_j`` (for Gi the sums leave out ``y_i``);
  ``E[G_i] = W_i / N``, ``Var[G_i] = W_i (N - W_i) / (N - 1) / N^2 * s^2 / ybar^2``,
  ``z_i = (G_i - E[G_i]) / sqrt(Var[G_i])``, with ``W_i`` the row sum, ``N`` the
  number of cells (Gi: N - 1), ``ybar`` and ``s^2`` the mean and (population)
  variance of y (Gi: leaving out ``y_i``). These are exactly esda
  ``G_Local(transform="B")``'s analytic ``Zs`` (PySAL esda 2.x, ``getisord.py``).
* p-values here are the normal approximation, two-sided, ``2 * (1 - Phi(|z|))`` (esda's ``p_norm``
  is one-sided): the reference the z is checked against. Maps do not use them: on skewed crime
  counts they are 5-36 times too small; :mod:`geodata.methods.hotspots` classes cells by the exact
  p of :mod:`geodata.methods.gistar_exact`;
* multiple-comparison correction is ON by default: Benjamini-Hochberg FDR
  (``"fdr_bh"``); ``"holm"`` and ``"none"`` are selectable;
* classes as ArcGIS's Gi_Bin: +3/+2/+1 for hot spots with adjusted p below
  0.01/0.05/0.10 (99/95/90% confidence), -3/-2/-1 for cold spots, 0 otherwise;
  :func:`supported_classes` then removes the classes the data cannot carry (a hot
  cell whose whole neighbourhood is empty; a cold cell where fewer than
  :data:`MIN_EXPECTED_COLD` = 3 incidents were expected);

Several periods (a space-time cube, cells x periods) go through one sparse
product ``W @ Y``. Weighted counts (e.g. harm) are just another ``y``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree
from scipy.special import ndtr  # the normal cdf; scipy.stats costs 0.9 s to import

from geodata.methods.adjust import ADJUSTMENTS, adjust_p
from geodata.methods.grid import Grid
from geodata.methods.validate import finite_values

#: (adjusted p below, |class|): 99, 95 and 90% confidence.
CONFIDENCE = ((0.01, 3), (0.05, 2), (0.10, 1))
CLASS_LABELS = {
    3: "Hot spot, 99% confidence",
    2: "Hot spot, 95% confidence",
    1: "Hot spot, 90% confidence",
    0: "Not significant",
    -1: "Cold spot, 90% confidence",
    -2: "Cold spot, 95% confidence",
    -3: "Cold spot, 99% confidence",
}


def default_band(grid: Grid) -> float:
    """The distance band reaching the adjacent cells: 8 squares (size * sqrt 2) or 6 hexagons (size)."""
    return grid.cell_size * (math.sqrt(2) if grid.shape == "square" else 1.0)


def distance_band_weights(x: np.ndarray, y: np.ndarray, band: float, self_weight: bool = True) -> sp.csr_matrix:
    """Binary weights (CSR): 1 for pairs of points at most ``band`` apart (a 1e-9 relative
    tolerance absorbs rounding); the diagonal is 1 when ``self_weight`` (Gi*), else 0 (Gi)."""
    if not band > 0:
        raise ValueError(f"band must be a positive distance, got {band!r}")
    pts = np.column_stack([np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")])
    n = len(pts)
    pairs = cKDTree(pts).query_pairs(band * (1 + 1e-9), output_type="ndarray")
    rows = np.concatenate([pairs[:, 0], pairs[:, 1]] + ([np.arange(n)] if self_weight else []))
    cols = np.concatenate([pairs[:, 1], pairs[:, 0]] + ([np.arange(n)] if self_weight else []))
    return sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))


#: A cold class needs at least this many incidents expected in the neighbourhood: with fewer an
#: empty neighbourhood is ordinary (Poisson P(0) = e^-3 = 0.05 at 3).
MIN_EXPECTED_COLD = 3.0


def supported_classes(gi_class: np.ndarray, counts: np.ndarray, weights: sp.spmatrix) -> np.ndarray:
    """Classes the data can carry: a cell that holds no incident itself is never hot (a busy
    neighbour makes the neighbourhood's count, not the cell's: the map marks where incidents are); a
    cold class needs the neighbourhood's expected count (its size x the mean count per cell) to be
    at least :data:`MIN_EXPECTED_COLD`. ``counts``: incidents per cell (unweighted), shape (cells,)."""
    out = np.asarray(gi_class).copy()
    out[unsupported(np.sign(out), counts, weights)] = 0
    return out


def unsupported(direction: np.ndarray, counts: np.ndarray, weights: sp.spmatrix) -> np.ndarray:
    """Where a hot (``direction`` > 0) or cold (< 0) verdict is more than the data can carry
    (:func:`supported_classes`' rules): hot with no incident in the cell itself, cold with a neighbourhood's
    expected count under :data:`MIN_EXPECTED_COLD`. ``direction`` and ``counts``: (cells,) or (cells, periods),
    a period's counts being the incidents in its window (the emerging hot spots)."""
    counts = np.asarray(counts, dtype="float64")
    w = sp.csr_matrix(weights, dtype="float64", copy=True)
    w.setdiag(1.0)
    w.eliminate_zeros()
    size = np.asarray(w.sum(axis=1)).ravel()
    mean = counts.mean(axis=0) if counts.size else 0.0  # per period when counts are (cells, periods)
    expected = size[:, None] * mean if counts.ndim == 2 else size * mean
    return ((direction > 0) & (counts == 0)) | ((direction < 0) & (expected < MIN_EXPECTED_COLD))


def classify(z: np.ndarray, p_adj: np.ndarray) -> np.ndarray:
    """ArcGIS Gi_Bin classes from z and adjusted p: +-3, +-2, +-1 (99/95/90%), 0."""
    out = np.zeros(np.shape(z), dtype="int8")
    for alpha, level in reversed(CONFIDENCE):
        sig = np.nan_to_num(p_adj, nan=1.0) < alpha
        out = np.where(sig, np.sign(z).astype("int8") * level, out)
    return out


@dataclass(frozen=True)
class GiResult:
    """Gi* (or Gi) per cell, and per period when y was (cells, periods)."""

    z: np.ndarray
    p: np.ndarray
    p_adj: np.ndarray
    gi_class: np.ndarray
    band: float
    star: bool
    adjust: str


def gi_star(y: np.ndarray, weights: sp.spmatrix, star: bool = True, adjust: str = "fdr_bh") -> GiResult:
    """Gi* (``star=True``, default) or Gi z-scores, two-sided p, adjusted p and classes.

    ``y``: counts (or weighted counts) per cell, shape (n,) or (n, periods).
    ``weights``: binary (n, n) matrix from :func:`distance_band_weights`; its
    diagonal is set to 1 for Gi* and 0 for Gi. A column whose values are all
    equal has no variance: its z is 0 and p is 1.
    """
    y = np.asarray(y, dtype="float64")
    if y.ndim not in (1, 2) or y.shape[0] != weights.shape[0]:
        raise ValueError(f"y has shape {y.shape}; weights are {weights.shape[0]} x {weights.shape[1]}")
    finite_values(
        "y", y, "counts per cell must be finite and >= 0 (use 0 for a cell with no incident)", nonnegative=True
    )
    if adjust not in ADJUSTMENTS:
        raise ValueError(f"adjust must be one of {ADJUSTMENTS}, got {adjust!r}")
    if y.size == 0:  # no cells (or no periods): an empty result of the same shape
        empty = np.zeros(y.shape)
        return GiResult(empty, empty.copy(), empty.copy(), empty.astype("int8"), float("nan"), star, adjust)
    w = sp.csr_matrix(weights, dtype="float64", copy=True)
    w.setdiag(1.0 if star else 0.0)
    w.eliminate_zeros()
    y2 = y.reshape(y.shape[0], -1)
    n = y2.shape[0]
    lag = w @ y2
    total, total_sq = y2.sum(axis=0), (y2**2).sum(axis=0)
    if star:
        big_n = n
        denom, mean = total[None, :], (total / n)[None, :]
        var = (total_sq / n)[None, :] - mean**2
    else:
        big_n = n - 1
        denom = total[None, :] - y2
        mean = denom / big_n
        var = (total_sq[None, :] - y2**2) / big_n - mean**2
    card = np.asarray(w.sum(axis=1)).reshape(-1, 1)
    return result_from_z(gi_z(lag, denom, card, big_n, mean, var), y.shape, star, adjust)


def gi_z(lag, denom, card, big_n, mean, var) -> np.ndarray:
    """Getis-Ord z from the neighbourhood sums ``lag``, the sum they are shares of ``denom``, the
    neighbourhood sizes ``card``, the population size ``big_n`` and its mean and (population)
    variance (module docstring's formulas; arrays broadcast). No variance: z = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        g = lag / denom
        expected = card / big_n
        variance = card * (big_n - card) / (big_n - 1) / big_n**2 * var / mean**2
        z = (g - expected) / np.sqrt(variance)
    return np.where(np.isfinite(z), z, 0.0)


def result_from_z(z: np.ndarray, shape: tuple, star: bool, adjust: str) -> GiResult:
    """Two-sided p, adjusted p (per column) and classes of z, reshaped to ``shape``."""
    p = 2 * ndtr(-np.abs(z))
    p_adj = adjust_p(p, adjust)
    return GiResult(
        z.reshape(shape),
        p.reshape(shape),
        p_adj.reshape(shape),
        classify(z, p_adj).reshape(shape),
        float("nan"),
        star,
        adjust,
    )


def hotspots(
    grid: Grid, counts: np.ndarray, band: float | None = None, star: bool = True, adjust: str = "fdr_bh"
) -> GiResult:
    """Gi* hot and cold spots of ``counts`` on ``grid`` (weights built from the cell centres).

    ``band``: metres, default :func:`default_band` (adjacent cells).
    """
    band = default_band(grid) if band is None else band
    result = gi_star(counts, distance_band_weights(grid.x, grid.y, band, self_weight=star), star, adjust)
    return GiResult(result.z, result.p, result.p_adj, result.gi_class, float(band), star, adjust)
