"""Status of each CSP priority against its target rule, with figures straight from the store.

For a priority's measure and a period of ``window`` months ending at ``end``
(default: the priority's target window, ending at the latest month its source
has loaded):

* ``count``: incidents of the measure's source and categories in the area
  (assigned to a ward) in the period;
* the same for the ``window`` months before ("previous") and for the same
  months a year earlier ("year-earlier"), each tested against the period with
  the two-sided Poisson E-test (:func:`geodata.methods.change.e_test`; Krishnamoorthy &
  Thomson 2004), one test per comparison, not adjusted across priorities;
* a period any of whose months the source has not loaded has no count: it is
  reported as missing, never as zero (:attr:`Figure.missing`).

Rule ``limit-increase`` (the strategy's "limit further increases"), on the
comparison the target names: the status changes only on a significant change.
A significant rise (p < alpha) is **off track**; anything else (a rise or fall
that is not significant, or a significant fall) is **on track**; no count for
the period or its comparison is **no data**, naming the source and months
(the coverage rule, :func:`geodata.analysis.rules.comparison`). A rise that is
not significant is noise, so it moves no badge (:data:`RULE` is shown on screen). A priority takes
the worst status of its measures that have data, and
"no data" when none has (or when it has no measure at all).

For an audience without exact counts (:data:`~geodata.analysis.selection.PUBLIC`: the public, the kiosk
and the meeting pack), a sensitive source's figures, and so its status, are
worked out from its public cells (:mod:`geodata.methods.disclosure`: counts per ward
and month rounded at random to base 5), never from the true counts.

A measure that counts any synthetic record (:mod:`geodata.pipeline.synthetic`) in the
months it looks at says so first in its sentence (:data:`SYNTHETIC_LABEL`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from geodata.analysis import rules
from geodata.analysis.selection import ANALYST, Audience
from geodata.methods.change import compare as compare_counts
from geodata.methods.change import e_test
from geodata.methods.pvalue import p_clause
from geodata.months import Period, listing, months, of, shift, span
from geodata.priorities import Measure, Priorities, Priority
from geodata.store import Store
from loaders import plausible

#: Statuses from best to worst; ``no data`` sorts apart.
STATUSES = ("on track", "off track")
NO_DATA = "no data"
SYNTHETIC_LABEL = "SYNTHETIC DATA, not real records"
#: The status rule, as shown beside the badges.
RULE = (
    "Status changes only on a significant change: off track = a significant rise (Poisson E-test, "
    "p < the target's alpha) against the comparison the target names; otherwise on track; no data when "
    "a month of either period is not loaded."
)


@dataclass(frozen=True)
class Figure:
    """A count over ``start..end``; ``count`` is None when the source lacks ``missing`` months."""

    start: str
    end: str
    count: int | None
    missing: tuple[str, ...]


@dataclass(frozen=True)
class Change:
    """``figure`` against ``base`` (an earlier period of the same length)."""

    name: str
    base: Figure
    p: float | None
    pct: float | None
    label: str  # "significant rise", "significant fall", "no significant change" or "no data"

    def phrase(self, current: Figure) -> str:
        if self.label == NO_DATA:
            return f"{self.name}: no data ({_missing_text(self.base)})"
        a, b = current.count, self.base.count
        if a is None or b is None:
            raise ValueError(f"{self.name}: a change labelled {self.label!r} needs both counts, got {a} and {b}")
        if self.pct is None:
            move = f"rose from 0 to {a:,}" if a else "was 0 in both periods"
        elif a == b:
            move = f"unchanged ({b:,} -> {a:,})"
        else:
            move = f"{'rose' if a > b else 'fell'} {abs(self.pct):.0f}% ({b:,} -> {a:,})"
        base = span(self.base.start, self.base.end)
        return f"{move} against {self.name} ({base}), {self.label}, {p_clause(self.p)}"


@dataclass
class MeasureStatus:
    measure: Measure
    current: Figure
    previous: Change
    year_earlier: Change
    status: str
    sentence: str
    data_to: str | None
    series: pd.DataFrame = field(repr=False)  # month, count (None where not loaded)
    wards: pd.DataFrame = field(repr=False)  # ward_code, ward_name, current, previous, change columns
    synthetic: int = 0  # synthetic records among those counted (the sentence then says so first)
    withheld: bool = False  # a sensitive source shown to an audience without exact counts (disclosure)


@dataclass
class PriorityStatus:
    priority: Priority
    measures: list[MeasureStatus]
    status: str
    sentence: str

    @property
    def data_to(self) -> str | None:
        ends = [m.data_to for m in self.measures if m.data_to]
        return max(ends) if ends else None


def _missing_text(fig: Figure) -> str:
    return f"not loaded for {listing(fig.missing)}"


def complete_months(store: Store, priorities: Priorities | None = None) -> list[str]:
    """The months a meeting can end at, sorted: the complete months (before the current month) loaded
    for a source the ``priorities`` measure (default: any source), within each source's plausible
    months (:func:`geodata.analysis.rules.loaded_months`), so neither another source's partition nor
    one bad row an older version loaded can move the meeting's latest month."""
    ids = (
        {m.source for p in priorities.priorities for m in p.measures}
        if priorities is not None
        else set(store.partitions()["source"])
    )
    return sorted(_complete({m for s in ids for m in rules.loaded_months(store, s)}))


