"""Patrol planner (officers): the top patrol zones for chosen crime types and months, to take out.

Zones are adjacent significant Gi* hot cells merged (:mod:`geodata.zones`), ranked
by incidents or, when the priorities file has harm weights, by harm. Each has its
streets (police.uk 'Location' names), counts and trend against the months before.
Take-away files: a printable patrol sheet (HTML, print from the browser), GeoJSON
and GPX of the zones. The sheet states the grid size and the thresholds.
"""
from __future__ import annotations

import html
from datetime import date

import altair as alt
import streamlit as st

from dashboard import access, common
from geodata import export
from geodata.status import months as month_range
from geodata.status import shift
from geodata.zones import patrol_zones
from loaders.coords import bng_to_wgs84
from loaders.police import CRIME_TYPES

CELLS = {"auto": None, "100 m": 100.0, "250 m": 250.0, "500 m": 500.0}
CONFIDENCE = {2: "95% or more", 3: "99%", 1: "90% or more"}
WINDOWS = (1, 3, 6)


@st.cache_resource(ttl=300, max_entries=16)
def zones_for(path, end, window, categories, top, min_class, cell, harm_key):
    """Zones and grid for a choice (cached on small keys)."""
    store = common.store()
    start = shift(end, -(window - 1))
    current = store.incidents(start=start, end=end, categories=categories)
    previous = store.incidents(start=shift(start, -window), end=shift(end, -window), categories=categories)
    weights = common.priorities(harm_key).harm_weights if harm_key else None
    return patrol_zones(current, previous, store.boundary(), cell_size=cell, top=top, min_class=min_class,
                        harm_weights=weights, window=window)


@st.cache_data(ttl=300, max_entries=16)
def outputs(path, end, window, categories, top, min_class, cell, harm_key, rank) -> dict:
    """What the page shows and hands out for a choice, built once: the zone table, the map
    (Vega-Lite spec), the patrol sheet, GeoJSON and GPX."""
    zones, grid = zones_for(path, end, window, categories, top, min_class, cell, harm_key)
    start = shift(end, -(window - 1))
    period = start if start == end else f"{start} to {end}"
    before = f"{shift(start, -window)} to {shift(end, -window)}" if window > 1 else shift(start, -1)
    shown = {"empty": zones.empty, "cell_size": grid.cell_size, "period": period, "before": before}
    if zones.empty:
        return shown
    table = zones.drop(columns="geometry").assign(
        streets=lambda z: z["streets"].map(lambda s: "; ".join(f"{a} ({n})" for a, n in s)),
        top_categories=lambda z: z["top_categories"].map(lambda s: "; ".join(f"{a} ({n})" for a, n in s)))
    fills = alt.Chart(alt.Data(values=zones[["zone", "incidents", "geometry"]].__geo_interface__["features"])
                      ).mark_geoshape(fill="#b2182b", fillOpacity=0.75, stroke="#000")
    labels = alt.Chart(zones[["zone", "centre_x", "centre_y"]]).mark_text(
        fontSize=16, fontWeight="bold", color="#000", dy=-12).encode(longitude="centre_x:Q", latitude="centre_y:Q",
                                                                      text="zone:Q")
    out = zones.assign(streets=table["streets"], top_categories=table["top_categories"])
    return {**shown, "table": table, "map": common.area_map([fills, labels], 480),
            "sheet": sheet_html(common.store().config.area_name, zones, grid, period, before, categories,
                                min_class, rank),
            "geojson": out.to_crs(4326).to_json(drop_id=True), "gpx": export.gpx_bytes(zones)}


