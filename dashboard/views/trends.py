"""Trends page: monthly series, a two-period comparison with significance, ward shares, emerging hot spots.

Filters (sidebar, in the URL as on the explorer): months, crime types, wards.
Months the store has not loaded are gaps in the series, never zeros.
"""
from __future__ import annotations

import warnings

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import common
from dashboard.palette import GI_COLOURS
from geodata import concentration
from geodata import grid as grids
from geodata.change import compare
from geodata.hotspots import emerging_cells
from geodata.status import months as month_range
from geodata.status import shift

#: Emerging patterns drawn, with colours (hot: reds, cold: blues); "no pattern detected" is not drawn.
PATTERN_COLOURS = {"new hot spot": "#67001f", "intensifying hot spot": GI_COLOURS[3],
                   "persistent hot spot": GI_COLOURS[2], "consecutive hot spot": "#f4a582",
                   "sporadic hot spot": GI_COLOURS[1], "oscillating hot spot": "#e7d4e8",
                   "diminishing hot spot": "#bababa", "historical hot spot": "#878787",
                   "new cold spot": "#053061", "intensifying cold spot": GI_COLOURS[-3],
                   "persistent cold spot": GI_COLOURS[-2], "consecutive cold spot": "#92c5de",
                   "sporadic cold spot": GI_COLOURS[-1], "oscillating cold spot": "#c2a5cf",
                   "diminishing cold spot": "#e0e0e0", "historical cold spot": "#4d4d4d"}
PATTERN_HELP = """**Emerging hot spot classes** (ArcGIS Pro rules; Gi* per month at 90% confidence, Benjamini-Hochberg
adjusted, then a Mann-Kendall trend test of each cell's Gi* z-scores at 95%):
*new*: hot only in the last month; *consecutive*: a single run of hot months ending in the last month;
*intensifying* / *persistent* / *diminishing*: hot in at least 90% of months including the last, with a rising /
no / falling trend; *sporadic*: hot in the last month and on-and-off before, never cold; *oscillating*: the same
but cold in some month; *historical*: hot in at least 90% of months but not the last. Cold classes mirror these."""


