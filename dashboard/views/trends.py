"""Trends page: monthly series, a two-period comparison with significance, ward shares, emerging hot spots.

Filters (sidebar, in the URL as on the explorer): months, crime types, wards.
Months the store has not loaded are gaps in the series, never zeros.
"""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboard import common
from dashboard.markdown import inert
from dashboard.render.palette import GI_COLOURS
from geodata.analysis import Selection
from geodata.analysis.hotspots_for import emerging_for
from geodata.analysis.trends import category_change, monthly, ward_shares

#: Emerging patterns drawn, with colours (hot: reds, cold: blues); "no pattern detected" is not drawn.
PATTERN_COLOURS = {
    "new hot spot": "#67001f",
    "intensifying hot spot": GI_COLOURS[3],
    "persistent hot spot": GI_COLOURS[2],
    "consecutive hot spot": "#f4a582",
    "sporadic hot spot": GI_COLOURS[1],
    "oscillating hot spot": "#e7d4e8",
    "diminishing hot spot": "#bababa",
    "historical hot spot": "#878787",
    "new cold spot": "#053061",
    "intensifying cold spot": GI_COLOURS[-3],
    "persistent cold spot": GI_COLOURS[-2],
    "consecutive cold spot": "#92c5de",
    "sporadic cold spot": GI_COLOURS[-1],
    "oscillating cold spot": "#c2a5cf",
    "diminishing cold spot": "#e0e0e0",
    "historical cold spot": "#4d4d4d",
}
PATTERN_HELP = """**Emerging hot spot classes** (ArcGIS Pro rules; Gi* per loaded month, with the month before, at 90%
confidence by the exact permutation test, Benjamini-Hochberg adjusted; the hot spot rules hold: at least 30 incidents
in each month's test, cell size from the data), then a Mann-Kendall trend test of each cell's Gi* z-scores at 95%):
*new*: hot only in the last month; *consecutive*: a single run of hot months ending in the last month;
*intensifying* / *persistent* / *diminishing*: hot in at least 90% of months including the last, with a rising /
no / falling trend; *sporadic*: hot in the last month and on-and-off before, never cold; *oscillating*: the same
but cold in some month; *historical*: hot in at least 90% of months but not the last. Cold classes mirror these."""


def _monthly(store, selection: Selection) -> tuple[dict, dict]:
    """Charts (Vega-Lite specs) of incidents per month and of the top 6 crime types
    (:func:`geodata.analysis.trends.monthly`: months not loaded are gaps, never zeros; every month of the
    period stays on the axis, so a gap shows as an empty place, not as a jump from one month to a later one)."""
    wide = monthly(store, selection)
    total = wide.sum(axis=1, min_count=1).rename("incidents").reset_index().rename(columns={"index": "month"})
    every_month = alt.Scale(domain=[str(m) for m in total["month"]])
    bars = (
        alt.Chart(total)
        .mark_bar()
        .encode(
            x=alt.X("month:O", title=None, scale=every_month),
            y=alt.Y("incidents:Q", title="Incidents"),
            tooltip=["month", "incidents"],
        )
        .properties(height=220)
    )
    top = wide.sum().sort_values(ascending=False).index[:6].tolist()
    long = wide[top].reset_index(names="month").melt("month", var_name="category", value_name="incidents")
    lines = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("month:O", title=None, scale=every_month),
            y=alt.Y("incidents:Q", title="Incidents"),
            color=alt.Color(
                "category:N",
                title="Crime type (top 6)",
                scale=alt.Scale(scheme="tableau10"),
                legend=alt.Legend(labelLimit=400),  # whole names ("Criminal damage and arson")
            ),
            tooltip=["month", "category", "incidents"],
        )
        .properties(height=260)
    )
    return bars.to_dict(), lines.to_dict()


