"""Show a map spec (:mod:`dashboard.render.maps`) on a Streamlit page.

The spec travels to the browser as JSON component arguments; ``dashboard/render/mapview/index.html``
loads Leaflet once from the app's own static files and draws the spec, replacing the previous map
in place when the spec changes (no iframe reload). Every string in the spec is drawn as text.
"""

from __future__ import annotations

import functools
from importlib.resources import files

import streamlit as st
from streamlit import runtime
from streamlit.components.v1.custom_component import CustomComponent
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

#: The session state key saying a session has drawn the map of key ``{}`` (:func:`seen`).
SEEN = "_mapview_seen_{}"


@functools.cache
def _component() -> CustomComponent:
    """The map component, made and registered at its first use in a page run (a page run has a runtime to
    register it with; the server's warm-up thread, importing this module, may not).

    What ``components.declare_component("csp_mapview", path=...)`` makes, without its look-up of the calling
    module (``inspect.getmodule``, which reads the path of every loaded module: 0.05-0.1 s of the first
    visitor's first view, issue 23). Same name, so the same URL: ``/component/dashboard.render.mapview.csp_mapview/``.
    """
    component = CustomComponent(
        name=f"{__name__}.csp_mapview", path=str(files("dashboard.render") / "mapview"), module_name=__name__
    )
    if get_script_run_ctx() is not None:  # as declare_component: registered only from a script run
        runtime.get_instance().component_registry.register_component(component)
    return component


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
