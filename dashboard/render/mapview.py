"""Show a map spec (:mod:`dashboard.render.maps`) on a Streamlit page.

The spec travels to the browser as JSON component arguments; ``dashboard/render/mapview/index.html``
loads Leaflet once from the app's own static files and draws the spec, replacing the previous map
in place when the spec changes (no iframe reload). Every string in the spec is drawn as text.
"""

from __future__ import annotations

import functools
from importlib.resources import files

import streamlit as st
import streamlit.components.v1 as components

#: The session state key saying a session has drawn the map of key ``{}`` (:func:`seen`).
SEEN = "_mapview_seen_{}"


@functools.cache
def _component():
    """The map component, declared at its first use in a page run: Streamlit serves a component's files only when
    it is declared in a script run (this module imported by the server's warm-up thread left them unserved)."""
    return components.declare_component("csp_mapview", path=str(files("dashboard.render") / "mapview"))


def show(spec: dict, height: int = 620, key: str | None = None) -> dict | None:
    """Draw map ``spec`` at ``height`` pixels, the full width of its container. Returns the last
    click on a clickable area, ``{"id": ..., "n": ...}`` (``n`` differs for every click), or None."""
    if height <= 0:
        raise ValueError(f"height must be a positive number of pixels, got {height}")
    if not isinstance(spec, dict) or "bounds" not in spec or "layers" not in spec:
        raise ValueError("spec must be a map spec from dashboard.render.maps.base_map")
    if key is not None:
        st.session_state[SEEN.format(key)] = True
    return _component()(spec=spec, height=height, key=key, default=None)


def seen(key: str) -> bool:
    """Whether this session has drawn the map ``key`` already (a page paints a quick first map on a
    session's first view only)."""
    return bool(st.session_state.get(SEEN.format(key)))
