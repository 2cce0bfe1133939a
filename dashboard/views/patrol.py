"""Patrol planner (officers): the top patrol zones for chosen crime types and months, to take out.

Zones are touching significant Gi* hot cells grouped into patrol-sized parts (at most 0.5 km²,
at least 5 incidents; :mod:`geodata.methods.zones`), ranked by incidents or, when the priorities file
has harm weights, by harm. Each has its named streets, its police.uk place labels beside the
nearest street, counts and trend against the months before. Take-away files: a printable
patrol sheet with a map per zone (PDF, and HTML; :mod:`dashboard.render.patrolsheet`), GeoJSON and
GPX (outline and a waypoint per street). The sheet states the method's parameters.
"""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboard import access, common
from geodata import export
from geodata.analysis import Selection
from geodata.analysis.patrol_zones import NO_DAY_OR_TIME, patrol_zones
from geodata.months import Period

CELLS = {"auto": None, "100 m": 100.0, "250 m": 250.0, "500 m": 500.0}
CONFIDENCE = {2: "95% or more", 3: "99%", 1: "90% or more"}
WINDOWS = (1, 3, 6)


@st.cache_resource(ttl=300, max_entries=16)
def zones_for(path, end, window, categories, top, min_class, cell, harm_key):
    """:func:`geodata.analysis.patrol_zones.patrol_zones` for a choice (cached on small keys)."""
    period = Period.ending(end, window)
    plist = common.priorities(harm_key) if harm_key else None
    return patrol_zones(
        common.store(),
        Selection.of(period.start, period.end, categories or ()),
        top=top,
        min_class=min_class,
        cell_size=cell,
        harm_weights=plist.harm_weights if plist else None,
        harm_source=plist.harm_source if plist else None,
    )


@st.cache_data(ttl=300, max_entries=16)
def outputs(path, end, window, categories, top, min_class, cell, harm_key, rank) -> dict:
    """What the page shows and hands out for a choice, built once: the zone table, the map
    (Vega-Lite spec), the patrol sheet, GeoJSON and GPX."""
    found = zones_for(path, end, window, categories, top, min_class, cell, harm_key)
    period, before = found.comparison.current.text, found.comparison.base.text
    shown = {"refused": found.refused, "notes": found.notes, "period": period, "before": before}
    if found.refused:
        return shown
    zones, grid = found.zones, found.grid
    shown.update(empty=zones.empty, cell_size=grid.cell_size)
    if zones.empty:
        return shown
    table = zones.drop(columns="geometry").assign(
        streets=lambda z: z["streets"].map(lambda s: "; ".join(f"{a} ({n})" for a, n, *_ in s)),
        places=lambda z: z["places"].map(
            lambda s: "; ".join(
                f"{a} ({n}) near {near or '?'}" + (" [flagged: " + flag + "]" if flag else "")
                for a, n, _, _, near, _, flag in s
            )
        ),
        months=lambda z: z["months"].map(lambda s: ", ".join(f"{m}: {n}" for m, n in s)),
        top_categories=lambda z: z["top_categories"].map(lambda s: "; ".join(f"{a} ({n})" for a, n in s)),
    )
    fills = alt.Chart(
        alt.Data(values=zones[["zone", "incidents", "geometry"]].__geo_interface__["features"])
    ).mark_geoshape(fill="#b2182b", fillOpacity=0.75, stroke="#000")
    labels = (
        alt.Chart(zones[["zone", "centre_x", "centre_y"]])
        .mark_text(fontSize=16, fontWeight="bold", color="#000", dy=-12)
        .encode(longitude="centre_x:Q", latitude="centre_y:Q", text="zone:Q")
    )
    out = zones.assign(**{c: table[c] for c in ("streets", "places", "months", "top_categories")})
    from dashboard.render import patrolsheet  # matplotlib: imported by the page that prints, not at every start

    store = common.store()
    sheet = patrolsheet.build(
        store.config.area_name,
        found,
        store.areas("ward").to_geodataframe(),
        categories=categories,
        period=period,
        before=before,
        confidence=CONFIDENCE[min_class],
        ranked_by=rank,
        base_map=common.streets(),
    )
    return {
        **shown,
        "table": table,
        "map": common.area_map([fills, labels], 480),
        "sheet_html": patrolsheet.to_html(sheet),
        "sheet_pdf": patrolsheet.to_pdf(sheet),
        "geojson": out.to_crs(4326).to_json(drop_id=True),
        "gpx": export.patrol_gpx(zones, f"Patrol zones: {store.config.area_name}, {period}", NO_DAY_OR_TIME),
    }


