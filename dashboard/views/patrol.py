"""Patrol planner (officers): the top patrol zones of an area (the district, or the chosen wards) for
chosen crime types and months, to take out.

Zones are touching significant Gi* hot cells grouped into patrol-sized parts (at most 0.5 km²,
at least 5 incidents; :mod:`geodata.methods.zones`), ranked by incidents or, when the priorities file
has harm weights, by harm. Each has its named streets, its police.uk place labels beside the
nearest street, counts and trend against the months before. The area is chosen first: zones are
found inside the chosen wards (:func:`geodata.analysis.rules.study_area`), not cut out of the
district's list. Take-away files: GeoJSON and GPX (outlines and each zone's busiest streets) at once,
and, when asked (a button: it takes seconds, so not on every view), a printable patrol sheet (PDF and
HTML; :mod:`dashboard.render.patrolsheet`: an overview of every zone, then a map per zone). The
sheet states the method's parameters.
"""

from __future__ import annotations

import shapely
import streamlit as st

from dashboard import access, common
from dashboard.attributions import SOURCES_CREDIT
from dashboard.markdown import inert
from dashboard.render import maps, mapview
from geodata import export
from geodata.analysis import Selection, actions, rules
from geodata.analysis.patrol_zones import NO_DAY_OR_TIME, in_wards, none_in_wards, patrol_zones
from loaders.months import Period

CELLS = {"auto": None, "100 m": 100.0, "250 m": 250.0, "500 m": 500.0}
CONFIDENCE = {2: "95% or more", 3: "99%", 1: "90% or more"}
WINDOWS = (1, 3, 6)


@st.cache_resource(max_entries=16)
def zones_for(path, end, window, categories, wards, top, min_class, cell, harm_key):
    """:func:`geodata.analysis.patrol_zones.patrol_zones` for a choice (cached on small keys)."""
    period = Period.ending(end, window)
    plist = common.priorities(harm_key) if harm_key else None
    return patrol_zones(
        common.store(),
        Selection.of(period.start, period.end, categories or (), wards or ()),
        top=top,
        min_class=min_class,
        cell_size=cell,
        harm_weights=plist.harm_weights if plist else None,
        harm_source=plist.harm_source if plist else None,
    )


@st.cache_data(max_entries=16)
def outputs(path, end, window, categories, wards, top, min_class, cell, harm_key) -> dict:
    """What the page shows and hands out for a choice, built once: the zone table, the map (an interactive map
    spec, :func:`zone_map`), GeoJSON and GPX."""
    found = zones_for(path, end, window, categories, wards, top, min_class, cell, harm_key)
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
    out = zones.assign(**{c: table[c] for c in ("streets", "places", "months", "top_categories")})
    store = common.store()
    area = area_name(store, wards)
    return {
        **shown,
        "table": table,
        "map": zone_map(path, zones, wards),
        "geojson": out.to_crs(4326).to_json(drop_id=True),
        "gpx": export.patrol_gpx(zones, f"Patrol zones: {area}, {period}", f"{NO_DAY_OR_TIME} {SOURCES_CREDIT}"),
    }


def zone_map(path, zones, wards) -> dict:
    """The page's map of the zones (:mod:`dashboard.render.maps`: zoomable, the offline streets under it from zoom
    12, every ward named): each zone filled and numbered "Z1" (numbers and names placed apart, led out where
    they would overlap), its tooltip its incidents, size and busiest streets; first fitted to the chosen wards
    (outlined), or to the zones with 300 m around them (a district map made them specks)."""
    m = common.ward_map(path)
    tips = [
        [
            ["Zone", f"Z{int(z['zone'])}"],
            ["Incidents", f"{int(z['incidents']):,}"],
            ["Area", f"{z['area_km2']:.2f} km²"],
            ["Streets", "; ".join(s for s, *_ in z["streets"][:3])],
        ]
        for _, z in zones.iterrows()
    ]
    maps.zones(m, zones["zone"].to_numpy(), zones.geometry.to_numpy(), tips)
    if wards:
        maps.focus(m, rules.outline(common.store(), wards))
    else:
        maps.focus(m, shapely.union_all(zones.geometry.to_numpy()), pad=300.0, outline=False)
    return m


def area_name(store, wards) -> str:
    """What the sheet and the GPX are titled for: the chosen wards' names (the district's in brackets), or the
    district's name."""
    if not wards:
        return store.config.area_name
    table = store.wards()
    names = dict(zip(table["ward_code"], table["ward_name"]))
    return f"{', '.join(names[w] for w in wards)} ({store.config.area_name})"


