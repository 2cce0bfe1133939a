"""Wards page: incidents by ward, as a table and a ward map, with rates per 1,000 residents.

The map is a Vega-Lite geoshape drawn by Streamlit's own bundled front end: no
CDN, no map tiles. Ward outlines are simplified to 20 m before they are sent.
"""
from __future__ import annotations

import streamlit as st

from dashboard import common
from dashboard.markdown import inert
from loaders.police import CRIME_TYPES

def main() -> None:
    """Draw the page."""
    store = common.store()
    cfg = store.config
    months = common.months(common.config_path())
    st.title(f"Wards: {inert(cfg.area_name)}")
    if not months:
        st.warning("The store holds no police.uk data yet: load a month with `csp-hotspots ingest police`.")
        return
    st.caption(f"police.uk street-level crime, data to {months[-1]}. {inert(cfg.wards.label)}.")
    start, end = st.select_slider("Months", options=months, value=(months[0], months[-1]), key="months")
    categories = st.multiselect("Crime types (none = all)", sorted(CRIME_TYPES), key="categories")
    table = store.ward_summary(start=start, end=end, categories=categories or None)
    pop = store.population("ward").set_index("code")["population"]
    table["per_1000"] = (1000 * table["incidents"] / table["ward_code"].map(pop)).round(1)
    plist = common.priorities(common.priorities_key())
    if plist.harm_weights:  # harm: incidents weighted per crime type, as the priorities file says
        by_cat = store.counts(by=("ward_code", "category"), start=start, end=end, categories=categories or None)
        unweighted = sorted(set(by_cat["category"]) - set(plist.harm_weights))
        by_cat["harm"] = by_cat["category"].map(plist.harm_weights).fillna(0) * by_cat["incidents"]
        table["harm"] = table["ward_code"].map(by_cat.groupby("ward_code")["harm"].sum()).fillna(0).round(1)
        table = table.sort_values(["harm", "ward_code"], ascending=[False, True])
        st.caption(f"Harm: incidents weighted per crime type ({inert(plist.harm_source)}); wards ranked by harm."
                   + (f" No weight (counted as 0): {', '.join(unweighted)}." if unweighted else ""))

    st.metric("Incidents", f"{int(table['incidents'].sum()):,}")
    left, right = st.columns([3, 2])
    with left:
        st.vega_lite_chart(common.ward_map(table.set_index("ward_code")["incidents"], "Incidents", 520),
                           width="stretch")
    with right:
        common.table(table.rename(columns={"ward_code": "Ward code", "ward_name": "Ward",
                                           "incidents": "Incidents", "per_1000": "Per 1,000 residents",
                                           "harm": "Harm"}),
                     hide_index=True, height=520)
    common.attributions()


main()
