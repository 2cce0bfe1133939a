"""Knox test for near-repeat space-time clustering of dated point records.

Every pair of records is put in a cell of a table by its distance (metres)
and its time lag (days); the observed count of pairs in each cell is compared
with what is expected if *when* an incident happened were unrelated to
*where*: the dates are permuted among the locations ``permutations`` times
(Monte Carlo, the locations and the set of dates kept) and the pairs counted
again. Per cell:

* ``expected``: the exact expectation under that permutation null. A random
  permutation of the dates gives any fixed pair of records (i, j) a uniformly
  random pair of two distinct dates from the n, so the pair's lag falls in time
  band k with probability ``T_k / C(n, 2)``, ``T_k`` being the number of pairs
  of records (of all ``C(n, 2) = n (n - 1) / 2``) whose dates are that far apart.
  Summed over the ``S_d`` pairs in distance band d:
  ``E[N_dk] = S_d * T_k / C(n, 2)`` (Knox 1964's expectation under the
  permutation distribution; Mantel 1967). The Monte Carlo mean it replaces
  differs from it by chance: 14% on sparse tables with 999 permutations;
* ``ratio`` = observed / expected (the Knox ratio; > 1: more pairs close in
  both space and time than chance gives, a near-repeat pattern; NaN where the
  expectation is 0);
* ``p`` = (number of permutations with a count >= observed + 1) /
  (permutations + 1), one-sided (Johnson et al. 2007).

Bands are closed-open, ``[edge_k, edge_k+1)``: the default distance bands are
0-100, 100-200, 200-300, 300-400 m and the time bands 0-7, 7-14, 14-21, 21-28
days; pairs beyond the last edge of either are not in the table. Defaults:
999 permutations, seed 1.

Needs records dated to the day: police.uk gives only the month, too coarse for
a near-repeat analysis in days (use council fly-tipping or incident records).

References: Mantel, N. (1967) "The detection of disease clustering and a
generalized regression approach", *Cancer Research* 27(2); Knox, G. (1964) "The detection of space-time interactions",
*Applied Statistics* 13(1); Johnson, S.D. et al. (2007) "Space-time patterns of
risk: a cross national assessment of residential burglary victimization",
*J. Quant. Criminol.* 23; Ratcliffe, J.H. (2009) Near Repeat Calculator; the
defaults follow Steenbeek's NearRepeat R package (999 permutations, p as above).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geodata.methods import validate

#: Default band edges: distance in metres, time in days.
DISTANCE_BANDS = (0.0, 100.0, 200.0, 300.0, 400.0)
TIME_BANDS = (0.0, 7.0, 14.0, 21.0, 28.0)
#: Significance level of a near-repeat band (one-sided Monte Carlo p, as wsteenbeek/NearRepeat reports).
ALPHA = 0.05


def near_repeats(table, alpha: float = ALPHA):
    """The bands of a :func:`knox` table with more close pairs than chance: p < ``alpha`` and ratio > 1."""
    return table[(table["p"] < alpha) & (table["ratio"] > 1)]


def _edges(values, name: str) -> np.ndarray:
    edges = np.asarray(values, dtype="float64")
    if edges.ndim != 1 or edges.size < 2 or not np.isfinite(edges).all() or edges[0] < 0 or (np.diff(edges) <= 0).any():
        raise ValueError(f"{name} must be at least two increasing, non-negative, finite edges, got {list(values)!r}")
    return edges


def _band(edges: np.ndarray, unit: str) -> list[str]:
    return [f"{lo:g}-{hi:g} {unit}" for lo, hi in zip(edges[:-1], edges[1:])]


def close_pairs(x: np.ndarray, y: np.ndarray, max_distance: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs (i < j) of points less than ``max_distance`` apart, and their distances."""
    from scipy.spatial import cKDTree

    pairs = cKDTree(np.column_stack([x, y])).query_pairs(r=max_distance, output_type="ndarray")
    if len(pairs) == 0:
        return np.empty(0, dtype="int64"), np.empty(0, dtype="int64"), np.empty(0)
    i, j = pairs[:, 0], pairs[:, 1]
    d = np.hypot(x[i] - x[j], y[i] - y[j])
    keep = d < max_distance
    return i[keep], j[keep], d[keep]


