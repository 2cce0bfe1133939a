"""The map component's server side: a map rendered once into the pieces the component draws."""
from __future__ import annotations

import re

import folium
import pytest

from dashboard import maps, mapview


def _map() -> folium.Map:
    m = maps.base_map((-0.45, 51.70, -0.20, 51.88))
    maps.legend(m, "Wards: incidents", [("#440154", "0 to 10")])
    folium.LayerControl().add_to(m)
    return maps.offline(m)


def test_parts_hold_one_map_its_script_draws_with_local_assets_only():
    parts = mapview.parts(_map())
    ids = re.findall(r'class="folium-map" id="(map_[0-9a-f]+)"', parts["html"])
    assert len(ids) == 1
    assert re.search(r'L\.map\(\s*"' + ids[0] + '"', parts["script"])  # the script draws into that div
    assert "maxZoom" in parts["script"]  # the marker cluster refuses a map without one
    assert "Wards: incidents" in parts["html"]
    assets = re.findall(r'(?:src|href)="([^"]+)"', parts["header"])
    assert assets and all(a.startswith(maps.STATIC + "/") for a in assets), assets


def test_a_map_has_a_positive_height():
    with pytest.raises(ValueError, match="height must be a positive number of pixels, got 0"):
        mapview.show(mapview.parts(_map()), height=0)
