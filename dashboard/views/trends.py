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


@st.cache_data(ttl=300, max_entries=32)
def _monthly(path, start, end, categories, wards) -> tuple[dict, dict]:
    """Charts (Vega-Lite specs) of incidents per month and of the top 6 crime types; months the
    store has not loaded are gaps (NaN), never zeros."""
    counts = common.store().counts(by=("month", "category"), start=start, end=end, categories=categories,
                                   wards=wards)
    counts["month"] = counts["month"].dt.strftime("%Y-%m")
    wide = counts.pivot_table(index="month", columns="category", values="incidents", fill_value=0)
    wide = wide.reindex(month_range(start, end))
    loaded = [m in set(common.months(path)) for m in wide.index]
    wide.loc[loaded] = wide.loc[loaded].fillna(0)
    total = wide.sum(axis=1, min_count=1).rename("incidents").reset_index().rename(columns={"index": "month"})
    bars = alt.Chart(total).mark_bar().encode(x=alt.X("month:O", title=None), y=alt.Y("incidents:Q", title="Incidents"),
                                              tooltip=["month", "incidents"]).properties(height=220)
    top = wide.sum().sort_values(ascending=False).index[:6].tolist()
    long = wide[top].reset_index(names="month").melt("month", var_name="category", value_name="incidents")
    lines = alt.Chart(long).mark_line(point=True).encode(
        x=alt.X("month:O", title=None), y=alt.Y("incidents:Q", title="Incidents"),
        color=alt.Color("category:N", title="Crime type (top 6)", scale=alt.Scale(scheme="tableau10")),
        tooltip=["month", "category", "incidents"]).properties(height=260)
    return bars.to_dict(), lines.to_dict()


@st.cache_data(ttl=300, max_entries=32)
def _compared(path, start, end, b_start, b_end, categories, wards) -> pd.DataFrame:
    """:func:`geodata.change.compare` of the crime types' counts in two periods."""
    store = common.store()
    now = store.counts(by=("category",), start=start, end=end, categories=categories, wards=wards)
    before = store.counts(by=("category",), start=b_start, end=b_end, categories=categories, wards=wards)
    return compare(now.set_index("category")["incidents"], before.set_index("category")["incidents"])


@st.cache_data(ttl=300, max_entries=32)
def _shares(path, start, end, categories) -> tuple[pd.DataFrame, dict]:
    """Each ward's incidents and share (%), and the bar chart of the shares (Vega-Lite spec)."""
    wards = common.store().ward_summary(start=start, end=end, categories=categories)
    total = int(wards["incidents"].sum())
    wards["share_pct"] = (100 * wards["incidents"] / total).round(1) if total else 0.0
    chart = alt.Chart(wards).mark_bar().encode(
        x=alt.X("share_pct:Q", title="Share of incidents (%)"), y=alt.Y("ward_name:N", sort="-x", title=None),
        tooltip=["ward_name", "incidents", "share_pct"]).properties(height=420)
    return wards, chart.to_dict()


@st.cache_data(ttl=300, max_entries=16)
def _emerging_map(path, start, end, categories, wards) -> tuple[int, int, float, list[str], dict]:
    """Cells with a pattern, all cells, the cell size, grid notes and the map (Vega-Lite spec)."""
    cells, grid, notes = _emerging(path, start, end, categories, wards)
    shown = cells[cells["pattern"] != "no pattern detected"]
    layers = []
    if len(shown):
        layers.append(alt.Chart(alt.Data(values=shown.__geo_interface__["features"])).mark_geoshape(stroke=None).encode(
            color=alt.Color("properties.pattern:N", title="Pattern",
                            scale=alt.Scale(domain=list(PATTERN_COLOURS), range=list(PATTERN_COLOURS.values()))),
            tooltip=[alt.Tooltip("properties.pattern:N", title="Pattern"),
                     alt.Tooltip("properties.count:Q", title="Incidents")]))
    return len(shown), len(cells), grid.cell_size, notes, common.area_map(layers, 520)


def _comparison(f, loaded: set[str], against: str):
    n = len(month_range(f["start"], f["end"]))
    lag = n if against == "previous" else 12
    b_start, b_end = shift(f["start"], -lag), shift(f["end"], -lag)
    missing = [m for m in month_range(b_start, b_end) if m not in loaded]
    return b_start, b_end, missing


def main() -> None:
    path = common.config_path()
    st.title("Trends")
    f = common.filters("trends")
    loaded = set(common.months(path))
    st.caption(f"police.uk street-level crime, {f['start']} to {f['end']}; months not loaded are gaps, never zeros.")

    bars, lines = _monthly(path, f["start"], f["end"], f["categories"], f["wards"])
    st.subheader("Incidents per month")
    st.vega_lite_chart(bars, width="stretch")
    st.vega_lite_chart(lines, width="stretch")

    st.subheader("Two periods compared")
    against = st.radio("Compare the chosen months with", ["previous", "year-earlier"], horizontal=True,
                       format_func={"previous": "the months before", "year-earlier": "the same months a year earlier"}.get,
                       key="trends_against")
    b_start, b_end, missing = _comparison(f, loaded, against)
    if missing:
        st.warning(f"No comparison: police.uk is not loaded for {', '.join(missing)} ({b_start} to {b_end}).")
    else:
        table = _compared(path, f["start"], f["end"], b_start, b_end, f["categories"], f["wards"])
        st.caption(f"{f['start']} to {f['end']} against {b_start} to {b_end}: Poisson E-test per row, "
                   "Benjamini-Hochberg adjusted.")
        common.table(table[["current", "previous", "pct_change", "p_adj", "change"]].rename(columns={
            "current": "Chosen months", "previous": "Compared with", "pct_change": "Change %", "p_adj": "p (adjusted)",
            "change": "Test"}).round({"Change %": 1, "p (adjusted)": 3}))

    st.subheader("Each ward's share")
    wards, chart = _shares(path, f["start"], f["end"], f["categories"])
    total_n = int(wards["incidents"].sum())
    left, right = st.columns([3, 2])
    left.vega_lite_chart(chart, width="stretch")
    if total_n:
        right.metric("Share in the busiest 20% of wards", f"{100 * concentration.top_share(wards['incidents'], 0.2):.0f}%")
        right.metric("Gini coefficient across wards", f"{concentration.gini(wards['incidents']):.2f}")

    st.subheader("Emerging hot spots")
    if len(month_range(f["start"], f["end"])) < 3:
        st.info("Choose at least 3 months for emerging hot spots.")
    else:
        n_shown, n_cells, cell_size, notes, spec = _emerging_map(path, f["start"], f["end"], f["categories"],
                                                                 f["wards"])
        for note in notes:
            st.warning(note)
        st.caption(f"{n_shown} of {n_cells:,} cells ({cell_size:g} m) show a pattern.")
        st.vega_lite_chart(spec, width="stretch")
        st.markdown(PATTERN_HELP)
    common.attributions()


main()
