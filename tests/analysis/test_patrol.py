"""Patrol planner: zones sized for a patrol, streets first, place labels beside streets, the printed
sheet (a map per zone) and GPX valid against the GPX 1.1 schema. Small constructed cases with exact
answers, then the bundled St Albans data."""

from __future__ import annotations

import html
import io
import re
import zipfile

import numpy as np
import pandas as pd
import pytest
import shapely
from lxml import etree

from dashboard.attributions import SOURCES_CREDIT
from dashboard.render import patrolsheet
from geodata import places
from geodata.analysis import Selection
from geodata.analysis.patrol_zones import NO_DAY_OR_TIME
from geodata.analysis.patrol_zones import patrol_zones as analysis_zones
from geodata.bundled import ST_ALBANS
from geodata.export import WAYPOINTS_PER_ZONE, patrol_gpx, xml_text
from geodata.methods import grid as grids
from geodata.methods.zones import MAX_ZONE_KM2, MIN_ZONE_INCIDENTS, patrol_zones, split_busiest, streets_and_places
from tests.conftest import REPO

GPX_XSD = etree.XMLSchema(etree.parse(str(REPO / "tests" / "data" / "gpx-1.1.xsd")))
HOSTILE = [
    "<script>alert(1)</script> Road",
    'Tom & Jerry\'s "Lane"',
    "]]> Close",
    "Bell\x00\x07\x1b\x7f Street",
    "{{7*7}} Way",
    "$\\undefinedcmd$ Avenue",
    "Emoji \U0001f6a8 Row",
    "Tab\tand\nnewline Walk",
]


# ------------------------------------------------------------------ constructed cases, exact answers
def test_split_grows_from_the_busiest_cell_by_the_busiest_touching_cell():
    # a strip of five unit cells 0-1-2-3-4, busyness 1 5 3 4 2, cap 2 cells
    touching = [{1}, {0, 2}, {1, 3}, {2, 4}, {3}]
    parts = split_busiest(np.array([1, 5, 3, 4, 2.0]), np.ones(5), touching, 2.0)
    assert parts == [[1, 2], [3, 4], [0]]
    # cap 3: 1 grows by 2 (3 > 1), then by 3 (4); then 4 alone, then 0 alone
    assert split_busiest(np.array([1, 5, 3, 4, 2.0]), np.ones(5), touching, 3.0) == [[1, 2, 3], [4], [0]]
    # a cap above the whole strip keeps it whole; ties go to the lower index
    assert split_busiest(np.ones(5), np.ones(5), touching, 10.0) == [[0, 1, 2, 3, 4]]
    # a cell larger than the cap is in no part, and a busy cell that does not fit is skipped for one that does
    assert split_busiest(np.array([9, 1, 8.0]), np.array([3, 1, 1.0]), [{1}, {0, 2}, {1}], 2.0) == [[2, 1]]


@pytest.fixture(scope="module")
def constructed():
    """A 2 x 2 km square of 100 m cells: a busy 6 x 3 block (0.18 km²) of 12 incidents a cell in the
    south-west, one incident in every other cell, and a 'Police Station' map point in the block."""
    boundary = shapely.box(0, 0, 2000, 2000)
    rows = []
    for i in range(20):
        for j in range(20):
            busy = i < 6 and j < 3
            for k in range(12 if busy else 1):
                name = "Police Station" if (busy and (i, j) == (2, 1) and k < 4) else HOSTILE[(i + j) % len(HOSTILE)]
                rows.append((i * 100 + 50, j * 100 + 50, name, "Robbery", pd.Timestamp("2022-01-01")))
    frame = pd.DataFrame(rows, columns=["x", "y", "location_text", "category", "month"])
    return frame, boundary


