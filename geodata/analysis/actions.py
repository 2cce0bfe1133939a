"""The partnership's actions: what it does about a priority, where, and whether it worked.

Actions are kept in the store as an append-only history (:mod:`geodata.store.actions`: who changed
what and when, never overwritten); an action is read and written here in canonical form
(:class:`loaders.actions.Action`), checked against the priorities file, the area's wards and the
crime types (:func:`known`).

Who sees what (the pages decide the audience, :mod:`dashboard.access`): a signed-in partner
(``partner=True``) sees every action; the public and the meeting-room kiosk see only the actions
marked public. Only analysts and admins change actions (the Actions page and the command line).

Rules:

* **Update**: an edit names the fields it changes and only those are written, on the action's
  latest state (another editor's change of another field is kept); an edit made on a form that
  showed an older state is refused when a field it changes was changed since.
* **Open, overdue**: an action is open while its status is not started, on track or at risk; an
  open action whose review date is before today is flagged "review overdue" (:attr:`Current.overdue`).
* **Import**: every row of an action plan CSV is loaded or reported rejected with its file, line and
  field (:func:`loaders.actions.read`); a row with a blank id is a new action, a row with an id
  states that action (only its differences are recorded; an unchanged row records nothing).
* **Export**: the actions the audience may see, as the same CSV, through :func:`geodata.export.to_csv`.
* **Assessment** (:func:`assess`): a placed action's target area, a buffer and a control area,
  before and after its start, read by :mod:`geodata.methods.assessment`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from geodata import sources
from geodata.analysis import rules
from geodata.export import to_csv
from geodata.methods.assessment import (
    LEVEL,
    MIN_COUNT,
    Counts,
    Displacement,
    Effect,
    dispersion,
    displacement,
    refusal,
    relative_effect,
)
from geodata.priorities import Priorities
from geodata.store.actions import ActionEvent
from loaders import actions as plan
from loaders import months
from loaders.actions import Action, Known
from loaders.errors import InputError
from loaders.months import Period
from loaders.report import LoadReport

#: The action plan's vocabulary the forms offer (:mod:`loaders.actions`, its one home).
STATUSES, MAX_TEXT, CSV_COLUMNS, REQUIRED = plan.STATUSES, plan.MAX_TEXT, plan.CSV_COLUMNS, plan.REQUIRED
#: What a page reports as one line instead of failing: bad input (every loader's and the store's errors
#: derive from :class:`loaders.errors.InputError`) or a value an action cannot have.
USER_ERRORS = (InputError, plan.FieldError)


@dataclass(frozen=True)
class Current:
    """An action as it stands: its latest state, that change's number (``seq``), when and by whom."""

    action: Action
    seq: int
    changed_at: datetime
    changed_by: str

    def overdue(self, today: date) -> bool:
        """Open, and its review date has passed (module docstring)."""
        return self.action.open and self.action.review < today


def known(store, priorities: Priorities) -> Known:
    """What an action of this store may name: the priorities, the wards and the police.uk crime types."""
    return Known(
        frozenset(p.id for p in priorities.priorities),
        frozenset(store.areas("ward").codes),
        frozenset(sources.POLICE.categories or ()),
    )


def _current(event: ActionEvent) -> Current:
    return Current(Action.from_json(event.state), event.seq, event.at, event.by)


def current(store, partner: bool) -> list[Current]:
    """Every action as it stands, by id: all of them for a partner, the public ones otherwise."""
    return [c for c in map(_current, store.latest_actions()) if partner or c.action.public]


def get(store, action_id: str, partner: bool) -> Current | None:
    """One action as it stands (``None``: no such action, or not one this audience may see)."""
    return next((c for c in current(store, partner) if c.action.id == action_id), None)


def history(store, action_id: str) -> pd.DataFrame:
    """An action's changes, oldest first: ``seq, at, by, change`` (the fields changed, before -> after)."""

    def said(change: dict) -> str:
        return "; ".join(f"{k}: {_short(old)} -> {_short(new)}" for k, (old, new) in sorted(change.items()))

    rows = [(e.seq, e.at, e.by, said(e.change)) for e in store.action_history(action_id)]
    return pd.DataFrame(rows, columns=["seq", "at", "by", "change"])


