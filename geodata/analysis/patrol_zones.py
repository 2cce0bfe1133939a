"""Patrol zones for a selection (:func:`geodata.methods.zones.patrol_zones`: touching significant Gi*
hot cells grouped into parts of at most 0.5 km² holding at least 5 incidents, ranked), under the
layer's rules.

Rules: the period must be wholly loaded (else no zones, the missing months named); the trend
against the months before follows the coverage rule (no trend figure when they are not all
loaded); the study area is the district or the chosen wards; ranked by harm, a category with
no weight adds nothing and is listed (:func:`geodata.analysis.rules.harm`). A place label's
nearest named street is looked up among every named police.uk map point the store holds for
the district (all months and categories), so it does not depend on the filter. The notes state
the zone limits, and that police.uk gives the month only (:data:`NO_DAY_OR_TIME`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from geodata.analysis import rules
from geodata.analysis.selection import Selection
from geodata.methods.zones import MAX_ZONE_KM2, MIN_ZONE_INCIDENTS
from geodata.methods.zones import patrol_zones as zones_of

#: Said wherever zones are handed out: police.uk data cannot tell a patrol when to go.
NO_DAY_OR_TIME = (
    "police.uk gives the month of each crime only: no day of the week and no time of day, so "
    "these zones say where, not when, to patrol."
)


@dataclass(frozen=True)
class PatrolZones:
    """Zones (GeoDataFrame, :data:`geodata.methods.zones.COLUMNS`; None when refused), the grid, the
    comparison used for the trend, the harm rule, and notes stating each rule applied."""

    zones: object
    grid: object
    comparison: rules.Comparison
    harm: rules.Harm | None
    notes: tuple[str, ...] = field(default=())
    street_points: object = None  # x, y, location_text, incidents: the district's police.uk map points

    @property
    def refused(self) -> bool:
        return self.zones is None


def patrol_zones(
    store,
    selection: Selection,
    top: int = 5,
    min_class: int = 2,
    cell_size: float | None = None,
    harm_weights: dict | None = None,
    harm_source: str | None = None,
    max_area_km2: float = MAX_ZONE_KM2,
    min_incidents: int = MIN_ZONE_INCIDENTS,
) -> PatrolZones:
    """The top ``top`` patrol zones of ``selection`` (module docstring); at most ``max_area_km2``
    each (default 0.5 km²) and at least ``min_incidents`` (default 5) incidents each."""
    selection.check_wards(store)
    cmp = rules.comparison(store, selection.source, selection.period, "previous")
    missing = rules.missing_months(store, selection.source, selection.period)
    if missing:
        note = f"No zones: {rules.missing_text(selection.source, missing)} ({selection.period.text})."
        return PatrolZones(None, None, cmp, None, (note,))
    outline, current = rules.study_area(store, selection)
    previous = rules.study_area(store, selection, cmp.base)[1] if cmp.possible else current.iloc[:0]
    harm = rules.harm(harm_weights, harm_source, current["category"].unique()) if harm_weights else None
    weights = {**{c: 0.0 for c in harm.unweighted}, **harm.weights} if harm else None
    points = store.counts(by=("x", "y", "location_text"), source=selection.source, inside=True)
    zones, grid = zones_of(
        current,
        previous,
        outline,
        cell_size=cell_size,
        top=top,
        min_class=min_class,
        harm_weights=weights,
        window=selection.period.length,
        min_incidents=min_incidents,
        max_area_km2=max_area_km2,
        street_points=points,
        periods=(selection.period.months, cmp.base.months),
    )
    notes = [
        f"Study area: {selection.study_area}.",
        f"Zones: touching hot cells, at most {max_area_km2:g} km² each (a larger hot area is split into its "
        f"busiest connected parts), at least {min_incidents} incidents each.",
        NO_DAY_OR_TIME,
    ]
    if not cmp.possible:
        zones = zones.assign(previous=np.nan, change_pct=np.nan, p=np.nan)
        notes.append(cmp.note)
    if harm:
        notes.append(harm.note)
    return PatrolZones(zones, grid, cmp, harm, tuple(notes), points)


def in_wards(store, zones, wards) -> list[int]:
    """The numbers of ``zones`` (a :class:`PatrolZones`' ``zones``: EPSG:27700 outlines, a ``zone`` column) that
    overlap the wards with codes ``wards`` (more than a shared edge): the whole district's zones that lie in
    chosen wards, named when those wards have no zone of their own (:func:`none_in_wards`)."""
    overlap = shapely.area(shapely.intersection(np.asarray(zones.geometry), rules.outline(store, wards)))
    return [int(z) for z, a in zip(zones["zone"], overlap) if a > 0]


def none_in_wards(area: str, confidence: str, district: list[int] | None, top: int) -> str:
    """Why chosen wards (``area``, their names) have no zone, and what would show one: zones are found inside
    the chosen wards, each cell measured against those wards' own level (Gi* over the study area), so wards
    busy throughout can have none that stands out; ``district``: the numbers of the whole district's top ``top``
    zones that lie in them (:func:`in_wards`), or None when the district has none either."""
    said = (
        f"No significant hot spot inside {area} at {confidence} confidence: zones are found inside the chosen "
        f"wards, each grid cell measured against those wards' own level, and none stands out from it."
    )
    if district:
        listed = ", ".join(f"Z{z}" for z in district)
        return (
            f"{said} Measured against the whole district, {len(district)} of its top {top} zones lie in {area} "
            f"({listed}): choose no ward to see them. A longer period or more crime types may also show one."
        )
    return (
        f"{said} Nor does any of the whole district's top {top} zones lie there. A longer period or more crime "
        "types may show one."
    )
