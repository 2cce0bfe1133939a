"""Status of each CSP priority against its target rule, with figures straight from the store.

For a priority's measure and a period of ``window`` months ending at ``end``
(default: the priority's target window, ending at the latest month its source
has loaded):

* ``count``: incidents of the measure's source and categories in the area
  (assigned to a ward) in the loaded months of the period (:attr:`Figure.missing` names the
  others; a month not loaded is never a zero);
* **one comparison** (:func:`comparison_of`), the one the badge, headline, slide, overview row and
  pack all show: the target's (``compare``: the same months a year earlier, or the months before),
  made on the months of the period whose counterpart is loaded too, naming every month left out
  and why; when no month of the period has its counterpart loaded, the other comparison on the
  same terms, saying so (:attr:`Change.fallback`); when neither has one, **not judged**, with
  the reason (:data:`NOT_JUDGED`);
* the test (:func:`geodata.methods.change.rate_test`): a quasi-Poisson rate ratio whose dispersion is
  estimated from the measure's own monthly counts (:func:`geodata.analysis.rules.dispersion`), never
  below 1 (then the exact Poisson E-test), stated in the sentence; one test per priority measure,
  not adjusted across priorities.

Rule ``limit-increase`` (the strategy's "limit further increases"): the status changes only on a
significant change. A significant rise (p < alpha) is **off track**; anything else (a rise or fall
that is not significant, or a significant fall) is **on track**; no comparison possible is **not
judged** (the reason said); **no data** only when the source has loaded no month of the period. A
rise that is not significant is noise, so it moves no badge (:data:`RULE` is shown on screen). A
priority takes the worst status of its judged measures, else "not judged" when one has a count,
else "no data" (also when it has no measure at all).

For an audience without exact counts (:data:`~geodata.analysis.selection.PUBLIC`: the public, the
kiosk and the meeting pack), a sensitive source's shown figures (counts, ward counts, monthly series,
percentage changes) are sums of its public cells (:mod:`geodata.methods.disclosure`: counts per ward
and month rounded at random to base 5). Rounded counts are not Poisson counts, so the **verdict**
(status, "significant rise") is judged on the true counts and only the verdict is public: no
p-value or dispersion of the true counts is shown to that audience (:attr:`Change.withheld`), and no
ward has a verdict of its own (:data:`WITHHELD_WARD`).

A measure that counts any synthetic record (:mod:`geodata.pipeline.synthetic`) in the
months it looks at says so first in its sentence (:data:`SYNTHETIC_LABEL`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from geodata.analysis import rules
from geodata.analysis.annual import Annual, annual
from geodata.analysis.selection import ANALYST, Audience
from geodata.methods.change import Dispersion, rate_test
from geodata.methods.change import compare as compare_counts
from geodata.methods.pvalue import p_clause
from geodata.priorities import Measure, Priorities, Priority
from geodata.store import Store
from loaders import plausible
from loaders.months import Period, listing, months, of, shift, span

#: Statuses from best to worst; ``not judged`` and ``no data`` sort apart.
STATUSES = ("on track", "off track")
NO_DATA = "no data"
NOT_JUDGED = "not judged"
SYNTHETIC_LABEL = "SYNTHETIC DATA, not real records"
#: A ward's change verdict for an audience without exact counts of a sensitive source (disclosure control).
WITHHELD_WARD = "not shown (disclosure control)"
#: The status rule, as shown beside the badges.
RULE = (
    "Status changes only on a significant change: off track = a significant rise (p < the target's alpha) "
    "against the comparison the target names (the same months a year earlier), on the months loaded in both "
    "periods (any month left out is named), else against the months before (said so); the test allows for the "
    "counts' own variation (quasi-Poisson, dispersion from the monthly counts, never below Poisson); otherwise "
    "on track; not judged when no comparison can be made (the reason is given); no data only when nothing is "
    "loaded."
)


@dataclass(frozen=True)
class Figure:
    """A count over the months ``start..end`` except ``missing``; ``count`` is None when every month is missing."""

    start: str
    end: str
    count: int | None
    missing: tuple[str, ...]

    @property
    def counted(self) -> tuple[str, ...]:
        """The months counted."""
        return tuple(m for m in months(self.start, self.end) if m not in self.missing)

    @property
    def text(self) -> str:
        """'2024-01 to 2024-06', or the months counted when some are left out ('2024-01 to 2024-04')."""
        if self.missing and self.counted:
            return listing(self.counted).split(": ", 1)[-1]
        return span(self.start, self.end)


@dataclass(frozen=True)
class Change:
    """The period's months that have a loaded counterpart (``current``) against those counterparts
    (``base``), tested (:func:`comparison_of`)."""

    name: str  # "the same months a year earlier", "the previous 6 months"
    against: str  # one of rules.AGAINST
    current: Figure
    base: Figure
    p: float | None  # None: not judged, or withheld from the audience
    pct: float | None
    label: str  # "significant rise", "significant fall", "no significant change" or NOT_JUDGED
    reason: str = ""  # NOT_JUDGED: why; else the months left out and why ("" when none)
    dispersion: Dispersion | None = None
    fallback: str = ""  # the target's comparison this one replaces, and why ("" when it is the target's)
    withheld: bool = False  # judged on true counts, shown with public counts and the verdict only

    @property
    def judged(self) -> bool:
        return self.label != NOT_JUDGED

    def _move(self) -> str:
        a, b = self.current.count, self.base.count
        if a is None or b is None:
            raise ValueError(f"{self.name}: a change labelled {self.label!r} needs both counts, got {a} and {b}")
        if self.pct is None:
            return f"rose from 0 to {a:,}" if a else "was 0 in both periods"
        if a == b:
            return f"unchanged ({b:,} -> {a:,})"
        return f"{'rose' if a > b else 'fell'} {abs(self.pct):.0f}% ({b:,} -> {a:,})"

    def _test(self) -> str:
        if self.withheld:
            return "judged on the exact counts; only the verdict is public"
        return p_clause(self.p) + (f", {self.dispersion.text}" if self.dispersion else "")

    def phrase(self) -> str:
        """The change as a clause: 'rose 12% (1,000 -> 1,120) against the same months a year earlier
        (2024-01 to 2024-04; 2025-05, 2025-06 left out: ...), no significant change, p = 0.310 (dispersion ...)'."""
        lead = f"{self.fallback}: " if self.fallback else ""
        if not self.judged:
            return f"{lead}not judged against {self.name}: {self.reason}"
        left = f"; {self.reason}" if self.reason else ""
        test = f" ({self._test()})" if self.withheld else f", {self._test()}"
        return f"{lead}{self._move()} against {self.name} ({self.base.text}{left}), {self.label}{test}"

    def plain(self) -> str:
        """The change in plain words, for a slide read across a room: 'rose 40% (68 -> 95) on the same months a
        year earlier: within normal variation, not a significant change'. The months compared and the test's
        figures are :meth:`detail`, shown beside it in small type; not judged: :meth:`phrase` (the reason)."""
        if not self.judged:
            return self.phrase()
        instead = " (the comparison asked for could not be made: see below)" if self.fallback else ""
        return f"{self._move()} on {self.name}{instead}: {PLAIN_VERDICTS[self.label]}"

    def detail(self) -> str:
        """The months compared and the test's figures, for :meth:`plain` ("" when not judged):
        'Compared: 2025-01 to 2025-04 against 2024-01 to 2024-04 (2025-05, 2025-06 left out: ...); p = 0.121, ...',
        after the fallback's reason when the comparison asked for could not be made."""
        if not self.judged:
            return ""
        lead = f"{self.fallback[0].upper()}{self.fallback[1:]}. " if self.fallback else ""
        left = f" ({self.reason})" if self.reason else ""
        return f"{lead}Compared: {self.current.text} against {self.base.text}{left}; {self._test()}"


