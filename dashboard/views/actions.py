"""Actions (partners): the partnership's action plan, per priority, and whether an action worked.

Signed-in partners (viewers) read every action, its history and its assessment; analysts and
admins also create actions (in wards, in a patrol zone of the patrol planner, or in a drawn area),
update them (status with a dated note, review date, spend), import the action plan CSV and export
it. Checked on the server every run (:mod:`dashboard.access`), not by hiding buttons; the page is
not registered for the public (:mod:`dashboard.app`). Rules: :mod:`geodata.analysis.actions`;
the assessment's methods: :mod:`geodata.methods.assessment`.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import access, common
from dashboard.markdown import inert
from geodata.analysis import Selection, actions
from geodata.analysis.patrol_zones import patrol_zones
from loaders.months import Period

#: How an action's place is chosen on the create form.
PLACES = {
    "wards": "Wards",
    "zone": "A patrol zone",
    "area": "A drawn area (WKT or GeoJSON)",
    "district": "The district",
}


#: The session key of a confirmation shown once on the run after a change (``st.rerun`` clears the page).
DONE = "act_done"


def _done_then_rerun(message: str) -> None:
    """Show ``message`` at the top of the page's next run, then rerun so the table shows the change."""
    st.session_state[DONE] = message
    st.rerun()


def _who() -> str:
    """Who a change is recorded as: the signed-in user, or "local" (local mode: the analyst's own machine)."""
    return str(st.session_state.get("csp_user") or getattr(st.user, "email", None) or "local")


def _status_text(c: actions.Current) -> str:
    return c.action.status + (" (review overdue)" if c.overdue(date.today()) else "")


def _listing(now: list[actions.Current], titles: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "id": c.action.id,
                "priority": f"{c.action.priority} {titles.get(c.action.priority, '')}",
                "what": c.action.what,
                "owner": c.action.owner,
                "status": _status_text(c),
                "start": c.action.start.isoformat(),
                "review": c.action.review.isoformat(),
                "where": c.action.where + (f": {'; '.join(c.action.wards)}" if c.action.wards else ""),
                "public": "yes" if c.action.public else "no",
                "last change": f"{c.changed_at:%Y-%m-%d %H:%M} by {c.changed_by}",
            }
            for c in now
        ]
    )


def page() -> None:
    store = common.store()
    if not access.can(store.config, "viewer"):  # not registered for the public; checked again here
        st.error("The action plan is for signed-in partners.")
        st.stop()
    editor = access.can(store.config, "analyst")
    plist = common.priorities(common.priorities_key())
    known = actions.known(store, plist)
    titles = {p.id: p.title for p in plist.priorities}
    st.title("Actions")
    if DONE in st.session_state:
        st.success(st.session_state.pop(DONE))
    st.caption(
        "The partnership's action plan: what each partner does about a priority, where, and whether it worked. "
        "Every change is kept (who, when, what). Only actions marked public are shown to the public and on "
        "the meeting-room screen."
    )
    now = actions.current(store, partner=True)
    if now:
        common.table(_listing(now, titles), hide_index=True)
    else:
        st.info("No actions yet." + (" Create one below, or import the action plan CSV." if editor else ""))
    if editor:
        _create(store, known, plist, first=not now)
        _import_export(store, known, now)
    if now:
        _one(store, known, now, editor)
    common.attributions()


def _create(store, known, plist, first: bool) -> None:
    with st.expander("New action", expanded=first):
        where = st.radio("Where", list(PLACES), format_func=PLACES.get, horizontal=True, key="act_new_where")
        place: dict[str, str] = {"where": where}
        if where == "wards":
            names = dict(zip(store.wards()["ward_code"], store.wards()["ward_name"]))
            place["wards"] = ";".join(st.multiselect("Wards", list(names), format_func=names.get, key="act_new_wards"))
        elif where == "zone":
            place.update(_zone_choice())
        elif where == "area":
            place["area"] = st.text_area(
                "Outline: WKT or GeoJSON, British National Grid metres or longitude/latitude", key="act_new_area"
            )
        with st.form("act_new", clear_on_submit=False):
            ids = [p.id for p in plist.priorities]
            priority = st.selectbox(
                "Priority", ids, format_func=lambda i: f"{i} {next(p.title for p in plist.priorities if p.id == i)}"
            )
            what = st.text_input("What", max_chars=actions.MAX_TEXT)
            owner = st.text_input("Owner (partner organisation)", max_chars=200)
            cols = st.columns(3)
            start = cols[0].date_input("Start", value=date.today())
            review = cols[1].date_input("Next review", value=date.today())
            status = cols[2].selectbox("Status", actions.STATUSES)
            categories = st.multiselect(
                "Crime types it targets (none = all)",
                sorted(known.categories),
                default=place.pop("categories", "").split(";") if place.get("categories") else [],
            )
            cols = st.columns(3)
            funding = cols[0].text_input("Funding source (optional)", max_chars=200)
            spend = cols[1].text_input("Spend, £ (optional)", max_chars=20)
            public = cols[2].checkbox("Show to the public", value=False)
            note = st.text_input("Note (optional)", max_chars=actions.MAX_TEXT)
            if st.form_submit_button("Create the action"):
                if not access.can(store.config, "analyst"):
                    st.error("Only analysts and admins change actions.")
                    return
                row = {
                    **place,
                    "priority": priority,
                    "what": what,
                    "owner": owner,
                    "start": start.isoformat(),
                    "review": review.isoformat(),
                    "status": status,
                    "categories": ";".join(categories),
                    "funding": funding,
                    "spend": spend,
                    "public": "yes" if public else "no",
                    "note": note,
                    "note_date": date.today().isoformat() if note else "",
                }
                try:
                    event = actions.create(store, row, _who(), known)
                except actions.USER_ERRORS as exc:
                    st.error(f"Not created: {exc.field}: {exc.reason}")
                    return
                _done_then_rerun(f"Created action {event.action_id}.")


