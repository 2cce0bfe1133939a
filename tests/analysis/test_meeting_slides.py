"""The meeting's slide model (geodata/analysis/meeting.py) and its drawings, on the bundled data and
on constructed cases with known answers."""

from __future__ import annotations

import io
import re

import numpy as np
import pypdf
import pytest

from dashboard.render import charts, pack, slides
from geodata import priorities, sources
from geodata.analysis import PUBLIC, meeting, rules, status
from geodata.bundled import ST_ALBANS
from geodata.methods import runchart
from loaders.months import Period
from tests.analysis.test_priorities import direct_count

BUNDLED_PRIORITIES = ST_ALBANS / "priorities.toml"
P3 = ["Robbery", "Burglary", "Vehicle crime", "Shoplifting", "Theft from the person"]


@pytest.fixture(scope="module")
def deck(bundled_store):
    return meeting.slides(bundled_store, priorities.load())


def test_slides_in_order_overview_measured_then_not_measured(deck):
    kinds = [type(s).__name__ for s in deck.slides]
    assert kinds == ["Overview", "PrioritySlide", "PrioritySlide", "PrioritySlide", "NotMeasured", "Method"]
    assert [s.priority.id for s in deck.priorities] == ["P1", "P2", "P3"]
    assert [r.priority.id for r in deck.overview.rows] == ["P1", "P2", "P3", "P4", "P5"]
    assert [p.id for p, _ in deck.not_measured.entries] == ["P4", "P5"]
    p4, p5 = (lines for _, lines in deck.not_measured.entries)
    assert "council incident logs" in " ".join(p4) and "probation" in " ".join(p5)
    assert deck.data_to == "2025-06"


