"""The one run-chart renderer (dashboard/render/charts.py): run charts, small multiples and annual bars
drawn once as shapes, written as SVG (slides, pages, the pack's HTML) and as a reportlab drawing (the
pack's PDF, text extractable). Issue 22: a small multiple's year label was cut to "20" at the slide's
edge, and the pack's years merged ("2019202120232025"): every label here is whole, inside the drawing,
and no two text boxes overlap, measured in Helvetica's metrics as the static maps measure theirs."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import numpy as np
import pypdf
import pytest

from dashboard.render import charts, staticmap
from geodata.analysis import meeting
from geodata.methods import runchart

SVG = "{http://www.w3.org/2000/svg}"


def text_boxes(svg: str) -> tuple[list[tuple[str, str, tuple[float, float, float, float]]], float, float]:
    """Every <text> of ``svg`` as (class, text, box): its width in Helvetica (bold, italic as drawn) at its
    font size and anchor, 0.8 em above the baseline and 0.25 em below; and the viewBox's width, height."""
    root = ET.fromstring(svg)
    _, _, width, height = (float(v) for v in root.get("viewBox").split())
    out = []
    for t in root.iter(f"{SVG}text"):
        size, x, y = float(t.get("font-size")), float(t.get("x")), float(t.get("y"))
        w = staticmap._helvetica(t.text, size, t.get("font-weight") == "700", t.get("font-style") == "italic")
        x0 = {"start": x, "middle": x - w / 2, "end": x - w}[t.get("text-anchor", "start")]
        out.append((t.get("class") or "", t.text, (x0, y - 0.8 * size, x0 + w, y + 0.25 * size)))
    return out, width, height


