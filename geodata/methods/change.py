"""Change in counts between two periods, with one significance test that knows the data's variation.

For each unit (ward, cell, crime type, priority): counts ``a`` (current period) and ``b`` (comparison
period), difference, ratio, percentage change, and **one test** (:func:`rate_test`), used by every
page that calls a change significant (the Meeting's badges and headlines, the explorer's and Wards'
"significant rise", Trends' crime types, the patrol zones' trend, the DEFRA annual change):

* **dispersion** (:func:`dispersion`): monthly crime counts vary more than Poisson counts do (P3's
  crime types 3-8x the mean, all crime up to 10x, DEFRA's annual series about 27x), so the
  variance is estimated from the series being judged, as a quasi-Poisson model does (McCullagh &
  Nelder 1989, section 4.5; R's ``glm(family = quasipoisson)``): phi = Pearson chi-square / residual
  degrees of freedom of the counts (months) around their group's mean (one group per period and
  unit). phi is **never taken below 1** (Poisson), and it is stated beside the verdict
  (:attr:`Dispersion.text`). Groups whose counts are all 0 carry no information and are left out;
* **phi = 1** (no over-dispersion found): the Poisson E-test of Krishnamoorthy & Thomson (2004)
  (:func:`e_test`: the sums of ``scipy.stats.poisson_means_test``, with the observed table always
  in its own "at least as extreme" set: near-ties are decided in exact rational arithmetic);
* **phi > 1**: the quasi-Poisson F test of equal rates (R's ``anova(..., test = "F")``): the
  likelihood-ratio statistic G2 of the two totals (:func:`g2`; the deviance the period adds to a
  Poisson GLM of the months) divided by phi, against F(1, residual df) (:func:`rate_test`). It is the
  statsmodels GLM answer: ``GLM(counts, period, Poisson, scale='X2')``, deviance of the model without
  the period minus with it, over the scale;
* the square-root statistic (:func:`sqrt_z`), variance-stabilised Poisson
  difference after Wheeler (andrewpwheeler.com 2018-04-29). Wheeler's
  ``2 * (sqrt(a) - sqrt(b))`` is standard normal when ``b`` is a known long-run
  mean; for two *random* periods each ``2 sqrt(count)`` has variance ~1, so the
  difference has variance 2 (sd 1.41: measured 1.414 on 200,000 simulated pairs).
  Ours divides by that: ``z = (sqrt(a/e_a) - sqrt(b/e_b)) / (0.5 sqrt(1/e_a + 1/e_b))``
  with exposures ``e`` (period lengths), which is ``sqrt(2) (sqrt(a) - sqrt(b))``
  for equal periods: standard normal under equal rates (sd 1.00 simulated).
  Reported for reference only (it assumes Poisson variance): unreliable for counts below about 5;
  with many series Wheeler suggests |z| > 3 as the bar;
* the p-values adjusted across units (Benjamini-Hochberg by default), and a label:
  "significant rise", "significant fall" or "no significant change" at ``alpha`` (default 0.05).

Size (tests/methods/test_change_test.py): on simulated gamma-Poisson monthly series with no change
(dispersion 3-10, 6 months against 6) the share called significant at 0.05 is about 0.05; the
Poisson E-test alone calls 20-45% of them significant.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

from geodata.methods.adjust import adjust_p
from geodata.methods.validate import finite_values, positive_number

#: Poisson support summed over: mean +- this many standard deviations (+ a margin); the mass
#: left out is below 1e-20, far under the 1e-10 that scipy's quantile bounds leave out.
_SPAN = 12.0
#: Relative gap under which two E-test statistics are compared again exactly (as rationals).
_TIE = 1e-9


def _poisson_support(mean: float) -> tuple[np.ndarray, np.ndarray]:
    """Values and Poisson(mean) probabilities over the support that holds all but ~1e-20."""
    lo = max(0, int(math.floor(mean - _SPAN * math.sqrt(mean) - _SPAN)))
    hi = int(math.ceil(mean + _SPAN * math.sqrt(mean) + 2 * _SPAN))
    x = np.arange(lo, hi + 1, dtype="float64")
    log_fact = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, hi + 1, dtype="float64")))])[lo : hi + 1]
    return x, np.exp(x * math.log(mean) - mean - log_fact)


def _check_counts(a, b, exposure_a, exposure_b) -> None:
    if a < 0 or b < 0 or int(a) != a or int(b) != b:
        raise ValueError(f"counts must be whole numbers >= 0, got {a!r} and {b!r}")
    if not (exposure_a > 0 and exposure_b > 0):
        raise ValueError(f"exposures must be > 0, got {exposure_a!r} and {exposure_b!r}")


def _square_parts(x1: int, x2: int, n1: Fraction, n2: Fraction) -> tuple[Fraction, Fraction]:
    """(D^2, V) of the E-test's Wald statistic T^2 = D^2 / V, exactly: D = x1/n1 - x2/n2,
    V = x1/n1^2 + x2/n2^2."""
    d = Fraction(x1) / n1 - Fraction(x2) / n2
    return d * d, Fraction(x1) / (n1 * n1) + Fraction(x2) / (n2 * n2)


def e_test(a: int, b: int, exposure_a: float = 1.0, exposure_b: float = 1.0) -> float:
    """Two-sided E-test p-value (Krishnamoorthy & Thomson 2004) that Poisson counts ``a`` and
    ``b``, over exposures ``exposure_a`` and ``exposure_b`` (e.g. months), have equal rates.

    The p-value is the probability, under the pooled rate, of a Wald statistic at least as far
    from 0 as the observed one, summed over both counts' Poisson distributions. A table whose
    statistic equals the observed one in exact arithmetic (e.g. the mirror table for equal
    exposures) is always counted: statistics within a relative 1e-9 of the observed one are compared
    again as rationals of the whole counts (scipy compares the floats, so 29 against 46 over 6
    months each gives 0.0493 there and 0.0506, the exact sum, here).
    """
    _check_counts(a, b, exposure_a, exposure_b)
    if a == 0 and b == 0:
        return 1.0
    n1, n2 = float(exposure_a), float(exposure_b)
    pooled = (a + b) / (n1 + n2)
    t_obs = abs((a / n1 - b / n2) / math.sqrt(a / n1**2 + b / n2**2))
    x1, p1 = _poisson_support(n1 * pooled)
    x2, p2 = _poisson_support(n2 * pooled)
    r1, r2 = (x1 / n1)[:, None], (x2 / n2)[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.abs((r1 - r2) / np.sqrt(r1 / n1 + r2 / n2))
    extreme = t >= t_obs  # NaN (both 0) is never extreme
    near = np.argwhere(np.abs(t - t_obs) <= _TIE * max(1.0, t_obs))
    if len(near):
        f1, f2 = Fraction(n1), Fraction(n2)
        d_obs, v_obs = _square_parts(int(a), int(b), f1, f2)
        for i, j in near:
            d, v = _square_parts(int(x1[i]), int(x2[j]), f1, f2)
            extreme[i, j] = d * v_obs >= d_obs * v  # T^2 >= T_obs^2, both sides times V * V_obs > 0
    return float(min(1.0, (p1[:, None] * p2[None, :])[extreme].sum()))


@dataclass(frozen=True)
class Dispersion:
    """How much more the counts vary than Poisson counts (:func:`dispersion`).

    ``estimate``: Pearson chi-square / ``df`` (residual degrees of freedom) of ``observations``
    counts around their groups' means; ``basis``: what they were (e.g. "12 months, 2 periods"),
    for the sentence. :attr:`factor` is the estimate never below 1."""

    estimate: float
    df: int
    observations: int
    basis: str = ""

    @property
    def factor(self) -> float:
        """The variance factor the test uses: the estimate, never below 1 (Poisson)."""
        return max(1.0, self.estimate)

    @property
    def text(self) -> str:
        """E.g. 'dispersion 3.3 (the 8 months compared, 6 df)'; 'dispersion 0.7, taken as 1 (Poisson; ...)'
        when it is not above 1."""
        detail = f"{self.basis}, {self.df} df" if self.basis else f"{self.df} df"
        if self.estimate <= 1:
            return f"dispersion {self.estimate:.1f}, taken as 1 (Poisson; {detail})"
        return f"dispersion {self.estimate:.1f} ({detail})"


def dispersion(groups: Iterable[Sequence[float] | np.ndarray], basis: str = "") -> Dispersion:
    """Quasi-Poisson dispersion of count ``groups`` (e.g. the monthly counts of each period, of each
    ward): Pearson chi-square sum((x - mean_g)^2 / mean_g) over the counts around their group's
    mean, over the residual degrees of freedom (counts - groups) (McCullagh & Nelder 1989, 4.5; the
    ``scale='X2'`` of statsmodels' GLM with one mean per group). A group whose counts are all 0 fits
    exactly and is left out (its counts and its mean alike). ValueError when no degree of freedom is
    left (every group a single count): the variation cannot be estimated from these counts."""
    chi2, n, g = 0.0, 0, 0
    for counts in groups:
        x = finite_values("counts", list(counts), "counts must be finite and >= 0", nonnegative=True)
        if not x.size or x.sum() == 0:
            continue
        mean = x.mean()
        chi2 += float(((x - mean) ** 2).sum() / mean)
        n, g = n + x.size, g + 1
    if n - g < 1:
        raise ValueError(
            f"the dispersion needs more counts than groups ({n} counts with any incident in {g} groups): "
            "compare periods of two or more months, or load more months"
        )
    return Dispersion(chi2 / (n - g), n - g, n, basis)


def successive_dispersion(values: Sequence[float], basis: str = "") -> Dispersion:
    """Dispersion of a series from its successive differences, for a change between neighbours of a series
    with a trend (DEFRA's annual totals): half the mean square successive difference (von Neumann et al.
    1941), which a level shift or a slow trend barely inflates, over the mean; ``n - 2`` degrees of freedom
    (as a straight-line fit leaves; the differences are not independent). DEFRA's St Albans series
    2012-13..2022-23: 27.0 (around the mean instead: 64). ValueError below 3 values."""
    x = finite_values("values", list(values), "values must be finite counts >= 0", nonnegative=True)
    if x.size < 3 or x.mean() == 0:
        raise ValueError(f"the dispersion of a series needs 3 or more values with a count, got {x.size}")
    return Dispersion(float((np.diff(x) ** 2).sum() / (2 * (x.size - 1)) / x.mean()), x.size - 2, x.size, basis)


def g2(a: int, b: int, exposure_a: float = 1.0, exposure_b: float = 1.0) -> float:
    """Likelihood-ratio statistic of equal Poisson rates for totals ``a`` and ``b`` over exposures:
    ``2 [a ln(a / E_a) + b ln(b / E_b)]`` with ``E = (a + b) x exposure / (exposure_a + exposure_b)``
    (0 ln 0 = 0): the deviance a period effect removes from a Poisson GLM of the months."""
    _check_counts(a, b, exposure_a, exposure_b)
    total, e = a + b, exposure_a + exposure_b
    out = 0.0
    for x, share in ((a, exposure_a / e), (b, exposure_b / e)):
        if x:
            out += x * math.log(x / (total * share))
    return max(0.0, 2.0 * out)


def rate_test(a: int, b: int, exposure_a: float, exposure_b: float, dispersion: Dispersion) -> float:
    """The change test (module docstring): two-sided p that counts ``a`` and ``b`` over exposures
    (months) have equal rates, given the counts' ``dispersion``: the exact Poisson E-test
    (:func:`e_test`) when the dispersion is not above 1, else the quasi-Poisson F test
    ``P(F(1, df) >= g2 / phi)``."""
    if dispersion.factor <= 1.0:
        return e_test(a, b, exposure_a, exposure_b)
    from scipy import special  # on demand: a page that paints its wards first does not pay for scipy (0.9 s)

    stat = g2(a, b, exposure_a, exposure_b) / dispersion.factor
    return float(special.fdtrc(1, dispersion.df, stat))


def sqrt_z(a, b, exposure_a: float = 1.0, exposure_b: float = 1.0) -> np.ndarray:
    """Square-root z of counts ``a`` and ``b`` over exposures ``exposure_a``, ``exposure_b`` (module
    docstring): ``(sqrt(a/e_a) - sqrt(b/e_b)) / (0.5 * sqrt(1/e_a + 1/e_b))``, ~N(0, 1) when both
    are Poisson with one rate (Var sqrt(X) ~ 1/4 for Poisson X, Anscombe 1948)."""
    e_a = positive_number("exposure_a", exposure_a, "give the period length, e.g. months")
    e_b = positive_number("exposure_b", exposure_b, "give the period length, e.g. months")
    a = finite_values("a", a, "counts must be finite and >= 0", nonnegative=True)
    b = finite_values("b", b, "counts must be finite and >= 0", nonnegative=True)
    return (np.sqrt(a / e_a) - np.sqrt(b / e_b)) / (0.5 * math.sqrt(1 / e_a + 1 / e_b))


def compare(
    current: pd.Series,
    previous: pd.Series,
    exposure_current: float = 1.0,
    exposure_previous: float = 1.0,
    *,
    dispersion: Dispersion,
    adjust: str = "fdr_bh",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Compare two count series on the same index (e.g. ward codes); missing counts are 0.

    Returns columns ``current, previous, difference, ratio, pct_change, sqrt_z,
    p, p_adj, change``. ``ratio`` and ``pct_change`` are NaN when ``previous`` is 0.
    Exposures are the period lengths (e.g. months), for periods of unequal length; ``dispersion``:
    the units' pooled dispersion (:func:`dispersion` of every unit's monthly counts per period),
    required: the test is :func:`rate_test`, and the table's ``attrs["dispersion"]`` states it.
    Empty series give an empty table; a NaN, negative or fractional count is an error naming the
    series, the unit and the value (a unit absent from a series counts 0; NaN is never read as 0).
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")
    index = current.index.union(previous.index)
    counts = {}
    for name, series in (("current", current), ("previous", previous)):
        full = series.reindex(index, fill_value=0)
        finite_values(
            name,
            full.to_numpy(dtype="float64"),
            "counts must be whole numbers >= 0 (a unit with no incident is 0; leave out a unit whose count is unknown)",
            nonnegative=True,
            whole=True,
            labels=list(index),
        )
        counts[name] = full.astype("int64")
    a, b = counts["current"], counts["previous"]
    out = pd.DataFrame({"current": a, "previous": b, "difference": a - b})
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(b > 0, (a / exposure_current) / (b / exposure_previous), np.nan)
    out["ratio"] = ratio
    out["pct_change"] = 100 * (ratio - 1)
    out["sqrt_z"] = sqrt_z(a, b, exposure_current, exposure_previous)
    out["p"] = np.array(
        [rate_test(x, y, exposure_current, exposure_previous, dispersion) for x, y in zip(a, b)], dtype="float64"
    )
    out["p_adj"] = adjust_p(out["p"].to_numpy(), adjust)
    rate_up = a / exposure_current > b / exposure_previous
    out["change"] = np.where(
        out["p_adj"] < alpha, np.where(rate_up, "significant rise", "significant fall"), "no significant change"
    )
    out.attrs["dispersion"] = dispersion.text
    return out
