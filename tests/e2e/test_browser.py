"""End to end in Debian's headless Chromium: start the app as the README does and use it."""

from __future__ import annotations

import json
import time
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Error as PlaywrightError

from geodata.bundled import ST_ALBANS as BUNDLE
from tests.conftest import write_config
from tests.e2e.conftest import ARTIFACTS, map_frame, serve, wait_for_meeting

pytestmark = pytest.mark.browser

HOSTILE = "<img src=x onerror=alert(1)>"


def _fills(frame) -> list[str]:
    return frame.eval_on_selector_all("path.ward-area", "els => els.map(e => e.getAttribute('fill'))")


def _map_fills(page) -> list[str] | None:
    """The ward fills of the map now drawn, or None while its frame is replaced."""
    from playwright.sync_api import Error

    try:
        return _fills(map_frame(page))
    except Error:  # the frame found was replaced (detached) before it could be read
        return None


def _choose_crime_type(page, name: str) -> None:
    """Choose ``name`` in the sidebar's crime-type list; its drop-down is opened again when a rerun still
    running (the hot spots, computed after the wards are painted) redraws the sidebar and closes it."""
    for _ in range(10):
        page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']").first.click()
        try:
            page.get_by_role("option", name=name, exact=True).click(timeout=5_000)
            return
        except PlaywrightError:
            page.keyboard.press("Escape")
            time.sleep(1)
    pytest.fail(f"the crime-type list never offered {name!r}")


def _metric(page) -> str:
    return page.locator("[data-testid='stMetricValue']").first.inner_text()


def test_map_explorer_offline_filter_changes_map_and_figures(server, page, bundled_store):
    latest = int(bundled_store.ward_summary(start="2025-04", end="2025-06")["incidents"].sum())
    total = f"{latest:,}"  # the explorer opens on the most recent comparable period: 2025-04..06
    page.goto(f"{server}/explorer")
    frame = map_frame(page)
    assert frame.locator("path.ward-area").count() == 20
    # the whole map script ran: the layer switch comes after the wards and clusters in it (a map with no
    # tiles and no maxZoom stopped it at the clusters); clusters are off at first (one colour code)
    assert frame.locator(".marker-cluster").count() == 0
    assert "Incidents at snap points (clustered)" in frame.locator(".leaflet-control-layers").text_content()
    assert _metric(page) == total
    before = _fills(frame)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "explorer.png"))

    page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']").first.click()
    page.get_by_role("option", name="Burglary", exact=True).click()
    page.keyboard.press("Escape")
    page.wait_for_function(
        "(() => { const e = document.querySelector(\"[data-testid='stMetricValue']\");"
        f" return e !== null && e.innerText !== '{total}'; }})()",
        timeout=30_000,
    )
    assert int(_metric(page).replace(",", "")) < latest
    after = None
    deadline = time.time() + 30
    while time.time() < deadline:
        after = _map_fills(page)
        if after is not None and after != before:
            break
        time.sleep(0.3)
    assert after is not None and after != before, "the ward colours did not follow the filter"
    assert "cat=Burglary" in page.url
    page.screenshot(path=str(ARTIFACTS / "explorer-burglary.png"))

    hosts = {urlparse(u).hostname for u in page.requests_seen if u.startswith(("http", "ws"))}
    assert hosts == {"127.0.0.1"}, hosts


