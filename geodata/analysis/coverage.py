"""What the store holds, for the Data page: rows per source and month over the loaded range (a month not
loaded is a gap, never zero), as the public may see it, and the partitions outside the plausible months."""

from __future__ import annotations

import pandas as pd

from geodata.analysis.selection import Audience
from geodata.methods import disclosure
from loaders import plausible
from loaders.months import months as month_range

#: What the public sees for a month of a sensitive source that is loaded.
LOADED = "loaded"


def implausible(partitions: pd.DataFrame) -> pd.Series:
    """Which partitions lie outside the plausible months (:func:`loaders.plausible.window`): only a
    store loaded before the loaders applied that rule can hold them."""
    first, last = plausible.window()
    month = partitions["month"].dt.strftime("%Y-%m")
    return (month < first) | (month > last)


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

    sources = table.index.get_level_values("source")
    return pd.DataFrame(
        [[cell(src, v) for v in row] for src, row in zip(sources, table.to_numpy())],
        index=table.index,
        columns=table.columns,
    )


def coverage_for(store, audience: Audience) -> dict:
    """The Data page's coverage as ``audience`` may see it: ``table`` (:func:`coverage`, or
    :func:`public_coverage` for an audience without exact counts), ``implausible`` (the months,
    'YYYY-MM', of partitions outside the plausible months, left out of the table) and ``gaps`` (months
    with no data from a source that has data before and after them)."""
    parts = store.partitions()
    table = coverage(parts)
    odd = parts[implausible(parts)] if len(parts) else parts
    gaps = (
        sum(int(row.loc[row.first_valid_index() : row.last_valid_index()].isna().sum()) for _, row in table.iterrows())
        if len(table)
        else 0
    )
    return {
        "table": table if audience.exact else public_coverage(table),
        "implausible": sorted(set(odd["month"].dt.strftime("%Y-%m"))),
        "gaps": gaps,
        "sources": sorted(set(parts["source"])),
    }
