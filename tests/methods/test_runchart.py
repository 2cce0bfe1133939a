"""XmR run charts (geodata/methods/runchart.py): each special-cause rule on constructed series, gaps, icons,
and the bundled police.uk months."""

from __future__ import annotations

import numpy as np
import pytest

from geodata.methods.runchart import COMMON, CONCERNING, IMPROVING, NEITHER, xmr


def monthly(values, start=(2023, 1)):
    """{'YYYY-MM': value} from consecutive months starting at ``start``."""
    y, m = start
    out = {}
    for v in values:
        out[f"{y:04d}-{m:02d}"] = v
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def screened_mean_mr(mrs):
    """NHSRplotthedots' default screening, written out: moving ranges above 3.267 x their mean are left out
    and the mean taken again over the rest, once."""
    mrs = np.asarray(mrs, dtype=float)
    return mrs[mrs <= 3.267 * mrs.mean()].mean()


def fired(chart, rule):
    return [m for m, f in zip(chart.months, chart.flags[rule]) if f]


# A baseline alternating 12, 10 (ending below the mean): mean 11, every moving range 2,
# limits 11 +- 5.32 = 5.68 .. 16.32;
# outer third beyond 11 +- 3.547 (above 14.547, below 7.453).
BASE = [12, 10] * 6


def test_centre_and_limits_by_hand():
    chart = xmr(monthly(BASE))
    assert chart.mean == 11 and chart.mean_mr == 2
    assert chart.upper == pytest.approx(11 + 2.66 * 2) and chart.lower == pytest.approx(11 - 2.66 * 2)
    assert np.isnan(chart.moving_range[0]) and list(chart.moving_range[1:]) == [2.0] * 11
    assert chart.baseline == ("2023-01", "2023-12") and chart.baseline_points == 12 and not chart.provisional
    assert not chart.special.any() and chart.icon() == COMMON


def test_baseline_is_stated_and_later_points_do_not_move_the_limits():
    chart = xmr(monthly(BASE + [30, 31, 29]), baseline=("2023-01", "2023-12"))
    assert chart.mean == 11 and chart.mean_mr == 2  # the jump to 30 is outside the baseline
    whole = xmr(monthly(BASE + [30, 31, 29]))
    assert whole.mean == pytest.approx(np.mean(BASE + [30, 31, 29]))


def test_point_outside_the_limits_fires_only_there():
    series = BASE + [17, 11]  # 17 > 16.32; 11 is the mean
    chart = xmr(monthly(series), baseline=("2023-01", "2023-12"))
    assert fired(chart, "outside") == ["2024-01"]
    low = xmr(monthly(BASE + [5, 11]), baseline=("2023-01", "2023-12"))
    assert fired(low, "outside") == ["2024-01"]
    edge = xmr(monthly(BASE + [16, 11]), baseline=("2023-01", "2023-12"))  # inside, though near
    assert fired(edge, "outside") == []


def test_shift_of_seven_fires_and_six_does_not():
    seven = xmr(monthly(BASE + [12, 13, 12, 13, 12, 13, 12, 10]), baseline=("2023-01", "2023-12"))
    assert fired(seven, "shift") == ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06", "2024-07"]
    six = xmr(monthly(BASE + [12, 13, 12, 13, 12, 13, 10]), baseline=("2023-01", "2023-12"))
    assert fired(six, "shift") == []
    on_mean = xmr(monthly(BASE + [12, 13, 12, 11, 13, 12, 13, 12]), baseline=("2023-01", "2023-12"))
    assert fired(on_mean, "shift") == []  # a point on the mean ends the run: 3 and 4 either side


def test_trend_of_six_fires_and_five_does_not():
    up = xmr(monthly(BASE + [8, 9, 10, 11, 12, 13, 11]), baseline=("2023-01", "2023-12"))
    assert fired(up, "trend") == ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]
    five = xmr(monthly(BASE + [9, 10, 11, 12, 13, 11]), baseline=("2023-01", "2023-12"))
    assert fired(five, "trend") == []
    down = xmr(monthly(BASE + [14, 13, 12, 11, 10, 9]), baseline=("2023-01", "2023-12"))
    assert fired(down, "trend") == ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]
    tie = xmr(monthly(BASE + [8, 9, 10, 10, 11, 12, 13]), baseline=("2023-01", "2023-12"))
    assert fired(tie, "trend") == []  # an equal value ends the trend: 3 and 4 points


