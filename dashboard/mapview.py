"""Show a folium map on a Streamlit page, drawn once per filter on the server and swapped in place
in the browser.

:func:`parts` renders a map once into its three pieces (the header's asset links and styles, the
map's HTML, its script); pages cache those per filter, so a rerun that shows a map already drawn
does no folium or Jinja work (the Map explorer's warm rerun: folium rendering was about 60% of it).
:func:`show` hands the pieces to a small component (``dashboard/mapview/index.html``) that loads
Leaflet once per page and replaces the previous map with the new one, instead of reloading an iframe.
"""
from __future__ import annotations

from pathlib import Path

import folium
import streamlit.components.v1 as components

_component = components.declare_component("csp_mapview", path=str(Path(__file__).parent / "mapview"))


def parts(m: folium.Map) -> dict[str, str]:
    """``m`` rendered: ``header`` (asset links, styles), ``html`` (the map's div, legends), ``script``."""
    root = m.get_root()
    root.render()
    return {"header": root.header.render(), "html": root.html.render(), "script": root.script.render()}


def show(map_parts: dict[str, str], height: int = 620, key: str | None = None) -> None:
    """Draw a map from :func:`parts` at ``height`` pixels, the full width of its container."""
    if height <= 0:
        raise ValueError(f"height must be a positive number of pixels, got {height}")
    _component(**map_parts, height=height, key=key, default=None)
