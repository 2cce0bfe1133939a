"""Exact p-values for Gi*: the permutation distribution of a neighbourhood sum, computed, not sampled.

Gi*'s null hypothesis is *total randomisation*: the observed cell counts are dealt to the cells at
random, every arrangement equally likely (Getis & Ord 1992: the moments behind the z-score are those
of this null). A neighbourhood of ``k`` cells (the cell included) then holds a random ``k``-subset of
the ``n`` counts, so the distribution of its sum ``S`` is exact and computable: with the distinct
count values ``a`` and their multiplicities ``m_a``, the number of ``j``-subsets with sum ``s`` is
the coefficient of ``t^j x^s`` in ``prod_a sum_c C(m_a, c) t^c x^(c a)`` (a dynamic programme over the
distinct values, :func:`subset_sum_ways`; 0.013 s for the 2,758 cells of all crime over six
months). ``P(S = s) = ways(k, s) / C(n, k)``.

The *conditional* null (Anselin 1995; esda's ``crand``) holds the cell's own count fixed and deals
its ``k - 1`` neighbours from the other ``n - 1`` counts: the same programme on those ``n - 1``
values, for each distinct own value (built for all of them together by divide and conquer,
:func:`_leave_one_out`). It answers "are the neighbours busy?" and so never calls a lone
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

import math

import numpy as np
import scipy.sparse as sp
from scipy.special import comb

from geodata.methods.validate import finite_values

#: The two nulls :func:`exact_p` knows. The maps use ``"total"``, Gi*'s own
#: (:mod:`geodata.methods.hotspots` says why not the conditional one).
NULLS = ("total", "conditional")


def subset_sum_ways(values: np.ndarray, kmax: int) -> np.ndarray:
    """Ways to choose ``j`` of ``values`` (whole numbers >= 0) with sum ``s``, for ``j = 0..kmax``:
    an array (kmax + 1, max sum + 1), row ``j`` summing to ``C(len(values), j)``. The max sum is that
    of the ``kmax`` largest values."""
    distinct, mult = np.unique(np.asarray(values, dtype="int64"), return_counts=True)
    return _ways(distinct, mult, kmax)


def _top(distinct: np.ndarray, mult: np.ndarray, kmax: int) -> int:
    """The sum of the ``kmax`` largest values (``distinct`` increasing, each ``mult`` times)."""
    top, left = 0, kmax
    for a, m in zip(distinct[::-1].tolist(), mult[::-1].tolist()):
        take = min(m, left)
        top, left = top + take * a, left - take
    return top


def _add(ways: np.ndarray, a: int, m: int) -> np.ndarray:
    """``ways`` with ``m`` more values ``a`` to choose from: sum over c of C(m, c) x ``ways``
    moved c places in size and c a in sum (non-negative terms only)."""
    kmax, top = ways.shape[0] - 1, ways.shape[1] - 1
    new = ways.copy()  # c = 0
    for c in range(1, min(m, kmax) + 1):
        shift = c * a
        if shift > top:
            break
        new[c:, shift:] += comb(m, c) * ways[: kmax + 1 - c, : top + 1 - shift]
    return new


def _ways(distinct: np.ndarray, mult: np.ndarray, kmax: int) -> np.ndarray:
    """:func:`subset_sum_ways` of the values ``distinct`` (increasing), each ``mult`` times."""
    kmax = int(min(kmax, mult.sum()))
    ways = np.zeros((kmax + 1, _top(distinct, mult, kmax) + 1))
    ways[0, 0] = 1.0
    for a, m in zip(distinct.tolist(), mult.tolist()):
        ways = _add(ways, a, m)
    return ways


def _leave_one_out(distinct: np.ndarray, mult: np.ndarray, wanted: np.ndarray, kmax: int):
    """For each index ``d`` with ``wanted[d]``, yield (d, :func:`subset_sum_ways` of the values
    with one copy of ``distinct[d]`` taken out). Divide and conquer: the table of every group
    but one range is built once for each half of the range, so the groups are added
    D log D times in all, not D^2 (D distinct values)."""
    kmax = int(min(kmax, mult.sum() - 1))
    start = np.zeros((kmax + 1, _top(distinct, mult, kmax) + 1))
    start[0, 0] = 1.0
    stack = [(0, distinct.size, start)]  # groups lo..hi-1 still to add to the table
    while stack:
        lo, hi, ways = stack.pop()
        if not wanted[lo:hi].any():
            continue
        if hi - lo == 1:
            yield lo, _add(ways, int(distinct[lo]), int(mult[lo]) - 1)
            continue
        mid = (lo + hi) // 2
        right, left = ways, ways
        for d in range(mid, hi):
            right = _add(right, int(distinct[d]), int(mult[d]))
        for d in range(lo, mid):
            left = _add(left, int(distinct[d]), int(mult[d]))
        stack += [(lo, mid, right), (mid, hi, left)]


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
    if (sizes is None) != (observed is None):
        raise ValueError("give sizes and observed together (or neither, to take them from weights)")
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
    if math.lgamma(y.size + 1) - math.lgamma(sizes.max() + 1) - math.lgamma(y.size - sizes.max() + 1) > 700:
        raise ValueError(
            f"neighbourhoods of {int(sizes.max())} of {y.size:,} cells: too many subsets to count in floating point "
            "(over 1e304); choose a smaller distance band or a coarser grid"
        )
    p_hi, p_lo = np.ones(units), np.ones(units)
    if null == "total":
        ways = subset_sum_ways(y, int(sizes.max()))
        for k in np.unique(sizes):
            at = sizes == k
            p_hi[at], p_lo[at] = _tails(ways[k], observed[at])
    else:
        own = y[:units]
        values, mult = np.unique(y, return_counts=True)
        wanted = np.isin(values, own)
        for d, ways in _leave_one_out(values, mult, wanted, int(sizes.max()) - 1):
            a = int(values[d])
            have = own == a
            for k in np.unique(sizes[have]):
                at = have & (sizes == k)
                p_hi[at], p_lo[at] = _tails(ways[k - 1], observed[at] - a)
    p = np.minimum(1.0, 2 * np.minimum(p_hi, p_lo))
    direction = np.where(p_hi < p_lo, 1, -1).astype("int8")
    return p, direction
