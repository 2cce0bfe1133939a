"""Downloads: formula-safe CSV and multi-layer GeoPackages that GIS software reads back."""

from __future__ import annotations

import csv
import io

import geopandas
import numpy as np
import pandas as pd
import pytest
import shapely

from geodata.export import csv_safe, geopackage_bytes, to_csv


def test_csv_safe_neutralises_formulas_and_keeps_numbers():
    frame = pd.DataFrame(
        {
            "location": ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "High Street", None],
            "incidents": [1, 2, 3, 4, 5, 6],
        }
    )
    out = csv_safe(frame)
    assert out["location"].tolist()[:5] == ["'=cmd|' /C calc'!A0", "'+1", "'-2", "'@SUM(A1)", "High Street"]
    assert pd.isna(out["location"].iloc[5])
    assert out["incidents"].tolist() == [1, 2, 3, 4, 5, 6]
    assert frame["location"].iloc[0].startswith("=")  # the input is not changed


def test_csv_text_labels_are_neutralised_too():
    """Issue 18: every CSV leaving the app goes through one function, which also neutralises column
    names and index labels (a pivot's rows can be categories from the data)."""
    frame = pd.DataFrame({"=A1": ["ok"], "n": [-3]}, index=["@x"])
    out = csv_safe(frame)
    assert list(out.columns) == ["'=A1", "n"] and list(out.index) == ["'@x"]
    assert to_csv(frame) == "'=A1,n\nok,-3\n"
    rows = list(csv.reader(io.StringIO(to_csv(pd.DataFrame({"w": ['=HYPERLINK("http://e.example")', "Batchwood"]})))))
    assert rows == [["w"], ['\'=HYPERLINK("http://e.example")'], ["Batchwood"]]


def test_geopackage_round_trip(tmp_path, bundled_store):
    wards = bundled_store.areas("ward").to_geodataframe()
    empty = wards.iloc[:0]
    data = geopackage_bytes({"wards": wards, "hotspots": empty})
    path = tmp_path / "x.gpkg"
    path.write_bytes(data)
    back = geopandas.read_file(path, layer="wards")
    assert back.crs.to_epsg() == 27700 and sorted(back["code"]) == sorted(wards["code"])
    # the same outlines, vertex for vertex (a layer of polygons and multipolygons is written as multipolygons)
    back = back.set_index("code").loc[wards["code"]]
    assert shapely.equals(back.geometry.to_numpy(), wards.geometry.to_numpy()).all()
    assert (
        np.abs(shapely.get_coordinates(back.geometry.to_numpy()) - shapely.get_coordinates(wards.geometry)).max() < 1e-6
    )
    import pyogrio

    assert [name for name, _ in pyogrio.list_layers(path)] == ["wards"]  # empty layers are left out
    with pytest.raises(ValueError, match="nothing to export"):
        geopackage_bytes({"hotspots": empty})


def test_csv_safe_gives_text_and_mixed_columns_the_same_guard():
    """Issue 23: text columns are tested in one vectorised step (the per-cell map took most of a table's
    rerun); a column of mixed values (object dtype) keeps the per-cell test: its numbers are left as they are."""
    cells = ["=1+1", "\tx", "\rx", "ok", None]
    text = csv_safe(pd.DataFrame({"c": pd.Series(cells, dtype="str")}))["c"]
    mixed = csv_safe(pd.DataFrame({"c": pd.Series([*cells, -5], dtype=object)}))["c"]
    assert text.tolist()[:4] == mixed.tolist()[:4] == ["'=1+1", "'\tx", "'\rx", "ok"]
    assert pd.isna(text.iloc[4]) and pd.isna(mixed.iloc[4]) and mixed.iloc[5] == -5
    assert str(text.dtype) == "str"  # the column stays text
