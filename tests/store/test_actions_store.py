"""The partnership's actions in the store (geodata/store/actions.py): an append-only history, no
lost update when two server processes (or two sessions of one) edit an action at once."""

from __future__ import annotations

import subprocess
import sys
import threading

import duckdb
import pytest

from geodata import config as config_mod
from geodata import priorities
from geodata.analysis import actions
from geodata.store import Store, StoreError
from tests.conftest import REPO, write_config

#: A partner's edits as a separate server process makes them: wait for the start signal, then
#: ``n`` changes of one field of action A0001, each through the analysis layer, each read of the
#: actions followed by 0.6 s (a page run between reading the action and saving: the other process,
#: retrying its lock every 0.5 s at most, writes in between).
_EDITOR = """
import sys, time
from pathlib import Path
from geodata import config, priorities
from geodata.analysis import actions
from geodata.store import Store
cfg, who, field, n, go = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), Path(sys.argv[5])
store = Store.open(config.load(cfg))
known = actions.known(store, priorities.load(priorities.DEFAULT_PRIORITIES))
read = store.latest_actions
store.latest_actions = lambda: (read(), time.sleep(0.6))[0]
while not go.exists():
    time.sleep(0.005)
for i in range(n):
    value = f"{who} {i}" if field == "note" else str(i + 1)
    assert actions.update(store, "A0001", {field: value}, who, known) is not None
"""

ROW = {
    "priority": "P1",
    "what": "Evening patrols in the city centre",
    "owner": "Hertfordshire Constabulary",
    "start": "2025-03-01",
    "review": "2025-06-01",
    "status": "on track",
}


@pytest.fixture
def action_site(tmp_path):
    """A config file and its store, with no incidents (actions need none)."""
    cfg = write_config(tmp_path)
    Store.create(config_mod.load(cfg))  # empty: the area, no incidents
    store = Store.open(config_mod.load(cfg))  # as a server opens it
    known = actions.known(store, priorities.load(priorities.DEFAULT_PRIORITIES))
    return cfg, store, known


def test_two_server_processes_editing_at_once_lose_no_update(action_site, tmp_path):
    cfg, store, known = action_site
    assert actions.create(store, ROW, "ana", known).action_id == "A0001"
    go, n = tmp_path / "go", 5
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _EDITOR, str(cfg), who, field, str(n), str(go)],
            cwd=REPO,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who, field in (("ana", "note"), ("adam", "spend"))
    ]
    go.touch()  # both start together
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read() if p.stderr else ""
    history = store.action_history("A0001")
    assert {k for e in history[1:] if e.by == "ana" for k in e.change} == {"note", "note_date"}
    assert {k for e in history[1:] if e.by == "adam" for k in e.change} == {"spend"}  # nobody undid the other
    assert [e.seq for e in history] == list(range(1, 2 * n + 2))  # every change a row, none overwritten
    by = [e.by for e in history[1:]]
    assert by.count("ana") == n and by.count("adam") == n
    assert [e.change["note"][1] for e in history[1:] if e.by == "ana"] == [f"ana {i}" for i in range(n)]
    now = actions.get(store, "A0001", partner=True).action
    assert now.note == f"ana {n - 1}" and now.spend == n  # both editors' last changes stand
    assert now.what == ROW["what"]  # and the fields neither touched


def test_two_sessions_of_one_server_editing_at_once_lose_no_update(action_site):
    _, store, known = action_site
    actions.create(store, ROW, "ana", known)
    errors: list[BaseException] = []

    def edit(who, field, n=10):
        try:
            for i in range(n):
                actions.update(store, "A0001", {field: f"{who} {i}" if field == "note" else str(i + 1)}, who, known)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=edit, args=a) for a in (("ana", "note"), ("adam", "spend"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    history = store.action_history("A0001")
    assert len(history) == 21 and [e.seq for e in history] == list(range(1, 22))
    now = actions.get(store, "A0001", partner=True).action
    assert now.note == "ana 9" and now.spend == 10


def test_an_edit_on_a_stale_form_of_the_same_field_is_refused_naming_it(action_site):
    _, store, known = action_site
    actions.create(store, ROW, "ana", known)
    actions.update(store, "A0001", {"status": "at risk", "note": "two officers off"}, "adam", known, seen=1)
    with pytest.raises(StoreError, match=r"status changed by adam .* since you opened it"):
        actions.update(store, "A0001", {"status": "done"}, "ana", known, seen=1)
    # a field the other editor did not change goes in on the stale form
    assert actions.update(store, "A0001", {"owner": "St Albans City and District Council"}, "ana", known, seen=1)
    now = actions.get(store, "A0001", partner=True)
    assert (now.action.status, now.action.owner, now.seq) == ("at risk", "St Albans City and District Council", 3)


def test_history_is_never_overwritten_and_an_unchanged_edit_records_nothing(action_site):
    _, store, known = action_site
    actions.create(store, ROW, "ana", known)
    assert actions.update(store, "A0001", {"status": "on track"}, "ana", known) is None  # nothing changed
    actions.update(store, "A0001", {"status": "done", "note": "finished", "note_date": "2025-06-02"}, "ana", known)
    first, second = store.action_history("A0001")
    assert first.state["status"] == "on track" and second.state["status"] == "done"
    assert second.change == {
        "status": ["on track", "done"],
        "note": ["", "finished"],
        "note_date": [None, "2025-06-02"],
    }
    with duckdb.connect(str(store.path)) as con, pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO action_history SELECT * FROM action_history WHERE seq = 1")  # (action_id, seq) key


def test_a_note_is_dated_today_unless_said(action_site):
    from datetime import date

    _, store, known = action_site
    actions.create(store, ROW, "ana", known)
    actions.update(store, "A0001", {"note": "patrols moved to Fridays"}, "ana", known)
    assert actions.get(store, "A0001", partner=True).action.note_date == date.today()


def test_the_public_sees_only_actions_marked_public(action_site):
    _, store, known = action_site
    actions.create(store, ROW, "ana", known)
    actions.create(store, {**ROW, "what": "Lighting in Verulamium Park", "public": "yes"}, "ana", known)
    assert [c.action.id for c in actions.current(store, partner=True)] == ["A0001", "A0002"]
    assert [c.action.id for c in actions.current(store, partner=False)] == ["A0002"]
    assert actions.get(store, "A0001", partner=False) is None
