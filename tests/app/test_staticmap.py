"""The one static map renderer (dashboard/render/staticmap.py): every ward named on every map at every
size we ship, no two labels overlapping, the same map as SVG, PDF (text extractable) and PNG; classes,
no-data wards and escaping; and no other map renderer or pyplot left in the code."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pypdf
import pytest
import shapely

from dashboard.render import pack, staticmap
from dashboard.render.palette import SEQUENTIAL
from geodata.classes import NO_DATA
from tests.conftest import REPO

SVG = "{http://www.w3.org/2000/svg}"
#: (width in units, label size): the slide map (kiosk 720p .. 4K: the SVG scales whole), the Wards and
#: fly-tipping pages, the pack's A4 map (120 mm in points) and the map image (8 in at 72 pt).
SIZES = ((600, 14), (600, 12), (pack.MAP_MM * 72 / 25.4, 5.2), (8 * 72, 9), (900, 14))


@pytest.fixture(scope="module")
def wards(bundled_store):
    a = bundled_store.areas("ward")
    return a.codes, a.names, shapely.simplify(a.geometries, 20)


@pytest.fixture(scope="module")
def counts(bundled_store, wards):
    table = bundled_store.ward_summary().set_index("ward_code")["incidents"]
    return {c: int(table.get(c, 0)) for c in wards[0]}


def _no_overlap(boxes):
    for i, (ta, a) in enumerate(boxes):
        for tb, b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (ta, a, tb, b)


@pytest.mark.parametrize("width,font", SIZES)
def test_every_ward_is_named_once_and_no_two_labels_overlap(wards, counts, width, font):
    d = staticmap.draw(wards, width=width, values=counts, legend_title="Incidents", font=font)
    assert sorted(d.wards_named) == sorted(wards[1])  # all 20, none dropped
    _no_overlap(d.boxes)
    # the SVG's text says every name (a long name may be broken over two lines)
    text = " ".join(t.text for t in ET.fromstring(d.svg()).iter(f"{SVG}text") if "map-label" in (t.get("class") or ""))
    for name in wards[1]:
        assert name in text or all(part in text for part in name.split(" ", 1)), name
    assert len(wards[1]) == 20


def test_a_label_that_does_not_fit_moves_within_its_ward_then_is_led_out_never_dropped():
    # B is a 30 x 200 m strip beside A: its name cannot fit inside it, so it is led out with a line
    a, b = shapely.box(0, 0, 1000, 1000), shapely.box(530, 400, 560, 600)
    d = staticmap.draw((["A", "B"], ["Alpha", "Bravo"], [a.difference(b), b]), width=360, values={"A": 90, "B": 50})
    assert sorted(d.wards_named) == ["Alpha", "Bravo"] and d.led_out == ["Bravo"]
    leaders = [s for s in d.shapes if s[0] == "line" and s[-1] == "leader"]
    assert len(leaders) == 1
    (px, py), end = leaders[0][1]
    scale = 360 / (1000 * 1.08)
    assert 530 < px / scale - 40 < 560  # the line starts inside B
    bravo = dict(d.boxes)["Bravo"]
    assert _touches(bravo, end)
    # a ward whose label fits stays inside it, with no line
    c = shapely.box(300, 300, 700, 700)
    d2 = staticmap.draw((["A", "C"], ["Alpha", "Charlie"], [a.difference(c), c]), width=360, values={"A": 1, "C": 2})
    assert d2.led_out == [] and sorted(d2.wards_named) == ["Alpha", "Charlie"]


def _touches(box, pt) -> bool:
    return box[0] - 0.01 <= pt[0] <= box[2] + 0.01 and box[1] - 0.01 <= pt[1] <= box[3] + 0.01


def test_a_name_led_out_lies_on_no_ward_where_the_map_has_room(wards, counts):
    """A new user's find: on the P3 slide's map "Harpenden East 44" was printed across Harpenden West, and
    "Harpenden West 168" on Harpenden North & Rural (each led out with a line, but read as the ward it lay
    on). A name led out goes first to the nearest free spot clear of every ward (the district's margin)."""
    d = staticmap.draw(wards, width=600, values=counts, font=14)
    rings = [r for s in d.shapes if s[0] == "poly" and s[-1] == "ward-area" for r in s[1]]
    areas = shapely.union_all([shapely.make_valid(shapely.Polygon(r)) for r in rings])  # holes counted as ward
    boxes = dict(d.boxes)
    for name in ("Harpenden East", "Harpenden West"):
        assert name in d.led_out
        assert not areas.intersects(shapely.box(*boxes[name])), name


def test_svg_is_escaped_and_classed_with_no_data_marked(bundled_store, wards, counts):
    codes, names, geoms = wards
    names = list(names)
    names[0] = "<img src=x onerror=alert(1)>"
    counts = dict(counts)
    counts[codes[1]] = None
    svg = staticmap.draw((codes, names, geoms), values=counts, legend_title="Incidents", title="T <b>").svg()
    root = ET.fromstring(svg)  # well-formed XML: nothing from the data broke out
    paths = [p for p in root.iter(f"{SVG}path") if p.get("class") == "ward-area"]
    assert len(paths) == 20
    titles = [p.find(f"{SVG}title").text for p in paths]
    assert titles[0].startswith("<img src=x onerror=alert(1)>: ") and "<img" not in svg
    assert titles[1].endswith(": no data") and paths[1].get("fill") == NO_DATA
    busiest = max((v or 0, i) for i, v in enumerate(counts.get(c) for c in codes))[1]
    assert paths[busiest].get("fill") == SEQUENTIAL[-1]
    assert root.get("aria-label") == "T <b>"


def test_the_pdf_map_has_every_ward_name_as_text_and_the_png_draws(wards, counts):
    from reportlab.graphics import renderPDF

    d = staticmap.draw(wards, width=pack.MAP_MM * 72 / 25.4, values=counts, legend_title="Incidents", font=5.2)
    pdf = renderPDF.drawToString(d.pdf())
    text = re.sub(r"\s+", " ", pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text())
    for name in wards[1]:
        assert name in text or all(part in text for part in name.split(" ", 1)), (name, text)
    png, drawn = staticmap.png(dpi=60, wards=wards, width=8 * 72, values=counts, font=9, caption="$5 $ title")
    assert png.startswith(b"\x89PNG") and sorted(drawn.wards_named) == sorted(wards[1])
    _no_overlap(drawn.boxes)


def test_the_meeting_pack_names_every_ward_on_each_map_as_pdf_text(bundled_store, wards):
    from geodata import priorities

    built = pack.build(bundled_store, priorities.load())
    maps = [k for k in built.images if k[2] == "map"]
    assert [k[0] for k in maps] == ["P1", "P3"]
    pages = [re.sub(r"\s+", " ", p.extract_text()) for p in pypdf.PdfReader(io.BytesIO(pack.render(built))).pages]
    for pid in ("P1", "P3"):
        page = next(p for p in pages if f"{pid} " in p and "Gi* hot spots" in p)
        missing = [n for n in wards[1] if not (n in page or all(part in page for part in n.split(" ", 1)))]
        assert missing == [], (pid, missing)
        _no_overlap(built.images[(pid, 0, "map")].boxes)


def test_street_labels_never_collide_and_crowded_ones_are_left_out():
    w = (["W1", "W2"], ["West $ward$", "East"], [shapely.box(0, 0, 500, 1000), shapely.box(500, 0, 1000, 1000)])
    labels = [staticmap.Label(500 + i % 3, 500 + i % 2, f"$\\undefinedcmd$ Street {i}", "street", i) for i in range(30)]
    labels += [staticmap.Label(200, 800, "Police Station (4) [recorded here?]", "flagged", 100)]
    png, d = staticmap.png(dpi=60, wards=w, values={"W1": 3, "W2": 10}, labels=labels, width=288, font=9)
    assert png.startswith(b"\x89PNG") and sorted(d.wards_named) == ["East", "West $ward$"]
    placed = [t for t, _ in d.boxes if t not in ("East", "West $ward$")]
    assert placed[0] == "Police Station (4) [recorded here?]"  # the heaviest first
    assert 1 <= len(placed) < 31 and len(d.dropped) == 31 - len(placed)
    _no_overlap(d.boxes)


def test_one_static_map_renderer_and_no_pyplot():
    code = {p: p.read_text() for p in (REPO / "dashboard").rglob("*.py")}
    assert not [p for p, t in code.items() if re.search(r"matplotlib\.pyplot|from matplotlib import pyplot", t)]
    assert not (REPO / "dashboard" / "render" / "svgmap.py").exists()
    assert not (REPO / "dashboard" / "render" / "printmap.py").exists()
    # ward choropleths: no Vega geoshape of wards and no matplotlib map drawing outside staticmap
    assert not [p for p, t in code.items() if "properties.value" in t]  # the Wards page's Vega choropleth
    drawers = [p.name for p, t in code.items() if re.search(r"\.plot\(ax=|PathPatch|\.geometry\.plot", t)]
    assert drawers == ["staticmap.py"], drawers


#: One module per kind of drawing (issue 22): the interactive map (the Leaflet spec, drawn in the browser by
#: the mapview component), the static map, the run chart, the document (PDF and printable HTML).
RENDERERS = {
    "interactive map": "dashboard/render/maps.py",
    "static map": "dashboard/render/staticmap.py",
    "run chart": "dashboard/render/charts.py",
    "document": "dashboard/render/document.py",
}


def test_one_module_per_kind_of_drawing_and_matplotlib_only_for_the_map_image():
    code = {p.relative_to(REPO).as_posix(): p.read_text() for p in (REPO / "dashboard").rglob("*.py")}
    assert set(RENDERERS.values()) <= set(code)
    assert not (REPO / "dashboard" / "render" / "svgchart.py").exists()  # the slides' twin of the pack's charts

    def using(pattern: str) -> list[str]:
        return sorted(p for p, t in code.items() if re.search(pattern, t, re.M))

    # documents: reportlab's page layout (platypus) in document.py alone (the pack, reports and patrol sheet
    # build blocks); maps and charts hand it drawings
    assert using(r"reportlab\.platypus|SimpleDocTemplate|<!doctype html>") == [RENDERERS["document"]]
    # run charts: an XmR chart's limits and special-cause points are drawn in charts.py alone
    assert using(r"\.(upper|lower)\b(?!\()|\.rules_at\(|\.special\b") == [RENDERERS["run chart"]]
    # the interactive map's layers (GeoJSON feature collections of the Leaflet spec) are made in maps.py alone
    assert using(r"\"FeatureCollection\"") == [RENDERERS["interactive map"]]
    # matplotlib only for the map image's PNG (staticmap.png: its object API), nothing else
    assert using(r"^\s*(from|import) matplotlib") == [RENDERERS["static map"]]


def test_the_explorers_map_image_names_every_ward_with_no_label_overlapping(tmp_path, monkeypatch, bundled_store):
    """The explorer's map image (PNG for a report, issue 22: it named 8 of 20): what the button makes, on the
    explorer's opening period, every ward named and no two labels (wards, streets) overlapping; and zoomed to
    the city centre's wards, each chosen ward named."""
    from dashboard.views import explorer
    from geodata.analysis import ANALYST, Selection
    from tests.conftest import write_config

    monkeypatch.setenv("CSP_HOTSPOTS_CONFIG", path := str(write_config(tmp_path)))
    drawn = []
    real = staticmap.png
    monkeypatch.setattr(staticmap, "png", lambda **kw: drawn.append(real(**kw)[1]) or (b"", None))
    explorer.map_image(path, Selection.of("2025-04", "2025-06"), ANALYST, None, "incidents")
    names = bundled_store.areas("ward").names
    assert sorted(drawn[0].wards_named) == sorted(names) and len(names) == 20
    _no_overlap(drawn[0].boxes)
    assert drawn[0].boxes[20:], "no street named on the map image"  # the busiest streets too, beside the wards
    city = {"St Peters", "Clarence", "Cunningham", "Sopwell", "Batchwood", "Bernards Heath"}
    chosen = tuple(c for c, n in zip(bundled_store.areas("ward").codes, names) if n in city)
    explorer.map_image(path, Selection.of("2025-04", "2025-06", wards=chosen), ANALYST, None, "incidents")
    assert city <= set(drawn[1].wards_named)
    _no_overlap(drawn[1].boxes)
