"""The dashboard's pages, run by Streamlit as scripts (``st.Page``) from ``dashboard/app.py``."""
