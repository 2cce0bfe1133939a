"""The rules every answer of the analysis layer obeys, each in one place (README, "Rules").

* **Coverage** (:func:`comparison`): a period is compared only with a period of equal length
  (the months just before, or the same months a year earlier), and only when every month of
  both is loaded for the source; otherwise there is no change figure and the missing months
  are named. A month the source has not loaded is never counted as zero.
* **Counted period** (:func:`counted_period`): a count over a period states which of its months the
  source has not loaded; a period with none of them loaded has no count at all (an error naming
  them), never a zero.
* **Rate** (:func:`rate_per_1000`): incidents per 1,000 residents, rounded to :data:`RATE_FIGURES`
  (2) significant figures (residents per ward: ONS mid-year estimates per LSOA shared among the wards
  by area, :meth:`geodata.store.Store.population`; :data:`RATE_METHOD` is shown beside the rate); no
  population, no rate.
* **Ward edge** (:func:`near_edge`): each ward's row gives its incidents within :data:`EDGE_METRES`
  (20) metres of its outline, where the outlines' own generalisation (ONS BGC, 20 m) can put a
  point in the wrong ward.
* **Harm** (:func:`harm`): incidents weighted per category by the priorities file's
  ``[harm]`` weights; a category with no weight adds nothing to harm and is **listed** beside
  every harm figure (never silently 0, never an error).
* **Study area** (:func:`study_area`): the district, or the chosen wards; maps, grids, density
  and hot spots use only the incidents inside it, fetched that way from the store.
* **Default period** (:func:`default_period`): the latest 12 months ending at the latest loaded
  month when every one is loaded; else the run of consecutive loaded months ending there (at most
  12), so a first view never spans a gap.
* **Dispersion** (:func:`dispersion`): a change is tested allowing for the counts' own variation
  (:func:`geodata.methods.change.rate_test`); the dispersion comes from the monthly counts of the
  compared months (each period, and each unit of a table, its own mean) when they leave at least
  :data:`MIN_DISPERSION_DF` residual degrees of freedom, else from the loaded months of the 12 ending
  at the period's end (one mean a unit); never below 1 (Poisson).
  12), so a first view never spans a gap. A page opens on it when it can be compared (the months
  before it are loaded too); else on the most recent period that can (:func:`opening_period`: the
  latest end, then the longest), saying which and why.
* **Disclosure** (:func:`disclose`, :func:`public_cells`): counts of a sensitive source
  (:mod:`geodata.sources`) are shown to an audience without exact counts only as sums of its public
  ward-by-month cells (:func:`geodata.methods.disclosure.public_counts`: random rounding to base 5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from geodata import sources
from geodata.analysis.selection import Audience, Selection
from geodata.assign import edge_distance
from geodata.methods import change, disclosure
from loaders import months as months_mod
from loaders.months import Period

#: Comparisons a screen may ask for.
AGAINST = ("previous", "year-earlier")
#: Significant figures of a rate per 1,000 residents. Ward populations are estimates (LSOA residents
#: shared among the wards by area, assuming them spread evenly over the LSOA), good to a few per cent
#: at best: two figures (a step of 1% to 10% of the rate) claim no more than that, a third would.
RATE_FIGURES = 2
#: The rate's method, shown beside every rate.
RATE_METHOD = (
    "Per 1,000 residents, to 2 significant figures. Residents per ward: the ONS LSOA estimates shared "
    "among the wards by area (each LSOA's residents taken as spread evenly over it)."
)
#: Metres from a ward's outline within which an incident is counted "near the edge": the
#: generalisation of the ward outlines (ONS BGC, 20 m), within which a point can be on the wrong side.
EDGE_METRES = 20.0
#: Fewest residual degrees of freedom a dispersion from the compared months alone may rest on (else the
#: 12 months ending at the period's end): periods of 3 months or more have them.
MIN_DISPERSION_DF = 4


# ---------------------------------------------------------------------------------- coverage
def missing_months(store, source: str, period: Period) -> tuple[str, ...]:
    """The months of ``period`` that ``source`` has not loaded."""
    loaded = set(store.loaded_months(source))
    return tuple(m for m in period.months if m not in loaded)


def missing_text(source: str, missing: tuple[str, ...]) -> str:
    """'police.uk is not loaded for 2020-12' (or 'for 5 months: 2020-08 to 2020-12', :func:`loaders.months.listing`)."""
    return f"{source} is not loaded for {months_mod.listing(missing)}"


def counted_period(store, source: str, start: str | None = None, end: str | None = None) -> tuple[Period, str | None]:
    """The period a count covers (module docstring, "Counted period"): ``start`` and ``end``
    ('YYYY-MM'; default the source's first and latest loaded month), and a note naming the months of
    it the source has not loaded (None when every one is). ValueError when the source has loaded
    none of them: a count of months never loaded would be a zero that is not one."""
    loaded = set(store.loaded_months(source))
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
    within: tuple[Period, Period, str] | None = None  # not possible: the longest (then latest) part that is

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
        could = ""
        if self.within is not None:
            part, base, name = self.within
            could = f" {part.text} can be compared with {name} ({base.text}), every month loaded: choose that period."
        return (
            f"No change figure: {missing_text(self.source, self.missing)} ({self.current.text} against "
            f"{self.base.text}); months not loaded are never counted as zero.{could}"
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


def comparable_period(loaded, lengths=range(12, 0, -1), against: str = "previous") -> Period | None:
    """The most recent period of the months ``loaded`` that can be compared (coverage rule): every
    month of it and of its comparison (``against``, default "previous") loaded. Most recent: the
    latest end month, then the longest of ``lengths`` (default 12 down to 1). None when no period can."""
    have = set(loaded)
    for end in sorted(have, reverse=True):
        for n in sorted(lengths, reverse=True):
            period = Period(months_mod.shift(end, 1 - n), end)
            if all(m in have for m in period.months + base_period(period, against)[0].months):
                return period
    return None


@dataclass(frozen=True)
class Opening:
    """The period a page opens on, and why when it is not the :func:`default_period` (or when no
    period can be compared): one sentence to show beside the period choice."""

    period: Period
    note: str | None


def opening_period(loaded, lengths=range(12, 0, -1), against: str = "previous", source: str = sources.DEFAULT):
    """The period a page opens on (module docstring, "Default period"): the :func:`default_period` of
    ``loaded`` (at most the longest of ``lengths`` months) when its comparison (``against``) is loaded;
    else the :func:`comparable_period`, with a note naming both and the months missing; else the
    default period with a note that no period of the loaded months can be compared. Returns an
    :class:`Opening`."""
    latest = default_period(loaded, max(lengths))
    if latest.length not in lengths:  # a run shorter than any length allowed: its longest allowed tail
        latest = Period(months_mod.shift(latest.end, 1 - max(n for n in lengths if n <= latest.length)), latest.end)
    base, name = base_period(latest, against)
    have = set(loaded)
    missing = tuple(m for m in base.months if m not in have)
    if not missing:
        return Opening(latest, None)
    found = comparable_period(have, lengths, against)
    why = f"{latest.text}, the latest months loaded, has no comparison ({missing_text(source, missing)})"
    if found is None:
        return Opening(latest, f"No period of the loaded months can be compared with {name}: {why}.")
    found_base, found_name = base_period(found, against)
    return Opening(
        found,
        f"Opened on {found.text}, the most recent period that can be compared ({found_name}, "
        f"{found_base.text}, every month loaded): {why}.",
    )


def base_period(period: Period, against: str) -> tuple[Period, str]:
    """The period ``period`` is compared with, and its name."""
    if against not in AGAINST:
        raise ValueError(f"against must be one of {', '.join(AGAINST)}, got {against!r}")
    if against == "previous":
        n = period.length
        return period.previous(), "the previous month" if n == 1 else f"the previous {n} months"
    return period.year_earlier(), "the same months a year earlier"


def comparison(store, source: str, period: Period, against: str = "previous") -> Comparison:
    """The coverage rule (module docstring) for ``period`` of ``source``; when it allows no comparison,
    the longest part of the period that it allows (:func:`_comparable_part`), offered in the note."""
    base, name = base_period(period, against)
    loaded = set(store.loaded_months(source))
    missing = tuple(m for m in base.months + period.months if m not in loaded)
    within = _comparable_part(period, against, loaded) if missing else None
    return Comparison(period, base, name, tuple(sorted(set(missing))), source, within)


def _comparable_part(period: Period, against: str, loaded: set[str]) -> tuple[Period, Period, str] | None:
    """The longest run of ``period``'s months (the latest of equal runs) that can be compared with
    ``against``, every month of it and of its base loaded: (part, its base, the base's name); None."""
    months = period.months
    for length in range(len(months) - 1, 0, -1):
        for end in range(len(months) - 1, length - 2, -1):
            part = Period(months[end - length + 1], months[end])
            base, name = base_period(part, against)
            if all(m in loaded for m in part.months + base.months):
                return part, base, name
    return None


def dispersion(
    counts: pd.DataFrame, compared: tuple[list[str], list[str]], loaded: set[str], end: str, unit: str | None = None
) -> change.Dispersion:
    """The dispersion rule (module docstring) for a comparison of the months ``compared`` (the
    period's, the base's: loaded months only are used) ending at ``end``. ``counts``: rows of
    ``month`` (a date or 'YYYY-MM'), ``incidents`` and, for a table, the ``unit`` column (ward, crime
    type, zone): a unit-month with no row is 0; a month not in ``loaded`` is never read. ValueError
    (naming what is missing) when neither set of months leaves a degree of freedom."""
    month = pd.to_datetime(counts["month"]).dt.strftime("%Y-%m")
    key = counts[unit] if unit else pd.Series("all", index=counts.index)
    table = (
        pd.DataFrame({"u": key.to_numpy(), "m": month.to_numpy(), "n": counts["incidents"].to_numpy()})
        .groupby(["u", "m"])["n"]
        .sum()
        .unstack("m", fill_value=0)
    )
    pooled = f", {len(table)} pooled" if unit else ""

    def groups(blocks):
        for block in blocks:
            cols = [m for m in block if m in loaded]
            if cols:
                yield from table.reindex(columns=cols, fill_value=0).to_numpy(dtype="float64")

    n_compared = sum(m in loaded for block in compared for m in block)
    try:
        found = change.dispersion(groups(compared), f"{n_compared} months compared{pooled}")
        if found.df >= MIN_DISPERSION_DF:
            return found
    except ValueError:
        pass
    recent = [m for m in months_mod.months(months_mod.shift(end, -11), end) if m in loaded]
    try:
        return change.dispersion(groups([recent]), f"{len(recent)} loaded months of the 12 to {end}{pooled}")
    except ValueError as err:
        if not any(row.any() for row in groups([recent, *compared])):
            raise ValueError(f"no incident in the {n_compared} months compared or the 12 months to {end}") from None
        raise ValueError(
            f"the counts' variation cannot be estimated from the {n_compared} months compared or the "
            f"{len(recent)} loaded months of the 12 to {end} ({err})"
        ) from None


def change_table(store, selection: Selection, cmp: Comparison, unit: str, units=None) -> pd.DataFrame:
    """The change test per ``unit`` ('ward_code' or 'category') of ``selection`` for a possible comparison
    ``cmp``: :func:`geodata.methods.change.compare` of the counts in ``cmp.current`` against ``cmp.base``
    (``units``: the index to show, zeros included; default the units with an incident), the dispersion
    pooled over every unit's monthly counts (:func:`dispersion`). ValueError when that cannot be estimated."""
    end = cmp.current.end
    wide = Period(min(cmp.base.start, months_mod.shift(end, -11)), end)
    by_month = store.counts(by=(unit, "month"), **selection.filters(wide))
    disp = dispersion(
        by_month, (cmp.current.months, cmp.base.months), set(store.loaded_months(selection.source)), end, unit
    )
    label = by_month["month"].dt.strftime("%Y-%m")

    def totals(period: Period) -> pd.Series:
        sums = by_month[label.isin(period.months)].groupby(unit)["incidents"].sum()
        return sums if units is None else sums.reindex(units, fill_value=0)

    n, k = cmp.current.length, cmp.base.length
    return change.compare(totals(cmp.current), totals(cmp.base), n, k, dispersion=disp)


# ---------------------------------------------------------------------------------- rates and harm
def significant(values, figures: int = RATE_FIGURES) -> np.ndarray:
    """``values`` rounded to ``figures`` significant figures (default :data:`RATE_FIGURES`): 123.4 -> 120,
    4.56 -> 4.6, 0.0456 -> 0.046; 0 stays 0 and NaN stays NaN."""
    v = np.asarray(values, dtype="float64")
    out = v.copy()
    for i in np.flatnonzero(np.isfinite(v) & (v != 0)):
        out[i] = round(float(v[i]), figures - 1 - int(np.floor(np.log10(abs(v[i])))))
    return out


def rate_text(value) -> str:
    """A rate as shown: :func:`significant`, trailing zero included ("2.0", "45", "120", "0.45",
    "1,200"); empty for no rate."""
    if value is None or not np.isfinite(value):
        return ""
    value = float(significant([value])[0])
    if value == 0:
        return "0"
    places = max(RATE_FIGURES - 1 - int(np.floor(np.log10(abs(value)))), 0)
    return f"{value:,.{places}f}"


def rate_per_1000(counts: pd.Series, population: pd.Series) -> pd.Series:
    """Incidents per 1,000 residents, to :data:`RATE_FIGURES` significant figures; NaN where no
    population (the method: :data:`RATE_METHOD`)."""
    pop = population.reindex(counts.index).astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = 1000 * counts.astype("float64") / pop.where(pop > 0)
    return pd.Series(significant(rate.to_numpy()), index=rate.index, name=rate.name)


def near_edge(store, selection: Selection) -> pd.Series:
    """Incidents of ``selection`` within :data:`EDGE_METRES` of the outline of the ward they are in,
    per ward code (wards with none left out). For a source of points (an area-count source has none).
    Distinct map points are measured once (:func:`geodata.assign.edge_distance`)."""
    points = store.counts(by=("x", "y", "ward_code"), **selection.filters()).dropna(subset=["x", "y", "ward_code"])
    wards = store.areas("ward")
    far = edge_distance(wards, points["ward_code"].to_numpy(), points["x"].to_numpy(), points["y"].to_numpy())
    near = points[far <= EDGE_METRES]
    return near.groupby("ward_code")["incidents"].sum().astype("int64")


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
def outline(store, wards=()):
    """The study area's outline (EPSG:27700): the union of the wards with codes ``wards``, or the district when
    none is given."""
    wards = list(wards)
    if not wards:
        return store.boundary()
    areas = store.areas("ward")
    return shapely.union_all(areas.geometries[np.isin(areas.codes, list(wards))])


def study_area(store, selection: Selection, period: Period | None = None):
    """(outline, located incidents) of the selection: the district or the union of the chosen
    wards (:func:`outline`), and only the incidents inside it (:meth:`geodata.store.Store.incidents` with
    ``inside``), with a location."""
    incidents = store.incidents(**selection.filters(period))
    return outline(store, selection.wards), incidents.dropna(subset=["x", "y"])


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
    "Opening",
    "comparable_period",
    "opening_period",
    "base_period",
    "change_table",
    "comparison",
    "disclose",
    "dispersion",
    "harm",
    "is_small",
    "missing_months",
    "counted_period",
    "missing_text",
    "period_totals",
    "public_cells",
    "near_edge",
    "rate_per_1000",
    "rate_text",
    "significant",
    "study_area",
    "withheld",
]