#: The change test's verdicts in plain words (:meth:`Change.plain`).
PLAIN_VERDICTS = {
    "significant rise": "a significant rise, more than the counts' usual variation",
    "significant fall": "a significant fall, more than the counts' usual variation",
    "no significant change": "within the counts' usual variation, not a significant change",
}


@dataclass
class MeasureStatus:
    measure: Measure
    current: Figure
    change: Change  # the one comparison (module docstring)
    status: str
    sentence: str
    data_to: str | None
    series: pd.DataFrame = field(repr=False)  # month, count (None where not loaded)
    wards: pd.DataFrame = field(repr=False)  # ward_code, ward_name, current, previous, change columns
    synthetic: int = 0  # synthetic records among those counted (the sentence then says so first)
    withheld: bool = False  # a sensitive source shown to an audience without exact counts (disclosure)

    def plain(self) -> str:
        """:attr:`sentence` in plain words when the change is judged (:meth:`Change.plain`), else the sentence
        (it says why there is no verdict); the months and the test are :meth:`detail`."""
        if self.current.count is None or not self.change.judged:
            return self.sentence
        lead = f"{SYNTHETIC_LABEL}: " if self.synthetic else ""
        return f"{lead}{self.measure.label} {self.change.plain()}."

    def detail(self) -> str:
        """What :meth:`plain` leaves out: the period's months not loaded, the months compared, the test."""
        if self.current.count is None or not self.change.judged:
            return ""
        c = self.current
        counted = f"{span(c.start, c.end)} counted over {c.text} ({_missing_text(c)}). " if c.missing else ""
        return f"{counted}{self.change.detail()}."


