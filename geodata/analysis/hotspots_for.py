"""Hot spots for a selection: Gi* cells, density and snap points over the selection's study area.

Rule (study area, :func:`geodata.analysis.rules.study_area`): the grid covers the district,
or only the chosen wards (clipped to them); the incidents counted, the density and its
bandwidth, and the snap points use only the incidents inside that area, fetched that way from
the store. Statistics: :func:`geodata.methods.hotspots.hotspot_cells` (Gi*, adjacent cells,
Benjamini-Hochberg), :func:`geodata.methods.kde.kde` (quartic, bandwidth from the incidents),
:func:`geodata.methods.snap.snap_points`, :func:`geodata.methods.hotspots.emerging_cells`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geodata.analysis import rules
from geodata.analysis.selection import Selection
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


def _grid_notes(caught) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, grids.FineGridWarning)]


def hotspots_for(store, selection: Selection, cell_size: float | None = None) -> HotSpots:
    """Gi* cells with density, and snap points, of ``selection`` over its study area."""
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


def emerging_for(store, selection: Selection, cell_size: float | None = None):
    """Emerging hot spot class per cell of ``selection`` over its study area, on the months of the
    period the source has loaded (at least 3): a month not loaded is a gap, named in the notes, never
    a month with no crime. ValueError, with the reason, when fewer than 3 months are loaded.
    Returns (cells, grid, notes)."""
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
