"""The action plan CSV (loaders/actions.py, geodata/analysis/actions.py): every row loaded or
rejected with file, line and field; export and import give the same actions back."""

from __future__ import annotations

import dataclasses
import json

import pytest
import shapely

from geodata.analysis import actions
from loaders import actions as plan
from loaders.coords import bng_to_wgs84_many
from loaders.report import LoadError

KNOWN = plan.Known(frozenset({"P1", "P2"}), frozenset({"E05013947", "E05013948"}), frozenset({"Burglary", "Drugs"}))
HEADER = "id,priority,what,owner,start,review,status,where,wards,area,categories,funding,spend,public,note,note_date"
SQUARE = "POLYGON ((515000 207000, 515300 207000, 515300 207300, 515000 207300, 515000 207000))"


def _write(tmp_path, lines, name="plan.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_good_rows_load_and_each_bad_row_is_reported_with_file_line_and_field(tmp_path):
    path = _write(
        tmp_path,
        [
            HEADER,
            ',P1,Evening patrols,Herts Police,2025-03-01,2025-06-01,On track,,E05013947,,Burglary,PCC,"£1,200",yes,,',
            ",P9,Unknown priority,Council,2025-03-01,2025-06-01,on track,,,,,,,,,",  # line 3: priority
            ",P1,Bad date,Council,31/02/2025,2025-06-01,on track,,,,,,,,,",  # line 4: start
            ',P2,Lighting,Council,01/04/2025,01/10/2025,not started,area,,"' + SQUARE + '",Drugs;Burglary,,,no,,',
            ",P1,Bad ward,Council,2025-03-01,2025-06-01,on track,,E0000000X,,,,,,,",  # line 6: wards
            ",P1,Bad status,Council,2025-03-01,2025-06-01,finished,,,,,,,,,",  # line 7: status
            ",P1,Review first,Council,2025-03-01,2025-02-01,on track,,,,,,,,,",  # line 8: review
            ",P1,Too many,Council,2025-03-01,2025-06-01,on track,,,,,,,,,,extra",  # line 9: the row
            ",P1,Bad spend,Council,2025-03-01,2025-06-01,on track,,,,,,lots,,,",  # line 10: spend
            ",P1,Bad area,Council,2025-03-01,2025-06-01,on track,area,,POINT (1 2),,,,,,",  # line 11: area
            "",  # a blank spreadsheet row: not a row
        ],
    )
    read = plan.read(path, KNOWN)
    report = read.report
    assert report.rows_read == 10 and report.rows_loaded == 2 and len(report.rejected) == 8
    got = {(r.line, r.field) for r in report.rejected}
    assert got == {
        (3, "priority"),
        (4, "start"),
        (6, "wards"),
        (7, "status"),
        (8, "review"),
        (9, "(row)"),
        (10, "spend"),
        (11, "area"),
    }
    assert all(r.file == str(path) for r in report.rejected)
    first, second = read.actions
    assert (first.status, first.where, first.wards, first.spend, first.public) == (
        "on track",
        "wards",
        ("E05013947",),
        1200.0,
        True,
    )
    assert (second.start.isoformat(), second.where, second.categories) == ("2025-04-01", "area", ("Drugs", "Burglary"))
    assert shapely.from_wkt(second.area).area == pytest.approx(90_000)


def test_a_header_missing_a_column_or_with_an_unknown_one_is_refused_naming_them(tmp_path):
    with pytest.raises(LoadError, match=r"plan.csv, line 1: missing column\(s\) owner"):
        plan.read(_write(tmp_path, ["priority,what,start,review,status"]), KNOWN)
    with pytest.raises(LoadError, match=r"unknown column\(s\) 'comments' \(they would be lost\)"):
        plan.read(_write(tmp_path, [HEADER + ",comments"]), KNOWN)


def test_an_area_in_longitude_latitude_is_stored_in_british_national_grid():
    square = shapely.from_wkt(SQUARE)
    xy = shapely.get_coordinates(square)
    lon, lat = bng_to_wgs84_many(xy[:, 0], xy[:, 1])
    geojson = json.dumps({"type": "Polygon", "coordinates": [[[float(a), float(b)] for a, b in zip(lon, lat)]]})
    got = shapely.from_wkt(plan.parse_area(geojson))
    assert got.area == pytest.approx(90_000, rel=1e-3) and got.centroid.distance(square.centroid) < 0.5
    with pytest.raises(plan.FieldError, match="outside Great Britain"):
        plan.parse_area("POLYGON ((10 10, 11 10, 11 11, 10 10))")


def test_export_then_import_gives_the_same_actions(tmp_path):
    a = plan.Action(
        id="A0007",
        priority="P2",
        what='=HYPERLINK("x") a what that starts like a formula',
        owner="Council, Community Safety Team",
        start=plan.parse_date("2025-01-15", "start"),
        review=plan.parse_date("2025-07-15", "review"),
        status="at risk",
        where="area",
        area=SQUARE,
        categories=("Drugs",),
        funding="Community Safety Fund",
        spend=2500.5,
        public=True,
        note='-2 officers; "quoted"\nsecond line',
        note_date=plan.parse_date("2025-05-01", "note_date"),
    )
    b = dataclasses.replace(a, id="A0008", where="wards", wards=("E05013947", "E05013948"), area=None, spend=None)
    now = [actions.Current(x, 1, None, "ana") for x in (a, b)]  # type: ignore[arg-type]
    text = actions.export_plan(now)
    assert "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text  # no cell runs as a formula
    read = plan.read(_write(tmp_path, [text.rstrip("\n")]), KNOWN)
    assert not read.report.rejected and read.actions == [a, b]
