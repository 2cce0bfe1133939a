"""Fly-tipping in context: the district against its neighbours and England (DEFRA), and how much
of it FixMyStreet sees.

All figures come from the store's DEFRA table (:mod:`loaders.defra`) and FixMyStreet counts. A
figure DEFRA did not publish (``:``) stays missing (NaN) with its note, never zero. Rates per
1,000 residents are DEFRA's own column ("Incidents per 1,000 people"), which DEFRA publishes from
2019-20 only; earlier years have none, and none is computed here.
"""

from __future__ import annotations

import pandas as pd

from geodata import sources
from geodata.store import Store
from loaders import months

TOTAL = "Total Incidents"
RATE = "Incidents per 1,000 people"
COST = "Total Incidents Clearance Costs (£)"
ACTIONS = ("Total Actions", "Total Fixed Penalty Notice Actions", "Prosecution Actions")
#: England's comparable total: in 2018-19 DEFRA gives an "original" and a "comparable with
#: 2019/20" figure; the series uses the original up to 2018-19 (comparable with the years before).
ENGLAND = ("total:Total England", "total:Total England (original)")


def series(
    store: Store, area_code: str, measures: tuple[str, ...] = (TOTAL, COST), dataset: str = "incidents"
) -> pd.DataFrame:
    """One row per financial year, one column per measure, for ``area_code`` (NaN: not available)."""
    stats = store.district_stats(dataset=dataset, measures=list(measures), area_codes=[area_code])
    if stats.empty:
        return pd.DataFrame(columns=["year", *measures])
    table = _wide(stats, "year").reindex(columns=list(measures))
    return table.reset_index().rename_axis(columns=None)


def _wide(stats: pd.DataFrame, index) -> pd.DataFrame:
    """One column per measure. The loader rejects a repeated DEFRA row, but a store loaded before
    it did may hold one: equal repeats count once; repeats with different values are not
    available (NaN), never a guess between them."""

    def one(values: pd.Series) -> float:
        distinct = values.drop_duplicates()
        return distinct.iloc[0] if len(distinct) == 1 else float("nan")

    keys = [index] if isinstance(index, str) else list(index)
    return stats.groupby([*keys, "measure"], dropna=False)["value"].agg(one).unstack("measure")


def neighbours(store: Store, year: str | None = None) -> pd.DataFrame:
    """Every district in the DEFRA table and England for ``year`` (default: the latest with rates):
    ``area_code, area_name, incidents, per_1000, rank`` (rank 1 = highest rate among districts)."""
    stats = store.district_stats(dataset="incidents", measures=[TOTAL, RATE])
    if stats.empty:
        return pd.DataFrame(columns=["area_code", "area_name", "incidents", "per_1000", "rank"])
    if year is None:
        rated = stats[(stats["measure"] == RATE) & stats["value"].notna()]
        year = rated["year"].max() if not rated.empty else stats["year"].max()
    stats = stats[
        (stats["year"] == year) & (~stats["area_code"].str.startswith("total:") | stats["area_code"].isin(ENGLAND))
    ]
    table = _wide(stats, ["area_code", "area_name"]).reset_index()
    table = table.rename(columns={TOTAL: "incidents", RATE: "per_1000"}).rename_axis(columns=None)
    districts = ~table["area_code"].str.startswith("total:")
    table["rank"] = table["per_1000"].where(districts).rank(ascending=False, method="min").astype("Int64")
    table.attrs["year"] = year
    return table.sort_values(["rank", "area_name"], na_position="last").reset_index(drop=True)


def fixmystreet_share(store: Store, area_code: str, category: str = "Fly-tipping") -> pd.DataFrame:
    """Per financial year wholly covered by the loaded FixMyStreet months: FixMyStreet reports in
    the area, DEFRA's incidents for ``area_code``, and the share (reports / incidents)."""
    loaded = set(store.loaded_months(sources.FIXMYSTREET.id))
    fms = store.counts(by=("month",), source=sources.FIXMYSTREET.id, categories=[category])
    fms["year"] = fms["month"].map(months.financial_year)
    reports = fms.groupby("year")["incidents"].sum()
    defra = series(store, area_code, (TOTAL,)).set_index("year")[TOTAL]
    rows = []
    for year, incidents in defra.items():
        if all(m in loaded for m in months.financial_year_months(str(year))):
            n = int(reports.get(year, 0))
            rows.append((year, n, incidents, n / incidents if incidents else float("nan")))
    return pd.DataFrame(rows, columns=["year", "fixmystreet_reports", "defra_incidents", "share"])
