"""The meeting's slides: which slides, in what order, and what each says (the kiosk and the pack draw them).

:func:`slides` gives, for one period (as :func:`geodata.analysis.status.evaluate`):

1. an **overview** (:class:`Overview`): every priority, its status, a direction and one number;
2. one **priority slide** (:class:`PrioritySlide`) per *measured* priority, in the file's order;
3. one **"not measured yet"** slide (:class:`NotMeasured`) for every other priority, each with the
   data that would measure it (omitted when every priority is measured).

Rules (README, "Rules", Meeting):

* **Measured**: a measure has a count for the period; or, when no measure does, the priority names
  annual figures (``annual`` in the priorities file) and the store holds them.
* **Headline change** (:func:`headline`): against the same months a year earlier when every month of
  both periods is loaded, else against the months before, else none; which is possible is the
  coverage rule (:func:`geodata.analysis.rules.comparison`), whose note says why when none is. The
  figures (count, p, change) are the status' own (:class:`geodata.analysis.status.Change`).
* **Run chart** (:func:`run_chart`): the XmR chart (:mod:`geodata.methods.runchart`, NHS "Making Data
  Count") of the measure's monthly counts (incidents assigned to a ward, as the status counts
  them) from the source's first loaded month to the period's end, months not loaded as gaps. The
  **baseline** (mean and process limits) is the loaded months before the period when they hold at
  least two consecutive months, else the whole series; :attr:`RunChart.baseline_note` states it.
  Lower is better (crime, fly-tipping). A measure of two or more categories also gets one run chart
  per category (small multiples), same rule.
* **Outcomes**: for a police.uk measure, the latest outcomes of the period's crimes, the same
  crimes the headline counts (the study area; :func:`geodata.methods.outcomes.outcome_shares`).
* **Annual figures** (:func:`annual`): the district's total per financial year (DEFRA), labelled
  annual; the latest year against the one before by the same E-test as the status.
* A sensitive source shown to an audience without exact counts (``withheld``) gets no run chart
  and no outcome shares; its number and change are the status' own, made from the public cells
  (:func:`geodata.analysis.rules.public_cells`, random rounding to base 5).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from geodata import months, sources
from geodata.analysis import flytipping_context, rules
from geodata.analysis.selection import ANALYST, Audience
from geodata.analysis.status import NO_DATA, RULE, Change, MeasureStatus, PriorityStatus, evaluate, latest_month
from geodata.methods import outcomes, runchart
from geodata.methods.change import e_test
from geodata.methods.pvalue import p_clause
from geodata.priorities import Measure, Priorities, Priority
from geodata.store import Store

#: Comparisons tried for the headline change, in order (see the module docstring).
HEADLINE_ORDER = ("year-earlier", "previous")
UP, DOWN, SAME = "up", "down", "same"


@dataclass(frozen=True)
class RunChart:
    """An XmR chart of one monthly series, with its baseline stated."""

    label: str
    chart: runchart.XmR
    baseline_note: str

    @property
    def icon(self) -> str:
        return self.chart.icon()


@dataclass(frozen=True)
class Headline:
    """A measure's number for the period and its change against the comparison the rule picks."""

    number: str  # the count as shown ("1,234"; under disclosure control, as disclosed)
    count: int
    period: str
    comparison: rules.Comparison
    change: Change | None  # None: no comparison possible (comparison.note says why) or withheld

    @property
    def direction(self) -> str | None:
        if self.change is None:
            return None
        return _direction(self.change.base.count, self.count)

    @property
    def text(self) -> str:
        """'+12% against the same months a year earlier (2024-01 to 2024-06), no significant change'."""
        if self.change is None:
            return self.comparison.note
        c = self.change
        pct = "from 0" if c.pct is None else f"{c.pct:+.0f}%"
        return (
            f"{pct} against {c.name} ({months.span(c.base.start, c.base.end)}, {c.base.count:,}), "
            f"{c.label} ({p_clause(c.p)})"
        )


@dataclass(frozen=True)
class MeasurePart:
    """What a priority slide shows of one measure with a count for the period."""

    status: MeasureStatus
    headline: Headline
    chart: RunChart | None
    multiples: tuple[RunChart, ...]  # one per category when the measure has two or more
    outcomes: outcomes.OutcomeShares | None


class AnnualChange(NamedTuple):
    """The latest year against the one before it: E-test p, judged at the priority's alpha."""

    year: str  # the year compared with
    before: float
    pct: float
    p: float
    significant: bool

    @property
    def text(self) -> str:
        """E.g. "-12% on 2022-23, not significant"."""
        return f"{self.pct:+.0f}% on {self.year}, {'significant' if self.significant else 'not significant'}"


