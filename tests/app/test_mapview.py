"""The map component's server side: a map is a JSON spec, its text travels as data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import shapely

from dashboard.render import maps, mapview

SQUARES = np.array([shapely.box(515000, 205000, 516000, 206000), shapely.box(516000, 205000, 517000, 206000)])


def _spec(name: str = "St Peters") -> dict:
    m = maps.base_map(maps.wgs84_bounds(shapely.total_bounds(SQUARES)))
    geoms = maps.prepare(SQUARES)
    maps.outline(m, geoms, [name, "Ashley"], maps.label_points(SQUARES))
    maps.choropleth(
        m,
        geoms,
        pd.DataFrame({"ward_name": [name, "Ashley"], "incidents": [3, 7]}),
        "incidents",
        "Wards: incidents",
        "Incidents",
        {"ward_name": "Ward", "incidents": "Incidents"},
    )
    maps.legend(m, f"Wards: {name}", [("#440154", "0 to 10")])
    return m


def test_spec_is_plain_json_with_local_bounds_and_no_tiles():
    spec = _spec()
    again = json.loads(json.dumps(spec))
    assert again == spec
    (s, w), (n, e) = spec["bounds"]
    assert 51.7 < s < n < 51.8 and -0.4 < w < e < -0.2  # the two squares near St Albans, in WGS84
    assert spec["tiles"] is None and spec["maxZoom"] == maps.MAX_ZOOM
    assert [lay["kind"] for lay in spec["layers"]] == ["outline", "areas"]
    tips = [f["properties"]["tip"] for f in spec["layers"][1]["data"]["features"]]
    assert tips == [[["Ward", "St Peters"], ["Incidents", "3"]], [["Ward", "Ashley"], ["Incidents", "7"]]]
    labels = spec["layers"][0]["labels"]
    assert [lab[2] for lab in labels] == ["St Peters", "Ashley"]


def test_a_layer_off_at_first_carries_its_own_legend_and_a_shown_one_does_not():
    """A new user's find: switching on the LSOA deprivation or density layer showed no legend for it (the
    only one was the wards'). A layer hidden at first carries its classes as a legend, shown by the map
    while the layer is on (tests/e2e/test_map_labels.py); a shown layer's classes are in the map's legend."""
    m = _spec()
    table = pd.DataFrame({"name": ["A", "B"], "deprivation": [2, 9]})
    maps.choropleth(m, maps.prepare(SQUARES), table, "deprivation", "LSOAs: deprivation", "Deprivation", {}, show=False)
    maps.class_layers(m, {1: maps.prepare(SQUARES[:1])[0]}, {1: "#ff0000"}, {1: "5 per km2"}, "Density", show=False)
    shown, lsoa, density = m["layers"][1], m["layers"][2], m["layers"][3]
    assert "legend" not in shown
    assert lsoa["legend"]["title"] == "LSOAs: deprivation" and len(lsoa["legend"]["items"]) >= 2
    assert density["legend"] == {"title": "Density", "items": [["#ff0000", "5 per km2"]]}


@pytest.mark.parametrize(
    "payload",
    [
        "{{7*7}}",
        "{% for x in range(3) %}x{% endfor %}",
        "<script>alert(1)</script>",
        "{{ cycler.__init__.__globals__.os.getcwd() }}",
    ],
)
def test_text_from_data_is_carried_verbatim_never_rendered(payload):
    spec = _spec(payload)
    text = json.dumps(spec)
    assert json.loads(text)["legend"]["title"] == f"Wards: {payload}"
    assert spec["layers"][0]["labels"][0][2] == payload
    assert spec["layers"][1]["data"]["features"][0]["properties"]["tip"][0][1] == payload


def test_a_map_has_a_positive_height_and_a_spec():
    with pytest.raises(ValueError, match="height must be a positive number of pixels, got 0"):
        mapview.show(_spec(), height=0)
    with pytest.raises(ValueError, match="spec must be a map spec"):
        mapview.show({"html": "<div>"}, height=100)


def test_no_template_engine_renders_anything_the_app_shows():
    """folium/branca compile their rendered output as Jinja again (issue 18): none of the app's
    modules may import a template engine."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    found = []
    for package in ("dashboard", "geodata", "loaders"):
        for path in (root / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else []
                )
                found += [
                    f"{path.relative_to(root)}: {n}"
                    for n in names
                    if n.split(".")[0] in ("folium", "branca", "jinja2", "mako")
                ]
    assert found == []


def test_the_map_component_is_made_without_looking_up_its_caller(monkeypatch):
    """Issue 23: ``declare_component`` finds its caller's module with ``inspect.getmodule``, which reads the path of
    every loaded module (0.05-0.1 s of the first visitor's first view). The component is made directly, with the
    name (so the URL, ``/component/<name>/``) and the files declare_component gave it."""
    import inspect
    from pathlib import Path

    def no_lookup(*args, **kwargs):
        raise AssertionError("inspect.getmodule called")

    monkeypatch.setattr(inspect, "getmodule", no_lookup)
    mapview._component.cache_clear()
    try:
        component = mapview._component()
    finally:
        mapview._component.cache_clear()
    assert component.name == "dashboard.render.mapview.csp_mapview"
    assert Path(component.abspath) == Path(mapview.__file__).parent / "mapview"
    assert (Path(component.abspath) / "index.html").is_file()
