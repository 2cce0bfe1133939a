"""What the store holds, for the Data page: rows per source and month over the loaded range (a month not
loaded is a gap, never zero), as the public may see it, and the partitions outside the plausible months;
and, for a mapped source (:func:`coverage_by_month`), the rows in the district beside the rows loaded.

A whole-force police.uk file holds the force's rows; the rows outside the district's wards are kept
(with no ward), so the rows loaded in a month are the force's, while every figure of the dashboard
counts the district's (the rows in one of its wards, :meth:`geodata.store.Store.counts` with
``inside``). Both are shown, labelled, so a month's count does not jump tenfold after a whole-force
load without saying why. A month not loaded is a blank (NaN), never 0, and is named. Only the
source's plausible months (:func:`loaders.plausible.bounds`) are spanned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geodata import sources
from geodata.analysis import rules
from geodata.analysis.selection import Audience
from geodata.methods import disclosure
from loaders import plausible
from loaders.months import months as month_range

#: What the public sees for a month of a sensitive source that is loaded.
LOADED = "loaded"


def implausible(partitions: pd.DataFrame) -> pd.Series:
    """Which partitions lie outside their source's plausible months (:func:`loaders.plausible.plausible`;
    outcomes as police.uk): only a store loaded before the loaders applied that rule can hold them."""
    month = partitions["month"].dt.strftime("%Y-%m")
    return pd.Series(
        [not plausible.plausible(s, m) for s, m in zip(partitions["source"], month)], index=partitions.index, dtype=bool
    )


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
    'YYYY-MM', of partitions outside the plausible months, left out of the table) and ``gaps`` (per
    source and dataset, "police.uk hertfordshire": the months with no data between its first and last loaded)."""
    parts = store.partitions()
    table = coverage(parts)
    odd = parts[implausible(parts)] if len(parts) else parts
    gaps = {
        f"{source} {dataset}": n
        for (source, dataset), row in zip(table.index.to_list(), table.to_numpy())
        if (n := _inner_gaps(row))
    }
    return {
        "table": table if audience.exact else public_coverage(table),
        "implausible": sorted(set(odd["month"].dt.strftime("%Y-%m"))),
        "gaps": gaps,
        "sources": sorted(set(parts["source"])),
    }


def _inner_gaps(row) -> int:
    """Months with no value between the first and last with one (``row``: values in month order)."""
    have = np.flatnonzero(~np.isnan(np.asarray(row, dtype="float64")))
    return int(have[-1] - have[0] + 1 - len(have)) if len(have) else 0


#: Column names of :attr:`Coverage.table`.
DISTRICT_ROWS, LOADED_ROWS = "rows in the district", "rows loaded (the whole file)"


@dataclass(frozen=True)
class Coverage:
    """``table``: one row per month from the first to the latest loaded (latest first), columns
    ``month``, :data:`DISTRICT_ROWS` and :data:`LOADED_ROWS` (NaN for a month not loaded); ``missing``: the
    months in that span not loaded."""

    source: str
    table: pd.DataFrame
    missing: tuple[str, ...]

    @property
    def note(self) -> str:
        """The months loaded and those missing, in one sentence."""
        if self.table.empty:
            return f"{self.source} is not loaded."
        span = f"{self.table['month'].iloc[-1]} to {self.table['month'].iloc[0]}"
        if not self.missing:
            return f"{self.source}: every month from {span} is loaded."
        return f"{self.source}, {span}: {rules.missing_text(self.source, self.missing)}."


def coverage_by_month(store, source: str = sources.DEFAULT) -> Coverage:
    """The :class:`Coverage` of ``source`` (default police.uk) in ``store``: rows in the district
    (in one of its wards) and rows loaded per month, every month from the first to the latest loaded."""
    parts = store.partitions()
    first, last = plausible.bounds(source)
    month = parts["month"].dt.strftime("%Y-%m")
    # only plausible months (loaders.plausible): a store loaded before that rule may hold a 9999-12
    parts = parts[(parts["source"] == source) & (month >= first) & (month <= last)]
    if parts.empty:
        return Coverage(source, pd.DataFrame(columns=["month", DISTRICT_ROWS, LOADED_ROWS]), ())
    loaded = parts.groupby(parts["month"].dt.strftime("%Y-%m"))["rows"].sum()
    counts = store.counts(by=("month",), source=source, inside=True)
    district = counts.set_index(counts["month"].dt.strftime("%Y-%m"))["incidents"]
    every = month_range(min(loaded.index), max(loaded.index))
    have = pd.Index(every).isin(loaded.index)
    table = pd.DataFrame(
        {
            "month": every,
            DISTRICT_ROWS: district.reindex(every).fillna(0).where(have),  # a loaded month with none in the district: 0
            LOADED_ROWS: loaded.reindex(every),
        }
    )
    missing = tuple(m for m in every if m not in loaded.index)
    return Coverage(source, table.iloc[::-1].reset_index(drop=True), missing)
