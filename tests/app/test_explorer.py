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
    # anti-social behaviour has no outcome: blank, never "None"
    asb = incidents_table(bundled_store, Selection.of("2021-06", "2021-12", ["Anti-social behaviour"]))
    assert len(asb) > 0 and set(asb[COLUMNS["outcome"]]) == {""}


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
    assert any(h.value.startswith("Incidents (") for h in at.header)
    names = [b.proto.label for b in at.get("download_button")]
    assert "Map image for a report (PNG)" in names and "Incidents (CSV)" in names  # local mode: an analyst


def test_the_map_image_of_chosen_wards_draws_them_alone_titled_and_credited(tmp_path, monkeypatch):
    """A reviewer's find: the PNG of one ward labelled every other ward "no data", was titled for the district
    and credited OpenStreetMap alone."""
    from dashboard.attributions import SOURCES_CREDIT
    from dashboard.render import staticmap
    from dashboard.views import explorer

    path = str(write_config(tmp_path))
    monkeypatch.setenv("CSP_HOTSPOTS_CONFIG", path)
    drawn = []
    real = staticmap.png

    def png(**kw):
        made = real(**kw)
        drawn.append(made[1])
        return made

    monkeypatch.setattr(staticmap, "png", png)
    st_peters = "E05013964"
    explorer.map_image(path, Selection.of("2025-01", "2025-06", (), [st_peters]), ANALYST, None, "incidents")
    texts = [s[3] for s in drawn[0].shapes if s[0] == "text"]
    assert not any("no data" in t for t in texts), texts
    assert any(t.startswith("St Peters: incidents, 2025-01 to 2025-06") for t in texts)  # the caption names it
    assert SOURCES_CREDIT in texts and staticmap.OSM in texts
    assert sum(t.startswith("St Peters") for t in texts) >= 2 and not any(t.startswith("Verulam") for t in texts)


def test_deprivation_for_the_district_and_a_ward(bundled_store):
    from geodata.analysis.deprivation_for import WARD_FILTER, deprivation_for

    sel = Selection.of("2025-01", "2025-06")
    found = deprivation_for(bundled_store, sel)
    assert found is not None and found.deciles["lsoas"].sum() == 87
    in_imd = bundled_store.counts(by=("lsoa_code",), **sel.filters())
    in_imd = in_imd[in_imd["lsoa_code"].isin(found.lsoas["lsoa_code"])]["incidents"].sum()
    assert found.deciles["incidents"].sum() == in_imd > 0
    ward = bundled_store.wards()["ward_code"].iloc[0]
    assert found.withheld is None and found.lsoas["rate_per_1000"].notna().any()
    # a ward filter: no rate (the LSOAs do not nest in wards; the district's residents had been kept)
    one = deprivation_for(bundled_store, Selection.of("2025-01", "2025-06", (), [ward]))
    assert one.withheld == WARD_FILTER and one.deciles.empty and one.lsoas["rate_per_1000"].isna().all()
    assert one.lsoas["imd_decile"].equals(found.lsoas["imd_decile"])  # each LSOA's decile still given


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
    first = explorer.ward_spec(path, sel, ANALYST, "rate")  # the first view's map: counts and rates alone
    whole = explorer.map_spec(path, sel, ANALYST, None, "rate")
    for spec in (first, whole):
        layer = next(lay for lay in spec["layers"] if lay.get("className") == "ward-area")
        tips = {dict(f["properties"]["tip"])["Ward"]: dict(f["properties"]["tip"]) for f in layer["data"]["features"]}
        assert set(tips) == set(table.index)
        for ward, tip in tips.items():
            assert tip["Per 1,000 residents"] == rules.rate_text(table.at[ward, "rate"])
            if spec is whole:
                assert tip["Within 20 m of edge"] == f"{table.at[ward, 'within_20m_of_edge']:,}"
            else:
                assert "Within 20 m of edge" not in tip and "Change" not in tip
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