def test_constructed_zones_hold_the_limits_exactly(constructed):
    current, boundary = constructed
    previous = current.iloc[:0]
    whole, grid = patrol_zones(current, previous, boundary, cell_size=100.0, max_area_km2=1.0, top=10)
    assert grid.cell_size == 100.0
    # under a 1 km² cap the hot block is one zone: every busy cell (and perhaps some touching cells) in it
    assert whole.loc[0, "area_km2"] >= 0.18 - 1e-9 and whole.loc[0, "incidents"] >= 18 * 12
    split, _ = patrol_zones(current, previous, boundary, cell_size=100.0, max_area_km2=0.05, top=50)
    assert len(split) > len(whole)
    assert (split["area_km2"] <= 0.05 + 1e-12).all()  # 5 cells of 0.01 km²
    assert (split["incidents"] >= MIN_ZONE_INCIDENTS).all()
    assert "split into their busiest connected parts" in split.attrs["note"]
    # each zone's count is exactly the incidents of its cells
    idx = grids.cell_index(grid, current["x"].to_numpy(), current["y"].to_numpy())
    for _, z in split.iterrows():
        cells = np.flatnonzero(shapely.contains_xy(z.geometry, grid.x, grid.y))
        assert len(cells) == z["cells"] and z["incidents"] == np.isin(idx, cells).sum()
        assert z["area_km2"] == pytest.approx(len(cells) * 0.01)
    # zones do not overlap
    geoms = split.geometry.to_numpy()
    assert shapely.area(shapely.union_all(geoms)) == pytest.approx(shapely.area(geoms).sum())
    strict, _ = patrol_zones(current, previous, boundary, cell_size=100.0, max_area_km2=0.05, min_incidents=49, top=50)
    assert (strict["incidents"] >= 49).all() and len(strict) < len(split)
    assert "fewer than 49 incidents are not zones" in strict.attrs["note"]


def test_a_cell_larger_than_the_zone_limit_gives_no_zone_and_says_so(constructed):
    current, boundary = constructed
    none, _ = patrol_zones(current, current.iloc[:0], boundary, cell_size=100.0, max_area_km2=0.005)
    assert none.empty and "larger than the 0.005 km² zone limit" in none.attrs["note"]
    for bad in (0, -1, float("nan"), "big"):
        with pytest.raises(ValueError, match="max_area_km2 must be a positive number"):
            patrol_zones(current, current.iloc[:0], boundary, cell_size=100.0, max_area_km2=bad)


def test_police_station_is_a_flagged_place_never_a_street(constructed):
    current, boundary = constructed
    zones, _ = patrol_zones(current, current.iloc[:0], boundary, cell_size=100.0, max_area_km2=0.05, top=50)
    listed = [s for streets in zones["streets"] for s, *_ in streets]
    assert "Police Station" not in listed and listed
    found = [p for ps in zones["places"] for p in ps if p[0] == "Police Station"]
    assert len(found) == 1
    label, n, x, y, near, metres, flag = found[0]
    assert (n, x, y) == (4, 250.0, 150.0) and flag == places.RECORDED_AT["Police Station"]
    # the nearest named map point: the other incidents of cell (2, 1) sit on the same point
    assert metres == 0.0 and near == HOSTILE[3]


def test_streets_and_places_nearest_street_is_exact():
    rows = pd.DataFrame(
        {
            "x": [0.0, 0.0, 300.0, 100.0, 100.0],
            "y": [0.0, 0.0, 400.0, 0.0, 0.0],
            "location_text": ["Supermarket", "Supermarket", "High Street", "On or near Mill Lane", None],
        }
    )
    streets, found = streets_and_places(rows)
    assert streets == [("High Street", 1, 300.0, 400.0), ("Mill Lane", 1, 100.0, 0.0)]
    assert found == [("Supermarket", 2, 0.0, 0.0, "Mill Lane", 100.0, "")]
    # the nearest street from a wider set of map points, not only the zone's
    wider = pd.DataFrame({"x": [3.0, 0.0], "y": [4.0, 0.0], "location_text": ["Close Road", "Parking Area"]})
    assert streets_and_places(rows, wider)[1] == [("Supermarket", 2, 0.0, 0.0, "Close Road", 5.0, "")]