@dataclass
class PriorityStatus:
    priority: Priority
    measures: list[MeasureStatus]
    status: str
    sentence: str
    plain: str = ""  # the sentence in plain words, for slides (MeasureStatus.plain); "" = the sentence
    detail: str = ""  # what plain leaves out, shown beside it in small type (MeasureStatus.detail)
    annual: Annual | None = None  # no measure has a count: the priority's annual figures for the period, if any

    @property
    def data_to(self) -> str | None:
        ends = [m.data_to for m in self.measures if m.data_to]
        return max(ends) if ends else None


def _missing_text(fig: Figure) -> str:
    return f"not loaded for {listing(fig.missing)}"


def complete_months(store: Store, priorities: Priorities | None = None) -> list[str]:
    """The months a meeting can end at, sorted: the complete months (before the current month) loaded
    for a source the ``priorities`` measure (default: any source), within each source's plausible
    months (:meth:`geodata.store.Store.loaded_months`), so neither another source's partition nor
    one bad row an older version loaded can move the meeting's latest month."""
    ids = (
        {m.source for p in priorities.priorities for m in p.measures}
        if priorities is not None
        else set(store.partitions()["source"])
    )
    return sorted(_complete({m for s in ids for m in store.loaded_months(s)}))


def latest_month(store: Store, priorities: Priorities | None = None) -> str:
    """The month the Meeting page, kiosk and pack show "Data to" and end at by default: the latest of
    :func:`complete_months`; this month when there is none."""
    ended = complete_months(store, priorities)
    return ended[-1] if ended else of(plausible.today())


def _complete(loaded: set[str]) -> set[str]:
    """The ``loaded`` months that have ended (the current month never has)."""
    current = of(plausible.today())
    return {m for m in loaded if m < current}


def _figure(monthly: pd.Series, start: str, end: str, counted) -> Figure:
    wanted = months(start, end)
    missing = tuple(m for m in wanted if m not in counted)
    count = None if len(missing) == len(wanted) else int(monthly.reindex(wanted, fill_value=0)[list(counted)].sum())
    return Figure(start, end, count, missing)


def _one(
    period: Period,
    against: str,
    loaded: set[str],
    true_monthly: pd.Series,
    shown_monthly: pd.Series,
    counts: pd.DataFrame,
    alpha: float,
    withheld: bool,
) -> Change:
    """One comparison on the months of ``period`` whose counterpart is loaded (module docstring)."""
    base, name = rules.base_period(period, against)
    pairs = list(zip(period.months, base.months))
    kept = [(m, c) for m, c in pairs if m in loaded and c in loaded]
    unloaded = sorted({x for pair in pairs for x in pair if x not in loaded})
    now = _figure(shown_monthly, period.start, period.end, [m for m, _ in kept])
    before = _figure(shown_monthly, base.start, base.end, [c for _, c in kept])
    if not kept:
        reason = f"no month of {period.text} has its counterpart loaded: {listing(unloaded)} not loaded"
        return Change(name, against, now, before, None, None, NOT_JUDGED, reason)
    left = ""
    if len(kept) < len(pairs):
        out = tuple(m for m, c in pairs if (m, c) not in kept)
        left = f"{', '.join(out) if len(out) < 3 else listing(out)} left out: {', '.join(unloaded)} not loaded"
    cur_m, base_m = [m for m, _ in kept], [c for _, c in kept]
    try:
        disp = rules.dispersion(counts, (cur_m, base_m), loaded, period.end)
    except ValueError as err:
        return Change(name, against, now, before, None, None, NOT_JUDGED, str(err))
    a, b = int(true_monthly.reindex(cur_m, fill_value=0).sum()), int(true_monthly.reindex(base_m, fill_value=0).sum())
    p = rate_test(a, b, len(kept), len(kept), disp)
    label = "no significant change" if p >= alpha else ("significant rise" if a > b else "significant fall")
    shown_a, shown_b = now.count or 0, before.count or 0
    pct = 100.0 * (shown_a - shown_b) / shown_b if shown_b else None
    if withheld:
        return Change(name, against, now, before, None, pct, label, left, None, "", True)
    return Change(name, against, now, before, p, pct, label, left, disp)


