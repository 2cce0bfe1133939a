"""Exact p-values for Gi*: the permutation distribution of a neighbourhood sum, computed, not sampled.

Gi*'s null hypothesis is *total randomisation*: the observed cell counts are dealt to the cells at
random, every arrangement equally likely (Getis & Ord 1992: the moments behind the z-score are those
of this null). A neighbourhood of ``k`` cells (the cell included) then holds a random ``k``-subset of
the ``n`` counts, so the distribution of its sum ``S`` is exact and computable: with the distinct
count values ``a`` and their multiplicities ``m_a``, the number of ``j``-subsets with sum ``s`` is
the coefficient of ``t^j x^s`` in ``prod_a sum_c C(m_a, c) t^c x^(c a)`` (a dynamic programme over the
distinct values, :func:`subset_sum_ways`; about 0.1 s for the 2,758 cells of all crime over six
months). ``P(S = s) = ways(k, s) / C(n, k)``.

The *conditional* null (Anselin 1995; esda's ``crand``) holds the cell's own count fixed and deals
its ``k - 1`` neighbours from the other ``n - 1`` counts: the same programme on those ``n - 1``
values, once per distinct own value. It answers "are the neighbours busy?" and so never calls a lone
busy cell in an empty area a hot spot; :mod:`geodata.methods.hotspots` uses it for sparse counts.

p-values (:func:`exact_p`) are two-sided mid-p: ``p = min(1, 2 min(P_hi, P_lo))`` with
``P_hi = P(S > obs) + P(S = obs) / 2`` and ``P_lo = P(S < obs) + P(S = obs) / 2`` (Lancaster 1961;
ties, frequent when most cells are empty, count half on each side). The direction is the smaller
tail: +1 (more than the null gives, a hot candidate) when ``P_hi < P_lo``, -1 otherwise. These are
the limits of esda's ``G_Local`` permutation p (``p_sim``) as the permutations grow, without its
floor of ``1 / (permutations + 1)``, so Benjamini-Hochberg over thousands of cells can still find a
cell.

Counts must be whole numbers (incidents per cell). Weighted counts (e.g. harm) are not tested here:
:mod:`geodata.methods.hotspots` tests the incidents and uses the weights to rank (its docstring).
Sums are held as floats of the number of subsets (at most ``C(n, k)``: 1e25 for 2,758 cells and
k = 9), built by adding non-negative terms only, so tail probabilities keep full relative precision.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import comb

from geodata.methods.grid import MIN_MEAN_PER_CELL
from geodata.methods.validate import finite_values

#: The two nulls :func:`exact_p` knows.
NULLS = ("total", "conditional")


def null_for(incidents: float, cells: int) -> str:
    """The null a map's test uses: ``"conditional"`` when the counts are sparse (fewer than
    :data:`geodata.methods.grid.MIN_MEAN_PER_CELL` = 0.5 incidents a cell), else ``"total"``."""
    return "conditional" if cells and incidents / cells < MIN_MEAN_PER_CELL else "total"


def subset_sum_ways(values: np.ndarray, kmax: int) -> np.ndarray:
    """Ways to choose ``j`` of ``values`` (whole numbers >= 0) with sum ``s``, for ``j = 0..kmax``:
    an array (kmax + 1, max sum + 1), row ``j`` summing to ``C(len(values), j)``. The max sum is that
    of the ``kmax`` largest values."""
    v = np.asarray(values, dtype="int64")
    kmax = int(min(kmax, v.size))
    top = int(np.sort(v)[::-1][:kmax].sum()) if kmax else 0
    ways = np.zeros((kmax + 1, top + 1))
    ways[0, 0] = 1.0
    distinct, mult = np.unique(v, return_counts=True)
    for a, m in zip(distinct.tolist(), mult.tolist()):
        new = ways.copy()  # c = 0
        for c in range(1, min(m, kmax) + 1):
            shift = c * a
            if shift > top:
                break
            new[c:, shift:] += comb(m, c) * ways[: kmax + 1 - c, : top + 1 - shift]
        ways = new
    return ways


def _tails(ways_k: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(P_hi, P_lo) mid-p tails of ``observed`` sums under the distribution ``ways_k`` (one row of
    :func:`subset_sum_ways`, not normalised)."""
    total = ways_k.sum()
    above = np.concatenate([np.cumsum(ways_k[::-1])[::-1][1:], [0.0]])  # P(S > s) * total, per s
    obs = np.clip(observed.astype("int64"), 0, ways_k.size - 1)
    at = np.where(observed < ways_k.size, ways_k[obs], 0.0)
    hi = np.where(observed < ways_k.size, above[obs], 0.0)
    lo = total - hi - at
    return (hi + at / 2) / total, (lo + at / 2) / total


def exact_p(
    y: np.ndarray, weights: sp.spmatrix, null: str = "total", *, sizes=None, observed=None
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided mid-p and direction (+1 hot, -1 cold) of each cell's Gi* neighbourhood sum under
    the exact permutation null (module docstring). ``y``: whole counts per cell (the population the
    counts are dealt from); ``weights``: binary (cells x cells), its diagonal taken as 1 (Gi*).
    ``null``: ``"total"`` (default, Gi*'s own null) or ``"conditional"`` (own count held fixed).

    ``sizes``, ``observed``: neighbourhood sizes and sums per tested unit when they are not those
    of ``weights`` on ``y`` (space-time windows, :mod:`geodata.methods.emerging`); the units are
    then the first ``len(sizes)`` entries of ``y`` (their own counts, for the conditional null).
    A population with no variance (all counts equal) gives p = 1, direction 0.
    """
    if null not in NULLS:
        raise ValueError(f"null must be one of {NULLS}, got {null!r}")
    y = finite_values(
        "y",
        np.asarray(y, dtype="float64").ravel(),
        "give whole incident counts per cell (>= 0)",
        nonnegative=True,
        whole=True,
    ).astype("int64")
    if sizes is None:
        w = sp.csr_matrix(weights, dtype="float64", copy=True)
        if w.shape != (y.size, y.size):
            raise ValueError(f"y has {y.size} cells; weights are {w.shape[0]} x {w.shape[1]}")
        w.setdiag(1.0)
        w.eliminate_zeros()
        sizes = np.diff(w.indptr)
        observed = np.rint(w @ y).astype("int64")
    sizes = np.asarray(sizes, dtype="int64")
    observed = np.asarray(observed, dtype="int64")
    units = sizes.size
    p = np.ones(units)
    direction = np.zeros(units, dtype="int8")
    if units == 0 or y.min() == y.max():
        return p, direction
    p_hi, p_lo = np.ones(units), np.ones(units)
    if null == "total":
        ways = subset_sum_ways(y, int(sizes.max()))
        for k in np.unique(sizes):
            at = sizes == k
            p_hi[at], p_lo[at] = _tails(ways[k], observed[at])
    else:
        own = y[:units]
        distinct, first = np.unique(own, return_index=True)
        for a, i in zip(distinct.tolist(), first.tolist()):
            others = np.delete(y, i)  # the n - 1 counts once one cell of value a is held fixed
            have = own == a
            ways = subset_sum_ways(others, int(sizes[have].max()) - 1)
            for k in np.unique(sizes[have]):
                at = have & (sizes == k)
                p_hi[at], p_lo[at] = _tails(ways[k - 1], observed[at] - a)
    p = np.minimum(1.0, 2 * np.minimum(p_hi, p_lo))
    direction = np.where(p_hi < p_lo, 1, -1).astype("int8")
    return p, direction