def test_gpx_with_hostile_names_validates_against_the_gpx_1_1_schema(constructed):
    current, boundary = constructed
    zones, _ = patrol_zones(current, current.iloc[:0], boundary, cell_size=100.0, max_area_km2=0.05, top=50)
    zones = zones.set_geometry(zones.geometry.translate(515000, 207000))  # into St Albans
    zones["streets"] = [[(s, n, x + 515000, y + 207000) for s, n, x, y in ss] for ss in zones["streets"]]
    zones["places"] = [
        [(p, n, x + 515000, y + 207000, near, d, f) for p, n, x, y, near, d, f in ps] for ps in zones["places"]
    ]
    data = patrol_gpx(zones, "Zones \x01<&>", NO_DAY_OR_TIME)
    doc = etree.fromstring(data)
    GPX_XSD.assertValid(doc)
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    names = [e.text for e in doc.findall("g:wpt/g:name", ns)]
    assert len(doc.findall("g:trk", ns)) == len(zones)
    assert [t.text for t in doc.findall("g:trk/g:name", ns)] == [f"Z{z} outline" for z in zones["zone"]]

    def as_read(text):  # what a GPX reader gets back: escaped, and the characters XML 1.0 forbids removed
        return etree.fromstring(f"<a>{xml_text(text)}</a>").text

    # each zone's busiest streets and places, at most WAYPOINTS_PER_ZONE, named from the zone: "Z1 High Street"
    for _, z in zones.iterrows():
        mine = [n for n in names if n.startswith(f"Z{z['zone']} ")]
        stops = sorted(
            [(-n, 0, s) for s, n, *_ in z["streets"]] + [(-p[1], 1, f"{p[0]} near {p[4]}") for p in z["places"]]
        )
        assert mine == [f"Z{z['zone']} " + as_read(name) for *_, name in stops[:WAYPOINTS_PER_ZONE]]
    assert len(names) == sum(
        min(WAYPOINTS_PER_ZONE, len(s) + len(p)) for s, p in zip(zones["streets"], zones["places"])
    )
    # escaped, and the characters XML 1.0 forbids removed (DEL is allowed)
    assert any(n.endswith(" <script>alert(1)</script> Road") for n in names)
    assert any(n.endswith(" Bell\x7f Street") for n in names)
    assert any(n.endswith(" Police Station near Bell\x7f Street") for n in names)
    # capped: three a zone at most, the busiest kept
    few = etree.fromstring(patrol_gpx(zones, "Zones", NO_DAY_OR_TIME, per_zone=3))
    GPX_XSD.assertValid(few)
    kept = [e.text for e in few.findall("g:wpt/g:name", ns)]
    assert len(kept) == sum(min(3, len(s) + len(p)) for s, p in zip(zones["streets"], zones["places"])) < len(names)
    assert kept == [n for n in names if n in kept] and kept[0] == names[0]
    assert doc.find("g:metadata/g:desc", ns).text == NO_DAY_OR_TIME
    lat = [float(p.get("lat")) for p in doc.iter("{http://www.topografix.com/GPX/1/1}trkpt")]
    assert 51.6 < min(lat) < max(lat) < 51.9
    assert xml_text("a\x00b\ud800c\ufffed&") == "abcd&amp;"


# ------------------------------------------------------------------ the bundled data
def _labels_in(texts) -> set[str]:
    return {t for t in texts if isinstance(t, str)}


def _bundled_locations() -> set[str]:
    with zipfile.ZipFile(ST_ALBANS / "police" / "hertfordshire-st-albans-street.zip") as z:
        texts: set[str] = set()
        for name in z.namelist():
            texts |= _labels_in(pd.read_csv(io.BytesIO(z.read(name)), usecols=["Location"])["Location"])
    return texts


#: Generic police.uk place types found by reading every distinct location of the shipped months (the
#: bundle's 29 St Albans months and the county's 13 Hertfordshire months, 9,102 names): each is a place
#: type, never a street. "Theatre/Concert Hall" was listed as a street (issue 23).
REVIEWED_PLACES = {
    "Airport/Airfield",
    "Bus/Coach Station",
    "Ferry Terminal",
    "Motorway Service Area",
    "Prison",
    "Theatre/Concert Hall",
    "Supermarket",
    "Police Station",
}