def _short(value) -> str:
    text = "" if value is None else ";".join(value) if isinstance(value, list) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def create(store, row: dict[str, str], by: str, known_: Known) -> ActionEvent:
    """Record a new action from text values (the CSV's columns, :func:`loaders.actions.parse`);
    :class:`loaders.actions.FieldError` naming the field when one cannot be read."""
    action = plan.parse({**row, "id": ""}, known_)
    fields = action.to_json()
    fields.pop("id")
    event = store.change_action(None, fields, by)
    assert event is not None  # a new action always records its first change
    return event


def update(
    store, action_id: str, changes: dict[str, str], by: str, known_: Known, seen: int | None = None
) -> ActionEvent | None:
    """Change the fields ``changes`` names (text values, as the CSV's) of ``action_id``, checked on
    the action as it stands; only those fields are written (module docstring). ``seen``: the change
    number the editor's form showed. A new ``note`` without a ``note_date`` is dated today. ``None``
    when nothing changed. :class:`KeyError` for no such action."""
    now = get(store, action_id, partner=True)
    if now is None:
        raise KeyError(f"no action {action_id!r}")
    unknown = sorted(set(changes) - set(plan.CSV_COLUMNS) - {"id"})
    if unknown:
        raise plan.FieldError(unknown[0], "is not a field of an action")
    if "note" in changes and not changes.get("note_date"):
        changes = {**changes, "note_date": date.today().isoformat()}  # a note is dated: today unless said
    merged = plan.parse({**now.action.to_row(), **changes}, known_).to_json()
    names = {k for k in changes if k != "id"} | (
        {"where", "wards", "area"} if {"wards", "area"} & set(changes) else set()
    )
    return store.change_action(action_id, {k: merged[k] for k in names}, by, seen)


def import_plan(store, path: str | Path, by: str, known_: Known) -> tuple[LoadReport, int]:
    """Load an action plan CSV (module docstring); returns its load report and the number of
    actions it created or changed."""
    read = plan.read(path, known_)
    changed = 0
    for action in read.actions:
        fields = action.to_json()
        ident = fields.pop("id") or None
        changed += store.change_action(ident, fields, by) is not None
    return read.report, changed


def export_plan(actions: Iterable[Current]) -> str:
    """``actions`` as an action plan CSV (:data:`loaders.actions.CSV_COLUMNS`), spreadsheet-safe."""
    rows = [c.action.to_row() for c in actions]
    return to_csv(pd.DataFrame(rows, columns=list(plan.CSV_COLUMNS)))


def placed(store, partner: bool) -> list[tuple[Action, object]]:
    """The actions placed in wards, a zone or an area that the audience may see, each with its outline
    (EPSG:27700: the union of its wards, or its zone or drawn area), open ones and closed ones alike."""
    import numpy as np
    import shapely

    wards = store.areas("ward")
    out: list[tuple[Action, object]] = []
    for c in current(store, partner):
        a = c.action
        if a.where == "wards":
            out.append((a, shapely.union_all(wards.geometries[np.isin(wards.codes, list(a.wards))])))
        elif a.area:
            out.append((a, shapely.from_wkt(a.area)))
    return out


@dataclass(frozen=True)
class MeetingLine:
    """An open action as a priority's meeting slide lists it."""

    id: str
    what: str
    owner: str
    status: str
    review: date
    overdue: bool


def for_meeting(store, partner: bool, today: date) -> dict[str, list[MeetingLine]]:
    """Each priority's open actions (the audience's: module docstring), overdue reviews first, then
    by review date."""
    out: dict[str, list[MeetingLine]] = {}
    for c in current(store, partner):
        a = c.action
        if a.open:
            out.setdefault(a.priority, []).append(
                MeetingLine(a.id, a.what, a.owner, a.status, a.review, c.overdue(today))
            )
    for lines in out.values():
        lines.sort(key=lambda x: (not x.overdue, x.review, x.id))
    return out


