"""Crime against deprivation for a selection: incidents and the rate per 1,000 residents by LSOA
and by IMD 2019 decile (:mod:`geodata.methods.deprivation`), over the study area.

Rules: the LSOAs are the area's (the config's LSOA layer, 2011 codes as the IMD's); an LSOA of
the area with no incident counts 0 (the months are loaded: the coverage of the period is the
caller's to state); residents are the ONS mid-year estimates; a decile the area has no LSOA in
is not shown. With a ward filter only the LSOAs assigned to those wards' incidents are counted,
so the table is district-wide only without one.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from geodata.analysis.selection import Selection
from geodata.methods import deprivation


@dataclass(frozen=True)
class Deprivation:
    """Per LSOA and per decile; ``source``: where the IMD figures come from."""

    lsoas: pd.DataFrame
    deciles: pd.DataFrame
    source: str = "English Indices of Deprivation 2019 (MHCLG), IMD decile 1 = the most deprived 10% in England"


def deprivation_for(store, selection: Selection) -> Deprivation | None:
    """The selection's incidents against deprivation, or None when the config names no IMD file."""
    path = store.config.deprivation_file
    if path is None:
        return None
    selection.check_wards(store)
    imd = deprivation.read_imd(path)
    counts = store.counts(by=("lsoa_code",), **selection.filters()).set_index("lsoa_code")["incidents"]
    population = store.population("lsoa").set_index("code")["population"]
    return Deprivation(deprivation.by_lsoa(imd, counts, population), deprivation.by_decile(imd, counts, population))
