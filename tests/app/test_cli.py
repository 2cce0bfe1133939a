"""The csp-hotspots command as a user runs it: a real process, real files."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import pytest
import shapely

from tests.conftest import BUNDLE, BUNDLED_MONTHS, BUNDLED_POLICE, BUNDLED_ROWS, REPO, rows_in_wards, write_config


def run(*args, stdin: str | None = None):
    return subprocess.run(
        [sys.executable, "-m", "dashboard.cli", *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )


@pytest.fixture(scope="module")
def cfg(tmp_path_factory):
    """A config whose store is already built, so no test's stderr depends on running first (the first
    command on a new store prints the build's progress lines)."""
    from geodata import config as config_mod
    from geodata.pipeline.build import open_store

    path = write_config(tmp_path_factory.mktemp("cli"))
    open_store(config_mod.load(path))
    return path


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


def test_init_writes_a_config_that_works_from_anywhere(tmp_path):
    """`init DIR`: the bundled area's files named by package reference (no copy, no path relative to the
    package's folder), the store and accounts beside the config, both files 0600; the folder still works
    moved elsewhere (a copied bundled csp.toml broke: `[bundled] police = ["police/..."]` not found)."""
    import os
    import stat
    import tomllib

    from geodata import config as config_mod

    out = run("init", tmp_path / "partner")
    assert out.returncode == 0, out.stderr
    assert f"csp-hotspots users add NAME --role admin --config {tmp_path / 'partner' / 'csp.toml'}" in out.stdout
    moved = tmp_path / "elsewhere"
    os.rename(tmp_path / "partner", moved)
    path = moved / "csp.toml"
    raw = tomllib.loads(path.read_text())
    assert raw["bundled"]["police"] == ["package:st_albans/police/hertfordshire-st-albans-street.zip"]
    assert raw["store"] == {"path": "store/st-albans.duckdb"} and raw["access"] == {"accounts": "accounts.json"}
    assert str(REPO) not in path.read_text()  # nothing names where this clone (or a site-packages) is
    cfg = config_mod.load(path)
    bundled = config_mod.load(config_mod.DEFAULT_CONFIG)
    assert (cfg.wards, cfg.lsoas, cfg.bundled_police, cfg.bundled_defra, cfg.priorities_file) == (
        bundled.wards,
        bundled.lsoas,
        bundled.bundled_police,
        bundled.bundled_defra,
        bundled.priorities_file,
    )
    assert cfg.store_path == moved / "store" / "st-albans.duckdb" and cfg.accounts_file == moved / "accounts.json"
    for written in (path, moved / "accounts.json"):
        assert stat.S_IMODE(written.stat().st_mode) == 0o600
    added = run("users", "add", "ana", "--password-stdin", "--config", path, stdin="a long partner passphrase\n")
    assert added.returncode == 0, added.stderr
    assert run("users", "list", "--config", path).stdout.split() == ["ana", "viewer", "password"]
    again = run("init", moved)
    assert again.returncode == 2 and "a config is already there (not replaced)" in again.stderr


def test_init_another_district(tmp_path):
    """`init DIR --name --wards --lsoas`: the district's own files, absolute; a field the file lacks is
    one line naming the file and the fields it has, and nothing is written."""
    from geodata import config as config_mod

    wards = BUNDLE / "boundaries" / "st_albans_wards_2013.geojson"
    lsoas = BUNDLE / "boundaries" / "st_albans_lsoa_2011.geojson"
    common = ["--name", "Old St Albans", "--wards", wards, "--lsoas", lsoas, "--ward-name", "WD13NM"]
    bad = run("init", tmp_path / "bad", *common, "--ward-code", "WD22CD")
    assert bad.returncode == 2 and f"{wards}: field 'WD22CD' (code_field) not found; fields are" in bad.stderr
    assert not (tmp_path / "bad" / "csp.toml").exists()
    out = run(
        "init", tmp_path / "old", *common, "--ward-code", "WD13CD", "--host", "csp.example.gov.uk", "--force", "kent"
    )
    assert out.returncode == 0, out.stderr
    cfg = config_mod.load(tmp_path / "old" / "csp.toml")
    assert (cfg.area_name, cfg.wards.file, cfg.wards.code_field, cfg.lsoas.code_field) == (
        "Old St Albans",
        wards,
        "WD13CD",
        "LSOA11CD",
    )
    assert cfg.store_path == tmp_path / "old" / "store" / "old-st-albans.duckdb"
    assert cfg.access_hosts == ("csp.example.gov.uk",) and cfg.bundled_police == () and cfg.police_force == "kent"
    half = run("init", tmp_path / "half", "--wards", wards)
    assert half.returncode == 2 and "another district needs --name" in half.stderr


def test_refresh_takes_the_force_from_the_config(tmp_path, cfg):
    """The police force is the config's [police] force (it was "hertfordshire" typed as a default in the
    command and on the Data page); without one, refresh asks for --force; a bad one names its line."""
    from geodata import config as config_mod

    assert config_mod.load(cfg).police_force == "hertfordshire"
    text = cfg.read_text()
    assert '[police]\nforce = "hertfordshire"' in text
    none = tmp_path / "none.toml"
    none.write_text(text.replace('[police]\nforce = "hertfordshire"\n', ""))
    out = run("refresh", "--config", none, "--api", "http://127.0.0.1:9")
    assert out.returncode == 2 and "no [police] force; give --force" in out.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('force = "hertfordshire"', 'force = "Herts Police"'))
    line = bad.read_text().splitlines().index('force = "Herts Police"') + 1
    out = run("wards", "--config", bad)
    assert out.returncode == 2 and f"{bad}, line {line}: police.force: must be a data.police.uk force id" in out.stderr


