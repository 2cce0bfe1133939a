"""The annual report to councillors and the grant spend report (dashboard/render/reports.py), from
the actions' history and the store."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from dashboard.render import reports
from geodata import priorities
from geodata.analysis import actions
from geodata.pipeline.ingest import ingest_police
from loaders.actions import Action
from tests.conftest import BUNDLED_POLICE

PLIST = priorities.load(priorities.DEFAULT_PRIORITIES)


def _record(store, ident, at, **fields):
    store.change_action(ident, fields, "ana", at=at)


def _action(**kw) -> dict:
    base = dict(priority="P1", what="Patrols", owner="Herts Police", status="on track")
    a = Action(id="", start=date(2021, 7, 1), review=date(2099, 1, 1), **{**base, **kw}).to_json()
    a.pop("id")
    return a


def test_the_half_years_spend_is_the_recorded_spend_at_its_end_less_before_it(empty_store):
    store = empty_store
    _record(store, "A0001", datetime(2025, 3, 15), **_action(funding="Community Safety Fund", spend=100.0))
    _record(store, "A0001", datetime(2025, 5, 10), spend=400.0)
    _record(store, "A0001", datetime(2025, 10, 2), spend=1000.0)  # after the half year: not in it
    _record(store, "A0002", datetime(2025, 7, 1), **_action(what="Lighting", funding="PCC grant", spend=250.0))
    _record(store, "A0003", datetime(2025, 6, 1), **_action(what="No spend yet"))
    _record(store, "A0004", datetime(2025, 11, 1), **_action(what="Later", spend=99.0, funding="PCC grant"))
    got = actions.spend(store, date(2025, 4, 1), date(2025, 9, 30))
    assert got[["id", "funding", "before", "at_end", "in_period"]].values.tolist() == [
        ["A0001", "Community Safety Fund", 100.0, 400.0, 300.0],
        ["A0002", "PCC grant", 0.0, 250.0, 250.0],
    ]
    page = reports.render(reports.grant(store, PLIST, date(2025, 4, 1), date(2025, 9, 30)), "html").decode()
    assert "01 April 2025 to 30 September 2025" in page and "£300.00" in page and "£250.00" in page
    assert "<b>£550.00</b>" in page and "Later" not in page and "not for publication" in page
    assert "http" not in page.split("<body>", 1)[1]  # self-contained: nothing fetched
    assert reports.render(reports.grant(store, PLIST, date(2025, 4, 1), date(2025, 9, 30)), "pdf")[:5] == b"%PDF-"
    assert (
        "No spend recorded"
        in reports.render(
            reports.grant(store, PLIST, date(2025, 4, 1), date(2025, 9, 30), partner=False), "html"
        ).decode()
    )  # none of them is public
    with pytest.raises(ValueError, match="ends .* before it starts"):
        reports.grant(store, PLIST, date(2025, 9, 30), date(2025, 4, 1))


def test_the_annual_report_has_each_priority_its_actions_and_their_assessment(empty_store):
    store = empty_store
    ingest_police(store, [BUNDLED_POLICE])
    ward = str(store.areas("ward").codes[0])
    _record(store, "A0001", datetime(2021, 7, 1), **_action(where="wards", wards=(ward,), what="Ward patrols"))
    _record(store, "A0002", datetime(2021, 7, 1), **_action(what="District campaign", public=True, priority="P3"))
    page = reports.render(reports.annual(store, PLIST, "2022-01"), "html").decode()
    assert "Annual report to councillors: 2021-02 to 2022-01" in page
    for p in PLIST.priorities:
        assert f"{p.id} {p.title}" in page
    assert "Ward patrols" in page and "<b>RES " in page and "Target " in page  # assessed: 2021-01..06 vs 07..12
    assert "District campaign" in page and "Not assessed: district-wide" in page
    public = reports.render(reports.annual(store, PLIST, "2022-01", partner=False), "html").decode()
    assert "Ward patrols" not in public and "District campaign" in public
    assert "Only actions marked public are included." in public
    assert reports.render(reports.annual(store, PLIST, "2022-01"), "pdf")[:5] == b"%PDF-"
    # the meeting pack carries the plan: each priority's page lists its open actions (the partners' view)
    from dashboard.render import pack

    html = pack.render(pack.build(store, PLIST, "2022-01"), "html").decode()
    pages = {h.split(" ", 1)[0]: h for h in html.split("<h1>")[1:]}  # each priority's page, by its id
    p1 = pages["P1"]
    assert "Actions (includes actions not marked public)" in p1 and "Ward patrols" in p1 and "2099-01-01" in p1
    assert "District campaign" not in p1 and "District campaign" in pages["P3"]