def test_serve_listens_before_it_opens_an_existing_store(tmp_path, bundled_store):
    """Issue 23: ``serve`` opened an existing store (pandas, pyarrow, DuckDB: 0.5 s) before the server listened,
    while the browser waited for the port. It now starts the server at once; the warm-up checks the store as
    soon as the port answers (:func:`dashboard.server._import_pages`); a missing store is still built first."""
    import shutil
    import subprocess
    import sys

    cfg = write_config(tmp_path)
    shutil.copy(bundled_store.path, tmp_path / "s.duckdb")  # the store exists: serve starts the server at once
    code = (
        "import sys; from dashboard import cli, server; server.main = lambda argv, **kw: None; "
        f"assert cli.main(['serve', '--config', {str(cfg)!r}, '--port', '8599']) == 0; "
        "print(sorted(m for m in sys.modules if m.startswith(('geodata.pipeline', 'geodata.store', 'duckdb'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.slow  # starts `csp-hotspots serve`
def test_serve_stops_with_one_line_when_the_store_cannot_be_used(tmp_path):
    """The store is checked once the server listens: a file that is not a store ends the server with the command
    line's one-line error (exit status 2), as before it listened."""
    import subprocess
    import sys

    from tests.conftest import free_port

    cfg = write_config(tmp_path)
    (tmp_path / "s.duckdb").write_bytes(b"not a store" * 100)
    proc = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "serve", "--config", str(cfg), "--port", str(free_port())],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("csp-hotspots: error:")]
    assert len(errors) == 1 and "not a CSP Hotspots store" in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr


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


def test_a_first_view_draws_the_wards_alone_then_the_statistics_once_the_browser_has_drawn_them(
    tmp_path, monkeypatch, bundled_store
):
    """Issue 23: a first view drew a quick ward map, then at once ran again to compute the change test and the hot
    spots, whose work slowed the browser's drawing of that map on the same cores. Now the first run ends with the
    wards and their counts alone (key ``explorer_map``, no change test made: no scipy), and the page runs again
    when the browser reports the map drawn (the component's value): that run computes the rest, updates the same
    map and draws the tables below it."""
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
    at.query_params.update({"from": "2025-01", "to": "2025-03", "cat": "Burglary", "measure": "rate"})
    at.run()
    open_page(at, "explorer", drawn=False).run()
    assert not at.exception, at.exception
    assert calls == []  # no hot spots yet
    # the count alone: the other figures' places are kept (a phone stacks them above the map), with no figure yet
    assert [(m.label, m.value) for m in at.metric][1:] == [
        ("Hot spot cells (90%+)", explorer.WORKING),
        ("Wards with a significant rise", explorer.WORKING),
    ]
    first_count = at.metric[0].value
    assert not any(h.value == "Wards" for h in at.header)  # nor the tables
    # nor any filter widget: their front-end code took the browser 0.35-0.45 s before it drew the map
    assert not (at.sidebar.select_slider or at.sidebar.multiselect or at.sidebar.radio or at.sidebar.selectbox)
    burglary = bundled_store.ward_summary(start="2025-01", end="2025-03", categories=["Burglary"])
    assert first_count == f"{int(burglary['incidents'].sum()):,}"  # the link's filters, read without widgets
    at.session_state["explorer_map"] = {"drawn": 1}  # what the browser's map sends once it has drawn the wards
    at.run()
    assert not at.exception, at.exception
    assert calls and all(calls)  # the hot spots only once the ward map (the same component) was drawn
    assert "Wards with a significant rise" in [m.label for m in at.metric]
    assert explorer.WORKING not in [m.value for m in at.metric]
    assert any(h.value == "Wards" for h in at.header)  # the whole page after the rerun
    assert at.sidebar.select_slider[0].value == ("2025-01", "2025-03")  # the widgets show what the first view used
    assert at.sidebar.multiselect[0].value == ["Burglary"] and at.sidebar.radio[0].value == "rate"
    assert at.metric[0].value == first_count


def test_the_quick_ward_table_has_the_counts_without_the_statistics(bundled_store):
    """The first map's table (``statistics=False``): the same counts, population and rates as the whole table, and
    neither the change test nor the count near the edges (what the first view does not wait for)."""
    from geodata.analysis.ward_table import ward_table

    selection = Selection.of("2025-04", "2025-06")
    whole = ward_table(bundled_store, selection, ANALYST)
    quick = ward_table(bundled_store, selection, ANALYST, statistics=False)
    assert {"previous", "change", "p_adj", "within_20m_of_edge"} <= set(whole.frame)
    assert not {"previous", "change", "p_adj", "within_20m_of_edge"} & set(quick.frame)
    shared = ["ward_code", "incidents", "population", "rate"]
    assert quick.frame[shared].equals(whole.frame[shared]) and quick.total == whole.total
    assert quick.rises is None and whole.rises is not None


def _listening_port(stack):
    import socket

    listening = stack.enter_context(socket.socket())  # the warm-up waits for the server's port
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    return listening.getsockname()[1]


