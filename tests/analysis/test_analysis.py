"""The analysis layer (geodata.analysis) and its vocabularies (months, sources, classes), without
Streamlit: small constructed cases with exact answers, and the issue-14 cases on the bundled data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from geodata import priorities, sources
from geodata.analysis import ANALYST, PUBLIC, Selection, rules, status
from geodata.analysis.hotspots_for import hotspots_for
from geodata.analysis.patrol_zones import patrol_zones
from geodata.analysis.trends import category_change, monthly
from geodata.analysis.ward_table import ward_table
from geodata.assign import best_fit
from geodata.classes import NO_DATA, SEQUENTIAL, classify
from geodata.methods import disclosure
from geodata.pipeline.build import open_store
from geodata.pipeline.ingest import ingest_police
from geodata.store import AREA_SOURCES
from loaders import months
from tests.conftest import config_with_store

ST_PETERS = "E05004799"


# ------------------------------------------------------------------------------ months
def test_months_parse_names_the_field_and_value():
    with pytest.raises(ValueError, match=r"--from must be a month written YYYY-MM .*got '2021-13'"):
        months.check("2021-13", "--from")
    assert months.parse(" 2021-02 ").isoformat() == "2021-02-01"


def test_months_shift_ranges_previous_year_earlier_and_financial_years():
    assert months.shift("2021-01", -1) == "2020-12" and months.shift("2021-12", 13) == "2023-01"
    assert months.months("2021-11", "2022-02") == ["2021-11", "2021-12", "2022-01", "2022-02"]
    assert months.months("2022-02", "2021-11") == [] and months.length("2021-02", "2021-03") == 2
    assert months.previous("2021-02", "2021-03") == ("2020-12", "2021-01")
    assert months.year_earlier("2021-02", "2021-03") == ("2020-02", "2020-03")
    assert [months.financial_year(m) for m in ("2021-03", "2021-04", "1999-12")] == ["2020-21", "2021-22", "1999-00"]
    assert (
        months.financial_year_months("2021-22")[0] == "2021-04" and len(months.financial_year_months("2021-22")) == 12
    )
    assert months.Period.ending("2022-01", 6).text == "2021-08 to 2022-01"
    with pytest.raises(ValueError, match="ends .2021-01. before it starts .2021-03."):
        months.Period("2021-03", "2021-01")


# ------------------------------------------------------------------------------ sources
def test_source_registry_is_what_the_store_disclosure_and_priorities_read():
    assert list(sources.SOURCES) == [
        "police.uk",
        "police.uk-stops",
        "fixmystreet",
        "council-flytipping",
        "council-incidents",
        "defra",
    ]
    assert disclosure.SENSITIVE_SOURCES == {"council-flytipping", "council-incidents"}
    assert AREA_SOURCES == ("fixmystreet",)
    assert set(priorities.SOURCES) == set(sources.SOURCES)
    assert priorities.CATEGORIES["police.uk"] == sources.POLICE.categories
    with pytest.raises(ValueError, match="unknown source 'police'; sources are: police.uk"):
        sources.get("police")


# ------------------------------------------------------------------------------ classes
def test_count_classes_have_whole_number_breaks_and_labels_that_do_not_overlap():
    c = classify([0, 1, 2, 3, 10, 20])
    assert c.counts and c.breaks == [0, 1, 2, 3, 10, 20]
    assert c.labels == ["0", "1", "2", "3 to 9", "10 to 20"]
    assert c.classes.tolist() == [0, 1, 2, 3, 4, 4]
    assert c.colours == SEQUENTIAL


def test_missing_values_are_in_no_class_and_few_values_use_the_palette_ends():
    c = classify([np.nan, 5, 5, 5, 9])
    assert c.classes.tolist() == [-1, 0, 0, 0, 1] and c.labels == ["5 to 6", "7 to 9"]
    assert c.colour_of() == [NO_DATA, SEQUENTIAL[0], SEQUENTIAL[0], SEQUENTIAL[0], SEQUENTIAL[-1]]
    rates = classify([0.25, 1.5, 2.75])
    assert not rates.counts and rates.labels[0] == "0.2 to 0.8"  # quantiles of rates keep their decimals
    assert classify([np.nan]).labels == []


# ------------------------------------------------------------------------------ rules, constructed
class _Parts:
    """A store that knows only which months it has loaded (all that the coverage rule reads)."""

    def __init__(self, loaded: dict[str, list[str]]):
        self.frame = pd.DataFrame(
            [(s, pd.Timestamp(f"{m}-01")) for s, ms in loaded.items() for m in ms], columns=["source", "month"]
        )

    def loaded_months(self, source=None):
        return sorted({m.strftime("%Y-%m") for s, m in self.frame.itertuples(index=False) if s == source})


def test_coverage_rule_compares_only_wholly_loaded_periods_of_equal_length():
    store = _Parts({"police.uk": months.months("2021-01", "2021-06"), "fixmystreet": ["2020-12"]})
    ok = rules.comparison(store, "police.uk", months.Period("2021-03", "2021-04"))
    assert ok.possible and ok.base == months.Period("2021-01", "2021-02") and ok.name == "the previous 2 months"
    gap = rules.comparison(store, "police.uk", months.Period("2021-02", "2021-03"))
    assert gap.missing == ("2020-12",) and not gap.possible
    assert "police.uk is not loaded for 2020-12" in gap.note
    year = rules.comparison(store, "police.uk", months.Period("2021-05", "2021-06"), "year-earlier")
    assert year.base == months.Period("2020-05", "2020-06") and year.missing == ("2020-05", "2020-06")
    with pytest.raises(ValueError, match="against must be one of previous, year-earlier"):
        rules.comparison(store, "police.uk", months.Period("2021-05", "2021-06"), "last-year")


def test_rate_rule_two_significant_figures_and_no_rate_without_population():
    """Rates showed one decimal place (445.4 per 1,000) on ward populations off by up to a quarter;
    now two significant figures, whatever the size of the rate."""
    wards = list("abcdefgh")
    counts = pd.Series([5, 0, 3, 7, 1, 2, 4_138, 3], index=wards)
    pop = pd.Series([1000, 2000, 0, 3000, 999, np.nan, 9_290, 6_543.2], index=wards)
    rate = rules.rate_per_1000(counts, pop)
    assert rate[["a", "b", "d", "e"]].tolist() == [5.0, 0.0, 2.3, 1.0]
    assert rate["g"] == 450 and rate["h"] == 0.46  # 445.42..., 0.45849...
    assert np.isnan(rate["c"]) and np.isnan(rate["f"])
    assert [rules.rate_text(v) for v in (450.0, 2.0, 0.46, 0.0, 1_234.0, np.nan)] == [
        "450",
        "2.0",
        "0.46",
        "0",
        "1,200",
        "",
    ]
    assert rules.significant([0.012345, -3.456, 99.96]).tolist() == [0.012, -3.5, 100.0]


def test_harm_rule_lists_unweighted_categories_and_weighs_them_nothing():
    h = rules.harm({"Robbery": 2.0, "Burglary": 1.5}, "test weights", ["Robbery", "Drugs", "Burglary", "Arson"])
    assert h.unweighted == ("Arson", "Drugs")
    assert h.weight_of(pd.Series(["Robbery", "Drugs", "Burglary"])).tolist() == [2.0, 0.0, 1.5]
    assert "No harm weight, so not in the harm figure: Arson, Drugs." in h.note
    assert rules.harm(None, None, ["Robbery"]) is None


def test_disclosure_applies_only_to_sensitive_sources_for_an_audience_without_exact_counts(empty_store, tmp_path):
    """rules.disclose: exact ward counts for analysts and for open sources; for the public, a sensitive
    source's ward counts are sums of its public ward-by-month cells (multiples of 5), their total the
    sum of those, and the rule is stated."""
    from geodata.bundled import ST_ALBANS
    from geodata.pipeline.ingest import ingest_council

    store, wards = empty_store, empty_store.areas("ward")
    rows = ["Case ID,Opened,Type,X,Y,Road,Mental health concern,Youth involved,Sensitive,Status,Data"]
    for w, n in enumerate([3, 12, 0, 1]):
        pt = wards.geometries[w].representative_point()
        rows += [
            f"C{w}-{i},{i % 27 + 1:02d}/11/2021 10:00,Noise,{pt.x:.0f},{pt.y:.0f},Road,N,N,N,Open,SYNTHETIC"
            for i in range(n)
        ]
    (tmp_path / "log.csv").write_text("\n".join(rows) + "\n")
    ingest_council(store, tmp_path / "log.csv", ST_ALBANS / "council/mapping-incidents.toml")
    sel = Selection.of("2021-11", "2021-11", source="council-incidents")
    exact, total, rule = rules.disclose(store, sel, ANALYST)
    assert exact.iloc[:4].tolist() == [3, 12, 0, 1] and total == "16" and rule is None
    shown, total, rule = rules.disclose(store, sel, PUBLIC)
    counts = store.counts(by=("ward_code", "month"), **sel.filters())
    public = rules.period_totals(rules.public_cells(store, counts, "council-incidents"))
    assert (shown == public.reindex(shown.index, fill_value=0)).all() and (shown % 5 == 0).all()
    assert total == f"{shown.sum():,}" and rule == disclosure.NOTE and len(shown) == len(exact)
    assert rules.disclose(store, Selection.of("2021-11", "2021-11"), PUBLIC)[2] is None  # police.uk: open data


def test_status_and_headline_write_p_by_the_one_rule():
    # the status sentence and the meeting headline had their own p formats ("0.90", "0.0004" -> "< 0.001")
    from geodata.analysis import meeting

    base, now = status.Figure("2024-01", "2024-06", 100, ()), status.Figure("2025-01", "2025-06", 101, ())
    name = "the same months a year earlier"
    change = status.Change(name, "year-earlier", now, base, 0.9, 1.0, "no significant change")
    assert change.phrase().endswith("no significant change, p = 0.900")
    rise = status.Change("x", "previous", now, base, 0.00004, 50.0, "significant rise")
    assert rise.phrase().endswith(", significant rise, p < 0.001")
    years = ("2020-21", "2021-22", "2022-23", "2023-24")
    annual = meeting.Annual("Fly-tipping", "defra", years, (1000.0, 1010.0, 1000.0, 1100.0), "annual", "2023-24")
    # year to year the series moves 10 then 10 then 100: dispersion (100 + 100 + 10,000) / 6 / 1027.5 = 1.66
    assert annual.change is not None and annual.change.text == "+10% on 2022-23, not significant"
    assert "dispersion 1.7" in annual.change.dispersion


def test_counted_period_names_months_not_loaded_and_refuses_a_period_with_none(bundled_store):
    # the CLI summary printed "Total: 0" for 2024-05..06, two months never loaded
    with pytest.raises(ValueError, match=r"no data: police.uk is not loaded for 2 months: 2024-05, 2024-06,"):
        rules.counted_period(bundled_store, "police.uk", "2024-05", "2024-06")
    period, note = rules.counted_period(bundled_store, "police.uk", "2021-06")
    assert (period.start, period.end) == ("2021-06", "2025-06")
    assert (
        note == "police.uk is not loaded for 31 months: 2022-02 to 2023-12, 2024-05 to 2024-12: "
        "counted over the other 18 months"
    )
    assert rules.counted_period(bundled_store, "police.uk", "2025-01", "2025-06") == (
        months.Period("2025-01", "2025-06"),
        None,
    )
    assert rules.counted_period(bundled_store, "police.uk")[0] == months.Period("2018-10", "2025-06")


def test_selection_checks_its_fields():
    s = Selection.of("2021-08", "2022-01", ["Robbery", "Burglary"], [ST_PETERS])
    assert s.categories == ("Burglary", "Robbery") and s.period.length == 6 and hash(s)
    with pytest.raises(ValueError, match="categories: 'Robery' is not a police.uk category"):
        Selection.of("2021-08", "2022-01", ["Robery"])
    with pytest.raises(ValueError, match="end must be a month written YYYY-MM"):
        Selection.of("2021-08", "2022-1")
    with pytest.raises(ValueError, match="source: defra holds district statistics"):
        Selection.of("2021-08", "2022-01", source="defra")


# ------------------------------------------------------------------------------ bundled data: issue 14 cases
def test_explorer_case_a_month_not_loaded_gives_no_rise_figure_and_names_it(bundled_store):
    """/explorer?from=2021-02&to=2021-03 compares with 2020-12..2021-01; 2020-12 is not loaded.
    Before: 'Wards with a significant rise: 20'. Now: no figure, 2020-12 named."""
    table = ward_table(bundled_store, Selection.of("2021-02", "2021-03"))
    assert table.rises is None and table.frame["change"].isna().all()
    assert "police.uk is not loaded for 2020-12" in table.notes[0]
    later = ward_table(bundled_store, Selection.of("2021-03", "2021-04"))
    assert later.rises is not None and later.comparison.base.text == "2021-01 to 2021-02"
    assert (
        later.frame["incidents"].sum()
        == bundled_store.counts(by=("month",), start="2021-03", end="2021-04", inside=True)["incidents"].sum()
    )


def test_ward_table_rows_follow_the_ward_filter_with_one_rate_rule(bundled_store_2013):
    table = ward_table(bundled_store_2013, Selection.of("2021-08", "2022-01", wards=[ST_PETERS])).frame
    assert table["ward_code"].tolist() == [ST_PETERS]
    pop = bundled_store_2013.population("ward").set_index("code")["population"][ST_PETERS]
    exact = 1000 * table["incidents"].iloc[0] / pop
    assert table["rate"].iloc[0] == round(exact, 1 - int(np.floor(np.log10(exact))))  # two significant figures


def test_ward_table_harm_lists_unweighted_categories(bundled_store_2013):
    t = ward_table(bundled_store_2013, Selection.of("2021-08", "2022-01"), harm_weights={"Robbery": 10.0})
    robbery = bundled_store_2013.counts(by=("category",), start="2021-08", end="2022-01", categories=["Robbery"])
    assert t.frame["harm"].sum() == pytest.approx(10 * robbery["incidents"].sum())
    assert any("No harm weight" in n and "Burglary" in n for n in t.notes)


def test_ward_filter_case_hot_spots_stay_inside_the_chosen_ward(bundled_store_2013):
    """/explorer?from=2021-08&to=2022-01&cat=Burglary&ward=E05004799: before, 5 of the 39 cells at 99%
    lay outside the ward (the grid covered the district). Now the grid is clipped to the ward."""
    found = hotspots_for(bundled_store_2013, Selection.of("2021-08", "2022-01", ["Burglary"], [ST_PETERS]))
    areas = bundled_store_2013.areas("ward")
    ward = shapely.buffer(areas.geometries[list(areas.codes).index(ST_PETERS)], 0.01)
    assert shapely.covers(ward, found.cells.geometry.to_numpy()).all()
    assert found.incidents == int(found.cells["count"].sum()) == 24
    assert "Study area: 1 chosen ward" in found.notes[-1]


def test_status_changes_only_on_a_significant_change(bundled_store_2013):
    """P3 read WATCH for +1% (p = 0.90); 3 months instead of 6 swapped the badges of P1 and P3."""
    plist = priorities.load(priorities.DEFAULT_PRIORITIES)
    # the case: 2022-01, against the months before (the bundle now runs to 2025-06)
    by_window = {
        w: {
            r.priority.id: r
            for r in status.evaluate(bundled_store_2013, plist, end="2022-01", window=w, compare="previous")
        }
        for w in (3, 6)
    }
    p3 = by_window[6]["P3"].measures[0]
    cats = list(plist.get("P3").measures[0].categories)

    def direct(start, end):
        return int(
            bundled_store_2013.counts(by=("source",), start=start, end=end, categories=cats, inside=True)[
                "incidents"
            ].sum()
        )

    assert (p3.current.count, p3.change.base.count) == (direct("2021-08", "2022-01"), direct("2021-02", "2021-07"))
    assert abs(p3.current.count / p3.change.base.count - 1) < 0.01  # the issue's +1% (1,114 against 1,108)
    assert p3.change.p > 0.8 and by_window[6]["P3"].status == "on track"
    assert {w: (r["P1"].status, r["P3"].status) for w, r in by_window.items()} == {
        3: ("on track", "on track"),
        6: ("on track", "on track"),
    }
    for results in by_window.values():
        for r in results.values():
            for m in r.measures:
                chosen = m.change
                assert chosen.against == "previous"
                assert (m.status == "off track") == (chosen.label == "significant rise")
    assert "only on a significant change" in status.RULE


def test_trends_series_has_gaps_not_zeros_and_the_comparison_follows_coverage(bundled_store):
    series = monthly(bundled_store, Selection.of("2020-11", "2021-02"))
    assert series.index.tolist() == ["2020-11", "2020-12", "2021-01", "2021-02"]
    assert series.loc[["2020-11", "2020-12"]].isna().all().all() and series.loc["2021-01"].sum() > 0
    refused = category_change(bundled_store, Selection.of("2021-02", "2021-03"))
    assert refused.table is None and refused.comparison.missing == ("2020-12",)
    done = category_change(bundled_store, Selection.of("2021-03", "2021-04"))
    assert done.table is not None and done.table["current"].sum() > 0


def test_patrol_zones_rank_by_harm_without_an_error_for_unweighted_categories(bundled_store):
    """The planner raised 'no harm weight for ...' where the Wards page counted 0: one rule now."""
    out = patrol_zones(
        bundled_store, Selection.of("2021-08", "2022-01"), harm_weights={"Burglary": 1.0}, harm_source="test"
    )
    assert not out.refused and out.harm.unweighted and "Violence and sexual offences" in out.harm.unweighted
    assert any("No harm weight" in n for n in out.notes)
    assert (out.zones["harm"].diff().dropna() <= 0).all()
    refused = patrol_zones(bundled_store, Selection.of("2020-12", "2021-02"))
    assert refused.refused and "police.uk is not loaded for 2020-12" in refused.notes[0]
    no_trend = patrol_zones(bundled_store, Selection.of("2021-01", "2021-02"))
    assert not no_trend.refused and no_trend.zones["p"].isna().all()


def test_ward_population_by_area_on_constructed_squares(tmp_path):
    """An LSOA of 1,000 residents, 30% of its area in ward W1 and 70% in W2, gives them 300 and 700 (it
    went whole to W2: 1,000 and 0); an LSOA wholly in W2 goes to it whole; one that the wards' outline
    (another generalisation) cuts a sliver off keeps all its residents."""
    from geodata.assign import area_shares, best_fit
    from geodata.boundaries import Areas

    box = shapely.box
    wards = Areas(
        np.array(["W1", "W2"], dtype=object),
        np.array(["one", "two"]),
        np.array([box(0, 0, 30, 100), box(30, 0, 200, 100)]),
    )
    lsoas = Areas(
        np.array(["A", "B", "C"], dtype=object),
        np.array(["a", "b", "c"]),
        np.array([box(0, 0, 100, 100), box(100, 0, 150, 100), box(150, 0, 210, 100)]),  # C: 10 m outside W2
    )
    part, code, share = area_shares(lsoas, wards)
    assert list(zip(part.tolist(), code.tolist())) == [(0, "W1"), (0, "W2"), (1, "W2"), (2, "W2")]
    assert share == pytest.approx([0.3, 0.7, 1.0, 1.0])
    codes, fit = best_fit(lsoas, wards)
    assert codes.tolist() == ["W2", "W2", "W2"] and fit == pytest.approx([0.7, 1.0, 50 / 60])


def test_ward_population_by_area_on_the_bundled_wards(bundled_store):
    """Each LSOA's residents were given whole to one 2022 ward (some LSOAs only 52% inside it): ward
    populations -24% to +22% off an area-weighted estimate. Now they are the area-weighted estimate,
    checked against geopandas' overlay of the LSOAs and wards, and the district's total is kept."""
    import geopandas

    lsoas = bundled_store.areas("lsoa").to_geodataframe()
    wards = bundled_store.areas("ward").to_geodataframe()
    pieces = geopandas.overlay(lsoas, wards, how="intersection", keep_geom_type=True)
    pieces["area"] = pieces.area
    pieces["share"] = pieces["area"] / pieces.groupby("code_1")["area"].transform("sum")
    residents = bundled_store.population("lsoa").set_index("code")["population"]
    expected = (pieces["share"] * pieces["code_1"].map(residents)).groupby(pieces["code_2"]).sum()
    got = bundled_store.population("ward").set_index("code")["population"]
    assert got.to_dict() == pytest.approx(expected.to_dict(), rel=1e-9)
    assert got.sum() == pytest.approx(residents.sum()) and residents.sum() == 149_317
    codes, _ = best_fit(bundled_store.areas("lsoa"), bundled_store.areas("ward"))
    whole = residents.groupby(pd.Series(codes, index=bundled_store.areas("lsoa").codes).reindex(residents.index)).sum()
    off = whole / got.reindex(whole.index) - 1
    assert off.min() < -0.15 and off.max() > 0.15  # what giving LSOAs whole did


def test_area_counts_go_to_the_best_fit_ward(bundled_store):
    """Area-count sources (FixMyStreet reports per LSOA) stay whole counts: each LSOA's to its best-fit ward."""
    codes, _ = best_fit(bundled_store.areas("lsoa"), bundled_store.areas("ward"))
    by_lsoa = bundled_store.counts(by=("lsoa_code",), source="fixmystreet").set_index("lsoa_code")["incidents"]
    lookup = pd.Series(codes, index=bundled_store.areas("lsoa").codes)
    expected = by_lsoa.groupby(lookup.reindex(by_lsoa.index)).sum()
    got = bundled_store.counts(by=("ward_code",), source="fixmystreet").set_index("ward_code")["incidents"]
    assert got.to_dict() == expected.to_dict()


