"""Map explorer (analysts): ward and LSOA choropleths, Gi* hot and cold spots, density and
snap points for the filtered incidents, with downloads of exactly what is shown.

Filters (months, crime types, wards) live in the URL, so a view can be shared.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
import streamlit as st

from dashboard import access, common
from dashboard.attributions import SOURCES_CREDIT
from dashboard.markdown import inert
from dashboard.render import maps, mapview
from dashboard.render.palette import GI_COLOURS
from geodata import export, places
from geodata.analysis import ANALYST, PUBLIC, Audience, Selection, actions, rules
from geodata.analysis.deprivation_for import deprivation_for
from geodata.analysis.incidents import incidents_table
from geodata.analysis.trends import monthly
from geodata.analysis.ward_table import detail_wards, lsoa_table, ward_table
from geodata.classes import classify

MEASURES = {"incidents": "Incidents", "rate": "Incidents per 1,000 residents"}
CELLS = {"auto": None, "100 m": 100.0, "250 m": 250.0, "500 m": 500.0}
HOT_CELLS, RISES = "Hot spot cells (90%+)", "Wards with a significant rise"
#: A figure's value on a first view, while the page's second run works it out (its place kept, no figure claimed).
WORKING = "…"


def wards_for(selection: Selection, audience: Audience, statistics: bool = True):
    """:func:`geodata.analysis.ward_table.ward_table` of a selection as ``audience`` may see it (cached per
    store, selection and audience, shared by sessions: :func:`dashboard.common.cached`); ``statistics`` false:
    the counts and rates alone, for the first map."""
    return common.cached(ward_table, selection, audience, "previous", None, None, statistics)


@st.cache_resource(max_entries=16)
def analyses(path, selection: Selection, cell):
    """:func:`geodata.analysis.hotspots_for.hotspots_for` of a selection, and the map's layer
    shapes and marker rows (cached on small keys, shared by sessions; read only)."""
    from geodata.analysis.hotspots_for import hotspots_for  # scipy: on demand, after the wards are painted

    found = hotspots_for(common._store(path), selection, cell)
    cells = found.cells
    density = classify(np.where(cells["density_km2"] > 0, cells["density_km2"], np.nan))
    geoms = cells.geometry.to_numpy()
    layers = {
        "gi": maps.class_shapes(geoms, cells["gi_class"].to_numpy(), GI_COLOURS),
        "density": maps.class_shapes(geoms, density.classes, range(len(density.colours))),
        "density_legend": density.legend,
        "snaps": maps.snap_rows(found.snaps) if len(found.snaps) else [],
        "streets": maps.street_rows(found.snaps) if len(found.snaps) else [],
    }
    return found, layers


@st.cache_resource(max_entries=32)
def ward_spec(path, selection: Selection, audience: Audience, measure) -> dict:
    """The map with the wards and their counts alone (no change test, no hot spot analysis): painted first on a
    session's first view."""
    table = wards_for(selection, audience, False).frame
    return {**build_map(common._store(path), path, table, None, measure, None), "partial": True}


@st.cache_resource(max_entries=32)
def map_spec(path, selection: Selection, audience: Audience, cell, measure) -> dict:
    """The map spec for a filter (:mod:`dashboard.render.maps`), built once and shared by sessions (read only)."""
    store = common._store(path)
    layers = analyses(path, selection, cell)[1]
    return build_map(
        store,
        path,
        wards_for(selection, audience).frame,
        common.cached(lsoa_table, selection),
        measure,
        layers,
        common.cached(deprivation_for, selection),
    )


def _with_actions(spec: dict) -> dict:
    """``spec`` with the placed actions this audience may see outlined (every one for signed-in partners,
    the public ones otherwise; :func:`geodata.analysis.actions.placed`): a copy, the cached spec is shared."""
    store = common.store()
    placed = actions.placed(store, access.can(store.config, "viewer"))
    return {**spec, "layers": [*spec["layers"], maps.action_outlines(placed)]} if placed else spec


