"""A force-sized store against the bundled one: the analysis behind each page's first view and
a filter change, and the ``hotspots`` command's question (issue 17, "Speed").

The force-sized store holds ten years of Hertfordshire street-level crime: the 13 real county
months (2021-01..2022-01, ``--county``: benchmarks/county.py, by default the tests' archive)
repeated with their Month shifted to 120 consecutive months (2012-01..2021-12). It is
**synthetic** (real rows, false dates): for timing only, never shown as data. Both stores use the
bundled St Albans config, so the question is the same district's; the county's rows outside it
stay in the store with no ward, as a force-wide load keeps them.

Each figure is measured in a fresh process (cold: imports excluded, store open included; the step's
queries on one connection, as the app runs a page: opening the file costs 15-40 ms a time) as the
median of ``--runs``, with the process's peak RSS. Printed side by side, with the ratio; the
target is every ratio <= 1.3. The CPU seconds of the same processes are printed beside them: on a
shared machine the wall-clock ratio of a half-second step moves by a third between runs, the CPU
ratio much less (issue 23).

Usage: ``python benchmarks/bench_force.py [--county PATH] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import county  # benchmarks/county.py, beside this script

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

#: What each measured step does, in a fresh process: (label, code run with `store` open).
STEPS = {
    "explorer first view (ward table + hot spots, all crime, last 12 months)": (
        "ward_table(store, sel(last12)); hotspots_for(store, sel(last12))"
    ),
    "explorer filter change (Burglary)": (
        "ward_table(store, sel(last12, ['Burglary'])); hotspots_for(store, sel(last12, ['Burglary']))"
    ),
    "trends first view (monthly, by type, ward shares, emerging)": (
        "monthly(store, sel(last12)); category_change(store, sel(last12)); ward_shares(store, sel(last12));"
        " emerging_for(store, sel(last12))"
    ),
    "hotspots command question (Robbery, last month)": "hotspots_for(store, sel(last12[-1:], ['Robbery']))",
    "patrol planner first view (top 5 zones, last 3 months)": "patrol_zones(store, sel(last12[-3:]))",
}

CHILD = """
import json, sys, time
sys.path.insert(0, {repo!r})
from geodata import config as config_mod
from geodata.pipeline.build import open_store
from geodata.analysis.selection import Selection
from geodata.analysis.ward_table import ward_table
from geodata.analysis.hotspots_for import hotspots_for, emerging_for
from geodata.analysis.trends import monthly, category_change, ward_shares
from geodata.analysis.patrol_zones import patrol_zones
t0, c0 = time.perf_counter(), time.process_time()
store = open_store(config_mod.load({config!r}))
loaded = store.loaded_months("police.uk")
last12 = loaded[-12:]
def sel(months, cats=()):
    return Selection.of(months[0], months[-1], cats)
with store.session():  # one connection for the step's queries, as the app runs each page (dashboard/app.py)
    {code}
hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM")][0].split()[1]
print(json.dumps({{"s": time.perf_counter() - t0, "cpu": time.process_time() - c0, "rss_mb": int(hwm) / 1024}}))
"""


def force_files(county: list[Path], into: Path, years: int = 10) -> int:
    """Write ``years`` x 12 shifted months from the county files; returns the rows written."""
    rows = 0
    for i in range(years * 12):
        month = f"{2012 + i // 12}-{i % 12 + 1:02d}"
        src = county[i % len(county)]
        text = src.read_text(encoding="utf-8")
        reader = csv.reader(io.StringIO(text))
        header = next(reader)
        col = header.index("Month")
        out = into / month / f"{month}-hertfordshire-street.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            for row in reader:
                row[col] = month
                w.writerow(row)
                rows += 1
    return rows


def write_config(folder: Path, store_path: Path, police: list[Path]) -> Path:
    from geodata.bundled import copy_config

    folder.mkdir(parents=True, exist_ok=True)
    return copy_config(folder, store_path, police)


def measure(config: Path, code: str, runs: int) -> tuple[float, float, float]:
    """Medians of the wall-clock and CPU seconds of ``runs`` fresh processes, and their largest peak RSS."""
    times, cpu, rss = [], [], []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", CHILD.format(repo=str(REPO), config=str(config), code=code)],
            capture_output=True,
            text=True,
            check=True,
        )
        fig = json.loads(out.stdout.strip().splitlines()[-1])
        times.append(fig["s"])
        cpu.append(fig["cpu"])
        rss.append(fig["rss_mb"])
    return statistics.median(times), statistics.median(cpu), max(rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    county.add_argument(parser)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", help="keep the stores here and reuse them on the next run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(args.workdir or scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        street_files = sorted(county.folder(args.county).rglob("*-street.csv"))
        reuse = (tmp / "force.duckdb").exists() and (tmp / "bundled.duckdb").exists()
        rows = 0 if reuse else force_files(street_files, tmp / "force")
        from geodata import config as config_mod
        from geodata.bundled import ST_ALBANS
        from geodata.pipeline.build import open_store
        from geodata.pipeline.ingest import ingest_police

        bundled_cfg = config_mod.load(ST_ALBANS / "csp.toml")
        force_cfg = write_config(tmp, tmp / "force.duckdb", [])
        (tmp / "b").mkdir(exist_ok=True)
        bundled_store_cfg = write_config(tmp / "b", tmp / "bundled.duckdb", list(bundled_cfg.bundled_police))
        store = open_store(config_mod.load(force_cfg))
        if not reuse:
            ingest_police(store, sorted((tmp / "force").iterdir()))
        rows = store.counts(by=("source",), inside=False)["incidents"].sum()
        del store
        open_store(config_mod.load(bundled_store_cfg))  # built from the bundled files on first open
        print(
            f"force-sized store (SYNTHETIC: {len(street_files)} real county months shifted over 120 months): "
            f"{rows:,} rows, {os.path.getsize(tmp / 'force.duckdb') / 1e6:.1f} MB; "
            f"bundled store {os.path.getsize(tmp / 'bundled.duckdb') / 1e6:.1f} MB"
        )
        print(f"load average before the steps: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(
            f"{'step':<72} {'bundled s':>10} {'force s':>9} {'ratio':>6} {'CPU s b/f':>11} {'CPU ratio':>9}"
            f" {'RSS MB b/f':>12}"
        )
        for label, code in STEPS.items():
            b, b_cpu, b_rss = measure(bundled_store_cfg, code, args.runs)
            f, f_cpu, f_rss = measure(force_cfg, code, args.runs)
            print(
                f"{label:<72} {b:>10.2f} {f:>9.2f} {f / b:>6.2f} {b_cpu:>5.2f}/{f_cpu:<5.2f} {f_cpu / b_cpu:>9.2f}"
                f" {b_rss:>5.0f}/{f_rss:<5.0f} {'met' if f / b <= 1.3 else 'NOT met (target 1.3x)'}"
            )


if __name__ == "__main__":
    main()
