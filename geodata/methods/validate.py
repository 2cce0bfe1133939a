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


def probabilities(name: str, values, fix: str) -> np.ndarray:
    """``values`` as a float array of probabilities: each in [0, 1], or NaN (no test).

    >>> probabilities("p", [0.5, float("nan")], "pass p-values")
    array([0.5, nan])
    >>> probabilities("p", [0.5, 1.96], "pass p-values between 0 and 1")
    Traceback (most recent call last):
    ...
    ValueError: p has 1.96 at position 1, which is not a probability: pass p-values between 0 and 1
    """
    try:
        arr = np.asarray(values, dtype="float64")
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers, got {values!r}: {fix}") from None
    flat = arr.ravel()
    bad = ~np.isnan(flat) & ((flat < 0) | (flat > 1 + 1e-12))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name} has {float(flat[i])!r} at position {i}, which is not a probability: {fix}")
    return arr


def one_of(name: str, value, allowed) -> None:
    """``value`` must be one of ``allowed`` (named in the message).

    >>> one_of("shape", "triangle", ("square", "hex"))
    Traceback (most recent call last):
    ...
    ValueError: shape must be 'square' or 'hex', got 'triangle'
    """
    if value not in allowed:
        names = [repr(a) for a in allowed]
        choice = " or ".join(names) if len(names) == 2 else "one of " + ", ".join(names)
        raise ValueError(f"{name} must be {choice}, got {value!r}")


def columns(name: str, frame, required, fix: str = "") -> None:
    """``frame`` (a DataFrame) must have every column of ``required``.

    >>> import pandas as pd
    >>> columns("incidents", pd.DataFrame({"x": [1.0]}), ("x", "y"), "give canonical rows")
    Traceback (most recent call last):
    ...
    ValueError: incidents lacks the column(s) 'y' (it has 'x'): give canonical rows
    """
    have = list(getattr(frame, "columns", ()))
    missing = [c for c in required if c not in have]
    if missing:
        has = ", ".join(map(repr, have)) or "none"
        raise ValueError(
            f"{name} lacks the column(s) {', '.join(map(repr, missing))} (it has {has})" + (f": {fix}" if fix else "")
        )


#: British National Grid: the projected CRS, in metres, every distance and area of the statistics is in.
BNG = 27700


def projected_metres(name: str, frame) -> None:
    """``frame``'s ``x``, ``y`` (and its CRS, when it declares one) must be British National Grid metres
    (EPSG:27700): a GeoDataFrame in another CRS, or coordinates that read as longitude and latitude
    degrees, is refused with how to fix it (cell sizes, bandwidths and distances are metres)."""
    fix = "project it to British National Grid first (EPSG:27700, metres), e.g. frame.to_crs(27700)"
    crs = getattr(frame, "crs", None)
    if crs is not None and crs.to_epsg() != BNG:
        raise ValueError(f"{name} is in {crs.name} ({crs.to_string()}), not EPSG:27700: {fix}")
    if "geometry" in getattr(frame, "columns", ()) and crs is None and hasattr(frame, "set_crs"):
        raise ValueError(f"{name} declares no CRS: {fix}")
    x = np.asarray(frame["x"], dtype="float64")
    y = np.asarray(frame["y"], dtype="float64")
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() and np.abs(x[ok]).max() <= 180 and np.abs(y[ok]).max() <= 90:
        raise ValueError(f"{name} has x, y that read as longitude and latitude degrees, not metres: {fix}")


def numbers_or_missing(name: str, values, fix: str, labels=None) -> np.ndarray:
    """``values`` as a float array where None and NaN mean "no value" (kept as NaN); anything else must
    be a finite number.

    >>> numbers_or_missing("series", [3, None, float("nan")], "give counts")
    array([ 3., nan, nan])
    """
    arr = np.array([np.nan if v is None else v for v in values], dtype=object)
    try:
        arr = arr.astype("float64")
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers (None for no value), got {list(values)!r}: {fix}") from None
    bad = np.isinf(arr)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name} has {float(arr[i])!r} {_where(labels, i)}, which is not a finite number: {fix}")
    return arr


def probability(name: str, value: float, fix: str) -> float:
    """``value``, a probability (0 to 1)."""
    if not 0 <= value <= 1 + 1e-12:
        raise ValueError(f"{name} must be between 0 and 1, got {value!r}: {fix}")
    return value