def latest_month(store: Store, priorities: Priorities | None = None) -> str:
    """The month the Meeting page, kiosk and pack show "Data to" and end at by default: the latest of
    :func:`complete_months`; this month when there is none."""
    ended = complete_months(store, priorities)
    return ended[-1] if ended else of(plausible.today())


def _complete(loaded: set[str]) -> set[str]:
    """The ``loaded`` months that have ended (the current month never has)."""
    current = of(plausible.today())
    return {m for m in loaded if m < current}


def _figure(monthly: pd.Series, loaded: set[str], start: str, end: str) -> Figure:
    wanted = months(start, end)
    missing = tuple(m for m in wanted if m not in loaded)
    count = None if missing else int(monthly.reindex(wanted, fill_value=0).sum())
    return Figure(start, end, count, missing)


def _change(name: str, current: Figure, base: Figure, window: int, alpha: float) -> Change:
    if current.count is None or base.count is None:
        return Change(name, base, None, None, NO_DATA)
    a, b = current.count, base.count
    p = e_test(a, b, window, window)
    pct = 100.0 * (a - b) / b if b else None
    label = "no significant change" if p >= alpha else ("significant rise" if a > b else "significant fall")
    return Change(name, base, p, pct, label)


def _judge(change: Change, current: Figure, alpha: float) -> str:
    if change.label == NO_DATA:
        return NO_DATA
    return "off track" if change.label == "significant rise" else "on track"


def measure_status(
    store: Store,
    measure: Measure,
    priority: Priority,
    end: str | None = None,
    window: int | None = None,
    compare: str | None = None,
    audience: Audience = ANALYST,
) -> MeasureStatus:
    """Figures, comparisons, status and sentence of one measure (see the module docstring).

    An ``audience`` without exact counts of a sensitive source (:func:`geodata.analysis.rules.withheld`)
    gets the measure marked ``withheld``, and every figure of it (counts, ward counts, monthly series,
    changes, p-values, status) computed from the public ward-by-month cells
    (:func:`geodata.analysis.rules.public_cells`), never from the true counts."""
    target = priority.target
    window = window or target.window_months
    compare = compare or target.compare
    loaded = rules.loaded_months(store, measure.source)
    data_to = max(_complete(loaded), default=None)
    end = end or data_to or latest_month(store)
    period = Period.ending(end, window)
    start = period.start
    counts = store.counts(by=("ward_code", "month"), start=shift(start, -max(window, 12)), end=end, **measure.filters())
    withheld = rules.withheld(measure.source, audience)
    if withheld:
        counts = rules.public_cells(store, counts, measure.source, measure.categories, measure.flags)
    monthly = counts.groupby(counts["month"].dt.strftime("%Y-%m"))["incidents"].sum()
    current = _figure(monthly, loaded, start, end)
    previous, year = (
        _change(name, current, _figure(monthly, loaded, base.start, base.end), window, target.alpha)
        for base, name in (rules.base_period(period, a) for a in rules.AGAINST)
    )
    chosen = previous if compare == rules.AGAINST[0] else year
    status = _judge(chosen, current, target.alpha)
    if not loaded:
        status, sentence = NO_DATA, f"{measure.label}: no data: no {measure.source_name} are loaded."
    elif current.count is None:
        status = NO_DATA
        sentence = (
            f"{measure.label}: no data: {measure.source_name} {_missing_text(current)} (period {span(start, end)})."
        )
    elif status == NO_DATA:
        sentence = (
            f"{measure.label}: {current.count:,} in {span(start, end)}; "
            f"{chosen.phrase(current)}, so the target cannot be judged."
        )
    else:
        sentence = f"{measure.label} {chosen.phrase(current)}."
    synthetic = store.synthetic_count(
        start=min(shift(start, -max(window, 12)), shift(end, -11)), end=end, **measure.filters()
    )
    if synthetic:
        sentence = f"{SYNTHETIC_LABEL}: {sentence}"
    series_months = months(shift(end, -11), end)
    series = pd.DataFrame(
        {"month": series_months, "count": [int(monthly.get(m, 0)) if m in loaded else None for m in series_months]}
    )
    return MeasureStatus(
        measure,
        current,
        previous,
        year,
        status,
        sentence,
        data_to,
        series,
        _ward_table(store, measure, current, chosen.base, window, counts if withheld else None),
        synthetic,
        withheld,
    )


