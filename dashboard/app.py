"""The Streamlit app: a page router. Run with ``csp-hotspots serve``.

Pages (``dashboard/views/``) only compose figures from ``geodata`` and ``loaders``. Only the pages
the session's audience may see are registered (:mod:`dashboard.access`): another page's URL
opens the default page, and its script never runs.
"""
from __future__ import annotations

import streamlit as st

from dashboard import access, common

st.set_page_config(page_title="CSP Hotspots", layout="wide")
kiosk = st.query_params.get("mode") == "meeting"  # the meeting-room screen: no navigation at all
config = common.store().config
pages = [
    ("public", st.Page("views/meeting.py", title="Meeting", default=True)),
    ("public", st.Page("views/explorer.py", title="Map explorer", url_path="explorer")),
    ("public", st.Page("views/trends.py", title="Trends", url_path="trends")),
    ("analyst", st.Page("views/patrol.py", title="Patrol planner", url_path="patrol")),
    ("public", st.Page("views/wards.py", title="Wards", url_path="wards")),
    ("public", st.Page("views/flytipping.py", title="Fly-tipping", url_path="flytipping")),
    ("public", st.Page("views/data.py", title="Data & sources", url_path="data")),
]
page = st.navigation([p for level, p in pages if access.can(config, level)],
                     position="hidden" if kiosk else "sidebar")
access.sign_in_box(config)
page.run()