def assert_readable(svg: str) -> list[tuple[str, str, tuple]]:
    """No text past the drawing's edge (cut) and no two text boxes overlapping; returns the texts."""
    texts, width, height = text_boxes(svg)
    for _cls, text, b in texts:
        e = 0.06  # the SVG writes coordinates to 0.1
        assert b[0] >= -e and b[2] <= width + e and b[1] >= -e and b[3] <= height + e, (text, b, width)
    for i, (_, ta, a) in enumerate(texts):
        for _, tb, b in texts[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (ta, a, tb, b)
    return texts


def _series(first: str, last: str, seed: int = 1) -> dict[str, float]:
    from loaders.months import months as month_range

    months = month_range(first, last)
    rng = np.random.default_rng(seed)
    return {m: float(v) for m, v in zip(months, rng.poisson(120, len(months)))}


#: (width, height, font, small): the slide's run chart, a slide's small multiple (500 x 300 at 44: the
#: year cut to "20"), the pack's run chart (180 x 42 mm at 7 pt).
SIZES = ((1000, 420, 24, False), (500, 300, 44, True), (510, 119, 7, False), (170, 110, 6.5, True))


@pytest.mark.parametrize("first", ["2018-10", "2021-01", "2024-03"])
@pytest.mark.parametrize("width,height,font,small", SIZES)
def test_year_labels_are_whole_years_inside_the_chart_and_no_text_overlaps(first, width, height, font, small):
    values = _series(first, "2025-06")
    chart = runchart.xmr(values, baseline=(first, "2024-12"))
    texts = assert_readable(charts.run_chart(chart, "T", width, height, font, "2025-01", small).svg())
    years = [t for c, t, _ in texts if c == "year"]
    assert years and all(re.fullmatch(r"\d{4}", y) for y in years), years  # never "20"
    assert set(years) <= {m[:4] for m in values} and years == sorted(years)
    if first <= "2021-01":
        assert len(years) >= 2  # at least the first and a later year, whatever the size
    if not small:
        limits = [t for c, t, _ in texts if c == "limit"]
        assert any(t.startswith("mean ") for t in limits) and any(t.startswith("upper ") for t in limits)


def test_a_mean_close_to_a_limit_keeps_both_labels_apart():
    # a flat series: the mean and both limits within a few units; their labels are stacked, not overprinted
    values = {m: 100.0 + (i % 2) for i, m in enumerate(_series("2023-01", "2025-06"))}
    chart = runchart.xmr(values, baseline=("2023-01", "2024-12"))
    texts = assert_readable(charts.run_chart(chart, "T", 510, 119, 7, "2025-01").svg())
    assert len([t for c, t, _ in texts if c == "limit"]) == 3


def test_small_multiples_have_one_title_each_in_their_own_column_and_whole_years(bundled_store):
    from geodata import priorities
    from geodata.analysis import PUBLIC
    from geodata.analysis.status import evaluate, latest_month

    plist = priorities.load()
    end = latest_month(bundled_store, plist)
    deck = meeting.slides(bundled_store, plist, end, None, None, PUBLIC, evaluate(bundled_store, plist, end))
    p3 = next(ps for ps in deck.priorities if ps.priority.id == "P3").parts[0]
    assert len(p3.multiples) >= 3
    for width, height, font in ((510, 113, 6.5), (1000, 260, 16)):
        d = charts.multiples(p3.multiples, p3.status.current.start, width, height, font)
        texts = assert_readable(d.svg())
        titles = [t for c, t, _ in texts if c == "title"]
        assert len(titles) == 2 * len(p3.multiples)  # label and variation, once per chart
        # each chart's title stays in its own column ("Robbery: common cause variaBurglary: ..." ran together)
        column = (width - font * 1.5 * (len(p3.multiples) - 1)) / len(p3.multiples)
        starts = sorted({round(b[0], 1) for c, _, b in texts if c == "title"})
        assert len(starts) == len(p3.multiples)
        assert all(b[2] <= min([s for s in starts if s > b[0] + 0.1] + [width]) for c, _, b in texts if c == "title")
        assert all(b[2] - b[0] <= column + 0.01 for c, _, b in texts if c == "title")
        years = [t for c, t, _ in texts if c == "year"]
        assert len(years) >= 2 * len(p3.multiples) and all(re.fullmatch(r"\d{4}", y) for y in years)


def test_annual_bars_label_every_year_and_value_without_overlap():
    years = tuple(f"{y}-{(y + 1) % 100:02d}" for y in range(2012, 2023))
    values = (1200.0, 1350.0, None, 1490.0, 1720.5, 2101.0, 2300.0, 2250.0, 2800.0, 2600.0, 2405.0)
    for width, height, font in ((1000, 420, 24), (510, 176, 7)):
        texts = assert_readable(charts.annual_bars(years, values, "Fly-tipping", width, height, font, "T").svg())
        assert [t for c, t, _ in texts if c == "year"] == [y[2:] for y in years]
        assert [t for c, t, _ in texts if c == "value"] == [f"{v:,.0f}" for v in values if v is not None]
        assert " ".join(t for c, t, _ in texts if c == "gap") == "not published" or "not published" in [
            t for _, t, _ in texts
        ]


def test_svg_is_escaped_and_the_pdf_drawing_has_its_text():
    from reportlab.graphics import renderPDF

    chart = runchart.xmr(_series("2022-01", "2025-06"), baseline=("2022-01", "2024-12"))
    d = charts.run_chart(chart, "<script>x</script>", 510, 119, 7, "2025-01", heading="Per month: <b>")
    svg = d.svg()
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "Per month: &lt;b&gt;" in svg
    ET.fromstring(svg)  # well-formed
    text = re.sub(r"\s+", " ", pypdf.PdfReader(io.BytesIO(renderPDF.drawToString(d.pdf()))).pages[0].extract_text())
    assert "Per month: <b>" in text and all(y in text for y in ("2022", "2023", "2024", "2025"))
    assert f"mean {chart.mean:,.0f}" in text


def test_special_points_take_the_colour_of_the_charts_own_verdict():
    """A trend of six rising months below the mean, lower better: the chart's icon says concerning (a trend reads
    by its direction); its diamonds were coloured improving (by their side of the mean, a second rule in the
    renderer). Both now ask :meth:`geodata.methods.runchart.XmR.variation_at`."""
    months = [f"2024-{m:02d}" for m in range(1, 13)] + ["2025-01", "2025-02"]
    values = [30, 34, 29, 33, 31, 35, 30, 32, 24, 25, 26, 27, 28, 29]
    chart = runchart.xmr(dict(zip(months, values)), lower_is_better=True)
    assert all(v < chart.mean for v in values[-6:]) and chart.icon() == runchart.CONCERNING
    svg = charts.run_chart(chart, "T", 510, 119, 7).svg()
    diamonds = re.findall(r'<path[^>]*class="special"[^>]*>', svg)
    assert len(diamonds) == 6
    assert all(f'fill="{charts.CONCERNING}"' in d for d in diamonds), diamonds
