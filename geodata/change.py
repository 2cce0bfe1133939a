"""Change in counts between two periods, with a significance test fit for counts.

For each unit (ward, cell): counts ``a`` (current period) and ``b`` (comparison
period), difference, ratio, percentage change, and:

* the Poisson E-test of Krishnamoorthy & Thomson (2004) for equal rates, two
  sided, with period lengths as exposures (:func:`e_test`: the same sums as
  ``scipy.stats.poisson_means_test``, computed here in numpy so that pages
  showing a change do not import scipy.stats, 0.7 s);
* the square-root statistic ``z = 2 * (sqrt(a) - sqrt(b))`` (variance-stabilised
  Poisson difference; Wheeler 2018, andrewpwheeler.com 2018-04-29), reported
  for reference only: it assumes equal exposures and is unreliable for counts
  below about 5; with many series Wheeler suggests |z| > 3 as the bar;
* the E-test p-values adjusted across units (Benjamini-Hochberg by default), and
  a label: "significant rise", "significant fall" or "no significant change"
  at ``alpha`` (default 0.05).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from geodata.adjust import adjust_p

#: Poisson support summed over: mean +- this many standard deviations (+ a margin); the mass
#: left out is below 1e-20, far under the 1e-10 that scipy's quantile bounds leave out.
_SPAN = 12.0


def _poisson_support(mean: float) -> tuple[np.ndarray, np.ndarray]:
    """Values and Poisson(mean) probabilities over the support that holds all but ~1e-20."""
    lo = max(0, int(math.floor(mean - _SPAN * math.sqrt(mean) - _SPAN)))
    hi = int(math.ceil(mean + _SPAN * math.sqrt(mean) + 2 * _SPAN))
    x = np.arange(lo, hi + 1, dtype="float64")
    log_fact = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, hi + 1, dtype="float64")))])[lo:hi + 1]
    return x, np.exp(x * math.log(mean) - mean - log_fact)


def e_test(a: int, b: int, exposure_a: float = 1.0, exposure_b: float = 1.0) -> float:
    """Two-sided E-test p-value (Krishnamoorthy & Thomson 2004) that Poisson counts ``a`` and
    ``b``, over exposures ``exposure_a`` and ``exposure_b`` (e.g. months), have equal rates.

    The p-value is the probability, under the pooled rate, of a Wald statistic at least as far
    from 0 as the observed one, summed over both counts' Poisson distributions.
    """
    if a < 0 or b < 0 or int(a) != a or int(b) != b:
        raise ValueError(f"counts must be whole numbers >= 0, got {a!r} and {b!r}")
    if not (exposure_a > 0 and exposure_b > 0):
        raise ValueError(f"exposures must be > 0, got {exposure_a!r} and {exposure_b!r}")
    if a == 0 and b == 0:
        return 1.0
    n1, n2 = float(exposure_a), float(exposure_b)
    pooled = (a + b) / (n1 + n2)
    t_obs = (a / n1 - b / n2) / math.sqrt(a / n1**2 + b / n2**2)
    x1, p1 = _poisson_support(n1 * pooled)
    x2, p2 = _poisson_support(n2 * pooled)
    r1, r2 = (x1 / n1)[:, None], (x2 / n2)[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = (r1 - r2) / np.sqrt(r1 / n1 + r2 / n2)
    extreme = np.abs(t) >= abs(t_obs)  # NaN (both 0) is never extreme
    return float(min(1.0, (p1[:, None] * p2[None, :])[extreme].sum()))


def compare(current: pd.Series, previous: pd.Series, exposure_current: float = 1.0,
            exposure_previous: float = 1.0, adjust: str = "fdr_bh", alpha: float = 0.05) -> pd.DataFrame:
    """Compare two count series on the same index (e.g. ward codes); missing counts are 0.

    Returns columns ``current, previous, difference, ratio, pct_change, sqrt_z,
    p, p_adj, change``. ``ratio`` and ``pct_change`` are NaN when ``previous`` is 0.
    Exposures are the period lengths (e.g. months), for periods of unequal length.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")
    index = current.index.union(previous.index)
    a = current.reindex(index, fill_value=0).astype("int64")
    b = previous.reindex(index, fill_value=0).astype("int64")
    out = pd.DataFrame({"current": a, "previous": b, "difference": a - b})
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(b > 0, (a / exposure_current) / (b / exposure_previous), np.nan)
    out["ratio"] = ratio
    out["pct_change"] = 100 * (ratio - 1)
    out["sqrt_z"] = 2 * (np.sqrt(a) - np.sqrt(b))
    out["p"] = [e_test(x, y, exposure_current, exposure_previous) for x, y in zip(a, b)]
    out["p_adj"] = adjust_p(out["p"].to_numpy(), adjust)
    rate_up = a / exposure_current > b / exposure_previous
    out["change"] = np.where(out["p_adj"] < alpha, np.where(rate_up, "significant rise", "significant fall"),
                             "no significant change")
    return out
