"""Run charts as NHS England's "Making Data Count" (MDC) draws them: the XmR chart of a monthly count.

For a monthly series (a value per calendar month, ``None``/NaN where the month is not loaded):

* **centre** = the mean of the loaded months of a stated **baseline** (``baseline=(start, end)``,
  default every month of the series); the limits are not recalculated outside it (recalculate
  only at a stated change of process, with a new baseline);
* **moving range** MR_i = |x_i - x_(i-1)| for each month whose previous calendar month is also
  loaded (a gap gives no moving range: a difference across a gap is not a month-to-month one);
* **screening of large moving ranges** (NHSRplotthedots' default ``screen_outliers = TRUE``; Nelson
  1982): a baseline moving range above :data:`SCREEN` (3.267) x the mean moving range is left out
  and the mean moving range computed again from the rest, once (:attr:`XmR.screened` counts them):
  one freak month then does not widen the limits (``screen_outliers=False`` turns it off, as abspc
  does not screen);
* **process limits** = mean +- 2.66 x mean(MR of the baseline, screened) (2.66 = 3 / d2, d2 = 1.128
  for ranges of two). The lower limit is kept as computed even when negative (a count cannot fall
  below it then);
* **special-cause rules** (:data:`RULES`), as MDC and its R package NHSRplotthedots use them:

  - ``outside``: a point above the upper or below the lower process limit;
  - ``shift``: :data:`SHIFT_LENGTH` (7) or more consecutive points on the same side of the mean
    (a point exactly on the mean ends the run);
  - ``trend``: :data:`TREND_LENGTH` (6) or more consecutive points each higher (or each lower)
    than the one before (MDC material says 6 or 7; we use 6, as the abspc package does;
    NHSRplotthedots uses 7; an equal value ends the trend);
  - ``two_of_three``: two of three consecutive points close to a limit (in the outer third:
    further from the mean than 2/3 of the way to the limit, but not beyond it; a point beyond is
    ``outside``), all three points on the same side of the mean; the close points are flagged
    (as NHSRplotthedots' ``ptd_two_in_three``).

  **Gaps**: runs, trends and three-point windows count consecutive calendar months only, so a
  month not loaded ends a shift or a trend and no three-point window spans it. A gap is never a
  zero.
* **icon** (:func:`XmR.icon`), from the latest loaded point (or, given ``since``, the latest point
  from that month on that fires a rule, so that the icon agrees with every point the chart marks in
  a period), as MDC's variation icons: special
  cause **improving** or **concerning** (its side of the mean, or its trend's direction when it
  fires the trend rule alone, as abspc does; NHSRplotthedots uses the side of the mean even then;
  which side is better is ``lower_is_better``, default true for crime),
  special cause with **neither** direction better when ``lower_is_better`` is None, else
  **common cause** variation.

MDC advises at least 12 (ideally 20) baseline points; with fewer the limits are flagged
``provisional`` and should be read as such. Other rule sets differ (Western Electric: 9 on one side;
Anhoej: run length and crossings by n): these are not used.

References: NHS England, "Making Data Count" (2019, 2021 "Getting started"); NHSRplotthedots
(github.com/nhs-r-community/NHSRplotthedots); Wheeler, "Understanding Variation" (1993).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from geodata.methods import validate

#: Limits = mean +- E2 x mean moving range (3 / d2, d2 = 1.128 for moving ranges of two points).
E2 = 2.66
#: Moving ranges above SCREEN x their mean are screened out of the mean moving range (D4 for ranges of
#: two: the upper limit of a moving-range chart; NHSRplotthedots' default, Nelson 1982).
SCREEN = 3.267
#: Consecutive points on one side of the mean that make a shift.
SHIFT_LENGTH = 7
#: Consecutive points each rising (or each falling) that make a trend (MDC material: 6 or 7).
TREND_LENGTH = 6
#: Baseline points below which the limits are provisional (MDC guidance: 12 at least, 20 better).
MIN_BASELINE = 12
RULES = ("outside", "shift", "trend", "two_of_three")

IMPROVING = "special cause improving"
CONCERNING = "special cause concerning"
NEITHER = "special cause, neither direction better"
COMMON = "common cause variation"


def _month_index(month: str) -> int:
    """'YYYY-MM' -> months since year 0 (private; :mod:`loaders.months` may take this over)."""
    year, mon = month.split("-")
    if len(year) != 4 or not year.isdigit() or not mon.isdigit() or not 1 <= int(mon) <= 12:
        raise ValueError(f"month must be YYYY-MM, got {month!r}")
    return int(year) * 12 + int(mon) - 1


def _month_name(k: int) -> str:
    return f"{k // 12:04d}-{k % 12 + 1:02d}"


@dataclass(frozen=True)
class XmR:
    """An XmR chart of one monthly series: every calendar month from first to last, gaps as NaN."""

    months: tuple[str, ...]
    values: np.ndarray  # float; NaN where the month is not loaded
    baseline: tuple[str, str]
    baseline_points: int
    mean: float
    mean_mr: float
    upper: float
    lower: float
    moving_range: np.ndarray  # NaN where this or the previous month is not loaded
    flags: dict[str, np.ndarray]  # rule -> boolean per month
    lower_is_better: bool | None = True
    screened: int = 0  # baseline moving ranges left out of the mean moving range (above SCREEN x the mean)

    @property
    def provisional(self) -> bool:
        """True when the baseline has fewer than :data:`MIN_BASELINE` points."""
        return self.baseline_points < MIN_BASELINE

    @property
    def special(self) -> np.ndarray:
        """True where any rule fires."""
        return np.logical_or.reduce([self.flags[r] for r in RULES])

    def rules_at(self, month: str) -> list[str]:
        """The rules that fire at ``month``."""
        i = self.months.index(month)
        return [r for r in RULES if self.flags[r][i]]

    def icon(self, since: str | None = None) -> str:
        """The variation icon (module docstring) of the latest loaded point; with ``since`` ('YYYY-MM'),
        of the latest loaded point from ``since`` on that fires a rule (common cause when none does), so
        that a chart marking a special cause in the period never says "common cause"."""
        loaded = np.flatnonzero(~np.isnan(self.values))
        if since is not None:
            first = _month_index(since) - _month_index(self.months[0])
            loaded = np.array([i for i in loaded if i >= first and self.special[i]], dtype="int64")
        if not loaded.size:
            return COMMON
        return self.variation_at(int(loaded[-1]))

    def variation_at(self, i: int) -> str:
        """The variation of point ``i`` (module docstring): :data:`COMMON` when it fires no rule, else
        improving, concerning or neither, by its side of the mean, or by its trend's direction when it fires
        the trend rule alone (read from its neighbour within the trend)."""
        fired = self.rules_at(self.months[i])
        if not fired:
            return COMMON
        if self.lower_is_better is None:
            return NEITHER
        if fired == ["trend"]:
            trend = self.flags["trend"]
            rising = (
                self.values[i] > self.values[i - 1] if i > 0 and trend[i - 1] else self.values[i + 1] > self.values[i]
            )
            high = bool(rising)
        else:
            high = bool(self.values[i] > self.mean)
        return CONCERNING if high == self.lower_is_better else IMPROVING


def xmr(
    series: Mapping[str, float | None],
    baseline: tuple[str, str] | None = None,
    lower_is_better: bool | None = True,
    screen_outliers: bool = True,
) -> XmR:
    """The XmR chart of ``series`` ('YYYY-MM' -> value; ``None`` or NaN: not loaded).

    ``baseline``: (first, last) month of the period the mean and limits come from, inclusive
    (default: the whole series). ``screen_outliers`` (default True, as NHSRplotthedots): leave baseline
    moving ranges above :data:`SCREEN` x their mean out of the mean moving range. Raises ``ValueError``
    when the baseline has fewer than two loaded points or no moving range (two consecutive loaded months).
    """
    if not series:
        raise ValueError("the series is empty")
    validate.numbers_or_missing("series", list(series.values()), "give a count or None per month", labels=list(series))
    index = {_month_index(m): (np.nan if v is None else float(v)) for m, v in series.items()}
    first, last = min(index), max(index)
    ks = np.arange(first, last + 1)
    values = np.array([index.get(int(k), np.nan) for k in ks], dtype="float64")
    months = tuple(_month_name(int(k)) for k in ks)
    b0, b1 = (first, last) if baseline is None else (_month_index(baseline[0]), _month_index(baseline[1]))
    if b0 > b1:
        raise ValueError(f"baseline starts after it ends: {baseline}")
    in_base = (ks >= b0) & (ks <= b1)
    moving_range = np.full(len(values), np.nan)
    moving_range[1:] = np.abs(np.diff(values))
    base_values = values[in_base & ~np.isnan(values)]
    base_mr = moving_range[in_base & (np.r_[False, in_base[:-1]])]  # both months inside the baseline
    base_mr = base_mr[~np.isnan(base_mr)]
    if base_values.size < 2 or base_mr.size < 1:
        raise ValueError(
            f"baseline {_month_name(b0)}..{_month_name(b1)} has {base_values.size} loaded "
            f"month(s) and {base_mr.size} moving range(s): at least 2 consecutive months are needed"
        )
    mean, mean_mr = float(base_values.mean()), float(base_mr.mean())
    screened = 0
    if screen_outliers:
        kept = base_mr[base_mr <= SCREEN * mean_mr]
        screened, mean_mr = int(base_mr.size - kept.size), float(kept.mean())
    upper, lower = mean + E2 * mean_mr, mean - E2 * mean_mr
    flags = _rules(values, mean, upper, lower)
    return XmR(
        months,
        values,
        (_month_name(b0), _month_name(b1)),
        int(base_values.size),
        mean,
        mean_mr,
        upper,
        lower,
        moving_range,
        flags,
        lower_is_better,
        screened,
    )


def _runs(mask: np.ndarray, length: int) -> np.ndarray:
    """Flag every element of a run of at least ``length`` consecutive True values."""
    out = np.zeros(len(mask), dtype=bool)
    start = None
    for i, m in enumerate(np.r_[mask, False]):
        if m and start is None:
            start = i
        elif not m and start is not None:
            if i - start >= length:
                out[start:i] = True
            start = None
    return out


def _rules(values: np.ndarray, mean: float, upper: float, lower: float) -> dict[str, np.ndarray]:
    loaded = ~np.isnan(values)
    with np.errstate(invalid="ignore"):
        above, below = loaded & (values > mean), loaded & (values < mean)
        outside = loaded & ((values > upper) | (values < lower))
        step = np.diff(values)
        rising, falling = np.r_[False, step > 0], np.r_[False, step < 0]  # NaN compares false: a gap ends it
        near_hi = loaded & ~outside & (values > mean + 2 * (upper - mean) / 3)
        near_lo = loaded & ~outside & (values < mean - 2 * (mean - lower) / 3)
    # a trend of n points is n - 1 steps; the first point of the trend is flagged too
    trend = np.zeros(len(values), dtype=bool)
    for steps in (rising, falling):
        run = _runs(steps, TREND_LENGTH - 1)
        trend |= run | np.r_[run[1:], False]
    two = np.zeros(len(values), dtype=bool)
    for near, side in ((near_hi, above), (near_lo, below)):
        for i in range(len(values) - 2):
            window = slice(i, i + 3)
            if side[window].all() and near[window].sum() >= 2:  # all on one side: all loaded too
                two[window] |= near[window]
    return {
        "outside": outside,
        "shift": _runs(above, SHIFT_LENGTH) | _runs(below, SHIFT_LENGTH),
        "trend": trend,
        "two_of_three": two,
    }
