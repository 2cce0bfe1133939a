"""The ward table for a selection: counts, the incidents near a ward edge, rate per 1,000, the
baseline and its change, harm.

Rules (:mod:`geodata.analysis.rules`): coverage (no change figure unless both periods are
wholly loaded; the missing months named), one rate rule (residents by area, two significant
figures, the method in the notes), the ward edge (incidents within 20 m of the ward's outline,
``within_20m_of_edge``), one harm rule, disclosure for an audience without exact counts of a
sensitive source (its table: ward and shown count only). Rows: the selection's wards (all wards
of the district when none is chosen), zeros included. The change per ward is the change test
(:func:`geodata.analysis.rules.change_table`: quasi-Poisson, the dispersion pooled over the wards'
monthly counts, never below 1), Benjamini-Hochberg adjusted over the rows shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geodata import sources
from geodata.analysis import rules
from geodata.analysis.selection import ANALYST, Audience, Selection

#: Columns, in order (``harm`` only with harm weights).
COLUMNS = (
    "ward_code",
    "ward_name",
    "incidents",
    "within_20m_of_edge",
    "population",
    "rate",
    "previous",
    "change",
    "p_adj",
    "harm",
)
#: The note beside the ``within_20m_of_edge`` column.
EDGE_NOTE = (
    f"Within {rules.EDGE_METRES:g} m of edge: incidents whose map point lies within {rules.EDGE_METRES:g} m of "
    "the ward's outline, where the outlines' generalisation (ONS, 20 m) can put a point in the wrong ward."
)


@dataclass(frozen=True)
class WardTable:
    """The table and the rules it was made under, stated."""

    frame: pd.DataFrame
    comparison: rules.Comparison
    harm: rules.Harm | None = None
    total: str = "0"  # the total as the audience may see it
    notes: tuple[str, ...] = field(default=())

    @property
    def rises(self) -> int | None:
        """Wards with a significant rise; None when the coverage rule allows no comparison."""
        if not self.comparison.possible or "change" not in self.frame or self.frame["change"].isna().all():
            return None
        return int((self.frame["change"] == "significant rise").sum())


def ward_table(
    store,
    selection: Selection,
    audience: Audience = ANALYST,
    against: str = "previous",
    harm_weights: dict | None = None,
    harm_source: str | None = None,
    statistics: bool = True,
) -> WardTable:
    """The ward table of ``selection`` as ``audience`` may see it (module docstring). ``statistics`` false (default
    true): the counts, population and rates alone, without the change test and the count near the edges (no
    ``within_20m_of_edge``, ``previous``, ``change``, ``p_adj``): what a first map is painted from while they are
    computed."""
    selection.check_wards(store)
    now = store.ward_summary(**selection.filters())
    if selection.wards:
        now = now[now["ward_code"].isin(selection.wards)]
    now = now.set_index("ward_code")
    counts = now["incidents"]
    cmp = rules.comparison(store, selection.source, selection.period, against)
    current_missing = rules.missing_months(store, selection.source, selection.period)
    notes = [cmp.note]
    if current_missing:
        notes.insert(0, f"Counts are incomplete: {rules.missing_text(selection.source, current_missing)}.")
    table = pd.DataFrame({"ward_name": now["ward_name"], "incidents": counts})
    withheld = rules.withheld(selection.source, audience)  # public cells only: no rate, baseline or harm
    if sources.get(selection.source).kind == sources.POINTS and not withheld and statistics:  # how many near an edge
        table["within_20m_of_edge"] = rules.near_edge(store, selection).reindex(table.index, fill_value=0)
        notes.append(EDGE_NOTE)
    pop = store.population("ward").set_index("code")["population"]
    table["population"] = pop.reindex(table.index).round().astype("Int64")
    table["rate"] = rules.rate_per_1000(counts, pop)
    if table["rate"].notna().any() and not withheld:
        notes.append(rules.RATE_METHOD)
    change = None
    if cmp.possible and statistics:
        try:
            change = rules.change_table(store, selection, cmp, "ward_code", counts.index)
            notes.append(f"Change per ward: quasi-Poisson test, {change.attrs['dispersion']}.")
        except ValueError as err:
            notes.append(f"No change test: {err}.")
    if change is not None:
        table["previous"] = change["previous"]
        table["change"] = change["change"]
        table["p_adj"] = change["p_adj"]
    elif statistics:
        table["previous"], table["change"], table["p_adj"] = np.nan, None, np.nan
    harm = None
    if harm_weights:
        by_cat = store.counts(by=("ward_code", "category"), **selection.filters())
        harm = rules.harm(harm_weights, harm_source, by_cat["category"])
        assert harm is not None  # rules.harm is None only without weights
        by_cat["harm"] = harm.weight_of(by_cat["category"]) * by_cat["incidents"]
        table["harm"] = by_cat.groupby("ward_code")["harm"].sum().reindex(table.index, fill_value=0.0).round(1)
        notes.append(harm.note)
    rule = None
    if withheld:
        shown, _, rule = rules.disclose(store, selection, audience)  # (none is a sum of the public cells)
        table = table[["ward_name"]].assign(incidents=shown.reindex(table.index, fill_value=0))
        total = f"{int(table['incidents'].sum()):,}"
        if rule:
            notes.append(rule)
    else:
        total = f"{int(counts.sum()):,}"
    frame = table.reset_index()
    frame = frame[[c for c in COLUMNS if c in frame]]
    if harm is not None and not rule:
        frame = frame.sort_values(["harm", "ward_code"], ascending=[False, True], ignore_index=True)
    return WardTable(frame, cmp, harm, total, tuple(notes))


def lsoa_table(store, selection: Selection) -> pd.DataFrame:
    """Incidents per LSOA of the area (zeros included, stored LSOA order): ``code, name, incidents``."""
    counts = store.counts(by=("lsoa_code",), **selection.filters()).set_index("lsoa_code")["incidents"]
    lsoa = store.areas("lsoa")
    return pd.DataFrame(
        {
            "code": lsoa.codes,
            "name": lsoa.names,
            "incidents": counts.reindex(lsoa.codes, fill_value=0).astype("int64").to_numpy(),
        }
    )


def detail_wards(selection: Selection, all_wards: list[str]) -> list[str]:
    """The wards a one-ward detail may show: the selection's wards, or every ward when none is chosen."""
    return list(selection.wards) or list(all_wards)