def build_map(store, path, table, lsoa_table, measure, layers, deprived=None) -> dict:
    """The explorer's Leaflet map: ward choropleth of ``measure`` (the one colour code by default), LSOA
    counts (off), Gi* classes as outlines over it, density bands (off), snap-point clusters (off), layer
    switch and legend (of what is drawn). ``lsoa_table`` and ``layers`` None: the wards alone (the first map)."""
    areas = store.areas("ward")
    ward_shapes = common.area_shapes(path, "ward")
    order = pd.Index(table["ward_code"])
    pick = np.isin(areas.codes, order)
    geoms = [g for g, keep in zip(ward_shapes, pick) if keep]
    rows = table.set_index("ward_code").loc[areas.codes[pick]].reset_index()
    if "rate" in rows:  # the rate as the rate rule writes it (two significant figures)
        rows["rate_shown"] = rows["rate"].map(rules.rate_text)
    tips = {  # those of the table's columns the audience may see
        "ward_name": "Ward",
        "incidents": "Incidents",
        "rate_shown": "Per 1,000 residents",
        "within_20m_of_edge": common.WARD_COLUMNS["within_20m_of_edge"],
        "previous": "Previous period",
        "change": "Change",
    }
    m = common.ward_map(path)
    classed = maps.choropleth(
        m,
        geoms,
        rows,
        measure,
        f"Wards: {MEASURES[measure]}",
        MEASURES[measure],
        {c: label for c, label in tips.items() if c in rows},
        css_class="ward-area",
        id_column="ward_code",
    )
    if lsoa_table is not None:  # None: the first map, the wards alone (the LSOA layers are off at first)
        lsoa_points = common.label_points(path, "lsoa")
        maps.choropleth(
            m,
            common.area_shapes(path, "lsoa"),
            lsoa_table,
            "incidents",
            "LSOAs: incidents",
            "Incidents",
            {"name": "LSOA", "incidents": "Incidents"},
            show=False,
            css_class="lsoa-area",
            labels=[[a, b, n] for (a, b), n in zip(lsoa_points, lsoa_table["name"])],
        )
    if deprived is not None:  # IMD deciles on the LSOAs, darker = more deprived (off at first)
        by_code = deprived.lsoas.set_index("lsoa_code")
        shown = lsoa_table[["code", "name"]].join(by_code[["imd_decile", "imd_rank", "rate_per_1000"]], on="code")
        shown["deprivation"] = 11 - shown["imd_decile"]
        maps.choropleth(
            m,
            common.area_shapes(path, "lsoa"),
            shown,
            "deprivation",
            "LSOAs: deprivation (IMD 2019, darker = more deprived)",
            "Deprivation",
            {
                "name": "LSOA",
                "imd_decile": "IMD decile (1 = most deprived 10%)",
                "imd_rank": "IMD rank of 32,844",
                "rate_per_1000": "Incidents per 1,000 residents",
            },
            show=False,
            css_class="imd-area",
        )
    gi_items = []
    if layers is not None:  # None: the wards alone, painted first while the hot spots are computed
        from geodata.analysis.hotspots_for import CLASS_LABELS  # scipy, loaded with the hot spots

        maps.class_layers(m, layers["gi"], GI_COLOURS, CLASS_LABELS, "Gi* hot and cold spots", outline=True)
        # only what is drawn: the Gi* classes present in this view (the list had all six whatever was shown)
        gi_items = [(GI_COLOURS[k], CLASS_LABELS[k]) for k in (3, 2, 1, -1, -2, -3) if k in layers["gi"]]
        maps.class_layers(
            m,
            layers["density"],
            {i: c for i, (c, _) in enumerate(layers["density_legend"])},
            {i: f"{t} per km2" for i, (_, t) in enumerate(layers["density_legend"])},
            "Density (per km2)",
            show=False,
        )
        if layers["snaps"]:  # off at first: their bubbles were a second colour code over the wards
            maps.snap_clusters(m, layers["snaps"], show=False)
        if layers["streets"]:
            maps.streets(m, layers["streets"])
    if len(table) < len(areas.codes):  # a ward filter: zoom to the chosen wards and outline them
        maps.focus(m, rules.outline(store, table["ward_code"]))
    unit = MEASURES[measure].lower()
    maps.legend(m, f"Wards: {unit}", classed.legend + gi_items)
    return m


