"""Gi* with its exact permutation null (issue 21 items 1-3): full enumeration on small grids, esda's
permutation p_sim with many draws, the size of the test on null maps, power on a planted cluster, and
the bundled selections the issue measured."""

from __future__ import annotations

import warnings
from itertools import combinations
from math import comb

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely

from geodata.analysis import Selection
from geodata.analysis.hotspots_for import emerging_for, hotspots_for
from geodata.analysis.patrol_zones import patrol_zones
from geodata.methods import grid as grids
from geodata.methods.adjust import adjust_p
from geodata.methods.emerging import windows
from geodata.methods.gistar import classify, default_band, distance_band_weights, gi_star, supported_classes
from geodata.methods.gistar_exact import exact_p, subset_sum_ways
from geodata.methods.hotspots import SparseDataWarning, emerging_cells, hotspot_cells


def _queen(n_rows: int, n_cols: int):
    g = grids.make_grid(shapely.box(0, 0, n_cols * 100, n_rows * 100), 100)
    return distance_band_weights(g.x, g.y, 100 * np.sqrt(2)), g


def _mid_p(sums: np.ndarray, obs: float) -> float:
    hi = ((sums > obs).sum() + (sums == obs).sum() / 2) / sums.size
    lo = ((sums < obs).sum() + (sums == obs).sum() / 2) / sums.size
    return min(1.0, 2 * min(hi, lo))


# ------------------------------------------------------------------ oracles: full enumeration, esda
def test_subset_sum_ways_counts_every_subset():
    values = np.array([0, 0, 3, 1, 3, 7, 0, 2])
    ways = subset_sum_ways(values, 5)
    for j in range(6):
        assert ways[j].sum() == comb(8, j)
        sums = np.bincount([sum(c) for c in combinations(values.tolist(), j)], minlength=ways.shape[1])
        assert np.array_equal(ways[j], sums)


@pytest.mark.parametrize("shape", [(2, 3), (2, 4)])
def test_exact_p_equals_full_enumeration_of_every_arrangement(shape):
    """6 and 8 cells with ties (repeated counts, zeros): total randomisation deals the counts to the
    cells in every order; a neighbourhood of k cells then holds each k-subset equally often, so the
    p of each cell is the mid-p of its sum among all k-subsets' sums (enumerated here). The
    conditional null: the cell's own count fixed, k - 1 of the n - 1 others."""
    w, _ = _queen(*shape)
    n = w.shape[0]
    y = np.array([4, 0, 0, 9, 1, 4, 0, 2][:n])
    star = w.copy().tolil()
    star.setdiag(1)
    star = sp.csr_matrix(star)
    for null in ("total", "conditional"):
        p, direction = exact_p(y, w, null)
        for i in range(n):
            nb = star.indices[star.indptr[i] : star.indptr[i + 1]]
            obs = y[nb].sum()
            if null == "total":
                sums = np.array([sum(c) for c in combinations(y.tolist(), nb.size)])
            else:
                others = np.delete(y, i).tolist()
                sums = y[i] + np.array([sum(c) for c in combinations(others, nb.size - 1)])
            assert p[i] == pytest.approx(_mid_p(sums, obs), abs=1e-12), (null, i)
            if p[i] < 1:
                assert direction[i] == (1 if (sums > obs).mean() < (sums < obs).mean() else -1)


def test_exact_conditional_p_agrees_with_esda_p_sim_with_many_draws():
    """esda's G_Local (star, binary, conditional randomisation) with 49,999 permutations: its
    p_sim is one-sided and folded, so half our two-sided p, within 4.5 Monte Carlo standard errors
    per cell (counts spread over 0..2,000 so that ties, which esda counts on both sides, are rare)."""
    import esda
    from libpysal.weights import W

    w, _ = _queen(8, 8)
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2000, 64)
    y[:10] += 1500  # a busy corner
    lw = W({i: w.indices[w.indptr[i] : w.indptr[i + 1]].tolist() for i in range(64)}, silence_warnings=True)
    draws = 49_999
    ref = esda.G_Local(y.astype(float), lw, transform="B", star=True, permutations=draws, seed=12345)
    ours = exact_p(y, w, "conditional")[0] / 2
    se = np.sqrt(ours * (1 - ours) / (draws + 1))
    assert (np.abs(ref.p_sim - ours) <= 4.5 * se + 2 / (draws + 1)).all()
    assert ours.min() < 1e-3  # the busy corner, tested finely