def _ward_table(
    store: Store, measure: Measure, current: Figure, base: Figure, window: int, public: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Wards with the period's count, the comparison's, and the E-test per ward (BH-adjusted); with
    ``public`` (public ward-by-month cells) the ward counts are sums of those cells."""
    filters = measure.filters()

    def summary(fig: Figure) -> pd.DataFrame:
        if public is None:
            return store.ward_summary(start=fig.start, end=fig.end, **filters).set_index("ward_code")
        wards = store.wards().set_index("ward_code")
        return wards.assign(
            incidents=rules.period_totals(public, fig.start, fig.end).reindex(wards.index, fill_value=0)
        )

    now = summary(current)
    if current.count is None:
        now["incidents"] = pd.NA
    if current.count is None or base.count is None:
        table = now.rename(columns={"incidents": "current"})
        table["previous"] = pd.NA
        return table.reset_index().sort_values(["current", "ward_code"], ascending=[False, True])
    before = summary(base)
    table = compare_counts(now["incidents"], before["incidents"], window, window)
    table.insert(0, "ward_name", now["ward_name"])
    table.index.name = "ward_code"
    return table.reset_index().sort_values(["current", "ward_code"], ascending=[False, True])


def priority_status(
    store: Store,
    priority: Priority,
    end: str | None = None,
    window: int | None = None,
    compare: str | None = None,
    audience: Audience = ANALYST,
) -> PriorityStatus:
    """Status of one priority: the worst of its measures with data, else "no data"."""
    results = [measure_status(store, m, priority, end, window, compare, audience) for m in priority.measures]
    judged = [r for r in results if r.status != NO_DATA]
    if not priority.measures:
        gaps = "; ".join(f"{g.what}: {g.why}" for g in priority.gaps) or "none configured"
        return PriorityStatus(priority, results, NO_DATA, f"No data: no source measures this priority ({gaps}).")
    if not judged:
        return PriorityStatus(priority, results, NO_DATA, "No data. " + " ".join(r.sentence for r in results))
    worst = max(judged, key=lambda r: STATUSES.index(r.status))
    others = " ".join(r.sentence for r in results if r is not worst and r.status == NO_DATA)
    return PriorityStatus(priority, results, worst.status, (worst.sentence + " " + others).strip())


def evaluate(
    store: Store,
    priorities: Priorities,
    end: str | None = None,
    window: int | None = None,
    compare: str | None = None,
    audience: Audience = ANALYST,
) -> list[PriorityStatus]:
    """:func:`priority_status` for every priority, in the file's order, all for one period:
    ending at ``end`` (default: :func:`latest_month` of the priorities' sources); ``audience`` as for
    :func:`measure_status`."""
    with store.session():
        end = end or latest_month(store, priorities)
        return [priority_status(store, p, end, window, compare, audience) for p in priorities.priorities]