def sheet_html(area: str, zones, grid, period: str, before: str, categories, min_class: int, ranked_by: str) -> str:
    """A print-friendly patrol sheet: one block per zone; grid size and thresholds stated."""
    esc = html.escape
    blocks = []
    for _, z in zones.iterrows():
        trend = "new" if z["previous"] == 0 else f"{z['change_pct']:+.0f}% on {int(z['previous'])}"
        lon, lat = bng_to_wgs84(z["centre_x"], z["centre_y"])
        blocks.append(
            f"<section><h2>Zone {int(z['zone'])}: {int(z['incidents'])} incidents</h2>"
            f"<p>Trend against {esc(before)}: {esc(trend)} (E-test p = {z['p']:.2f}). Area {z['area_km2']:.2f} km². "
            f"Centre {lat:.5f}, {lon:.5f} (BNG {z['centre_x']:.0f}, {z['centre_y']:.0f}).</p>"
            f"<p>Mostly: {esc(', '.join(f'{c} ({n})' for c, n in z['top_categories']))}</p>"
            "<table><tr><th>Street or place (police.uk)</th><th>Incidents</th></tr>"
            + "".join(f"<tr><td>{esc(s)}</td><td>{n}</td></tr>" for s, n in z["streets"]) + "</table></section>")
    cats = ", ".join(categories) if categories else "all crime types"
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Patrol sheet: {esc(area)}</title>'
            "<style>body{font-family:sans-serif;max-width:180mm;margin:auto}table{border-collapse:collapse}"
            "td,th{border:1px solid #999;padding:2px 8px;text-align:left}section{page-break-inside:avoid}</style>"
            f"</head><body><h1>Patrol sheet: {esc(area)}</h1>"
            f"<p>{esc(cats)}, {esc(period)}. Ranked by {esc(ranked_by)}. Produced {date.today():%d %B %Y}.</p>"
            f"<p>Method: Gi* hot spots on {esc(grid.shape)} cells of {grid.cell_size:g} m (adjacent cells), "
            f"Benjamini-Hochberg adjusted; cells hot at {esc(CONFIDENCE[min_class])} confidence merged where they "
            "touch. Locations are police.uk anonymised map points (street centre, public place or premises), not "
            "exact addresses.</p>" + ("".join(blocks) or "<p>No significant hot spot for this choice.</p>")
            + "</body></html>")


def main() -> None:
    store, path = common.store(), common.config_path()
    if not access.can(store.config, "analyst"):  # not registered for other audiences; checked again here
        st.error("The patrol planner is for signed-in analysts.")
        st.stop()
    plist = common.priorities(common.priorities_key())
    all_months = common.months(path)
    st.title("Patrol planner")
    if not all_months:
        st.warning("The store holds no police.uk data yet: load a month with `csp-hotspots ingest police`.")
        return
    with st.sidebar:
        categories = st.multiselect("Crime types (none = all)", sorted(CRIME_TYPES), key="patrol_cats")
        end = st.selectbox("Period ends", all_months[::-1], key="patrol_end")
        window = st.selectbox("Months", WINDOWS, index=1, format_func=lambda w: f"last {w}", key="patrol_window")
        top = st.slider("Zones", 1, 10, 5, key="patrol_top")
        min_class = st.selectbox("Hot spot confidence", list(CONFIDENCE), format_func=CONFIDENCE.get, key="patrol_conf")
        cell = st.selectbox("Grid", list(CELLS), key="patrol_cell")
        rank = st.radio("Rank by", ["incidents", "harm"] if plist.harm_weights else ["incidents"], key="patrol_rank")
    start = shift(end, -(window - 1))
    if any(m not in all_months for m in month_range(start, end)):
        st.warning(f"police.uk is not loaded for every month of {start} to {end}: choose a later period.")
        return
    harm_key = common.priorities_key() if rank == "harm" else None
    o = outputs(path, end, window, tuple(categories) or None, top, min_class, CELLS[cell], harm_key, rank)
    st.caption(f"{', '.join(categories) or 'All crime types'}, {o['period']}. Gi* on {o['cell_size']:g} m cells, "
               f"hot at {CONFIDENCE[min_class]} confidence, adjacent cells merged; ranked by {rank}.")
    if o["empty"]:
        st.info("No significant hot spot for this choice: widen the period or the crime types.")
        return
    st.vega_lite_chart(o["map"], width="stretch")
    common.table(o["table"][["zone", "incidents", "previous", "change_pct", "p", "area_km2", "top_categories", "streets"]]
                 .rename(columns={"zone": "Zone", "incidents": "Incidents", "previous": f"Before ({o['before']})",
                                  "change_pct": "Change %", "p": "p (E-test)", "area_km2": "Area km²",
                                  "top_categories": "Mostly", "streets": "Streets"}).round(2),
                 hide_index=True)
    cols = st.columns(3)
    cols[0].download_button("Patrol sheet (print from the browser)", o["sheet"], "patrol-sheet.html", "text/html",
                            key="patrol_sheet")
    cols[1].download_button("Zones (GeoJSON)", o["geojson"], "patrol-zones.geojson", "application/geo+json",
                            key="patrol_geojson")
    cols[2].download_button("Zones (GPX, phones and car terminals)", o["gpx"], "patrol-zones.gpx",
                            "application/gpx+xml", key="patrol_gpx")
    with st.expander("Preview the patrol sheet"):
        st.html(o["sheet"])
    common.attributions()


main()
