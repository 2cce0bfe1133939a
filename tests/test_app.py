"""The Streamlit entry page through Streamlit's AppTest, on the bundled data."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO, write_config

APP = str(REPO / "dashboard" / "app.py")


@pytest.fixture
def app(tmp_path, monkeypatch, bundled_store):
    monkeypatch.setenv("CSP_HOTSPOTS_CONFIG", str(write_config(tmp_path)))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def _total(at) -> int:
    return int(at.metric[0].value.replace(",", ""))


def test_page_shows_every_ward_and_the_store_total(app, bundled_store):
    assert _total(app) == 11_444
    table = app.dataframe[0].value
    assert len(table) == 20 and table["Incidents"].sum() == 11_444
    assert "data to 2022-01" in app.caption[0].value
    assert any("Open Government Licence" in c.value for c in app.caption)


def test_category_and_month_filters_change_the_figures_as_the_store_says(app, bundled_store):
    app.multiselect(key="categories").set_value(["Burglary"]).run()
    expected = bundled_store.ward_summary(categories=["Burglary"])
    assert _total(app) == int(expected["incidents"].sum())
    assert app.dataframe[0].value["Incidents"].tolist() == expected["incidents"].tolist()
    app.select_slider(key="months").set_value(("2021-06", "2021-08")).run()
    expected = bundled_store.ward_summary(start="2021-06", end="2021-08", categories=["Burglary"])
    assert _total(app) == int(expected["incidents"].sum()) > 0


def test_rate_per_1000_uses_ward_population(app, bundled_store):
    table = app.dataframe[0].value.set_index("Ward code")
    pop = bundled_store.population("ward").set_index("code")["population"]
    assert pop.sum() == 149_317  # ONS mid-2020, all 87 St Albans LSOAs
    ward = "E05004799"
    assert table.at[ward, "Per 1,000 residents"] == round(1000 * table.at[ward, "Incidents"] / pop[ward], 1)
