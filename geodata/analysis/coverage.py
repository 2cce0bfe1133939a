"""Coverage of a mapped source by month, for the Data page: the rows in the district and the rows
loaded, side by side, and the months missing.

A whole-force police.uk file holds the force's rows; the rows outside the district's wards are kept
(with no ward), so the rows loaded in a month are the force's, while every figure of the dashboard
counts the district's (the rows in one of its wards, :meth:`geodata.store.Store.counts` with
``inside``). Both are shown, labelled, so a month's count does not jump tenfold after a whole-force
load without saying why. A month not loaded is a blank (NaN), never 0, and is named. Only the
source's plausible months (:func:`loaders.plausible.bounds`) are spanned.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from geodata import months as months_mod
from geodata import sources
from geodata.analysis import rules
from loaders import plausible

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
    every = months_mod.months(min(loaded.index), max(loaded.index))
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
