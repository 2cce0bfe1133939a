"""The rules every answer of the analysis layer obeys, each in one place (README, "Rules").

* **Coverage** (:func:`comparison`): a period is compared only with a period of equal length
  (the months just before, or the same months a year earlier), and only when every month of
  both is loaded for the source; otherwise there is no change figure and the missing months
  are named. A month the source has not loaded is never counted as zero.
* **Counted period** (:func:`counted_period`): a count over a period states which of its months the
  source has not loaded; a period with none of them loaded has no count at all (an error naming
  them), never a zero.
* **Rate** (:func:`rate_per_1000`): incidents per 1,000 residents, rounded to 1 decimal place
  (residents: ONS mid-year estimates per LSOA summed to wards by the one LSOA -> ward rule,
  :meth:`geodata.store.Store.population`); no population, no rate.
* **Harm** (:func:`harm`): incidents weighted per category by the priorities file's
  ``[harm]`` weights; a category with no weight adds nothing to harm and is **listed** beside
  every harm figure (never silently 0, never an error).
* **Study area** (:func:`study_area`): the district, or the chosen wards; maps, grids, density
  and hot spots use only the incidents inside it, fetched that way from the store.
* **Default period** (:func:`default_period`): the latest 12 months ending at the latest loaded
  month when every one is loaded; else the run of consecutive loaded months ending there (at most
  12), so a first view never spans a gap.
* **Disclosure** (:func:`disclose`, :func:`public_cells`): counts of a sensitive source
  (:mod:`geodata.sources`) are shown to an audience without exact counts only as sums of its public
  ward-by-month cells (:func:`geodata.methods.disclosure.public_counts`: random rounding to base 5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from geodata import months as months_mod
from geodata import sources
from geodata.analysis.selection import Audience, Selection
from geodata.methods import disclosure
from geodata.months import Period
from loaders import plausible

#: Comparisons a screen may ask for.
AGAINST = ("previous", "year-earlier")
#: Decimal places of a rate per 1,000 residents.
RATE_DECIMALS = 1


# ---------------------------------------------------------------------------------- coverage
def loaded_months(store, source: str) -> set[str]:
    """Months for which ``source`` has a partition in the store (a month loaded with no rows counts),
    within the source's plausible months (:func:`loaders.plausible.plausible`): a month a store loaded
    before the loaders refused it (9999-12, or a police.uk month not yet published) is held apart, so it
    never becomes the latest month; ``csp-hotspots months remove`` deletes it."""
    parts = store.partitions()
    months = set(parts.loc[parts["source"] == source, "month"].dt.strftime("%Y-%m"))
    return {m for m in months if plausible.plausible(source, m)}


def missing_months(store, source: str, period: Period) -> tuple[str, ...]:
    """The months of ``period`` that ``source`` has not loaded."""
    loaded = loaded_months(store, source)
    return tuple(m for m in period.months if m not in loaded)


def missing_text(source: str, missing: tuple[str, ...]) -> str:
    """'police.uk is not loaded for 2020-12' (or 'for 5 months: 2020-08 to 2020-12', :func:`geodata.months.listing`)."""
    return f"{source} is not loaded for {months_mod.listing(missing)}"


def counted_period(store, source: str, start: str | None = None, end: str | None = None) -> tuple[Period, str | None]:
    """The period a count covers (module docstring, "Counted period"): ``start`` and ``end``
    ('YYYY-MM'; default the source's first and latest loaded month), and a note naming the months of
    it the source has not loaded (None when every one is). ValueError when the source has loaded
    none of them: a count of months never loaded would be a zero that is not one."""
    loaded = loaded_months(store, source)
    if not loaded:
        raise ValueError(f"no data: {source} has no month loaded")
    period = Period(start or min(loaded), end or max(loaded))
    missing = tuple(m for m in period.months if m not in loaded)
    if len(missing) == period.length:
        raise ValueError(
            f"no data: {missing_text(source, missing)}, so there is nothing to count "
            f"({source} has {min(loaded)} to {max(loaded)}, with gaps: see the Data page)"
        )
    note = None
    if missing:
        note = f"{missing_text(source, missing)}: counted over the other {period.length - len(missing)} months"
    return period, note


@dataclass(frozen=True)
class Comparison:
    """A period and the period of equal length it is compared with (:func:`comparison`)."""

    current: Period
    base: Period
    name: str
    missing: tuple[str, ...]  # months of either period the source has not loaded
    source: str

    @property
    def possible(self) -> bool:
        return not self.missing

    @property
    def note(self) -> str:
        """The rule applied, as one sentence to show beside the figure."""
        if self.possible:
            return (
                f"{self.current.text} compared with {self.name} ({self.base.text}): periods of equal length, "
                "every month loaded."
            )
        return (
            f"No change figure: {missing_text(self.source, self.missing)} ({self.current.text} against "
            f"{self.base.text}); months not loaded are never counted as zero."
        )


def default_period(loaded, length: int = 12) -> Period:
    """The period a page opens on (module docstring, "Default period"): of the months ``loaded``
    ('YYYY-MM'), the ``length`` (default 12) consecutive months ending at the latest, or the
    shorter run of consecutive loaded months ending there. Raises ValueError when none is loaded."""
    have = set(loaded)
    if not have:
        raise ValueError("loaded: no month is loaded, so there is no period to show")
    end = start = max(have)
    while months_mod.length(start, end) < length and months_mod.shift(start, -1) in have:
        start = months_mod.shift(start, -1)
    return Period(start, end)


def base_period(period: Period, against: str) -> tuple[Period, str]:
    """The period ``period`` is compared with, and its name."""
    if against not in AGAINST:
        raise ValueError(f"against must be one of {', '.join(AGAINST)}, got {against!r}")
    if against == "previous":
        n = period.length
        return period.previous(), "the previous month" if n == 1 else f"the previous {n} months"
    return period.year_earlier(), "the same months a year earlier"


def comparison(store, source: str, period: Period, against: str = "previous") -> Comparison:
    """The coverage rule (module docstring) for ``period`` of ``source``."""
    base, name = base_period(period, against)
    loaded = loaded_months(store, source)
    missing = tuple(m for m in base.months + period.months if m not in loaded)
    return Comparison(period, base, name, tuple(sorted(set(missing))), source)


# ---------------------------------------------------------------------------------- rates and harm
def rate_per_1000(counts: pd.Series, population: pd.Series) -> pd.Series:
    """Incidents per 1,000 residents, :data:`RATE_DECIMALS` places; NaN where no population."""
    pop = population.reindex(counts.index).astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = 1000 * counts.astype("float64") / pop.where(pop > 0)
    return rate.round(RATE_DECIMALS)


@dataclass(frozen=True)
class Harm:
    """Harm weights in use, and the categories present that have none (listed, never silent)."""

    weights: dict
    source: str
    unweighted: tuple[str, ...]

    @property
    def note(self) -> str:
        text = f"Harm: incidents weighted per crime type ({self.source})."
        if self.unweighted:
            text += f" No harm weight, so not in the harm figure: {', '.join(self.unweighted)}."
        return text

    def weight_of(self, categories: pd.Series) -> np.ndarray:
        """The weight of each incident's category (an unweighted category weighs 0 and is in :attr:`unweighted`)."""
        return categories.map(self.weights).fillna(0.0).to_numpy(dtype="float64")


def harm(weights: dict | None, source: str | None, categories) -> Harm | None:
    """The harm rule for incidents of ``categories`` (None without weights)."""
    if not weights:
        return None
    present = {c for c in categories if isinstance(c, str)}
    return Harm(dict(weights), source or "weights from the priorities file", tuple(sorted(present - set(weights))))


# ---------------------------------------------------------------------------------- study area
def study_area(store, selection: Selection, period: Period | None = None):
    """(outline, located incidents) of the selection: the district or the union of the chosen
    wards, and only the incidents inside it (:meth:`geodata.store.Store.incidents` with ``inside``),
    with a location."""
    if selection.wards:
        areas = store.areas("ward")
        outline = shapely.union_all(areas.geometries[np.isin(areas.codes, list(selection.wards))])
    else:
        outline = store.boundary()
    incidents = store.incidents(**selection.filters(period))
    return outline, incidents.dropna(subset=["x", "y"])


# ---------------------------------------------------------------------------------- disclosure
def withheld(source: str, audience: Audience) -> bool:
    """Whether ``audience`` sees ``source``'s counts only under disclosure control."""
    return sources.get(source).sensitive and not audience.exact


def is_small(count) -> bool:
    """Whether a count may not be shown to an audience without exact counts (see :mod:`geodata.methods.disclosure`)."""
    return disclosure.is_small(count)


def public_cells(store, counts: pd.DataFrame, source: str, categories=(), flags=()) -> pd.DataFrame:
    """The public ward-by-month cells of a sensitive source's table (``counts``: true counts with
    ``ward_code, month, incidents``; the table named by its source, categories and flags): the one call
    of :func:`geodata.methods.disclosure.public_counts` in the analysis layer, under the store's key,
    which is never made here (a missing key is :class:`geodata.methods.disclosure.KeyMissing`: the
    ingest of the first sensitive records makes it, :func:`geodata.pipeline.ingest.ingest_council`)."""
    if counts.empty:  # nothing to round (no record of the source yet): no key needed
        return counts.copy()
    return disclosure.public_counts(
        counts, disclosure.store_key(store.path, create=False), disclosure.table_id(source, categories, flags)
    )


def period_totals(public: pd.DataFrame, start: str | None = None, end: str | None = None) -> pd.Series:
    """Per ward, the sum of the public cells from ``start`` to ``end`` (see :mod:`geodata.methods.disclosure`)."""
    return disclosure.period_totals(public, start, end)


def disclose(
    store, selection: Selection, audience: Audience, period: Period | None = None
) -> tuple[pd.Series, str, str | None]:
    """Counts per ward of ``selection`` (for ``period``, default the selection's; every ward of the
    district, zeros included) as ``audience`` may see them: (counts, their total as text, the rule
    stated or None). For a sensitive source and an audience without exact counts, the sums of the
    public ward-by-month cells (:func:`public_cells`) and their sum, never a true total."""
    filters = selection.filters(period)
    summary = store.ward_summary(**filters).set_index("ward_code")["incidents"]
    if not withheld(selection.source, audience):
        return summary, f"{int(summary.sum()):,}", None
    counts = store.counts(by=("ward_code", "month"), **filters)
    public = public_cells(store, counts, selection.source, selection.categories)
    shown = period_totals(public).reindex(summary.index, fill_value=0)
    return shown, f"{int(shown.sum()):,}", disclosure.NOTE


__all__ = [
    "AGAINST",
    "Comparison",
    "Harm",
    "base_period",
    "comparison",
    "disclose",
    "harm",
    "loaded_months",
    "is_small",
    "missing_months",
    "counted_period",
    "missing_text",
    "period_totals",
    "public_cells",
    "rate_per_1000",
    "study_area",
    "withheld",
]
