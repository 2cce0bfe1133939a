"""The meeting pack: PDF and HTML from the bundled data, text checked against the store."""

from __future__ import annotations

import io
import re

import pypdf
import pytest

from dashboard import cli
from dashboard.render import document, pack
from geodata import priorities
from geodata.analysis import status
from tests.analysis.test_priorities import direct_count
from tests.conftest import write_config


@pytest.fixture(scope="module")
def built(bundled_store):
    return pack.build(bundled_store, priorities.load())


def _pdf_pages(data: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return [re.sub(r"\s+", " ", page.extract_text()) for page in reader.pages]


def test_pdf_has_overview_priority_and_sources_pages_with_the_figures(built, bundled_store):
    pages = _pdf_pages(pack.render(built, "pdf"))
    plist = priorities.load()
    assert len(pages) == 5  # overview (with the not-measured priorities), P1, P2, P3, sources
    assert plist.partnership in pages[0] and "Period: 2025-01 to 2025-06" in pages[0]
    assert all("Data to 2025-06" in p for p in pages)
    for page, pid in zip(pages[1:4], ("P1", "P2", "P3")):
        assert f"{pid} {plist.get(pid).title}" in page
    assert "Sources and licences" in pages[-1] and "Open Government Licence v3.0" in pages[-1]
    # the method in plain words in the notes, and the comparison used (and who chose it) on page 1
    assert "How to read this pack" in pages[-1] and "Off track only when a rise is significant" in pages[-1]
    assert "Compared with the same months a year earlier: as each priority's target says." in pages[0]
    # P3's figures on its page equal direct counts in the store
    cats = list(plist.get("P3").measures[0].categories)
    now = direct_count(bundled_store, cats, "2025-01", "2025-06")
    assert f"{now:,} in 2025-01 to 2025-06" in pages[3]
    top = next(m for r in built.results if r.priority.id == "P3" for m in r.measures).wards.iloc[0]
    # the ward row: the period's count, the months compared (2025-01..04) and their year-earlier counterparts
    compared = direct_count(bundled_store, cats, "2025-01", "2025-04", ward=top["ward_code"])
    before = direct_count(bundled_store, cats, "2024-01", "2024-04", ward=top["ward_code"])
    assert f"{top['ward_name']} {int(top['current'])} {compared} {before} " in pages[3]
    # priorities with no data say so and name the missing source
    assert "NOT JUDGED" in pages[2] and "FixMyStreet" in pages[2] and "NO DATA" not in pages[2]
    assert "Not measured yet" in pages[0] and "probation" in pages[0]


def test_pdf_text_matches_what_the_app_computes(built, bundled_store):
    pages = " ".join(_pdf_pages(pack.render(built, "pdf")))
    shown = {s.priority.id for s in built.slides.priorities}
    for r in status.evaluate(bundled_store, priorities.load()):
        if r.priority.id in shown:  # P2 (annual figures shown) says "Not judged: ..." before its measures' reasons
            assert re.sub(r"\s+", " ", r.sentence).removeprefix("No data. ") in pages
    for _p, lines in built.slides.not_measured.entries:
        assert re.sub(r"\s+", " ", " ".join(lines)) in pages


def test_html_pack_is_self_contained_and_escaped(bundled_store):
    import html

    built = pack.build(bundled_store, priorities.load(), "2025-04", 4)  # the year earlier is loaded
    text = pack.render(built, "html").decode()
    # the PDF's design: an overview page, then a page per measured priority (the sources close the last)
    assert text.count("<section>") == 1 + len(built.slides.priorities) == 4
    sections = text.split("<section>")[1:]
    assert all(f"{r.priority.id} {r.priority.title}" in sections[0] for r in built.results)
    for section, ps in zip(sections[1:], built.slides.priorities):
        assert (
            f"<h1>{ps.priority.id} {ps.priority.title}</h1>" in section and html.escape(ps.result.sentence) in section
        )
    assert "Sources and licences" in sections[-1] and "Not measured yet" in sections[0]
    pdf = " ".join(_pdf_pages(pack.render(built, "pdf")))
    for ps in built.slides.priorities:  # one document, two renderings: the same sentences in both
        assert re.sub(r"\s+", " ", ps.result.sentence) in pdf
    assert "Data to 2025-06" in text and 'src="http' not in text and "<script" not in text
    # charts and maps drawn inline as SVG (the charts were PNG pictures)
    charts = [k for k in built.images if k[2] != "map"]
    assert "<img" not in text and text.count('class="run-chart"') == len(charts) >= 3
    assert text.count('class="static-map"') == len(built.images) - len(charts)
    p3 = next(r for r in built.results if r.priority.id == "P3").measures[0]
    arrow = f"({p3.change.base.count:,} -&gt; {p3.current.count:,})"
    assert arrow in text and f"({p3.change.base.count:,} -> {p3.current.count:,})" not in text  # escaped


def test_editing_priorities_changes_the_pack(bundled_store, tmp_path):
    text = priorities.DEFAULT_PRIORITIES.read_text() + (
        '\n[[priority]]\nid = "P6"\ntitle = "Bicycle theft"\nwording = "Added by the CSP."\n'
        '[[priority.measure]]\nsource = "police.uk"\ncategories = ["Bicycle theft"]\nlabel = "Bicycle theft"\n'
    )
    path = tmp_path / "p.toml"
    path.write_text(text)
    pages = _pdf_pages(pack.render(pack.build(bundled_store, priorities.load(path)), "pdf"))
    # overview, P1, P2, P3, P6, and the sources kept together on a page of their own (no near-empty page)
    assert len(pages) == 6 and "Sources and licences" in pages[5] and min(len(p) for p in pages) > 500
    n = direct_count(bundled_store, ["Bicycle theft"], "2025-01", "2025-06")
    assert "P6 Bicycle theft" in pages[4] and f"{n:,} in 2025-01 to 2025-06" in pages[4]


def test_cli_report_writes_pdf_and_names_bad_lines(tmp_path, capsys):
    out, cfg = tmp_path / "pack.pdf", str(write_config(tmp_path))
    assert cli.main(["report", "--config", cfg, "--from", "2022-01", "--to", "2022-01", "--out", str(out)]) == 0
    pages = _pdf_pages(out.read_bytes())
    assert "Period: 2022-01" in pages[0] and "a year earlier (2021-01)" in " ".join(pages)
    bad = tmp_path / "bad.toml"
    bad.write_text(priorities.DEFAULT_PRIORITIES.read_text().replace('"Drugs",', '"Drugz",'))
    assert cli.main(["report", "--config", cfg, "--priorities", str(bad), "--out", str(out)]) == 2
    line = next(i for i, s in enumerate(bad.read_text().splitlines(), 1) if '"Drugz"' in s)
    assert f"line {line}: categories: 'Drugz' is not a police.uk category" in capsys.readouterr().err


def test_hostile_ward_names_and_priority_text_are_printed_as_text(tmp_path):
    """Issue 18: text from data or config (ward names, priority titles) with template, HTML and
    script payloads is printed literally in the HTML and PDF packs, never evaluated."""
    import html
    import json

    from geodata import config as config_mod
    from geodata.bundled import ST_ALBANS
    from geodata.pipeline.build import open_store

    payloads = ["{{7*7}}", "<script>alert(1)</script>", "{% for x in range(3) %}loop{% endfor %}"]
    wards = json.loads((ST_ALBANS / "boundaries/st_albans_wards_2013.geojson").read_text())
    for feature, payload in zip(wards["features"], payloads):
        feature["properties"]["WD13NM"] = f"Ward {payload}"
    (tmp_path / "wards.geojson").write_text(json.dumps(wards))
    cfg = write_config(tmp_path)
    cfg.write_text(
        cfg.read_text().replace(
            str(ST_ALBANS / "boundaries/st_albans_wards_2013.geojson"), str(tmp_path / "wards.geojson")
        )
    )
    prios = tmp_path / "priorities.toml"
    prios.write_text(priorities.DEFAULT_PRIORITIES.read_text().replace('title = "', 'title = "{{7*7}} <b>x</b> ', 1))
    store = open_store(config_mod.load(cfg))
    built = pack.build(store, priorities.load(prios))
    page = pack.render(built, "html").decode()
    assert html.escape("{{7*7}} <b>x</b>") in page and "<script>alert(1)" not in page
    assert "looplooploop" not in page
    text = " ".join(_pdf_pages(pack.render(built, "pdf")))
    assert "{{7*7}} <b>x</b>" in text


def test_pack_ward_table_writes_p_by_the_one_rule():
    # the pack wrote adjusted p as f"{p:.2f}": 0.0001 was printed "0.00"
    from types import SimpleNamespace

    import pandas as pd

    wards = pd.DataFrame(
        {
            "ward_name": ["A & B", "C"],
            "current": [40, 3],
            "compared": [30, 2],
            "previous": [10, 3],
            "pct_change": [300.0, float("nan")],
            "p_adj": [0.0001, 1.0],
            "change": ["significant rise", "no significant change"],
        }
    )
    rows = pack._ward_rows(SimpleNamespace(wards=wards, current=SimpleNamespace(count=43)))
    assert rows[1] == ["A & B", "40", "30", "10", "+300%", "< 0.001", "significant rise"]
    assert rows[2][4:6] == ["", "1.000"]


def test_pack_ward_table_has_no_empty_column_and_its_charts_have_whole_years_and_no_overlapping_text(built):
    from tests.app.test_charts import assert_readable

    p3 = next(ps for ps in built.slides.priorities if ps.priority.id == "P3").parts[0]
    rows = pack._ward_rows(p3.status)
    # a column empty on every row is left out (without a comparison Change, p and Test were empty on every row)
    assert all(any(r[j] for r in rows[1:]) for j in range(len(rows[0])))
    # and each header fits its column unbroken (bold 8 pt, 3 pt padding each side): "Compar ed" was printed
    from reportlab.pdfbase.pdfmetrics import stringWidth

    for head, mm in pack._WARD_WIDTHS.items():
        assert stringWidth(head, "Helvetica-Bold", 8) + 6 <= mm * 72 / 25.4, head
    assert sum(pack._WARD_WIDTHS.values()) == document.TEXT_MM - 2 - pack.MAP_MM  # the column beside the map
    kinds = {k[2] for k in built.images}
    assert kinds == {"trend", "multiples", "annual", "map"}
    for key, drawn in built.images.items():
        if key[2] != "map":  # the maps: tests/app/test_staticmap.py
            texts = assert_readable(drawn.svg())  # nothing cut at an edge, no two texts overlapping
            assert all(re.fullmatch(r"\d{4}|\d\d-\d\d", t) for c, t, _ in texts if c == "year"), key
    # the small multiples' titles: each once, in its own column ("Robbery: common cause variaBurglary: ...")
    titles = [s[3] for s in built.images[("P3", 0, "multiples")].shapes if s[0] == "text" and s[-1] == "title"]
    assert titles[::2] == [c.label for c in p3.multiples]
    # and in the PDF they are text, with the years (they merged: "2019202120232025")
    page = next(p for p in _pdf_pages(pack.render(built, "pdf")) if "P3 " in p and "Per month" in p)
    assert all(c.label in page for c in p3.multiples) and "Per month: " in page
    assert re.search(r"\b2019\b", page) and re.search(r"\b2025\b", page)  # whole years (the overlap: above)


def test_pack_page_one_has_one_title(bundled_store):
    built = pack.build(bundled_store, priorities.load())
    first = _pdf_pages(pack.render(built, "pdf"))[0]
    head = first.split("Priorities meeting pack")[0].split("Page 1 ")[-1]
    assert head.strip() == built.title and head.count(built.area) == 1, head
