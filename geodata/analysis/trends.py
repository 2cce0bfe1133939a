"""Trends for a selection: incidents per month, the crime types compared with a baseline, and
each ward's share.

Rules: months the source has not loaded are gaps (NaN) in the series, never zeros; the
comparison follows the coverage rule (:func:`geodata.analysis.rules.comparison`), one change test
per crime type (quasi-Poisson, the dispersion pooled over the types' monthly counts, never below 1:
:func:`geodata.analysis.rules.change_table`), Benjamini-Hochberg adjusted; shares
and concentration (:mod:`geodata.methods.concentration`) are over the district's wards.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from geodata.analysis import rules
from geodata.analysis.selection import Selection
from geodata.methods import concentration


def monthly(store, selection: Selection) -> pd.DataFrame:
    """Incidents per month (index 'YYYY-MM', every month of the period) and category (columns);
    a month the source has not loaded is NaN in every column."""
    counts = store.counts(by=("month", "category"), **selection.filters())
    counts["month"] = counts["month"].dt.strftime("%Y-%m")
    wide = counts.pivot_table(index="month", columns="category", values="incidents", fill_value=0)
    wide = wide.reindex(selection.period.months)
    wide.columns.name = None
    loaded = set(store.loaded_months(selection.source))
    in_store = wide.index.isin(sorted(loaded))
    wide.loc[in_store] = wide.loc[in_store].fillna(0)
    return wide


@dataclass(frozen=True)
class CategoryChange:
    """The comparison per crime type (None when the coverage rule refuses it, or the dispersion cannot be
    estimated: ``reason`` says why) and its rule."""

    table: pd.DataFrame | None
    comparison: rules.Comparison
    reason: str = ""

    @property
    def note(self) -> str:
        """The rule applied (and the dispersion used, or why there is no test), as one sentence."""
        if self.table is None:
            return self.reason or self.comparison.note
        return (
            f"{self.comparison.note} Change test per crime type: quasi-Poisson, {self.table.attrs['dispersion']}; "
            "Benjamini-Hochberg adjusted."
        )


def category_change(store, selection: Selection, against: str = "previous") -> CategoryChange:
    """Each crime type's count against the baseline ``against`` (coverage rule)."""
    cmp = rules.comparison(store, selection.source, selection.period, against)
    if not cmp.possible:
        return CategoryChange(None, cmp)
    try:
        return CategoryChange(rules.change_table(store, selection, cmp, "category"), cmp)
    except ValueError as err:
        return CategoryChange(None, cmp, f"No change test: {err}.")


def ward_shares(store, selection: Selection) -> tuple[pd.DataFrame, dict]:
    """Each district ward's incidents and share (%, 1 decimal), and the concentration figures
    (share in the busiest 20% of wards, Gini) when there is any incident."""
    wards = store.ward_summary(**{**selection.filters(), "wards": None})
    total = int(wards["incidents"].sum())
    wards["share_pct"] = (100 * wards["incidents"] / total).round(1) if total else 0.0
    figures = (
        {
            "top_20_share": concentration.top_share(wards["incidents"], 0.2),
            "gini": concentration.gini(wards["incidents"]),
        }
        if total
        else {}
    )
    return wards, figures
