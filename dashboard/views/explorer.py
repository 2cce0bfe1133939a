"""Map explorer (analysts): ward and LSOA choropleths, Gi* hot and cold spots, density and
snap points for the filtered incidents, with downloads of exactly what is shown.

Filters (months, crime types, wards) live in the URL, so a view can be shared.
"""
from __future__ import annotations

import warnings

import folium
import numpy as np
import pandas as pd
import streamlit as st

from dashboard import access, common, maps, mapview
from dashboard.markdown import inert
from dashboard.palette import GI_COLOURS, SEQUENTIAL, classes
from geodata import export, grid as grids, kde as kde_mod
from geodata.change import compare
from geodata.gistar import CLASS_LABELS
from geodata.hotspots import hotspot_cells
from geodata.snap import snap_points
from geodata.store import parse_month

MEASURES = {"incidents": "Incidents", "rate": "Incidents per 1,000 residents"}
CELLS = {"auto": None, "100 m": 100.0, "250 m": 250.0, "500 m": 500.0}


def _previous(start: str, end: str) -> tuple[str, str]:
    """The period of the same length just before [start, end]."""
    s, e = parse_month(start), parse_month(end)
    n = (e.year - s.year) * 12 + e.month - s.month + 1
    first = pd.Period(s, "M") - n
    return str(first), str(first + n - 1)


@st.cache_data(ttl=300)
def ward_table(path, start, end, categories, wards) -> pd.DataFrame:
    """Counts, rate per 1,000 and change against the previous period of equal length, per ward."""
    store = common.store()
    now = store.ward_summary(start=start, end=end, categories=categories)
    p0, p1 = _previous(start, end)
    before = store.ward_summary(start=p0, end=p1, categories=categories)
    has_before = bool(store.counts(by=("source",), start=p0, end=p1)["incidents"].sum())
    pop = store.population("ward").set_index("code")["population"]
    now["population"] = now["ward_code"].map(pop)
    now["rate"] = (1000 * now["incidents"] / now["population"]).round(2)
    if has_before:
        change = compare(now.set_index("ward_code")["incidents"], before.set_index("ward_code")["incidents"])
        now["previous"] = now["ward_code"].map(change["previous"])
        now["change"] = now["ward_code"].map(change["change"])
        now["p_adj"] = now["ward_code"].map(change["p_adj"]).round(4)
    else:
        now["previous"], now["change"], now["p_adj"] = np.nan, f"no data for {p0} to {p1}", np.nan
    if wards:
        now = now[now["ward_code"].isin(wards)]
    return now.reset_index(drop=True)


@st.cache_resource
def map_bounds(path) -> tuple[float, float, float, float]:
    """The area's bounds in WGS84 degrees (once per store)."""
    return maps.wgs84_bounds(common._store(path).boundary().bounds)


@st.cache_resource
def area_shapes(path, level: str) -> list[dict]:
    """The ward or LSOA outlines, simplified 20 m, as WGS84 GeoJSON geometries (once per store)."""
    return maps.prepare(common._store(path).areas(level).geometries, simplify=20)