def test_edge_distance_on_a_constructed_square():
    """A point's distance to the outline of its own area: 10 m and 50 m inside a 100 m square, 5 m from
    the edge it shares with its neighbour; no code, no distance."""
    from geodata.assign import edge_distance
    from geodata.boundaries import Areas

    areas = Areas(
        np.array(["A", "B"], dtype=object),
        np.array(["a", "b"]),
        np.array([shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)]),
    )
    got = edge_distance(
        areas, ["A", "A", "B", None, "Z"], np.array([10.0, 50, 105, 50, 50]), np.array([50.0, 50, 50, 50, 50])
    )
    assert got[:3].tolist() == [10.0, 50.0, 5.0] and np.isnan(got[3:]).all()


def test_ward_table_gives_the_incidents_near_each_ward_edge(bundled_store):
    """Each ward's row (and so the CSV) gives its incidents within 20 m of its outline: equal to
    geopandas' distance from each incident to its ward's boundary, counted here."""
    import geopandas

    sel = Selection.of("2025-01", "2025-06")
    table = ward_table(bundled_store, sel).frame.set_index("ward_code")
    rows = bundled_store.incidents(start="2025-01", end="2025-06", inside=True).dropna(subset=["x"])
    wards = bundled_store.areas("ward").to_geodataframe().set_index("code")
    edges = geopandas.GeoSeries(wards.boundary.loc[rows["ward_code"]].to_numpy(), crs=27700)
    near = rows[edges.distance(geopandas.GeoSeries(rows.geometry.to_numpy(), crs=27700)).to_numpy() <= 20]
    expected = near.groupby("ward_code").size().reindex(table.index, fill_value=0)
    assert table["within_20m_of_edge"].to_dict() == expected.to_dict()
    assert 0 < expected.sum() < 0.15 * table["incidents"].sum()
    assert any(n.startswith("Within 20 m of edge") for n in ward_table(bundled_store, sel).notes)