def test_the_explorer_reads_at_a_glance_a_hot_cell_click_selects_its_ward_and_a_filter_keeps_the_zoom(server, page):
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{server}/explorer")
    frame = map_frame(page)
    frame.locator("path.class-shape").first.wait_for(timeout=60_000)
    # one colour code: the ward classes; hot spots as outlines (a light tint), clusters off; the layer
    # switch folded into its button; the legend lists only the Gi* classes drawn
    switch = frame.locator(".leaflet-control-layers")
    assert "leaflet-control-layers-expanded" not in (switch.get_attribute("class") or "")
    box = switch.bounding_box()
    assert box["width"] < 60 and box["height"] < 60, box
    assert frame.locator(".marker-cluster").count() == 0
    tints = frame.eval_on_selector_all(
        "path.class-shape", "els => els.map(e => Number(e.getAttribute('fill-opacity')))"
    )
    assert tints and max(tints) <= 0.2, tints
    legend = frame.locator(".csp-legend").inner_text()
    shown = frame.eval_on_selector_all("path.class-shape", "els => els.length")
    assert sum(label in legend for label in ("99%", "95%", "90%")) <= shown
    page.screenshot(path=str(ARTIFACTS / "explorer-1366x768.png"))
    # a click on a hot cell selects the ward it lies in
    point = frame.evaluate(
        """() => {
      for (let y = 40; y < innerHeight - 40; y += 6) for (let x = 40; x < innerWidth - 60; x += 6) {
        const el = document.elementFromPoint(x, y);
        if (el && el.classList.contains('class-shape')) {
          const id = areaAt(window.cspMap.containerPointToLatLng([x, y]));
          if (id) return [x, y, id];
        }
      }
      return null;
    }"""
    )
    assert point is not None, "no hot cell inside a ward on the map"
    frame.evaluate(  # a click event on the hot cell's shape at that point (as the ward test dispatches one)
        "([x, y]) => document.elementFromPoint(x, y).dispatchEvent("
        "new MouseEvent('click', {clientX: x, clientY: y, bubbles: true}))",
        point[:2],
    )
    page.wait_for_function(f"location.search.includes('ward={point[2]}')", timeout=30_000)
    # a filter change keeps the reader's zoom (it zoomed further out)
    frame = map_frame(page)
    frame.locator("path.focus-outline").wait_for(timeout=30_000)  # the chosen ward's map
    frame.evaluate("window.cspMap.setView([51.7520, -0.3380], 14.5, {animate: false}); window.cspMap.old = true")
    _choose_crime_type(page, "Burglary")
    page.keyboard.press("Escape")
    page.wait_for_function("location.search.includes('cat=Burglary')", timeout=30_000)
    deadline, zoom = time.time() + 30, None
    while time.time() < deadline:
        for f in page.frames:
            try:
                if f.evaluate("window.cspMap && !window.cspMap.old && document.body.dataset.mapState === 'complete'"):
                    zoom = f.evaluate("window.cspMap.getZoom()")
            except PlaywrightError:
                pass
        if zoom is not None:
            break
        time.sleep(0.3)
    assert zoom == 14.5, zoom


def test_roads_are_drawn_offline_under_the_city_centre_at_zoom_15_with_the_osm_attribution(server, page):
    page.goto(f"{server}/explorer")
    frame = map_frame(page)
    frame.wait_for_function("window.cspStreets !== undefined", timeout=30_000)
    assert frame.evaluate("window.cspStreets.drawn") == 0  # the whole district (zoom ~11.5): wards alone
    frame.evaluate("window.cspMap.setView([51.7520, -0.3380], 15, {animate: false})")  # St Albans city centre
    frame.wait_for_function("window.cspStreets.zoom === 15")
    assert frame.evaluate("window.cspStreets.drawn") > 1000  # every road class, rail and water
    assert "© OpenStreetMap contributors" in frame.locator(".leaflet-control-attribution").inner_text()
    opacity = frame.eval_on_selector("path.ward-area", "e => getComputedStyle(e).fillOpacity")
    assert float(opacity) <= 0.3  # the ward colour thinned so the streets read through it
    page.screenshot(path=str(ARTIFACTS / "explorer-city-centre-roads.png"))
    hosts = {urlparse(u).hostname for u in page.requests_seen if u.startswith(("http", "ws"))}
    assert hosts == {"127.0.0.1"}, hosts  # the roads come from the app itself


def test_shared_link_reopens_the_view(server, page):
    page.goto(f"{server}/explorer?from=2021-06&to=2021-06&cat=Robbery")
    map_frame(page)
    value = int(_metric(page).replace(",", ""))
    assert 0 < value < 50


