"""Wards page: incidents by ward, as a table and a ward map, with rates per 1,000 residents.

The map is a Vega-Lite geoshape drawn by Streamlit's own bundled front end: no
CDN, no map tiles. Ward outlines are simplified to 20 m before they are sent.
"""
from __future__ import annotations

import json

import altair as alt
import shapely
import streamlit as st

from dashboard import common
from loaders.police import CRIME_TYPES

@st.cache_resource
def _ward_shapes(path: str | None) -> list[dict]:
    areas = common.store().areas("ward")
    simple = shapely.simplify(areas.geometries, 20)
    return [{"type": "Feature", "properties": {"ward_code": c, "ward_name": n},
             "geometry": json.loads(shapely.to_geojson(g))} for c, n, g in zip(areas.codes, areas.names, simple)]


def main() -> None:
    """Draw the page."""
    store = common.store()
    cfg = store.config
    months = common.months(common.config_path())
    st.title(f"Wards: {cfg.area_name}")
    if not months:
        st.warning("The store holds no police.uk data yet: load a month with `csp-hotspots ingest police`.")
        return
    st.caption(f"police.uk street-level crime, data to {months[-1]}. {cfg.wards.label}.")
    start, end = st.select_slider("Months", options=months, value=(months[0], months[-1]), key="months")
    categories = st.multiselect("Crime types (none = all)", sorted(CRIME_TYPES), key="categories")
    table = store.ward_summary(start=start, end=end, categories=categories or None)
    pop = store.population("ward").set_index("code")["population"]
    table["per_1000"] = (1000 * table["incidents"] / table["ward_code"].map(pop)).round(1)

    st.metric("Incidents", f"{int(table['incidents'].sum()):,}")
    left, right = st.columns([3, 2])
    with left:
        values = table.set_index("ward_code")
        features = [{**f, "properties": {**f["properties"],
                                         "incidents": int(values.at[f["properties"]["ward_code"], "incidents"])}}
                    for f in _ward_shapes(common.config_path())]
        chart = (alt.Chart(alt.Data(values=features)).mark_geoshape(stroke="#333", strokeWidth=0.8)
                 .encode(color=alt.Color("properties.incidents:Q", title="Incidents",
                                         scale=alt.Scale(scheme="viridis", reverse=True)),
                         tooltip=[alt.Tooltip("properties.ward_name:N", title="Ward"),
                                  alt.Tooltip("properties.incidents:Q", title="Incidents")])
                 .project(type="identity", reflectY=True)
                 .properties(height=520, usermeta={"embedOptions": {"renderer": "svg"}}))
        st.altair_chart(chart, width="stretch")
    with right:
        st.dataframe(table.rename(columns={"ward_code": "Ward code", "ward_name": "Ward",
                                           "incidents": "Incidents", "per_1000": "Per 1,000 residents"}),
                     hide_index=True, height=520)
    common.attributions()


main()