# ---------------------------------------------------------------------------------- assessment
#: The buffer's default width around the target area, metres (Bowers and Johnson's buffers are
#: typically 200-500 m: the ring a displaced offender would move to).
BUFFER_M = 300.0
#: Months each side of the start an assessment uses at most, and needs at least (3: the dispersion
#: factor then has 8 degrees of freedom; a single month a side says nothing about month-to-month variation).
MAX_MONTHS, MIN_MONTHS = 12, 3


@dataclass(frozen=True)
class Assessment:
    """An action's assessment (:func:`assess`): the periods, counts per area, the effect size and
    displacement (:mod:`geodata.methods.assessment`), or ``refused`` with the reason; ``notes``
    state every rule applied."""

    action_id: str
    before: Period | None
    after: Period | None
    counts: Counts | None
    effect: Effect | None
    displacement: Displacement | None
    refused: str | None
    notes: tuple[str, ...]

    def table(self) -> pd.DataFrame:
        """Counts per area: ``area, before, after``."""
        c = self.counts
        rows = [] if c is None else [("target", c.r0, c.r1), ("buffer", c.b0, c.b1), ("control", c.c0, c.c1)]
        return pd.DataFrame(rows, columns=["area", "before", "after"])


def _periods(loaded: set[str], start: str, n: int | None) -> tuple[Period, Period] | str:
    """The before and after periods of ``n`` months (default: the most, up to :data:`MAX_MONTHS`,
    with every month loaded), or why there are none."""
    tries = [n] if n else list(range(MAX_MONTHS, MIN_MONTHS - 1, -1))
    for k in tries:
        before, after = (
            Period(months.shift(start, -k), months.shift(start, -1)),
            Period.ending(months.shift(start, k - 1), k),
        )
        missing = [m for m in before.months + after.months if m not in loaded]
        if not missing:
            return before, after
    k = n or MIN_MONTHS
    missing = [m for m in months.months(months.shift(start, -k), months.shift(start, k - 1)) if m not in loaded]
    return (
        f"No assessment yet: it compares {k} months before the start ({start}) with {k} months from it, every "
        f"month loaded, and {rules.missing_text(sources.DEFAULT, tuple(missing))}."
    )


def assess(
    store,
    action: Action,
    n_months: int | None = None,
    buffer_m: float = BUFFER_M,
    control_wards: tuple[str, ...] = (),
    level: float = LEVEL,
) -> Assessment:
    """Assess a placed action on police.uk crimes of its crime types (all, when it names none).

    * Periods: ``n_months`` (default: the most, :data:`MIN_MONTHS` to :data:`MAX_MONTHS`, with every
      month loaded) before the start month, against as many from the start month on.
    * Target: the action's wards (incidents assigned to them, the store's one ward rule) or its
      zone or drawn area (incidents on or inside its outline).
    * Buffer: incidents within ``buffer_m`` (default :data:`BUFFER_M`, 300 m) of the target, outside it.
    * Control: the rest of the district beyond the buffer, or the ``control_wards`` beyond the buffer.
    * Only incidents inside the district with a location are counted.

    Refused, with the reason, for a district-wide action (no area to compare with), periods not
    loaded, or counts too small (:func:`geodata.methods.assessment.refusal`)."""
    import numpy as np
    import shapely

    stated = [
        f"Buffer: {buffer_m:g} m around the target area. Control: "
        + (f"the wards {', '.join(control_wards)}" if control_wards else "the rest of the district")
        + " beyond the buffer. Crime types: "
        + (", ".join(action.categories) if action.categories else "all")
        + ". police.uk crimes inside the district with a location.",
        EFFECT_RULE,
    ]

    def refused(why: str, before=None, after=None, counts=None) -> Assessment:
        return Assessment(action.id, before, after, counts, None, None, why, tuple(stated))

    if action.where == "district":
        return refused(
            "A district-wide action has no area to set against a control area: place it in wards or an area."
        )
    got = _periods(set(store.loaded_months(sources.DEFAULT)), months.of(action.start), n_months)
    if isinstance(got, str):
        return refused(got)
    before, after = got
    wards = store.areas("ward")
    target = (
        shapely.union_all(wards.geometries[np.isin(wards.codes, list(action.wards))])
        if action.where == "wards"
        else shapely.from_wkt(str(action.area))
    )
    points = store.counts(
        by=("x", "y", "ward_code", "month"),
        source=sources.DEFAULT,
        start=before.start,
        end=after.end,
        categories=list(action.categories) or None,
        inside=True,
    ).dropna(subset=["x", "y"])
    dist = shapely.distance(target, shapely.points(points["x"].to_numpy(), points["y"].to_numpy()))
    in_target = points["ward_code"].isin(action.wards).to_numpy() if action.where == "wards" else dist == 0
    in_buffer = ~in_target & (dist <= buffer_m)
    beyond = ~in_target & (dist > buffer_m)
    in_control = beyond & (points["ward_code"].isin(control_wards).to_numpy() if control_wards else True)
    month = points["month"].dt.strftime("%Y-%m")
    n = points["incidents"].to_numpy()

    def total(mask, period: Period) -> int:
        return int(n[mask & month.isin(period.months).to_numpy()].sum())

    def series(mask, period: Period) -> list[int]:
        per = pd.Series(n[mask], index=month[mask]).groupby(level=0).sum()
        return [int(per.get(m, 0)) for m in period.months]

    counts = Counts(
        total(in_target, before),
        total(in_target, after),
        total(in_buffer, before),
        total(in_buffer, after),
        total(in_control, before),
        total(in_control, after),
    )
    stated.insert(0, f"Before: {before.text}; after: {after.text} ({before.length} months each, all loaded).")
    if (why := refusal(counts)) is not None:
        return refused(why, before, after, counts)
    phis = [dispersion([series(m, p) for p in (before, after)]) for m in (in_target, in_control)]
    effect = relative_effect(counts, phis[0], phis[1], level)
    return Assessment(action.id, before, after, counts, effect, displacement(counts), None, tuple(stated))


