"""Assessing a placed action on the store (geodata/analysis/actions.py: assess): the periods wait
for their months, every located incident is counted in exactly one of target, buffer and control,
and too-small counts and district-wide actions are refused with the reason."""

from __future__ import annotations

import dataclasses
import zipfile
from datetime import date

import shapely

from geodata.analysis import actions
from geodata.pipeline.ingest import ingest_police
from loaders.actions import Action
from tests.conftest import BUNDLED_POLICE


def _action(**kw) -> Action:
    base = dict(
        id="A0001",
        priority="P1",
        what="Evening patrols",
        owner="Herts Police",
        start=date(2021, 12, 1),
        review=date(2022, 3, 1),
        status="on track",
    )
    return Action(**{**base, **kw})


def test_an_action_is_assessed_once_the_months_after_it_are_loaded(empty_store, tmp_path):
    store = empty_store
    ingest_police(store, [BUNDLED_POLICE])  # 2021-01 to 2022-01 in a run; no 2022-02
    ward = str(store.areas("ward").codes[0])
    action = _action(where="wards", wards=(ward,))
    first = actions.assess(store, action)
    assert first.effect is None and first.counts is None
    assert (
        "3 months before the start (2021-12)" in first.refused
        and "police.uk is not loaded for 2022-02" in first.refused
    )

    with zipfile.ZipFile(BUNDLED_POLICE) as z:  # a later month arrives (2022-01's rows, dated 2022-02)
        text = z.read("2022-01/2022-01-hertfordshire-street.csv").decode().replace(",2022-01,", ",2022-02,")
    (tmp_path / "2022-02-hertfordshire-street.csv").write_text(text)
    ingest_police(store, [tmp_path / "2022-02-hertfordshire-street.csv"])
    got = actions.assess(store, action)
    assert got.refused is None and (got.before.text, got.after.text) == ("2021-09 to 2021-11", "2021-12 to 2022-02")
    c = got.counts
    in_ward = store.counts(by=("ward_code",), start="2021-09", end="2021-11", wards=[ward], inside=True)
    assert c.r0 == int(in_ward["incidents"].sum())  # the target is the ward's incidents (the one ward rule)
    for period, (r, b, k) in (("before", (c.r0, c.b0, c.c0)), ("after", (c.r1, c.b1, c.c1))):
        p = got.before if period == "before" else got.after
        located = store.incidents(start=p.start, end=p.end, inside=True).dropna(subset=["x", "y"])
        assert r + b + k == len(located)  # every located incident in exactly one area
    assert got.effect is not None and got.effect.low < got.effect.res < got.effect.high
    assert min(got.effect.dispersion) >= 1 and got.displacement is not None
    assert any("Buffer: 300 m" in n for n in got.notes) and any("R0, R1, C0, C1 is under 5" in n for n in got.notes)
    table = got.table()
    assert table["area"].tolist() == ["target", "buffer", "control"] and table["before"].tolist() == [c.r0, c.b0, c.c0]

    # chosen control wards: only their incidents beyond the buffer
    others = tuple(str(w) for w in store.areas("ward").codes[-3:])
    chosen = actions.assess(store, action, control_wards=others)
    in_others = store.counts(by=("ward_code",), start="2021-09", end="2021-11", wards=list(others), inside=True)
    assert 0 < chosen.counts.c0 <= int(in_others["incidents"].sum()) < c.c0
    assert chosen.counts.r0 == c.r0 and chosen.counts.b0 == c.b0

    # a drawn area: the ward's own outline counts at least the ward's incidents (points on its edge too)
    outline = store.areas("ward").geometries[0]
    drawn = actions.assess(store, dataclasses.replace(action, where="area", wards=(), area=shapely.to_wkt(outline)))
    assert drawn.counts.r0 >= c.r0 and drawn.counts.r0 + drawn.counts.b0 + drawn.counts.c0 == c.r0 + c.b0 + c.c0


def test_tiny_counts_and_a_district_wide_action_are_refused_with_the_reason(bundled_store):
    ward = str(bundled_store.areas("ward").codes[0])
    tiny = actions.assess(
        bundled_store,
        _action(where="wards", wards=(ward,), start=date(2021, 7, 1), categories=("Possession of weapons",)),
    )
    assert tiny.effect is None and tiny.counts is not None
    assert tiny.refused.startswith("Too few incidents to tell: R0 = ") and "at least 5 in each" in tiny.refused
    district = actions.assess(bundled_store, _action(start=date(2021, 7, 1)))
    assert district.counts is None and "district-wide action has no area" in district.refused


def test_placed_actions_are_outlined_for_the_audience_on_the_explorer_map(empty_store):
    from dashboard.render import maps

    store = empty_store
    ward = str(store.areas("ward").codes[2])
    square = "POLYGON ((515000 207000, 515300 207000, 515300 207300, 515000 207300, 515000 207000))"
    rows = [
        {"where": "wards", "wards": [ward], "what": "Ward patrols", "public": False},
        {"where": "area", "area": square, "what": "Park lighting", "public": True},
        {"what": "District campaign", "public": True},  # not placed: nothing to draw
    ]
    for row in rows:
        base = _action(**{k: v for k, v in row.items() if k in ("where", "area")}).to_json()
        store.change_action(None, {**base, **row, "id": None}, "ana")
    partner = actions.placed(store, partner=True)
    assert [a.what for a, _ in partner] == ["Ward patrols", "Park lighting"]
    assert partner[0][1].equals(store.areas("ward").geometries[2]) and partner[1][1].area == 90_000
    assert [a.what for a, _ in actions.placed(store, partner=False)] == ["Park lighting"]
    layer = maps.action_outlines(partner)
    assert layer["kind"] == "outline" and layer["className"] == "action-outline"
    assert [f["properties"]["tip"][0] for f in layer["data"]["features"]] == [
        ["Action", "A0001: Ward patrols"],
        ["Action", "A0002: Park lighting"],
    ]
    assert [lab[2] for lab in layer["labels"]] == ["A0001", "A0002"]
    lon, lat = layer["data"]["features"][1]["geometry"]["coordinates"][0][0]
    assert -0.5 < lon < -0.2 and 51.7 < lat < 51.9  # drawn in WGS84 degrees
