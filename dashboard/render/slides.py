"""The meeting slides (:mod:`geodata.analysis.meeting`) as HTML: one 16:9 slide per item, read at 4 m.

Every size is in ``cqh`` (a hundredth of the slide's height, CSS container units), so a slide
lays out the same on any 16:9 screen (1280x720 to 3840x2160) and never reaches below it: the
kiosk makes a slide the whole window (``kiosk=True``); the Meeting page shows the same slides one
under another at the page's width. Status is a badge with a symbol and a word, a change an arrow
and words, a run chart's variation an icon with a letter and words: colour is never the only cue.
Every text from data or the priorities file is escaped; the SVGs are :mod:`dashboard.render.charts` and
:mod:`dashboard.render.staticmap`.
"""

from __future__ import annotations

import json

import pandas as pd

from dashboard.attributions import ATTRIBUTIONS
from dashboard.markdown import inert
from dashboard.render import charts, staticmap
from dashboard.render.palette import STATUS_COLOURS, STATUS_SYMBOLS
from geodata.analysis import meeting
from geodata.methods import disclosure
from geodata.methods import outcomes as outcomes_mod
from geodata.methods.pvalue import p_clause

ARROWS = {meeting.UP: "↑", meeting.DOWN: "↓", meeting.SAME: "→", None: "–"}
ARROW_WORDS = {meeting.UP: "up", meeting.DOWN: "down", meeting.SAME: "same", None: "no comparison"}

CSS = """<style>
.csp-slide{container-type:size;position:relative;box-sizing:border-box;overflow:hidden;background:#fff;color:#111;
 font-family:"Source Sans Pro",sans-serif;border:1px solid #bbb;width:100%;aspect-ratio:16/9;margin:0 0 1rem 0}
.csp-kiosk .csp-slide{aspect-ratio:auto;height:100vh;width:100vw;border:0;margin:0}
.csp-in{position:absolute;inset:0;padding:2cqh 2.5cqh;display:flex;flex-direction:column;gap:1.2cqh;font-size:2.6cqh;
 line-height:1.2}
.csp-in h2{font-size:4.6cqh;margin:0;padding:0;line-height:1.1;display:flex;gap:2cqh;align-items:center;flex-wrap:wrap}
.csp-in p{margin:0}
.csp-badge{color:#fff;padding:0.05em 0.45em;border-radius:0.3em;font-weight:700;white-space:nowrap}
.csp-sentence{font-size:2.6cqh;font-weight:600}
.csp-body{flex:1;min-height:0;display:grid;gap:2cqh}
.csp-col{min-height:0;display:flex;flex-direction:column;gap:1.2cqh;overflow:hidden}
.csp-number{font-size:11cqh;font-weight:800;line-height:1}
.csp-small{font-size:2.1cqh;color:#333}
.csp-change{font-size:3.6cqh;font-weight:700}
.csp-fill{flex:1;min-height:0;display:flex}
.csp-fill svg{width:100%;height:100%}
.csp-multi{display:grid;gap:1cqh;height:25cqh}
.csp-multi figure{margin:0;min-height:0;min-width:0;display:flex;flex-direction:column;font-size:2.1cqh;line-height:1.1}
.csp-multi figure svg{flex:1;min-height:0;width:100%}
.csp-foot{font-size:1.9cqh;color:#333;display:flex;justify-content:space-between;gap:2cqh}
.csp-ov{width:100%;border-collapse:collapse;font-size:3.3cqh}
.csp-ov th{font-size:2.4cqh;text-align:left;color:#333;border-bottom:2px solid #333;padding:0.3cqh 1cqh}
.csp-ov td{padding:1.6cqh 1cqh;border-bottom:1px solid #bbb;vertical-align:middle}
.csp-ov .csp-number{font-size:6.5cqh}
.csp-arrow{font-size:5cqh;font-weight:800;line-height:1}
.csp-bar{display:flex;height:3cqh;border:1px solid #333}
.csp-bar span{display:block;height:100%}
.csp-list{margin:0;padding-left:1.2em}
.csp-list li{margin:0 0 1cqh 0}
.csp-actions{max-height:5.2cqh;overflow:hidden;flex:none}
.csp-needs{border-collapse:collapse;font-size:2.3cqh;margin:0.6cqh 0 0 0;width:100%}
.csp-needs th{text-align:left;font-size:2cqh;color:#333;border-bottom:1px solid #333;padding:0.2cqh 1cqh 0.2cqh 0}
.csp-needs td{padding:0.3cqh 1cqh 0.3cqh 0;vertical-align:top;width:50%}
.csp-kiosk{position:relative}
.csp-kiosk .csp-slide{height:calc(100vh - 4.2vh)}
.csp-state{margin:0;height:4.2vh;line-height:4.2vh;font-size:2.4vh;padding:0 2.5vh;background:#111;color:#fff;
 font-family:"Source Sans Pro",sans-serif;overflow:hidden;white-space:nowrap}
.csp-blank{position:fixed;inset:0;background:#000;z-index:10}
@media (max-width:700px){
 .csp-slide,.csp-kiosk .csp-slide{container-type:normal;aspect-ratio:auto;height:auto;width:100%;overflow:visible}
 .csp-in{position:static;font-size:16px;gap:10px;padding:12px}
 .csp-in h2{font-size:24px}.csp-sentence,.csp-change{font-size:18px}.csp-number{font-size:44px}
 .csp-small,.csp-foot,.csp-multi figure,.csp-needs,.csp-needs th{font-size:14px}
 .csp-body{display:flex;flex-direction:column;gap:14px}
 .csp-fill{flex:none;height:260px}.csp-multi{grid-template-columns:repeat(2,minmax(0,1fr))!important;height:auto}
 .csp-multi figure svg{height:110px;flex:none}
 .csp-ov,.csp-ov thead,.csp-ov tbody,.csp-ov tr,.csp-ov td{display:block;font-size:16px}.csp-ov thead{display:none}
 .csp-ov tr{border-bottom:2px solid #333;padding:6px 0}.csp-ov td{border:0;padding:2px 0}
 .csp-ov .csp-number{font-size:36px}.csp-arrow{font-size:28px}.csp-bar{height:16px}
 .csp-foot{flex-direction:column}
 .csp-state{font-size:13px;height:auto;line-height:1.3;white-space:normal;padding:6px;position:sticky;bottom:0}
}
</style>"""
#: Fills of the outcome groups (with their names and shares written beside them).
OUTCOME_COLOURS = dict(zip(outcomes_mod.GROUPS, ("#1f4e79", "#7f9bbf", "#c9c9c9", "#e8e8e8")))


