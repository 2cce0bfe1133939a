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
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from geodata import sources
from geodata.export import to_csv
from geodata.priorities import Priorities
from geodata.store.actions import ActionEvent
from loaders import actions as plan
from loaders.actions import Action, Known
from loaders.report import LoadReport


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
