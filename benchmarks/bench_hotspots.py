"""Gi* benchmark: geodata.methods.gistar against warm esda.G_Local(star=True, transform="B", permutations=999),
and the exact test (geodata.methods.gistar_exact) next to the analytic path.

Prints, in one run on this machine:

0. the explorer's default view (bundled, all crime 2025-01..06, 250 m cells from the data): the
   analytic Gi* (z and normal p, weights included) against the exact p under both nulls, and
   the cells at 95%+ each gives (Benjamini-Hochberg);
1. the St Albans 100 m grid of the bundled data (all months): Gi* of all months at once
   (one sparse product), weight construction included, against esda on the all-months
   counts of the same cells (warm: esda's numba code compiled by an untimed first call); the
   exact p of the all-months layer under both nulls;
2. the Hertfordshire grids (13 months of county files, ``--county``: benchmarks/county.py; bounding
   box of the ten districts' points) at 50 m and at
   250 m: the same comparison (esda at 250 m only unless ``--county-esda``);
3. a 1,000,000-cell grid: Gi* with weights, seconds.

Each time is the best of 3 (the exact p on grids over 200,000 cells: one run). z is compared
with esda's analytic ``Zs``. Targets (issue 3): >= 50x faster than esda incl. weights,
|z - Zs| <= 1e-9, 1M cells <= 3 s.
Usage: ``python benchmarks/bench_hotspots.py [--county PATH] [--county-esda]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import shapely

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import county as county_months  # noqa: E402  (benchmarks/county.py, beside this script)

from geodata import config  # noqa: E402
from geodata.methods import grid as grids  # noqa: E402
from geodata.methods.adjust import adjust_p  # noqa: E402
from geodata.methods.gistar import classify, default_band, distance_band_weights, gi_star, supported_classes  # noqa: E402
from geodata.methods.gistar_exact import exact_p  # noqa: E402
from geodata.pipeline.build import open_store  # noqa: E402
from loaders import police  # noqa: E402

HERTS_DISTRICTS = (
    "Broxbourne",
    "Dacorum",
    "East Hertfordshire",
    "Hertsmere",
    "North Hertfordshire",
    "St Albans",
    "Stevenage",
    "Three Rivers",
    "Watford",
    "Welwyn Hatfield",
)


def best_of(fn, repeat: int = 3):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def ours(grid, cube):
    w = distance_band_weights(grid.x, grid.y, default_band(grid))
    return gi_star(cube, w)


def esda_gi(grid, y):
    import esda
    from libpysal.weights import W

    w = distance_band_weights(grid.x, grid.y, default_band(grid), self_weight=False).tocsr()
    neighbours = {i: w.indices[w.indptr[i] : w.indptr[i + 1]].tolist() for i in range(w.shape[0])}
    lw = W(neighbours, silence_warnings=True)
    return lambda: esda.G_Local(y, lw, transform="B", star=True, permutations=999, keep_simulations=False, seed=0)


def exact_rows(grid, total) -> None:
    """Time the analytic path and the exact p under both nulls on one layer; cells at 95%+ each."""
    w = distance_band_weights(grid.x, grid.y, default_band(grid))
    repeat = 1 if len(grid) > 200_000 else 3
    t_an, res = best_of(lambda: ours(grid, total), repeat)

    def hot(sign, p) -> int:
        return int((supported_classes(classify(sign, adjust_p(p)), total, w) >= 2).sum())

    print(f"  analytic Gi* (z, normal p; weights included):  {t_an:8.3f} s, {hot(res.z, res.p):,} cells at 95%+")
    for null in ("total", "conditional"):
        t_ex, (p, sign) = best_of(
            lambda null=null: exact_p(total, distance_band_weights(grid.x, grid.y, default_band(grid)), null), repeat
        )
        print(
            f"  exact p, {null + ' null':17} (weights included): {t_ex:8.3f} s, {hot(sign, p):,} cells at 95%+ "
            f"({t_ex / t_an:.1f}x the analytic)"
        )


def compare(label, grid, x, y, months, n_months, run_esda=True):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", grids.FineGridWarning)
        cube = grids.count(grid, x, y, periods=months, n_periods=n_months)
    total = cube.sum(axis=1)
    t_cube, res_cube = best_of(lambda: ours(grid, cube))
    t_one, res_one = best_of(lambda: ours(grid, total))
    print(f"{label}: {len(grid):,} cells, {int(total.sum()):,} incidents, {n_months} months")
    print(f"  ours, all {n_months} months in one product (weights included): {t_cube:.3f} s")
    print(f"  ours, one layer (all months summed, weights included):        {t_one:.3f} s")
    exact_rows(grid, total)
    if not run_esda:
        return
    call = esda_gi(grid, total)
    call()  # warm-up: numba compiles here
    t_esda, ref = best_of(call, repeat=1 if len(grid) > 200_000 else 3)
    diff = float(np.abs(res_one.z - ref.Zs).max())
    print(f"  esda G_Local(star, B, 999 permutations), warm:                 {t_esda:.3f} s")
    print(f"  speed-up {t_esda / t_one:,.0f}x (target >= 50x); max |z - esda Zs| = {diff:.1e} (target <= 1e-9)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    county_months.add_argument(parser)
    parser.add_argument("--county-esda", action="store_true", help="esda on the 50 m county grid (minutes)")
    args = parser.parse_args()

    print(f"load average (1, 5, 15 min): {', '.join(f'{v:.1f}' for v in os.getloadavg())} on {os.cpu_count()} cores")
    store = open_store(config.load())
    district = shapely.union_all(store.areas("ward").geometries)
    view = store.incidents(start="2025-01", end="2025-06", inside=True).dropna(subset=["x", "y"])
    vx, vy = view["x"].to_numpy(), view["y"].to_numpy()
    outline = store.boundary()
    grid = grids.make_grid(outline, grids.data_cell_size(outline, vx, vy))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", grids.FineGridWarning)
        layer = grids.count(grid, vx, vy)
    print(
        f"0. explorer default view (all crime 2025-01..06): {len(grid):,} cells of {grid.cell_size:g} m, "
        f"{len(view):,} incidents"
    )
    exact_rows(grid, layer)

    inc = store.incidents()
    months = inc["month"].dt.year.to_numpy() * 12 + inc["month"].dt.month.to_numpy()
    months -= months.min()  # the bundle starts in 2018-10
    compare(
        "1. St Albans, 100 m",
        grids.make_grid(district, 100),
        inc["x"].to_numpy(),
        inc["y"].to_numpy(),
        months,
        int(months.max()) + 1,
    )

    county, _ = police.read(county_months.folder(args.county))
    # the force's files also hold crimes recorded far away: keep the ten Hertfordshire districts
    county = county[county["x"].notna() & county["source_lsoa_name"].str.startswith(HERTS_DISTRICTS)]
    cm = (county["month"].dt.year.to_numpy() - 2021) * 12 + county["month"].dt.month.to_numpy() - 1
    x0, y0, x1, y1 = county["x"].min(), county["y"].min(), county["x"].max(), county["y"].max()
    for size in (250, 50):
        compare(
            f"2. Hertfordshire (bounding box of its ten districts' police points), {size} m",
            grids.make_grid(shapely.box(x0, y0, x1, y1), size),
            county["x"].to_numpy(),
            county["y"].to_numpy(),
            cm,
            int(cm.max()) + 1,
            run_esda=size > 50 or args.county_esda,
        )

    side = 1000 * 50
    big = grids.make_grid(shapely.box(x0, y0, x0 + side, y0 + side), 50)
    rng = np.random.default_rng(0)
    y = rng.poisson(0.2, len(big)).astype(float)
    t, _ = best_of(lambda: ours(big, y))
    print(f"3. {len(big):,}-cell grid: Gi* with weights {t:.2f} s (target <= 3 s)")


if __name__ == "__main__":
    main()
