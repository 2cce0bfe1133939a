"""How concentrated incidents are across places (cells, snap points, streets).

* share of incidents in the top x% of places (the "law of crime concentration":
  about 50% of crime on 2-6% of street segments, Weisburd 2015);
* the Lorenz curve and the Gini coefficient ``G = sum_i sum_j |x_i - x_j| / (2 m^2 mean)``
  over ``m`` places (0 = even, 1 = all in one place);
* the generalised Gini of Bernasco & Steenbeek (2017, "More places than
  crimes", J. Quant. Criminol. 33) for when there are fewer incidents ``n``
  than places ``m``: perfect equality is then impossible (at best n places hold
  one incident each), and ``G' = max(m / n, 1) * (G - 1) + 1`` measures the
  distance from that maximal equality instead.
"""

from __future__ import annotations

import numpy as np

from geodata.methods import validate


def _counts(counts) -> np.ndarray:
    c = validate.finite_values("counts", counts, "give a count (0 or more) per place", nonnegative=True).ravel()
    if c.size == 0:
        raise ValueError("counts must be a non-empty array of non-negative numbers")
    return c


def lorenz(counts) -> tuple[np.ndarray, np.ndarray]:
    """Lorenz curve: (share of places, share of incidents), places from fewest to most, from (0, 0)."""
    c = np.sort(_counts(counts))
    total = c.sum()
    places = np.arange(c.size + 1) / c.size
    shares = np.concatenate([[0.0], np.cumsum(c) / total]) if total else places.copy()
    return places, shares


def gini(counts) -> float:
    """Gini coefficient of counts over places (0 when there are no incidents)."""
    c = np.sort(_counts(counts))
    m, total = c.size, c.sum()
    if total == 0:
        return 0.0
    # sum_i sum_j |x_i - x_j| = 2 * sum_i (2i - m - 1) x_(i) for sorted x, i = 1..m
    return float(np.sum((2 * np.arange(1, m + 1) - m - 1) * c) / (m * total))


def generalised_gini(counts) -> float:
    """Bernasco & Steenbeek's G' = max(m/n, 1) (G - 1) + 1; equals G when n >= m."""
    c = _counts(counts)
    n, m = c.sum(), c.size
    if n == 0:
        return 0.0
    return float(max(m / n, 1.0) * (gini(c) - 1) + 1)


def top_share(counts, top: float = 0.05) -> float:
    """Share of incidents in the ``top`` fraction of places with most incidents (ceil of places)."""
    if not 0 < top <= 1:
        raise ValueError(f"top must be in (0, 1], got {top!r}")
    c = np.sort(_counts(counts))[::-1]
    k = int(np.ceil(top * c.size))
    return float(c[:k].sum() / c.sum()) if c.sum() else 0.0


def places_for_share(counts, share: float = 0.5) -> float:
    """Smallest fraction of places holding at least ``share`` of the incidents."""
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share!r}")
    c = np.sort(_counts(counts))[::-1]
    if c.sum() == 0:
        return 0.0
    k = int(np.searchsorted(np.cumsum(c) / c.sum(), share - 1e-12) + 1)
    return k / c.size