def page() -> None:
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
        categories = st.multiselect("Crime types (none = all)", sorted(common.CRIME_TYPES), key="patrol_cats")
        end = st.selectbox("Period ends", all_months[::-1], key="patrol_end")
        window = st.selectbox("Months", WINDOWS, index=1, format_func=lambda w: f"last {w}", key="patrol_window")
        top = st.slider("Zones", 1, 10, 5, key="patrol_top")
        min_class = st.selectbox("Hot spot confidence", list(CONFIDENCE), format_func=CONFIDENCE.get, key="patrol_conf")
        cell = st.selectbox("Grid", list(CELLS), key="patrol_cell")
        rank = st.radio("Rank by", ["incidents", "harm"] if plist.harm_weights else ["incidents"], key="patrol_rank")
    harm_key = common.priorities_key() if rank == "harm" else None
    o = outputs(path, end, window, tuple(categories) or None, top, min_class, CELLS[cell], harm_key, rank)
    if o["refused"]:
        st.warning(" ".join(o["notes"]) + " Choose a later period.")
        return
    st.caption(
        f"{', '.join(categories) or 'All crime types'}, {o['period']}. Gi* on {o['cell_size']:g} m cells, "
        f"hot at {CONFIDENCE[min_class]} confidence, touching cells grouped; ranked by {rank}. " + " ".join(o["notes"])
    )
    if o["empty"]:
        st.info("No significant hot spot for this choice: widen the period or the crime types.")
        return
    st.vega_lite_chart(o["map"], width="stretch")
    common.table(
        o["table"][
            [
                "zone",
                "incidents",
                "previous",
                "change_pct",
                "p",
                "area_km2",
                "months",
                "top_categories",
                "streets",
                "places",
            ]
        ]
        .rename(
            columns={
                "zone": "Zone",
                "incidents": "Incidents",
                "previous": f"Before ({o['before']})",
                "change_pct": "Change %",
                "p": "p (E-test)",
                "area_km2": "Area km²",
                "months": "By month",
                "top_categories": "Mostly",
                "streets": "Streets",
                "places": "Places (not streets)",
            }
        )
        .round({"Change %": 0, "Area km²": 2}),  # p as the one rule writes it (common.table), never rounded here
        hide_index=True,
    )
    cols = st.columns(4)
    cols[0].download_button(
        "Patrol sheet (PDF, a map per zone)",
        o["sheet_pdf"],
        "patrol-sheet.pdf",
        "application/pdf",
        key="patrol_sheet_pdf",
    )
    cols[1].download_button(
        "Patrol sheet (HTML)", o["sheet_html"], "patrol-sheet.html", "text/html", key="patrol_sheet"
    )
    cols[2].download_button(
        "Zones (GeoJSON)", o["geojson"], "patrol-zones.geojson", "application/geo+json", key="patrol_geojson"
    )
    cols[3].download_button(
        "Zones (GPX: outline and a waypoint per street)",
        o["gpx"],
        "patrol-zones.gpx",
        "application/gpx+xml",
        key="patrol_gpx",
    )
    with st.expander("Preview the patrol sheet"):
        st.html(o["sheet_html"])
    common.attributions()
