"""The explorer's analyst tools: default period, incidents table, named downloads, map image."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import common
from geodata.analysis import ANALYST, Selection, rules
from geodata.analysis.incidents import COLUMNS, incidents_table
from tests.conftest import REPO, open_page, write_config


@pytest.mark.parametrize(
    "loaded, expected",
    [
        (["2021-01", "2021-02"], ("2021-01", "2021-02")),  # fewer than 12: all of the run
        ([f"2021-{m:02d}" for m in range(1, 13)] + ["2022-01"], ("2021-02", "2022-01")),  # the latest 12
        (
            ["2019-09", "2024-01", "2024-02", "2025-01", "2025-02", "2025-03"],
            ("2025-01", "2025-03"),
        ),  # never over a gap
        (["2025-06"], ("2025-06", "2025-06")),
    ],
)
def test_default_period_is_the_latest_run_of_loaded_months_up_to_12(loaded, expected):
    period = rules.default_period(loaded)
    assert (period.start, period.end) == expected


BUNDLED = (
    [f"2018-{m}" for m in ("10", "11", "12")]
    + ["2019-01", "2019-02", "2019-09"]
    + [f"2021-{m:02d}" for m in range(1, 13)]
    + ["2022-01"]
    + [f"2024-0{m}" for m in range(1, 5)]
    + [f"2025-0{m}" for m in range(1, 7)]
)


def test_a_page_opens_on_the_most_recent_period_that_can_be_compared():
    # the bundle: 2025-01..06 cannot be compared (2024-07..12 not loaded); 2025-04..06 against 2025-01..03 can
    opening = rules.opening_period(BUNDLED)
    assert (opening.period.start, opening.period.end) == ("2025-04", "2025-06")
    assert opening.note == (
        "Opened on 2025-04 to 2025-06, the most recent period that can be compared (the previous 3 months, "
        "2025-01 to 2025-03, every month loaded): 2025-01 to 2025-06, the latest months loaded, has no comparison "
        "(police.uk is not loaded for 6 months: 2024-07 to 2024-12)."
    )
    # a year earlier: 2025-01..04 against 2024-01..04 (the latest end whose year-earlier months are loaded)
    year = rules.opening_period(BUNDLED, against="year-earlier")
    assert (year.period.start, year.period.end) == ("2025-01", "2025-04")
    # the patrol planner's windows: 1, 3 or 6 months
    assert rules.opening_period(BUNDLED, lengths=(1, 3, 6)).period.length == 3
    # every month of 24 loaded: the latest 12, no note
    full = [f"{y}-{m:02d}" for y in (2023, 2024) for m in range(1, 13)]
    assert rules.opening_period(full) == rules.Opening(rules.default_period(full), None)
    # one month alone: nothing can be compared, and the note says so
    alone = rules.opening_period(["2025-06"])
    assert alone.period.text == "2025-06" and alone.note.startswith("No period of the loaded months can be compared")
    # the earliest end is searched too
    assert rules.comparable_period(["2019-01", "2019-02", "2025-06"]).text == "2019-02"


def test_default_period_needs_a_loaded_month():
    with pytest.raises(ValueError, match="no month is loaded"):
        rules.default_period([])


def test_download_names_carry_the_period_and_filters():
    sel = Selection.of("2021-06", "2021-12", ["Burglary", "Vehicle crime"], ["E05004799"])
    assert (
        common.download_name("wards", sel, "csv")
        == "csp-hotspots_wards_2021-06_to_2021-12_Burglary+Vehicle-crime_E05004799.csv"
    )
    assert (
        common.download_name("map", Selection.of("2021-06", "2021-06"), "png")
        == "csp-hotspots_map_2021-06_to_2021-06.png"
    )


def test_incidents_table_is_the_study_areas_incidents_newest_first(bundled_store):
    sel = Selection.of("2021-06", "2021-12", ["Burglary"])
    table = incidents_table(bundled_store, sel)
    direct = bundled_store.counts(by=("source",), **sel.filters())["incidents"].sum()
    assert len(table) == direct > 0
    assert list(table.columns) == list(COLUMNS.values())
    assert table["Month"].is_monotonic_decreasing and set(table["Crime type"]) == {"Burglary"}
    ward = bundled_store.wards()["ward_code"].iloc[0]
    one = incidents_table(bundled_store, Selection.of("2021-06", "2021-12", ["Burglary"], [ward]))
    name = bundled_store.wards().set_index("ward_code").loc[ward, "ward_name"]
    assert 0 < len(one) < len(table) and set(one["Ward"]) == {name}


def _robbery_2021_q4(tmp_path, monkeypatch) -> AppTest:
    """The explorer on robbery 2021-10..12, run once (no exception)."""
    monkeypatch.setenv("CSP_HOTSPOTS_CONFIG", str(write_config(tmp_path)))
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=180)
    at.query_params.update({"from": "2021-10", "to": "2021-12", "cat": "Robbery"})
    at.run()
    open_page(at, "explorer").run()
    assert not at.exception, at.exception
    return at


def test_the_explorer_lists_incidents_and_offers_named_downloads_and_a_map_image(tmp_path, monkeypatch, bundled_store):
    at = _robbery_2021_q4(tmp_path, monkeypatch)
    assert any(h.value.startswith("Incidents (") for h in at.subheader)
    names = [b.proto.label for b in at.get("download_button")]
    assert "Map image for a report (PNG)" in names and "Incidents (CSV)" in names  # local mode: an analyst


def test_deprivation_for_the_district_and_a_ward(bundled_store):
    from geodata.analysis.deprivation_for import deprivation_for

    sel = Selection.of("2025-01", "2025-06")
    found = deprivation_for(bundled_store, sel)
    assert found is not None and found.deciles["lsoas"].sum() == 87
    in_imd = bundled_store.counts(by=("lsoa_code",), **sel.filters())
    in_imd = in_imd[in_imd["lsoa_code"].isin(found.lsoas["lsoa_code"])]["incidents"].sum()
    assert found.deciles["incidents"].sum() == in_imd > 0
    ward = bundled_store.wards()["ward_code"].iloc[0]
    one = deprivation_for(bundled_store, Selection.of("2025-01", "2025-06", (), [ward]))
    assert 0 < one.deciles["incidents"].sum() < found.deciles["incidents"].sum()


def test_downloads_made_on_click_hold_the_view(tmp_path, monkeypatch, bundled_store):
    """The map image, ward files and GeoPackage are made only when clicked (callables): call what the
    buttons call and check the files."""
    import sqlite3
    import struct

    from dashboard.views import explorer

    path = str(write_config(tmp_path))
    monkeypatch.setenv("CSP_HOTSPOTS_CONFIG", path)
    sel = Selection.of("2025-01", "2025-06", ["Burglary"])
    png = explorer.map_image(path, sel, ANALYST, None, "incidents")
    width, height = struct.unpack(">II", png[16:24])  # the PNG header's IHDR chunk
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and min(width, height) > 800
    files = explorer.export_files(path, sel, ANALYST, None)
    rows = files["csv"].splitlines()
    assert rows[0].startswith("ward_code,") and len(rows) == 1 + 20  # a row per ward
    total = sum(int(r.split(",")[2]) for r in rows[1:])
    assert total == bundled_store.counts(by=("source",), **sel.filters())["incidents"].sum()
    near = [int(r.split(",")[3]) for r in rows[1:]]  # the CSV gives each ward's incidents near its edge
    assert rows[0].split(",")[3] == "within_20m_of_edge" and 0 < sum(near) < total
    gpkg = tmp_path / "v.gpkg"
    gpkg.write_bytes(files["gpkg"])
    with sqlite3.connect(gpkg) as con:
        layers = {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}
    assert layers == {"wards", "hotspots"}


def test_the_ward_map_tooltips_give_the_rate_as_the_rule_writes_it(tmp_path, monkeypatch, bundled_store):
    """The ward map's tooltip wrote every float to one decimal place (a rate of 0.46 showed "0.5"); now the
    rate as the table gives it, two significant figures, and each ward's incidents near its edge."""
    from dashboard.views import explorer
    from geodata.analysis import ANALYST, rules
    from geodata.analysis.ward_table import ward_table

    path = str(write_config(tmp_path))
    monkeypatch.setenv("CSP_HOTSPOTS_CONFIG", path)
    sel = Selection.of("2025-06", "2025-06", ["Robbery"])  # few incidents: rates below 1 per 1,000
    table = ward_table(bundled_store, sel).frame.set_index("ward_name")
    spec = explorer.ward_spec(path, sel, ANALYST, "rate")
    layer = next(lay for lay in spec["layers"] if lay.get("className") == "ward-area")
    tips = {dict(f["properties"]["tip"])["Ward"]: dict(f["properties"]["tip"]) for f in layer["data"]["features"]}
    assert set(tips) == set(table.index)
    for ward, tip in tips.items():
        assert tip["Per 1,000 residents"] == rules.rate_text(table.at[ward, "rate"])
        assert tip["Within 20 m of edge"] == f"{table.at[ward, 'within_20m_of_edge']:,}"
    assert any(0 < table.at[w, "rate"] < 1 for w in tips)  # a rate whose second figure one decimal would lose