def test_no_place_label_of_the_shipped_months_is_a_street(county_police):
    texts = _bundled_locations()
    for path in sorted(county_police.glob("*/*-street.csv")):
        texts |= _labels_in(pd.read_csv(path, usecols=["Location"])["Location"])
    bare = {places.bare(t) for t in texts}
    assert len(bare) > 9000
    # every label of the list occurs in the shipped months (the list is what the data shows)
    assert places.PLACE_LABELS <= bare
    assert REVIEWED_PLACES <= places.PLACE_LABELS
    # police.uk joins a place type's alternatives with "/": no street name does
    assert not [b for b in bare if "/" in b and places.is_street(b)]
    assert not [b for b in bare if b in places.PLACE_LABELS and places.is_street("On or near " + b)]
    assert set(places.RECORDED_AT) <= places.PLACE_LABELS
    assert not places.is_street("On or near Police Station") and places.is_street("On or near High Street")
    assert places.flag("Police Station") and not places.flag("Supermarket") and not places.is_street("  ")
    # names as a sign writes them: police.uk capitalises the letter after an apostrophe
    assert not [b for b in bare if re.search(r"[a-z]'S\b", b)]
    assert places.bare("On or near St Peter'S Street") == "St Peter's Street"
    assert places.bare("On or near Milliner'S Court") == "Milliner's Court"
    assert places.bare("O'Neill Road") == "O'Neill Road" and places.bare("Bishop'S Garth") == "Bishop's Garth"


@pytest.fixture(scope="module")
def bundled_zones(bundled_store):
    return analysis_zones(bundled_store, Selection.of("2021-08", "2022-01"), top=10)


def test_bundled_zones_are_patrol_sized_and_list_streets_first(bundled_zones):
    zones = bundled_zones.zones
    # all crime 2021-08..2022-01: 3 zones under the exact test (2021-11..2022-01 gave 10 under the normal
    # approximation, 2 exact; issue 21)
    assert len(zones) == 3
    assert (zones["area_km2"] <= MAX_ZONE_KM2 + 1e-9).all()  # zone 1 was 5.38 km², the whole city centre
    assert (zones["incidents"] >= MIN_ZONE_INCIDENTS).all()
    for _, z in zones.iterrows():
        names = [s for s, *_ in z["streets"]]
        assert not set(names) & places.PLACE_LABELS
        assert [n for _, n, *_ in z["streets"]] == sorted((n for _, n, *_ in z["streets"]), reverse=True)
        assert sum(n for _, n, *_ in z["streets"]) + sum(p[1] for p in z["places"]) <= z["incidents"]
        assert sum(n for _, n in z["months"]) == z["incidents"]
    station = [p for ps in zones["places"] for p in ps if p[0] == "Police Station"]
    assert station and all(p[6] for p in station) and all(p[4] and places.is_street(p[4]) for p in station)
    assert NO_DAY_OR_TIME in bundled_zones.notes
    assert any("at most 0.5 km²" in n for n in bundled_zones.notes)


