"""Fly-tipping page (priority 2): DEFRA context, FixMyStreet's share, council records by ward, and
the near-repeat (Knox) analysis of dated council records."""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from dashboard import access, common
from dashboard.markdown import inert
from geodata import sources
from geodata.analysis import council_records as records
from geodata.analysis import flytipping_context as context
from geodata.analysis.council_records import DISTANCE_BANDS, TIME_BANDS
from geodata.analysis.status import SYNTHETIC_LABEL

COUNCIL = {s: sources.get(s).label for s in sources.ids(kind=sources.POINTS, sensitive=True)}


def _number(v, decimals: int) -> str:
    return "not available" if pd.isna(v) else f"{v:,.{decimals}f}"


def _na(table: pd.DataFrame) -> pd.DataFrame:
    """Numbers as text, one format a column (whole numbers, or 2 places when any value has a
    fraction: "75,878.58" beside "32,642.00", not "32,642"), and a missing value as 'not
    available': never blank, never zero."""
    table = table.copy()
    for col in table.columns:
        if pd.api.types.is_numeric_dtype(table[col]):
            known = table[col].dropna().astype("float64")
            decimals = 0 if (known == known.round()).all() else 2
            table[col] = table[col].map(lambda v, d=decimals: _number(v, d))
    return table


def _defra(store, area_code: str) -> dict[str, pd.DataFrame]:
    """The DEFRA context tables of the area (cached by :func:`dashboard.common.cached`)."""
    return {
        "series": context.series(store, area_code),
        "neighbours": context.neighbours(store),
        "actions": context.series(store, area_code, context.ACTIONS, "actions"),
        "share": context.fixmystreet_share(store, area_code),
    }


def defra_section(area_code: str | None) -> None:
    st.header("DEFRA: fly-tipping incidents dealt with by the council")
    tables = common.cached(_defra, area_code) if area_code else {"series": pd.DataFrame()}
    series = tables["series"]
    if series.empty:
        st.info(
            "No DEFRA fly-tipping statistics are loaded for this area (`csp-hotspots ingest defra FILE`; "
            "the area config's [area] code must be the district's ONS code)."
        )
        return
    left, right = st.columns(2)
    with left:
        st.caption("Incidents per financial year (April to March), since 2012-13")
        st.bar_chart(series.set_index("year")[context.TOTAL], height=260)
    with right:
        table = tables["neighbours"]
        st.caption(
            f"{table.attrs.get('year', '')}: incidents per 1,000 residents (DEFRA's rate, published "
            "from 2019-20 only), the districts in the table and England; rank 1 = highest rate"
        )
        common.table(
            _na(
                table.drop(columns=["area_code"]).rename(
                    columns={"area_name": "Area", "incidents": "Incidents", "per_1000": "Per 1,000", "rank": "Rank"}
                )
            ),
            hide_index=True,
            height=260,
        )
    actions = tables["actions"]
    costs = series.set_index("year")[[context.COST]]
    st.caption("Clearance costs and enforcement actions by year (DEFRA; 'not available' where DEFRA published ':')")
    common.table(_na(costs.join(actions.set_index("year")).reset_index()), hide_index=True)
    share = tables["share"]
    if not share.empty:
        latest = share.iloc[-1]
        st.caption(
            f"FixMyStreet sees a small share of fly-tipping: {int(latest['fixmystreet_reports'])} reports in "
            f"{latest['year']} against {int(latest['defra_incidents'])} incidents the council dealt with "
            f"({latest['share']:.0%}). Years wholly covered by the loaded FixMyStreet months:"
        )
        common.table(
            share.assign(share=(100 * share["share"]).round(1)).rename(
                columns={
                    "year": "Year",
                    "fixmystreet_reports": "FixMyStreet reports",
                    "defra_incidents": "DEFRA incidents",
                    "share": "Share (%)",
                }
            ),
            hide_index=True,
        )


