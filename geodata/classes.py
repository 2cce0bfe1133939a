"""The one choropleth classing: breaks, colours and legend labels, for every map renderer
(the explorer's Leaflet map, the Vega-Lite ward maps, the inline SVG ward maps, the pack).

Rule: ``k`` (default 5) quantile classes of the values with a value (missing values are in
no class and drawn as "no data", never as zero); equal breaks merge, so a map of few distinct
values has fewer classes. A value equal to a break falls in the class that starts there; the
largest value is in the last class. **Counts** (whole numbers) get whole-number breaks and
labels that do not overlap ("0 to 3", "4 to 9", "10"); other values (rates, densities) get
labels to one decimal place, each class including its lower bound.

Colours: viridis in 5 steps, light to dark for more (colour-blind and projector safe).

>>> c = classify([0, 1, 2, 3, 10, 20])
>>> c.labels
['0', '1', '2', '3 to 9', '10 to 20']
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Sequential palette (viridis, 5 steps, light to dark for more).
SEQUENTIAL = ("#fde725", "#5ec962", "#21918c", "#3b528b", "#440154")
#: The colour of an area with no value.
NO_DATA = "#d9d9d9"


@dataclass(frozen=True)
class Classes:
    """Per value its class (0.., -1 = no value), the breaks, and per class its colour and label."""

    classes: np.ndarray
    breaks: list[float]
    colours: tuple[str, ...]
    labels: list[str]
    counts: bool

    def colour_of(self) -> list[str]:
        """The fill colour of each value (:data:`NO_DATA` for a missing one)."""
        return [self.colours[c] if c >= 0 else NO_DATA for c in self.classes]

    @property
    def legend(self) -> list[tuple[str, str]]:
        """(colour, label) per class, lowest first."""
        return list(zip(self.colours, self.labels))


def _is_counts(values: np.ndarray) -> bool:
    return bool(values.size) and bool(np.all(values == np.round(values)))


def classify(values, k: int = 5, counts: bool | None = None) -> Classes:
    """Classes of ``values`` by the module's rule. ``counts``: whole-number breaks (default:
    when every value is a whole number). ``k`` is at most ``len(SEQUENTIAL)``."""
    if not 1 <= k <= len(SEQUENTIAL):
        raise ValueError(f"k must be 1 to {len(SEQUENTIAL)}, got {k!r}")
    values = np.asarray(values, dtype="float64")
    known = ~np.isnan(values)
    present = values[known]
    counts = _is_counts(present) if counts is None else counts
    cls = np.full(values.size, -1, dtype=int)
    if not present.size:
        return Classes(cls, [], (), [], counts)
    breaks = np.quantile(present, np.linspace(0, 1, k + 1))
    breaks = breaks.round(6)  # quantile interpolation noise (3.0000000000000004) must not move a break
    breaks = np.unique(np.ceil(breaks) if counts else breaks)
    if breaks.size == 1:
        cls[known] = 0
        label = f"{breaks[0]:,.0f}" if counts else f"{breaks[0]:,.1f}"
        return Classes(cls, breaks.tolist(), SEQUENTIAL[:1], [label], counts)
    cls[known] = np.clip(np.searchsorted(breaks, present, side="right") - 1, 0, breaks.size - 2)
    n = breaks.size - 1
    labels = []
    for i in range(n):
        lo, hi = breaks[i], breaks[i + 1]
        if counts:
            hi = hi if i == n - 1 else hi - 1
            labels.append(f"{lo:,.0f}" if lo == hi else f"{lo:,.0f} to {hi:,.0f}")
        else:
            labels.append(f"{lo:,.1f} to {hi:,.1f}")
    return Classes(cls, breaks.tolist(), _colours(n), labels, counts)


def _colours(n: int) -> tuple[str, ...]:
    """``n`` colours spread over the palette, its ends always used (a 2-class map is light and dark)."""
    if n >= len(SEQUENTIAL):
        return SEQUENTIAL
    return tuple(SEQUENTIAL[round(i * (len(SEQUENTIAL) - 1) / (n - 1))] for i in range(n)) if n > 1 \
        else SEQUENTIAL[-1:]