def test_force_wide_store_maps_only_the_district(tmp_path, county_police):
    """A force-wide file loaded: 376 outside incidents landed in 32 edge cells, the density
    bandwidth came from the county (4,589 m instead of 1,382 m), and 1,795 of 2,000 markers lay
    outside the district. Now only the incidents inside the district are fetched and used."""
    county = open_store(config_with_store(tmp_path, bundled=False))
    ingest_police(county, [county_police])
    sel = Selection.of("2021-01", "2022-01")
    found = hotspots_for(county, sel)
    inside = county.counts(by=("ward_code",), start="2021-01", end="2022-01")
    inside = int(inside.loc[inside["ward_code"].notna(), "incidents"].sum())
    located_inside = len(county.incidents(start="2021-01", end="2022-01", inside=True).dropna(subset=["x", "y"]))
    assert found.incidents == located_inside <= inside
    assert int(found.cells["count"].sum()) == found.incidents
    boundary = shapely.buffer(county.boundary(), 1.0)
    assert shapely.contains_xy(boundary, found.snaps["x"].to_numpy(), found.snaps["y"].to_numpy()).all()
    assert found.bandwidth_m < 2000


def _by_month(store, unit, start, end):
    counts = store.counts(by=(unit, "month"), start=start, end=end, inside=True)
    return counts.pivot_table(index=unit, columns="month", values="incidents", aggfunc="sum", fill_value=0)