def _e(text) -> str:
    """Text as it may go into a slide (HTML given to ``st.markdown``): :func:`dashboard.markdown.inert`."""
    return inert(text)


def badge(status: str) -> str:
    """The status as a badge: colour, symbol and word."""
    return (
        f'<span class="csp-badge" style="background:{STATUS_COLOURS[status]}">{STATUS_SYMBOLS[status]} '
        f"{_e(status.upper())}</span>"
    )


def _slide(inner: str, label: str) -> str:
    return f'<section class="csp-slide" aria-label="{_e(label)}"><div class="csp-in">{inner}</div></section>'


def _foot(left: str, right: str) -> str:
    return f'<div class="csp-foot"><span>{left}</span><span>{right}</span></div>'


def overview(s: meeting.Slides, title: str, position: str) -> str:
    rows = []
    for r in s.overview.rows:
        number = (
            "" if r.number is None else f'<span class="csp-number">{_e(r.number)}</span><br>'
        ) + f'<span class="csp-small">{_e(r.number_of)}</span>'
        change = (
            f'<span class="csp-arrow" aria-hidden="true">{ARROWS[r.direction]}</span> '
            f"{_e(r.change or ARROW_WORDS[r.direction])}"
            if r.number is not None
            else ""
        )
        rows.append(
            f"<tr><td><b>{_e(r.priority.id)}</b> {_e(r.priority.title)}</td><td>{badge(r.status)}</td>"
            f"<td>{number}</td><td>{change}</td><td>{charts.icon(r.icon) if r.icon else ''}</td></tr>"
        )
    table = (
        '<table class="csp-ov"><thead><tr><th scope="col">Priority</th><th scope="col">Status</th>'
        '<th scope="col">Latest</th><th scope="col">Change</th><th scope="col">Run chart</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    return _slide(
        f"<h2>{_e(title)}: priorities</h2><p class='csp-small'>{_e(s.comparison)}</p>{table}<div style='flex:1'></div>"
        + _foot(
            "Off track only on a significant rise. How to read these slides, and the sources: the last slide.",
            f"Data to {_e(s.data_to)} · {_e(position)}",
        ),
        "Overview",
    )


