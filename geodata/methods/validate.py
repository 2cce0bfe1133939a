"""Checks of numeric arguments shared by the statistics modules, with one style of message.

Every failure is a :class:`ValueError` whose text names the argument, the offending value
(and where it is: position or index label) and how to fix it, in the manner of sfhotspot's
argument checks (Ashby, sfhotspot v1.0.0, ``validate_inputs``): "``weights`` has nan at
position 3: give every point a finite weight (0 leaves it out)".
"""

from __future__ import annotations

import numpy as np


def _where(labels, position: int) -> str:
    if labels is None:
        return f"at position {position}"
    return f"for {labels[position]!r}"


def finite_values(
    name: str, values, fix: str, *, nonnegative: bool = False, whole: bool = False, labels=None
) -> np.ndarray:
    """``values`` as a float array, checked to be finite (and ``>= 0``, and whole numbers,
    when asked). ``labels``: the index labels to name instead of positions (e.g. ward codes).
    An empty input is returned empty (a defined result, never an error)."""
    try:
        arr = np.asarray(values, dtype="float64")
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers, got {values!r}: {fix}") from None
    flat = arr.ravel()
    bad = ~np.isfinite(flat)
    what = "is not a finite number"
    if not bad.any() and nonnegative:
        bad, what = flat < 0, "is negative"
    if not bad.any() and whole:
        bad, what = flat != np.round(flat), "is not a whole number"
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name} has {float(flat[i])!r} {_where(labels, i)}, which {what}: {fix}")
    return arr


def positive_number(name: str, value, fix: str) -> float:
    """``value`` as a float, checked to be a finite number above 0."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {value!r}: {fix}") from None
    if not np.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}: {fix}")
    return number