@st.cache_data(max_entries=4, show_spinner="Drawing a map per zone ...")
def sheets(path, end, window, categories, wards, top, min_class, cell, harm_key, rank) -> tuple[bytes, str]:
    """The patrol sheet of a choice as (PDF, HTML): built only when asked (a map per zone takes seconds)."""
    from dashboard.render import patrolsheet  # reportlab: imported when a sheet is asked for

    found = zones_for(path, end, window, categories, wards, top, min_class, cell, harm_key)
    store = common.store()
    sheet = patrolsheet.build(
        area_name(store, wards),
        found,
        store.areas("ward").to_geodataframe(),
        categories=categories,
        period=found.comparison.current.text,
        before=found.comparison.base.text,
        confidence=CONFIDENCE[min_class],
        ranked_by=rank,
        base_map=common.streets(),
    )
    return patrolsheet.to_pdf(sheet), patrolsheet.to_html(sheet)


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
    wards = store.wards()
    ward_names = dict(zip(wards["ward_code"], wards["ward_name"]))
    with st.sidebar:
        chosen = st.multiselect(
            "Area: wards (none = the whole district)", list(ward_names), format_func=ward_names.get, key="patrol_wards"
        )
        categories = st.multiselect("Crime types (none = all)", sorted(common.CRIME_TYPES), key="patrol_cats")
        opening = rules.opening_period(all_months, lengths=WINDOWS)
        latest_first = all_months[::-1]
        end = st.selectbox("Period ends", latest_first, index=latest_first.index(opening.period.end), key="patrol_end")
        window = st.selectbox(
            "Months",
            WINDOWS,
            index=WINDOWS.index(opening.period.length),
            format_func=lambda w: f"last {w}",
            key="patrol_window",
        )
        common.period_notes(all_months, opening, Period.ending(end, window).start, end)
        top = st.slider("Zones", 1, 10, 5, key="patrol_top")
        min_class = st.selectbox("Hot spot confidence", list(CONFIDENCE), format_func=CONFIDENCE.get, key="patrol_conf")
        cell = st.selectbox("Grid", list(CELLS), key="patrol_cell")
        rank = st.radio("Rank by", ["incidents", "harm"] if plist.harm_weights else ["incidents"], key="patrol_rank")
    harm_key = common.priorities_key() if rank == "harm" else None
    choice = (path, end, window, tuple(categories) or None, tuple(sorted(chosen)) or None, top, min_class, CELLS[cell])
    o = outputs(*choice, harm_key)
    if o["refused"]:
        st.warning(inert(" ".join(o["notes"])) + " Choose a later period.")
        return
    area = ", ".join(ward_names[w] for w in chosen) if chosen else "the whole district"
    st.caption(
        f"{', '.join(categories) or 'All crime types'}, {o['period']}, in {inert(area)}. Gi* on {o['cell_size']:g} m "
        f"cells, hot at {CONFIDENCE[min_class]} confidence, touching cells grouped; ranked by {rank}. "
        + ("Zones stand out from the chosen wards' own level, not the district's. " if chosen else "")
        + inert(" ".join(o["notes"]))
    )
    if o["empty"] and chosen:  # why, and the whole district's zones that lie in the chosen wards
        district = zones_for(path, end, window, choice[3], None, top, min_class, CELLS[cell], harm_key).zones
        inside = in_wards(store, district, chosen) if district is not None and not district.empty else None
        st.info(inert(none_in_wards(area, CONFIDENCE[min_class], inside, top)))
        return
    if o["empty"]:
        st.info("No significant hot spot for this choice: widen the period or the crime types.")
        return
    placed = actions.placed(store, partner=True)  # the partnership's placed actions, outlined (a copy: o is shared)
    mapview.show(
        {**o["map"], "layers": [*o["map"]["layers"], maps.action_outlines(placed)]} if placed else o["map"], 560
    )
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
                "p": "p (change test)",
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
        "Zones (GeoJSON)",
        o["geojson"],
        "patrol-zones.geojson",
        "application/geo+json",
        key="patrol_geojson",
        on_click="ignore",
    )
    cols[1].download_button(
        "Zones (GPX: outlines and the busiest streets)",
        o["gpx"],
        "patrol-zones.gpx",
        "application/gpx+xml",
        key="patrol_gpx",
        on_click="ignore",
    )
    asked = st.session_state.get("patrol_sheet_for") == (choice, harm_key, rank)
    if not asked and cols[2].button("Make the patrol sheet (PDF and HTML)", key="patrol_make_sheet"):
        st.session_state["patrol_sheet_for"] = (choice, harm_key, rank)
        asked = True
    if asked:
        pdf, page_html = sheets(*choice, harm_key, rank)
        cols[2].download_button(
            "Patrol sheet (PDF: an overview, then a map per zone)",
            pdf,
            "patrol-sheet.pdf",
            "application/pdf",
            key="patrol_sheet_pdf",
            on_click="ignore",
        )
        cols[3].download_button(
            "Patrol sheet (HTML)", page_html, "patrol-sheet.html", "text/html", key="patrol_sheet", on_click="ignore"
        )
        with st.expander("Preview the patrol sheet"):
            st.html(page_html)
    common.attributions()