def council_section(loaded: list[str], exact: bool) -> None:
    st.header("Council fly-tipping records by ward")
    source = sources.COUNCIL_FLYTIPPING.id
    if source not in loaded:
        st.info(
            "No council fly-tipping records are loaded. Load an export with its mapping file: "
            "`csp-hotspots ingest flytipping FILE --mapping MAP.toml` (geodata/bundled/st_albans/council/ has "
            "mapping files for two council shapes; `csp-hotspots synth` writes SYNTHETIC examples)."
        )
        return
    figures = common.cached(records.council_figures, source, common.audience())
    n_synthetic = figures["synthetic"]
    if n_synthetic:  # the public learns only that there are some (no count: disclosure control)
        st.warning(
            f"{SYNTHETIC_LABEL}: {f'{n_synthetic:,} of ' if exact else 'some of '}these records are synthetic "
            "(generated for testing and the demo)."
        )
    wards = figures["wards"]
    ward_map = f'<div class="csp-ward-map">{common.ward_svg(wards, "Records")}</div>'  # svgmap escapes all text
    if not exact:
        st.caption(records.DISCLOSURE_NOTE + " Waste types and size bands are for signed-in analysts.")
        st.markdown(ward_map, unsafe_allow_html=True)
        st.caption(f"Records in all loaded months (rounded as above): {int(wards.sum()):,}.")
        return
    by_kind, cost = figures["by_kind"], figures["cost"]
    sizes = pd.DataFrame(
        {
            "Size band": cost.index.astype(object).where(cost.index.notna(), "not recorded"),
            "Records": cost["size"].to_numpy(),
            "Estimated cost (£)": cost["sum"].where(cost["count"] > 0).to_numpy(),
        }
    )
    by_kind = by_kind.rename(columns={"category": "Waste type (DEFRA)", "incidents": "Records"})
    left, right = st.columns([2, 3])
    with left:
        st.markdown(ward_map, unsafe_allow_html=True)
    with right:
        common.table(by_kind, hide_index=True, height=300)
    st.caption(
        "Records by size band, with the estimated clearance cost (DEFRA standard unit costs; tipper lorry "
        "and significant loads are costed at actual cost by DEFRA, so they have no estimate)"
    )
    common.table(sizes, hide_index=True)


def _edges(label: str, default: tuple[float, ...], key: str) -> tuple[float, ...] | None:
    text = st.text_input(label, ", ".join(f"{v:g}" for v in default), key=key)
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        st.error(f"{label}: give numbers separated by commas, e.g. {', '.join(f'{v:g}' for v in default)}")
        return None


def knox_section(loaded: list[str], exact: bool) -> None:
    st.header("Near repeats (Knox test)")
    if not exact:
        st.caption("The near-repeat analysis of council records is for signed-in analysts.")
        return
    st.caption(
        "Do incidents close in space follow each other closely in time, more than chance? Pairs of "
        "dated records are counted by distance and time apart and compared with the same records "
        "with their dates shuffled (Monte Carlo). police.uk gives only the month, too coarse for this: "
        "the test runs on council records, which carry the day."
    )
    dated = [s for s in COUNCIL if s in loaded]
    if not dated:
        st.info("No dated council records are loaded.")
        return
    cols = st.columns([2, 2, 2, 1])
    source = cols[0].selectbox("Records", dated, format_func=COUNCIL.get, key="knox_source")
    with cols[1]:
        distance = _edges("Distance bands (m)", DISTANCE_BANDS, "knox_d")
    with cols[2]:
        time = _edges("Time bands (days)", TIME_BANDS, "knox_t")
    permutations = cols[3].number_input("Permutations", 99, 9999, 999, step=100, key="knox_n")
    if distance is None or time is None:
        return
    try:
        with st.spinner("Permuting dates ..."):
            table = common.cached(records.near_repeat_test, source, distance, time, int(permutations))
    except ValueError as exc:
        st.error(inert(str(exc)))
        return
    if common.store().synthetic_count(source=source):
        st.warning(f"{SYNTHETIC_LABEL}: the records tested are synthetic.")
    view = table.assign(expected=table["expected"].round(1), ratio=table["ratio"].round(2))
    common.table(
        view.rename(
            columns={
                "distance": "Distance",
                "time": "Days apart",
                "observed": "Pairs",
                "expected": "Expected",
                "ratio": "Knox ratio",
                "p": "p",
            }
        ),
        hide_index=True,
    )
    hot = records.near_repeats(table)
    st.markdown(
        html.escape(
            f"{table.attrs['records']:,} records, {table.attrs['permutations']} permutations. "
            + (
                f"More pairs than chance (p < {records.ALPHA}): "
                + "; ".join(f"{r.distance}, {r.time} (ratio {r.ratio:.2f})" for r in hot.itertuples())
                if len(hot)
                else f"No band has significantly more pairs than chance (p < {records.ALPHA})."
            )
        )
    )


def page() -> None:
    store = common.store()
    st.title(f"Fly-tipping: {inert(store.config.area_name)}")
    parts = store.partitions()
    loaded = sorted(set(parts["source"]))
    exact = access.can(store.config, "analyst")
    defra_section(store.config.area_code)
    council_section(loaded, exact)
    knox_section(loaded, exact)
    common.attributions()
