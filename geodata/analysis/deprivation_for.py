"""Crime against deprivation for a selection: incidents and the rate per 1,000 residents by LSOA
and by IMD 2019 decile (:mod:`geodata.methods.deprivation`), over the study area.

Rules: the LSOAs are the area's (the config's LSOA layer, 2011 codes as the IMD's); an LSOA of
the area with no incident counts 0 (the months are loaded: the coverage of the period is the
caller's to state); residents are the ONS mid-year estimates; a decile the area has no LSOA in
is not shown. With a ward filter the comparison is withheld (:data:`WARD_FILTER` says why, on the page): the
LSOAs do not nest in the wards, so the wards' incidents over their LSOAs' residents would count residents of the
LSOAs' other parts, whose incidents the filter left out (a reviewer saw St Peters' 3 incidents over the district's
residents of a decile: "0" per 1,000). Each LSOA's decile is still given; its rate is not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geodata.analysis.selection import Selection
from geodata.methods import deprivation


@dataclass(frozen=True)
class Deprivation:
    """Per LSOA and per decile; ``source``: where the IMD figures come from."""

    lsoas: pd.DataFrame
    deciles: pd.DataFrame
    source: str = "English Indices of Deprivation 2019 (MHCLG), IMD decile 1 = the most deprived 10% in England"
    #: Why no rate is given (the deciles table empty, each LSOA's rate NaN), or None.
    withheld: str | None = None


#: Why a ward-filtered view has no crime-and-deprivation comparison.
WARD_FILTER = (
    "Crime against deprivation is compared for the whole district only (no ward chosen): LSOAs do not fit inside "
    "wards, so a ward's incidents over its LSOAs' residents would count residents whose incidents the ward filter "
    "leaves out."
)


def deprivation_for(store, selection: Selection) -> Deprivation | None:
    """The selection's incidents against deprivation, or None when the config names no IMD file."""
    path = store.config.deprivation_file
    if path is None:
        return None
    selection.check_wards(store)
    imd = deprivation.read_imd(path)
    counts = store.counts(by=("lsoa_code",), **selection.filters()).set_index("lsoa_code")["incidents"]
    population = store.population("lsoa").set_index("code")["population"]
    lsoas = deprivation.by_lsoa(imd, counts, population)
    if selection.wards:
        return Deprivation(lsoas.assign(rate_per_1000=np.nan), lsoas.iloc[:0, :0], withheld=WARD_FILTER)
    return Deprivation(lsoas, deprivation.by_decile(imd, counts, population))
