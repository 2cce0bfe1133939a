"""Ward outlines benchmark: what assigning points with 20 m (ONS BGC) ward outlines costs beside the
200 m (BSC) ones the default config used, and how many points change ward.

Prints, on the bundled St Albans data:

1. the bundled store's first build (the default config, 20 m wards), median of ``--runs`` builds;
2. ward assignment alone (:func:`geodata.assign.assign`) of every bundled point to the 20 m and the
   200 m wards (``../shared/data/boundaries_2022/st_albans_wards_may2024_bsc_wgs84.geojson``, not
   bundled), median of 7 runs each, and how many points the two put in different wards;
3. the ward residents by area (:meth:`geodata.store.Store.population`, computed once per Store).

Usage: ``python benchmarks/bench_outlines.py [--shared ../shared/data] [--runs 5]``. Target: the build
no slower than with the 200 m wards beyond noise (assignment is a few milliseconds of it).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from geodata import boundaries  # noqa: E402
from geodata import config as config_mod  # noqa: E402
from geodata.assign import assign  # noqa: E402
from geodata.config import BoundarySpec  # noqa: E402
from geodata.pipeline.build import open_store  # noqa: E402


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    cfg = config_mod.load()
    with tempfile.TemporaryDirectory() as tmp:
        builds, store = [], None
        for i in range(args.runs):
            one = dataclasses.replace(cfg, store_path=Path(tmp) / f"s{i}.duckdb")
            start = time.perf_counter()
            store = open_store(one)
            builds.append(time.perf_counter() - start)
        assert store is not None
        print(f"bundled store build, 20 m wards: median {statistics.median(builds):.2f} s of {args.runs}")
        located = store.incidents().dropna(subset=["x"])
        x, y = located["x"].to_numpy(), located["y"].to_numpy()
        fine = boundaries.read(cfg.wards)
        coarse_file = args.shared / "boundaries_2022" / "st_albans_wards_may2024_bsc_wgs84.geojson"
        coarse = boundaries.read(BoundarySpec(coarse_file, "ward_code", "ward_name", "Wards 2022- (200 m)"))
        for name, wards in (("20 m (BGC)", fine), ("200 m (BSC)", coarse)):
            ms = 1000 * statistics.median(_timed(lambda w=wards: assign(w, x, y)) for _ in range(7))
            print(f"assign {len(x):,} points to the {name} wards: median {ms:.1f} ms")
        moved = assign(fine, x, y) != assign(coarse, x, y)
        print(f"points in a different ward: {int(moved.sum()):,} of {len(x):,} ({100 * moved.mean():.1f}%)")
        print(f"ward residents by area: {1000 * _timed(lambda: store.population('ward')):.0f} ms (once per Store)")


if __name__ == "__main__":
    main()
