"""The Streamlit app: a page router. Run with ``csp-hotspots serve``.

Pages are functions (``page`` in each module of ``dashboard/views/``) that read the URL, ask the
analysis layer (:mod:`geodata.analysis`), cache and render. Only the pages
the session's audience may see are registered (:mod:`dashboard.access`): another page's URL
opens the default page, and its script never runs.
"""

from __future__ import annotations

import streamlit as st

from dashboard import access, common
from dashboard.views import actions, data, explorer, flytipping, meeting, patrol, trends, wards

st.set_page_config(page_title="CSP Hotspots", layout="wide")
kiosk = st.query_params.get("mode") == "meeting"  # the meeting-room screen: no navigation at all
config = common.store().config
pages = [
    ("public", st.Page(meeting.page, title="Meeting", default=True)),
    ("public", st.Page(explorer.page, title="Map explorer", url_path="explorer")),
    ("public", st.Page(trends.page, title="Trends", url_path="trends")),
    ("analyst", st.Page(patrol.page, title="Patrol planner", url_path="patrol")),
    ("viewer", st.Page(actions.page, title="Actions", url_path="actions")),
    ("public", st.Page(wards.page, title="Wards", url_path="wards")),
    ("public", st.Page(flytipping.page, title="Fly-tipping", url_path="flytipping")),
    ("public", st.Page(data.page, title="Data & sources", url_path="data")),
]
page = st.navigation([p for level, p in pages if access.can(config, level)], position="hidden" if kiosk else "sidebar")
access.sign_in_box(config)
page.run()
