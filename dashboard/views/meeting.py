"""Meeting page (the default): the meeting's slides (:mod:`geodata.analysis.meeting`, drawn by
:mod:`dashboard.render.slides`): an overview of every priority, one slide per measured priority (headline
number, its change, an XmR run chart, the ward map) and one for the priorities not measured yet.

URL parameters (so a meeting-room screen needs no mouse):

* ``mode=meeting``: kiosk mode: no sidebar and no widgets, one slide filling the screen, rotating
  every ``every`` seconds (default :data:`KIOSK_EVERY`, at least :data:`KIOSK_MIN`), the overview first;
  the chair steps, goes back, pauses and blanks it from a keyboard or a clicker
  (:func:`dashboard.render.slides.kiosk`: ArrowRight/PageDown, ArrowLeft/PageUp, Space, "b");
* ``to=YYYY-MM``, ``window=N`` (months), ``compare=previous|year-earlier``:
  the period (default: each priority's target window ending at the latest
  loaded month, compared as its target says).
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from dashboard import access, common
from dashboard.markdown import inert
from dashboard.render import slides
from geodata.analysis.actions import for_meeting
from geodata.analysis.status import SYNTHETIC_LABEL, complete_months, latest_month
from geodata.priorities import COMPARES

KIOSK_EVERY, KIOSK_MIN = 20, 3
WINDOWS = (1, 3, 6, 12)
#: Kiosk: Streamlit's chrome hidden and no padding or gaps, so the slide is the whole window.
_KIOSK_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"], footer
  {display: none !important;}
.block-container, [data-testid="stMainBlockContainer"] {padding: 0 !important; max-width: 100% !important;}
[data-testid="stVerticalBlock"] {gap: 0 !important;}
[data-testid="stElementContainer"]:has(style) {display: none;}
@media (min-width: 701px) {  /* a screen: one slide, no scrolling; a phone: the slides stack and scroll */
  html, body, [data-testid="stAppViewContainer"], [data-testid="stMain"] {overflow: hidden !important;}
}
</style>"""


def _int_param(name: str, default: int | None, allowed=None) -> int | None:
    raw = st.query_params.get(name)
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        return default
    return value if allowed is None or value in allowed else default


def _period_controls(all_months: list[str]) -> tuple[str, int | None, str | None]:
    """Sidebar widgets for the period; their state lives in the URL."""
    end = st.query_params.get("to", all_months[-1])
    end = end if end in all_months else all_months[-1]
    window = _int_param("window", None, WINDOWS)
    compare = st.query_params.get("compare")
    compare = compare if compare in COMPARES else None
    with st.sidebar:
        end = st.selectbox("Period ends", all_months[::-1], index=all_months[::-1].index(end), key="meeting_to")
        choice = st.selectbox(
            "Period length",
            ["target"] + list(WINDOWS),
            index=0 if window is None else 1 + WINDOWS.index(window),
            format_func=lambda w: "each priority's target" if w == "target" else f"{w} months",
            key="meeting_window",
        )
        window = None if choice == "target" else int(choice)
        label = {None: "as each target says", "previous": "the months before", "year-earlier": "a year earlier"}
        compare = st.radio(
            "Status compares with",
            [None, *COMPARES],
            index=[None, *COMPARES].index(compare),
            format_func=label.get,
            key="meeting_compare",
        )
    st.query_params["to"] = end
    for name, value in (("window", window), ("compare", compare)):
        if value is None:
            st.query_params.pop(name, None)
        else:
            st.query_params[name] = str(value)
    return end, window, compare


@st.cache_resource(max_entries=8)
def _pack_pdf(path, key, end, window, compare) -> bytes:
    from dashboard.render import pack

    return pack.render(pack.build(common.store(), common.priorities(key), end, window, compare), "pdf")


def warm(params: dict[str, list[str]]) -> None:
    """Fill the caches of a first view of the slides on their default period (the server's warm-up, outside any
    session, as the first visitor's browser asks for this page, or before anyone does: the default page), for a
    new session's audience; the kiosk (``mode=meeting``) for the public. A link naming its period is left to its
    page run."""
    if set(params) - {"mode", "every"}:
        return
    store, path, key = common.store(), common.config_path(), common.priorities_key()
    all_months = complete_months(store, common.priorities(key))
    if all_months:
        kiosk = params.get("mode") == ["meeting"]
        exact = access.can(store.config, "analyst", access.role_before_sign_in(store.config, kiosk))
        common.meeting_slides(path, key, None if kiosk else all_months[-1], None, None, exact)


def page() -> None:
    store, path = common.store(), common.config_path()
    key = common.priorities_key()
    plist = common.priorities(key)
    kiosk = st.query_params.get("mode") == "meeting"
    all_months = complete_months(store, plist)  # one bad month of an older version never becomes the end
    if kiosk:
        st.markdown(_KIOSK_CSS, unsafe_allow_html=True)
        end = st.query_params.get("to")
        end = end if end in all_months else None
        window = _int_param("window", None, WINDOWS)
        compare = st.query_params.get("compare")
        compare = compare if compare in COMPARES else None
    elif all_months:
        end, window, compare = _period_controls(all_months)
    else:
        end, window, compare = None, None, None
    exact = access.can(store.config, "analyst")
    deck = common.meeting_slides(path, key, end, window, compare, exact)
    outlines = common.ward_outlines()
    # open actions on each priority's slide: every one for signed-in partners, the public ones otherwise
    lines = for_meeting(store, access.can(store.config, "viewer"), date.today())
    st.markdown(slides.CSS, unsafe_allow_html=True)
    if kiosk:
        every = max(KIOSK_MIN, _int_param("every", KIOSK_EVERY) or KIOSK_EVERY)
        screen, script = slides.kiosk(slides.render(deck, plist.partnership, outlines, actions=lines), every)
        st.markdown(screen, unsafe_allow_html=True)
        st.html(script, unsafe_allow_javascript=True)
        return
    data_to = latest_month(store, plist) if all_months else "nothing loaded"
    st.markdown(
        f"## {inert(plist.partnership)}  \n"
        f'<span class="csp-data-to">Data to {inert(data_to)}</span> · {inert(plist.strategy)}',
        unsafe_allow_html=True,
    )
    synthetic = [m.measure.label for p in deck.priorities for m in (x.status for x in p.parts) if m.synthetic]
    if synthetic:
        st.warning(inert(f"{SYNTHETIC_LABEL}: synthetic records are counted in {', '.join(synthetic)}."))
    for html_slide in slides.render(deck, plist.partnership, outlines, actions=lines):
        st.markdown(html_slide, unsafe_allow_html=True)
    with st.sidebar:
        st.caption(f"Kiosk mode for the meeting-room screen: add `?mode=meeting&every={KIOSK_EVERY}` to the address.")
        if exact and st.button("Prepare the meeting pack (PDF)", key="meeting_pack"):
            st.download_button(
                "Download the meeting pack",
                _pack_pdf(path, key, end, window, compare),
                f"csp-meeting-pack-{end or data_to}.pdf",
                mime="application/pdf",
                key="pack_download",
            )
    common.attributions()
