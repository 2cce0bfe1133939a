"""DEFRA fly-tipping LA tables: loaded whole, ':' never zero, context figures from the store."""

from __future__ import annotations

import csv

import pytest

from dashboard.cli import main
from geodata.analysis import flytipping_context as context
from geodata.bundled import ST_ALBANS as BUNDLE
from geodata.pipeline.ingest import ingest_defra
from loaders import defra
from loaders.report import LoadError
from tests.conftest import write_config

INCIDENTS = BUNDLE / "defra/herts_la_flytipping_incidents_2012-13_to_2022-23.csv"
ACTIONS = BUNDLE / "defra/herts_la_flytipping_actions_2012-13_to_2022-23.csv"


def _raw(path):
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def test_every_published_cell_is_loaded_and_not_available_is_never_zero(bundled_store):
    for path, dataset in ((INCIDENTS, "incidents"), (ACTIONS, "actions")):
        header, rows = _raw(path)
        stats = bundled_store.district_stats(dataset=dataset)
        assert len(stats) == len(rows) * (len(header) - 4)
        colons = sum(v.strip() == ":" for r in rows for v in r[4:])
        assert colons > 100
        assert (stats["note"] == defra.NOT_AVAILABLE).sum() == colons
        assert stats.loc[stats["note"] == defra.NOT_AVAILABLE, "value"].isna().all()
    total = context.series(bundled_store, "E07000240").set_index("year")[context.TOTAL]
    # St Albans (E07000240) total incidents as published (SOURCE note headline)
    assert total.to_dict() == {
        "2012-13": 636,
        "2013-14": 795,
        "2014-15": 1130,
        "2015-16": 1130,
        "2016-17": 1324,
        "2017-18": 910,
        "2018-19": 866,
        "2019-20": 746,
        "2020-21": 910,
        "2021-22": 624,
        "2022-23": 579,
    }


def test_neighbours_and_fixmystreet_share(bundled_store):
    table = context.neighbours(bundled_store)
    assert table.attrs["year"] == "2022-23"
    st_albans = table.set_index("area_code").loc["E07000240"]
    assert st_albans["per_1000"] == pytest.approx(3.9027217945779804) and st_albans["rank"] == 10
    assert len(table) == 11 and table["area_name"].iloc[-1] == "Total England"
    share = context.fixmystreet_share(bundled_store, "E07000240").set_index("year")
    fms = bundled_store.counts(by=("month",), source="fixmystreet", categories=["Fly-tipping"])
    in_2019 = fms[(fms["month"] >= "2019-04-01") & (fms["month"] <= "2020-03-01")]["incidents"].sum()
    assert share.loc["2019-20", "fixmystreet_reports"] == in_2019
    assert share.loc["2019-20", "defra_incidents"] == 746
    assert "2020-21" not in share.index  # FixMyStreet months end in 2020-12: that year is not whole


def test_bad_rows_rejected_with_line_and_field(empty_store, tmp_path):
    header, rows = _raw(INCIDENTS)
    rows[2][0] = "2012-14"
    rows[5][6] = "lots"
    bad = tmp_path / "defra.csv"
    with bad.open("w", newline="") as f:
        csv.writer(f).writerows([header] + rows)
    report = ingest_defra(empty_store, bad)
    assert report.rows_read == len(rows) == report.rows_loaded + len(report.rejected)
    assert [(r.line, r.field) for r in report.rejected] == [(4, "Year"), (7, header[6])]
    (tmp_path / "x.csv").write_text("Year,Code\n")
    with pytest.raises(LoadError, match="not a DEFRA fly-tipping LA table"):
        defra.read(tmp_path / "x.csv")


def test_reloading_a_table_replaces_its_years(empty_store):
    ingest_defra(empty_store, INCIDENTS)
    ingest_defra(empty_store, INCIDENTS)
    header, rows = _raw(INCIDENTS)
    assert len(empty_store.district_stats(dataset="incidents")) == len(rows) * (len(header) - 4)


def test_cli(tmp_path, capsys):
    cfg = write_config(tmp_path)
    assert main(["--config", str(cfg), "ingest", "defra", str(ACTIONS)]) == 0
    assert "defra: 1 file(s), 132 rows read, 132 loaded, 0 rejected" in capsys.readouterr().out
    assert main(["--config", str(cfg), "summary", "--source", "defra"]) == 2
    assert "no ward breakdown" in capsys.readouterr().err