#: How the effect size and its interval are made, said beside them.
EFFECT_RULE = (
    "Relative effect size RES = (R0 x C1) / (R1 x C0) (Farrington), above 1 = the target did better than the "
    "control; its interval allows for month-to-month over-dispersion (a quasi-Poisson factor per area from its "
    f"monthly counts, never below 1). Refused when any of R0, R1, C0, C1 is under {MIN_COUNT}. Displacement (WDQ, "
    "Bowers and Johnson 2003) is read only when the target improved against the control."
)


# ---------------------------------------------------------------------------------------------- spend
def spend(store, start: date, end: date, partner: bool = True) -> pd.DataFrame:
    """Spend per action over the days ``start`` to ``end`` (inclusive), from the history.

    An action's ``spend`` is what it has spent so far, as recorded; its value on a day is the one its
    latest change on or before that day recorded (none before any). The period's spend is the value
    at its end less the value the day before it starts (0 when none was recorded then). The dates
    are those of the records, not of the payments. Columns: ``id, priority, what, owner, funding,
    before, at_end, in_period``; one row per action the audience may see with a spend recorded by
    ``end``, by funding source and id."""
    seen = {c.action.id for c in current(store, partner)}
    rows = []
    by_action: dict[str, list[ActionEvent]] = {}
    for e in store.action_history():
        if e.action_id in seen:
            by_action.setdefault(e.action_id, []).append(e)

    def state_on(events: list[ActionEvent], day: date) -> dict | None:
        upto = [e for e in events if e.at.date() <= day]
        return upto[-1].state if upto else None

    for ident, events in by_action.items():
        last = state_on(events, end)
        if last is None or last.get("spend") is None:
            continue
        first = state_on(events, date.fromordinal(start.toordinal() - 1))
        before = float((first or {}).get("spend") or 0.0)
        rows.append(
            (
                ident,
                last["priority"],
                last["what"],
                last["owner"],
                last.get("funding") or "(none given)",
                before,
                float(last["spend"]),
                float(last["spend"]) - before,
            )
        )
    frame = pd.DataFrame(rows, columns=["id", "priority", "what", "owner", "funding", "before", "at_end", "in_period"])
    return frame.sort_values(["funding", "id"], ignore_index=True)