def _zone_choice() -> dict[str, str]:
    """A patrol zone of the patrol planner's analysis (:func:`geodata.analysis.patrol_zones.patrol_zones`, its
    defaults: 95% hot cells; the latest 3 months, the top 10 zones), as an outline."""
    all_months = common.months(common.config_path())
    if not all_months:
        st.warning("No police.uk months loaded: no patrol zones.")
        return {}
    cats = st.multiselect("Zones of crime types (none = all)", sorted(common.CRIME_TYPES), key="act_zone_cats")
    period = Period.ending(all_months[-1], 3)
    found = common.cached(patrol_zones, Selection.of(period.start, period.end, tuple(cats)), 10)
    if found.refused or found.zones.empty:
        st.warning(" ".join(found.notes) or "No hot spot zone for this choice.")
        return {}
    zones = found.zones
    label = {
        int(z.zone): f"Zone {int(z.zone)}: {int(z.incidents)} incidents, " + "; ".join(s[0] for s in z.streets[:3])
        for z in zones.itertuples()
    }
    rank = st.selectbox(f"Patrol zone ({found.comparison.current.text})", list(label), format_func=label.get)
    geom = zones.loc[zones["zone"] == rank, "geometry"].iloc[0]
    return {"where": "zone", "area": geom.wkt, "categories": ";".join(cats)}


def _import_export(store, known, now) -> None:
    with st.expander("Import or export the action plan (CSV)"):
        st.caption(
            f"Columns: {', '.join(actions.CSV_COLUMNS)} (the first {len(actions.REQUIRED) + 1} needed, id blank for a "
            "new action). Every row is loaded or reported with its line and field. See docs/actions.md."
        )
        upload = st.file_uploader("Action plan CSV", type=["csv"], key="act_import")
        if upload is not None and st.button("Import", key="act_import_go"):
            if not access.can(store.config, "analyst"):
                st.error("Only analysts and admins change actions.")
                return
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / Path(upload.name).name
                path.write_bytes(upload.getvalue())
                try:
                    report, changed = actions.import_plan(store, path, _who(), known)
                except actions.USER_ERRORS as exc:
                    st.error(str(exc).replace(str(path.parent) + "/", ""))
                    return
            st.success(f"{report.rows_loaded} of {report.rows_read} rows loaded ({changed} actions new or changed).")
            for r in report.rejected:
                st.warning(inert(f"Rejected: {Path(r.file).name}, line {r.line}, field {r.field}: {r.reason}"))
        st.download_button(
            "Export the action plan (CSV)", actions.export_plan(now), "action-actions.csv", "text/csv", key="act_export"
        )
    _reports(store)


def _reports(store) -> None:
    """The annual report to councillors and the half year's spend report (printable HTML; the PDFs
    from ``csp-hotspots actions annual|grant``)."""
    from dashboard.render import reports

    with st.expander("Reports: annual report to councillors, six-monthly spend report"):
        all_months = common.months(common.config_path())
        if not all_months:
            st.info("No police.uk months loaded.")
            return
        plist = common.priorities(common.priorities_key())
        cols = st.columns(2)
        end = cols[0].selectbox("Year to", all_months[::-1], key="act_rep_end")
        half = cols[1].selectbox("Half year", _halves(), format_func=lambda h: f"{h[0]:%B %Y} to {h[1]:%B %Y}")
        if st.button("Prepare the reports", key="act_rep_go"):
            annual = reports.render(reports.annual(store, plist, end), "html")
            spend = reports.render(reports.grant(store, plist, *half), "html")
            cols = st.columns(2)
            cols[0].download_button("Annual report (HTML)", annual, f"annual-report-{end}.html", "text/html")
            cols[1].download_button("Spend report (HTML)", spend, f"spend-report-{half[0]:%Y-%m}.html", "text/html")


