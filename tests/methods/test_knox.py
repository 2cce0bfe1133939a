"""Knox near-repeat test: a constructed case with a known answer, and a direct O(n^2) count."""

from __future__ import annotations

import numpy as np
import pytest

from geodata.methods.knox import knox


def _direct(x, y, t, d_edges, t_edges, permutations, seed):
    """Every pair, every permutation, counted the slow way, with the same random permutations; the
    expectation from the space and time pair counts (exact under permuted dates)."""
    n, nd, nt = len(x), len(d_edges) - 1, len(t_edges) - 1

    def count(times):
        c = np.zeros(nd * nt)
        for i in range(n):
            for j in range(i + 1, n):
                d, lag = np.hypot(x[i] - x[j], y[i] - y[j]), abs(times[i] - times[j])
                if d_edges[0] <= d < d_edges[-1] and t_edges[0] <= lag < t_edges[-1]:
                    a = int(np.searchsorted(d_edges, d, side="right") - 1)
                    b = int(np.searchsorted(t_edges, lag, side="right") - 1)
                    c[a * nt + b] += 1
        return c

    observed = count(t)
    rng = np.random.default_rng(seed)
    sims = np.array([count(rng.permutation(t)) for _ in range(permutations)])
    # exact expectation: the pair's lag is that of a random pair of distinct records
    space = np.zeros(nd)
    lags = np.zeros(nt)
    for i in range(n):
        for j in range(i + 1, n):
            d, lag = np.hypot(x[i] - x[j], y[i] - y[j]), abs(t[i] - t[j])
            if d_edges[0] <= d < d_edges[-1]:
                space[int(np.searchsorted(d_edges, d, side="right") - 1)] += 1
            if t_edges[0] <= lag < t_edges[-1]:
                lags[int(np.searchsorted(t_edges, lag, side="right") - 1)] += 1
    expected = np.outer(space, lags).ravel() / (n * (n - 1) / 2)
    return observed, expected, ((sims >= observed).sum(axis=0) + 1) / (permutations + 1)


def test_agrees_with_a_direct_count_of_every_pair():
    rng = np.random.default_rng(7)
    x, y = rng.uniform(0, 1000, 60), rng.uniform(0, 1000, 60)
    t = rng.integers(0, 120, 60).astype(float)
    d_edges, t_edges = (0, 150, 300, 450), (0, 10, 20, 40)
    table = knox(x, y, t, d_edges, t_edges, permutations=49, seed=3)
    observed, expected, p = _direct(x, y, t, d_edges, t_edges, 49, 3)
    assert table["observed"].tolist() == observed.tolist()
    assert table["expected"].to_numpy() == pytest.approx(expected)
    assert table["p"].to_numpy() == pytest.approx(p)
    assert observed.sum() > 50  # the comparison is not over an empty table


def test_constructed_near_repeats_are_found_and_a_constant_layout_is_not():
    # 20 pairs: in each, two incidents 10 m and 1 day apart; pairs 5 km and 60 days from each other.
    k = np.arange(20)
    x = np.repeat(k * 5000.0, 2) + np.tile([0.0, 10.0], 20)
    y = np.zeros(40)
    t = np.repeat(k * 60.0, 2) + np.tile([0.0, 1.0], 20)
    table = knox(x, y, t, (0, 100), (0, 7), permutations=999, seed=1)
    row = table.iloc[0]
    assert row["observed"] == 20  # exactly the 20 planted pairs
    # permuted, a pair keeps its 1-day lag only if its two dates stay neighbours: expected << 20
    assert row["expected"] < 1 and row["ratio"] > 20
    assert row["p"] == pytest.approx(1 / 1000)  # no permutation reaches 20

    # all at one place: every permutation gives the same pairs, so the ratio is 1 and p is 1
    same = knox(np.zeros(30), np.zeros(30), np.arange(30.0), (0, 1), (0, 5, 10), permutations=99)
    assert same["ratio"].tolist() == [1.0, 1.0] and same["p"].tolist() == [1.0, 1.0]
    # days 0..29: (30 - L) pairs have lag L; lags 1-4 fall in [0, 5), lags 5-9 in [5, 10)
    assert same["observed"].tolist() == [29 + 28 + 27 + 26, 25 + 24 + 23 + 22 + 21]


def test_dates_and_arguments_are_checked():
    days = np.array(["2021-01-01", "2021-01-03", "2021-02-01"], dtype="datetime64[D]")
    table = knox([0, 10, 20], [0, 0, 0], days, (0, 50), (0, 7), permutations=9)
    assert table["observed"].tolist() == [1]
    for kwargs, match in [
        ({"distance_bands": (100, 50)}, "increasing"),
        ({"time_bands": (5,)}, "at least two"),
        ({"permutations": 0}, "permutations"),
        ({"permutations": 9.5}, "permutations"),
    ]:
        with pytest.raises(ValueError, match=match):
            knox([0, 1], [0, 1], [0, 1], **kwargs)
    with pytest.raises(ValueError, match="must all be known"):
        knox([0, np.nan], [0, 1], [0, 1])
    with pytest.raises(ValueError, match="one length"):
        knox([0, 1], [0], [0, 1])


def test_near_repeat_bands_need_p_below_alpha_and_more_pairs_than_expected():
    import pandas as pd

    from geodata.methods.knox import ALPHA, near_repeats

    table = pd.DataFrame({"p": [0.01, 0.01, 0.2, ALPHA], "ratio": [1.5, 0.8, 3.0, 2.0]})
    assert near_repeats(table).index.tolist() == [0]