@st.cache_data(max_entries=8)
def map_image(path, selection: Selection, audience: Audience, cell, measure) -> bytes:
    """The view as a printed map (PNG, :func:`dashboard.render.staticmap.png`): the ward choropleth of
    ``measure`` with every ward named, the hot spot cells, and the busiest street names, for a report."""
    from dashboard.render import staticmap  # matplotlib: imported when an image is asked for, not on every start

    store = common._store(path)
    areas = store.areas("ward")
    table = wards_for(selection, audience).frame
    found = analyses(path, selection, cell)[0]
    codes, names, geoms = areas.codes, areas.names, areas.geometries
    area = store.config.area_name
    if selection.wards:  # the chosen wards alone: the others are not in the view (they had read "no data")
        pick = np.isin(codes, list(selection.wards))
        codes, names, geoms = np.asarray(codes)[pick], np.asarray(names)[pick], geoms[pick]
        area = ", ".join(names)
    snaps = found.snaps
    labels = (
        [
            staticmap.Label(float(r.x), float(r.y), places.bare(r.location_text), weight=float(r.count))
            for r in snaps.nlargest(60, "count").itertuples()
            if isinstance(r.location_text, str)
        ]
        if len(snaps)
        else []
    )
    title = (
        f"{area}: {MEASURES[measure].lower()}, {selection.period.text}; "
        f"{', '.join(selection.categories) or 'all crime types'}"
    )
    return staticmap.png(
        dpi=150,
        wards=(codes, names, shapely.simplify(geoms, 10)),
        values=dict(zip(table["ward_code"], table[measure])),
        legend_title=MEASURES[measure],
        cells=found.cells,
        labels=labels,
        title=title,
        caption=title,
        width=8 * 72,
        font=9,
        basemap=common.streets(),
        credit=SOURCES_CREDIT,
    )[0]


@st.cache_data(max_entries=16)
def export_files(path, selection: Selection, audience: Audience, cell) -> dict[str, bytes | str]:
    """The downloads for a filter, built once per filter (not on every rerun): ward figures as
    CSV and GeoJSON, and a GeoPackage with the wards and the significant Gi* cells."""
    import geopandas

    table = wards_for(selection, audience).frame
    cells = analyses(path, selection, cell)[0].cells
    areas = common._store(path).areas("ward")
    shapes = pd.Series(areas.geometries, index=areas.codes).loc[table["ward_code"]]
    ward_frame = geopandas.GeoDataFrame(table, geometry=list(shapes), crs="EPSG:27700")
    return {
        "csv": export.to_csv(table),
        "geojson": ward_frame.to_crs(4326).to_json(drop_id=True),
        "gpkg": export.geopackage_bytes({"wards": ward_frame, "hotspots": cells[cells["gi_class"] != 0]}),
    }


def downloads(path, selection: Selection, audience: Audience, cell) -> None:
    """Buttons for the files of :func:`export_files` (built when first clicked), named for the period
    and filters."""

    def files():
        return export_files(path, selection, audience, cell)

    cols = st.columns(3)
    cols[0].download_button(
        "Ward figures (CSV)", lambda: files()["csv"], common.download_name("wards", selection, "csv"), "text/csv"
    )
    cols[1].download_button(
        "Ward figures (GeoJSON)",
        lambda: files()["geojson"],
        common.download_name("wards", selection, "geojson"),
        "application/geo+json",
    )
    cols[2].download_button(
        "Wards and hot spot cells (GeoPackage, QGIS)",
        lambda: files()["gpkg"],
        common.download_name("wards-hotspots", selection, "gpkg"),
        "application/geopackage+sqlite3",
    )


