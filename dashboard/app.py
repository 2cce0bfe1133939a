"""The Streamlit app: a page router. Run with ``csp-hotspots serve``.

Pages (``dashboard/views/``) only compose figures from ``geodata`` and ``loaders``.
"""
from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="CSP Hotspots", layout="wide")
kiosk = st.query_params.get("mode") == "meeting"  # the meeting-room screen: no navigation at all
page = st.navigation([
    st.Page("views/meeting.py", title="Meeting", default=True),
    st.Page("views/explorer.py", title="Map explorer", url_path="explorer"),
    st.Page("views/trends.py", title="Trends", url_path="trends"),
    st.Page("views/patrol.py", title="Patrol planner", url_path="patrol"),
    st.Page("views/wards.py", title="Wards", url_path="wards"),
    st.Page("views/flytipping.py", title="Fly-tipping", url_path="flytipping"),
    st.Page("views/data.py", title="Data & sources", url_path="data"),
], position="hidden" if kiosk else "sidebar")
page.run()
