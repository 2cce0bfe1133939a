"""Council exports through mapping files, on synthetic exports of the bundled St Albans geography."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest

from dashboard.cli import main
from geodata.analysis.status import SYNTHETIC_LABEL, evaluate
from geodata.bundled import ST_ALBANS as BUNDLE
from geodata.pipeline import synthetic
from geodata.pipeline.build import open_store
from geodata.pipeline.ingest import ingest_council
from geodata.priorities import load as load_priorities
from loaders import council
from loaders.report import LoadError
from tests.conftest import REPO, config_with_store, write_config

MAPS = BUNDLE / "council"
MAP_A, MAP_B, MAP_I = (MAPS / f"mapping-{n}.toml" for n in ("council-a", "council-b", "incidents"))


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """A store built from the bundled data, and the three synthetic exports written from it."""
    folder = tmp_path_factory.mktemp("council")
    store = open_store(config_with_store(folder))
    tips = synthetic.flytipping_records(store)
    a = synthetic.write_flytipping_a(tips, folder / "SYNTHETIC-a.csv")
    b = synthetic.write_flytipping_b(tips, folder / "SYNTHETIC-b.xlsx")
    log = synthetic.incident_records(store)
    i = synthetic.write_incidents(log, folder / "SYNTHETIC-incidents.csv")
    return store, tips, log, a, b, i


def test_two_council_shapes_load_into_identical_canonical_records(exports):
    _, tips, _, a, b, _ = exports
    ta, ra, _ = council.read(a, council.read_mapping(MAP_A))
    tb, rb, _ = council.read(b, council.read_mapping(MAP_B))
    assert a.read_bytes()[:3] != b.read_bytes()[:3]  # really two formats (CSV and XLSX)
    assert ra.rows_read == rb.rows_read == ra.rows_loaded == rb.rows_loaded == len(tips)
    assert not ra.rejected and not rb.rejected and not ra.unmapped and not rb.unmapped
    ta, tb = ta.sort_by("record_id"), tb.sort_by("record_id")
    assert ta.equals(tb)
    first = ta.slice(0, 1).to_pylist()[0]
    tip = next(t for t in tips if t.ref == first["record_id"])
    assert first["date"] == tip.when.date() and first["category"] == tip.category
    assert first["size_band"] == tip.size and first["land_type"] == tip.land
    assert first["cost_gbp"] == council.SIZE_BANDS[tip.size]
    assert first["synthetic"] is True
    located = [t for t in tips if t.x is not None]
    assert ta["x"].null_count == len(tips) - len(located) > 0  # blanks kept, counted
    assert ra.no_location == len(tips) - len(located)


def test_personal_fields_never_reach_the_store(exports, tmp_path):
    store, tips, log, a, _, i = exports
    ingest_council(store, a, MAP_A)
    ingest_council(store, i, MAP_I)
    planted = {t.person for t in tips + log} | {t.phone for t in tips + log}
    assert len(planted) > 20
    with duckdb.connect(str(store.path)) as con:
        con.execute("CHECKPOINT")
        texts = []
        for table, column in con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE data_type = 'VARCHAR'"
        ).fetchall():
            texts += [v for (v,) in con.execute(f'SELECT DISTINCT "{column}" FROM "{table}"').fetchall() if v]
    stored = "\n".join(texts)
    assert log[0].street in stored and tips[0].ref in stored  # the scan sees what was loaded ...
    assert not [p for p in planted if p in stored]  # ... and no name or phone number
    assert "white van" not in stored and "Neighbour dispute" not in stored  # nor the narrative
    raw = store.path.read_bytes()
    assert not [p for p in planted if p.encode() in raw]


def test_bad_rows_are_reported_with_line_and_reason_and_unknown_names_kept(exports, tmp_path):
    store = exports[0]
    rows = [
        [
            "Ref",
            "Date Reported",
            "Easting",
            "Northing",
            "Street",
            "Waste Type",
            "Size",
            "Land Type",
            "Status",
            "Reporter Name",
            "Data",
        ],
        [
            "T1",
            "03/02/2021",
            "515000",
            "207000",
            "High St",
            "Builders rubble",
            "Small van",
            "Road",
            "Cleared",
            "Jo Bloggs",
            "SYNTHETIC",
        ],
        ["T2", "31/02/2021", "515000", "207000", "High St", "Tyres", "1 bag", "Road", "Open", "", "SYNTHETIC"],
        ["T3", "2021-03-04", "600000", "207000", "Far away", "Tyres", "1 bag", "Road", "Open", "", "SYNTHETIC"],
        [
            "T4",
            "4 Mar 2021",
            "515100",
            "207100",
            "Mill Lane",
            "Sofa and mattress",
            "Huge",
            "Road",
            "Open",
            "",
            "SYNTHETIC",
        ],
        ["T5", "05/03/2021", "", "", "", "Garden rubbish", "", "", "", "", "SYNTHETIC"],
        ["T1", "06/03/2021", "515000", "207000", "High St", "Tyres", "1 bag", "Road", "Open", "", "SYNTHETIC"],
        ["T6", "07/03/2021", "abc", "207000", "High St", "Tyres", "1 bag", "Road", "Open", "", "SYNTHETIC"],
        ["T7", "01/01/2999", "515000", "207000", "High St", "Tyres", "1 bag", "Road", "Open", "", "SYNTHETIC"],
    ]
    path = tmp_path / "bad.csv"
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    # 3 records replace the exports' months 2021-02 and 2021-03: a sharp shrink, so it must be asked for
    report = ingest_council(store, path, MAP_A, today=date(2026, 1, 1), replace_smaller=True)
    assert report.rows_read == 8 == report.rows_loaded + len(report.rejected)
    got = {(r.line, r.field): r.reason for r in report.rejected}
    assert set(got) == {(3, "Date Reported"), (4, "Easting"), (7, "Ref"), (8, "Easting"), (9, "Date Reported")}
    assert "31/02/2021" in got[(3, "Date Reported")]
    assert "outside St Albans" in got[(4, "Easting")]
    assert "repeats line 2" in got[(7, "Ref")]
    assert "abc" in got[(8, "Easting")]
    assert "future" in got[(9, "Date Reported")]
    assert report.unmapped == {"category 'Sofa and mattress'": 1, "size 'Huge'": 1}
    assert "Sofa and mattress" in report.summary()
    loaded = store.incidents(source="council-flytipping", start="2021-02", end="2021-03", inside=False)
    loaded = loaded[loaded["record_id"].isin(["T1", "T4", "T5"])].set_index("record_id")
    assert loaded.loc["T4", "category"] == council.UNMAPPED
    assert loaded.loc["T4", "subcategory"] == "Sofa and mattress" and pd.isna(loaded.loc["T4", "size_band"])
    assert loaded.loc["T1", "category"] == "Construction / demolition / excavation"
    assert np.isnan(loaded.loc["T5", "x"]) and pd.isna(loaded.loc["T5", "ward_code"])
    rejected = store.rejections(int(store.loads()["load_id"].iloc[0]))
    assert sorted(rejected["line"]) == [3, 4, 7, 8, 9]


def test_a_missing_column_or_a_bad_mapping_is_one_clear_error(exports, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("Ref,Date Reported\nA,01/01/2021\n")
    with pytest.raises(LoadError, match="column 'Easting' named by .* is not in the header"):
        council.read(path, council.read_mapping(MAP_A))
    bad = tmp_path / "map.toml"
    for text, match in [
        ('kind = "parking"\ndataset = "x"\n[columns]\n', "kind: must be one of"),
        ('kind = "flytipping"\ndataset = "x"\n[columns]\nrecord_id = "R"\ndate = "D"\n', "columns.category: required"),
        (
            'kind = "flytipping"\ndataset = "x"\n[columns]\nrecord_id = "R"\ndate = "D"\ncategory = "C"\n'
            '[categories]\n"Rubble" = "Rubble"\n',
            "categories.Rubble: 'Rubble' is not one of",
        ),
        (
            'kind = "flytipping"\ndataset = "x"\n[columns]\nrecord_id = "R"\ndate = "D"\ncategory = "C"\n'
            'easting = "E"\n',
            "columns.northing: required with easting",
        ),
        ('kind = "flytipping"\ndataset = "x"\ncolour = 1\n', "colour: unknown key"),
    ]:
        bad.write_text(text)
        with pytest.raises(council.MappingError, match=match):
            council.read_mapping(bad)


def test_os_grid_references():
    # Ordnance Survey's worked examples: Ben Nevis NN 166 712; TG 51408 13177 (A Guide to coordinate systems)
    assert council.grid_ref_to_bng("NN 166 712") == (216600.0, 771200.0)
    assert council.grid_ref_to_bng("TG5140813177") == (651408.0, 313177.0)
    assert council.grid_ref_to_bng("tl 15123 07234") == (515123.0, 207234.0)
    for bad in ("TL 151 07", "IL 1 1", "TL", "51512307234", "TL 1234567 1234567"):
        with pytest.raises(ValueError):
            council.grid_ref_to_bng(bad)


def test_incident_log_flags_sensitive_and_the_mental_health_priority(exports):
    store, _, log, _, _, i = exports
    ingest_council(store, i, MAP_I)
    records = store.incidents(source="council-incidents")
    assert len(records) == len(log)
    flagged = records[records["flags"].fillna("").str.contains("mental-health")]
    assert len(flagged) == sum("mental-health" in r.flags for r in log) > 0
    assert records["sensitive"].sum() == sum(r.sensitive for r in log)
    # the synthetic log covers months to 2022-01 (the police.uk data runs to 2025-06): judge that period
    p4 = next(r for r in evaluate(store, load_priorities(), end="2022-01") if r.priority.id == "P4")
    m = p4.measures[0]
    direct = flagged[
        (flagged["month"] >= "2021-08-01") & (flagged["month"] <= "2022-01-01") & flagged["ward_code"].notna()
    ]
    assert m.current.count == len(direct)
    assert m.synthetic > 0 and m.sentence.startswith(SYNTHETIC_LABEL)


def test_cli_ingest_ends_with_its_load_report(exports, tmp_path, capsys):
    store, tips, _, _, b, _ = exports
    cfg = write_config(tmp_path)
    assert main(["--config", str(cfg), "ingest", "flytipping", str(b), "--mapping", str(MAP_B)]) == 0
    out = capsys.readouterr().out
    assert f"council-flytipping: 1 file(s), {len(tips):,} rows read, {len(tips):,} loaded, 0 rejected" in out
    assert main(["--config", str(cfg), "summary", "--source", "council-flytipping", "--format", "csv"]) == 0
    rows = list(csv.reader(capsys.readouterr().out.splitlines()))
    assert rows[0] == ["ward_code", "ward_name", "incidents"]
    assert sum(int(r[2]) for r in rows[1:]) == sum(1 for t in tips if t.x is not None)
    assert main(["--config", str(cfg), "ingest", "incidents", str(b), "--mapping", str(MAP_B)]) == 2
    assert "use `csp-hotspots ingest flytipping`" in capsys.readouterr().err


def test_synth_command_writes_marked_files(tmp_path):
    cfg = write_config(tmp_path)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "dashboard.cli",
            "--config",
            str(cfg),
            "synth",
            "--out",
            str(tmp_path / "synth"),
            "--from",
            "2021-04",
            "--to",
            "2021-06",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    paths = out.stdout.split()
    assert len(paths) == 3 and all("SYNTHETIC-" in p for p in paths)
    with open(paths[0], newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and all(r["Data"] == synthetic.MARKER for r in rows)
    # DEFRA's 2021-22 total for St Albans is 624 a year: three months are about 156 with seasonality
    assert 60 < len(rows) < 300


def test_grid_references_outside_the_district_or_malformed_are_rejected(exports, tmp_path):
    store = exports[0]
    path = tmp_path / "b.csv"
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(
            [
                [
                    "Incident No",
                    "Reported",
                    "Grid Ref",
                    "Location",
                    "Type of Waste",
                    "Quantity",
                    "Land",
                    "Case Status",
                    "Record Source",
                ],
                [
                    "G1",
                    "04.03.2021 10:15",
                    "TL 15123 07234",
                    "St Albans",
                    "TYRES",
                    "Single Item",
                    "HIGHWAY",
                    "Open",
                    "",
                ],
                [
                    "G2",
                    "04.03.2021 10:15",
                    "SU 37220 15340",
                    "Southampton",
                    "TYRES",
                    "Single Item",
                    "HIGHWAY",
                    "Open",
                    "",
                ],
                ["G3", "04.03.2021 10:15", "TL 151 07", "Nowhere", "TYRES", "Single Item", "HIGHWAY", "Open", ""],
            ]
        )
    report = ingest_council(store, path, MAP_B, today=date(2026, 1, 1))
    assert report.rows_read == 3 and report.rows_loaded == 1
    got = {(r.line, r.field): r.reason for r in report.rejected}
    assert "outside St Albans" in got[(3, "Grid Ref")] and "(437220, 115340)" in got[(3, "Grid Ref")]
    assert "not an OS grid reference" in got[(4, "Grid Ref")]
    loaded = store.incidents(source="council-flytipping", start="2021-03", end="2021-03").set_index("record_id")
    assert loaded.loc["G1", "x"] == 515123
    assert not loaded.loc["G1", "synthetic"]  # the row carries no SYNTHETIC marker