def comparison_of(
    period: Period,
    compare: str,
    loaded: set[str],
    counts: pd.DataFrame,
    alpha: float,
    public: pd.DataFrame | None = None,
) -> Change:
    """The one comparison of a measure (module docstring): the target's (``compare``), else the other
    one, saying so, else not judged. ``counts``: true counts with ``month`` and ``incidents`` (and
    ``ward_code``); ``public``: the public cells to show instead (disclosure), the verdict still judged
    on ``counts``."""

    def by_month(table: pd.DataFrame) -> pd.Series:
        return table.groupby(table["month"].dt.strftime("%Y-%m"))["incidents"].sum()

    true_monthly = by_month(counts)
    shown = true_monthly if public is None else by_month(public)
    other = next(a for a in rules.AGAINST if a != compare)
    first = _one(period, compare, loaded, true_monthly, shown, counts, alpha, public is not None)
    if first.judged:
        return first
    second = _one(period, other, loaded, true_monthly, shown, counts, alpha, public is not None)
    if not second.judged:
        return first
    return replace(second, fallback=f"against {first.name} not judged ({first.reason}), so against {second.name}")


def measure_status(
    store: Store,
    measure: Measure,
    priority: Priority,
    end: str | None = None,
    window: int | None = None,
    compare: str | None = None,
    audience: Audience = ANALYST,
) -> MeasureStatus:
    """Figures, the comparison, status and sentence of one measure (see the module docstring).

    An ``audience`` without exact counts of a sensitive source (:func:`geodata.analysis.rules.withheld`)
    gets the measure marked ``withheld``: every figure shown (counts, ward counts, monthly series,
    percentage changes) is a sum of the public ward-by-month cells (:func:`geodata.analysis.rules.public_cells`);
    the verdicts are judged on the true counts and shown without their p-values."""
    target = priority.target
    window = window or target.window_months
    compare = compare or target.compare
    loaded = set(store.loaded_months(measure.source))
    data_to = max(_complete(loaded), default=None)
    end = end or data_to or latest_month(store)
    period = Period.ending(end, window)
    start = period.start
    first = min(shift(start, -max(window, 12)), shift(end, -11))
    counts = store.counts(by=("ward_code", "month"), start=first, end=end, **measure.filters())
    withheld = rules.withheld(measure.source, audience)
    public = rules.public_cells(store, counts, measure.source, measure.categories, measure.flags) if withheld else None
    shown = counts if public is None else public
    monthly = shown.groupby(shown["month"].dt.strftime("%Y-%m"))["incidents"].sum()
    current = _figure(monthly, start, end, [m for m in period.months if m in loaded])
    chosen = comparison_of(period, compare, loaded, counts, target.alpha, public)
    counted = ""
    if current.missing:
        counted = f" ({span(start, end)} counted over {current.text}; {_missing_text(current)})"
    if not loaded:
        status, sentence = NO_DATA, f"{measure.label}: no data: no {measure.source_name} are loaded."
    elif current.count is None:
        status = NO_DATA
        sentence = (
            f"{measure.label}: no data: {measure.source_name} {_missing_text(current)} (period {span(start, end)})."
        )
    elif not chosen.judged:
        status = NOT_JUDGED
        sentence = f"{measure.label}: {current.count:,} in {span(start, end)}{counted}; {chosen.phrase()}."
    else:
        status = "off track" if chosen.label == "significant rise" else "on track"
        sentence = f"{measure.label}{counted} {chosen.phrase()}."
    synthetic = store.synthetic_count(start=first, end=end, **measure.filters())
    if synthetic:
        sentence = f"{SYNTHETIC_LABEL}: {sentence}"
    series_months = months(shift(end, -11), end)
    series = pd.DataFrame(
        {"month": series_months, "count": [int(monthly.get(m, 0)) if m in loaded else None for m in series_months]}
    )
    return MeasureStatus(
        measure,
        current,
        chosen,
        status,
        sentence,
        data_to,
        series,
        _ward_table(store, current, chosen, loaded, counts, public),
        synthetic,
        withheld,
    )


