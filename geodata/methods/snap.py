"""police.uk snap points: counts per map point, and a flag for counts that snapping made.

data.police.uk moves every crime to the nearest of a fixed set of map points
(street centres, public places, commercial premises), each standing for at
least eight postal addresses (data.police.uk/about). So a point's count is the
count of its catchment, and some points collect crimes that did not happen
there: e.g. dozens of shoplifting offences at a point with no shop, or crimes
recorded at a police station (ukcrimestats.com FAQ; Mottershead, "data.police.uk
location issues").

:func:`snap_points` flags a point (``artefact``) when either
* its location name is a place where crimes are *recorded* rather than
  committed (:data:`RECORDING_PLACES`: police station, hospital, ...), or
* its count is an outlier against its neighbourhood: at least
  ``min_count`` (default 20) incidents and more than ``ratio`` (default 10) times
  the median count of the other snap points within ``radius`` (default 250 m).
Flagged points should be shown, but not read as hot spots on their own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geodata.methods import validate

#: Location names (lower case substrings) where crimes are often recorded, not committed.
RECORDING_PLACES = ("police station", "hospital", "further/higher educational building", "prison")


def snap_points(
    incidents: pd.DataFrame, radius: float = 250.0, ratio: float = 10.0, min_count: int = 20
) -> pd.DataFrame:
    """One row per distinct point: ``x, y, location_text, count, top_category, artefact, reason``.

    ``incidents``: canonical rows (x, y, location_text, category); rows without a
    location are left out. Sorted by count, largest first.
    """
    for name, v in (("radius", radius), ("ratio", ratio), ("min_count", min_count)):
        validate.positive_number(name, v, "see the module docstring for the defaults")
    validate.columns("incidents", incidents, ("x", "y", "location_text", "category"), "give canonical rows")
    located = pd.DataFrame(incidents[["x", "y", "location_text", "category"]]).dropna(subset=["x", "y"])
    points = (
        located.groupby(["x", "y"], sort=False)
        .agg(count=("category", "size"), location_text=("location_text", "first"))
        .reset_index()
    )
    by_cat = located.groupby(["x", "y", "category"], sort=False).size().rename("n").reset_index()
    top = by_cat.sort_values("n", ascending=False).drop_duplicates(["x", "y"])
    points = points.merge(
        top.rename(columns={"category": "top_category"})[["x", "y", "top_category"]], on=["x", "y"], how="left"
    )
    counts = points["count"].to_numpy()
    xy = points[["x", "y"]].to_numpy()
    neighbours = cKDTree(xy).query_ball_point(xy, r=radius) if len(points) else []
    local = np.array(
        [np.median(counts[[j for j in nb if j != i]]) if len(nb) > 1 else 0.0 for i, nb in enumerate(neighbours)]
    )
    text = points["location_text"].fillna("").str.lower()
    recording = text.apply(lambda s: any(p in s for p in RECORDING_PLACES)).to_numpy(dtype=bool)
    outlier = (counts >= min_count) & (counts > ratio * np.maximum(local, 1))
    points["local_median"] = local
    points["artefact"] = recording | outlier
    points["reason"] = np.select(
        [recording, outlier],
        [
            "a place where crimes are recorded, not committed",
            "count far above the snap points around it (likely a catchment artefact)",
        ],
        default="",
    )
    return points.sort_values("count", ascending=False, ignore_index=True)
