"""Patrol zones for a selection (:func:`geodata.zones.patrol_zones`: adjacent significant Gi*
hot cells merged, ranked), under the layer's rules.

Rules: the period must be wholly loaded (else no zones, the missing months named); the trend
against the months before follows the coverage rule (no trend figure when they are not all
loaded); the study area is the district or the chosen wards; ranked by harm, a category with
no weight adds nothing and is listed (:func:`geodata.analysis.rules.harm`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from geodata.analysis import rules
from geodata.analysis.selection import Selection
from geodata.zones import patrol_zones as zones_of


@dataclass(frozen=True)
class PatrolZones:
    """Zones (GeoDataFrame, :data:`geodata.zones.COLUMNS`; None when refused), the grid, the
    comparison used for the trend, the harm rule, and notes stating each rule applied."""

    zones: object
    grid: object
    comparison: rules.Comparison
    harm: rules.Harm | None
    notes: tuple[str, ...] = field(default=())

    @property
    def refused(self) -> bool:
        return self.zones is None


def patrol_zones(store, selection: Selection, top: int = 5, min_class: int = 2, cell_size: float | None = None,
                 harm_weights: dict | None = None, harm_source: str | None = None) -> PatrolZones:
    """The top ``top`` patrol zones of ``selection`` (module docstring)."""
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
    zones, grid = zones_of(current, previous, outline, cell_size=cell_size, top=top, min_class=min_class,
                           harm_weights=weights, window=selection.period.length)
    notes = [f"Study area: {selection.study_area}."]
    if not cmp.possible:
        zones = zones.assign(previous=np.nan, change_pct=np.nan, p=np.nan)
        notes.append(cmp.note)
    if harm:
        notes.append(harm.note)
    return PatrolZones(zones, grid, cmp, harm, tuple(notes))