def test_hostile_ward_names_render_as_text_and_never_run_as_templates(tmp_path, page):
    """Issue 18 (critical): folium re-rendered map text as Jinja, so a ward named {{7*7}} showed 49 and a
    crafted name ran code on the server. Names are planted with HTML, script and template payloads."""
    pwned = tmp_path / "pwned"
    payloads = [
        HOSTILE,
        "{{7*7}}",
        "{{ cycler.__init__.__globals__.os.mkdir(" + repr(str(pwned)) + ") }}",
        "{% for x in range(3) %}loop{% endfor %}",
    ]
    bundled_wards = BUNDLE / "boundaries_2022/st_albans_wards_2022_bgc_wgs84.geojson"  # the default config's
    wards = json.loads(bundled_wards.read_text())
    for feature, payload in zip(wards["features"], payloads):
        feature["properties"]["ward_name"] = payload
    (tmp_path / "wards.geojson").write_text(json.dumps(wards))
    cfg = write_config(tmp_path)
    assert str(bundled_wards) in cfg.read_text()  # the planted file really replaces the config's wards
    cfg.write_text(cfg.read_text().replace(str(bundled_wards), str(tmp_path / "wards.geojson")))
    proc, url = serve(cfg)
    try:
        page.goto(f"{url}/explorer")
        frame = map_frame(page, timeout=90)
        labels = frame.eval_on_selector_all(".ward-label", "els => els.map(e => e.textContent)")
        for payload in payloads:
            assert payload in labels  # drawn as the literal text
        tips = []
        for i in range(20):
            ward = frame.locator("path.ward-area").nth(i)
            ward.dispatch_event("mouseover")
            ward.dispatch_event("mousemove")
            tip = frame.locator(".leaflet-tooltip:not(.ward-label)").first
            tip.wait_for(timeout=5_000)
            tips.append(tip.inner_text())
            ward.dispatch_event("mouseout")
            tip.wait_for(state="detached", timeout=5_000)
        for payload in payloads:
            assert any(payload in t for t in tips), (payload, tips)
        assert not any("49" in t.split("\n")[0] for t in tips)
        assert not any("looplooploop" in t for t in tips + labels)
        assert frame.locator("img[src='x']").count() == 0
        assert page.locator("img[src='x']").count() == 0
        time.sleep(0.5)
        assert page.dialogs == []
        assert not pwned.exists()
        page.screenshot(path=str(ARTIFACTS / "xss-tooltip.png"))
        for path, drawn in (("wards", "svg.static-map"), ("trends", ".vega-embed svg")):  # tables, maps, charts
            page.goto(f"{url}/{path}")
            page.wait_for_selector(drawn, timeout=60_000)
            page.get_by_text("{{7*7}}").first.wait_for(state="attached", timeout=30_000)  # literal (table cells)
            assert page.locator("img[src='x']").count() == 0
        time.sleep(0.5)
        assert page.dialogs == [] and not pwned.exists()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


#: Per Vega chart on the page: per shape layer, "paths:distinct fills".
SHAPES = (
    "svgs => svgs.map(s => Array.from(s.querySelectorAll('g.mark-shape'), g => g.querySelectorAll('path').length"
    " + ':' + new Set(Array.from(g.querySelectorAll('path'), p => p.getAttribute('fill'))).size).join('/'))"
)


def test_trends_and_wards_draw_their_charts_and_maps(server, page):
    page.goto(f"{server}/trends")
    page.wait_for_function("document.querySelectorAll('.vega-embed svg').length === 4", timeout=60_000)
    emerging = page.eval_on_selector_all(".vega-embed svg", SHAPES)[-1]  # after the three charts
    outline, patterns = emerging.split("/")
    assert outline == "20:1" and int(patterns.split(":")[0]) > 0  # the 20 wards under the pattern cells
    assert page.get_by_text("show a pattern").count() == 1
    page.goto(f"{server}/wards")  # the static ward map: a colour per ward count and every ward named on it
    page.wait_for_selector("svg.static-map", timeout=60_000)
    shown = ".csp-ward-map .wide svg.static-map"  # the page's width's map (a phone's is the narrow one)
    areas = page.eval_on_selector_all(f"{shown} path.ward-area title", "els => els.map(e => e.textContent)")
    written = " ".join(page.eval_on_selector_all(f"{shown} text.map-label", "els => els.map(e => e.textContent)"))
    assert len(areas) == 20 and all(a.split(": ")[0].split(" ", 1)[0] in written for a in areas)
    assert page.locator("[data-testid='stException']").count() == 0