@st.cache_resource(ttl=300, max_entries=16)
def _emerging(path, start, end, categories, wards):
    store = common.store()
    incidents = store.incidents(start=start, end=end, categories=categories, wards=wards).dropna(subset=["x", "y"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", grids.FineGridWarning)
        cells, grid = emerging_cells(incidents, store.boundary(), month_range(start, end))
    return cells, grid, [str(w.message) for w in caught if issubclass(w.category, grids.FineGridWarning)]


def _series(store, f, loaded: set[str]) -> pd.DataFrame:
    counts = store.counts(by=("month", "category"), start=f["start"], end=f["end"], categories=f["categories"],
                          wards=f["wards"])
    counts["month"] = counts["month"].dt.strftime("%Y-%m")
    wide = counts.pivot_table(index="month", columns="category", values="incidents", fill_value=0)
    wide = wide.reindex(month_range(f["start"], f["end"]))
    wide.loc[[m in loaded for m in wide.index]] = wide.loc[[m in loaded for m in wide.index]].fillna(0)
    return wide  # NaN rows: months not loaded


def _comparison(store, f, loaded: set[str], against: str):
    n = len(month_range(f["start"], f["end"]))
    lag = n if against == "previous" else 12
    b_start, b_end = shift(f["start"], -lag), shift(f["end"], -lag)
    missing = [m for m in month_range(b_start, b_end) if m not in loaded]
    return b_start, b_end, missing


def main() -> None:
    store, path = common.store(), common.config_path()
    st.title("Trends")
    f = common.filters("trends")
    loaded = set(common.months(path))
    st.caption(f"police.uk street-level crime, {f['start']} to {f['end']}; months not loaded are gaps, never zeros.")

    wide = _series(store, f, loaded)
    total = wide.sum(axis=1, min_count=1).rename("incidents").reset_index().rename(columns={"index": "month"})
    st.subheader("Incidents per month")
    st.altair_chart(alt.Chart(total).mark_bar().encode(x=alt.X("month:O", title=None),
                                                       y=alt.Y("incidents:Q", title="Incidents"),
                                                       tooltip=["month", "incidents"]).properties(height=220),
                    width="stretch")
    top = wide.sum().sort_values(ascending=False).index[:6].tolist()
    long = wide[top].reset_index(names="month").melt("month", var_name="category", value_name="incidents")
    st.altair_chart(alt.Chart(long).mark_line(point=True).encode(
        x=alt.X("month:O", title=None), y=alt.Y("incidents:Q", title="Incidents"),
        color=alt.Color("category:N", title="Crime type (top 6)", scale=alt.Scale(scheme="tableau10")),
        tooltip=["month", "category", "incidents"]).properties(height=260), width="stretch")

    st.subheader("Two periods compared")
    against = st.radio("Compare the chosen months with", ["previous", "year-earlier"], horizontal=True,
                       format_func={"previous": "the months before", "year-earlier": "the same months a year earlier"}.get,
                       key="trends_against")
    b_start, b_end, missing = _comparison(store, f, loaded, against)
    if missing:
        st.warning(f"No comparison: police.uk is not loaded for {', '.join(missing)} ({b_start} to {b_end}).")
    else:
        now = store.counts(by=("category",), start=f["start"], end=f["end"], categories=f["categories"], wards=f["wards"])
        before = store.counts(by=("category",), start=b_start, end=b_end, categories=f["categories"], wards=f["wards"])
        table = compare(now.set_index("category")["incidents"], before.set_index("category")["incidents"])
        st.caption(f"{f['start']} to {f['end']} against {b_start} to {b_end}: Poisson E-test per row, "
                   "Benjamini-Hochberg adjusted.")
        st.dataframe(table[["current", "previous", "pct_change", "p_adj", "change"]].rename(columns={
            "current": "Chosen months", "previous": "Compared with", "pct_change": "Change %", "p_adj": "p (adjusted)",
            "change": "Test"}).round({"Change %": 1, "p (adjusted)": 3}), width="stretch", key="trends_compare")

    st.subheader("Each ward's share")
    wards = store.ward_summary(start=f["start"], end=f["end"], categories=f["categories"])
    total_n = int(wards["incidents"].sum())
    wards["share_pct"] = (100 * wards["incidents"] / total_n).round(1) if total_n else 0.0
    left, right = st.columns([3, 2])
    left.altair_chart(alt.Chart(wards).mark_bar().encode(
        x=alt.X("share_pct:Q", title="Share of incidents (%)"), y=alt.Y("ward_name:N", sort="-x", title=None),
        tooltip=["ward_name", "incidents", "share_pct"]).properties(height=420), width="stretch")
    if total_n:
        right.metric("Share in the busiest 20% of wards", f"{100 * concentration.top_share(wards['incidents'], 0.2):.0f}%")
        right.metric("Gini coefficient across wards", f"{concentration.gini(wards['incidents']):.2f}")

    st.subheader("Emerging hot spots")
    if len(month_range(f["start"], f["end"])) < 3:
        st.info("Choose at least 3 months for emerging hot spots.")
    else:
        cells, grid, notes = _emerging(path, f["start"], f["end"], f["categories"], f["wards"])
        for note in notes:
            st.warning(note)
        shown = cells[cells["pattern"] != "no pattern detected"]
        st.caption(f"{len(shown)} of {len(cells):,} cells ({grid.cell_size:g} m) show a pattern.")
        outline = alt.Chart(alt.Data(values=common.ward_shapes(path))).mark_geoshape(
            fill="#f4f4f4", stroke="#555", strokeWidth=0.6)
        layers = [outline]
        if len(shown):
            feats = shown.__geo_interface__["features"]
            layers.append(alt.Chart(alt.Data(values=feats)).mark_geoshape(stroke=None).encode(
                color=alt.Color("properties.pattern:N", title="Pattern",
                                scale=alt.Scale(domain=list(PATTERN_COLOURS), range=list(PATTERN_COLOURS.values()))),
                tooltip=[alt.Tooltip("properties.pattern:N", title="Pattern"),
                         alt.Tooltip("properties.count:Q", title="Incidents")]))
        st.altair_chart(alt.layer(*layers).project(type="identity", reflectY=True).properties(
            height=520, usermeta={"embedOptions": {"renderer": "svg"}}), width="stretch")
        st.markdown(PATTERN_HELP)
    common.attributions()


main()