def test_two_of_three_near_a_limit_same_side():
    # 15 is in the upper outer third (14.55 .. 16.32); 11 is the mean
    chart = xmr(monthly(BASE + [15, 12, 15, 11, 11]), baseline=("2023-01", "2023-12"))
    assert fired(chart, "two_of_three") == ["2024-01", "2024-03"] and fired(chart, "outside") == []
    across = xmr(monthly(BASE + [15, 9, 15, 11]), baseline=("2023-01", "2023-12"))
    assert fired(across, "two_of_three") == []  # the middle point is on the other side of the mean
    beyond = xmr(monthly(BASE + [17, 15, 12, 11]), baseline=("2023-01", "2023-12"))
    assert fired(beyond, "two_of_three") == [] and fired(beyond, "outside") == ["2024-01"]
    one = xmr(monthly(BASE + [15, 11, 11, 15, 11]), baseline=("2023-01", "2023-12"))
    assert fired(one, "two_of_three") == []  # never two within three consecutive points
    sides = xmr(monthly(BASE + [15, 7, 11]), baseline=("2023-01", "2023-12"))
    assert fired(sides, "two_of_three") == []  # one near each limit is not the rule
    below = xmr(monthly(BASE + [7, 7, 11]), baseline=("2023-01", "2023-12"))
    assert fired(below, "two_of_three") == ["2024-01", "2024-02"]


def test_gaps_are_not_zeros_and_break_runs_trends_and_windows():
    series = monthly(BASE + [12, 13, 12, None, 13, 12, 13, 12])  # 7 above the mean with a gap after 3
    chart = xmr(series, baseline=("2023-01", "2023-12"))
    assert np.isnan(chart.values[15]) and chart.months[15] == "2024-04"
    assert fired(chart, "shift") == [] and not chart.special[15]
    assert np.isnan(chart.moving_range[15]) and np.isnan(chart.moving_range[16])
    trend = xmr(monthly(BASE + [8, 9, 10, None, 11, 12, 13]), baseline=("2023-01", "2023-12"))
    assert fired(trend, "trend") == []
    window = xmr(monthly(BASE + [15, None, 15, 11]), baseline=("2023-01", "2023-12"))
    assert fired(window, "two_of_three") == []
    # a missing month given by absence (not None) is the same gap
    absent = dict(series)
    del absent["2024-04"]
    assert xmr(absent, baseline=("2023-01", "2023-12")).months == chart.months


def test_large_moving_ranges_are_screened_as_nhsrplotthedots_does():
    """One freak month (24 in a 12, 10 baseline of 12 months) makes two moving ranges of 14: the mean of the
    11 is 46 / 11 = 4.18, 3.267 x that is 13.7, so both are left out and the mean of the other 9 (2) sets
    the limits: 12 +- 5.32 (upper 17.32), not +- 11.1 (upper 23.1). The next month's 19 is then outside."""
    series = [12, 10, 12, 10, 12, 10, 24, 10, 12, 10, 12, 10, 19]
    base = ("2023-01", "2023-12")
    chart = xmr(monthly(series), base)
    mrs = np.abs(np.diff(series[:12]))
    assert mrs.mean() == pytest.approx(46 / 11) and chart.screened == 2
    assert chart.mean_mr == pytest.approx(screened_mean_mr(mrs)) == 2
    assert chart.upper == pytest.approx(12 + 2.66 * 2)
    assert fired(chart, "outside") == ["2023-07", "2024-01"]
    plain = xmr(monthly(series), base, screen_outliers=False)
    assert plain.mean_mr == pytest.approx(mrs.mean()) and plain.screened == 0
    assert fired(plain, "outside") == ["2023-07"]  # the unscreened limits are 2.1x as far out: 19 is inside
    assert xmr(monthly(BASE)).screened == 0  # nothing to screen: the limits are the plain ones


def test_icon_agrees_with_the_points_marked_in_the_period():
    """A special-cause point in the period followed by an ordinary latest month: the latest-point icon says
    common cause, the period's icon says what the chart marks (concerning: a high point, lower is better)."""
    chart = xmr(monthly(BASE + [11, 25, 12]), ("2023-01", "2023-12"))
    assert fired(chart, "outside") == ["2024-02"]
    assert chart.icon() == COMMON and chart.icon("2024-01") == CONCERNING
    assert chart.icon("2024-03") == COMMON  # nothing marked from 2024-03 on
    assert xmr(monthly(BASE + [11, 2, 12]), ("2023-01", "2023-12")).icon("2024-01") == IMPROVING


def test_moving_ranges_across_a_gap_are_not_used_for_the_limits():
    chart = xmr({"2023-01": 10, "2023-02": 12, "2023-04": 40, "2023-05": 42})
    assert chart.mean_mr == 2  # |40 - 12| spans the missing March and is not a moving range
    assert chart.mean == 26


def test_icons_follow_the_latest_point_and_the_better_direction():
    high = monthly(BASE + [11, 20])
    assert xmr(high, ("2023-01", "2023-12")).icon() == CONCERNING
    assert xmr(high, ("2023-01", "2023-12"), lower_is_better=False).icon() == IMPROVING
    assert xmr(high, ("2023-01", "2023-12"), lower_is_better=None).icon() == NEITHER
    assert xmr(monthly(BASE + [2]), ("2023-01", "2023-12")).icon() == IMPROVING
    assert xmr(monthly(BASE + [20, 11]), ("2023-01", "2023-12")).icon() == COMMON  # the latest is ordinary
    # a rising trend that ends below the mean is concerning when lower is better
    rising = xmr(monthly(BASE + [11, 6, 7, 8, 9, 10, 10.5]), ("2023-01", "2023-12"))
    assert rising.rules_at("2024-07") == ["trend"] and rising.icon() == CONCERNING