def test_patrol_sheet_has_a_map_per_zone(bundled_store, bundled_zones):
    from pypdf import PdfReader

    found = bundled_zones
    top3 = found.zones.head(3)
    found = type(found)(top3, found.grid, found.comparison, found.harm, found.notes, found.street_points)
    sheet = patrolsheet.build(
        "St Albans",
        found,
        bundled_store.areas("ward").to_geodataframe(),
        categories=None,
        period="Aug 2021 to Jan 2022",
        before="Feb to Jul 2021",
        confidence="95% or more",
        ranked_by="incidents",
    )
    page = patrolsheet.to_html(sheet)
    # an overview first (every zone on a map of the district, a line per zone), then a page per zone
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="static-map"') == 4 and "<img " not in page
    sections = page.split("<section>")[1:]
    assert len(sections) == 4 and sections[0].count("static-map") == 1 and "All zones" in sections[0]
    assert all(s.count("static-map") == 1 and f"Zone {i}:" in s for i, s in enumerate(sections[1:], 1))
    assert NO_DAY_OR_TIME in page and "Police Station" in page
    # the sources credited (police.uk and the ONS wards, OGL) in the method and under every map
    assert html.escape(f"Sources: {SOURCES_CREDIT}") in page

    def texts(drawn):
        return [shape[3] for shape in drawn.shapes if shape[0] == "text"]

    assert SOURCES_CREDIT in texts(sheet.overview_map) and all(SOURCES_CREDIT in texts(p.map) for p in sheet.pages)
    assert [line[0] for line in sheet.overview] == ["1", "2", "3"]
    for line, (_, z) in zip(sheet.overview, top3.iterrows()):
        assert line[1] == f"{z['incidents']:,}" and z["streets"][0][0] in line[-1]
    reader = PdfReader(io.BytesIO(patrolsheet.to_pdf(sheet)))
    assert sum(len(p.images) for p in reader.pages) == 0  # the maps are vector, not pictures
    texts = [re.sub(r"\s+", " ", p.extract_text()) for p in reader.pages]
    first = texts[0]
    assert "Page 1 Patrol sheet: St Albans" in first and "All zones" in first and "Method" in first
    assert all(z["streets"][0][0] in first for _, z in top3.iterrows())
    # every ward named on the overview map, as text in the PDF (a long name may be broken over two lines)
    names = list(bundled_store.areas("ward").names)
    assert len(names) == 20 and sorted(sheet.overview_map.wards_named) == sorted(names)
    boxes = sheet.overview_map.boxes  # ward names and zone numbers: no two overlap (zones 1 to 3 stacked)
    assert len([t for t, _ in boxes if t.startswith("zone ")]) == 3
    assert not [(ta, tb) for i, (ta, a) in enumerate(boxes) for tb, b in boxes[i + 1 :] if _overlap(a, b)]
    assert [n for n in names if not (n in first or all(part in first for part in n.split(" ", 1)))] == []
    zone_pages = [t for t in texts if re.search(r"Page \d+ Zone \d+: ", t)]  # the footing is read first
    assert len(zone_pages) == 3 and all(f"Zone {i}: " in t for i, t in enumerate(zone_pages, 1))
    for text, p in zip(zone_pages, sheet.pages):
        # the street and place names placed on the zone's map are text on its page, and so are its wards
        placed = [t for t, _ in p.map.boxes if t not in p.map.wards_named and not t.startswith("zone ")]
        assert len(placed) >= 5 and [t for t in placed if t not in text] == [], p.heading
        assert p.map.wards_named and all(
            n in text or all(part in text for part in n.split(" ", 1)) for n in p.map.wards_named
        )
    # the map labels the zone's busiest street
    first_zone = sheet.pages[0]
    assert html.escape(first_zone.streets[0][0]) in page
    assert any(t.startswith(first_zone.streets[0][0] + " (") for t, _ in first_zone.map.boxes)


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_a_ward_filtered_plan_has_every_zone_inside_the_chosen_wards(bundled_store):
    city = ("E05013964", "E05013966")  # St Peters and Verulam: St Albans city centre
    whole = analysis_zones(bundled_store, Selection.of("2025-04", "2025-06"), top=10).zones
    found = analysis_zones(bundled_store, Selection.of("2025-04", "2025-06", wards=city), top=10)
    zones = found.zones
    assert len(zones) >= 2 and "Study area: 2 chosen wards." in found.notes
    areas = bundled_store.areas("ward")
    chosen = shapely.union_all(areas.geometries[np.isin(areas.codes, city)])
    for geom in zones.geometry:
        assert shapely.area(shapely.difference(geom, chosen)) < 1e-3  # square metres: inside, edges shared
    # found in the chosen wards, not cut out of the district's plan: outside zones never push them off the list
    assert not whole.geometry.map(lambda g: shapely.area(shapely.difference(g, chosen)) < 1e-3).all()
    inside = bundled_store.incidents(start="2025-04", end="2025-06", wards=list(city), inside=True)
    assert zones["incidents"].sum() <= len(inside)


