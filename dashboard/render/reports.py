"""The partnership's two reports from the same data, as PDF or printable HTML in the meeting pack's
design (blocks drawn by :mod:`dashboard.render.document`):

* the **annual report to councillors** (:func:`annual`): per priority, its status and figures for
  the 12 months to the chosen month (the meeting's rule, :func:`geodata.analysis.status.evaluate`,
  council sources under disclosure control as in the pack), then its actions with their status,
  dates and spend, and each placed action's assessment (:func:`geodata.analysis.actions.assess`:
  its effect size and displacement, or why there is none);
* the **six-monthly grant report** (:func:`grant`): spend by funding source and by action over a
  half year (:func:`geodata.analysis.actions.spend`: from the history, spend at the end less spend
  before the start), with each funding source's total.

With ``partner`` true (default) the reports hold every action and say on their first page that
they include actions not marked public; with it false, only public actions.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date

from dashboard.render import document
from dashboard.render.document import Grid, PageBreak, Space, Text
from geodata.analysis import PUBLIC
from geodata.analysis import actions as actions_mod
from geodata.analysis.status import RULE, evaluate, latest_month
from geodata.priorities import Priorities
from geodata.store import Store
from loaders.months import Period

esc = html.escape


@dataclass(frozen=True)
class Report:
    """A report's blocks, title and footing, drawn by :func:`render`."""

    blocks: list
    title: str
    footing: str


def _scope(partner: bool) -> str:
    return (
        "Includes actions not marked public: for the partnership and its councillors, not for publication."
        if partner
        else "Only actions marked public are included."
    )


def _money(x: float | None) -> str:
    return "" if x is None else f"£{x:,.2f}"


def _assessed(store: Store, a) -> str:
    """One action's assessment in a sentence (markup)."""
    if a.where == "district":
        return "Not assessed: district-wide (no area to set against a control area)."
    got = actions_mod.assess(store, a)
    if got.effect is None:
        return esc(got.refused or "")
    e, c = got.effect, got.counts
    said = (
        f"<b>RES {e.res:.2f}</b> ({e.level:.0%} interval {e.low:.2f} to {e.high:.2f}): {esc(e.reading)}. "
        f"Target {c.r0:,} then {c.r1:,}, buffer {c.b0:,} then {c.b1:,}, control {c.c0:,} then {c.c1:,} "
        f"({esc(got.before.text)} against {esc(got.after.text)})."
    )
    return said + (f" {esc(got.displacement.reading)}" if got.displacement else "")


def annual(store: Store, priorities: Priorities, end: str | None = None, partner: bool = True) -> Report:
    """The annual report to councillors for the 12 months to ``end`` (default: the latest loaded month)."""
    end = end or latest_month(store)
    year = Period.ending(end, 12)
    results = evaluate(store, priorities, end, 12, None, PUBLIC)
    now = actions_mod.current(store, partner)
    blocks: list = [
        Space(30),
        Text(esc(priorities.partnership), "title"),
        Text(esc(store.config.area_name), "subtitle"),
        Text(f"Annual report to councillors: {esc(year.text)}. Produced {date.today():%d %B %Y} by CSP Hotspots."),
        Text(esc(_scope(partner)), "note"),
    ]
    summary = [["Priority", "Status for the year", "Actions (open)"]]
    for r in results:
        mine = [c for c in now if c.action.priority == r.priority.id]
        summary.append(
            [
                esc(f"{r.priority.id} {r.priority.title}"),
                esc(r.status),
                f"{len(mine)} ({sum(c.action.open for c in mine)})",
            ]
        )
    blocks += [Grid(summary, [80, 50, 50]), Text(esc(RULE), "note")]
    for r in results:
        mine = [c for c in now if c.action.priority == r.priority.id]
        blocks += [
            PageBreak(),
            Text(esc(f"{r.priority.id} {r.priority.title}"), "title"),
            Text(f"<b>{esc(r.status.upper())}</b>: {esc(r.sentence)}"),
            Text("Actions", "heading"),
        ]
        if not mine:
            blocks.append(Text("No action recorded for this priority."))
            continue
        rows = [["Action", "Owner", "Status", "Start", "Review", "Spend"]]
        rows += [
            [
                f"<b>{esc(c.action.id)}</b> {esc(c.action.what)}",
                esc(c.action.owner),
                esc(c.action.status),
                esc(c.action.start.isoformat()),
                esc(c.action.review.isoformat()),
                esc(_money(c.action.spend)),
            ]
            for c in mine
        ]
        blocks.append(Grid(rows, [60, 35, 22, 22, 22, 19], small=True))
        blocks.append(Text("Did it work?", "heading"))
        blocks += [Text(f"<b>{esc(c.action.id)}</b>: {_assessed(store, c.action)}") for c in mine]
    blocks += [Text("Method", "heading"), Text(esc(actions_mod.EFFECT_RULE), "note")]
    footing = f"{priorities.partnership}: annual report to councillors, {year.text}."
    return Report(blocks, f"{priorities.partnership}: annual report {year.text}", footing)


def grant(store: Store, priorities: Priorities, start: date, end: date, partner: bool = True) -> Report:
    """The grant report: spend by funding source and action from ``start`` to ``end`` (a half year)."""
    if end < start:
        raise ValueError(f"the report ends ({end}) before it starts ({start})")
    spent = actions_mod.spend(store, start, end, partner)
    when = f"{start:%d %B %Y} to {end:%d %B %Y}"
    blocks: list = [
        Space(30),
        Text(esc(priorities.partnership), "title"),
        Text(esc(store.config.area_name), "subtitle"),
        Text(f"Spend report to the Police and Crime Commissioner: {esc(when)}."),
        Text(
            esc(
                "Spend as recorded on each action: the period's spend is the recorded spend at its end less the "
                "spend recorded before it began (the dates are those of the records, not of the payments). "
            )
            + esc(_scope(partner)),
            "note",
        ),
    ]
    if spent.empty:
        blocks.append(Text("No spend recorded by the end of the period."))
    else:
        by_fund = spent.groupby("funding", sort=True)["in_period"].sum()
        rows = [["Funding source", "Spend in the period"]]
        rows += [[esc(f), esc(_money(v))] for f, v in by_fund.items()]
        rows.append(["<b>Total</b>", f"<b>{esc(_money(float(spent['in_period'].sum())))}</b>"])
        blocks += [Text("By funding source", "heading"), Grid(rows, [110, 70])]
        rows = [["Funding source", "Action", "Priority", "Owner", "Before", "To the end", "In the period"]]
        rows += [
            [
                esc(r.funding),
                f"<b>{esc(r.id)}</b> {esc(r.what)}",
                esc(r.priority),
                esc(r.owner),
                esc(_money(r.before)),
                esc(_money(r.at_end)),
                f"<b>{esc(_money(r.in_period))}</b>",
            ]
            for r in spent.itertuples()
        ]
        blocks += [Text("By action", "heading"), Grid(rows, [30, 50, 15, 25, 20, 20, 20], small=True)]
    footing = f"{priorities.partnership}: spend report, {when}."
    return Report(blocks, f"{priorities.partnership}: spend report {when}", footing)


def render(report: Report, fmt: str = "pdf") -> bytes:
    """``report`` as PDF or printable HTML (:data:`dashboard.render.document.FORMATS`)."""
    return document.render(report.blocks, report.title, report.footing, fmt)