@dataclass(frozen=True)
class Annual:
    """A district's annual figures (financial years), e.g. DEFRA fly-tipping incidents; ``alpha``:
    the significance level of the priority's target, which judges :attr:`change` (as the status does)."""

    label: str
    source: str
    years: tuple[str, ...]
    values: tuple[float | None, ...]  # None: not published
    note: str  # why annual figures are shown, and what they are
    alpha: float = 0.05

    @property
    def latest(self) -> tuple[str, float] | None:
        known = [(y, v) for y, v in zip(self.years, self.values) if v is not None]
        return known[-1] if known else None

    @property
    def change(self) -> AnnualChange | None:
        """The latest year against the one before it (None when either is not published)."""
        latest = self.latest
        if latest is None:
            return None
        i = self.years.index(latest[0])
        before = self.values[i - 1] if i else None
        if before is None:
            return None
        pct = 100.0 * (latest[1] - before) / before if before else float("nan")
        p = e_test(int(latest[1]), int(before), 1, 1)
        return AnnualChange(self.years[i - 1], before, pct, p, p < self.alpha)


@dataclass
class PrioritySlide:
    result: PriorityStatus
    parts: list[MeasurePart]
    annual: Annual | None
    unmeasured: list[str]  # what is not measured, as lines: the gaps (and, on no slide of its own, the measures)

    @property
    def priority(self) -> Priority:
        return self.result.priority


@dataclass(frozen=True)
class OverviewRow:
    priority: Priority
    status: str
    number: str | None  # None: not measured
    number_of: str  # what the number counts, and when
    direction: str | None  # UP, DOWN, SAME, or None (no comparison)
    change: str  # the direction in words
    icon: str | None  # the run chart's variation icon (geodata.methods.runchart), None without a chart


@dataclass
class Overview:
    rows: list[OverviewRow]
    rule: str = RULE


@dataclass
class NotMeasured:
    entries: list[tuple[Priority, list[str]]]  # (priority, what would measure it)


@dataclass
class Slides:
    data_to: str
    overview: Overview
    priorities: list[PrioritySlide]
    not_measured: NotMeasured | None
    slides: list = field(default_factory=list)  # overview, priority slides, not-measured slide, in order


def _direction(before, after) -> str:
    return SAME if after == before else UP if after > before else DOWN


def headline(store: Store, m: MeasureStatus, audience: Audience = ANALYST) -> Headline:
    """The measure's number and its headline change (module docstring: year earlier, else the months before)."""
    period = months.Period(m.current.start, m.current.end)
    tried = [rules.comparison(store, m.measure.source, period, a) for a in HEADLINE_ORDER]
    chosen = next((c for c in tried if c.possible), tried[0])
    change = {"year-earlier": m.year_earlier, "previous": m.previous}[HEADLINE_ORDER[tried.index(chosen)]]
    count = m.current.count
    if count is None:
        raise ValueError(
            f"{m.measure.label}: no headline without a count (months missing: {', '.join(m.current.missing)})"
        )
    number = f"{count:,}"  # withheld: the status' figures are sums of the public cells already
    return Headline(number, count, period.text, chosen, change if chosen.possible else None)


def monthly(store: Store, measure: Measure, end: str, category: str | None = None) -> dict[str, int | None]:
    """The measure's monthly counts (incidents assigned to a ward) from the source's first loaded
    month to ``end``: 'YYYY-MM' -> count, None where the month is not loaded."""
    loaded = rules.loaded_months(store, measure.source)
    first = min(loaded) if loaded else end
    filters = measure.filters()
    if category is not None:
        filters["categories"] = [category]
    counts = store.counts(by=("ward_code", "month"), start=first, end=end, **filters)
    by_month = counts.groupby(counts["month"].dt.strftime("%Y-%m"))["incidents"].sum()
    return {mo: (int(by_month.get(mo, 0)) if mo in loaded else None) for mo in months.months(first, end)}


def run_chart(series: dict[str, int | None], period: months.Period, label: str) -> RunChart | None:
    """The XmR chart of ``series`` with the baseline rule of the module docstring (None when the
    series has no two consecutive loaded months)."""
    before = months.shift(period.start, -1)
    first = min(series)
    for baseline, what in (((first, before), "the loaded months before the period"), (None, "every loaded month")):
        if baseline is not None and before < first:
            continue
        try:
            chart = runchart.xmr(series, baseline=baseline, lower_is_better=True)
        except ValueError:
            continue
        b0, b1 = chart.baseline
        note = (
            f"Mean and process limits from {what}: {chart.baseline_points} months loaded in "
            f"{months.span(b0, b1)}{' (provisional: fewer than 12)' if chart.provisional else ''}."
        )
        return RunChart(label, chart, note)
    return None


