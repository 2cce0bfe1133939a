"""The Actions page and the open actions on the Meeting slides, per audience (AppTest): partners
read, analysts and admins change, the public and the kiosk see only actions marked public."""

from __future__ import annotations

import json
from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import accounts
from geodata import config as config_mod
from geodata import priorities
from geodata.analysis import actions
from geodata.pipeline.build import open_store
from tests.conftest import PASSWORD, app_as, open_page, write_config

SECRET = "Covert test purchase operation at the station"
OPEN = "Lighting and CCTV in the city centre car parks"


@pytest.fixture(scope="module")
def action_site(tmp_path_factory):
    """A config with accounts (viewer vera, analyst ana), the bundled data and two actions of P1
    (the first not public, its review long passed; the second public)."""
    folder = tmp_path_factory.mktemp("actions")
    cfg = write_config(folder)
    cfg.write_text(cfg.read_text().replace("[store]", f'[access]\naccounts = "{folder / "accounts.json"}"\n\n[store]'))
    for name, role in (("vera", "viewer"), ("ana", "analyst")):
        accounts.add(folder / "accounts.json", name, role, PASSWORD)
    store = open_store(config_mod.load(cfg))
    known = actions.known(store, priorities.load(priorities.DEFAULT_PRIORITIES))
    row = {"priority": "P1", "owner": "Herts Police", "start": "2021-07-01", "status": "on track"}
    actions.create(store, {**row, "what": SECRET, "review": "2021-12-01"}, "ana", known)
    actions.create(store, {**row, "what": OPEN, "review": "2099-01-01", "public": "yes"}, "ana", known)
    return cfg, store, known


def _app(monkeypatch, cfg, user: str | None = None, kiosk: bool = False) -> AppTest:
    """The app as ``user`` (None: the public) sees it; ``kiosk``: the meeting-room screen."""
    return app_as(monkeypatch, cfg, user, **({"mode": "meeting"} if kiosk else {}))


def _html(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_the_public_and_the_kiosk_see_only_public_actions_and_no_actions_page(action_site, monkeypatch):
    cfg, _, _ = action_site
    for kiosk in (False, True):
        at = _app(monkeypatch, cfg, kiosk=kiosk)
        html = _html(at)
        for _ in range(8 if kiosk else 0):  # the kiosk shows one slide a run: go round every slide
            at.run()
            html += _html(at)
        assert SECRET not in html
        assert OPEN in html and "Open actions:" in html
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            open_page(at, "actions")


def test_a_viewer_reads_every_action_and_cannot_change_one(action_site, monkeypatch):
    cfg, _, _ = action_site
    at = _app(monkeypatch, cfg, "vera")
    html = _html(at)
    assert SECRET in html and OPEN in html
    assert "REVIEW OVERDUE" in html.split(SECRET, 1)[1].split("</p>", 1)[0]  # its review date has passed
    assert "REVIEW OVERDUE" not in html.split(OPEN, 1)[1].split("·", 1)[0]
    open_page(at, "actions").run()
    assert not at.exception, at.exception
    assert "Actions" in [t.value for t in at.title]
    assert SECRET in str(at.table[0].value.to_dict())  # the list
    labels = {b.label for b in at.button}
    assert not labels & {"Create the action", "Save the update", "Import"} and at.get("download_button") == []
    assert "Assess" in labels


def test_an_analyst_creates_updates_and_assesses_an_action(action_site, monkeypatch):
    cfg, store, _ = action_site
    at = _app(monkeypatch, cfg, "ana")
    open_page(at, "actions").run()
    assert not at.exception, at.exception
    at.radio(key="act_new_where").set_value("wards").run()
    ward = str(store.areas("ward").codes[0])
    at.multiselect(key="act_new_wards").set_value([ward]).run()
    [t for t in at.text_input if t.label == "What"][0].input("Street drinking patrols")
    [t for t in at.text_input if t.label == "Owner (partner organisation)"][0].input("St Albans council")
    [d for d in at.date_input if d.label == "Start"][0].set_value(date(2021, 7, 1))
    [d for d in at.date_input if d.label == "Next review"][0].set_value(date(2099, 1, 1))
    next(b for b in at.button if b.label == "Create the action").click().run()
    assert not at.exception, at.exception
    made = [c for c in actions.current(store, True) if c.action.what == "Street drinking patrols"]
    assert len(made) == 1 and made[0].changed_by == "ana" and made[0].action.wards == (ward,)
    ident = made[0].action.id
    assert [s.value for s in at.success] == [f"Created action {ident}."]  # shown after the page's rerun
    chooser = next(s for s in at.selectbox if s.label == "Action")
    chooser.set_value(ident).run()
    [s for s in at.selectbox if s.label == "Status"][-1].set_value("at risk")
    [t for t in at.text_input if t.label == "Note on this update"][0].input("two officers off sick")
    next(b for b in at.button if b.label == "Save the update").click().run()
    assert not at.exception, at.exception
    now = actions.get(store, ident, True)
    assert (now.action.status, now.action.note, now.seq) == ("at risk", "two officers off sick", 2)
    assert [s.value for s in at.success] == [f"Saved {ident}."]
    next(s for s in at.selectbox if s.label == "Action").set_value(ident).run()
    next(b for b in at.button if b.label == "Assess").click().run()
    assert not at.exception, at.exception
    text = _html(at)
    assert "Relative effect size" in text and "interval" in text
    next(b for b in at.button if b.label == "Prepare the reports").click().run()
    assert not at.exception, at.exception
    assert len(at.get("download_button")) == 3  # the plan's CSV, the annual and the spend report


def test_a_slide_lists_three_open_actions_overdue_first_cut_to_fit_and_escaped():
    from dashboard.render import slides

    lines = [
        actions.MeetingLine(f"A000{i}", what, "Council", "on track", date(2026, 1, i), overdue)
        for i, (what, overdue) in enumerate(
            [("x" * 80, True), ("<script>alert(1)</script>", False), ("Lighting", False), ("Fourth", False)], 1
        )
    ]
    block = slides._actions(lines)
    assert block.count("REVIEW OVERDUE") == 1 and "x" * 59 + "…" in block and "x" * 60 not in block
    assert "<script>" not in block and "&lt;script&gt;" in block
    assert "A0003" in block and "Fourth" not in block and "and 1 more" in block
    assert slides._actions([]) == ""


def test_placed_actions_are_outlined_on_the_patrol_map(action_site, monkeypatch):
    cfg, store, known = action_site
    ward = str(store.areas("ward").codes[5])
    row = {"priority": "P3", "owner": "Council", "start": "2025-01-01", "review": "2099-01-01", "status": "on track"}
    made = actions.create(store, {**row, "what": "Neighbourhood watch relaunch", "wards": ward}, "ana", known)
    at = _app(monkeypatch, cfg, "ana")
    open_page(at, "patrol").run()
    assert not at.exception, at.exception
    maps = [e for e in at.main if getattr(e, "type", "") == "component_instance"]
    assert maps, "the patrol map"
    spec = json.loads(maps[0].proto.json_args)["spec"]
    outlined = [layer for layer in spec["layers"] if layer["className"] == "action-outline"]
    assert len(outlined) == 1 and "patrol-zone" in [layer["className"] for layer in spec["layers"]]
    tips = [line for f in outlined[0]["data"]["features"] for line in f["properties"]["tip"]]
    assert ["Action", f"{made.action_id}: Neighbourhood watch relaunch"] in tips
