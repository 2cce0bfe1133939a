"""The csp-hotspots command as a user runs it: a real process, real files."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import pytest
import shapely

from tests.conftest import BUNDLED_MONTHS, BUNDLED_POLICE, BUNDLED_ROWS, REPO, rows_in_wards, write_config


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "dashboard.cli", *map(str, args)], capture_output=True, text=True, cwd=REPO, timeout=120
    )


@pytest.fixture(scope="module")
def cfg(tmp_path_factory):
    return write_config(tmp_path_factory.mktemp("cli"))


def test_summary_csv_has_every_ward_and_matches_store(cfg, bundled_store):
    out = run(
        "summary",
        "--config",
        cfg,
        "--by",
        "ward",
        "--from",
        "2021-03",
        "--to",
        "2021-08",
        "--category",
        "Vehicle crime",
        "--category",
        "Burglary",
        "--format",
        "csv",
    )
    assert out.returncode == 0, out.stderr
    rows = list(csv.reader(io.StringIO(out.stdout)))
    assert rows[0] == ["ward_code", "ward_name", "incidents"]
    assert len(rows) == 21
    expected = bundled_store.ward_summary(start="2021-03", end="2021-08", categories=["Vehicle crime", "Burglary"])
    assert [[c, n, str(k)] for c, n, k in expected.itertuples(index=False)] == rows[1:]


def test_summary_of_months_never_loaded_is_no_data_not_zero(cfg):
    out = run("summary", "--config", cfg, "--from", "2024-05", "--to", "2024-06")
    assert out.returncode == 2 and "Total" not in out.stdout and "Traceback" not in out.stderr
    assert out.stderr.strip().endswith(
        "no data: police.uk is not loaded for 2 months: 2024-05, 2024-06, so there is nothing to count "
        "(police.uk has 2018-10 to 2025-06, with gaps: see the Data page)"
    )
    part = run("summary", "--config", cfg, "--from", "2024-01", "--to", "2024-06", "--format", "csv")
    assert part.returncode == 0 and "note: police.uk is not loaded for 2 months: 2024-05, 2024-06" in part.stderr
    assert part.stdout.startswith("ward_code,ward_name,incidents")  # the CSV stays clean; the note is on stderr


def test_config_before_command_is_honoured(cfg, bundled_store):
    out = run("--config", cfg, "summary", "--format", "csv")
    assert out.returncode == 0
    assert sum(int(r[2]) for r in list(csv.reader(io.StringIO(out.stdout)))[1:]) == rows_in_wards(bundled_store)


def test_readable_table_and_wards(cfg, bundled_store):
    out = run("summary", "--config", cfg)
    assert (
        out.returncode == 0 and f"Total: {rows_in_wards(bundled_store):,}" in out.stdout and "St Peters" in out.stdout
    )
    wards = run("wards", "--config", cfg)
    assert wards.returncode == 0 and wards.stdout.count("E050") == 20 and "E05015802" in wards.stdout


def test_ingest_prints_load_report(cfg):
    out = run("ingest", "police", BUNDLED_POLICE, "--config", cfg)
    assert out.returncode == 0, out.stderr
    assert f"{BUNDLED_ROWS:,} rows read, {BUNDLED_ROWS:,} loaded, 0 rejected" in out.stdout
    assert f"{BUNDLED_MONTHS}/{BUNDLED_MONTHS} files" in out.stderr


def test_first_run_through_ingest_builds_the_same_store(tmp_path, bundled_store):
    """`ingest police` on a config whose store does not exist yet first builds it from the bundled
    data (population, FixMyStreet and DEFRA included): the store equals one built the usual way."""
    from geodata import config as config_mod
    from geodata.pipeline.build import open_store

    cfg = write_config(tmp_path)
    out = run("ingest", "police", BUNDLED_POLICE, "--config", cfg)
    assert out.returncode == 0, out.stderr
    built = open_store(config_mod.load(cfg), build=False)
    assert built.counts().equals(bundled_store.counts())
    assert built.population().equals(bundled_store.population())
    assert built.counts(source="fixmystreet").equals(bundled_store.counts(source="fixmystreet"))
    assert built.district_stats().equals(bundled_store.district_stats())
    assert len(built.loads()) == len(bundled_store.loads()) + 1


@pytest.mark.parametrize(
    "args, needle",
    [
        (("summary", "--from", "2021-13"), "--from must be a month written YYYY-MM"),
        (("summary", "--category", "Fraud"), "unknown category 'Fraud'"),
        (("ingest", "police", "/nonexistent/x-street.csv"), "/nonexistent/x-street.csv: no such file"),
    ],
)
def test_bad_input_one_line_no_traceback(cfg, args, needle):
    out = run(*args, "--config", cfg)
    assert out.returncode == 2
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in out.stderr


def test_non_police_csv_names_file_and_line(cfg, tmp_path):
    bad = tmp_path / "2021-01-x-street.csv"
    bad.write_text("name,age\nBob,4\n")
    out = run("ingest", "police", bad, "--config", cfg)
    assert out.returncode == 2 and f"{bad}, line 1: not a data.police.uk" in out.stderr
    assert "Traceback" not in out.stderr


def test_missing_config(tmp_path):
    out = run("wards", "--config", tmp_path / "none.toml")
    assert out.returncode == 2 and "config file not found" in out.stderr


def test_invalid_config_names_the_key(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[area]\nname = "X"\n[wards]\nfile = "w.geojson"\n')
    out = run("wards", "--config", path)
    assert out.returncode == 2 and "wards.file: file not found" in out.stderr
    path.write_text('[area\nname = "X"\n')
    out = run("wards", "--config", path)
    assert out.returncode == 2 and "line 1" in out.stderr


def test_hotspots_csv_columns_and_values(cfg, bundled_store):
    # 500 m cells hold 0.55 burglaries each, so p is analytic (at 400 m, 0.4 a cell, it is a permutation p)
    out = run(
        "hotspots",
        "--config",
        cfg,
        "--category",
        "Burglary",
        "--from",
        "2021-01",
        "--to",
        "2021-12",
        "--cell",
        "500",
        "--format",
        "csv",
    )
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert list(rows[0]) == ["cell_id", "x", "y", "count", "gi_z", "gi_p", "gi_p_adj", "gi_class"]
    # the study area (geodata.analysis.rules): the 400 located burglaries of 2021 in a 2022 ward, not the one
    # just outside them (bundled for its St Albans LSOA); it counted in an edge cell before
    located = bundled_store.incidents(start="2021-01", end="2021-12", categories=["Burglary"]).dropna(subset=["x"])
    assert sum(int(r["count"]) for r in rows) == int(located["ward_code"].notna().sum()) == len(located) - 1 == 400
    assert {int(r["gi_class"]) for r in rows} <= {-3, -2, -1, 0, 1, 2, 3}
    assert any(int(r["gi_class"]) == 3 for r in rows)
    assert all(float(r["gi_p_adj"]) >= float(r["gi_p"]) - 1e-12 for r in rows)


def test_hotspots_geojson_and_geopackage(cfg, tmp_path, bundled_store):
    import json

    import geopandas

    gpkg = tmp_path / "hot.gpkg"
    out = run("hotspots", "--config", cfg, "--cell", "500", "--grid", "hex", "--format", "geojson", "--out", gpkg)
    assert out.returncode == 0, out.stderr
    features = json.loads(out.stdout)["features"]
    frame = geopandas.read_file(gpkg)
    assert len(features) == len(frame) > 100
    # the study area: the bundled rows in a 2022 ward are counted; the 30 just outside the wards are not
    located = bundled_store.incidents().dropna(subset=["x"])
    in_clipped = shapely.intersects(
        shapely.union_all(frame.geometry.values), shapely.points(located["x"], located["y"])
    )
    assert frame.crs.to_epsg() == 27700 and frame["count"].sum() == rows_in_wards(bundled_store) == BUNDLED_ROWS - 30
    assert len(located) == BUNDLED_ROWS and len(located) - int(in_clipped.sum()) == 30
    lon, lat = (
        features[0]["geometry"]["coordinates"][0][0][:2]
        if features[0]["geometry"]["type"] == "Polygon"
        else features[0]["geometry"]["coordinates"][0][0][0][:2]
    )
    assert -1 < lon < 0 and 51 < lat < 52


def test_hotspots_bad_cell_size(cfg):
    out = run("hotspots", "--config", cfg, "--cell", "-3")
    assert out.returncode == 2 and "--cell must be a positive" in out.stderr


def test_progress_in_a_log_is_whole_lines(tmp_path):
    # the review: "...29 files, 26,483 rows2026-12-01 ... Uvicorn server started": a \r bar never ended in a log
    out = run("summary", "--config", write_config(tmp_path), "--format", "csv")  # first use builds the store
    assert out.returncode == 0, out.stderr
    lines = out.stderr.splitlines()
    assert "\r" not in out.stderr and lines[28] == "29 files, 26,483 rows" and lines[29].startswith("note: police.uk")


def test_ingest_names_the_months_the_rows_in_the_district_and_what_it_replaced(tmp_path, bundled_store):
    from loaders import police

    own = write_config(tmp_path)
    month = tmp_path / "2023-05" / "2023-05-hertfordshire-street.csv"
    month.parent.mkdir()
    force = "Hertfordshire Constabulary,Hertfordshire Constabulary"
    rows = [
        f"a{i},2023-05,{force},-0.336,51.752,On or near High Street,E01023700,St Albans 010B,Burglary,,"
        for i in range(3)
    ]  # St Albans city centre
    rows += [
        f"b{i},2023-05,{force},-0.078,51.796,On or near Fore Street,E01023500,East Herts 001A,Burglary,,"
        for i in range(2)
    ]  # Hertford
    rows += [f"c1,2023-05,{force},,,No Location,,,Burglary,,"]  # no location
    rows += [
        f"d1,2023-13,{force},-0.336,51.752,On or near High Street,E01023700,St Albans 010B,Burglary,,"
    ]  # bad month
    month.write_text("\n".join([",".join(police.HEADER), *rows]) + "\n")
    first = run("ingest", "police", tmp_path / "2023-05", "--config", own)
    assert first.returncode == 0, first.stderr
    assert "1 file(s), 7 rows read, 6 loaded, 1 rejected" in first.stdout
    assert "months loaded: 2023-05; new: 2023-05; replaced (loaded before, now replaced whole): none" in first.stdout
    assert "rows in the area's wards: 3; outside them (kept, no ward): 2; without a location (kept): 1" in first.stdout
    again = run("ingest", "police", tmp_path / "2023-05", "--config", own)
    assert "months loaded: 2023-05; new: none; replaced (loaded before, now replaced whole): 2023-05" in again.stdout
    # the bundle over its own store: 29 months, every one replaced, 30 rows outside the 2022 wards
    bundle = run("ingest", "police", BUNDLED_POLICE, "--config", own)
    runs = "2018-10 to 2019-02, 2019-09, 2021-01 to 2022-01, 2024-01 to 2024-04, 2025-01 to 2025-06"
    assert (
        f"months loaded: 29 months: {runs}; new: none; replaced (loaded before, now replaced whole): 29 months: {runs}"
        in bundle.stdout
    )
    assert (
        f"rows in the area's wards: {rows_in_wards(bundled_store):,}; outside them (kept, no ward): 30;"
        in bundle.stdout
    )