def _shares(store, selection: Selection) -> tuple:
    """:func:`geodata.analysis.trends.ward_shares`, and the bar chart of the shares (Vega-Lite spec)."""
    wards, figures = ward_shares(store, selection)
    chart = (
        alt.Chart(wards)
        .mark_bar()
        .encode(
            x=alt.X("share_pct:Q", title="Share of incidents (%)"),
            y=alt.Y("ward_name:N", sort="-x", title=None, axis=alt.Axis(labelOverlap=False, labelLimit=240)),
            tooltip=["ward_name", "incidents", "share_pct"],
        )
        .properties(height=max(420, 22 * len(wards)))  # room for every ward's name
    )
    return wards, figures, chart.to_dict()


def _emerging_map(store, selection: Selection) -> tuple[int, int, float, tuple, dict]:
    """Cells with a pattern, all cells, the cell size, grid notes and the map (Vega-Lite spec)."""
    cells, grid, notes = emerging_for(store, selection)
    shown = cells[cells["pattern"] != "no pattern detected"]
    layers = []
    if len(shown):
        layers.append(
            alt.Chart(alt.Data(values=shown.__geo_interface__["features"]))
            .mark_geoshape(stroke=None)
            .encode(
                color=alt.Color(
                    "properties.pattern:N",
                    title="Pattern",
                    scale=alt.Scale(domain=list(PATTERN_COLOURS), range=list(PATTERN_COLOURS.values())),
                ),
                tooltip=[
                    alt.Tooltip("properties.pattern:N", title="Pattern"),
                    alt.Tooltip("properties.count:Q", title="Incidents"),
                ],
            )
        )
    return (
        len(shown),
        len(cells),
        grid.cell_size,
        notes,
        common.area_map(layers, 520, "Map of the emerging hot spot patterns by grid cell, over the ward outlines"),
    )


def page() -> None:
    st.title("Trends")
    f = common.filters("trends")
    selection = common.selection(f)
    st.caption(f"police.uk street-level crime, {selection.period.text}; months not loaded are gaps, never zeros.")

    bars, lines = common.cached(_monthly, selection)
    st.header("Incidents per month")
    st.vega_lite_chart(bars, width="stretch")
    st.vega_lite_chart(lines, width="stretch")

    st.header("Two periods compared")
    against = st.radio(
        "Compare the chosen months with",
        ["previous", "year-earlier"],
        horizontal=True,
        format_func={"previous": "the months before", "year-earlier": "the same months a year earlier"}.get,
        key="trends_against",
    )
    change = common.cached(category_change, selection, against)
    if change.table is None:
        st.warning(inert(change.note))
    else:
        st.caption(inert(change.note))
        common.table(
            change.table[["current", "previous", "pct_change", "p_adj", "change"]]
            .rename(
                columns={
                    "current": "Chosen months",
                    "previous": "Compared with",
                    "pct_change": "Change %",
                    "p_adj": "p (adjusted)",
                    "change": "Test",
                }
            )
            .round({"Change %": 1})
        )

    st.header("Each ward's share")
    wards, figures, chart = common.cached(_shares, selection)
    left, right = st.columns([3, 2])
    left.vega_lite_chart(chart, width="stretch")
    if figures:
        right.metric("Share in the busiest 20% of wards", f"{100 * figures['top_20_share']:.0f}%")
        right.metric("Gini coefficient across wards", f"{figures['gini']:.2f}")

    st.header("Emerging hot spots")
    try:
        n_shown, n_cells, cell_size, notes, spec = common.cached(_emerging_map, selection)
    except ValueError as refused:  # fewer than 3 months chosen, or loaded
        st.info(f"No emerging hot spots: {refused}.")
    else:
        for note in notes:
            st.warning(inert(note))
        st.caption(f"{n_shown} of {n_cells:,} cells ({cell_size:g} m) show a pattern.")
        st.vega_lite_chart(spec, width="stretch")
        st.markdown(PATTERN_HELP)
    common.attributions()