def annual(store: Store, source: str, alpha: float = 0.05) -> Annual | None:
    """The area's annual figures of the district-statistics ``source`` (DEFRA fly-tipping incidents),
    changes judged at ``alpha`` (the priority target's); None when the store holds none."""
    if source != sources.DEFRA.id:
        raise ValueError(f"no annual figures are defined for {source!r}")
    table = flytipping_context.series(store, store.config.area_code or "", (flytipping_context.TOTAL,))
    if table.empty:
        return None
    values = tuple(None if np.isnan(v) else float(v) for v in table[flytipping_context.TOTAL].astype("float64"))
    if all(v is None for v in values):
        return None
    return Annual(
        f"Fly-tipping incidents in {store.config.area_name}, per financial year (April to March)",
        source,
        tuple(table["year"]),
        values,
        "Annual figures (DEFRA, financial years April to March), shown because no monthly source "
        "covers the period; not comparable with monthly counts.",
        alpha,
    )


def _priority_slide(store: Store, r: PriorityStatus, audience: Audience) -> PrioritySlide:
    parts, unmeasured = [], []
    for m in r.measures:
        if m.current.count is None:
            unmeasured.append(m.sentence)
            continue
        period = months.Period(m.current.start, m.current.end)
        chart, shares = None, None
        multiples: tuple[RunChart, ...] = ()
        if not m.withheld:
            chart = run_chart(monthly(store, m.measure, period.end), period, m.measure.label)
            if len(m.measure.categories) > 1:
                multiples = tuple(
                    c
                    for c in (
                        run_chart(monthly(store, m.measure, period.end, cat), period, cat)
                        for cat in m.measure.categories
                    )
                    if c is not None
                )
            if m.measure.source == sources.POLICE.id:
                shares = outcomes.outcome_shares(  # the crimes the headline counts: the study area
                    store, period.start, period.end, list(m.measure.categories) or None, inside=True
                )
                shares = shares if shares.with_outcome else None
        parts.append(MeasurePart(m, headline(store, m, audience), chart, multiples, shares))
    figures = None
    if not parts:
        for source in r.priority.annual:
            figures = annual(store, source, r.priority.target.alpha)
            if figures:
                break
    # a shown priority's status sentence already names its measures without data
    unmeasured = unmeasured if not (parts or figures) else []
    unmeasured += [f"{g.what}: {g.why}." for g in r.priority.gaps]
    return PrioritySlide(r, parts, figures, unmeasured)


def _row(s: PrioritySlide) -> OverviewRow:
    r = s.result
    if s.parts:
        part = s.parts[0]
        h = part.headline
        direction = h.direction
        change = (
            "no comparison"
            if h.change is None
            else f"{'from 0' if h.change.pct is None else f'{h.change.pct:+.0f}%'} on "
            f"{'a year earlier' if h.change.name.endswith('year earlier') else h.change.name.removeprefix('the ')}"
            f", {'significant' if h.change.label.startswith('significant') else 'not significant'}"
        )
        return OverviewRow(
            r.priority,
            r.status,
            h.number,
            f"{part.status.measure.label}, {h.period}",
            direction,
            change,
            part.chart.icon if part.chart else None,
        )
    if s.annual is not None:
        latest = s.annual.latest
        if latest is None:
            raise ValueError(f"{s.annual.label}: no year has a published figure")
        year, value = latest
        ch = s.annual.change
        if ch is None:
            direction, change = None, "no comparison"
        else:
            direction = _direction(ch.before, value)
            change = ch.text
        return OverviewRow(r.priority, r.status, f"{value:,.0f}", f"in {year} (annual, DEFRA)", direction, change, None)
    return OverviewRow(r.priority, r.status, None, "not measured yet", None, "", None)


def slides(
    store: Store,
    priorities: Priorities,
    end: str | None = None,
    window: int | None = None,
    compare: str | None = None,
    audience: Audience = ANALYST,
    results: list[PriorityStatus] | None = None,
) -> Slides:
    """Every slide of the meeting, in order (module docstring). ``results``: the statuses already
    computed by :func:`geodata.analysis.status.evaluate` for the same arguments (else computed here)."""
    with store.session():
        results = results if results is not None else evaluate(store, priorities, end, window, compare, audience)
        built = [_priority_slide(store, r, audience) for r in results]
        data_to = latest_month(store, priorities)
    measured = [s for s in built if s.parts or s.annual is not None]
    others = [s for s in built if not (s.parts or s.annual is not None)]
    overview = Overview([_row(s) for s in built])
    not_measured = None
    if others:
        not_measured = NotMeasured([(s.priority, s.unmeasured or ["No source is configured."]) for s in others])
    ordered = [overview, *measured, *([not_measured] if not_measured else [])]
    return Slides(data_to, overview, measured, not_measured, ordered)


__all__ = [
    "Annual",
    "DOWN",
    "HEADLINE_ORDER",
    "Headline",
    "MeasurePart",
    "NO_DATA",
    "NotMeasured",
    "Overview",
    "OverviewRow",
    "PrioritySlide",
    "RunChart",
    "SAME",
    "Slides",
    "UP",
    "annual",
    "headline",
    "monthly",
    "run_chart",
    "slides",
]