def test_trends_wards_and_patrol_use_the_one_change_test(bundled_store):
    """Trends' crime types, the ward table's (explorer, Wards) "significant rise" and the patrol zones' trend
    all use the change test with a dispersion pooled over their units' monthly counts (2021-07..12 against
    2021-01..06, every month loaded), computed here from the store independently; the E-test alone (Poisson)
    would call more of them significant."""
    from geodata.methods.change import dispersion, e_test, rate_test

    sel = Selection.of("2021-07", "2021-12")
    # Trends: one group per crime type and period (types with no incident in a period carry nothing)
    wide = _by_month(bundled_store, "category", "2021-01", "2021-12")
    disp = dispersion([*wide.iloc[:, :6].to_numpy(), *wide.iloc[:, 6:].to_numpy()])
    trend = category_change(bundled_store, sel)
    assert disp.factor > 1 and trend.table.attrs["dispersion"].startswith(f"dispersion {disp.estimate:.1f} (")
    top = trend.table["current"].idxmax()
    a, b = int(trend.table.loc[top, "current"]), int(trend.table.loc[top, "previous"])
    assert trend.table.loc[top, "p"] == pytest.approx(rate_test(a, b, 6, 6, disp))
    poisson = sum(e_test(int(x), int(y), 6, 6) < 0.05 for x, y in zip(trend.table["current"], trend.table["previous"]))
    assert (trend.table["p"] < 0.05).sum() < poisson and "quasi-Poisson" in trend.note
    # the ward table: the same rule over the wards
    wards = _by_month(bundled_store, "ward_code", "2021-01", "2021-12")
    wdisp = dispersion([*wards.iloc[:, :6].to_numpy(), *wards.iloc[:, 6:].to_numpy()])
    table = ward_table(bundled_store, sel)
    frame = table.frame.set_index("ward_code")
    code = frame["incidents"].idxmax()
    expected = rate_test(int(frame.loc[code, "incidents"]), int(frame.loc[code, "previous"]), 6, 6, wdisp)
    stated = f"dispersion {wdisp.estimate:.1f} (12 months compared, 20 pooled, {wdisp.df} df)"
    assert frame.loc[code, "p_adj"] >= expected - 1e-12 and any(stated in n for n in table.notes)
    assert table.rises == int((frame["change"] == "significant rise").sum())
    # the patrol zones' trend: quasi-Poisson over the zones' months, stated in the note
    zones = patrol_zones(bundled_store, sel)
    assert "trend test: quasi-Poisson, dispersion" in zones.zones.attrs["note"]
    assert zones.zones["p"].notna().all()


