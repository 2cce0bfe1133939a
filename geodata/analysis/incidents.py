"""The incidents of a selection as a table: what an analyst reads under the map and downloads.

One row per incident of the study area (:meth:`geodata.analysis.Selection.filters`): month, crime
type, location (police.uk's "On or near ..." text: a snap point, not an address), ward, and the
outcome (police.uk's "Last outcome category" as published with the street file; blank for
anti-social behaviour, which has no outcome). police.uk gives no day or time of day. Newest first.
"""

from __future__ import annotations

import pandas as pd

from geodata.analysis.selection import Selection

COLUMNS = {
    "month": "Month",
    "category": "Crime type",
    "location_text": "Location",
    "ward_name": "Ward",
    "outcome": "Outcome (latest published)",
}


def incidents_table(store, selection: Selection) -> pd.DataFrame:
    """The selection's incidents with :data:`COLUMNS` (renamed), newest month first."""
    selection.check_wards(store)
    found = store.incidents(**selection.filters())
    wards = store.wards().set_index("ward_code")["ward_name"]
    table = pd.DataFrame(
        {
            "month": found["month"].dt.strftime("%Y-%m"),
            "category": found["category"],
            "location_text": found["location_text"],
            "ward_name": found["ward_code"].map(wards),
            "outcome": found["outcome"].fillna(""),  # blank, not "None" (a reviewer saw "None" on every ASB row)
        }
    )
    table = table.sort_values(["month", "category", "location_text"], ascending=[False, True, True], kind="stable")
    return table.rename(columns=COLUMNS).reset_index(drop=True)