@st.cache_resource(ttl=300, max_entries=16)
def analyses(path, start, end, categories, wards, cell):
    """Gi* cells (with density), the grid, snap points, any grid warning, and the map's layer
    shapes and marker rows for a filter (cached on small keys, shared by sessions; read only)."""
    store = common.store()
    incidents = store.incidents(start=start, end=end, categories=categories, wards=wards)
    boundary = store.boundary()
    located = incidents.dropna(subset=["x", "y"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", grids.FineGridWarning)
        cells, grid = hotspot_cells(located, boundary, cell_size=cell)
    notes = [str(w.message) for w in caught if issubclass(w.category, grids.FineGridWarning)]
    density = np.zeros(len(grid))
    if len(located) >= 2:
        density, _ = kde_mod.kde(grid, located["x"].to_numpy(), located["y"].to_numpy())
    cells["density_km2"] = density
    snaps = snap_points(located) if len(located) else pd.DataFrame(columns=["x", "y", "count"])
    positive = density > 0
    dens_cls = np.full(len(cells), -1)
    if positive.any():
        dens_cls[positive], _ = classes(density[positive])
    geoms = cells.geometry.to_numpy()
    layers = {"gi": maps.class_shapes(geoms, cells["gi_class"].to_numpy(), GI_COLOURS),
              "density": maps.class_shapes(geoms, dens_cls, range(len(SEQUENTIAL))),
              "snaps": maps.snap_rows(snaps) if len(snaps) else []}
    return cells, grid, snaps, notes, layers


@st.cache_resource(ttl=300, max_entries=32)
def map_parts(path, start, end, categories, wards, cell, measure) -> dict[str, str]:
    """The map for a filter, rendered once (:func:`dashboard.mapview.parts`) and shared by sessions."""
    store = common.store()
    layers = analyses(path, start, end, categories, wards, cell)[4]
    return mapview.parts(build_map(store, path, ward_table(path, start, end, categories, wards),
                                   lsoa_table(path, start, end, categories, wards), measure, layers))


def build_map(store, path, table, lsoa_table, measure, layers) -> folium.Map:
    """The explorer's Leaflet map: ward choropleth of ``measure``, LSOA counts (off), Gi* classes,
    density bands (off), snap-point clusters, layer switch and legend."""
    areas = store.areas("ward")
    ward_shapes = area_shapes(path, "ward")
    order = pd.Index(table["ward_code"])
    pick = np.isin(areas.codes, order)
    geoms = [g for g, keep in zip(ward_shapes, pick) if keep]
    rows = table.set_index("ward_code").loc[areas.codes[pick]].reset_index()
    m = maps.base_map(map_bounds(path), store.config.map_tiles, store.config.map_attribution)
    maps.outline(m, ward_shapes, areas.names)
    breaks = maps.choropleth(m, geoms, rows, measure, f"Wards: {MEASURES[measure]}", MEASURES[measure], {
        "ward_name": "Ward", "incidents": "Incidents", "rate": "Per 1,000 residents",
        "previous": "Previous period", "change": "Change"}, css_class="ward-area")
    maps.choropleth(m, area_shapes(path, "lsoa"), lsoa_table,
                    "incidents", "LSOAs: incidents", "Incidents", {"name": "LSOA", "incidents": "Incidents"},
                    show=False, css_class="lsoa-area")
    maps.class_layers(m, layers["gi"], GI_COLOURS, CLASS_LABELS, "Gi* hot and cold spots")
    maps.class_layers(m, layers["density"], dict(enumerate(SEQUENTIAL)),
                      {i: f"density band {i + 1} of 5" for i in range(5)}, "Density (per km2)", show=False)
    if layers["snaps"]:
        maps.snap_clusters(m, layers["snaps"])
    folium.LayerControl(collapsed=False).add_to(m)
    unit = MEASURES[measure].lower()
    maps.legend(m, f"Wards: {unit}", [(c, f"{lo:,.1f} to {hi:,.1f}") for c, lo, hi in
                                       zip(SEQUENTIAL, breaks[:-1], breaks[1:])]
                + [(GI_COLOURS[k], CLASS_LABELS[k]) for k in (3, 2, 1, -1, -2, -3)])
    return maps.offline(m)


@st.cache_data(ttl=300)
def lsoa_table(path, start, end, categories, wards) -> pd.DataFrame:
    """Incidents per LSOA of the area (zeros included), in the stored LSOA order."""
    store = common.store()
    counts = store.counts(by=("lsoa_code",), start=start, end=end, categories=categories,
                          wards=wards).set_index("lsoa_code")["incidents"]
    lsoa = store.areas("lsoa")
    return pd.DataFrame({"code": lsoa.codes, "name": lsoa.names,
                         "incidents": [int(counts.get(c, 0)) for c in lsoa.codes]})


@st.cache_data(ttl=300, max_entries=64)
def ward_detail(path, start, end, categories, ward) -> pd.DataFrame:
    """Incidents in one ward by month and category, for the filter."""
    return common.store().counts(by=("month", "category"), start=start, end=end, categories=categories,
                                 wards=[ward])


@st.cache_data(ttl=300, max_entries=16)
def export_files(path, start, end, categories, wards, cell) -> dict[str, bytes | str]:
    """The downloads for a filter, built once per filter (not on every rerun): ward figures as
    CSV and GeoJSON, and a GeoPackage with the wards and the significant Gi* cells."""
    import geopandas

    table = ward_table(path, start, end, categories, wards)
    cells = analyses(path, start, end, categories, wards, cell)[0]
    areas = common.store().areas("ward")
    shapes = pd.Series(areas.geometries, index=areas.codes).loc[table["ward_code"]]
    ward_frame = geopandas.GeoDataFrame(table, geometry=list(shapes), crs="EPSG:27700")
    return {"csv": export.to_csv(table),
            "geojson": ward_frame.to_crs(4326).to_json(drop_id=True),
            "gpkg": export.geopackage_bytes({"wards": ward_frame, "hotspots": cells[cells["gi_class"] != 0]})}


def downloads(files: dict) -> None:
    """Buttons for the files of :func:`export_files`."""
    cols = st.columns(3)
    cols[0].download_button("Ward figures (CSV)", files["csv"], "wards.csv", "text/csv")
    cols[1].download_button("Ward figures (GeoJSON)", files["geojson"], "wards.geojson", "application/geo+json")
    cols[2].download_button("Wards and hot spot cells (GeoPackage, QGIS)", files["gpkg"], "csp-hotspots.gpkg",
                            "application/geopackage+sqlite3")


def main() -> None:
    store = common.store()
    f = common.filters("explorer")
    cats = tuple(f["categories"] or ())
    wards = tuple(f["wards"] or ())
    measure_default = st.query_params.get("measure", "incidents")
    with st.sidebar:
        measure = st.radio("Colour wards by", list(MEASURES), format_func=MEASURES.get, key="explorer_measure",
                           index=list(MEASURES).index(measure_default) if measure_default in MEASURES else 0)
        cell = st.selectbox("Hot spot grid", list(CELLS), key="explorer_cell")
    st.query_params["measure"] = measure
    path = common.config_path()
    table = ward_table(path, f["start"], f["end"], cats or None, wards or None)
    cells, grid, _, notes, _ = analyses(path, f["start"], f["end"], cats or None, wards or None, CELLS[cell])

    st.title(f"Map explorer: {inert(store.config.area_name)}")
    st.caption(f"police.uk street-level crime {f['start']} to {f['end']}; "
               f"{', '.join(cats) if cats else 'all crime types'}; data to {common.months(path)[-1]}. "
               f"Gi* on {grid.shape} cells of {grid.cell_size:g} m, Benjamini-Hochberg adjusted.")
    for note in notes:
        st.info(f"Hot spot grid: {note}. Choose a larger cell in the sidebar.")
    a, b, c = st.columns(3)
    a.metric("Incidents", f"{int(table['incidents'].sum()):,}")
    b.metric("Hot spot cells (90%+)", f"{int((cells['gi_class'] > 0).sum()):,}")
    c.metric("Wards with a significant rise", f"{int((table['change'] == 'significant rise').sum())}")

    mapview.show(map_parts(path, f["start"], f["end"], cats or None, wards or None, CELLS[cell], measure),
                 height=620, key="explorer_map")

    st.subheader("Wards")
    common.table(table.rename(columns={"ward_code": "Ward code", "ward_name": "Ward", "incidents": "Incidents",
                                       "rate": "Per 1,000 residents", "previous": "Previous period",
                                       "change": "Change", "p_adj": "p (adjusted)", "population": "Residents"}),
                 hide_index=True)
    if access.can(common.store().config, "analyst"):  # the files are not even built for other audiences
        downloads(export_files(path, f["start"], f["end"], cats or None, wards or None, CELLS[cell]))
    else:
        st.caption("Downloads are for signed-in analysts.")

    st.subheader("One ward")
    names = f["ward_names"]
    ward = st.selectbox("Ward", list(names), format_func=names.get, key="explorer_detail")
    detail = ward_detail(path, f["start"], f["end"], cats or None, ward)
    if detail.empty:
        st.info(f"No incidents in {names[ward]} for this selection.")
    else:
        pivot = detail.pivot_table(index="category", columns="month", values="incidents", fill_value=0)
        pivot.columns = [c.strftime("%Y-%m") for c in pivot.columns]
        common.table(pivot)
    common.attributions()


main()
