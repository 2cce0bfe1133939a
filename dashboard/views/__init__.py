"""The dashboard's pages: each module's ``page()`` is registered by ``dashboard/app.py`` (``st.Page``)."""