def test_police_coverage_by_month_the_district_beside_the_rows_loaded(bundled_store):
    from geodata.analysis.coverage import DISTRICT_ROWS as DISTRICT
    from geodata.analysis.coverage import LOADED_ROWS as LOADED
    from geodata.analysis.coverage import coverage_by_month
    from tests.conftest import BUNDLED_ROWS, rows_in_wards

    cov = coverage_by_month(bundled_store)
    table = cov.table
    assert table["month"].iloc[0] == "2025-06" and table["month"].iloc[-1] == "2018-10"  # latest first
    assert len(table) == 81 and len(cov.missing) == 81 - 29
    assert table[LOADED].sum() == BUNDLED_ROWS and table[DISTRICT].sum() == rows_in_wards(bundled_store)
    assert table.loc[table["month"].isin(cov.missing), [DISTRICT, LOADED]].isna().all().all()  # blanks, not 0
    june = table.set_index("month").loc["2025-06"]
    assert june[DISTRICT] == len(bundled_store.incidents(start="2025-06", end="2025-06", inside=True))
    assert cov.note == (
        "police.uk, 2018-10 to 2025-06: police.uk is not loaded for 52 months: 2019-03 to 2019-08, "
        "2019-10 to 2020-12, 2022-02 to 2023-12, 2024-05 to 2024-12."
    )