def _halves(n: int = 6) -> list[tuple[date, date]]:
    """The last ``n`` financial half years (April to September, October to March), latest first."""
    today, out = date.today(), []
    year, first = (
        (today.year, 10) if today.month >= 10 else (today.year, 4) if today.month >= 4 else (today.year - 1, 10)
    )
    for _ in range(n):
        end_year, end_month = (year, 9) if first == 4 else (year + 1, 3)
        out.append((date(year, first, 1), date(end_year, end_month, 30 if end_month == 9 else 31)))
        year, first = (year, 4) if first == 10 else (year - 1, 10)
    return out


def _one(store, known, now, editor: bool) -> None:
    st.header("One action")
    ids = [c.action.id for c in now]
    chosen = st.selectbox(
        "Action", ids, format_func=lambda i: f"{i}: {next(c.action.what for c in now if c.action.id == i)}"
    )
    c = next(x for x in now if x.action.id == chosen)
    a = c.action
    st.markdown(
        inert(f"**{a.what}** ({a.owner}), {a.status}, review {a.review}")
        + (" · **review overdue**" if c.overdue(date.today()) else "")
    )
    if a.note:
        st.caption(inert(f"Latest note ({a.note_date or 'undated'}): {a.note}"))
    if editor:
        with st.form(f"act_update_{a.id}"):
            cols = st.columns(3)
            status = cols[0].selectbox("Status", actions.STATUSES, index=actions.STATUSES.index(a.status))
            review = cols[1].date_input("Next review", value=a.review)
            spend = cols[2].text_input("Spend, £", value="" if a.spend is None else f"{a.spend:.2f}", max_chars=20)
            note = st.text_input("Note on this update", max_chars=actions.MAX_TEXT)
            public = st.checkbox("Show to the public", value=a.public)
            if st.form_submit_button("Save the update"):
                if not access.can(store.config, "analyst"):
                    st.error("Only analysts and admins change actions.")
                    return
                shown = a.to_row()
                wanted = {
                    "status": status,
                    "review": review.isoformat(),
                    "spend": spend.strip(),
                    "public": "yes" if public else "no",
                }
                changes = {k: v for k, v in wanted.items() if v != shown[k]}
                if note.strip():
                    changes["note"] = note.strip()
                try:
                    event = actions.update(store, a.id, changes, _who(), known, seen=c.seq)
                except actions.USER_ERRORS as exc:
                    st.error(f"Not saved: {exc}")
                    return
                _done_then_rerun(f"Saved {a.id}." if event else "Nothing changed.")
    with st.expander("History (every change, never overwritten)"):
        common.table(actions.history(store, a.id), hide_index=True)
    _assess(store, a)


def _assess(store, a) -> None:
    st.header("Did it work?")
    names = dict(zip(store.wards()["ward_code"], store.wards()["ward_name"]))
    cols = st.columns(3)
    buffer_m = cols[0].number_input("Buffer, m", 50, 1000, int(actions.BUFFER_M), 50, key=f"act_buf_{a.id}")
    n = cols[1].selectbox(
        "Months each side",
        [None, *range(actions.MIN_MONTHS, actions.MAX_MONTHS + 1)],
        format_func=lambda k: "the most loaded" if k is None else str(k),
        key=f"act_n_{a.id}",
    )
    control = cols[2].multiselect(
        "Control wards (none = the rest of the district)", list(names), format_func=names.get, key=f"act_ctl_{a.id}"
    )
    if not st.button("Assess", key=f"act_assess_{a.id}"):
        return
    got = actions.assess(store, a, n, float(buffer_m), tuple(control))
    if got.refused:
        st.info(got.refused)
    if got.counts is not None:
        st.table(got.table().set_index("area"))
    if got.effect is not None:
        e = got.effect
        st.markdown(
            f"**Relative effect size {e.res:.2f}** ({e.level:.0%} interval {e.low:.2f} to {e.high:.2f}): "
            f"{e.reading}. Dispersion factors: target {e.dispersion[0]:.2f}, control {e.dispersion[1]:.2f}."
        )
    if got.displacement is not None:
        st.markdown(f"**Displacement.** {got.displacement.reading}")
    st.caption(" ".join(got.notes) + " What this can and cannot say: docs/actions.md.")