def test_refuses_a_baseline_without_a_moving_range():
    with pytest.raises(ValueError, match="at least 2 consecutive months"):
        xmr({"2023-01": 5, "2023-03": 6})
    with pytest.raises(ValueError, match="YYYY-MM"):
        xmr({"2023-13": 5})
    assert xmr(monthly([5, 6, 7])).provisional


def _district_months(store):
    counts = store.counts(by=("month",), source="police.uk")
    return dict(zip(counts["month"].dt.strftime("%Y-%m"), counts["incidents"].astype(float)))


def test_bundled_2025_months(bundled_store):
    """The district's police.uk records by month, 2025-01..06, on a baseline of the 2025 months:
    the figures are the store's, the limits follow from them by the formula."""
    all_months = _district_months(bundled_store)
    months_2025 = {m: v for m, v in all_months.items() if m.startswith("2025-")}
    assert sorted(months_2025) == [f"2025-0{i}" for i in range(1, 7)]
    direct = bundled_store.counts(by=("month",), source="police.uk", start="2025-01", end="2025-06")
    values = direct["incidents"].to_numpy(dtype=float)
    chart = xmr(months_2025)
    assert chart.mean == pytest.approx(values.mean())
    assert chart.mean_mr == pytest.approx(screened_mean_mr(np.abs(np.diff(values))))
    assert chart.upper == pytest.approx(values.mean() + 2.66 * screened_mean_mr(np.abs(np.diff(values))))
    assert chart.provisional  # six points: MDC asks for 12 at least
    assert (values >= chart.lower).all() and (values <= chart.upper).all()  # no outside point
    assert not chart.flags["shift"].any()  # six points cannot make a run of seven
    rising = bool((np.diff(values) > 0).all())
    assert chart.flags["trend"].any() == rising
    assert chart.icon() in (COMMON, CONCERNING, IMPROVING)


def test_bundled_months_with_gaps(bundled_store):
    """Every loaded month from 2018-10 to 2025-06 on one chart: the years not loaded are gaps
    (NaN, never zero), the baseline is the 2024-25 months, and no run crosses a gap."""
    chart = xmr(_district_months(bundled_store), baseline=("2024-01", "2025-06"))
    assert chart.months[0] == "2018-10" and chart.months[-1] == "2025-06" and len(chart.months) == 81
    loaded = ~np.isnan(chart.values)
    assert int(loaded.sum()) == 29 and chart.baseline_points == 10
    assert not chart.special[~loaded].any()
    # MRs of the baseline: 2024-01..04 (3) and 2025-01..06 (5); none across the 2024-05..12 gap
    months = list(chart.months)
    base = [chart.values[months.index(m)] for m in months if "2024-01" <= m <= "2025-06" and loaded[months.index(m)]]
    mrs = list(np.abs(np.diff(base[:4]))) + list(np.abs(np.diff(base[4:])))
    assert chart.mean_mr == pytest.approx(screened_mean_mr(mrs)) and chart.mean == pytest.approx(np.mean(base))
    # every shift lies within one unbroken stretch of loaded months
    for rule in ("shift", "trend"):
        idx = np.flatnonzero(chart.flags[rule])
        for i in idx:
            assert loaded[i]


@pytest.mark.parametrize("seed", range(8))
def test_agrees_with_abspc_on_gapless_series(seed):
    """abspc (PyPI, NHS Making Data Count in Python) on the same gapless series: the same mean and
    limits, and the same points flagged outside the limits, in a 6-point trend and 2 of 3 close to a
    limit. (abspc's shift rule uses 8 points, ours 7: not compared.)"""
    import pandas as pd
    from abspc import spc

    rng = np.random.default_rng(seed)
    levels = np.r_[np.full(20, 40.0), np.full(20, 40.0 + 4 * seed), np.linspace(40, 60, 10)]
    values = rng.poisson(levels).astype(float)
    ours = xmr(monthly(list(values)), screen_outliers=False)  # abspc does not screen moving ranges
    theirs = spc.detect_special_causes(spc.calculate_control_limits(pd.DataFrame({"value": values}), "XmR"))
    assert ours.mean == pytest.approx(theirs["mean"].iloc[0])
    assert ours.upper == pytest.approx(theirs["ucl"].iloc[0], rel=1e-3)  # abspc: 3 / 1.128, we: 2.66
    assert ours.lower == pytest.approx(theirs["lcl"].iloc[0], rel=1e-3)
    near_limit = np.isclose(values, theirs["ucl"].iloc[0], atol=0.01) | np.isclose(
        values, theirs["lcl"].iloc[0], atol=0.01
    )
    for rule, column in (("outside", "rule1"), ("trend", "rule3"), ("two_of_three", "rule4")):
        same = ours.flags[rule] == theirs[column].to_numpy()
        assert same[~near_limit].all(), (rule, np.flatnonzero(~same))
    assert ours.special.any()