def test_empty_neighbourhood_p_is_the_chance_of_drawing_only_empty_cells():
    """20 x 20 cells of 10 incidents, a 3 x 3 block empty: under the conditional null the centre's 8
    neighbours are 8 of the 399 others, all empty only in 1 of C(399, 8) draws, so p = 1 / C(399, 8)
    (the 999-permutation test could say no less than 0.002). On a sparse grid (4 incidents) an
    empty neighbourhood is ordinary: its chance C(395, 8) / C(399, 8) = 0.92 is the mid-p."""
    w, g = _queen(20, 20)
    y = np.full(400, 10)
    centre = np.argmin(np.hypot(g.x - 1050, g.y - 1050))
    y[np.hypot(g.x - g.x[centre], g.y - g.y[centre]) < 150] = 0
    p, direction = exact_p(y, w, "conditional")
    assert p[centre] == pytest.approx(1 / comb(399, 8), rel=1e-9) and direction[centre] == -1
    sparse = np.zeros(400)
    sparse[[0, 57, 233, 399]] = 1
    assert exact_p(sparse, w, "conditional")[0][centre] == pytest.approx(comb(395, 8) / comb(399, 8), rel=1e-12)


def test_exact_p_refuses_what_it_cannot_test():
    w, _ = _queen(2, 2)
    with pytest.raises(ValueError, match=r"y has 1\.5 at position 1, which is not a whole number"):
        exact_p([1, 1.5, 0, 2], w)
    with pytest.raises(ValueError, match="null must be one of"):
        exact_p([1, 1, 0, 2], w, "normal")
    assert exact_p([3, 3, 3, 3], w)[0].tolist() == [1.0] * 4  # no variance: nothing to test


# ------------------------------------------------------------------ size and power, through hotspot_cells
BOX = shapely.box(0, 0, 2000, 2000)
GRID = grids.make_grid(BOX, 100)


def _incidents(counts: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"x": np.repeat(GRID.x, counts), "y": np.repeat(GRID.y, counts)})


def _hot(counts: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SparseDataWarning)
        cells, _ = hotspot_cells(_incidents(counts), BOX, cell_size=100)
    return cells["gi_class"].to_numpy() >= 2


@pytest.mark.parametrize("mean", [2.6, 0.4])
def test_size_on_null_maps_of_skewed_counts(mean):
    """200 maps of 400 cells whose skewed counts (negative binomial, shape 0.3, so a few cells hold
    most incidents) are dealt at random over the cells: no spatial pattern, so every hot cell is a
    false alarm. The size, three ways (Gi*'s own null at both densities): each cell's test rejects at
    most alpha of the time (p < 0.05 on 5.0% of cells dense, 2.6% sparse); Benjamini-Hochberg at 5%
    over a map with no true hot cell puts a false hot cell on at most 5% of the maps (measured 1.0%
    dense, 2.0% sparse); on average 0.015 and 0.055 false hot cells a map, against 1.1 and 0.9 with
    the normal approximation the maps used before (a false hot cell on 43% and 39% of the maps),
    under the same support rules."""
    rng = np.random.default_rng(21)
    base = rng.negative_binomial(0.3, 0.3 / (0.3 + mean), len(GRID))
    w = distance_band_weights(GRID.x, GRID.y, default_band(GRID))
    false_hot, normal_false_hot, raw = [], [], []
    for _ in range(200):
        y = rng.permutation(base)
        false_hot.append(_hot(y).sum())
        normal = gi_star(y, w)
        normal_false_hot.append((supported_classes(classify(normal.z, normal.p_adj), y, w) >= 2).sum())
        raw.append((exact_p(y, w, "total")[0] < 0.05).mean())
    false_hot, normal_false_hot = np.array(false_hot), np.array(normal_false_hot)
    se = np.sqrt(0.05 * 0.95 / 200)
    assert np.mean(raw) <= 0.05 + 0.005  # each cell's test: size at most alpha
    assert np.mean(false_hot > 0) <= 0.05 + 2 * se  # maps with any false hot cell
    assert np.mean(false_hot) <= 0.15 and np.mean(normal_false_hot) > 0.5
    assert np.mean(normal_false_hot > 0) > 0.3


