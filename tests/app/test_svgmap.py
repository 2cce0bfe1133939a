"""The inline SVG ward map: geometry, classes, no-data wards and escaping."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import shapely

from dashboard.render.palette import SEQUENTIAL
from dashboard.render.svgmap import NO_DATA, ward_svg


def test_svg_map_draws_every_ward_escaped_with_no_data_marked(bundled_store):
    areas = bundled_store.areas("ward")
    names = list(areas.names)
    names[0] = "<img src=x onerror=alert(1)>"
    counts = bundled_store.ward_summary().set_index("ward_code")["incidents"].to_dict()
    counts[areas.codes[1]] = None
    svg = ward_svg(areas.codes, names, shapely.simplify(areas.geometries, 20), counts, "Incidents")
    root = ET.fromstring(svg)  # well-formed XML: nothing from the data broke out of its attribute or text
    paths = root.findall(".//{http://www.w3.org/2000/svg}path")
    assert len(paths) == 20
    titles = [p.find("{http://www.w3.org/2000/svg}title").text for p in paths]
    assert titles[0].startswith("<img src=x onerror=alert(1)>: ")  # text once parsed, not an element
    assert "<img" not in svg and "&lt;img src=x" in svg
    assert titles[1].endswith(": no data") and paths[1].get("fill") == NO_DATA
    busiest = max((v, i) for i, v in enumerate(counts.get(c) or 0 for c in areas.codes))[1]
    assert paths[busiest].get("fill") == SEQUENTIAL[-1]
    assert {p.get("fill") for p in paths} - {NO_DATA} <= set(SEQUENTIAL)
    assert re.search(r'viewBox="0 0 360 \d+"', svg)


def test_a_label_that_does_not_fit_on_its_point_moves_within_its_ward():
    # B's point on surface lies beside A's label (placed first: A is busier); nudged up or down inside
    # its own ward, B gets its name and count instead of the count alone
    a, b = shapely.box(0, 0, 1000, 1000), shapely.box(530, 400, 560, 600)
    svg = ward_svg(["A", "B"], ["Alpha", "Bravo"], [a, b], {"A": 90, "B": 50}, "n", labels=True, font=11)
    written = re.findall(r'class="ward-label" x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)<', svg)
    assert [t for _, _, t in written] == ["Alpha", "90", "Bravo", "50"]
    scale = 360 / 1000
    bravo_y = float(written[2][1]) / scale  # px from the top -> metres from the top of the map
    assert 1000 - 600 < bravo_y < 1000 - 400  # still over ward B
