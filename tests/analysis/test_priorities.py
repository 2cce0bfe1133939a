"""priorities.toml validation, and each priority's figures and status against direct counts in the store."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from scipy.stats import poisson_means_test

from geodata import priorities
from geodata.analysis import status
from geodata.priorities import PrioritiesError

BUNDLED = priorities.DEFAULT_PRIORITIES


def direct_count(store, categories, start, end, source="police.uk", ward=None) -> int:
    """Count rows in the store file with plain SQL: month range inclusive, in the area."""
    con = duckdb.connect(str(store.path), read_only=True)
    try:
        sql = (
            f"SELECT count(*) FROM incidents WHERE source = ? AND ward_code IS NOT NULL "
            f"AND strftime(month, '%Y-%m') BETWEEN ? AND ? AND category IN ({','.join('?' * len(categories))})"
        )
        params = [source, start, end, *categories]
        if ward:
            sql += " AND ward_code = ?"
            params.append(ward)
        return con.execute(sql, params).fetchall()[0][0]
    finally:
        con.close()


def test_bundled_file_has_the_five_strategy_priorities():
    p = priorities.load()
    assert [x.id for x in p.priorities] == ["P1", "P2", "P3", "P4", "P5"]
    p3 = p.get("P3")
    assert set(p3.measures[0].categories) == {
        "Robbery",
        "Burglary",
        "Vehicle crime",
        "Shoplifting",
        "Theft from the person",
    }
    assert {g.what for g in p3.gaps} == {"Fraud", "Dwelling burglary"}
    assert p.get("P5").measures == ()
    assert p.get("P1").target.window_months == 6 and p.get("P1").target.compare == "year-earlier"


def test_every_figure_of_every_priority_equals_a_direct_count(bundled_store):
    p = priorities.load()
    results = status.evaluate(bundled_store, p)
    police_measures = 0
    for res in results:
        for m in res.measures:
            if m.measure.source != "police.uk":
                assert m.status == "no data" and m.current.count is None
                continue
            police_measures += 1
            cats = list(m.measure.categories)
            assert (m.current.start, m.current.end) == ("2025-01", "2025-06")
            assert m.current.count == direct_count(bundled_store, cats, "2025-01", "2025-06")
            # the months before (2024-07..12) and a year earlier (2024-01..06) are not all loaded: no
            # figure, never a partial one, and the missing months are named
            assert m.previous.base.count is None and m.previous.label == "no data"
            assert m.previous.base.missing == tuple(f"2024-{k:02d}" for k in range(7, 13))
            assert m.year_earlier.base.count is None and m.year_earlier.label == "no data"
            assert m.year_earlier.base.missing == ("2024-05", "2024-06")
            assert m.status == "no data"
            for month, count in zip(m.series["month"], m.series["count"]):
                loaded = month in ("2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06")
                assert count == direct_count(bundled_store, cats, month, month) if loaded else pd.isna(count)
            wards = m.wards.set_index("ward_code")
            assert len(wards) == 20
            for code in wards.index[:5]:
                assert wards.loc[code, "current"] == direct_count(bundled_store, cats, "2025-01", "2025-06", ward=code)
            assert wards["current"].sum() == m.current.count
    assert police_measures == 2
    # where the same months a year earlier are loaded (2025-01..04 against 2024-01..04), every figure
    for res in status.evaluate(bundled_store, p, end="2025-04", window=4):
        for m in res.measures:
            if m.measure.source != "police.uk":
                continue
            cats = list(m.measure.categories)
            assert m.current.count == direct_count(bundled_store, cats, "2025-01", "2025-04")
            assert m.year_earlier.base.count == direct_count(bundled_store, cats, "2024-01", "2024-04")
            expected_p = poisson_means_test(m.current.count, 4, m.year_earlier.base.count, 4).pvalue
            assert m.year_earlier.p == pytest.approx(expected_p) and m.status != "no data"
            wards = m.wards.set_index("ward_code")
            for code in wards.index[:5]:
                assert wards.loc[code, "previous"] == direct_count(bundled_store, cats, "2024-01", "2024-04", ward=code)


def test_status_rule_and_sentence(bundled_store):
    p = priorities.load()
    default = {r.priority.id: r for r in status.evaluate(bundled_store, p)}
    assert default["P3"].status == "no data" and "cannot be judged" in default["P3"].sentence
    assert "2 months: 2024-05, 2024-06" in default["P3"].sentence  # the months that are missing are named
    by_id = {r.priority.id: r for r in status.evaluate(bundled_store, p, end="2025-04", window=4)}
    p3 = by_id["P3"].measures[0]
    a, b = p3.current.count, p3.year_earlier.base.count
    expected = "off track" if (a > b and p3.year_earlier.p < 0.05) else "on track"  # only a significant rise moves it
    assert by_id["P3"].status == expected
    assert f"({b:,} -> {a:,})" in by_id["P3"].sentence and "a year earlier" in by_id["P3"].sentence
    # priorities with no loaded source say so and name it; never a zero
    assert by_id["P2"].status == "no data" and "FixMyStreet" in by_id["P2"].sentence
    assert by_id["P4"].status == "no data" and "council incident logs" in by_id["P4"].sentence
    assert by_id["P5"].status == "no data" and "probation" in by_id["P5"].sentence
    assert all(m.current.count is None for m in by_id["P2"].measures)


def test_year_earlier_rule_on_a_chosen_period(bundled_store):
    p = priorities.load()
    res = status.evaluate(bundled_store, p, end="2022-01", window=1, compare="year-earlier")
    p1 = res[0].measures[0]
    cats = list(p1.measure.categories)
    assert p1.current.count == direct_count(bundled_store, cats, "2022-01", "2022-01")
    assert p1.year_earlier.base.count == direct_count(bundled_store, cats, "2021-01", "2021-01")
    assert "a year earlier" in res[0].sentence


def test_significant_rise_is_off_track(bundled_store):
    # P3 in 2022-01 against 2021-12 (a one-month window): a big rise in the real data
    p = priorities.load()
    res = status.priority_status(bundled_store, p.get("P3"), end="2022-01", window=1, compare="previous")
    m = res.measures[0]
    cats = list(m.measure.categories)
    a = direct_count(bundled_store, cats, "2022-01", "2022-01")
    b = direct_count(bundled_store, cats, "2021-12", "2021-12")
    assert (m.current.count, m.previous.base.count) == (a, b) and a > b
    assert poisson_means_test(a, 1, b, 1).pvalue < 0.05
    assert res.status == "off track"
    assert f"rose {100 * (a - b) / b:.0f}% ({b:,} -> {a:,})" in res.sentence and "significant rise" in res.sentence


def test_editing_the_file_changes_the_figures(bundled_store, tmp_path):
    text = BUNDLED.read_text().replace('categories = ["Drugs", "Possession of weapons"]', 'categories = ["Drugs"]')
    text += '\n[[priority.measure]]\nsource = "police.uk"\ncategories = ["Public order"]\n'  # added to P5
    path = tmp_path / "p.toml"
    path.write_text(text)
    p = priorities.load(path)
    res = {r.priority.id: r for r in status.evaluate(bundled_store, p)}
    assert res["P1"].measures[0].current.count == direct_count(bundled_store, ["Drugs"], "2025-01", "2025-06")
    judged = {r.priority.id: r for r in status.evaluate(bundled_store, p, end="2025-04", window=4)}
    assert judged["P5"].status != "no data"  # a priority no source measured now has a status
    assert res["P5"].measures[0].current.count == direct_count(bundled_store, ["Public order"], "2025-01", "2025-06")


@pytest.mark.parametrize(
    "edit, line_text, message",
    [
        (
            ('categories = ["Drugs", "Possession of weapons"]', 'categories = ["Drugs", "Cocaine"]'),
            'categories = ["Drugs", "Cocaine"]',
            "'Cocaine' is not a police.uk category",
        ),
        (('source = "fixmystreet"', 'source = "twitter"'), 'source = "twitter"', "measure source must be one of"),
        (("window_months = 6", "window_months = 0"), "window_months = 0", "window_months must be"),
        (('id = "P3"', 'id = "P1"'), 'id = "P1"', "used twice"),
        (('title = "Mental health"', 'titel = "Mental health"'), 'titel = "Mental health"', "unknown priority key"),
    ],
)
def test_invalid_file_names_the_line(tmp_path, edit, line_text, message):
    text = BUNDLED.read_text()
    assert edit[0] in text
    text = text.replace(edit[0], edit[1], 1) if edit[0] != 'id = "P3"' else text.replace(edit[0], edit[1])
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(PrioritiesError) as err:
        priorities.load(path)
    lines = text.splitlines()
    expected_line = (
        max(i for i, line in enumerate(lines, 1) if line.strip() == line_text)
        if edit[0] == 'id = "P3"'
        else lines.index(line_text) + 1
    )
    assert f"{path}, line {expected_line}: " in str(err.value) and message in str(err.value)


def test_toml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('partnership = "x"\n[[priority]\nid = "P1"\n')
    with pytest.raises(PrioritiesError, match=r"line 2"):
        priorities.load(path)


def test_harm_weights_validated(tmp_path):
    base = BUNDLED.read_text()
    path = tmp_path / "p.toml"
    path.write_text(
        base.replace(
            "[[priority]]",
            '[harm]\nsource = "test weights"\nweights = { "Robbery" = 10, "Burglary" = 5 }\n\n[[priority]]',
            1,
        )
    )
    p = priorities.load(path)
    assert p.harm_weights == {"Robbery": 10.0, "Burglary": 5.0} and p.harm_source == "test weights"
    path.write_text(
        base.replace("[[priority]]", '[harm]\nsource = "x"\nweights = { "Robbery" = -1 }\n\n[[priority]]', 1)
    )
    with pytest.raises(PrioritiesError, match="must be a number >= 0"):
        priorities.load(path)
