"""Hot spots for a selection: Gi* cells, density and snap points over the selection's study area.

Rule (study area, :func:`geodata.analysis.rules.study_area`): the grid covers the district,
or only the chosen wards (clipped to them); the incidents counted, the density and its
bandwidth, and the snap points use only the incidents inside that area, fetched that way from
the store. Statistics: :func:`geodata.methods.hotspots.hotspot_cells` (Gi*, adjacent cells,
Benjamini-Hochberg), :func:`geodata.methods.kde.kde` (quartic, bandwidth from the incidents),
:func:`geodata.methods.snap.snap_points`, :func:`geodata.methods.hotspots.emerging_cells`.

Rule (disclosure, :func:`geodata.analysis.rules.withheld`): hot spots are made from the records
themselves, so they are never made for a sensitive source (:mod:`geodata.sources`) shown to an
audience without exact counts: such an audience sees that source only through its published
ward-by-month cells. :func:`hotspots_for` and :func:`emerging_for` refuse it (:class:`Withheld`);
:func:`measure_hotspots` (the meeting pack's maps) says why there are none. A priority's measure
with flags is not mapped either: a :class:`~geodata.analysis.selection.Selection` carries no
flags, so its hot spots would count the records the measure leaves out.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geodata import sources
from geodata.analysis import rules
from geodata.analysis.selection import ANALYST, Audience, Selection
from geodata.methods import grid as grids
from geodata.methods import kde as kde_mod
from geodata.methods.gistar import CLASS_LABELS as CLASS_LABELS  # the pages' legend names the classes
from geodata.methods.hotspots import emerging_cells, hotspot_cells
from geodata.methods.snap import snap_points


@dataclass(frozen=True)
class HotSpots:
    """Cells (GeoDataFrame: Gi* columns and ``density_km2``), the grid, the snap points, the
    density bandwidth (m), how many incidents were counted, and notes (grid warnings, the rule)."""

    cells: object
    grid: object
    snaps: pd.DataFrame
    bandwidth_m: float
    incidents: int
    notes: tuple[str, ...] = field(default=())


class Withheld(ValueError):
    """Hot spots asked of a sensitive source for an audience without exact counts (module docstring)."""


#: Why a withheld measure has no hot spots (shown beside its map).
NO_HOTSPOTS_WITHHELD = (
    "No hot spots: council records are shown to this audience only as rounded ward counts (disclosure control)."
)
#: Why a flagged measure has no hot spots (shown beside its map).
NO_HOTSPOTS_FLAGGED = "No hot spots: a measure of flagged records is not mapped as hot spots."


def _check_audience(selection: Selection, audience: Audience) -> None:
    if rules.withheld(selection.source, audience):
        raise Withheld(
            f"{selection.source} records are sensitive: hot spots are made from the records, so they are "
            "only for audiences with exact counts"
        )


def _grid_notes(caught) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, grids.FineGridWarning)]


def hotspots_for(store, selection: Selection, cell_size: float | None = None, audience: Audience = ANALYST) -> HotSpots:
    """Gi* cells with density, and snap points, of ``selection`` over its study area; :class:`Withheld`
    for a sensitive source and an ``audience`` (default analysts) without exact counts."""
    _check_audience(selection, audience)
    selection.check_wards(store)
    outline, located = rules.study_area(store, selection)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", grids.FineGridWarning)
        cells, grid = hotspot_cells(located, outline, cell_size=cell_size)
    x, y = located["x"].to_numpy(dtype="float64"), located["y"].to_numpy(dtype="float64")
    density, h = kde_mod.kde(grid, x, y) if len(located) >= 2 else (np.zeros(len(grid)), float("nan"))
    cells["density_km2"] = density
    snaps = snap_points(located) if len(located) else pd.DataFrame(columns=["x", "y", "count"])
    notes = _grid_notes(caught) + [
        f"Study area: {selection.study_area}; only incidents inside it are counted, mapped and used for the density."
    ]
    return HotSpots(cells, grid, snaps, h, len(located), tuple(notes))


def emerging_for(store, selection: Selection, cell_size: float | None = None, audience: Audience = ANALYST):
    """Emerging hot spot class per cell of ``selection`` over its study area, on the months of the
    period the source has loaded (at least 3): a month not loaded is a gap, named in the notes, never
    a month with no crime. ValueError, with the reason, when fewer than 3 months are loaded;
    :class:`Withheld` as :func:`hotspots_for`. Returns (cells, grid, notes)."""
    _check_audience(selection, audience)
    if selection.period.length < 3:
        raise ValueError(f"emerging hot spots need at least 3 months, got {selection.period.length}")
    missing = rules.missing_months(store, selection.source, selection.period)
    loaded = [m for m in selection.period.months if m not in missing]
    if len(loaded) < 3:
        raise ValueError(
            f"emerging hot spots need at least 3 loaded months: {rules.missing_text(selection.source, missing)} "
            f"({selection.period.text}), which leaves {len(loaded)}"
        )
    outline, located = rules.study_area(store, selection)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", grids.FineGridWarning)
        cells, grid = emerging_cells(located, outline, loaded, cell_size=cell_size)
    notes = _grid_notes(caught)  # with the refusal, when a month's window holds too few incidents
    if missing:
        notes.append(
            f"On the {len(loaded)} loaded months only: {rules.missing_text(selection.source, missing)}, "
            "left out (not read as months with no crime)."
        )
    return cells, grid, tuple(notes)


def measure_hotspots(store, measure, start: str, end: str, audience: Audience) -> tuple[HotSpots | None, str | None]:
    """Gi* hot spots of a priority's ``measure`` (:class:`geodata.priorities.Measure`) from ``start``
    to ``end`` for ``audience``, or (None, why not): none for a source without points, none for a
    withheld source (:data:`NO_HOTSPOTS_WITHHELD`) and none for a measure with flags
    (:data:`NO_HOTSPOTS_FLAGGED`); see the module docstring."""
    if sources.get(measure.source).kind != sources.POINTS:
        return None, None
    if rules.withheld(measure.source, audience):
        return None, NO_HOTSPOTS_WITHHELD
    if measure.flags:
        return None, NO_HOTSPOTS_FLAGGED
    selection = Selection.of(start, end, measure.categories, source=measure.source)
    return hotspots_for(store, selection, audience=audience), None