def test_power_on_a_planted_cluster():
    """The same skewed background (mean 2.7 a cell, the busiest 35) with a 3 x 3 block of 25
    incidents a cell: all 9 block cells are hot at 95%+, and few cells far from it are. (With 12 a
    cell, busy but no busier than the background's top 3%, no block cell is: the test does not
    call a block hot that such a background makes by chance.)"""
    rng = np.random.default_rng(5)
    counts = rng.negative_binomial(0.3, 0.3 / 2.9, len(GRID))
    block = (np.abs(GRID.x - 1050) < 110) & (np.abs(GRID.y - 1050) < 110)
    counts[block] = 25
    hot = _hot(counts)
    assert hot[block].all()
    assert hot[np.hypot(GRID.x - 1050, GRID.y - 1050) > 400].sum() <= 2


def test_power_on_a_planted_sparse_cluster():
    """Sparse maps (0.3 incidents a cell, most cells empty: where Gi*'s total null replaced the conditional one
    and no cell without an incident of its own is hot): a 3 x 3 block holding 2 incidents a cell, dealt into 50
    backgrounds, is found (at least 5 of its 9 cells hot at 95%+ on 90% of the maps; measured on all 50, 6.1
    cells a map; a block of 1 a cell is not found: 0.02); no empty cell is ever hot, and cells far from the
    block are hot on under 1% of the cells (measured 0.006%)."""
    rng = np.random.default_rng(8)
    block = (np.abs(GRID.x - 1050) < 110) & (np.abs(GRID.y - 1050) < 110)
    far = np.hypot(GRID.x - 1050, GRID.y - 1050) > 400
    found, false, empty = [], [], 0
    for _ in range(50):
        counts = rng.poisson(0.3, len(GRID))
        counts[block] = 2
        hot = _hot(counts)
        found.append(hot[block].sum() >= 5)
        false.append(hot[far].mean())
        empty += int((hot & (counts == 0)).sum())
    assert np.mean(found) >= 0.9
    assert np.mean(false) < 0.01 and empty == 0


# ------------------------------------------------------------------ the bundled selections of issue 21
def _exact_p_in_whole_numbers(y: np.ndarray, w) -> np.ndarray:
    """The derivation of the acceptance figure, independently: the number of k-subsets of the cell
    counts with each sum, in Python's whole numbers (no float at all), one generating-function
    product per distinct count; two-sided mid-p = min(1, 2 min(#>obs + #=obs/2, #<obs + #=obs/2)
    / C(n, k))."""
    star = sp.csr_matrix(w, copy=True)
    star.setdiag(1)
    sizes = np.diff(star.indptr)
    observed = (star @ y).astype(int)
    kmax, top = int(sizes.max()), int(np.sort(y)[::-1][: sizes.max()].sum())
    ways = np.zeros((kmax + 1, top + 1), dtype=object)
    ways[:, :] = 0
    ways[0, 0] = 1
    values, mult = np.unique(y.astype(int), return_counts=True)
    for a, m in zip(values.tolist(), mult.tolist()):
        new = ways.copy()
        for c in range(1, min(m, kmax) + 1):
            if c * a <= top:
                new[c:, c * a :] += comb(m, c) * ways[: kmax + 1 - c, : top + 1 - c * a]
        ways = new
    p = np.ones(y.size)
    for i, (k, obs) in enumerate(zip(sizes.tolist(), observed.tolist())):
        row = ways[k]
        above, at = sum(row[obs + 1 :]), row[obs] if obs <= top else 0
        below = comb(y.size, k) - above - at
        p[i] = min(1, 2 * min(2 * above + at, 2 * below + at) / (2 * comb(y.size, k)))
    return p