def test_the_explorer_imports_no_statistics_or_drawing_library_before_its_wards_are_painted():
    """Issue 23: the explorer's first view paid for scipy (0.9 s) before painting the wards. Importing the
    app and the page loads only what painting the wards needs: scipy comes with the hot spots, on demand."""
    import subprocess
    import sys

    code = (
        "import sys; import dashboard.common, dashboard.views.explorer; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'matplotlib', 'altair', 'reportlab', "
        "'sklearn', 'statsmodels'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_a_rerun_writes_no_download_file_until_it_is_clicked(tmp_path, monkeypatch, bundled_store):
    """Issue 23: the Incidents CSV was written (and hashed into Streamlit's media store) on every rerun of the
    explorer; every download of the page is now made when clicked (a deferred file, no URL until then)."""
    at = _robbery_2021_q4(tmp_path, monkeypatch)
    buttons = {b.proto.label: b.proto for b in at.get("download_button")}
    assert "Incidents (CSV)" in buttons
    for label, proto in buttons.items():
        assert proto.deferred_file_id and not proto.url, label


def test_the_config_argument_is_parsed_once_per_argument_list(monkeypatch):
    """Issue 23: ``config_path`` (asked about 17 times a page run) built a new argument parser each time, and
    each looked up its message translations on disk: with ten sessions at once, ~160 file checks a run, each
    a wait for the interpreter lock. Parsed once per argument list; a new list is parsed again."""
    import argparse
    import sys

    made = []
    real = argparse.ArgumentParser.parse_known_args

    def counting(self, *args, **kwargs):
        made.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_known_args", counting)
    monkeypatch.delenv("CSP_HOTSPOTS_CONFIG", raising=False)
    monkeypatch.setattr(sys, "argv", ["app.py", "--config", "/srv/a/csp.toml"])
    assert [common.config_path() for _ in range(5)] == ["/srv/a/csp.toml"] * 5
    assert len(made) <= 1
    monkeypatch.setattr(sys, "argv", ["app.py", "--config", "/srv/b/csp.toml"])
    assert common.config_path() == "/srv/b/csp.toml"
    monkeypatch.setattr(sys, "argv", ["app.py"])
    monkeypatch.setenv("CSP_HOTSPOTS_CONFIG", "/srv/c/csp.toml")
    assert common.config_path() == "/srv/c/csp.toml"


def test_serve_turns_off_the_garbage_collection_after_every_run(monkeypatch, tmp_path):
    """Issue 23: Streamlit ran ``gc.collect(2)`` after every page run (86 ms holding the interpreter lock,
    profiled with ten sessions at once), while the other sessions' runs waited; ``serve`` turns it off."""
    from dashboard import cli, server

    seen = {}
    monkeypatch.setattr(server, "main", lambda argv, **kw: seen.setdefault("argv", argv))
    assert cli.main(["serve", "--config", str(write_config(tmp_path)), "--port", "8599"]) == 0
    argv = seen["argv"]
    assert argv[argv.index("--runner.postScriptGC") + 1] == "false"
    assert argv.index("--runner.postScriptGC") < argv.index("--")  # a Streamlit option, not the app's


def test_serve_opens_an_existing_store_without_importing_the_loaders(tmp_path, bundled_store):
    """Issue 23: ``serve`` imported the ingest pipeline (the loaders, the disclosure key's hashing: ~0.5 s on a
    busy machine) only to open an existing store before the server listened. It opens it as the pipeline would
    (checked and migrated: :meth:`geodata.store.Store.open`) without those imports; a missing store is still built."""
    import shutil
    import subprocess
    import sys

    cfg = write_config(tmp_path)
    shutil.copy(bundled_store.path, tmp_path / "s.duckdb")  # the store exists: serve only opens it
    code = (
        "import sys; from dashboard import cli, server; server.main = lambda argv, **kw: None; "
        f"assert cli.main(['serve', '--config', {str(cfg)!r}, '--port', '8599']) == 0; "
        "print(sorted(m for m in sys.modules if m.startswith('geodata.pipeline')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_server_skips_streamlits_repl_check():
    """Issue 23: Streamlit asks once per process, at the first element drawn, whether it runs in a Python REPL,
    by ``inspect.stack()`` reading the source of every frame (0.1-0.4 s of the first visitor's view). The
    server is never a REPL: it skips the check."""
    from streamlit import delta_generator, env_util

    from dashboard import server

    asked = []
    real = env_util.is_repl
    env_util.is_repl = lambda: asked.append(1) or real()
    try:
        delta_generator._use_warning_has_been_displayed = False
        server.no_repl_check()
        delta_generator._maybe_print_use_warning()
    finally:
        env_util.is_repl = real
    assert asked == []


def test_a_first_view_draws_the_wards_alone_then_the_hot_spots_into_the_same_map(tmp_path, monkeypatch, bundled_store):
    """Issue 23: a first view drew a quick ward map, computed the hot spots and drew a second map in its place in
    the same run, then the tables: in the browser the second map's frame replaced the first's before it painted,
    and the map waited for the tables' drawing. Now the first run ends with the ward map (key ``explorer_map``)
    and the run that follows computes the hot spots and updates that same map, tables below it."""
    from dashboard.views import explorer

    calls = []
    real = explorer.analyses

    def watched(*args):
        calls.append(mapview_seen())
        return real(*args)

    def mapview_seen():
        from dashboard.render import mapview

        return mapview.seen("explorer_map")

    monkeypatch.setattr(explorer, "analyses", watched)
    monkeypatch.setenv("CSP_HOTSPOTS_CONFIG", str(write_config(tmp_path)))
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=180)
    at.query_params.update({"from": "2025-04", "to": "2025-06"})
    at.run()
    open_page(at, "explorer").run()
    assert not at.exception, at.exception
    assert calls and all(calls)  # the hot spots only once the ward map (the same component) was drawn
    assert any(h.value == "Wards" for h in at.subheader)  # the whole page after the rerun


def test_the_servers_warm_up_leaves_the_default_pages_figures_to_a_visitors_page(tmp_path, monkeypatch, bundled_store):
    """Issue 23: the server's warm-up computed the Meeting page's figures (0.5-0.9 s of CPU, scipy included)
    while a visitor's Map explorer made its first view on the same two cores. Once a page run has started it
    leaves them to that page; before any page runs, it still fills them for the default page."""
    import shutil
    import socket

    from dashboard import server

    shutil.copy(bundled_store.path, tmp_path / "s.duckdb")
    monkeypatch.setenv("CSP_HOTSPOTS_CONFIG", str(write_config(tmp_path)))
    asked = []
    monkeypatch.setattr(common, "statuses", lambda *args: asked.append(args))
    with socket.socket() as listening:  # the warm-up waits for the server's port
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        common.page_run_started.set()
        try:
            server._import_pages(port)
            assert asked == []
        finally:
            common.page_run_started.clear()
        server._import_pages(port)
    assert len(asked) == 1
