"""Disclosure control of counts from sensitive sources (council records) shown to the public.

Rule (after the ONS guidance on small counts, "Statistical Disclosure Control
for tables produced from administrative sources"; counts of 1-2 are unsafe,
3-4 unsafe for sensitive data about small areas):

* **primary suppression**: a count from 1 to 4 is never shown; it is shown as
  ``<5`` (:data:`PRIMARY`). Zeros are shown.
* **secondary suppression**: where a total of the cells is shown, a hidden
  cell must not be recoverable from the total and the shown cells. Knowing
  the rule, a reader knows a ``<5`` cell is 1-4 and a secondary-suppressed cell
  (shown ``c``, :data:`SECONDARY`) is at least 5. Cells are added to the
  secondary set, smallest first, until every ``<5`` cell could take at least
  two values given the total; if no cell is left to add, the total is
  suppressed instead (shown ``c``).
* a total from 1 to 4 is itself shown as ``<5``.

Which sources are sensitive: :data:`SENSITIVE_SOURCES`, from the registry (:mod:`geodata.sources`: every council source:
they hold records about residents that no one published). police.uk,
FixMyStreet and DEFRA are published open data and are shown as published.
"""

from __future__ import annotations

import pandas as pd

from geodata import sources

SENSITIVE_SOURCES = frozenset(sources.ids(sensitive=True))
PRIMARY, SECONDARY = "<5", "c"
#: Counts from 1 to THRESHOLD are suppressed.
THRESHOLD = 4


def is_small(n) -> bool:
    """True for a count that may not be shown (1 to :data:`THRESHOLD`)."""
    return n is not None and not pd.isna(n) and 1 <= int(n) <= THRESHOLD


def _determined(values: list[int], primary: set[int], secondary: set[int], total: int) -> bool:
    """Whether some primary cell's value follows from the total, the shown cells and the rule."""
    hidden_sum = total - sum(v for i, v in enumerate(values) if i not in primary and i not in secondary)
    for _i in primary:
        others_min = (len(primary) - 1) * 1 + len(secondary) * (THRESHOLD + 1)
        high = min(THRESHOLD, hidden_sum - others_min)
        if secondary:
            low = 1
        else:
            low = max(1, hidden_sum - THRESHOLD * (len(primary) - 1))
        if high - low < 1:
            return True
    return False


def suppress(values: pd.Series, with_total: bool = True) -> tuple[pd.Series, str | None]:
    """Apply the rule to ``values`` (counts; NaN = no data, kept as NaN) and, when
    ``with_total``, to their total. Returns the values as display text and the total's text."""
    counts = values.fillna(0).astype("int64").tolist()
    primary = {i for i, v in enumerate(counts) if 1 <= v <= THRESHOLD}
    secondary: set[int] = set()
    total = sum(counts)
    total_text = None
    if with_total:
        candidates = sorted((v, i) for i, v in enumerate(counts) if v > THRESHOLD)
        while primary and _determined(counts, primary, secondary, total):
            if not candidates:
                total_text = SECONDARY
                break
            secondary.add(candidates.pop(0)[1])
        if total_text is None:
            total_text = PRIMARY if 1 <= total <= THRESHOLD else f"{total:,}"
    shown = []
    for i, (v, raw) in enumerate(zip(counts, values)):
        if pd.isna(raw):
            shown.append(None)
        elif i in primary:
            shown.append(PRIMARY)
        elif i in secondary:
            shown.append(SECONDARY)
        else:
            shown.append(f"{v:,}")
    return pd.Series(shown, index=values.index, dtype=object), total_text