def test_meeting_page_shows_every_slide(server, page):
    """The Meeting page shows the kiosk's slides one under another (tests/e2e/test_meeting_room.py: the kiosk)."""
    page.goto(server)
    wait_for_meeting(page, timeout=60)
    labels = page.eval_on_selector_all("section.csp-slide", "els => els.map(e => e.getAttribute('aria-label'))")
    assert labels == [
        "Overview",
        "P1 Drug markets and exploitation",
        "P2 Fly-tipping",
        "P3 Local crimes of concern",
        "Not measured yet",
        "How to read these slides",
    ]
    assert page.get_by_text("Data to 2025-06").count() >= 1
    names = page.eval_on_selector_all("path.ward-area title", "els => els.map(e => e.textContent)")
    assert len(names) == 40 and len(set(n.split(":")[0] for n in names)) == 20  # P1 and P3 maps
    # ward names are written on the maps (readable across a room), not only in hover titles
    written = set(page.eval_on_selector_all("text.map-label", "els => els.map(e => e.textContent)"))
    assert {"St Peters", "Harpenden West", "London Colney"} <= written
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "meeting.png"), full_page=True)
    hosts = {urlparse(u).hostname for u in page.requests_seen if u.startswith(("http", "ws"))}
    assert hosts == {"127.0.0.1"}, hosts


def test_hostile_location_on_the_patrol_planner_renders_as_text(tmp_path, page):
    import csv
    import io
    import zipfile

    pwned = tmp_path / "pwned"
    template = "{{ cycler.__init__.__globals__.os.mkdir(" + repr(str(pwned)) + ") }}"
    source = BUNDLE / "police/hertfordshire-st-albans-street.zip"
    hostile_zip = tmp_path / "hostile.zip"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(hostile_zip, "w") as zout:
        for name in zin.namelist():
            rows = list(csv.reader(io.StringIO(zin.read(name).decode("utf-8"))))
            for row in rows[1:]:
                if row[6] == "On or near Parking Area":  # the busiest place of the city-centre zone
                    row[6] = f"On or near {HOSTILE}"
                elif row[6] == "On or near Supermarket":
                    row[6] = f"On or near {template}"
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerows(rows)
            zout.writestr(name, buf.getvalue())
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text().replace(str(source), str(hostile_zip)))
    proc, url = serve(cfg)
    try:
        page.goto(f"{url}/patrol")
        page.get_by_role("button", name="Make the patrol sheet (PDF and HTML)").click(timeout=90_000)  # when asked
        page.get_by_text("Preview the patrol sheet").click(timeout=90_000)
        page.get_by_text(f"{HOSTILE}", exact=True).first.wait_for(timeout=30_000)
        assert page.locator("img[src='x']").count() == 0
        time.sleep(0.5)
        assert page.dialogs == []
        page.goto(f"{url}/explorer")  # the locations are the map's marker tooltips there
        map_frame(page, timeout=90)
        assert not pwned.exists()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "xss-patrol-sheet.png"), full_page=True)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_roles_are_checked_on_the_server(tmp_path, page):
    from dashboard import accounts

    cfg = write_config(tmp_path)
    cfg.write_text(
        cfg.read_text().replace("[store]", f'[access]\naccounts = "{tmp_path / "accounts.json"}"\n\n[store]')
    )
    accounts.add(tmp_path / "accounts.json", "ana", "analyst", "correct horse battery")
    proc, url = serve(cfg)
    try:
        page.goto(f"{url}/patrol")  # by URL, not signed in: the page does not exist for this audience
        wait_for_meeting(page)
        page.screenshot(path=str(ARTIFACTS / "patrol-by-url-public.png"))
        dialog = page.get_by_role("dialog")
        assert "Page not found" in dialog.inner_text()  # Streamlit's own answer for an unregistered page
        page.keyboard.press("Escape")
        dialog.wait_for(state="detached", timeout=10_000)
        assert page.get_by_role("heading", name="Patrol planner").count() == 0
        assert page.locator("[data-testid='stSidebarNav'] a", has_text="Patrol planner").count() == 0
        page.locator("[data-testid='stSidebarNav'] a", has_text="Map explorer").click()
        map_frame(page, timeout=90)
        page.get_by_text("Downloads are for signed-in analysts.").wait_for(timeout=30_000)
        assert page.locator("[data-testid='stDownloadButton']").count() == 0

        page.get_by_role("textbox", name="User name").fill("ana")
        page.get_by_role("textbox", name="Password").fill("correct horse battery")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text("Signed in as ana (analyst).").wait_for(timeout=30_000)
        page.locator("[data-testid='stSidebarNav'] a", has_text="Map explorer").click()
        page.wait_for_function(
            # ward CSV, GeoJSON, GeoPackage, the map image and the incidents CSV
            "document.querySelectorAll(\"[data-testid='stDownloadButton']\").length === 5",
            timeout=60_000,
        )
        assert page.locator("[data-testid='stSidebarNav'] a", has_text="Patrol planner").count() == 1
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_clicking_a_ward_filters_to_it_and_zooms_and_streets_are_named_when_zoomed_in(server, page):
    page.goto(f"{server}/explorer?from=2021-01&to=2022-01")
    frame = map_frame(page)
    labels = frame.eval_on_selector_all(".ward-label", "els => els.map(e => e.textContent)")
    assert "St Peters" in labels and len(labels) == 20
    assert frame.locator(".street-label").count() == 0  # the whole district: no street names yet
    frame.evaluate("window.cspMap.setView([51.7520, -0.3380], 17)")  # St Albans city centre
    frame.locator(".street-label").first.wait_for(timeout=10_000)
    streets = frame.eval_on_selector_all(".street-label", "els => els.map(e => e.textContent)")
    assert streets and not any(s.startswith("On or near") for s in streets)
    page.screenshot(path=str(ARTIFACTS / "explorer-city-centre.png"))
    total = _metric(page)
    ward = frame.locator("path.ward-area").nth(0)
    ward.dispatch_event("click")
    page.wait_for_function(
        "(() => { const e = document.querySelector(\"[data-testid='stMetricValue']\");"
        f" return e !== null && e.innerText !== '{total}'; }})()",
        timeout=30_000,
    )
    assert "ward=E0" in page.url
    frame = None
    deadline = time.time() + 30
    while frame is None and time.time() < deadline:
        for candidate in page.frames:
            try:
                if candidate.locator("path.focus-outline").count() == 1:
                    frame = candidate
            except PlaywrightError:  # a frame detached while we looked
                pass
        time.sleep(0.3)
    assert frame is not None, "the chosen ward was not outlined"
    assert frame.evaluate("window.cspMap.getZoom()") > 12  # zoomed to it (the district fits at about 11)


