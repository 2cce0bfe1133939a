"""The meeting's slides: which slides, in what order, and what each says (the kiosk and the pack draw them).

:func:`slides` gives, for one period (as :func:`geodata.analysis.status.evaluate`):

1. an **overview** (:class:`Overview`): every priority, its status, a direction and one number;
2. one **priority slide** (:class:`PrioritySlide`) per *measured* priority, in the file's order;
3. one **"not measured yet"** slide (:class:`NotMeasured`) for every other priority, each with the
   data that would measure it (omitted when every priority is measured);
4. a last slide, **how to read these slides** (:class:`Method`): the comparison used and who chose it
   (:func:`comparison_words`), the rules in plain words (:data:`READING`) and the sources.

The priority slides speak plain words (:meth:`geodata.analysis.status.PriorityStatus.plain`) with the
months compared and the test's figures beside them in small type; the method is on the last slide.

Rules (README, "Rules", Meeting):

* **Measured**: a measure has a count for the period; or, when no measure does, the priority names
  annual figures (``annual`` in the priorities file) and the store holds them.
* **Headline change** (:func:`headline`): the status' one comparison (:func:`geodata.analysis.status.comparison_of`:
  the target's, on the months loaded in both periods, naming any month left out, else the months
  before, said so, else "not judged" with the reason), so the badge, headline, slide, overview row and
  pack cannot disagree; the figures (count, p, change, dispersion) are the status' own.
* **Run chart** (:func:`run_chart`): the XmR chart (:mod:`geodata.methods.runchart`, NHS "Making Data
  Count") of the measure's monthly counts (incidents assigned to a ward, as the status counts
  them) from the source's first loaded month to the period's end, months not loaded as gaps. The
  **baseline** (mean and process limits) is the loaded months before the period when they hold at
  least two consecutive months, else the whole series; :attr:`RunChart.baseline_note` states it.
  Lower is better (crime, fly-tipping). Its **icon** speaks for the points of the period
  (:meth:`geodata.methods.runchart.XmR.icon` from the period's first month): special cause when any point
  it marks in the period fires a rule. A measure of two or more categories also gets one run chart
  per category (small multiples), same rule.
* **Outcomes**: for a police.uk measure, the latest outcomes of the period's crimes, the same
  crimes the headline counts (the study area; :func:`geodata.methods.outcomes.outcome_shares`).
* **Annual figures** (:func:`annual`): the district's total per financial year (DEFRA), labelled
  annual; the year shown is the latest published financial year overlapping the period, else the
  latest before it, its age said ("older than the period"); it is compared with the year before by
  the status' test, the dispersion estimated from the published years' successive differences
  (:func:`geodata.methods.change.successive_dispersion`). The priority's badge is then "not judged"
  (its measures have no count for the period; the annual figures are context, not a verdict on the
  period), never "no data" beside figures.
* A sensitive source shown to an audience without exact counts (``withheld``) gets no run chart
  and no outcome shares; its number and change are the status' own, made from the public cells
  (:func:`geodata.analysis.rules.public_cells`, random rounding to base 5).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from geodata import sources
from geodata.analysis import rules
from geodata.analysis.annual import Annual, annual
from geodata.analysis.selection import ANALYST, Audience
from geodata.analysis.status import (
    NO_DATA,
    NOT_JUDGED,
    RULE,
    Change,
    MeasureStatus,
    PriorityStatus,
    evaluate,
    latest_month,
)
from geodata.methods import outcomes, runchart
from geodata.methods.pvalue import p_clause
from geodata.priorities import Measure, Priorities, Priority
from geodata.store import Store
from loaders import months
from loaders.months import Period

UP, DOWN, SAME = "up", "down", "same"


@dataclass(frozen=True)
class RunChart:
    """An XmR chart of one monthly series, with its baseline stated."""

    label: str
    chart: runchart.XmR
    baseline_note: str
    period_start: str  # the icon speaks for the points from this month on

    @property
    def icon(self) -> str:
        return self.chart.icon(self.period_start)


@dataclass(frozen=True)
class Headline:
    """A measure's number for the period and the status' one comparison."""

    number: str  # the count as shown ("1,234"; under disclosure control, as disclosed)
    count: int
    period: str
    change: Change  # the status' comparison, judged or not (its reason then says why)

    @property
    def direction(self) -> str | None:
        c = self.change
        if not c.judged or c.current.count is None:
            return None
        return _direction(c.base.count, c.current.count)

    @property
    def short(self) -> str:
        """The change in a few words, for the overview row and a slide: '+6% on a year earlier (4 of 6
        months), not significant'; not judged: 'not judged: <the reason>'."""
        c = self.change
        if not c.judged:
            return f"not judged: {c.reason}"
        against = "a year earlier" if c.against == "year-earlier" else c.name.removeprefix("the ")
        on = f" ({len(c.current.counted)} of {len(months.months(c.current.start, c.current.end))} months)"
        return (
            f"{'from 0' if c.pct is None else f'{c.pct:+.0f}%'} on {against}{on if c.current.missing else ''}, "
            f"{'significant' if c.label.startswith('significant') else 'not significant'}"
        )

    @property
    def text(self) -> str:
        """'+12% against the same months a year earlier (2024-01 to 2024-06, 1,000), no significant change
        (p = 0.310)', naming the months compared when some are left out (the status sentence beside it says
        which and why, and the dispersion); not judged: why."""
        c = self.change
        if not c.judged:
            return c.phrase()
        pct = "from 0" if c.pct is None else f"{c.pct:+.0f}%"
        test = "judged on the exact counts" if c.withheld else p_clause(c.p)
        instead = " instead" if c.fallback else ""  # the status sentence says why
        if c.current.missing:  # the months compared, and theirs (the sentence beside it names those left out)
            return f"{pct} on {c.current.text} against {c.name}{instead} ({c.base.text}), {c.label} ({test})"
        base = c.base.count if c.base.count is not None else 0
        return f"{pct} against {c.name}{instead} ({c.base.text}, {base:,}), {c.label} ({test})"


