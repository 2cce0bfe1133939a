"""Every page through Streamlit's AppTest, on the bundled data: figures follow the store."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO, write_config

APP = str(REPO / "dashboard" / "app.py")


@pytest.fixture
def app(tmp_path, monkeypatch, bundled_store):
    monkeypatch.setenv("CSP_HOTSPOTS_CONFIG", str(write_config(tmp_path)))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def _param(at, name: str) -> list[str]:
    value = at.query_params[name]
    return [value] if isinstance(value, str) else list(value)


def _metric(at, label: str) -> int:
    return int(next(m for m in at.metric if m.label == label).value.replace(",", ""))


def test_explorer_is_the_default_page_and_follows_the_store(app, bundled_store):
    assert _metric(app, "Incidents") == 11_444
    table = app.dataframe[0].value
    assert len(table) == 20 and table["Incidents"].sum() == 11_444
    assert any("Open Government Licence" in c.value for c in app.caption)


def test_explorer_filters_change_figures_and_url(app, bundled_store):
    app.sidebar.multiselect(key="explorer_cats").set_value(["Vehicle crime"]).run()
    expected = bundled_store.ward_summary(categories=["Vehicle crime"])
    assert _metric(app, "Incidents") == int(expected["incidents"].sum())
    assert app.dataframe[0].value["Incidents"].tolist() == expected["incidents"].tolist()
    assert _param(app, "cat") == ["Vehicle crime"]
    app.sidebar.select_slider(key="explorer_months").set_value(("2021-07", "2021-12")).run()
    expected = bundled_store.ward_summary(start="2021-07", end="2021-12", categories=["Vehicle crime"])
    assert _metric(app, "Incidents") == int(expected["incidents"].sum())
    assert (_param(app, "from"), _param(app, "to")) == (["2021-07"], ["2021-12"])
    shown = app.dataframe[0].value.set_index("Ward code")
    before = bundled_store.ward_summary(start="2021-01", end="2021-06", categories=["Vehicle crime"])
    assert shown["Previous period"].tolist() == before["incidents"].tolist()


def test_explorer_ward_filter_and_detail(app, bundled_store):
    app.sidebar.multiselect(key="explorer_wards").set_value(["E05004799"]).run()
    assert len(app.dataframe[0].value) == 1
    assert _metric(app, "Incidents") == 1749
    app.selectbox(key="explorer_detail").set_value("E05004799").run()
    detail = app.dataframe[1].value
    assert int(detail.to_numpy().sum()) == 1749


def test_url_reopens_the_same_view(tmp_path, monkeypatch, bundled_store):
    monkeypatch.setenv("CSP_HOTSPOTS_CONFIG", str(write_config(tmp_path)))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["from"] = "2021-03"
    at.query_params["to"] = "2021-04"
    at.query_params["cat"] = ["Burglary", "Robbery"]
    at.run()
    expected = bundled_store.ward_summary(start="2021-03", end="2021-04", categories=["Burglary", "Robbery"])
    assert _metric(at, "Incidents") == int(expected["incidents"].sum())
    assert at.sidebar.multiselect(key="explorer_cats").value == ["Burglary", "Robbery"]


def test_wards_page_rates(app, bundled_store):
    app.switch_page("views/wards.py").run()
    assert not app.exception
    table = app.dataframe[0].value.set_index("Ward code")
    pop = bundled_store.population("ward").set_index("code")["population"]
    assert pop.sum() == 149_317  # ONS mid-2020, all 87 St Albans LSOAs
    ward = "E05004799"
    assert table.at[ward, "Per 1,000 residents"] == round(1000 * table.at[ward, "Incidents"] / pop[ward], 1)
    app.multiselect(key="categories").set_value(["Burglary"]).run()
    assert int(app.metric[0].value.replace(",", "")) == int(
        bundled_store.ward_summary(categories=["Burglary"])["incidents"].sum())


def test_data_page_shows_loads_coverage_and_licences(app, bundled_store):
    app.switch_page("views/data.py").run()
    assert not app.exception
    coverage = app.dataframe[0].value
    assert list(coverage.columns)[0] == "2021-01" and list(coverage.columns)[-1] == "2022-01"
    assert int(coverage.to_numpy().sum()) == 11_444
    loads = app.dataframe[1].value
    assert int(loads["read"].iloc[0]) == 11_444
    text = " ".join(m.value for m in app.markdown)
    assert "Open Government Licence" in text and "CC-BY 4.0" in text