def warm(params: dict[str, list[str]]) -> None:
    """Fill the caches of a first view on the default filters (the server's warm-up, outside any session, as the
    first visitor's browser asks for this page): the ward map painted first, for a new session's audience. A link
    with its own filters is left to its page run."""
    if set(params) - {"measure"}:
        return
    path = common.config_path()
    all_months = common.months(path)
    if not all_months:
        return
    measure = params.get("measure", ["incidents"])[0]
    period = rules.opening_period(all_months).period
    config = common.store().config
    audience = ANALYST if access.can(config, "analyst", access.role_before_sign_in(config)) else PUBLIC
    ward_spec(path, Selection.of(period.start, period.end), audience, measure if measure in MEASURES else "incidents")


def _take_map_click() -> None:
    """A ward clicked on the map becomes the ward filter (before the filter widgets are drawn)."""
    click = st.session_state.get("explorer_map")
    if isinstance(click, dict) and click.get("n") != st.session_state.get("_explorer_click"):
        st.session_state["_explorer_click"] = click.get("n")
        st.session_state["explorer_wards"] = [str(click.get("id"))]


def page() -> None:
    """The page: reads the URL, asks the analysis layer, renders.

    A session's first view is the wards' map alone, for the URL's filters (or the opening period), with no sidebar
    widget and no statistics: the widgets' front-end code took the browser 0.35-0.45 s before it drew the map, and
    the change test's imports and work slowed it on the same cores (issue 23). Once the browser has drawn the
    map, it reports it (the component's value changes) and the page runs again: that run draws the filters, makes
    the change test and the hot spots, adds them to the same map (updated in place) and draws the tables below it.
    """
    store = common.store()
    first = not mapview.seen("explorer_map")
    measure = st.query_params.get("measure", "incidents")
    measure = measure if measure in MEASURES else "incidents"
    if first:
        f = common.url_filters()
    else:
        _take_map_click()
        f = common.filters("explorer")
        with st.sidebar:
            measure = st.radio(
                "Colour wards by",
                list(MEASURES),
                format_func=MEASURES.get,
                key="explorer_measure",
                index=list(MEASURES).index(measure),
            )
            cell = st.selectbox("Hot spot grid", list(CELLS), key="explorer_cell")
        common.set_params({"measure": measure})
    selection = common.selection(f)
    path = common.config_path()
    audience = common.audience()
    cats = selection.categories

    st.title(f"Map explorer: {inert(store.config.area_name)}")
    # Places filled later in the run are containers, not st.empty(): an empty sent again blanks what the last run
    # showed there until it is filled (the map vanished for the second run's second of statistics; issue 23),
    # where a container keeps it, greyed, and its new content replaces it in place.
    # The map comes right under the figures, its method line and notes under it (a figure's caption): what the
    # second run adds then falls below the map, which stays where the first view drew it (above it, they moved it
    # down about 160 px as it was being looked at).
    a, b, c = st.columns(3)
    the_map = st.container()
    method = st.container()
    notes = st.container()
    grid_notes = st.container()
    if first:  # the same elements before the map as the whole page, so the map is updated in place, not redrawn
        a.metric("Incidents", wards_for(selection, audience, False).total)
        b.metric(HOT_CELLS, WORKING)  # their places kept: on a phone the figures stack above the map
        c.metric(RISES, WORKING)
        with the_map:
            mapview.show(_with_actions(ward_spec(path, selection, audience, measure)), height=620, key="explorer_map")
        return
    table = wards_for(selection, audience)
    a.metric("Incidents", table.total)
    rises = f"{table.rises}" if table.rises is not None else "no test" if table.comparison.possible else "no comparison"
    c.metric(RISES, rises)
    for note in table.notes:
        (notes.warning if note.startswith("No change figure") else notes.caption)(inert(note))
    found = analyses(path, selection, CELLS[cell])[0]
    with the_map:
        mapview.show(
            _with_actions(map_spec(path, selection, audience, CELLS[cell], measure)), height=620, key="explorer_map"
        )
    method.caption(
        f"police.uk street-level crime {selection.period.text}; "
        f"{', '.join(cats) if cats else 'all crime types'}; data to {common.months(path)[-1]}. "
        f"Gi* on {found.grid.shape} cells of {found.grid.cell_size:g} m, exact permutation p-values, "
        "Benjamini-Hochberg adjusted. " + " ".join(found.notes[-1:])
    )
    b.metric(HOT_CELLS, f"{int((found.cells['gi_class'] > 0).sum()):,}")
    for note in found.notes[:-1]:  # each says what would help (a larger cell, a longer period)
        grid_notes.info(f"Hot spot grid: {note}.")

    st.header("Wards")
    common.table(table.frame.rename(columns=common.WARD_COLUMNS), hide_index=True)
    analyst = audience.exact
    if analyst:  # the files are not even built for other audiences
        downloads(path, selection, audience, CELLS[cell])
        st.download_button(  # made when clicked (a printed map takes seconds)
            "Map image for a report (PNG)",
            lambda: map_image(path, selection, audience, CELLS[cell], measure),
            common.download_name("map", selection, "png"),
            "image/png",
        )
    else:
        st.caption("Downloads are for signed-in analysts.")

    deprived = common.cached(deprivation_for, selection)
    if deprived is not None and deprived.withheld:
        st.header("Crime and deprivation")
        st.caption(inert(deprived.withheld))
    elif deprived is not None:
        st.header("Crime and deprivation")
        st.caption(
            f"By decile of the {deprived.source}: incidents of this view per 1,000 residents of the "
            "area's LSOAs in each decile. Deciles with no LSOA here are not shown. "
            "The map's LSOA deprivation layer shows each LSOA."
        )
        common.table(
            deprived.deciles.rename(
                columns={
                    "imd_decile": "IMD decile",
                    "lsoas": "LSOAs",
                    "residents": "Residents",
                    "incidents": "Incidents",
                    "rate_per_1000": "Per 1,000 residents",
                }
            ).round({"Per 1,000 residents": 1}),
            hide_index=True,
        )

    incidents = common.cached(incidents_table, selection)
    st.header(f"Incidents ({len(incidents):,})")
    st.caption(
        "police.uk gives the month only (no day or time) and a nearby map point, not an address; "
        "the outcome is the latest police.uk published with the month's file."
    )
    common.table(incidents.head(1000), hide_index=True)
    if len(incidents) > 1000:
        st.caption(f"The newest 1,000 of {len(incidents):,} shown" + ("; the CSV holds all." if analyst else "."))
    if analyst:
        st.download_button(
            "Incidents (CSV)",
            lambda: export.to_csv(incidents),  # made when clicked, not on every rerun
            common.download_name("incidents", selection, "csv"),
            "text/csv",
        )

    one_ward(path, selection, f["ward_names"])
    common.attributions()


@st.fragment
def one_ward(path, selection: Selection, names: dict) -> None:
    """One ward's months by crime type: a Streamlit fragment, so choosing another ward reruns this
    section alone, not the map, the hot spots and the tables above it."""
    st.header("One ward")
    ward = st.selectbox("Ward", detail_wards(selection, list(names)), format_func=names.get, key="explorer_detail")
    one = Selection.of(selection.period.start, selection.period.end, selection.categories, [ward])
    detail = common.cached(monthly, one).T  # incidents by category (rows) and month (columns; not loaded: blank)
    if detail.empty or not detail.fillna(0).to_numpy().any():
        st.info(f"No incidents in {inert(names[ward])} for this selection.")
    else:
        common.table(detail)
