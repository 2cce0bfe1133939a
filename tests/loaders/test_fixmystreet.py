"""FixMyStreet area counts: loading, LSOA -> ward best fit, totals kept, bad rows, CLI, priority P2."""

from __future__ import annotations

import csv
import dataclasses
import io

import duckdb
import pandas as pd
import pytest

from dashboard import cli
from geodata import config as config_mod
from geodata import priorities
from geodata.analysis import status
from geodata.bundled import ST_ALBANS as BUNDLE
from geodata.pipeline.build import open_store
from geodata.pipeline.ingest import ingest_fixmystreet
from loaders import fixmystreet
from loaders.report import LoadError
from tests.conftest import write_config

FMS = BUNDLE / "fixmystreet/st_albans_reports_by_lsoa_month.csv"


def raw() -> pd.DataFrame:
    return pd.read_csv(FMS, dtype={"lsoa11cd": str})


@pytest.mark.parametrize("config_file", ["csp.toml", "csp-wards-2013.toml"])
def test_ward_totals_equal_lsoa_totals_for_every_month_and_category(tmp_path, config_file):
    cfg = config_mod.load(BUNDLE / config_file)
    store = open_store(dataclasses.replace(cfg, store_path=tmp_path / "s.duckdb", bundled_police=()))
    by_ward = store.counts(by=("ward_code", "month", "category"), source="fixmystreet")
    assert by_ward["ward_code"].notna().all()  # every St Albans LSOA has a ward
    ward_totals = by_ward.groupby([by_ward["month"].dt.strftime("%Y-%m"), "category"])["incidents"].sum()
    lsoa_totals = raw().groupby(["month", "category"])["reports"].sum()
    assert ward_totals.sort_index().tolist() == lsoa_totals.sort_index().tolist()
    assert list(ward_totals.sort_index().index) == list(lsoa_totals.sort_index().index)
    con = duckdb.connect(str(store.path), read_only=True)
    shares = con.execute("SELECT min(share), count(*) FROM lsoa_wards").fetchall()[0]
    con.close()
    assert shares[1] == 87 and 0.5 < shares[0] <= 1.0  # each LSOA mostly in its best-fit ward


def test_best_fit_ward_is_the_largest_overlap(bundled_store):
    import shapely

    con = duckdb.connect(str(bundled_store.path), read_only=True)
    lookup = dict(con.execute("SELECT lsoa_code, ward_code FROM lsoa_wards").fetchall())
    con.close()
    wards, lsoas = bundled_store.areas("ward"), bundled_store.areas("lsoa")
    for code, geom in list(zip(lsoas.codes, lsoas.geometries))[:30]:
        overlaps = shapely.area(shapely.intersection(geom, wards.geometries))
        assert lookup[code] == wards.codes[int(overlaps.argmax())]


def test_months_without_rows_are_zero_and_reloading_replaces(tmp_path, bundled_store):
    months = set(bundled_store.loaded_months("fixmystreet"))
    assert len(months) == 166 and min(months) == "2007-03" and max(months) == "2020-12"
    store = open_store(dataclasses.replace(config_mod.load(), store_path=tmp_path / "s.duckdb", bundled_police=()))
    before = store.ward_summary(source="fixmystreet")
    ingest_fixmystreet(store, FMS)  # the same file again: no double counts
    assert store.ward_summary(source="fixmystreet").equals(before)
    assert int(before["incidents"].sum()) == int(raw()["reports"].sum())


def test_bad_rows_are_reported_with_line_and_reason():
    text = FMS.read_text().splitlines()
    text[3] = "2019-13,E01023703,A29,Fly-tipping,1,1"
    text[4] = "2019-02,X123,A29,Fly-tipping,1,1"
    text[5] = "2019-02,E01023703,A29,Fly-tipping,zero,1"
    text[6] = "2019-02,E01023703,A29,,2,1"
    table, report, months = fixmystreet.parse("fms.csv", "\n".join(text).encode())
    assert [(r.line, r.field) for r in report.rejected] == [
        (4, "month"),
        (5, "lsoa11cd"),
        (6, "reports"),
        (7, "category"),
    ]
    assert table.num_rows + len(report.rejected) == report.rows_read == len(text) - 1
    with pytest.raises(LoadError, match="not a FixMyStreet LSOA-month file"):
        fixmystreet.parse("police.csv", b"Crime ID,Month\n1,2020-01\n")


def test_cli_summary_by_source_and_ingest(tmp_path, capsys):
    cfg = str(write_config(tmp_path))
    assert (
        cli.main(
            [
                "summary",
                "--config",
                cfg,
                "--source",
                "fixmystreet",
                "--category",
                "Fly-tipping",
                "--from",
                "2007-01",
                "--to",
                "2020-12",
                "--format",
                "csv",
            ]
        )
        == 0
    )
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(rows[0]) == ["ward_code", "ward_name", "incidents"] and len(rows) == 20
    assert sum(int(r["incidents"]) for r in rows) == int(raw().query("category == 'Fly-tipping'")["reports"].sum())
    assert cli.main(["ingest", "fixmystreet", str(FMS), "--config", cfg]) == 0
    out = capsys.readouterr().out
    assert "fixmystreet: 1 file(s), 4,791 rows read, 4,791 loaded, 0 rejected" in out


def test_priority_p2_measures_fly_tipping_reports(bundled_store):
    p2 = priorities.load().get("P2")
    res = status.priority_status(bundled_store, p2, end="2020-12")
    fms = res.measures[0]
    data = raw().query("category == 'Fly-tipping'")
    assert fms.current.count == int(data.query("'2020-07' <= month <= '2020-12'")["reports"].sum())
    year_earlier = int(data.query("'2019-07' <= month <= '2019-12'")["reports"].sum())
    assert fms.change.base.count == year_earlier and fms.change.name == "the same months a year earlier"
    assert res.status in ("on track", "off track")
    assert "council fly-tipping records are loaded" in res.sentence  # the other measure: no data, named