def test_every_input_error_has_the_one_base_class():
    """The command line catches loaders.errors.InputError (it looked up eight classes through sys.modules):
    every error class the packages define for bad input derives from it."""
    import importlib
    import pkgutil

    from loaders.errors import InputError

    found = {}
    for package in ("loaders", "geodata", "dashboard"):
        for info in pkgutil.walk_packages([str(REPO / package)], f"{package}."):
            if info.name.endswith(("app", "server")) or ".views." in info.name:
                continue  # the Streamlit script and pages run only inside a server
            module = importlib.import_module(info.name)
            for name, obj in vars(module).items():
                if isinstance(obj, type) and issubclass(obj, Exception) and obj.__module__ == info.name:
                    found[f"{info.name}.{name}"] = obj
    names = {
        "LoadError",
        "StoreError",
        "MappingError",
        "AccountsError",
        "BoundaryError",
        "PrioritiesError",
        "ConfigError",
    }
    assert names <= {n.rsplit(".", 1)[1] for n in found}
    outside = [n for n, c in found.items() if n.rsplit(".", 1)[1] in names and not issubclass(c, InputError)]
    assert outside == []


def test_hotspots_csv_columns_and_values(cfg, bundled_store):
    # 500 m cells hold 0.55 burglaries each, so p is exact under the total null (at 400 m, 0.4 a cell, the conditional)
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
    # the study area (geodata.analysis.rules): the located burglaries of 2021 in a 2022 ward, not those
    # just outside them (bundled for a St Albans LSOA or a 2013 ward); such a row counted in an edge cell before
    located = bundled_store.incidents(start="2021-01", end="2021-12", categories=["Burglary"], inside=False)
    located = located.dropna(subset=["x"])
    inside = shapely.intersects(bundled_store.boundary(), shapely.points(located["x"], located["y"]))
    assert sum(int(r["count"]) for r in rows) == int(located["ward_code"].notna().sum()) == int(inside.sum()) > 390
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
    # the study area: the bundled rows in a 2022 ward are counted; the few just outside the wards are not
    located = bundled_store.incidents(inside=False).dropna(subset=["x"])
    in_clipped = shapely.intersects(
        shapely.union_all(frame.geometry.values), shapely.points(located["x"], located["y"])
    )
    assert frame.crs.to_epsg() == 27700 and frame["count"].sum() == rows_in_wards(bundled_store) == in_clipped.sum()
    assert len(located) == BUNDLED_ROWS and 0 < len(located) - int(in_clipped.sum()) < 30
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
    whole = f"{BUNDLED_MONTHS} files, {BUNDLED_ROWS:,} rows"
    assert "\r" not in out.stderr and lines[28] == whole and lines[29].startswith("note: police.uk")


def test_actions_import_list_export(tmp_path):
    cfg = write_config(tmp_path)
    plan = tmp_path / "plan.csv"
    plan.write_text(
        "priority,what,owner,start,review,status,wards\n"
        "P1,Evening patrols,Herts Police,2025-03-01,2025-06-01,on track,E05013947\n"
        "P1,Lighting,Council,2025-03-01,2025-06-01,finished,\n"  # line 3: status
        "P2,Youth outreach,Council,01/04/2025,01/10/2099,not started,\n",
        encoding="utf-8",
    )
    out = run("actions", "import", plan, "--config", cfg, "--by", "ana")
    assert out.returncode == 0, out.stderr
    assert "3 rows read, 2 loaded (2 actions new or changed), 1 rejected" in out.stdout
    assert f"rejected {plan}, line 3, field 'status': 'finished' is not one of" in out.stdout
    listed = run("actions", "list", "--config", cfg).stdout.splitlines()
    assert listed[0].startswith("A0001\tP1\ton track\treview 2025-06-01") and listed[0].endswith("REVIEW OVERDUE")
    assert listed[1].startswith("A0002\tP2\tnot started\treview 2099-10-01") and "OVERDUE" not in listed[1]
    exported = tmp_path / "out.csv"
    assert run("actions", "export", exported, "--config", cfg).returncode == 0
    again = run("actions", "import", exported, "--config", cfg, "--by", "ana")
    assert "2 loaded (0 actions new or changed), 0 rejected" in again.stdout  # the round trip changes nothing
    rows = list(csv.DictReader(io.StringIO(exported.read_text())))
    got = [(r["id"], r["where"], r["wards"]) for r in rows]
    assert got == [("A0001", "wards", "E05013947"), ("A0002", "district", "")]
    report = tmp_path / "annual.html"
    out = run("actions", "annual", "--to", "2025-06", "--format", "html", "--out", report, "--config", cfg)
    assert out.returncode == 0, out.stderr
    assert (
        "Annual report to councillors: 2024-07 to 2025-06" in report.read_text()
        and "Evening patrols" in report.read_text()
    )
    out = run("actions", "grant", "--from", "2025-04", "--config", cfg, "--out", report)
    assert out.returncode == 2 and "give the half year with --from YYYY-MM --to YYYY-MM" in out.stderr


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
    # the bundle over its own store: 29 months, every one replaced, 10 rows outside the 2022 wards (20 m outlines)
    bundle = run("ingest", "police", BUNDLED_POLICE, "--config", own)
    runs = "2018-10 to 2019-02, 2019-09, 2021-01 to 2022-01, 2024-01 to 2024-04, 2025-01 to 2025-06"
    assert (
        f"months loaded: 29 months: {runs}; new: none; replaced (loaded before, now replaced whole): 29 months: {runs}"
        in bundle.stdout
    )
    assert (
        f"rows in the area's wards: {rows_in_wards(bundled_store):,}; outside them (kept, no ward): 10;"
        in bundle.stdout
    )