def _outcomes(o: outcomes_mod.OutcomeShares) -> str:
    shares = o.shares
    bar = "".join(
        f'<span style="width:{100 * (shares[g] or 0):.1f}%;background:{OUTCOME_COLOURS[g]}"></span>'
        for g in outcomes_mod.GROUPS
    )
    words = " · ".join(f"{g} {100 * (shares[g] or 0):.0f}%" for g in outcomes_mod.GROUPS)
    return (
        f'<div><b>What happened</b> <span class="csp-small">(latest police.uk outcome of {o.with_outcome:,} '
        f'crimes; recent months lag)</span><div class="csp-bar" aria-hidden="true">{bar}</div>'
        f'<span class="csp-small">{_e(words)}</span></div>'
    )


def _multiples(runs) -> str:
    figs = "".join(
        f"<figure><figcaption><b>{_e(c.label)}</b><br>{charts.icon(c.icon, 0.8, short=True)}</figcaption>"
        f"{charts.run_chart(c.chart, c.label, 500, 300, 44, small=True).svg()}</figure>"
        for c in runs
    )
    return f'<div class="csp-multi" style="grid-template-columns:repeat({len(runs)},minmax(0,1fr))">{figs}</div>'


def _actions(lines, shown: int = 3) -> str:
    """A priority's open actions (:func:`geodata.analysis.actions.for_meeting`): status, next review,
    a passed review date flagged in words; the first ``shown`` (overdue first) and how many more, in
    at most two lines (each ``what`` cut to 60 characters)."""
    if not lines:
        return ""
    items = " · ".join(
        f"<b>{_e(x.id)}</b> {_e(x.what if len(x.what) <= 60 else x.what[:59] + '…')} ({_e(x.owner[:40])}): "
        f"{_e(x.status.upper())}, review {_e(x.review)}" + (" <b>⚠ REVIEW OVERDUE</b>" if x.overdue else "")
        for x in lines[:shown]
    )
    more = f" · and {len(lines) - shown} more" if len(lines) > shown else ""
    return f'<p class="csp-small csp-actions"><b>Open actions:</b> {items}{more}</p>'


