"""Council records (fly-tipping, incident logs) for the Fly-tipping page: counts by ward as the audience may
see them, the analysts' breakdowns, and the near-repeat (Knox) test of dated records.

Every ward count of a sensitive source goes through the one disclosure applier
(:func:`geodata.analysis.rules.disclose`); the breakdowns by category and size band are for an audience
with exact counts only (:mod:`geodata.methods.disclosure`).
"""

from __future__ import annotations

import pandas as pd

from geodata.analysis import rules
from geodata.analysis.selection import Audience, Selection
from geodata.methods.disclosure import NOTE as DISCLOSURE_NOTE
from geodata.methods.knox import ALPHA, DISTANCE_BANDS, TIME_BANDS, knox, near_repeats

__all__ = [
    "ALPHA",
    "DISCLOSURE_NOTE",
    "DISTANCE_BANDS",
    "TIME_BANDS",
    "council_figures",
    "near_repeat_test",
    "near_repeats",
    "ward_counts",
]


def ward_counts(store, source: str, audience: Audience) -> pd.Series:
    """Counts per ward (every ward of the district, indexed by code) of all loaded months of ``source``,
    as ``audience`` may see them (:func:`geodata.analysis.rules.disclose`)."""
    loaded = store.loaded_months(source)
    if not loaded:
        return store.ward_summary(source=source).set_index("ward_code")["incidents"]
    return rules.disclose(store, Selection.of(min(loaded), max(loaded), source=source), audience)[0]


def council_figures(store, source: str, audience: Audience) -> dict:
    """A council source's figures for ``audience``: ``wards`` (:func:`ward_counts`) and ``synthetic``
    (the number of synthetic records; for an audience without exact counts only whether there are any);
    with exact counts also ``by_kind`` (records per category, most first) and ``cost`` (records, summed
    and costed records per size band)."""
    wards = ward_counts(store, source, audience)
    every = {"source": source, "inside": False}  # every record of the council, those with no location too
    if not audience.exact:
        return {"wards": wards, "synthetic": bool(store.synthetic_count(**every))}
    records = store.incidents(**every)
    return {
        "wards": wards,
        "by_kind": store.counts(by=("category",), **every).sort_values("incidents", ascending=False),
        "cost": records.groupby("size_band", dropna=False)["cost_gbp"].agg(["size", "sum", "count"]),
        "synthetic": store.synthetic_count(**every),
    }


def near_repeat_test(
    store, source: str, distance: tuple[float, ...], time: tuple[float, ...], permutations: int
) -> pd.DataFrame:
    """The Knox test (:func:`geodata.methods.knox.knox`) on ``source``'s records with a location and a date."""
    records = store.incidents(source=source).dropna(subset=["x", "y", "date"])
    return knox(records["x"], records["y"], records["date"].to_numpy(), distance, time, permutations)