def test_default_view_hot_cells_equal_the_exact_count(bundled_store):
    """All crime 2025-01..06, the explorer's default view (5,828 incidents on the 20 m wards,
    2,758 cells of 250 m): the normal approximation puts 118 cells at 95%+ (130 before the rule that a
    hot cell holds an incident itself; 129 on the 200 m wards' cut of the data); Gi*'s own null,
    computed above in whole numbers (Benjamini-Hochberg over the 2,758 cells, the same rules), puts 13
    (15 on the old cut)."""
    found = hotspots_for(bundled_store, Selection.of("2025-01", "2025-06"))
    cells, grid = found.cells, found.grid
    assert found.incidents == 5828 and len(grid) == 2758 and cells.attrs["inference"] == "exact"
    counts = cells["count"].to_numpy()
    w = distance_band_weights(grid.x, grid.y, default_band(grid))
    p = _exact_p_in_whole_numbers(counts, w)
    assert np.allclose(cells["gi_p"], p, rtol=1e-9, atol=1e-15)
    z = gi_star(counts, w).z
    expected = supported_classes(classify(z, adjust_p(p)), counts, w)
    assert (expected >= 2).sum() == 13 == (cells["gi_class"] >= 2).sum()
    before = gi_star(counts, w)  # the normal approximation the map used before
    assert (supported_classes(before.gi_class, counts, w) >= 2).sum() == 118


def test_vehicle_crime_on_the_patrol_grid_finds_hot_cells_and_zones(bundled_store):
    """Vehicle crime 2021-01..2022-01: 933 incidents on 1,944 cells of 300 m (0.48 a cell). 999
    permutations could not pass Benjamini-Hochberg (no hot cell, no zone); the exact test finds 105
    cells at 95%+, each holding an incident, and 20 zones (94 and 15 under the conditional null an
    earlier version used for sparse counts)."""
    found = patrol_zones(bundled_store, Selection.of("2021-01", "2022-01", ["Vehicle crime"]), top=100)
    assert found.grid.cell_size == 300 and len(found.grid) == 1944
    assert "exact Gi* p-values" in found.zones.attrs["note"] and len(found.zones) == 20
    cells = hotspots_for(bundled_store, Selection.of("2021-01", "2022-01", ["Vehicle crime"])).cells
    assert cells.attrs["inference"] == "exact" and (cells["gi_class"] >= 2).sum() == 105
    assert (cells.loc[cells["gi_class"] > 0, "count"] > 0).all()


def test_the_busiest_cell_is_hot_and_no_empty_cell_is(bundled_store):
    """A new user's find: robbery 2025-01..06 on 950 m cells (57 robberies, 0.3 a cell). Under the
    conditional null an earlier version used for sparse counts, an empty cell was hot at 99% (its
    neighbour held 11 robberies) while that busiest cell was not (p 0.57: the conditional null tests a
    cell's neighbours only). Now: Gi*'s own null, and a cell holding no robbery is never hot."""
    cells = hotspots_for(bundled_store, Selection.of("2025-01", "2025-06", ["Robbery"]), cell_size=950).cells
    assert cells.attrs["incidents"] == 57 and cells.attrs["inference"] == "exact"
    hot = cells[cells["gi_class"] > 0]
    assert len(hot) == 3 and (hot["count"] > 0).all()
    busiest = cells.loc[cells["count"].idxmax()]
    assert busiest["count"] == 11 and busiest["gi_class"] >= 1


def test_27_robberies_give_no_emerging_hot_spots(bundled_store):
    """Robbery 2025-04..06: 27 incidents. Trends showed 106 'hot spot' cells (90 with no incident) on
    an automatic 250 m grid with the normal approximation; under the hot spot rules (cell size from
    the data, at least 30 incidents in each month's test) no cell is classed and the note says why."""
    cells, grid, notes = emerging_for(bundled_store, Selection.of("2025-04", "2025-06", ["Robbery"]))
    assert cells["count"].sum() == 27 and grid.cell_size > 250
    assert (cells["pattern"] == "no pattern detected").all() and cells.attrs["inference"] == "none"
    assert any("too few for emerging hot spots" in n and "2025-04 to 2025-06" in n for n in notes)


