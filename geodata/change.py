"""Change in counts between two periods, with a significance test fit for counts.

For each unit (ward, cell): counts ``a`` (current period) and ``b`` (comparison
period), difference, ratio, percentage change, and:

* the Poisson E-test of Krishnamoorthy & Thomson (2004) for equal rates, two
  sided (``scipy.stats.poisson_means_test``), with period lengths as exposures;
* the square-root statistic ``z = 2 * (sqrt(a) - sqrt(b))`` (variance-stabilised
  Poisson difference; Wheeler 2018, andrewpwheeler.com 2018-04-29), reported
  for reference only: it assumes equal exposures and is unreliable for counts
  below about 5; with many series Wheeler suggests |z| > 3 as the bar;
* the E-test p-values adjusted across units (Benjamini-Hochberg by default), and
  a label: "significant rise", "significant fall" or "no significant change"
  at ``alpha`` (default 0.05).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import poisson_means_test

from geodata.gistar import adjust_p


def e_test(a: int, b: int, exposure_a: float = 1.0, exposure_b: float = 1.0) -> float:
    """Two-sided E-test p-value for Poisson counts ``a`` and ``b`` with the given exposures."""
    if a < 0 or b < 0:
        raise ValueError("counts must be non-negative")
    if a == 0 and b == 0:
        return 1.0
    return float(poisson_means_test(int(a), float(exposure_a), int(b), float(exposure_b)).pvalue)


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