def test_a_change_test_with_no_incident_says_so_plainly():
    """A new user's find: a ward with no robbery read "... 6 loaded month(s) with incidents in the 12 to
    2025-06 and 6 compared (... 0 counts with any incident in 0 groups): compare periods of two or more
    months". With no incident anywhere the reason is that, said once."""
    from geodata.analysis import rules

    loaded = {f"2025-{m:02d}" for m in range(1, 7)}
    empty = pd.DataFrame({"month": pd.to_datetime([]), "incidents": [], "ward_code": []})
    compared = (["2025-04", "2025-05", "2025-06"], ["2025-01", "2025-02", "2025-03"])
    with pytest.raises(ValueError, match=r"^no incident in the 6 months compared or the 12 months to 2025-06$"):
        rules.dispersion(empty, compared, loaded, "2025-06", "ward_code")


def test_a_period_that_cannot_be_compared_offers_the_part_that_can(bundled_store):
    """A new user's find: Trends said "No change figure" for 2025-01..06 against a year earlier, while the
    Meeting page compared 2025-01..04 with 2024-01..04. The note now offers that part (every month of it
    and of its base loaded: 2024-05 and 2024-06 are not)."""
    from geodata.analysis import rules

    cmp = rules.comparison(bundled_store, "police.uk", months.Period("2025-01", "2025-06"), "year-earlier")
    assert not cmp.possible
    assert cmp.note.endswith(
        "2025-01 to 2025-04 can be compared with the same months a year earlier (2024-01 to 2024-04), every month "
        "loaded: choose that period."
    )
    part = rules.comparison(bundled_store, "police.uk", months.Period("2025-01", "2025-04"), "year-earlier")
    assert part.possible and part.within is None
    # against the months before: 2024-07..12 are not loaded, so the part is 2025-04..06 (its base 2025-01..03)
    prev = rules.comparison(bundled_store, "police.uk", months.Period("2025-01", "2025-06"), "previous")
    assert prev.within is not None and prev.within[0].text == "2025-04 to 2025-06"