@dataclass(frozen=True)
class MeasurePart:
    """What a priority slide shows of one measure with a count for the period."""

    status: MeasureStatus
    headline: Headline
    chart: RunChart | None
    multiples: tuple[RunChart, ...]  # one per category when the measure has two or more
    outcomes: outcomes.OutcomeShares | None


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


#: How to read the slides, in plain words, for the last slide (:class:`Method`) and the pack's notes:
#: (heading, text). The rules themselves: :data:`geodata.analysis.status.RULE`, :mod:`geodata.methods.change`,
#: :mod:`geodata.methods.runchart`.
READING = (
    (
        "Status",
        "Off track only when a rise is significant: larger than the month-to-month variation of the counts "
        "themselves would give by chance (a quasi-Poisson test at the priority's level, 5% unless its target "
        "says otherwise). Otherwise on track. Not judged when the months to compare with are not loaded "
        "(each priority says which). No data only when nothing is loaded: never shown as zero.",
    ),
    (
        "Months left out",
        "A change compares only months loaded in both periods; any month left out is named beside the change, "
        "with the test's figures (p, and the dispersion: how much more the counts vary than pure chance, "
        "never taken below 1).",
    ),
    (
        "Run charts",
        "Each month's count, with its usual range (an XmR chart, NHS Making Data Count) worked out from the "
        "months before the period. A point outside the range, 7 in a row on one side of the mean, 6 rising "
        "or falling, or 2 of 3 near a limit is special cause: unusual, worth a look. Grey: not loaded.",
    ),
    (
        "Maps",
        "Incidents in the period by ward; every ward is named. Counts are of incidents police.uk places in "
        "the ward (its map points are moved to anonymise them).",
    ),
)


@dataclass(frozen=True)
class Method:
    """The last slide: the comparison used, how to read the slides (:data:`READING`), and the sources."""

    comparison: str
    reading: tuple[tuple[str, str], ...] = READING


@dataclass
class Slides:
    data_to: str
    overview: Overview
    priorities: list[PrioritySlide]
    not_measured: NotMeasured | None
    slides: list = field(default_factory=list)  # overview, priority slides, not-measured slide, method, in order
    comparison: str = ""  # which comparison the statuses use, and who chose it (:func:`comparison_words`)


