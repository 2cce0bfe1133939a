"""Wards page: incidents by ward, as a table and a ward map, with rates per 1,000 residents.

The map is a Vega-Lite geoshape drawn by Streamlit's own bundled front end: no
CDN, no map tiles. Ward outlines are simplified to 20 m before they are sent.
"""
from __future__ import annotations

import streamlit as st

from dashboard import common
from loaders.police import CRIME_TYPES

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
        st.altair_chart(common.ward_chart(table.set_index("ward_code")["incidents"], "Incidents", 520),
                        width="stretch")
    with right:
        st.dataframe(table.rename(columns={"ward_code": "Ward code", "ward_name": "Ward",
                                           "incidents": "Incidents", "per_1000": "Per 1,000 residents"}),
                     hide_index=True, height=520)
    common.attributions()


main()