def test_wards_with_no_zone_of_their_own_are_told_why_and_the_district_zones_lying_in_them(bundled_store):
    """A reviewer's find: St Peters alone said only "No significant hot spot ... widen the period", while the
    district's zone 1 (320 incidents) lies mostly in it. Zones are found against the chosen wards' own level, so a
    ward busy throughout may have none; the page says so and names the district's zones that lie there."""
    from geodata.analysis.patrol_zones import in_wards, none_in_wards

    st_peters, colney_heath = "E05013964", "E05013950"
    district = analysis_zones(bundled_store, Selection.of("2025-04", "2025-06"), top=5).zones
    alone = analysis_zones(bundled_store, Selection.of("2025-04", "2025-06", wards=(st_peters,)), top=5).zones
    assert alone.empty and len(district) == 5
    areas = bundled_store.areas("ward")
    ward = areas.geometries[list(areas.codes).index(st_peters)]
    overlapping = [int(z) for z, g in zip(district["zone"], district.geometry) if g.intersection(ward).area > 0]
    assert in_wards(bundled_store, district, [st_peters]) == overlapping and 1 in overlapping
    assert in_wards(bundled_store, district, [colney_heath]) == []  # none there
    said = none_in_wards("St Peters", "95% or more", overlapping, 5)
    assert "against those wards' own level" in said and "Z1" in said and "choose no ward" in said
    assert "Nor does any" in none_in_wards("Colney Heath", "95% or more", None, 5)


def test_zone_maps_draw_the_offline_roads_under_the_zone_with_the_osm_attribution(bundled_store, bundled_zones):
    from dashboard.render import staticmap
    from geodata import basemap

    streets = basemap.load(bundled_store.config.map_streets)
    z = bundled_zones.zones.iloc[0]
    wards = bundled_store.areas("ward").to_geodataframe()
    drawn = patrolsheet.zone_map(z, bundled_zones.zones, wards, [], "Zone 1", streets)
    roads = [s for s in drawn.shapes if s[0] == "line" and s[-1] == "road"]
    texts = [s[3] for s in drawn.shapes if s[0] == "text"]
    assert len(roads) > 50 and staticmap.OSM in texts
    # the roads drawn are the base map's roads crossing the zone's view (nothing invented, nothing from afar)
    x0, y0, x1, y1 = z.geometry.bounds
    near = [g for c, _, g in streets.roads if g.intersects(shapely.box(x0, y0, x1, y1))]
    assert 0 < len(near) <= len(roads)
    bare = patrolsheet.zone_map(z, bundled_zones.zones, wards, [], "Zone 1")
    assert not [s for s in bare.shapes if s[-1] == "road"] and staticmap.OSM not in [
        s[3] for s in bare.shapes if s[0] == "text"
    ]
    # at the district's scale only the main roads (motorway to secondary)
    d = staticmap.draw((wards["code"], wards["name"], wards.geometry.to_numpy()), width=400, basemap=streets)
    colours = {s[2] for s in d.shapes if s[-1] == "road"}
    assert colours and "#ffffff" not in colours  # tertiary and minor roads are white: not drawn at this scale
    assert "#ffffff" in {s[2] for s in drawn.shapes if s[-1] == "road"}  # the zone map draws them


def test_the_bundled_base_map_is_small_and_holds_the_district_roads(bundled_store):
    from geodata import basemap

    assert bundled_store.config.map_streets.stat().st_size < 1_500_000
    streets = basemap.load(bundled_store.config.map_streets)
    names = {n for _, n, _ in streets.roads}
    assert {"St Peter's Street", "Hatfield Road", "London Road"} <= names
    assert {c for c, _, _ in streets.roads} <= set(basemap.ROAD_CLASSES)
    x0, y0, x1, y1 = shapely.total_bounds(bundled_store.areas("ward").geometries)
    box = shapely.box(x0, y0, x1, y1).buffer(basemap.MARGIN_M + 1, join_style="mitre")
    assert all(box.contains(g) for _, _, g in streets.roads)  # clipped to the district's box and margin


def test_the_study_areas_outline_is_the_chosen_wards_or_the_district(bundled_store):
    from geodata.analysis import rules

    areas = bundled_store.areas("ward")
    two = [str(c) for c in areas.codes[:2]]
    union = rules.outline(bundled_store, pd.Series(two))  # any sequence of codes, a table's column too
    assert abs(union.area - sum(g.area for g in areas.geometries[:2])) < 1.0  # square metres: they do not overlap
    assert rules.outline(bundled_store, ()).equals(bundled_store.boundary())