def priority(ps: meeting.PrioritySlide, outlines, position: str, data_to: str, actions=()) -> str:
    """One priority's slide. ``outlines``: (codes, names, geometries) of the wards (EPSG:27700);
    ``actions``: its open actions the audience may see (:func:`_actions`)."""
    r = ps.result
    head = f"<h2>{_e(r.priority.id)} {_e(r.priority.title)} {badge(r.status)}</h2>"
    sentence = f'<p class="csp-sentence">{_e(r.plain or r.sentence)}</p>' + (
        f'<p class="csp-small">{_e(r.detail)}</p>' if r.detail else ""
    )
    gaps = f'<p class="csp-small"><b>Not measured:</b> {_e(" ".join(ps.unmeasured))}</p>' if ps.unmeasured else ""
    foot = _foot(
        ""
        if ps.annual is not None
        else "Run chart: a point outside the usual range, or a long run on one side, is unusual (special cause). "
        "How to read it: the last slide.",
        f"Data to {_e(data_to)} · {_e(position)}",
    )
    if ps.annual is not None:
        a = ps.annual
        year, value = a.shown
        ch = a.change
        change, test = "no comparison", ""
        if ch is not None:
            change = f"{ARROWS[meeting.DOWN if ch.pct < 0 else meeting.UP if ch.pct > 0 else meeting.SAME]} {ch.text}"
            test = f"{ch.year}: {ch.before:,.0f}; {p_clause(ch.p)}, {ch.dispersion}. "
        left = (
            f'<div class="csp-number">{value:,.0f}</div><p>fly-tipping incidents in {_e(year)} '
            f'<b>(annual)</b></p><p class="csp-change">{_e(change)}</p><p class="csp-small">{_e(test + a.note)}</p>'
        )
        bars = charts.annual_bars(a.years, a.values, a.label).svg()
        chart = f'<p><b>{_e(a.label)}</b></p><div class="csp-fill">{bars}</div>'
        body = (
            f'<div class="csp-body" style="grid-template-columns:30% 1fr"><div class="csp-col">{left}</div>'
            f'<div class="csp-col">{chart}</div></div>'
        )
        return _slide(head + sentence + body + gaps + _actions(actions) + foot, f"{r.priority.id} {r.priority.title}")
    cols = []
    for part in ps.parts[:1] if len(ps.parts) else []:
        m, h = part.status, part.headline
        arrow = ARROWS[h.direction]
        change = (  # the months compared and the test are under the sentence (PriorityStatus.detail)
            f'<p class="csp-change"><span aria-hidden="true">{arrow}</span> {_e(h.short)}</p>'
            if h.change.judged
            else f'<p class="csp-change">Not judged</p><p class="csp-small">{_e(h.text)}</p>'
        )
        left = (
            f'<div class="csp-number">{_e(h.number)}</div><p>{_e(m.measure.label)}, {_e(h.period)}</p>'
            f"{change}{_outcomes(part.outcomes) if part.outcomes else ''}"
        )
        mid = ""
        if part.chart is not None:
            mid = (
                f"<p><b>Per month</b> {charts.icon(part.chart.icon)}</p><div class='csp-fill'>"
                f"{charts.run_chart(part.chart.chart, part.chart.label, period_start=m.current.start).svg()}</div>"
                f"{_multiples(part.multiples) if part.multiples else ''}"
                f'<p class="csp-small">{_e(part.chart.baseline_note)} Shaded: the period; grey: not loaded.</p>'
            )
        values = m.wards.set_index("ward_code")["current"]  # withheld: sums of the public cells already
        codes, names, geoms = outlines
        vals = {c: (None if pd.isna(v) else int(v)) for c, v in values.items()}
        svg = staticmap.draw(
            (codes, names, geoms),
            width=600,
            values=vals,
            legend_title="Incidents in the period",
            font=14,
            title=f"{r.priority.title}: incidents in the period by ward",
        ).svg()
        right = f'<div class="csp-fill">{svg}</div>' + (
            f'<p class="csp-small">{_e(disclosure.NOTE)}</p>' if m.withheld else ""
        )
        cols = [left, mid, right]
    body = (
        '<div class="csp-body" style="grid-template-columns:22% 1fr 33%">'
        + "".join(f'<div class="csp-col">{c}</div>' for c in cols)
        + "</div>"
    )
    return _slide(head + sentence + body + gaps + _actions(actions) + foot, f"{r.priority.id} {r.priority.title}")


def not_measured(nm: meeting.NotMeasured, position: str, data_to: str) -> str:
    """Per priority not measured yet: which data would measure it and who holds it
    (:meth:`geodata.priorities.Priority.needs`, from the priorities file)."""
    items = "".join(
        f"<li><b>{_e(p.id)} {_e(p.title)}</b> {badge('no data')}"
        '<table class="csp-needs"><thead><tr><th scope="col">Data that would measure it</th>'
        '<th scope="col">Who holds it</th></tr></thead><tbody>'
        + "".join(f"<tr><td>{_e(what)}</td><td>{_e(who)}</td></tr>" for what, who in p.needs())
        + "</tbody></table></li>"
        for p, _lines in nm.entries
    )
    return _slide(
        f'<h2>Not measured yet</h2><ul class="csp-list">{items}</ul><div style="flex:1"></div>'
        + _foot(
            "Nothing is shown as zero: a priority with no data says which data would measure it and who holds it.",
            f"Data to {_e(data_to)} · {_e(position)}",
        ),
        "Not measured yet",
    )


def method(m: meeting.Method, position: str, data_to: str) -> str:
    """The last slide: the comparison used and who chose it, how to read the slides in plain words
    (:data:`geodata.analysis.meeting.READING`), and the sources (their attributions in full: the Data page
    and the pack's last page)."""
    items = "".join(f"<li><b>{_e(head)}.</b> {_e(text)}</li>" for head, text in m.reading)
    named = "; ".join(name for name, _text in ATTRIBUTIONS)
    return _slide(
        f'<h2>How to read these slides</h2><p class="csp-sentence">{_e(m.comparison)}</p>'
        f'<ul class="csp-list csp-small">{items}</ul>'
        f'<p class="csp-small"><b>Sources.</b> {_e(named)}. Licences and attributions in full: the Data page and '
        'the pack\'s last page.</p><div style="flex:1"></div>' + _foot("", f"Data to {_e(data_to)} · {_e(position)}"),
        "How to read these slides",
    )


