"""Meeting page (the default): one panel per CSP priority, and the kiosk mode for the meeting room.

Each panel: the status against the priority's target (:mod:`geodata.status`), the
headline count for the period with its change against the months before and
against the same months a year earlier (E-test, with p), a 12-month sparkline,
a small ward map and what the priority asks for that no source measures.

URL parameters (so a meeting-room screen needs no mouse):

* ``mode=meeting``: kiosk mode: large type, no sidebar and no widgets, one
  priority at a time, rotating every ``every`` seconds (default
  :data:`KIOSK_EVERY`, at least :data:`KIOSK_MIN`);
* ``to=YYYY-MM``, ``window=N`` (months), ``compare=previous|year-earlier``:
  the period (default: each priority's target window ending at the latest
  loaded month, compared as its target says).
"""
from __future__ import annotations

import html

import streamlit as st

from dashboard import access, common
from dashboard.markdown import inert
from dashboard.palette import STATUS_COLOURS, STATUS_SYMBOLS
from geodata import disclosure
from geodata.priorities import COMPARES
from geodata.status import NO_DATA, SYNTHETIC_LABEL, MeasureStatus, PriorityStatus, latest_month, span

KIOSK_EVERY, KIOSK_MIN = 20, 3
WINDOWS = (1, 3, 6, 12)
_KIOSK_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
[data-testid="stToolbar"], footer {display: none !important;}
html {font-size: 150%;}
.block-container {padding-top: 1rem; max-width: 100%;}
</style>"""


def _int_param(name: str, default: int | None, allowed=None) -> int | None:
    raw = st.query_params.get(name)
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        return default
    return value if allowed is None or value in allowed else default


def badge(status: str) -> str:
    """Status as coloured text with a symbol (never colour alone)."""
    return (f'<span class="csp-status" style="background:{STATUS_COLOURS[status]};color:#fff;padding:0.1em 0.5em;'
            f'border-radius:0.3em;font-weight:700;white-space:nowrap">{STATUS_SYMBOLS[status]} {html.escape(status.upper())}</span>')


def summary_table(results: list[PriorityStatus]) -> str:
    """Every priority's status in one escaped HTML table (plain HTML: it paints with the page)."""
    rows = "".join(f"<tr><td>{inert(r.priority.id)} {inert(r.priority.title)}</td><td>{badge(r.status)}</td>"
                   f"<td>{inert(r.sentence)}</td></tr>" for r in results)
    return (f'<table class="csp-summary"><thead><tr><th>Priority</th><th>Status</th><th>Why</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>")


def _change_text(m: MeasureStatus) -> str:
    return f"{m.previous.phrase(m.current)}; {m.year_earlier.phrase(m.current)}."


def measure_panel(m: MeasureStatus, big: bool) -> None:
    if m.current.count is None:
        st.info(inert(m.sentence))
        return
    left, right = st.columns([3, 2])
    with left:
        if m.synthetic:  # a withheld measure's figures are public cells: no exact number of synthetic records
            st.warning(f"{SYNTHETIC_LABEL}: {'' if m.withheld else f'{m.synthetic:,} '}synthetic records are "
                       "counted here.")
        label = inert(f"{m.measure.label}{' (SYNTHETIC)' if m.synthetic else ''}, {span(m.current.start, m.current.end)}")
        base = m.previous.base.count
        delta = None if base is None else f"{m.current.count - base:+,} against {m.previous.name}"
        st.metric(label, f"{m.current.count:,}", delta=delta, delta_color="inverse",
                  chart_data=m.series["count"].astype("float64").tolist(), chart_type="bar", border=True)
        st.markdown(inert(_change_text(m)))
        if m.withheld:  # every figure above is a sum of the public cells (geodata.disclosure)
            st.caption(disclosure.NOTE)
    with right:
        st.markdown(f'<div class="csp-ward-map" style="max-width:{520 if big else 340}px">'
                    f'{common.ward_svg(m.wards.set_index("ward_code")["current"], "Incidents in the period")}</div>',
                    unsafe_allow_html=True)  # svgmap escapes every name and value


def priority_panel(r: PriorityStatus, big: bool = False) -> None:
    p = r.priority
    with st.container(border=True):
        st.markdown(f'<h3 class="csp-priority">{inert(p.id)} {inert(p.title)} {badge(r.status)}</h3>',
                    unsafe_allow_html=True)
        st.markdown(f"**{inert(r.sentence)}**")
        for m in r.measures:
            measure_panel(m, big)
        if p.gaps:
            st.caption(inert("Not measured: " + "; ".join(f"{g.what} ({g.why})" for g in p.gaps)))


def _period_controls(all_months: list[str]) -> tuple[str, int | None, str | None]:
    """Sidebar widgets for the period; their state lives in the URL."""
    end = st.query_params.get("to", all_months[-1])
    end = end if end in all_months else all_months[-1]
    window = _int_param("window", None, WINDOWS)
    compare = st.query_params.get("compare")
    compare = compare if compare in COMPARES else None
    with st.sidebar:
        end = st.selectbox("Period ends", all_months[::-1], index=all_months[::-1].index(end), key="meeting_to")
        choice = st.selectbox("Period length", ["target"] + list(WINDOWS),
                              index=0 if window is None else 1 + WINDOWS.index(window),
                              format_func=lambda w: "each priority's target" if w == "target" else f"{w} months",
                              key="meeting_window")
        window = None if choice == "target" else int(choice)
        label = {None: "as each target says", "previous": "the months before", "year-earlier": "a year earlier"}
        compare = st.radio("Status compares with", [None, *COMPARES], index=[None, *COMPARES].index(compare),
                           format_func=label.get, key="meeting_compare")
    st.query_params["to"] = end
    for name, value in (("window", window), ("compare", compare)):
        if value is None:
            st.query_params.pop(name, None)
        else:
            st.query_params[name] = str(value)
    return end, window, compare


@st.cache_resource(ttl=300, max_entries=8)
def _pack_pdf(path, key, end, window, compare) -> bytes:
    from dashboard import pack

    return pack.render(pack.build(common.store(), common.priorities(key), end, window, compare), "pdf")


def main() -> None:
    store, path = common.store(), common.config_path()
    key = common.priorities_key()
    plist = common.priorities(key)
    kiosk = st.query_params.get("mode") == "meeting"
    parts = store.partitions()
    all_months = sorted(parts["month"].dt.strftime("%Y-%m").unique().tolist())
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
    results = common.statuses(path, key, end, window, compare, access.can(store.config, "analyst"))
    data_to = latest_month(store) if all_months else "nothing loaded"
    st.markdown(f"## {inert(plist.partnership)}  \n"
                f'<span class="csp-data-to">Data to {inert(data_to)}</span> · {inert(plist.strategy)}',
                unsafe_allow_html=True)
    if kiosk:
        every = max(KIOSK_MIN, _int_param("every", KIOSK_EVERY) or KIOSK_EVERY)
        _rotate(results, every)
        return
    st.markdown(summary_table(results), unsafe_allow_html=True)
    for r in results:
        priority_panel(r)
    with st.sidebar:
        st.caption(f"Kiosk mode for the meeting-room screen: add `?mode=meeting&every={KIOSK_EVERY}` to the address.")
        if access.can(store.config, "analyst") and st.button("Prepare the meeting pack (PDF)", key="meeting_pack"):
            st.download_button("Download the meeting pack", _pack_pdf(path, key, end, window, compare),
                               f"csp-meeting-pack-{end or data_to}.pdf", mime="application/pdf", key="pack_download")
    missing = [r.priority.id for r in results if r.status == NO_DATA]
    if missing:
        st.caption(f"No data for {', '.join(missing)}: the status names the missing source; nothing is shown as zero.")
    common.attributions()


def _rotate(results: list[PriorityStatus], every: int) -> None:
    @st.fragment(run_every=every)
    def show() -> None:
        i = st.session_state.get("kiosk_index", -1) + 1
        st.session_state["kiosk_index"] = i
        r = results[i % len(results)]
        priority_panel(r, big=True)
        st.caption(f"Priority {i % len(results) + 1} of {len(results)}; the next in {every} s.")

    show()


main()
