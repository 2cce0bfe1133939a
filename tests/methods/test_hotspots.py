"""Hotspot engine on the real St Albans data and on constructed cases with known answers."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.stats import norm

from geodata.methods import concentration
from geodata.methods import grid as grids
from geodata.methods import kde as kde_mod
from geodata.methods.adjust import adjust_p
from geodata.methods.change import Dispersion, compare, dispersion, e_test, rate_test
from geodata.methods.emerging import CLASSES, classify_series, emerging_hotspots, mann_kendall, simple_classes
from geodata.methods.gistar import distance_band_weights, gi_star, hotspots
from geodata.methods.snap import RECORDING_PLACES, snap_points


@pytest.fixture(scope="module")
def district(bundled_store):
    return shapely.union_all(bundled_store.areas("ward").geometries)


@pytest.fixture(scope="module")
def grid100(district):
    return grids.make_grid(district, 100)


@pytest.fixture(scope="module")
def points(bundled_store):
    """The 13 months 2021-01..2022-01 of bundled incidents in a ward of the area (a few bundled rows lie
    just outside the 2022 wards, kept for their LSOA or a 2013 ward)."""
    inc = bundled_store.incidents(start="2021-01", end="2022-01")
    inc = inc[inc["ward_code"].notna()]
    return inc["x"].to_numpy(), inc["y"].to_numpy(), inc


# ---------------------------------------------------------------- grids
def test_grid_is_clipped_to_the_district_not_its_hull(district, grid100):
    hull_cells = len(grids.make_grid(shapely.convex_hull(district), 100))
    assert shapely.covered_by(grid100.geometry, shapely.buffer(district, 1e-6)).all()
    assert abs(shapely.area(grid100.geometry).sum() - district.area) / district.area < 1e-6
    assert len(grid100) < hull_cells  # the hull would add cells outside the district


def test_every_incident_falls_in_one_cell(grid100, points):
    x, y, _ = points
    idx = grids.cell_index(grid100, x, y)
    assert (idx >= 0).all()
    inside = shapely.covers(grid100.geometry[idx], shapely.points(x, y)) | shapely.dwithin(
        grid100.geometry[idx], shapely.points(x, y), 1e-6
    )
    assert inside.all()
    assert grids.count(grid100, x, y).sum() == len(x)


def test_hex_grid_assigns_points_to_their_hexagon(district, points):
    x, y, _ = points
    hexes = grids.make_grid(district, 250, "hex")
    idx = grids.cell_index(hexes, x, y)
    assert (idx >= 0).all()
    # cells on the district edge are clipped; test against the unclipped hexagon
    r = 250 / np.sqrt(3)
    angles = np.deg2rad(np.arange(30, 390, 60))
    ring = np.stack([hexes.x[idx][:, None] + r * np.cos(angles), hexes.y[idx][:, None] + r * np.sin(angles)], -1)
    assert shapely.covers(shapely.buffer(shapely.polygons(ring), 1e-6), shapely.points(x, y)).all()


def test_auto_cell_size_and_fine_grid_warning(district, points):
    assert grids.auto_cell_size(district) == 250.0  # shorter side ~17 km / 50 -> 340 -> multiple of 50 below
    x, y, _ = points
    fine = grids.make_grid(district, 50)
    with pytest.warns(grids.FineGridWarning, match="too fine"):
        grids.count(fine, x[:100], y[:100])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        grids.count(grids.make_grid(district, 500), x, y)


@pytest.mark.parametrize(
    "kwargs, message",
    [({"cell_size": -5}, "positive"), ({"shape": "triangle"}, "square' or 'hex"), ({"cell_size": "big"}, "positive")],
)
def test_grid_arguments_validated(district, kwargs, message):
    with pytest.raises(ValueError, match=message):
        grids.make_grid(district, **kwargs)


def test_weighted_counts(grid100, points):
    x, y, inc = points
    harm = np.where(inc["category"] == "Robbery", 10.0, 1.0)
    weighted = grids.count(grid100, x, y, weights=harm)
    assert weighted.sum() == pytest.approx(len(x) + 9 * (inc["category"] == "Robbery").sum())


# ---------------------------------------------------------------- Gi*
def _libpysal(w):
    """The same neighbours as a libpysal W, for esda."""
    from libpysal.weights import W

    w = w.tocsr()
    return W({i: w.indices[w.indptr[i] : w.indptr[i + 1]].tolist() for i in range(w.shape[0])}, silence_warnings=True)


def test_gi_star_equals_esda_on_st_albans_100m_grid(grid100, points):
    import esda

    x, y, _ = points
    counts = grids.count(grid100, x, y)
    w = distance_band_weights(grid100.x, grid100.y, 100 * np.sqrt(2), self_weight=False)
    ref = esda.G_Local(counts, _libpysal(w), transform="B", star=True, permutations=0)
    ours = hotspots(grid100, counts)
    assert np.abs(ours.z - ref.Zs).max() < 1e-9
    assert np.asarray(w.sum(axis=1)).max() == 8  # the 8 adjacent cells
    # p-values: an independent scipy computation, then Benjamini-Hochberg by hand
    p = 2 * norm.sf(np.abs(ref.Zs))
    assert np.allclose(ours.p, p, rtol=0, atol=1e-12)
    order = np.argsort(p)
    m = p.size
    bh = np.empty(m)
    running = 1.0
    for rank in range(m, 0, -1):
        running = min(running, p[order[rank - 1]] * m / rank)
        bh[order[rank - 1]] = running
    assert np.allclose(ours.p_adj, bh, atol=1e-12)
    assert set(np.unique(ours.gi_class)) <= {-3, -2, -1, 0, 1, 2, 3} and (ours.gi_class == 3).sum() > 100


def test_gi_plain_equals_esda(grid100, points):
    import esda

    x, y, _ = points
    g = grids.make_grid(shapely.box(510_000, 203_000, 518_000, 210_000), 200)
    counts = grids.count(g, x, y)
    w = distance_band_weights(g.x, g.y, 200 * np.sqrt(2), self_weight=False)
    ref = esda.G_Local(counts, _libpysal(w), transform="B", star=False, permutations=0)
    ours = gi_star(counts, w, star=False)
    assert np.abs(ours.z - ref.Zs).max() < 1e-9


def test_holm_and_none(points):
    p = np.array([0.01, 0.04, 0.03, 0.005])
    assert np.allclose(adjust_p(p, "holm"), [0.03, 0.06, 0.06, 0.02])
    assert np.allclose(adjust_p(p, "none"), p)
    with pytest.raises(ValueError, match="adjust"):
        adjust_p(p, "bonferonni")


def test_batched_months_equal_month_by_month(grid100, points):
    x, y, inc = points
    months = inc["month"].dt.month.to_numpy() - 1 + 12 * (inc["month"].dt.year.to_numpy() - 2021)
    cube = grids.count(grid100, x, y, periods=months, n_periods=13)
    w = distance_band_weights(grid100.x, grid100.y, 100 * np.sqrt(2))
    batched = gi_star(cube, w)
    for t in (0, 6, 12):
        one = gi_star(cube[:, t], w)
        assert np.allclose(batched.z[:, t], one.z) and np.allclose(batched.p_adj[:, t], one.p_adj)


def test_constructed_hot_spot_is_found():
    g = grids.make_grid(shapely.box(0, 0, 2000, 2000), 100)
    counts = np.ones(len(g))
    centre = (np.abs(g.x - 1050) < 160) & (np.abs(g.y - 1050) < 160)
    counts[centre] = 30
    res = hotspots(g, counts)
    assert (res.gi_class[centre] == 3).all()
    assert (res.gi_class[~centre & (np.hypot(g.x - 1050, g.y - 1050) > 400)] <= 0).all()


# ---------------------------------------------------------------- KDE
def test_kde_integrates_to_the_number_of_points(points):
    x, y, _ = points
    box = shapely.box(x.min() - 3000, y.min() - 3000, x.max() + 3000, y.max() + 3000)
    g = grids.make_grid(box, 100)
    density, h = kde_mod.kde(g, x, y)
    total = density.sum() * (100 * 100 / 1e6)
    assert abs(total - len(x)) / len(x) < 0.01
    assert h >= 100


def test_bandwidth_uses_both_axes():
    rng = np.random.default_rng(0)
    x, y = rng.normal(0, 1000, 500), rng.normal(0, 100, 500)
    h = kde_mod.bandwidth(x, y)
    hx = kde_mod.bandwidth(x, x)
    hy = kde_mod.bandwidth(y, y)
    assert h == pytest.approx((hx + hy) / 2)  # sfhotspot would return hx
    g = grids.make_grid(shapely.box(-5000, -5000, 5000, 5000), 500)
    _, used = kde_mod.kde(g, x[:3], y[:3], bandwidth_m=10)
    assert used == 500  # never below the cell size


# ---------------------------------------------------------------- emerging hot spots
def _classes(hot_pattern: str, z_values=None, cold_pattern: str = ""):
    n = len(hot_pattern)
    hot = np.array([c == "H" for c in hot_pattern])
    cold = np.array([c == "C" for c in (cold_pattern or hot_pattern)])
    z = np.where(hot, 3.0, np.where(cold, -3.0, 0.5)) if z_values is None else np.asarray(z_values, float)
    p = np.where(hot | cold, 0.001, 0.5)
    return classify_series(z[None, :], p[None, :])[0] if n else None


@pytest.mark.parametrize(
    "pattern, expected",
    [
        ("..........H", "new hot spot"),
        ("........HHH", "consecutive hot spot"),
        ("HHHHHHHHHHH", "persistent hot spot"),
        ("H.H..H...HH", "sporadic hot spot"),
        ("C.H..H...HH", "oscillating hot spot"),
        ("HHHHHHHHHH.", "historical hot spot"),
        ("..........C", "new cold spot"),
        ("CCCCCCCCCCC", "persistent cold spot"),
        ("...........", "no pattern detected"),
        ("H.H........", "no pattern detected"),
    ],
)
def test_emerging_classes(pattern, expected):
    assert _classes(pattern) == expected


def test_intensifying_and_diminishing():
    rising = np.linspace(2.0, 9.0, 12)
    assert _classes("H" * 12, rising) == "intensifying hot spot"
    assert _classes("H" * 12, rising[::-1]) == "diminishing hot spot"
    assert _classes("C" * 12, -rising) == "intensifying cold spot"


def test_emerging_on_a_constructed_cube():
    g = grids.make_grid(shapely.box(0, 0, 3000, 3000), 100)
    w = distance_band_weights(g.x, g.y, 100 * np.sqrt(2))
    rng = np.random.default_rng(3)
    cube = rng.poisson(1.0, size=(len(g), 12)).astype(float)
    new = (np.abs(g.x - 550) < 160) & (np.abs(g.y - 550) < 160)
    old = (np.abs(g.x - 2450) < 160) & (np.abs(g.y - 2450) < 160)
    first, second = cube.copy(), np.ones_like(cube)
    first[new, -1] = 25
    second[old, :] = 25
    classes, z, mk = emerging_hotspots(first, w)
    assert set(classes) <= set(CLASSES)
    assert classes[np.argmin(np.hypot(g.x - 550, g.y - 550))] == "new hot spot"
    assert z.shape == (len(g), 12)
    classes, _, _ = emerging_hotspots(second, w)
    assert classes[np.argmin(np.hypot(g.x - 2450, g.y - 2450))] == "persistent hot spot"
    assert (classes[np.hypot(g.x - 1500, g.y - 1500) < 300] == "no pattern detected").all()


@pytest.mark.parametrize(
    ("kind", "mean", "most"),
    [("poisson", 2.0, 0.15), ("poisson", 0.3, 0.15), ("negative binomial", 2.0, 0.20)],
)
def test_emerging_classes_have_their_size_under_the_null_and_find_a_planted_rise(kind, mean, most):
    """Size under the classes' own null: with no pattern (every cell's counts drawn alike in every month,
    so exchangeable over cells and months, as the exact test assumes), a class other than "no pattern
    detected" needs its final month hot or cold after Benjamini-Hochberg at 90%, so at most about 10% of
    maps get any class at all. Measured, 100 simulated 20x20 maps of 10 months each (seed 7): Poisson
    mean 2: 5% of maps (0.19 cells a map), sparse mean 0.3: 3%, over-dispersed (negative binomial,
    size 0.5): 11%. Here 60 maps each (seed 11), against a bound of 0.10 plus about 2 standard errors.
    Power: a 4x4 block tripled in the last 3 months is classed hot in almost every cell (97% measured)."""
    side, periods, maps = 20, 10, 60
    yy, xx = np.divmod(np.arange(side * side), side)
    w = distance_band_weights(xx.astype(float), yy.astype(float), 1.5)
    rng = np.random.default_rng(11)
    any_class = 0
    for _ in range(maps):
        if kind == "poisson":
            cube = rng.poisson(mean, (side * side, periods))
        else:
            cube = rng.negative_binomial(0.5, 0.5 / (0.5 + mean), (side * side, periods))
        classes, _, _ = emerging_hotspots(cube, w)
        any_class += bool((classes != "no pattern detected").any())
    assert any_class / maps <= most, (kind, mean, any_class)
    if kind == "poisson" and mean == 2.0:
        block = (xx >= 8) & (xx < 12) & (yy >= 8) & (yy < 12)
        found = []
        for _ in range(10):
            cube = rng.poisson(2.0, (side * side, periods))
            cube[block, -3:] = rng.poisson(6.0, (int(block.sum()), 3))
            classes, _, _ = emerging_hotspots(cube, w)
            found.append(np.char.endswith(classes.astype(str), "hot spot")[block].mean())
        assert np.mean(found) >= 0.85, found


def test_emerging_periods_follow_the_maps_support_rules():
    """One rule for the maps and the emerging classes (:func:`geodata.methods.gistar.unsupported`): per period, a
    hot verdict needs an incident in the cell's own window, a cold one a neighbourhood expected count of at least
    MIN_EXPECTED_COLD. Two cells in a line (each the other's neighbour), two periods of window counts."""
    from geodata.methods.gistar import MIN_EXPECTED_COLD, unsupported

    w = distance_band_weights(np.array([0.0, 1.0]), np.array([0.0, 0.0]), 1.5)
    own = np.array([[0.0, 40.0], [2.0, 40.0]])  # period 0: 1 a cell (expected 2); period 1: 40 (expected 80)
    assert 2 < MIN_EXPECTED_COLD <= 80
    hot, cold = np.ones((2, 2)), -np.ones((2, 2))
    assert unsupported(hot, own, w).tolist() == [[True, False], [False, False]]  # hot with no incident of its own
    assert unsupported(cold, own, w).tolist() == [[True, False], [True, False]]  # cold on too few expected
    rng = np.random.default_rng(4)
    side = 20
    yy, xx = np.divmod(np.arange(side * side), side)
    sparse = rng.poisson(0.05, (side * side, 10))
    sparse[:40, -1] = 0  # an empty stretch in a map with almost nothing: not evidence of a cold spot
    classes, _, _ = emerging_hotspots(sparse, distance_band_weights(xx.astype(float), yy.astype(float), 1.5))
    assert not np.char.endswith(classes.astype(str), "cold spot").any()


def test_mann_kendall_against_direct_formula():
    s = np.array([[1, 2, 2, 3, 5, 4, 6], [3, 3, 3, 3, 3, 3, 3]], dtype=float)
    big_s, z, p = mann_kendall(s)
    direct = sum(np.sign(s[0, j] - s[0, i]) for i in range(7) for j in range(i + 1, 7))
    var = (7 * 6 * 19 - 2 * 1 * 9) / 18  # one tie of two
    assert big_s[0] == direct == 18
    assert z[0] == pytest.approx((direct - 1) / np.sqrt(var))
    assert z[1] == 0 and p[1] == 1


def test_simple_classes_recent_window():
    hot = np.array(
        [
            [True] * 10,
            [False] * 8 + [True, True],
            [True, True, True] + [False] * 7,
            [False, True] + [False] * 8,
            [False] * 10,
        ]
    )
    assert list(simple_classes(hot)) == [
        "persistent hotspot",
        "emerging hotspot",
        "former hotspot",
        "former hotspot",
        "no pattern",
    ]
    # 13 periods, recent_prop 0.2: the last ceil(2.6) = 3 periods are recent
    thirteen = np.zeros((1, 13), bool)
    thirteen[0, 10] = True
    assert simple_classes(thirteen)[0] == "emerging hotspot"
    thirteen[0, 10], thirteen[0, 9] = False, True
    assert simple_classes(thirteen)[0] == "former hotspot"  # index 9 is no longer recent


# ---------------------------------------------------------------- change
def test_e_test_worked_example():
    """Krishnamoorthy & Thomson (2004), J. Stat. Plann. Inference 119:23-35, the example of
    Przyborowski & Wilenski (1940): 0 and 3 dodder seeds in two 100 g samples; E-test
    p = 0.088 (as reproduced in scipy.stats.poisson_means_test's documentation)."""
    assert e_test(0, 3, 100, 100) == pytest.approx(0.0884, abs=5e-4)
    assert e_test(0, 3) == pytest.approx(0.0884, abs=5e-4)


def test_e_test_equals_scipy_poisson_means_test():
    """Our numpy E-test against scipy's implementation, on real ward pairs and edge cases."""
    from scipy.stats import poisson_means_test

    rng = np.random.default_rng(7)
    cases = [
        (0, 5, 1, 1),
        (5, 0, 1, 1),
        (1, 1, 1, 1),
        (179, 129, 1, 1),
        (1114, 1108, 6, 6),
        (3, 40, 1, 12),
        (2000, 2100, 3, 3),
        (0, 1, 2, 5),
    ]
    cases += [
        (int(rng.integers(0, 400)), int(rng.integers(0, 400)), float(rng.integers(1, 13)), float(rng.integers(1, 13)))
        for _ in range(60)
    ]
    for a, b, n1, n2 in cases:
        assert e_test(a, b, n1, n2) == pytest.approx(poisson_means_test(a, n1, b, n2).pvalue, abs=1e-9)
    for bad in ((-1, 2), (1.5, 2)):
        with pytest.raises(ValueError, match="whole numbers"):
            e_test(*bad)
    with pytest.raises(ValueError, match="exposures"):
        e_test(1, 2, 0, 1)


def test_compare_wards_between_periods(bundled_store):
    a = bundled_store.ward_summary(start="2021-07", end="2021-12").set_index("ward_code")["incidents"]
    b = bundled_store.ward_summary(start="2021-01", end="2021-06").set_index("ward_code")["incidents"]
    by_month = bundled_store.counts(by=("ward_code", "month"), start="2021-01", end="2021-12")
    wide = by_month.pivot_table(index="ward_code", columns="month", values="incidents", fill_value=0)
    disp = dispersion([*wide.iloc[:, :6].to_numpy(), *wide.iloc[:, 6:].to_numpy()], "20 wards x 12 months")
    assert disp.df == 12 * 20 - 40 and disp.factor > 1  # ward-months vary more than Poisson counts
    out = compare(a, b, 6, 6, dispersion=disp)
    assert len(out) == 20 and (out["difference"] == a - b).all()
    ward = a.idxmax()
    assert out.loc[ward, "p"] == pytest.approx(rate_test(int(a[ward]), int(b[ward]), 6, 6, disp))
    assert out.attrs["dispersion"] == disp.text
    assert (out["p_adj"] >= out["p"] - 1e-12).all()
    assert set(out["change"]) <= {"significant rise", "significant fall", "no significant change"}
    poisson = Dispersion(1.0, 10, 12)
    big = compare(pd.Series({"w": 368}), pd.Series({"w": 312}), dispersion=poisson)
    assert big.loc["w", "pct_change"] == pytest.approx(100 * (368 / 312 - 1))
    assert big.loc["w", "sqrt_z"] == pytest.approx(np.sqrt(2) * (np.sqrt(368) - np.sqrt(312)))  # sd 1 for two periods
    assert compare(pd.Series({"w": 60}), pd.Series({"w": 20}), dispersion=poisson).loc["w", "change"] == (
        "significant rise"
    )


# ---------------------------------------------------------------- concentration
def test_gini_known_values():
    assert concentration.gini([5, 5, 5, 5]) == 0
    assert concentration.gini([0, 0, 0, 8]) == pytest.approx(0.75)  # (m-1)/m for all in one place
    crimes = [3, 1, 1] + [0] * 7  # Bernasco & Steenbeek (2017) figure 2: 10 places, 5 crimes
    assert concentration.gini(crimes) == pytest.approx(0.78)
    # maximal equality puts the 5 crimes in 5 places: Lorenz areas 0.25 (max-equality) and 0.11
    assert concentration.generalised_gini(crimes) == pytest.approx((0.25 - 0.11) / 0.25)
    assert concentration.generalised_gini([22, 18, 17, 12, 11, 8, 6, 3, 2, 1]) == pytest.approx(
        concentration.gini([22, 18, 17, 12, 11, 8, 6, 3, 2, 1])
    )


def test_lorenz_and_top_share():
    places, shares = concentration.lorenz([0, 0, 2, 8])
    assert np.allclose(places, [0, 0.25, 0.5, 0.75, 1]) and np.allclose(shares, [0, 0, 0, 0.2, 1])
    assert concentration.top_share([0, 0, 2, 8], 0.25) == 0.8
    assert concentration.places_for_share([0, 0, 2, 8], 0.5) == 0.25


# ---------------------------------------------------------------- snap points
def test_snap_points_flag_artefacts(points):
    _, _, inc = points
    table = snap_points(inc)
    assert table["count"].sum() == inc["x"].notna().sum()
    assert len(table) == len(inc.dropna(subset=["x"]).groupby(["x", "y"]))
    # the documented rule, recomputed from the table's own local medians
    outlier = (table["count"] >= 20) & (table["count"] > 10 * table["local_median"].clip(lower=1))
    names = table["location_text"].fillna("").str.lower()
    recording = names.apply(lambda n: any(place in n for place in RECORDING_PLACES))
    assert outlier.any()
    assert (table["artefact"].to_numpy() == (outlier | recording).to_numpy()).all()
    assert recording.any()  # the bundled data has a "Police Station" snap point
    assert (table.loc[table["artefact"], "reason"] != "").all()


def test_the_hot_spot_entry_point_checks_the_crs(bundled_store):
    """Cell sizes and distances are metres of EPSG:27700: incidents in another CRS, or x, y that are
    longitude and latitude, were counted on a grid of "100 m" cells all the same; now a clear error."""
    from geodata.methods.hotspots import hotspot_cells

    boundary = bundled_store.boundary()
    located = bundled_store.incidents(start="2021-01", end="2021-03").dropna(subset=["x", "y"])
    cells, _ = hotspot_cells(located, boundary, cell_size=250)  # EPSG:27700: counted
    assert cells["count"].sum() == len(located)
    with pytest.raises(ValueError, match=r"incidents is in WGS 84 \(EPSG:4326\), not EPSG:27700: project it"):
        hotspot_cells(located.to_crs(4326), boundary, cell_size=250)
    degrees = pd.DataFrame({"x": [-0.34, -0.33], "y": [51.75, 51.76]})
    with pytest.raises(ValueError, match="x, y that read as longitude and latitude degrees, not metres"):
        hotspot_cells(degrees, boundary, cell_size=250)
    with pytest.raises(ValueError, match=r"incidents lacks the column\(s\) 'y'"):
        hotspot_cells(pd.DataFrame({"x": [530_000.0]}), boundary, cell_size=250)


def test_every_statistics_module_checks_its_input_through_the_one_validator():
    """geodata/methods/validate.py was used by 4 of the 14 statistics modules; every one now calls it."""
    import importlib
    import pkgutil

    import geodata.methods as methods
    from geodata.methods import validate

    names = [m.name for m in pkgutil.iter_modules(methods.__path__) if m.name != "validate"]
    assert len(names) >= 15

    def checks(module) -> bool:  # the validator module, or a function of it, imported by the module
        return any(v is validate or getattr(v, "__module__", None) == validate.__name__ for v in vars(module).values())

    unchecked = [n for n in names if not checks(importlib.import_module(f"geodata.methods.{n}"))]
    assert unchecked == []
