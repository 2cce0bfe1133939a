"""Data & sources: what is loaded, coverage by month (missing months are gaps, never zero),
rejected rows, and the licence attribution of every source."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import access, actions, common
from dashboard.markdown import inert
from geodata.analysis.coverage import DISTRICT_ROWS, LOADED_ROWS, coverage_by_month, coverage_for
from geodata.analysis.status import SYNTHETIC_LABEL


def refresh_section(store) -> None:
    """Fetch from data.police.uk the months the store lacks (:func:`dashboard.actions.refresh`)."""
    with st.expander("Refresh from data.police.uk"):
        force = st.text_input("Force (data.police.uk id)", value=store.config.police_force or "", key="refresh_force")
        republished = st.checkbox("Also reload months republished since they were loaded", key="refresh_republished")
        stops = st.checkbox("Also load stop and search (kept apart from crime)", key="refresh_stops")
        if st.button("Fetch the months the store lacks", key="refresh_go"):
            bar = st.progress(0.0, text="Asking data.police.uk which months it has ...")
            done, said = actions.refresh(
                store,
                force.strip(),
                republished,
                stops,
                progress=lambda m, d, t: bar.progress(d / t, text=f"{m}: {d} of {t} months"),
            )
            if not done:
                st.error(inert(said))
                return
            st.cache_data.clear()  # months and figures change with the store
            common.statuses.clear()
            st.success(inert(said))


def _cell(v) -> str:
    """A coverage cell as shown: a count with thousands separators, a word as it is ("loaded"), or a
    blank for a month not loaded (never 0)."""
    if isinstance(v, str):
        return v
    return "" if pd.isna(v) else f"{int(v):,}"


def page() -> None:
    store = common.store()
    st.title("Data & sources")
    if access.can(store.config, "admin"):
        refresh_section(store)
    loads = store.loads()
    where = f"Store: {store.path} " if access.can(store.config, "admin") else ""  # the server's paths: admins only
    st.caption(
        inert(
            f"{where}({store.config.wards.label}). Last load into the store: "
            f"{loads['finished_at'].max():%Y-%m-%d %H:%M} UTC (when files were loaded, not how recent the data is)."
            if len(loads)
            else "Nothing loaded yet."
        )
    )
    police = coverage_by_month(store)  # police.uk first: the months every page counts
    st.header(f"{police.source} by month (a blank is a month not loaded, not zero)")
    st.caption(
        police.note + " Rows in the district: in one of its wards, what every page counts. Rows loaded: the "
        "whole file, so a whole-force file's rows outside the district (kept, no ward) are counted there."
    )
    common.table(
        police.table.rename(
            columns={"month": "Month", DISTRICT_ROWS: "Rows in the district", LOADED_ROWS: "Rows loaded (whole file)"}
        ).map(_cell),
        hide_index=True,
        height=300,
    )
    st.header("Coverage of every source (rows per month; a blank is a month with no data, not zero)")
    audience = common.audience()
    cov = coverage_for(store, audience)  # not cached: the page that says what is loaded reads it now
    if cov["implausible"]:
        st.warning(
            f"{len(cov['implausible'])} loaded month(s) lie outside the plausible months ("
            f"{', '.join(cov['implausible'])[:200]}) and are not shown: they "
            "were loaded before the loaders rejected such dates; an admin removes one with "
            "`csp-hotspots months remove --source SOURCE --month YYYY-MM`."
        )
    exact = audience.exact
    common.table(cov["table"].map(_cell))
    if cov["gaps"]:
        st.warning(
            "Months with no data between a source's first and last loaded month: "
            + "; ".join(f"{name}: {n}" for name, n in cov["gaps"].items())
            + " (months not loaded are never counted as zero)."
        )
    synthetic = [s for s in cov["sources"] if store.synthetic_count(source=s, inside=False)]
    if synthetic:
        st.warning(
            f"{SYNTHETIC_LABEL}: {', '.join(synthetic)} hold synthetic records (generated for testing and "
            "the demo); every figure that counts them says so."
        )
    defra = store.district_stats(measures=["Total Incidents", "Total Actions"])
    if not defra.empty:
        st.caption(
            f"DEFRA fly-tipping statistics: financial years {defra['year'].min()} to {defra['year'].max()}, "
            f"{defra['area_code'].nunique()} areas (district totals, no months: see the Fly-tipping page)."
        )
    if not exact:
        st.caption("Load history and rejected rows are for signed-in analysts.")
        sources_and_licences()
        return
    st.header("Loads")
    common.table(
        loads.rename(
            columns={
                "rows_read": "read",
                "rows_loaded": "loaded",
                "rows_rejected": "rejected",
                "no_location": "no location (kept)",
                "outside_area": "outside the wards (kept)",
            }
        ),
        hide_index=True,
    )
    st.header("Rejected rows")
    rejected = store.rejections()
    if rejected.empty:
        st.write("No row has been rejected.")
    else:
        common.table(rejected, hide_index=True)
    sources_and_licences()


def sources_and_licences() -> None:
    st.header("Sources and licences")
    for name, text in common.ATTRIBUTIONS:
        st.markdown(f"**{name}**: {text}")
