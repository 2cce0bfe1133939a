"""Wards page: incidents by ward, as a table and a ward map, with rates per 1,000 residents.

The map is the one static map (:mod:`dashboard.render.staticmap`, inline SVG: every ward named, the
one classing): no script, no tiles. Ward outlines are simplified to 20 m.
"""

from __future__ import annotations

import streamlit as st

from dashboard import common
from dashboard.markdown import inert
from geodata.analysis import Audience, Selection, rules
from geodata.analysis.ward_table import ward_table

#: The phone's ward map below 640 px (where Streamlit stacks the columns), the wide one above.
_NARROW_CSS = (
    "<style>.csp-ward-map .narrow{display:none}"
    "@media (max-width:640px){.csp-ward-map .wide{display:none}.csp-ward-map .narrow{display:block}}</style>"
)


def _table(store, selection: Selection, key, audience: Audience):
    """:func:`geodata.analysis.ward_table.ward_table` with the harm weights of the priorities file ``key``."""
    plist = common.priorities(key)
    return ward_table(
        store,
        selection,
        audience,
        harm_weights=plist.harm_weights,
        harm_source=plist.harm_source,
    )


def page() -> None:
    """Draw the page."""
    store = common.store()
    cfg = store.config
    months = common.months(common.config_path())
    st.title(f"Wards: {inert(cfg.area_name)}")
    if not months:
        st.warning("The store holds no police.uk data yet: load a month with `csp-hotspots ingest police`.")
        return
    st.caption(f"police.uk street-level crime, data to {months[-1]}. {inert(cfg.wards.label)}.")
    opening = rules.opening_period(months)  # never across a gap; compared where it can be (README, Rules)
    start, end = st.select_slider(
        "Months", options=months, value=(opening.period.start, opening.period.end), key="months"
    )
    common.period_notes(months, opening, start, end)
    categories = st.multiselect("Crime types (none = all)", sorted(common.CRIME_TYPES), key="categories")
    result = common.cached(_table, Selection.of(start, end, categories), common.priorities_key(), common.audience())
    table = result.frame
    for note in result.notes:
        st.caption(inert(note + (" Wards ranked by harm." if note.startswith("Harm") else "")))
    st.metric("Incidents", result.total)
    left, right = st.columns([3, 2])
    with left:
        values = table.set_index("ward_code")["incidents"]
        # two drawings, one shown: 600 units wide, and 360 for a phone's single column (the wide one's names
        # were 7 px there); each names every ward (staticmap), the browser shows the one for its width
        wide = common.ward_svg(values, "Incidents")
        try:
            narrow = common.ward_svg(values, "Incidents", width=360)
        except RuntimeError:  # names too long for 360 units even at 60% type (staticmap): the wide one
            narrow = wide
        st.markdown(  # staticmap escapes every text
            f'<div class="csp-ward-map">{_NARROW_CSS}<div class="wide">{wide}</div>'
            f'<div class="narrow">{narrow}</div></div>',
            unsafe_allow_html=True,
        )
    with right:
        common.table(
            table.rename(columns=common.WARD_COLUMNS),
            hide_index=True,
            height=520,
        )
    common.attributions()