def _direction(before, after) -> str:
    return SAME if after == before else UP if after > before else DOWN


def headline(m: MeasureStatus) -> Headline:
    """The measure's number and its change: the status' one comparison (module docstring)."""
    count = m.current.count
    if count is None:
        raise ValueError(
            f"{m.measure.label}: no headline without a count (months missing: {', '.join(m.current.missing)})"
        )
    number = f"{count:,}"  # withheld: the status' figures are sums of the public cells already
    return Headline(number, count, m.current.text, m.change)


def monthly(store: Store, measure: Measure, end: str, category: str | None = None) -> dict[str, int | None]:
    """The measure's monthly counts (incidents assigned to a ward) from the source's first loaded
    month to ``end``: 'YYYY-MM' -> count, None where the month is not loaded."""
    loaded = set(store.loaded_months(measure.source))
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
    for baseline, what in (((first, before), "before the period"), (None, "in all, the period included")):
        if baseline is not None and before < first:
            continue
        try:
            chart = runchart.xmr(series, baseline=baseline, lower_is_better=True)
        except ValueError:
            continue
        b0, b1 = chart.baseline
        note = (
            f"Usual range (mean and limits) from {chart.baseline_points} months loaded {what} "
            f"({months.span(b0, b1)}){'; provisional: fewer than 12' if chart.provisional else ''}."
        )
        return RunChart(label, chart, note, period.start)
    return None


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
        parts.append(MeasurePart(m, headline(m), chart, multiples, shares))
    figures = r.annual if not parts else None  # no monthly count: the annual figures, where there are some
    # a shown priority's status sentence already names its measures without data
    unmeasured = unmeasured if not (parts or figures) else []
    unmeasured += [f"{g.what}: {g.why}." for g in r.priority.gaps]
    return PrioritySlide(r, parts, figures, unmeasured)


def _row(s: PrioritySlide) -> OverviewRow:
    r = s.result
    if s.parts:
        part = s.parts[0]
        h = part.headline
        return OverviewRow(
            r.priority,
            r.status,
            h.number,
            f"{part.status.measure.label}, {h.period}",
            h.direction,
            h.short,
            part.chart.icon if part.chart else None,
        )
    if s.annual is not None:
        year, value = s.annual.shown
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
    comparison = comparison_words(results, compare)
    ordered = [overview, *measured, *([not_measured] if not_measured else []), Method(comparison)]
    return Slides(data_to, overview, measured, not_measured, ordered, comparison)


def comparison_words(results: list[PriorityStatus], compare: str | None) -> str:
    """Which comparison the statuses use, and who chose it: the meeting's link (``compare=`` of the
    Meeting page, :data:`geodata.priorities.COMPARES`) or each priority's target. The comparisons named
    are the ones the measures made; where one asked for could not be made (its months not loaded, so
    the status fell back to the other: :func:`geodata.analysis.status.comparison_of`) it says so."""
    counted = [(r, m) for r in results for m in r.measures if m.current.count is not None]
    if not counted:
        return "No comparison: no measure has a count for the period."
    who = f"chosen for this meeting, compare={compare} in the link" if compare else "as each priority's target says"
    made = " or ".join(dict.fromkeys(m.change.name for _r, m in counted))
    fell = [m for _r, m in counted if m.change.fallback]
    if not fell:
        return f"Compared with {made}: {who}."
    asked = " or ".join(
        dict.fromkeys(
            rules.base_period(Period(m.current.start, m.current.end), compare or r.priority.target.compare)[1]
            for r, m in counted
        )
    )
    return (
        f"Asked for {asked} ({who}); compared with {made}: {len(fell)} of {len(counted)} measures could not be "
        "compared as asked, their months not loaded (each slide says which)."
    )


__all__ = [
    "Annual",
    "DOWN",
    "Headline",
    "MeasurePart",
    "Method",
    "NOT_JUDGED",
    "NO_DATA",
    "NotMeasured",
    "Overview",
    "OverviewRow",
    "PrioritySlide",
    "READING",
    "RunChart",
    "SAME",
    "Slides",
    "UP",
    "annual",
    "comparison_words",
    "headline",
    "monthly",
    "run_chart",
    "slides",
]