def _ward_table(
    store: Store, current: Figure, change: Change, loaded: set[str], counts: pd.DataFrame, public: pd.DataFrame | None
) -> pd.DataFrame:
    """Wards with the period's count (``current``), the count in the months compared (``compared``) and
    their counterparts' (``previous``), and the change test per ward on those months (Benjamini-Hochberg
    adjusted, dispersion pooled over the wards' monthly counts). With
    ``public`` (public ward-by-month cells) the counts shown are sums of those cells and no ward has a
    verdict (:data:`WITHHELD_WARD`): a verdict on a ward's small true counts could narrow them, which the
    rounding is there to prevent; the priority's own verdict, on the district's counts, is public."""
    wards = store.wards().set_index("ward_code")[["ward_name"]]

    def totals(table: pd.DataFrame, counted) -> pd.Series:
        keep = table["month"].dt.strftime("%Y-%m").isin(list(counted))
        return table[keep].groupby("ward_code")["incidents"].sum().reindex(wards.index, fill_value=0)

    shown = counts if public is None else public
    now = wards.copy()
    now["current"] = totals(shown, current.counted) if current.count is not None else pd.NA
    if not change.judged:
        now["previous"] = pd.NA
        return now.reset_index().sort_values(["current", "ward_code"], ascending=[False, True])
    k = len(change.current.counted)
    try:
        disp = rules.dispersion(
            counts, (list(change.current.counted), list(change.base.counted)), loaded, current.end, "ward_code"
        )
    except ValueError:
        table = now.assign(previous=totals(shown, change.base.counted))
        return table.reset_index().sort_values(["current", "ward_code"], ascending=[False, True])
    a, b = totals(counts, change.current.counted), totals(counts, change.base.counted)
    table = compare_counts(a, b, k, k, dispersion=disp)
    if public is not None:
        a, b = totals(public, change.current.counted), totals(public, change.base.counted)
        ratio = (a / b).where(b > 0)
        nan = float("nan")
        table = table.assign(current=a, previous=b, difference=a - b, ratio=ratio, pct_change=100 * (ratio - 1))
        table = table.assign(sqrt_z=nan, p=nan, p_adj=nan, change=WITHHELD_WARD)
    table.insert(0, "ward_name", wards["ward_name"])
    table.insert(1, "compared", table["current"])  # the months compared (the period's, less any left out)
    table["current"] = now["current"]
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
    """Status of one priority: the worst of its judged measures, else "not judged" when a measure has a
    count, else "no data"."""
    results = [measure_status(store, m, priority, end, window, compare, audience) for m in priority.measures]
    if not priority.measures:
        gaps = "; ".join(f"{g.what}: {g.why}" for g in priority.gaps) or "none configured"
        return PriorityStatus(priority, results, NO_DATA, f"No data: no source measures this priority ({gaps}).")
    judged = [r for r in results if r.status in STATUSES]
    figures = None
    if all(r.current.count is None for r in results):  # no monthly count: the annual figures, where published
        period = Period(results[0].current.start, results[0].current.end)
        figures = next(
            (f for f in (annual(store, s, period, priority.target.alpha) for s in priority.annual) if f), None
        )
    if not judged:
        status = NOT_JUDGED if any(r.status == NOT_JUDGED for r in results) else NO_DATA
        lead, shown = f"{status.capitalize()}. ", results
        if status == NO_DATA and figures is not None:  # figures are shown: "no data" would deny them (README)
            lead = (  # the badge says "not judged" beside it (the pack printed it twice)
                f"No monthly source covers the period, and the annual figures shown ({figures.year}, "
                "DEFRA) are context, not a verdict on it. "
            )
            status = NOT_JUDGED
    else:
        worst = max(judged, key=lambda r: STATUSES.index(r.status))
        status, lead = worst.status, ""
        shown = [worst] + [r for r in results if r is not worst and r.status not in STATUSES]
    return PriorityStatus(
        priority,
        results,
        status,
        lead + " ".join(r.sentence for r in shown),
        lead + " ".join(r.plain() for r in shown),
        " ".join(r.detail() for r in shown if r.detail()),
        figures,
    )


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