def test_emerging_runs_on_loaded_months_only_and_names_the_gaps(bundled_store):
    """2024-03..2025-02: 8 of 12 months not loaded. Read as months with no crime they made 156 cells
    'sporadic'; the loaded months alone (2024-03, 2024-04, 2025-01, 2025-02) are the series, the
    window of 2025-01 does not reach back to 2024-04, and the note names the gap."""
    sel = Selection.of("2024-03", "2025-02")
    cells, grid, notes = emerging_for(bundled_store, sel)
    assert any("2024-05 to 2024-12" in n and "not read as months with no crime" in n for n in notes)
    incidents = bundled_store.incidents(**sel.filters()).dropna(subset=["x", "y"])
    alone, _ = emerging_cells(incidents, bundled_store.boundary(), ["2024-03", "2024-04", "2025-01", "2025-02"])
    assert (cells["pattern"] == alone["pattern"]).all()
    assert (cells["pattern"] == "sporadic hot spot").sum() < 156 / 4
    with pytest.raises(ValueError, match="at least 3 loaded months.*2024-05 to 2024-12"):
        emerging_for(bundled_store, Selection.of("2024-04", "2025-01"))


def test_windows_never_reach_across_a_gap():
    steps = np.array([0, 1, 10, 11])  # 2024-03, 2024-04, 2025-01, 2025-02
    assert windows(4, 1, steps).tolist() == [[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 1]]
    assert windows(3, 2).tolist() == [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    with pytest.raises(ValueError, match="increasing calendar positions"):
        windows(3, 1, [0, 2, 1])


def test_weighted_counts_rank_and_the_test_is_of_incidents():
    """Harm weights are not whole numbers, so they have no exact null at the incidents' resolution:
    the classes, p and z are those of the incident counts, and ``count`` holds the weighted sum."""
    rng = np.random.default_rng(5)
    counts = rng.negative_binomial(0.3, 0.3 / 2.9, len(GRID))
    counts[(np.abs(GRID.x - 1050) < 110) & (np.abs(GRID.y - 1050) < 110)] = 25
    incidents = _incidents(counts)
    harm = rng.choice([0.5, 1.0, 365.25], len(incidents))
    plain, _ = hotspot_cells(incidents, BOX, cell_size=100)
    weighted, _ = hotspot_cells(incidents, BOX, cell_size=100, weights=harm)
    for column in ("gi_class", "gi_p", "gi_z"):
        assert np.array_equal(plain[column].to_numpy(), weighted[column].to_numpy())
    assert weighted["count"].sum() == pytest.approx(harm.sum()) and (plain["gi_class"] >= 2).sum() >= 9


@pytest.mark.parametrize("scale", [3, 0])
def test_space_time_exact_p_equals_enumeration_of_the_window(scale):
    """2 x 3 cells over 2 months, time step 1: at month 2 a cell's neighbourhood is its Gi* cells in
    both months, and the window's 12 counts are dealt at random over its 12 cell-months (Gi*'s own
    null, dense counts at scale 3: 1.8 a cell, and sparse ones, 0.33 a cell). Enumerated over every
    subset."""
    from geodata.methods.emerging import space_time_exact_p

    w, _ = _queen(2, 3)
    cube = np.array([[1, 0], [0, 1], [0, 0], [1, 0], [0, 0], [0, 1]]) + scale * np.array(
        [[1, 0], [2, 1], [0, 0], [1, 0], [1, 0], [0, 0]]
    )
    p, _ = space_time_exact_p(cube, w, time_step=1)
    star = sp.csr_matrix(w + sp.identity(6))
    values = np.concatenate([cube[:, 1], cube[:, 0]])
    for i in range(6):
        nb = star.indices[star.indptr[i] : star.indptr[i + 1]]
        obs = cube[nb].sum()
        sums = np.array([sum(c) for c in combinations(values.tolist(), 2 * nb.size)])
        assert p[i, 1] == pytest.approx(_mid_p(sums, obs), abs=1e-12), i


def test_exact_p_says_when_the_subsets_are_too_many_to_count():
    """C(3,000, 200) is about 1e330, beyond a float: an error with the fix, never an inf or NaN p."""
    y = np.arange(3000) % 7
    w = sp.csr_matrix(np.ones((1, 3000)))
    with pytest.raises(ValueError, match="neighbourhoods of 200 of 3,000 cells: too many subsets"):
        exact_p(y, w, sizes=[200], observed=[600])
