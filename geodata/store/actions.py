"""The partnership's actions in the store (a mixin of :class:`geodata.store.Store`): an append-only
history, one row per change, never updated or deleted.

A row of ``action_history`` is (``action_id``, ``seq``, ``changed_at``, ``changed_by``, ``change``, ``state``): the
change's number for that action (1 creates it), when (UTC) and by whom, the fields it changed
(JSON: field -> [before, after]) and the whole action after it (JSON). An action's current state is
its row of the highest ``seq``; its history is all of its rows.

No lost update: a change names only the fields it changes, and is applied to the action's latest
state inside one transaction (:meth:`Actions.change_action`), so two editors changing different
fields at once both land, each in its own row. Two server processes take turns on the store file
(DuckDB lets one process write at a time; :func:`geodata.store.connection.connect` waits for the
other); two sessions of one process that write the same action at once collide on the primary key
(``action_id``, ``seq``) and the later one is applied again on the new latest state
(:data:`RETRIES` times). An editor who says which change they saw (``seen``) is refused, naming the
field, when a field they change was changed by someone else since: their edit would silently undo it.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from geodata.store.base import StoreBase
from geodata.store.connection import StoreError

#: Times a change is applied again when another session of the same process wrote the action first.
RETRIES = 20
#: An action id made by the store: this prefix and a number (``A0001``...).
ID_PREFIX = "A"
_COLUMNS = "action_id, seq, changed_at, changed_by, change, state"


@dataclass(frozen=True)
class ActionEvent:
    """One row of the history (module docstring); ``change`` and ``state`` decoded."""

    action_id: str
    seq: int
    at: datetime
    by: str
    change: dict
    state: dict


def _event(row) -> ActionEvent:
    return ActionEvent(row[0], int(row[1]), row[2], row[3], json.loads(row[4]), json.loads(row[5]))


class Actions(StoreBase):
    """The actions' reads and the one way to change an action (:meth:`change_action`)."""

    def action_history(self, action_id: str | None = None) -> list[ActionEvent]:
        """Every change (of ``action_id``, or of every action), oldest first per action."""
        where, params = ("WHERE action_id = ?", [action_id]) if action_id is not None else ("", [])
        with self.connect() as con:
            rows = con.execute(
                f"SELECT {_COLUMNS} FROM action_history {where} ORDER BY action_id, seq",
                params,
            ).fetchall()
        return [_event(r) for r in rows]

    def latest_actions(self) -> list[ActionEvent]:
        """Each action's latest change (its current state), by action id."""
        with self.connect() as con:
            rows = con.execute(
                f"SELECT {_COLUMNS} FROM action_history "
                "QUALIFY seq = max(seq) OVER (PARTITION BY action_id) ORDER BY action_id"
            ).fetchall()
        return [_event(r) for r in rows]

    def change_action(
        self, action_id: str | None, fields: dict, by: str, seen: int | None = None, at: datetime | None = None
    ) -> ActionEvent | None:
        """Apply ``fields`` (JSON values) to the action ``action_id`` and record the change; ``None``
        for a new action (its id made here: :data:`ID_PREFIX` and the next number), or an id not in
        the store yet (created with it). Returns the recorded row, or ``None`` when nothing changed.

        ``seen``: the ``seq`` the editor's form showed; :class:`StoreError` naming the field when a
        field of ``fields`` has been changed since (module docstring)."""
        if not by:
            raise ValueError("a change must say who made it")
        for attempt in range(RETRIES + 1):
            try:
                return self._change_once(action_id, fields, by, seen, at or datetime.now(UTC).replace(tzinfo=None))
            except (duckdb.TransactionException, duckdb.ConstraintException):
                if attempt == RETRIES:
                    raise StoreError(
                        f"{self.path}: action {action_id or '(new)'}: other changes kept arriving first; try again"
                    ) from None
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    def _change_once(self, action_id, fields, by, seen, at) -> ActionEvent | None:
        with self.connect() as con:
            con.execute("BEGIN")
            try:
                if action_id is None:
                    ids = [r[0] for r in con.execute("SELECT DISTINCT action_id FROM action_history").fetchall()]
                    numbers = [int(m[1]) for i in ids if (m := re.fullmatch(rf"{ID_PREFIX}(\d+)", i))]
                    action_id = f"{ID_PREFIX}{max(numbers, default=0) + 1:04d}"
                rows = con.execute(
                    "SELECT seq, change, changed_by, changed_at FROM action_history WHERE action_id = ? ORDER BY seq",
                    [action_id],
                ).fetchall()
                old = (
                    {}
                    if not rows
                    else json.loads(
                        con.execute(
                            "SELECT state FROM action_history WHERE action_id = ? AND seq = ?", [action_id, rows[-1][0]]
                        ).fetchall()[0][0]
                    )
                )
                if seen is not None:
                    for seq, change, who, when in rows:
                        clash = sorted(set(json.loads(change)) & set(fields)) if seq > seen else []
                        if clash:
                            raise StoreError(
                                f"action {action_id}: {', '.join(clash)} changed by {who} at {when:%Y-%m-%d %H:%M} "
                                "since you opened it; reload it to see their change, then make yours"
                            )
                new = {**old, **fields, "id": action_id}
                change = {k: [old.get(k), v] for k, v in new.items() if old.get(k) != v}
                if rows and not change:
                    con.execute("ROLLBACK")
                    return None
                seq = (rows[-1][0] if rows else 0) + 1
                values = [action_id, seq, at, by, json.dumps(change, sort_keys=True), json.dumps(new, sort_keys=True)]
                con.execute("INSERT INTO action_history VALUES (?, ?, ?, ?, ?, ?)", values)
                con.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(duckdb.Error):  # a failed COMMIT has rolled back already
                    con.execute("ROLLBACK")
                raise
        return ActionEvent(action_id, seq, at, by, change, new)