def test_a_local_pmtiles_basemap_is_drawn_from_the_apps_own_url(tmp_path, page):
    """Issue 17: `[map] basemap` names a PMTiles file; the app serves it (byte ranges) and the map draws
    it with protomaps-leaflet; no request leaves the machine."""
    from tests.basemap_fixture import build

    pmtiles = build(tmp_path / "basemap.pmtiles")
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text().replace("[map]\n", f'[map]\nbasemap = "{pmtiles}"\nattribution = "Test basemap"\n'))
    proc, url = serve(cfg)
    try:
        page.goto(f"{url}/explorer")
        frame = map_frame(page, timeout=90)
        frame.wait_for_function("document.querySelectorAll('canvas.leaflet-tile').length > 0", timeout=30_000)
        painted = frame.evaluate("""() => {
            for (const c of document.querySelectorAll('canvas.leaflet-tile')) {
              const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
              for (let i = 0; i < d.length; i += 4 * 97) if (d[i + 3] > 0) return true;
            }
            return false; }""")
        assert painted, "the basemap tiles were not painted"
        asked = [u for u in page.requests_seen if "basemap.pmtiles" in u]
        assert asked and all(u.startswith(url + "/basemap.pmtiles") for u in asked)
        hosts = {urlparse(u).hostname for u in page.requests_seen if u.startswith(("http", "ws"))}
        assert hosts == {"127.0.0.1"}, hosts
        assert "Test basemap" in frame.locator(".leaflet-control-attribution").inner_text()
        page.screenshot(path=str(ARTIFACTS / "explorer-basemap.png"))
    finally:
        proc.terminate()
        proc.wait(timeout=20)