def lag_pairs(times: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Number of pairs of records (i < j) whose time lag ``|t_i - t_j|`` falls in each band
    ``[edges_k, edges_k+1)``, over all ``n (n - 1) / 2`` pairs, by sorting (n log n, no pair list)."""
    t = np.sort(np.asarray(times, dtype="float64"))
    position = np.arange(t.size)

    def shorter_than(c: float) -> int:  # pairs with lag < c
        if c <= 0:
            return 0
        return int((np.searchsorted(t, t + c, side="left") - position - 1).sum())

    below = np.array([shorter_than(c) for c in edges], dtype="float64")
    return np.diff(below)


def knox(
    x, y, days, distance_bands=DISTANCE_BANDS, time_bands=TIME_BANDS, permutations: int = 999, seed: int = 1
) -> pd.DataFrame:
    """Knox table of point records at ``x``, ``y`` (metres, e.g. EPSG:27700) on ``days`` (day
    numbers or dates). Returns one row per (distance band, time band): ``distance``, ``time``,
    ``observed``, ``expected``, ``ratio``, ``p``; ``attrs`` holds ``records``, ``permutations``.
    """
    x, y = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
    t = np.asarray(days)
    if np.issubdtype(t.dtype, np.datetime64) or t.dtype == object:
        t = np.asarray(t, dtype="datetime64[D]").astype("int64")
    t = t.astype("float64")
    if not (x.shape == y.shape == t.shape) or x.ndim != 1:
        raise ValueError(f"x, y and days must be 1-d and of one length, got {x.shape}, {y.shape}, {t.shape}")
    for name, values in (("x", x), ("y", y), ("days", t)):
        validate.finite_values(name, values, "x, y and days must all be known (drop records without them first)")
    if not isinstance(permutations, (int, np.integer)) or not 1 <= permutations <= 100_000:
        raise ValueError(f"permutations must be a whole number from 1 to 100000, got {permutations!r}")
    d_edges, t_edges = _edges(distance_bands, "distance_bands"), _edges(time_bands, "time_bands")
    nd, nt = d_edges.size - 1, t_edges.size - 1
    i, j, d = close_pairs(x, y, d_edges[-1])
    in_d = d >= d_edges[0]
    i, j, dbin = i[in_d], j[in_d], np.searchsorted(d_edges, d[in_d], side="right") - 1

    def count(times: np.ndarray) -> np.ndarray:
        lag = np.abs(times[i] - times[j])
        ok = (lag >= t_edges[0]) & (lag < t_edges[-1])
        tbin = np.searchsorted(t_edges, lag[ok], side="right") - 1
        return np.bincount(dbin[ok] * nt + tbin, minlength=nd * nt)

    observed = count(t)
    rng = np.random.default_rng(seed)
    at_least = np.zeros(nd * nt)
    for _ in range(permutations):
        at_least += count(rng.permutation(t)) >= observed
    n_pairs = x.size * (x.size - 1) / 2
    space = np.bincount(dbin, minlength=nd).astype("float64")
    expected = (space[:, None] * lag_pairs(t, t_edges)[None, :]).ravel() / n_pairs if n_pairs else np.zeros(nd * nt)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, observed / expected, np.nan)
    table = pd.DataFrame(
        {
            "distance": np.repeat(_band(d_edges, "m"), nt),
            "time": np.tile(_band(t_edges, "days"), nd),
            "observed": observed,
            "expected": expected,
            "ratio": ratio,
            "p": (at_least + 1) / (permutations + 1),
        }
    )
    table.attrs.update(records=int(x.size), permutations=int(permutations))
    return table
