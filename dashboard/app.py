"""The Streamlit app: a page router. Run with ``csp-hotspots serve``.

Pages are functions (``page`` in each module of ``dashboard/views/``) that read the URL, ask the
analysis layer (:mod:`geodata.analysis`), cache and render. Only the pages
the session's audience may see are registered (:mod:`dashboard.access`): another page's URL
opens the default page, and its script never runs. A page's module is imported when the page first
runs (:func:`lazy`), so a first view pays only for its own page's imports.
"""

from __future__ import annotations

import importlib

import streamlit as st

from dashboard import access, common
from dashboard.views import PAGES


def lazy(name: str):
    """The ``page`` function of ``dashboard.views.<name>``, its module imported when the page first runs."""

    def page() -> None:
        importlib.import_module(f"dashboard.views.{name}").page()

    page.__name__ = name  # st.Page names a page after its function
    return page


common.page_run_started.set()
st.set_page_config(page_title="CSP Hotspots", layout="wide")
kiosk = st.query_params.get("mode") == "meeting"  # the meeting-room screen: no navigation at all
config = common.store().config
pages = [
    (p.level, st.Page(lazy(p.module), title=p.title, url_path=p.url_path or None, default=not p.url_path))
    for p in PAGES
]
page = st.navigation([p for level, p in pages if access.can(config, level)], position="hidden" if kiosk else "sidebar")
access.sign_in_box(config)
common.follow_loads()  # a load since the last run: every cached figure is dropped first
with common.store().session():  # one connection for the run's queries: opening the file costs 15-30 ms a time
    page.run()
