"""Data & sources: what is loaded, coverage by month (missing months are gaps, never zero),
rejected rows, and the licence attribution of every source."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import common


def coverage(partitions: pd.DataFrame) -> pd.DataFrame:
    """Rows per source, dataset and month over the full month range; missing months are NaN."""
    if partitions.empty:
        return partitions
    months = pd.period_range(partitions["month"].min(), partitions["month"].max(), freq="M")
    table = partitions.assign(month=partitions["month"].dt.to_period("M")).pivot_table(
        index=["source", "dataset"], columns="month", values="rows", aggfunc="sum")
    table = table.reindex(columns=months)
    table.columns = [str(c) for c in table.columns]
    return table


def main() -> None:
    store = common.store()
    st.title("Data & sources")
    loads = store.loads()
    parts = store.partitions()
    st.caption(f"Store: {store.path} ({store.config.wards.label}). Last refresh: "
               f"{loads['finished_at'].max():%Y-%m-%d %H:%M} UTC." if len(loads) else "Nothing loaded yet.")
    st.subheader("Coverage (rows per month; a blank is a month with no data, not zero)")
    cov = coverage(parts)
    st.dataframe(cov, width="stretch")
    missing = int(cov.isna().sum().sum()) if len(cov) else 0
    if missing:
        st.warning(f"{missing} month(s) have no data from a source that has data before and after them.")
    st.subheader("Loads")
    st.dataframe(loads.rename(columns={"rows_read": "read", "rows_loaded": "loaded", "rows_rejected": "rejected",
                                       "no_location": "no location (kept)",
                                       "outside_area": "outside the wards (kept)"}), hide_index=True)
    st.subheader("Rejected rows")
    rejected = store.rejections()
    if rejected.empty:
        st.write("No row has been rejected.")
    else:
        st.dataframe(rejected, hide_index=True)
    st.subheader("Sources and licences")
    for name, text in common.ATTRIBUTIONS:
        st.markdown(f"**{name}**: {text}")


main()