def test_the_servers_warm_up_fills_the_first_visitors_page_or_else_the_default_one(
    tmp_path, monkeypatch, bundled_store
):
    """Issue 23: the server's warm-up computed the Meeting page's figures (0.5-0.9 s of CPU, scipy included)
    while a visitor's Map explorer made its first view on the same two cores. It now fills the caches of the page
    the first browser asked for (its HTML request comes about a second before that page's first run); with no
    visitor, the default page's, unless a page run has started."""
    import asyncio
    import contextlib
    import shutil

    from dashboard import server
    from dashboard.views import explorer, meeting

    shutil.copy(bundled_store.path, tmp_path / "s.duckdb")
    monkeypatch.setenv("CSP_HOTSPOTS_CONFIG", str(write_config(tmp_path)))
    warmed = []
    monkeypatch.setattr(meeting, "warm", lambda params: warmed.append(("meeting", params)))
    monkeypatch.setattr(explorer, "warm", lambda params: warmed.append(("explorer", params)))
    with contextlib.ExitStack() as stack:
        port = _listening_port(stack)
        common.page_run_started.set()
        try:
            server._import_pages(port)  # no visitor, a page runs already: nothing
            assert warmed == []
        finally:
            common.page_run_started.clear()
        server._import_pages(port)  # no visitor and no page run: the default page
        assert warmed == [("meeting", {})]
        visit = server.FirstVisit()

        async def app(scope, receive, send):
            pass

        guarded = server.guard(app, None, visit=visit)  # the server's guard tells it of every request
        for path, query in [("/static/js/index.js", b""), ("/explorer/", b"measure=rate"), ("/", b"")]:
            scope = {"type": "http", "path": path, "query_string": query, "method": "GET", "headers": []}
            asyncio.run(guarded(scope, None, None))  # the front end's files are not pages; the first page is kept
        warmed.clear()
        server._import_pages(port, visit=visit)
        assert warmed == [("explorer", {"measure": ["rate"]})]  # that page alone, with its link's parameters


def test_a_first_view_after_the_warm_up_builds_no_map_of_its_own(tmp_path, monkeypatch, bundled_store):
    """The key the warm-up fills is the one the page's first run reads: after ``explorer.warm({})``, a new
    session's first view of the explorer (the default filters, local mode) draws the cached map (no map built)."""
    import shutil

    from dashboard.views import explorer

    shutil.copy(bundled_store.path, tmp_path / "s.duckdb")
    monkeypatch.setenv("CSP_HOTSPOTS_CONFIG", str(write_config(tmp_path)))
    common._seen.clear()  # a new server: no page has run on another store (whose load generation would clear all)
    explorer.warm({})
    built = []
    real = explorer.build_map
    monkeypatch.setattr(explorer, "build_map", lambda *args: built.append(1) or real(*args))
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=180)
    open_page(at, "explorer", drawn=False).run()
    assert not at.exception, at.exception
    assert built == []  # the first map came from the warm-up's cache
    at.session_state["explorer_map"] = {"drawn": 1}
    at.run()
    assert built == [1]  # the whole map is the page's own (a control: the counter sees a map being built)


def test_the_warm_up_fills_the_caches_the_first_views_read(tmp_path, monkeypatch, bundled_store):
    """``warm`` of the explorer and the Meeting page fill exactly what a new session's first view asks for (its
    default filters, the audience of a session nobody has signed in to); a link with its own filters is left to
    its page run."""
    import shutil

    from dashboard.views import explorer, meeting

    shutil.copy(bundled_store.path, tmp_path / "s.duckdb")
    monkeypatch.setenv("CSP_HOTSPOTS_CONFIG", str(write_config(tmp_path)))
    specs, slides = [], []
    monkeypatch.setattr(explorer, "ward_spec", lambda *args: specs.append(args))
    monkeypatch.setattr(common, "meeting_slides", lambda *args: slides.append(args))
    path = common.config_path()
    explorer.warm({"from": ["2025-01"]})
    meeting.warm({"to": ["2025-03"]})
    assert specs == slides == []
    explorer.warm({"measure": ["rate"]})
    opening = rules.opening_period(common.months(path)).period
    assert specs == [(path, Selection.of(opening.start, opening.end), ANALYST, "rate")]  # local mode: an admin
    meeting.warm({})
    meeting.warm({"mode": ["meeting"]})
    key = common.priorities_key()
    last = slides[0][2]
    assert slides == [(path, key, last, None, None, True), (path, key, None, None, None, False)]  # kiosk: public
    assert last == common.months(path)[-1]