def test_the_not_measured_slide_says_per_priority_which_data_would_measure_it_and_who_holds_it(deck):
    html = slides.not_measured(deck.not_measured, "slide 5 of 5", deck.data_to)
    tables = re.findall(r"<li><b>(P\d) .*?<tbody>(.*?)</tbody>", html)
    rows = {pid: re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td></tr>", body) for pid, body in tables}
    assert list(rows) == ["P4", "P5"]
    assert rows["P4"] == [("Council incidents flagged mental health", sources.COUNCIL_INCIDENTS.holder)]
    assert "district council" in rows["P4"][0][1]
    (what, who) = rows["P5"][0]
    assert what.startswith("Data on local offenders") and who.startswith("the Probation Service")
    # every gap of the bundled file names who holds its data
    assert all(g.held_by for p in priorities.load().priorities for g in p.gaps)


def test_a_gap_without_held_by_says_the_file_does_not_say(tmp_path):
    text = BUNDLED_PRIORITIES.read_text().replace('held_by = "Action Fraud', 'x_held_by = "Action Fraud', 1)
    (tmp_path / "p.toml").write_text(text.replace("x_held_by", "# held_by"))
    p3 = priorities.load(tmp_path / "p.toml").priorities[2]
    assert p3.needs()[1] == ("Fraud: reported to Action Fraud, not in police.uk", "not said in the priorities file")
    (tmp_path / "q.toml").write_text(text.replace("x_held_by", "held_by_whom"))
    with pytest.raises(priorities.PrioritiesError, match="held_by"):
        priorities.load(tmp_path / "q.toml")


def test_headline_is_the_status_comparison_on_the_months_loaded_in_both_periods(deck, bundled_store):
    """Before: "no comparison" (2024-05/06 not bundled) beside a NO DATA badge. Now the headline, the badge,
    the overview row and the sentence carry one comparison: 2025-01..04 against 2024-01..04, the two months
    left out named."""
    ps = deck.priorities[2]
    p3 = ps.parts[0]
    assert p3.headline.count == direct_count(bundled_store, P3, "2025-01", "2025-06")
    h = p3.headline
    assert h.change is p3.status.change and h.change.judged and ps.result.status == p3.status.status
    now = direct_count(bundled_store, P3, "2025-01", "2025-04")
    before = direct_count(bundled_store, P3, "2024-01", "2024-04")
    assert (h.change.current.count, h.change.base.count) == (now, before) and h.direction == meeting.UP
    assert "on 2025-01 to 2025-04 against the same months a year earlier (2024-01 to 2024-04)" in h.text
    assert f"{100 * (now - before) / before:+.0f}%" in h.text
    assert "2025-05, 2025-06 left out: 2024-05, 2024-06 not loaded" in ps.result.sentence  # beside it
    assert "dispersion" in ps.result.sentence
    row = deck.overview.rows[2]
    assert row.number == f"{p3.headline.count:,}" and row.status == ps.result.status
    assert row.change == f"{100 * (now - before) / before:+.0f}% on a year earlier (4 of 6 months), not significant"


def test_headline_takes_the_year_earlier_else_the_months_before(bundled_store):
    plist = priorities.load()
    # 2025-01..04: the year-earlier months 2024-01..04 are loaded
    d = meeting.slides(bundled_store, plist, end="2025-04", window=4)
    h = d.priorities[2].parts[0].headline
    assert h.change.name == "the same months a year earlier" and h.change.judged and not h.change.reason
    now, before = (
        direct_count(bundled_store, P3, "2025-01", "2025-04"),
        direct_count(bundled_store, P3, "2024-01", "2024-04"),
    )
    assert (h.count, h.change.base.count) == (now, before)
    assert h.direction == (meeting.UP if now > before else meeting.DOWN if now < before else meeting.SAME)
    # 2021-12..2022-01: 2020-12 is not loaded, 2021-01 is: 2022-01 against 2021-01, 2021-12 left out
    d = meeting.slides(bundled_store, plist, end="2022-01", window=2)
    h = d.priorities[2].parts[0].headline
    assert h.change.name == "the same months a year earlier" and h.change.current.counted == ("2022-01",)
    assert h.change.base.count == direct_count(bundled_store, P3, "2021-01", "2021-01")
    assert "2021-12 left out: 2020-12 not loaded" in d.priorities[2].result.sentence
    # 2021-04..06: no month of 2020 is loaded, so the months before (2021-01..03), said so
    d = meeting.slides(bundled_store, plist, end="2021-06", window=3)
    h = d.priorities[2].parts[0].headline
    assert h.change.name == "the previous 3 months" and "against the previous 3 months instead" in h.text
    assert d.priorities[2].result.sentence.count("against the same months a year earlier not judged") == 1
    assert h.change.base.count == direct_count(bundled_store, P3, "2021-01", "2021-03")
    assert d.overview.rows[2].change.endswith("on previous 3 months, not significant") or "significant" in (
        d.overview.rows[2].change
    )
    assert rules.comparison(bundled_store, "police.uk", Period("2021-12", "2022-01"), "year-earlier").missing


def test_run_chart_icon_agrees_with_the_points_it_marks_in_the_period(bundled_store):
    """For every run chart on every slide of several periods: special cause marked in the period <=> the
    icon is not "common cause"."""
    plist = priorities.load()
    for end, window in (("2025-06", 6), ("2022-01", 6), ("2021-12", 12), ("2025-04", 4)):
        for ps in meeting.slides(bundled_store, plist, end=end, window=window).priorities:
            for part in ps.parts:
                for rc in [part.chart, *part.multiples]:
                    if rc is None:
                        continue
                    months = list(rc.chart.months)
                    marked = rc.chart.special[months.index(rc.period_start) :].any()
                    assert marked == (rc.icon != runchart.COMMON), (end, rc.label)


def test_run_chart_baseline_is_the_loaded_months_before_the_period(deck, bundled_store):
    chart = deck.priorities[2].parts[0].chart
    assert chart.chart.baseline == ("2018-10", "2024-12") and chart.chart.baseline_points == 23
    assert "23 months loaded before the period (2018-10 to 2024-12)" in chart.baseline_note
    series = meeting.monthly(bundled_store, priorities.load().get("P3").measures[0], "2025-06")
    assert series["2025-03"] == direct_count(bundled_store, P3, "2025-03", "2025-03")
    assert series["2020-01"] is None  # a gap is never a zero
    known = [v for m, v in series.items() if v is not None and m <= "2024-12"]
    assert chart.chart.mean == pytest.approx(np.mean(known))
    assert [c.label for c in deck.priorities[2].parts[0].multiples] == P3


def test_run_chart_falls_back_to_the_whole_series_and_flags_a_constructed_rise():
    # no month before the period: the whole series is the baseline
    series = {f"2024-{m:02d}": 10 + (m % 2) for m in range(1, 13)}
    rc = meeting.run_chart(series, Period("2024-01", "2024-06"), "x")
    assert rc.chart.baseline == ("2024-01", "2024-12")
    assert "months loaded in all, the period included" in rc.baseline_note
    assert "provisional" not in rc.baseline_note and rc.icon == runchart.COMMON
    series["2025-01"] = 40  # far above the limits: special cause, concerning (lower is better)
    rc = meeting.run_chart(series, Period("2025-01", "2025-01"), "x")
    assert rc.chart.baseline == ("2024-01", "2024-12") and rc.icon == runchart.CONCERNING
    assert meeting.run_chart({"2024-01": 3, "2024-03": 4}, Period("2024-03", "2024-03"), "x") is None


def test_flytipping_shows_defra_annual_figures_when_no_monthly_source_covers_the_period(deck, bundled_store):
    p2 = deck.priorities[1]
    assert p2.parts == [] and p2.annual is not None
    stats = bundled_store.district_stats(dataset="incidents", measures=["Total Incidents"], area_codes=["E07000240"])
    latest = stats.sort_values("year").iloc[-1]
    assert p2.annual.shown == (latest["year"], latest["value"]) == ("2022-23", 579.0)
    assert "Older than the period: 2022-23" in p2.annual.note and "ended 27 months before" in p2.annual.note
    year, before, pct, p, significant, dispersion = p2.annual.change
    assert significant == (p < p2.result.priority.target.alpha) and "dispersion 27.0" in dispersion
    assert (year, before) == ("2021-22", 624.0) and pct == pytest.approx(100 * (579 - 624) / 624)
    row = deck.overview.rows[1]
    assert row.direction == meeting.DOWN and "annual" in row.number_of and "not significant" in row.change
    # a period FixMyStreet covers: its monthly reports, no annual figures
    d = meeting.slides(bundled_store, priorities.load(), end="2020-12", window=6)
    assert [s.priority.id for s in d.priorities] == ["P2"]  # police.uk is not loaded for 2020-07..12
    assert d.priorities[0].annual is None and d.priorities[0].parts[0].status.measure.source == "fixmystreet"


def test_defra_year_matches_the_period_and_its_age_is_said(bundled_store):
    """A pack for 2021-04..06 showed 2022-23 (DEFRA's latest). Now the financial year overlapping the period
    (2021-22), with no "older than the period"; a period after the last published year names its age."""
    plist = priorities.load()
    d = meeting.slides(bundled_store, plist, end="2021-06", window=3)
    p2 = next(s for s in d.priorities if s.priority.id == "P2")
    assert p2.annual.shown == ("2021-22", 624.0) and "2021-22 (April 2021 to March 2022) overlaps" in p2.annual.note
    assert "Older" not in p2.annual.note and p2.annual.change.year == "2020-21"
    row = next(r for r in d.overview.rows if r.priority.id == "P2")
    assert row.number_of == "in 2021-22 (annual, DEFRA)"
    latest = meeting.annual(bundled_store, "defra", Period("2023-04", "2023-06"))
    assert latest.shown[0] == "2022-23" and "it ended 3 months before the period's end" in latest.note
    assert meeting.annual(bundled_store, "defra", Period("2011-01", "2011-03")) is None  # before any year


def test_defra_year_on_year_changes_allow_for_the_series_variation(bundled_store):
    """DEFRA's St Albans totals 2012-13..2022-23 vary about 27x the mean from year to year: the Poisson
    E-test called 7 of the 10 year-on-year changes significant; the test with that dispersion calls none."""
    stats = bundled_store.district_stats(dataset="incidents", measures=["Total Incidents"], area_codes=["E07000240"])
    values = [int(v) for v in stats.sort_values("year")["value"]]
    assert len(values) == 11
    from geodata.methods.change import e_test, rate_test, successive_dispersion

    disp = successive_dispersion(values)
    assert (
        disp.estimate
        == pytest.approx(np.sum(np.diff(values) ** 2) / 20 / np.mean(values))
        == pytest.approx(27.0, abs=0.05)
    )
    pairs = list(zip(values[1:], values[:-1]))
    assert sum(e_test(a, b) < 0.05 for a, b in pairs) == 7
    assert sum(rate_test(a, b, 1, 1, disp) < 0.05 for a, b in pairs) == 0


def test_outcome_shares_of_the_period_sum_to_one(deck):
    o = deck.priorities[0].parts[0].outcomes
    assert o.with_outcome > 0 and sum(o.shares.values()) == pytest.approx(1.0)


def test_outcomes_are_of_the_crimes_the_headline_counts(deck):
    # the review: P1 read "141" beside "latest police.uk outcome of 144 crimes" (3 outside the district's wards)
    for ps in deck.priorities:
        for part in ps.parts:
            if part.outcomes is not None:
                assert part.outcomes.crimes == part.headline.count, ps.priority.id


def test_each_status_sentence_is_shown_once_and_status_has_symbol_and_word(deck, bundled_store):
    from dashboard.views.meeting import KIOSK_EVERY  # noqa: F401  (the page imports cleanly)

    areas = bundled_store.areas("ward")
    pages = slides.render(deck, "CSP", (areas.codes, areas.names, areas.geometries))
    assert len(pages) == 6 and "slide 1 of 6" in pages[0]
    screen, script = slides.kiosk(pages, 20)
    assert screen.count("<section hidden ") == 5 and 'data-every="20"' in screen and '"PageDown"' in script
    for ps, page in zip(deck.priorities, pages[1:4]):
        import html

        assert page.count(html.escape(ps.result.plain or ps.result.sentence)) == 1
        assert not ps.result.detail or page.count(html.escape(ps.result.detail)) == 1
        assert "– NO DATA" in page or "✓ ON TRACK" in page or "▲ OFF TRACK" in page or "? NOT JUDGED" in page
    assert pages[3].count('class="ward-area"') == 20 and "St Peters" in pages[3]  # ward names on the map
    assert pages[2].count("(annual)") >= 1 and "2022-23" in pages[2]


def test_run_chart_svg_marks_special_points_and_gaps():
    chart = runchart.xmr(
        {"2024-01": 10, "2024-02": 11, "2024-03": 10, "2024-04": 11, "2024-06": 40}, baseline=("2024-01", "2024-04")
    )
    svg = charts.run_chart(chart, "Test <b>").svg()
    assert "Test &lt;b&gt;" in svg and "<b>" not in svg
    assert svg.count("special cause: outside") == 1  # 2024-06 as a diamond
    assert "upper" in svg and "mean" in svg
    assert charts.ICONS[chart.icon()][2] == "Special cause: concerning"


def test_pack_has_an_overview_page_run_charts_and_no_near_empty_page(bundled_store):
    built = pack.build(bundled_store, priorities.load())
    pdf = pack.render(built, "pdf")
    pages = [re.sub(r"\s+", " ", p.extract_text()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]
    assert "Not measured yet" in pages[0] and all(f"P{i}" in pages[0] for i in range(1, 6))
    assert "Run chart" in pages[0] and "common cause variation" in pages[0]
    assert [p.split("Page ")[1][2:].lstrip()[:2] for p in pages[1:4]] == ["P1", "P2", "P3"]
    assert "Usual range (mean and limits) from 23 months loaded before the period" in pages[1]
    assert "(annual)" in pages[2] and "Sources and licences" in pages[-1]
    assert len(pages) <= 5 and min(len(p) for p in pages) > 500  # no near-empty page
    assert ("P3", 0, "multiples") in built.images and ("P2", 0, "annual") in built.images
    assert all("Data to 2025-06" in p for p in pages)
    assert built.slides.overview.rows[0].priority.id == "P1"
    # the pack is the meeting's, shown to the public: its statuses are the PUBLIC audience's (it asserted
    # `PUBLIC is not None`, which cannot fail)
    public = status.evaluate(bundled_store, priorities.load(), None, None, None, PUBLIC)
    assert [(r.status, r.sentence) for r in built.results] == [(r.status, r.sentence) for r in public]


#: Words of the methods that a chair should not have to read on a priority slide (the last slide explains).
JARGON = ("quasi-Poisson", "XmR", "process limits", "E-test", "alpha", "Making Data Count")


def test_priority_slides_speak_plain_words_and_lose_no_figure_of_the_status_sentence(deck, bundled_store):
    """The plain sentence and the small type beside it carry every figure of the status sentence (counts,
    months compared and left out, p, dispersion): said in other words, never dropped; the method's words
    are on the last slide only."""
    import html
    import re

    areas = bundled_store.areas("ward")
    pages = slides.render(deck, "CSP", (areas.codes, areas.names, areas.geometries))
    for ps, page in zip(deck.priorities, pages[1:4]):
        r = ps.result
        shown = f"{r.plain} {r.detail}"
        figures = re.findall(r"\d[\d,.\-]*\d|\d", r.sentence)
        assert [f for f in figures if f not in shown] == [], (r.priority.id, r.sentence, shown)
        visible = re.sub(r"<svg.*?</svg>", "", page, flags=re.S)
        assert [w for w in JARGON if w in html.unescape(visible)] == [], r.priority.id
    p1 = deck.priorities[0].result
    assert p1.plain.startswith("Drugs and possession of weapons (police.uk) rose 40% (68 -> 95) on the same months")
    assert "not a significant change" in p1.plain and "p = 0.121, dispersion 1.4" in p1.detail
    assert "2025-05, 2025-06 left out" in p1.detail
    method = html.unescape(pages[-1])
    assert 'aria-label="How to read these slides"' in pages[-1]
    assert all(w in method for w in ("quasi-Poisson", "XmR", "NHS Making Data Count", "police.uk street-level crime"))


def test_the_comparison_used_and_who_chose_it_is_on_the_overview_and_the_last_slide(bundled_store):
    areas = bundled_store.areas("ward")
    outlines = (areas.codes, areas.names, areas.geometries)
    plist = priorities.load()
    targets = meeting.slides(bundled_store, plist)
    assert targets.comparison == "Compared with the same months a year earlier: as each priority's target says."
    chosen = meeting.slides(bundled_store, plist, compare="year-earlier")
    assert chosen.comparison == (
        "Compared with the same months a year earlier: chosen for this meeting, compare=year-earlier in the link."
    )
    # the previous 6 months (2024-07..12) are not loaded: the statuses fall back, and the slides say so
    fell = meeting.slides(bundled_store, plist, compare="previous")
    assert fell.comparison == (
        "Asked for the previous 6 months (chosen for this meeting, compare=previous in the link); compared with "
        "the same months a year earlier: 2 of 2 measures could not be compared as asked, their months not loaded "
        "(each slide says which)."
    )
    pages = slides.render(fell, "CSP", outlines)
    assert fell.comparison in pages[0] and fell.comparison in pages[-1]
    p1 = fell.priorities[0].result
    assert "on the same months a year earlier (the comparison asked for could not be made: see below)" in p1.plain
    assert p1.detail.startswith("Against the previous 6 months not judged (no month of 2025-01 to 2025-06")


def test_a_priority_shown_with_annual_figures_is_not_judged_never_no_data(deck):
    """A new user's find: P2's badge read NO DATA beside DEFRA's 579 incidents in 2022-23. Its measures have
    no count for the period and the annual figures are context, not a verdict: "not judged", saying why."""
    p2 = deck.priorities[1]
    assert p2.annual is not None and p2.result.status == meeting.NOT_JUDGED
    assert p2.result.sentence.startswith("No monthly source covers the period")  # the badge says "not judged"
    assert "FixMyStreet reports not loaded for 6 months" in p2.result.sentence  # the measures' reasons kept
    assert deck.overview.rows[1].status == meeting.NOT_JUDGED and deck.overview.rows[1].number == "579"