def render(s: meeting.Slides, title: str, outlines, actions=None) -> list[str]:
    """Every slide as HTML, in order (``actions``: priority id -> its open actions the audience may see,
    listed on its slide)."""
    n = len(s.slides)
    out = []
    for i, item in enumerate(s.slides):
        position = f"slide {i + 1} of {n}"
        if isinstance(item, meeting.Overview):
            out.append(overview(s, title, position))
        elif isinstance(item, meeting.PrioritySlide):
            out.append(priority(item, outlines, position, s.data_to, (actions or {}).get(item.priority.id, ())))
        elif isinstance(item, meeting.NotMeasured):
            out.append(not_measured(item, position, s.data_to))
        else:
            out.append(method(item, position, s.data_to))
    return out


#: The kiosk's keys (a keyboard or a presentation clicker, which sends PageDown/PageUp and "b" or ".").
KEYS = {
    "next": ("ArrowRight", "PageDown", "ArrowDown", "n"),
    "back": ("ArrowLeft", "PageUp", "ArrowUp", "p"),
    "pause": (" ", "Spacebar", "k"),
    "blank": ("b", "B", "."),
}
_KIOSK_JS = """<script>
(function start(tries) {
  const root = document.querySelector('.csp-kiosk');
  if (!root) { if (tries < 100) setTimeout(() => start(tries + 1), 100); return; }
  const slides = [...root.querySelectorAll('section.csp-slide')], state = root.querySelector('.csp-state');
  const cover = root.querySelector('.csp-blank'), every = Number(root.dataset.every), keys = KEYS;
  let i = 0, left = every, paused = false;
  const show = () => {
    slides.forEach((el, j) => { el.hidden = j !== i; });
    state.textContent = `Slide ${i + 1} of ${slides.length} · ` +
      (paused ? 'PAUSED (Space resumes)' : `next in ${left} s (Space pauses)`) + ' · → next, ← back, B blank';
    root.dataset.slide = String(i + 1); root.dataset.paused = String(paused);
  };
  const go = (step) => { i = (i + step + slides.length) % slides.length; left = every; show(); };
  if (window.cspKiosk) {
    clearInterval(window.cspKiosk.timer);
    document.removeEventListener('keydown', window.cspKiosk.key);
  }
  const key = (ev) => {
    const k = ev.key;
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    if (keys.next.includes(k)) go(1);
    else if (keys.back.includes(k)) go(-1);
    else if (keys.pause.includes(k)) { paused = !paused; left = every; show(); }
    else if (keys.blank.includes(k)) { cover.hidden = !cover.hidden; root.dataset.blank = String(!cover.hidden); }
    else return;
    ev.preventDefault();
  };
  const timer = setInterval(() => {
    if (paused || !cover.hidden) return;
    left -= 1;
    if (left <= 0) go(1); else show();
  }, 1000);
  window.cspKiosk = {timer, key};
  document.addEventListener('keydown', key);
  show();
})(0);
</script>"""


def kiosk(pages: list[str], every: int) -> tuple[str, str]:
    """The meeting-room screen: one slide at a time filling the window, the next every ``every`` seconds,
    driven from a keyboard or clicker (:data:`KEYS`: next, back, pause/resume, blank); a line at the
    bottom says the slide number, the pause state and the keys. Returns (the slides' HTML, for
    ``st.markdown``, which keeps their SVGs; the script that drives them, for ``st.html`` with JavaScript):
    the browser steps the slides, no reload per slide."""
    body = "".join(p if i == 0 else p.replace("<section ", "<section hidden ", 1) for i, p in enumerate(pages))
    return (
        f'<div class="csp-kiosk" data-every="{int(every)}">{body}<div class="csp-blank" hidden></div>'
        f'<p class="csp-state" role="status" aria-live="polite">Slide 1 of {len(pages)}</p></div>',
        _KIOSK_JS.replace("KEYS;", json.dumps(KEYS) + ";", 1),
    )
