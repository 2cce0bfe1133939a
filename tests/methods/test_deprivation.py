"""Crime against deprivation: IoD2019 read with checks, summed by decile on known cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geodata.bundled import ST_ALBANS
from geodata.methods import deprivation

IMD = ST_ALBANS / "imd2019" / "st_albans_imd2019_file1_rank_decile.csv"
HEADER = ",".join([deprivation.CODE, deprivation.NAME, "LAD code", "LAD name", deprivation.RANK, deprivation.DECILE])


def test_bundled_imd_has_the_87_lsoas_and_the_deciles_of_its_source_note():
    imd = deprivation.read_imd(IMD)
    assert len(imd) == 87 and imd["lsoa_code"].is_unique
    # SOURCE.md: "St Albans IMD deciles: 3->1 LSOA, 4->2, 5->7, 6->5, 7->7, 8->8, 9->19, 10->38"
    assert imd["imd_decile"].value_counts().sort_index().to_dict() == {
        3: 1,
        4: 2,
        5: 7,
        6: 5,
        7: 7,
        8: 8,
        9: 19,
        10: 38,
    }
    assert imd["imd_rank"].min() == 9268 and imd["imd_rank"].max() == 32822


@pytest.mark.parametrize(
    "row, message",
    [
        ("E01,A,x,y,0,1", "line 2, Index of Multiple Deprivation \\(IMD\\) Rank: 0 is outside"),
        ("E01,A,x,y,5,11", "line 2, Index of Multiple Deprivation \\(IMD\\) Decile: 11 is outside 1..10"),
        ("E01,A,x,y,five,1", "line 2, .*Rank: 'five' is not a whole number"),
    ],
)
def test_a_bad_row_names_the_file_line_and_field(tmp_path, row, message):
    path = tmp_path / "imd.csv"
    path.write_text(f"{HEADER}\n{row}\n")
    with pytest.raises(deprivation.DeprivationError, match=message):
        deprivation.read_imd(path)


def test_a_repeated_lsoa_is_refused(tmp_path):
    path = tmp_path / "imd.csv"
    path.write_text(f"{HEADER}\nE01,A,x,y,5,1\nE01,A,x,y,6,1\n")
    with pytest.raises(deprivation.DeprivationError, match="line 3, LSOA code \\(2011\\): E01 appears more than once"):
        deprivation.read_imd(path)


def test_by_decile_sums_incidents_and_residents_and_leaves_no_rate_without_residents():
    imd = pd.DataFrame(
        {
            "lsoa_code": ["a", "b", "c", "d"],
            "lsoa_name": list("ABCD"),
            "imd_rank": [10, 20, 30000, 31000],
            "imd_decile": [1, 1, 10, 10],
        }
    )
    incidents = pd.Series({"a": 30, "b": 10, "c": 5})  # d has none: 0, not missing
    population = pd.Series({"a": 1000, "b": 1000, "c": 2000})  # d's population unknown
    table = deprivation.by_decile(imd, incidents, population)
    assert table["imd_decile"].tolist() == [1, 10]  # no row for deciles the area does not have
    assert table["lsoas"].tolist() == [2, 2] and table["incidents"].tolist() == [40, 5]
    assert table["rate_per_1000"].tolist() == [20.0, 2.5]
    lsoas = deprivation.by_lsoa(imd, incidents, population)
    assert lsoas["incidents"].tolist() == [30, 10, 5, 0]
    assert np.isnan(lsoas["rate_per_1000"].iloc[3])


def test_bundled_crime_is_higher_in_the_more_deprived_deciles(bundled_store):
    imd = deprivation.read_imd(IMD)
    counts = bundled_store.counts(by=("lsoa_code",)).set_index("lsoa_code")["incidents"]
    pop = bundled_store.population("lsoa").set_index("code")["population"]
    table = deprivation.by_decile(imd, counts, pop)
    assert table["lsoas"].sum() == 87
    assert table["incidents"].sum() == counts[counts.index.isin(imd["lsoa_code"])].sum()
    low, high = table.iloc[:3]["rate_per_1000"].mean(), table.iloc[-2:]["rate_per_1000"].mean()
    assert low > high  # deciles 3-5 against 9-10, the pattern the IMD's crime domain leads one to expect
