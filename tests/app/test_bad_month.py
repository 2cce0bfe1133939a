"""One bad month must not blank the meeting (issue 24, high 2): a store an older version filled with a
police.uk month 9999-12, a police.uk month of the current month (not published yet) and an outcomes
month 9999-12 still shows the real latest month on the Meeting page, the kiosk and the pack, and
``csp-hotspots months remove`` removes such a month (after confirmation, recorded in the load history)."""

from __future__ import annotations

import io
import shutil

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.cli import main
from dashboard.render import pack
from geodata import config as config_mod
from geodata import priorities as priorities_mod
from geodata.analysis import PUBLIC, meeting, status
from geodata.pipeline.build import open_store
from loaders import plausible
from tests.conftest import REPO, write_config

LATEST = "2025-06"  # the bundled data's latest month


@pytest.fixture
def bad_store(tmp_path, bundled_store, monkeypatch):
    """A copy of the bundled store holding the three bad months as an older version loaded them."""
    cfg = write_config(tmp_path)
    shutil.copy(bundled_store.path, tmp_path / "s.duckdb")
    current = f"{plausible.today():%Y-%m}-01"
    with duckdb.connect(str(tmp_path / "s.duckdb")) as con:
        for month in ("9999-12-01", current):
            con.execute(
                f"INSERT INTO incidents SELECT * REPLACE (DATE '{month}' AS month, record_id || '-bad' AS record_id) "
                "FROM incidents WHERE source = 'police.uk' AND ward_code IS NOT NULL LIMIT 3"
            )
            con.execute(f"INSERT INTO partitions VALUES ('police.uk', 'hertfordshire', DATE '{month}', 3, 1, now())")
        con.execute(
            "INSERT INTO outcomes SELECT * REPLACE (DATE '9999-12-01' AS month) FROM outcomes LIMIT 2; "
            "INSERT INTO partitions VALUES ('police.uk outcomes', 'hertfordshire', DATE '9999-12-01', 2, 1, now())"
        )
    monkeypatch.setenv("CSP_HOTSPOTS_CONFIG", str(cfg))
    return cfg, open_store(config_mod.load(cfg))


def test_the_meeting_kiosk_and_pack_still_show_the_real_latest_month(bad_store):
    cfg, store = bad_store
    plist = priorities_mod.load()
    assert status.latest_month(store, plist) == LATEST and status.complete_months(store, plist)[-1] == LATEST
    results = status.evaluate(store, plist, audience=PUBLIC)
    police = [m for r in results for m in r.measures if m.measure.source == "police.uk"]
    assert police and all(m.current.count is not None and m.current.end == LATEST for m in police)  # measured
    assert meeting.slides(store, plist, audience=PUBLIC, results=results).data_to == LATEST
    built = pack.build(store, plist)
    html = pack.render(built, "html").decode()
    assert built.data_to == LATEST and f"Data to {LATEST}" in html and "9999-12" not in html

    for params in ({}, {"mode": "meeting"}):  # the Meeting page and the kiosk
        at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=120)
        for k, v in params.items():
            at.query_params[k] = v
        at.run()
        assert not at.exception, at.exception
        shown = " ".join(m.value for m in at.markdown)
        assert f"Data to {LATEST}" in shown and "9999-12" not in shown, params
        assert f"Data to {plausible.today():%Y-%m}" not in shown


def test_months_command_lists_and_removes_a_bad_month(bad_store, capsys, monkeypatch):
    cfg, store = bad_store
    assert main(["months", "list", "--config", str(cfg), "--source", "police.uk"]) == 0
    listed = capsys.readouterr().out.splitlines()
    bad = [line for line in listed if "9999-12" in line]
    assert bad == ["police.uk\thertfordshire\t9999-12\t3 rows\tmonth 9999-12 is after the current month "
                   f"({plausible.today():%Y-%m})"]  # fmt: skip
    assert any(line.startswith(f"police.uk\thertfordshire\t{LATEST}\t") and line.count("\t") == 3 for line in listed)

    args = ["months", "remove", "--config", str(cfg), "--source", "police.uk", "--month", "9999-12"]
    monkeypatch.setattr("sys.stdin", io.StringIO("no\n"))
    assert main(args) == 1  # not confirmed: nothing removed
    assert "9999-12" in set(store.partitions()["month"].dt.strftime("%Y-%m"))
    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))
    before = len(store.loads())
    assert main(args) == 0
    err = capsys.readouterr().err
    assert (
        "Remove 9999-12 of police.uk (hertfordshire: 3 rows)?" in err
        and "removed 9999-12 of police.uk (hertfordshire): 3 rows" in err
    )
    parts = store.partitions()
    assert "9999-12" not in set(parts.loc[parts["source"] == "police.uk", "month"].dt.strftime("%Y-%m"))
    assert len(store.incidents(start="9999-12", end="9999-12")) == 0
    assert len(store.incidents(start=LATEST, end=LATEST)) > 0  # nothing else removed
    load = store.loads().sort_values("load_id").iloc[-1]
    assert len(store.loads()) == before + 1 and "removed 9999-12 of police.uk" in str(load["inputs"])

    outcomes = ["months", "remove", "--config", str(cfg), "--source", "police.uk outcomes", "--month", "9999-12"]
    assert main([*outcomes, "--yes"]) == 0
    with duckdb.connect(str(store.path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM outcomes WHERE month > DATE '3000-01-01'").fetchall() == [(0,)]
    assert main(args) == 2  # gone: said, not a traceback
    assert "has no month 9999-12 loaded" in capsys.readouterr().err
