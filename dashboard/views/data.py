"""Data & sources: what is loaded, coverage by month (missing months are gaps, never zero),
rejected rows, and the licence attribution of every source."""

from __future__ import annotations

import os

import pandas as pd
import streamlit as st

from dashboard import access, common
from dashboard.markdown import inert
from geodata.analysis.status import SYNTHETIC_LABEL
from geodata.methods import disclosure
from geodata.months import months as month_range
from loaders import plausible


def implausible(partitions: pd.DataFrame) -> pd.Series:
    """Which partitions lie outside their source's plausible months (:func:`loaders.plausible.plausible`;
    outcomes as police.uk): only a store loaded before the loaders applied that rule can hold them."""
    month = partitions["month"].dt.strftime("%Y-%m")
    family = partitions["source"].where(~partitions["source"].str.startswith("police.uk"), "police.uk")
    return pd.Series([not plausible.plausible(s, m) for s, m in zip(family, month)], index=partitions.index, dtype=bool)


#: What the public sees for a month of a sensitive source that is loaded.
LOADED = "loaded"


def coverage(partitions: pd.DataFrame) -> pd.DataFrame:
    """Rows per source, dataset and month over the loaded month range; missing months are NaN.
    Partitions outside the plausible months (:func:`implausible`) are left out, so the table has at
    most one column per plausible month."""
    partitions = partitions[~implausible(partitions)] if len(partitions) else partitions
    if partitions.empty:
        return partitions
    table = partitions.assign(month=partitions["month"].dt.strftime("%Y-%m")).pivot_table(
        index=["source", "dataset"], columns="month", values="rows", aggfunc="sum"
    )
    return table.reindex(columns=month_range(min(table.columns), max(table.columns)))


def public_coverage(table: pd.DataFrame) -> pd.DataFrame:
    """Coverage as text for the public: rows per month of open sources, and only "loaded" for the
    months of a sensitive source (its monthly row counts, subtracted from a period's count, would give
    figures the rule of :mod:`geodata.methods.disclosure` keeps back)."""

    def cell(source, v):
        if pd.isna(v):
            return None
        return LOADED if source in disclosure.SENSITIVE_SOURCES else f"{int(v):,}"

    return pd.DataFrame(
        [[cell(src, v) for v in row] for (src, _), row in table.iterrows()], index=table.index, columns=table.columns
    )


def refresh_section(store) -> None:
    """Fetch from data.police.uk the months the store lacks (the same path as `csp-hotspots refresh`)."""
    from geodata.pipeline.refresh import refresh_police
    from geodata.store import StoreError
    from loaders.policeapi import BASE_URL, Client
    from loaders.report import LoadError

    with st.expander("Refresh from data.police.uk"):
        force = st.text_input("Force (data.police.uk id)", value="hertfordshire", key="refresh_force")
        republished = st.checkbox("Also reload months republished since they were loaded", key="refresh_republished")
        stops = st.checkbox("Also load stop and search (kept apart from crime)", key="refresh_stops")
        if st.button("Fetch the months the store lacks", key="refresh_go"):
            bar = st.progress(0.0, text="Asking data.police.uk which months it has ...")
            client = Client(
                os.environ.get("CSP_HOTSPOTS_POLICE_API", BASE_URL), cache_dir=store.path.parent / "api-cache"
            )
            try:
                report = refresh_police(
                    store,
                    client,
                    force.strip(),
                    republished=republished,
                    stops=stops,
                    progress=lambda m, d, t: bar.progress(d / t, text=f"{m}: {d} of {t} months"),
                )
            except (LoadError, StoreError) as exc:
                st.error(inert(str(exc)))
                return
            st.cache_data.clear()  # months and figures change with the store
            common.statuses.clear()
            st.success(inert(report.summary()))


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
    parts = store.partitions()
    where = f"Store: {store.path} " if access.can(store.config, "admin") else ""  # the server's paths: admins only
    st.caption(
        inert(
            f"{where}({store.config.wards.label}). Last refresh: {loads['finished_at'].max():%Y-%m-%d %H:%M} UTC."
            if len(loads)
            else "Nothing loaded yet."
        )
    )
    st.subheader("Coverage (rows per month; a blank is a month with no data, not zero)")
    cov = coverage(parts)
    odd = parts[implausible(parts)] if len(parts) else parts
    if len(odd):
        st.warning(
            f"{len(odd)} loaded month(s) lie outside the plausible months ("
            f"{', '.join(sorted(set(odd['month'].dt.strftime('%Y-%m'))))[:200]}) and are not shown: they "
            "were loaded before the loaders rejected such dates; an admin removes one with "
            "`csp-hotspots months remove --source SOURCE --month YYYY-MM`."
        )
    exact = access.can(store.config, "analyst")
    shown = cov if exact else public_coverage(cov)
    common.table(shown.map(_cell))
    missing = (
        sum(int(row.loc[row.first_valid_index() : row.last_valid_index()].isna().sum()) for _, row in cov.iterrows())
        if len(cov)
        else 0
    )
    if missing:
        st.warning(f"{missing} month(s) have no data from a source that has data before and after them.")
    synthetic = [s for s in sorted(set(parts["source"])) if store.synthetic_count(source=s)]
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
    st.subheader("Loads")
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
    st.subheader("Rejected rows")
    rejected = store.rejections()
    if rejected.empty:
        st.write("No row has been rejected.")
    else:
        common.table(rejected, hide_index=True)
    sources_and_licences()


def sources_and_licences() -> None:
    st.subheader("Sources and licences")
    for name, text in common.ATTRIBUTIONS:
        st.markdown(f"**{name}**: {text}")
